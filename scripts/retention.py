"""Deletes conversations idle longer than the retention period, or one on request (Rasa has neither).

    make retention                      # CRAMP_COACH_RETENTION_DAYS, default 30
    make retention ARGS="--days 7 --dry-run"
    .venv/bin/python -m scripts.retention --endpoints endpoints-scaled.yml --days 30
    make retention ARGS="--conversation telegram:42"   # one conversation, now (a request by mail)

A conversation is idle when its latest event is older than the period. Each one is
deleted under its conversation lock (the lock store of the endpoints file), so a person
who writes at that moment is not cut off mid-turn. Run it daily, e.g. from cron.
Prints how many conversations and events were deleted; never their ids or text.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import warnings
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent


async def delete_conversations(endpoints: Path, days: float, dry_run: bool, conversation: Optional[str]) -> tuple:
    from rasa.core.lock_store import LockStore
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.core.domain import Domain

    from addons.server.tracker_store import unwrap_store

    available = AvailableEndpoints.read_endpoints(str(endpoints))
    store = unwrap_store(TrackerStore.create(available.tracker_store, Domain.load(str(ROOT / "domain.yml"))))
    if store is None:
        raise SystemExit(f"error: {endpoints} does not use addons.server.tracker_store.FailClosedSQLTrackerStore")
    lock_store = LockStore.create(available.lock_store)
    chosen = [conversation] if conversation else store.idle_conversations(days)
    events = 0
    if not dry_run:
        for sender_id in chosen:
            async with lock_store.lock(sender_id):
                # Checked again under the lock: the person may have written since.
                if conversation or sender_id in store.idle_conversations(days):
                    events += store.delete(sender_id)
    return len(chosen), events


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=float(os.environ.get("CRAMP_COACH_RETENTION_DAYS", "30")))
    parser.add_argument("--endpoints", type=Path, default=ROOT / "endpoints.yml")
    parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    parser.add_argument("--conversation", help="delete this one conversation (e.g. telegram:42) instead")
    args = parser.parse_args()
    if args.days <= 0:
        parser.error("--days must be positive")
    warnings.simplefilter("ignore")  # SQLAlchemy 2.0 notices about Rasa's own code
    os.chdir(ROOT)  # the embedded profile's SQLite path is relative to the project
    conversations, events = asyncio.run(
        delete_conversations(args.endpoints, args.days, args.dry_run, args.conversation)
    )
    verb = "would delete" if args.dry_run else "deleted"
    scope = "on request" if args.conversation else f"retention {args.days:g} days"
    print(f"{scope}: {verb} {conversations} conversation(s)" + ("" if args.dry_run else f", {events} event(s)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
