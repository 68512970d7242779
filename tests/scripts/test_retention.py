"""scripts/retention.py deletes idle conversations and keeps the others."""

import asyncio
import subprocess
import sys
import time

from rasa.shared.core.domain import Domain

from addons.server.tracker_store import FailClosedSQLTrackerStore

from helpers import ROOT, SERVER_ENV, stored_turn

DOMAIN = Domain.load(str(ROOT / "domain.yml"))


def turn(sender, text, action, timestamp):
    return stored_turn(DOMAIN, sender, text, action, timestamp)


def test_retention_deletes_only_conversations_idle_for_longer_than_the_period(tmp_path):
    db = tmp_path / "conversations.db"
    store = FailClosedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    now = time.time()
    asyncio.run(store.save(turn("web:old", "my calf is swollen", "utter_greet", timestamp=now - 45 * 86400)))
    asyncio.run(store.save(turn("web:recent", "hello", "utter_greet", timestamp=now - 2 * 86400)))
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        f"tracker_store:\n  type: addons.server.tracker_store.FailClosedSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {db}\n"
    )
    command = [sys.executable, "-m", "scripts.retention", "--endpoints", str(endpoints), "--days", "30"]

    dry = subprocess.run(command + ["--dry-run"], env=SERVER_ENV, capture_output=True, text=True, check=True)
    assert "would delete 1 conversation(s)" in dry.stdout
    assert asyncio.run(store.retrieve("web:old")) is not None

    done = subprocess.run(command, env=SERVER_ENV, capture_output=True, text=True, check=True)
    assert "deleted 1 conversation(s), 5 event(s)" in done.stdout
    assert "web:" not in done.stdout + done.stderr and "swollen" not in done.stdout + done.stderr
    assert asyncio.run(store.retrieve("web:old")) is None
    assert asyncio.run(store.retrieve("web:recent")) is not None


def test_one_conversation_can_be_deleted_on_request(tmp_path):
    db = tmp_path / "conversations.db"
    store = FailClosedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    for sender in ("telegram:42", "telegram:43"):
        asyncio.run(store.save(turn(sender, "hello", "utter_greet", time.time())))
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        f"tracker_store:\n  type: addons.server.tracker_store.FailClosedSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {db}\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.retention",
            "--endpoints",
            str(endpoints),
            "--conversation",
            "telegram:42",
        ],
        env=SERVER_ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "on request: deleted 1 conversation(s), 5 event(s)" in done.stdout
    assert asyncio.run(store.retrieve("telegram:42")) is None
    assert asyncio.run(store.retrieve("telegram:43")) is not None
