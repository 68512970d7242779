"""Deletes conversations idle for longer than the retention period (Rasa has no such command).

    make retention                      # CRAMP_COACH_RETENTION_DAYS, default 30
    make retention ARGS="--days 7 --dry-run"
    .venv/bin/python scripts/retention.py --endpoints endpoints-scaled.yml --days 30

A conversation is idle when its latest event is older than the period. Each one is
deleted under its conversation lock (the lock store of the endpoints file), so a person
who writes at that moment is not cut off mid-turn. Run it daily, e.g. from cron.
Prints how many conversations and events were deleted; never their ids or text.
"""

from __future__ import annotations

import argparse
import warnings
import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def delete_idle(endpoints: Path, days: float, dry_run: bool) -> tuple:
    from rasa.core.lock_store import LockStore
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.core.domain import Domain

    from addons.tracker_store import FailClosedSQLTrackerStore

    available = AvailableEndpoints.read_endpoints(str(endpoints))
    store = TrackerStore.create(available.tracker_store, Domain.load(str(ROOT / "domain.yml")))
    store = getattr(store, "_tracker_store", store)
    if not isinstance(store, FailClosedSQLTrackerStore):
        raise SystemExit(f"error: {endpoints} does not use addons.tracker_store.FailClosedSQLTrackerStore")
    lock_store = LockStore.create(available.lock_store)
    idle = store.idle_conversations(days)
    events = 0
    if not dry_run:
        for sender_id in idle:
            async with lock_store.lock(sender_id):
                # Checked again under the lock: the person may have written since.
                if sender_id in store.idle_conversations(days):
                    events += store.delete(sender_id)
    return len(idle), events


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=float(os.environ.get("CRAMP_COACH_RETENTION_DAYS", "30")))
    parser.add_argument("--endpoints", type=Path, default=ROOT / "endpoints.yml")
    parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    args = parser.parse_args()
    if args.days <= 0:
        parser.error("--days must be positive")
    warnings.simplefilter("ignore")  # SQLAlchemy 2.0 notices about Rasa's own code
    os.chdir(ROOT)  # the embedded profile's SQLite path is relative to the project
    conversations, events = asyncio.run(delete_idle(args.endpoints, args.days, args.dry_run))
    verb = "would delete" if args.dry_run else "deleted"
    print(f"retention {args.days:g} days: {verb} {conversations} conversation(s)"
          + ("" if args.dry_run else f", {events} event(s)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
