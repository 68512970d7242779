"""Rasa's SQL tracker store, made to fail closed and to forget on request.

Rasa 3.6 retries forever at start when the database is unreachable, and at run time
its FailSafeTrackerStore hands back an empty in-memory tracker: the person's context
and triage level vanish without a word and instances disagree. This store gives up at
start with an error that names the database (no password), and `fail_closed()` makes
run-time errors reach the channels, which tell the person honestly
(addons.channels.gate).

It keeps answers as fast at turn 100 as at turn 1. Rasa rebuilds the tracker from every
stored event of the session at each message, and then featurises, copies and scans that
whole history several times per turn: answers slowed by about 0.5 ms per turn of history
(bench/turns.py). Here:
- the tracker saved last for a conversation is kept and handed back at its next message
  if the database still holds exactly what was saved (same newest event id, event count
  and newest timestamp: one indexed query); another instance's writes, a deletion or a
  new session make the next retrieve read the database. A kept tracker is handed out
  once, so a turn that fails before saving cannot leave a half-changed copy behind;
- the tracker handed to Rasa holds only the latest events (RECENT_EVENTS to twice that,
  several turns: more than any rule or story looks back) with the current slot values
  (replayed from the whole session when read from the database). Saving writes exactly
  the events added since it was handed out. The full history stays in the database:
  the HTTP API, `make export` and retention read it with retrieve_full_tracker.
It does not stream to an event broker (Rasa's streaming re-reads the tracker to diff it).

It also deletes: one conversation when the person confirms "forget me" (the channel
gate deletes after the turn, under the conversation's lock, because Rasa writes a
turn's events after the turn), and every conversation idle for longer than the
retention period (scripts/retention.py).
"""

from __future__ import annotations

import copy
import itertools
import logging
import os
import time
import weakref
from collections import OrderedDict
from typing import Any, Dict, Iterator, List, Optional, Set, Text, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore, create_engine_kwargs, validate_port
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from coach_names import Response

logger = logging.getLogger(__name__)

# The response that confirms a deletion; saving it marks the conversation for deletion,
# but only right after the assistant asked the question and the person answered it.
FORGET_CONFIRMED_ACTION = Response.CONVERSATION_DELETED
FORGET_QUESTION_ACTION = Response.CONFIRM_FORGET_ME
# How long a starting server waits for its database before it gives up.
STARTUP_WAIT_SECONDS = float(os.environ.get("CRAMP_COACH_DB_STARTUP_WAIT", "15"))
CONNECT_TIMEOUT_SECONDS = 5
# Conversations whose last saved tracker is kept in memory, per Rasa process.
CACHED_TRACKERS = int(os.environ.get("CRAMP_COACH_CACHED_TRACKERS", "2000"))

# Events a tracker handed to Rasa keeps: trimmed back to this many once it holds twice as many.
RECENT_EVENTS = int(os.environ.get("CRAMP_COACH_RECENT_EVENTS", "40"))

Stamp = Tuple[Any, int, Any]


def recent_part(tracker: DialogueStateTracker, size: int = RECENT_EVENTS) -> DialogueStateTracker:
    """The tracker's latest `size` events (from an action on), with its current slot values."""
    window = list(itertools.islice(tracker.events, max(0, len(tracker.events) - size), None))
    start = next((i for i, e in enumerate(window) if isinstance(e, ActionExecuted)), 0)
    recent = DialogueStateTracker.from_events(tracker.sender_id, window[start:], slots=list(tracker.slots.values()))
    recent.slots = {name: copy.copy(slot) for name, slot in tracker.slots.items()}  # the values now, not replayed
    return recent


class ConversationStoreUnavailable(RuntimeError):
    """The conversation database cannot be read or written."""


def _engine_kwargs(url: Any) -> Dict[Text, Any]:
    kwargs = create_engine_kwargs(url)
    kwargs["pool_pre_ping"] = True  # a restarted database must not cost a person a turn
    if "postgresql" in str(url):
        connect_args = kwargs.setdefault("connect_args", {})
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    return kwargs


class FailClosedSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that refuses to start without its database and can delete."""

    def __init__(
        self,
        dialect: Text = "sqlite",
        host: Optional[Text] = None,
        port: Optional[int] = None,
        db: Text = "rasa.db",
        username: Optional[Text] = None,
        password: Optional[Text] = None,
        login_db: Optional[Text] = None,
        query: Optional[Dict] = None,
        **kwargs: Any,
    ) -> None:
        url = self.get_db_url(dialect, host, validate_port(port), db, username, password, login_db, query)
        engine = sa.create_engine(url, **_engine_kwargs(url))
        self._wait_for_database(engine)
        super().__init__(
            dialect=dialect,
            host=host,
            port=port,
            db=db,
            username=username,
            password=password,
            login_db=login_db,
            query=query,
            **kwargs,
        )
        # Rasa's own engine has no pre-ping and no connect timeout: use the one checked above.
        self.engine.dispose()
        self.engine = engine
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self._pending_deletions: Set[Text] = set()
        self._saved: "OrderedDict[Text, Tuple[Stamp, DialogueStateTracker]]" = OrderedDict()
        # For each live tracker object this store handed out or saved: how many of its events are stored.
        self._stored_length: Dict[int, int] = {}
        if self.event_broker is not None:
            raise ValueError("FailClosedSQLTrackerStore does not stream to an event broker")

    @staticmethod
    def _wait_for_database(engine: Any) -> None:
        deadline = time.monotonic() + STARTUP_WAIT_SECONDS
        while True:
            try:
                with engine.connect():
                    return
            except sa.exc.SQLAlchemyError as error:
                if time.monotonic() >= deadline:
                    engine.dispose()
                    where = engine.url.render_as_string(hide_password=True)
                    raise ConversationStoreUnavailable(
                        f"cannot reach the conversation database {where} after "
                        f"{STARTUP_WAIT_SECONDS:.0f} s ({type(error.orig or error).__name__}). "
                        "Start the database or fix tracker_store in the endpoints file."
                    ) from None
                time.sleep(1)

    def _stamp(self, sender_id: Text) -> Stamp:
        event = self.SQLEvent
        with self.session_scope() as session:
            newest_id, count, newest_time = (
                session.query(sa.func.max(event.id), sa.func.count(event.id), sa.func.max(event.timestamp))
                .filter(event.sender_id == sender_id)
                .one()
            )
        return newest_id, int(count), newest_time

    def _mark_stored(self, tracker: DialogueStateTracker) -> None:
        key = id(tracker)
        if key not in self._stored_length:
            weakref.finalize(tracker, self._stored_length.pop, key, None)
        self._stored_length[key] = len(tracker.events)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        saved = self._saved.pop(sender_id, None)
        if saved is not None and saved[0] == self._stamp(sender_id):
            tracker: Optional[DialogueStateTracker] = saved[1]
        else:
            tracker = await super().retrieve(sender_id)
        if tracker is None:
            return None
        if len(tracker.events) > 2 * RECENT_EVENTS:
            tracker = recent_part(tracker)
        self._mark_stored(tracker)
        return tracker

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        stored = self._stored_length.get(id(tracker))
        if stored is None:  # a tracker this store never handed out: Rasa's count of stored events
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))

    async def save(self, tracker: DialogueStateTracker) -> None:
        self._saved.pop(tracker.sender_id, None)
        await super().save(tracker)
        self._mark_stored(tracker)
        if _confirmed_forget_this_turn(tracker):
            self._pending_deletions.add(tracker.sender_id)
        elif sum(isinstance(e, SessionStarted) for e in tracker.events) <= 1:
            # With an older session inside, Rasa's retrieve would return less: read it afresh.
            self._saved[tracker.sender_id] = (self._stamp(tracker.sender_id), tracker)
            while len(self._saved) > CACHED_TRACKERS:
                self._saved.popitem(last=False)

    def take_pending_deletion(self, sender_id: Text) -> bool:
        """True once after the person confirmed "forget me" in the turn just saved."""
        if sender_id in self._pending_deletions:
            self._pending_deletions.discard(sender_id)
            return True
        return False

    def delete(self, sender_id: Text) -> int:
        """Deletes every stored event of one conversation; returns how many."""
        self._saved.pop(sender_id, None)
        with self.session_scope() as session:
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
        return int(deleted)

    def idle_conversations(self, older_than_days: float, now: Optional[float] = None) -> List[Text]:
        """Conversations whose latest event is older than the given number of days."""
        cutoff = (now if now is not None else time.time()) - older_than_days * 86400
        with self.session_scope() as session:
            rows = (
                session.query(self.SQLEvent.sender_id)
                .group_by(self.SQLEvent.sender_id)
                .having(sa.func.max(self.SQLEvent.timestamp) < cutoff)
                .all()
            )
        return [sender_id for (sender_id,) in rows]


def _confirmed_forget_this_turn(tracker: DialogueStateTracker) -> bool:
    """The turn just saved said the deletion, in answer to the deletion question.

    The question is the assistant's last action before the person's message: a deletion
    confirmed without it (a misread, a rule gone wrong) deletes nothing.
    """
    said_deleted = False
    answered = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            if not said_deleted or answered:
                return False
            answered = True
        elif isinstance(event, ActionExecuted):
            if not answered:
                said_deleted = said_deleted or event.action_name == FORGET_CONFIRMED_ACTION
            elif event.action_name != ACTION_LISTEN_NAME:
                return event.action_name == FORGET_QUESTION_ACTION
    return False


def _raise_unavailable(error: Exception) -> None:
    raise ConversationStoreUnavailable(type(error).__name__) from error


def unwrap_store(tracker_store: Any) -> Optional[FailClosedSQLTrackerStore]:
    """Our store inside Rasa's wrappers (FailSafeTrackerStore, AwaitableTrackerStore), or None if it is not ours."""
    if isinstance(tracker_store, FailSafeTrackerStore):
        tracker_store = tracker_store._tracker_store
    inner = getattr(tracker_store, "_tracker_store", tracker_store)  # AwaitableTrackerStore
    return inner if isinstance(inner, FailClosedSQLTrackerStore) else None


def fail_closed(tracker_store: Any) -> Optional[FailClosedSQLTrackerStore]:
    """Makes the agent's FailSafeTrackerStore raise instead of forgetting; returns our store."""
    if isinstance(tracker_store, FailSafeTrackerStore):
        tracker_store._on_tracker_store_error = _raise_unavailable
    return unwrap_store(tracker_store)
