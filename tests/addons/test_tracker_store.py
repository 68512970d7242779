"""The project's SQL tracker store: fails closed, deletes on request, finds idle conversations."""

import asyncio
import time

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.domain import Domain

from addons.server import tracker_store as store_module
from addons.server.tracker_store import ConversationStoreUnavailable, FailClosedSQLTrackerStore, fail_closed

from helpers import ROOT, free_port, stored_turn

DOMAIN = Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture()
def store(tmp_path):
    return FailClosedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "c.db"))


def turn(sender, text, action, timestamp=None):
    return stored_turn(DOMAIN, sender, text, action, timestamp)


def test_unreachable_database_stops_the_start_with_an_error_naming_it_without_the_password(monkeypatch):
    monkeypatch.setattr(store_module, "STARTUP_WAIT_SECONDS", 1)
    port = free_port()  # nothing listens there
    started = time.monotonic()
    with pytest.raises(ConversationStoreUnavailable) as error:
        FailClosedSQLTrackerStore(
            domain=DOMAIN,
            dialect="postgresql",
            host="127.0.0.1",
            port=str(port),
            db="cramp",
            username="coach",
            password="s3cret-pw",
        )
    assert time.monotonic() - started < 15  # Rasa's own store retries forever
    assert f"127.0.0.1:{port}/cramp" in str(error.value)
    assert "s3cret-pw" not in str(error.value)


def test_confirmed_forget_me_marks_the_conversation_once_and_delete_removes_every_event(store):
    asyncio.run(store.save(turn("web:a", "forget me", "utter_confirm_forget_me")))
    assert not store.take_pending_deletion("web:a")
    asyncio.run(store.save(turn("web:b", "hello", "utter_greet")))
    tracker = asyncio.run(store.retrieve("web:a"))
    for event in turn("web:a", "yes delete it", "utter_conversation_deleted").events:
        tracker.update(event)
    asyncio.run(store.save(tracker))
    assert store.take_pending_deletion("web:a")
    assert not store.take_pending_deletion("web:a")
    assert store.delete("web:a") == 10
    assert asyncio.run(store.retrieve("web:a")) is None
    assert asyncio.run(store.retrieve("web:b")) is not None  # nobody else's conversation


@pytest.mark.parametrize("before", [None, "utter_greet", "action_answer_topic"])
def test_a_deletion_said_without_the_question_just_before_marks_nothing(store, before):
    """A misread that reaches utter_conversation_deleted (no question asked) deletes nothing."""
    tracker = turn("web:m", "hello", before) if before else None
    if tracker is not None:
        asyncio.run(store.save(tracker))
        tracker = asyncio.run(store.retrieve("web:m"))
    misread = turn("web:m", "what is it about being pregant that causes them", "utter_conversation_deleted")
    if tracker is None:
        tracker = misread
    else:
        for event in misread.events:
            tracker.update(event)
    asyncio.run(store.save(tracker))
    assert not store.take_pending_deletion("web:m")
    assert asyncio.run(store.retrieve("web:m")) is not None


def test_idle_conversations_are_those_whose_latest_event_is_older_than_the_period(store):
    now = time.time()
    asyncio.run(store.save(turn("telegram:1", "hi", "utter_greet", timestamp=now - 40 * 86400)))
    asyncio.run(store.save(turn("telegram:2", "hi", "utter_greet", timestamp=now - 10 * 86400)))
    old_then_active = turn("telegram:3", "hi", "utter_greet", timestamp=now - 40 * 86400)
    asyncio.run(store.save(old_then_active))
    for event in turn("telegram:3", "again", "utter_greet", timestamp=now - 86400).events:
        old_then_active.update(event)
    asyncio.run(store.save(old_then_active))
    assert store.idle_conversations(30, now=now) == ["telegram:1"]
    assert sorted(store.idle_conversations(5, now=now)) == ["telegram:1", "telegram:2"]


def test_fail_closed_makes_rasas_fail_safe_wrapper_raise_instead_of_forgetting(store, tmp_path):
    wrapper = FailSafeTrackerStore(store)
    assert fail_closed(wrapper) is store
    asyncio.run(wrapper.save(turn("rest:x", "hi", "utter_greet")))
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE events")
    with pytest.raises(ConversationStoreUnavailable):
        asyncio.run(wrapper.retrieve("rest:x"))
    with pytest.raises(ConversationStoreUnavailable):
        asyncio.run(wrapper.save(turn("rest:x", "hi", "utter_greet")))


def test_a_long_conversation_is_stored_whole_while_rasa_gets_its_recent_part(tmp_path):
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

    db = str(tmp_path / "long.db")
    store, other_instance = (FailClosedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=db) for _ in range(2))
    sender = "rest:long"
    asyncio.run(store.get_or_create_tracker(sender))
    for number in range(60):
        serving = other_instance if 30 <= number < 33 else store  # a few turns land on another instance
        if number == 40:  # a turn that fails before it is saved leaves nothing behind
            asyncio.run(serving.retrieve(sender)).update(UserUttered("lost message"))
        tracker = asyncio.run(serving.retrieve(sender))
        assert len(tracker.events) <= 2 * store_module.RECENT_EVENTS + 5
        assert "lost message" not in str([getattr(e, "text", "") for e in tracker.events])
        if number > 5:
            assert tracker.get_slot("topic") == "entry_3"  # set long ago, outside the recent part
        for event in (
            UserUttered(f"message {number}", {"name": "greet"}),
            ActionExecuted("utter_greet"),
            BotUttered("ok"),
            ActionExecuted("action_listen"),
        ):
            tracker.update(event)
        if number == 3:
            tracker.update(SlotSet("topic", "entry_3"))
        asyncio.run(serving.save(tracker))
    reader = FailClosedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=db)
    full = asyncio.run(reader.retrieve_full_tracker(sender))
    assert [e.text for e in full.events if isinstance(e, UserUttered)] == [f"message {n}" for n in range(60)]
    assert len(full.events) == 1 + 60 * 4 + 1  # action_listen, the turns, one SlotSet: each stored once
