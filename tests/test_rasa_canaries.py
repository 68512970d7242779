"""Canaries for the Rasa internals the project relies on (docs/RASA_OVERRIDES.md, one test per row).

Each test fails when the Rasa behaviour or private name a hook depends on changes, so a Rasa
upgrade shows which override to re-check (docs/MAINTAINING.md, "Upgrading Rasa"). Fast: no
trained model, no servers; the conversation database is SQLite.
"""

import asyncio
import inspect
import re
from types import SimpleNamespace

import aiohttp
import pytest
import rasa
import rasa.core.actions.action as rasa_actions
import redis
from jsonschema import ValidationError
from rasa.core import run as rasa_run
from rasa.core.agent import Agent
from rasa.core.channels import channel as rasa_channel
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.core.lock_store import LockStore
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.data import TrainingType
from rasa.shared.exceptions import ConnectionException, RasaException
from rasa.utils.endpoints import EndpointConfig
from socketio import AsyncServer

from addons.channels.rest import GuardedRestInput
from addons.channels.socketio import SeverityOutput, WebChatInput
from addons.model.emergency_numbers import load_numbers
from addons.model.nlu_components import RED_FLAG_KEY
from addons.model.triage_policy import TriageStatePolicy
from addons.server import lock_store as our_locks
from addons.server.remote_actions import ResilientRemoteAction
from addons.server.tracker_store import (
    RECENT_EVENTS,
    ConversationStoreUnavailable,
    FailClosedSQLTrackerStore,
    fail_closed,
)

from helpers import ROOT, free_port

# The Rasa release docs/RASA_OVERRIDES.md was checked against; bump it with the table.
CHECKED_AGAINST = "3.6.21"
DOMAIN = Domain.load(str(ROOT / "domain.yml"))
# Rasa's own class: once `addons` is imported, rasa.core.actions.action.RemoteAction is ours.
RasaRemoteAction = ResilientRemoteAction.__bases__[0]


def test_the_installed_rasa_is_the_one_the_overrides_were_checked_against():
    """An upgrade fails here first: walk docs/RASA_OVERRIDES.md, then update CHECKED_AGAINST and the doc."""
    assert f"Rasa {CHECKED_AGAINST}" in (ROOT / "docs" / "RASA_OVERRIDES.md").read_text(encoding="utf-8")
    assert f"rasa[spacy]=={CHECKED_AGAINST}" in (ROOT / "requirements.in").read_text(encoding="utf-8")
    assert rasa.__version__ == CHECKED_AGAINST, "see docs/MAINTAINING.md, 'Upgrading Rasa'"


# --- RemoteAction ------------------------------------------------------------------------


class RecordingEndpoint(EndpointConfig):
    """An action endpoint that answers (or fails) without a server and keeps each request."""

    def __init__(self, reply):
        super().__init__("http://actions.invalid/webhook")
        self.reply = reply
        self.requests = []

    async def request(self, method="post", subpath=None, content_type="application/json", compress=False, **kwargs):
        self.requests.append(kwargs)
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


def long_tracker():
    tracker = DialogueStateTracker("rest:p", DOMAIN.slots)
    for number in range(20):
        tracker.update(UserUttered(f"old message {number}", {"name": "ask_causes"}))
        tracker.update(BotUttered("answer"))
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    tracker.update(UserUttered("my calf hurts", {"name": "ask_first_aid", "confidence": 1.0}))
    return tracker


def run_custom_action(endpoint):
    action = rasa_actions.action_for_name_or_text("action_answer_topic", DOMAIN, endpoint)
    output = CollectingOutputChannel()
    nlg = NaturalLanguageGenerator.create(None, DOMAIN)
    return action, asyncio.run(action.run(output, nlg, long_tracker(), DOMAIN))


def test_rasas_remote_action_run_sends_our_request_and_checks_the_reply_with_our_validator(monkeypatch):
    """RemoteAction.run must still call _action_call_format and _validate_action_result, looked up on self."""
    validated = []
    original = ResilientRemoteAction._validate_action_result

    def recording(self, result):
        validated.append(result)
        return original(self, result)

    monkeypatch.setattr(ResilientRemoteAction, "_validate_action_result", recording)
    reply = {"events": [{"event": "slot", "name": "topic", "value": "entry_3"}], "responses": []}
    endpoint = RecordingEndpoint(reply)
    action, events = run_custom_action(endpoint)
    assert isinstance(action, ResilientRemoteAction)
    assert events == [SlotSet("topic", "entry_3")]
    assert validated == [reply]
    (request,) = endpoint.requests
    assert [e["event"] for e in request["json"]["tracker"]["events"]] == ["user"]  # our small request
    # Rasa's own wait, which our TIMEOUT_SECONDS cuts short (longer than the 60 s conversation lock).
    assert request["timeout"] == DEFAULT_REQUEST_TIMEOUT == 300


@pytest.mark.parametrize(
    "reply, raised",
    [(aiohttp.ClientConnectionError("refused"), RasaException), ({"events": "not a list"}, ValidationError)],
    ids=["unreachable", "invalid"],
)
def test_rasas_remote_action_still_raises_on_a_failed_call_so_we_can_apologise(reply, raised):
    """Rasa raises (and then drops the action's events); our run turns that into utter_action_unavailable."""
    with pytest.raises(raised):
        asyncio.run(
            RasaRemoteAction("action_answer_topic", RecordingEndpoint(reply)).run(
                CollectingOutputChannel(), NaturalLanguageGenerator.create(None, DOMAIN), long_tracker(), DOMAIN
            )
        )
    _, events = run_custom_action(RecordingEndpoint(reply))
    assert [e.metadata.get("utter_action") for e in events] == ["utter_action_unavailable"]
    assert isinstance(events[0], BotUttered) and events[0].text


def test_the_patch_reaches_slot_mapping_actions_and_the_domain_has_no_forms():
    """Rasa looks RemoteAction up at call time in action.py. forms.py binds its own when it is
    first imported, so whether a form would get ours depends on import order: the project has
    no forms, and adding one means patching rasa.core.actions.forms too.
    """
    endpoint = RecordingEndpoint({"events": [], "responses": []})
    extract = rasa_actions.ActionExtractSlots(endpoint)
    nlg = NaturalLanguageGenerator.create(None, DOMAIN)
    asyncio.run(extract._run_custom_action("action_x", CollectingOutputChannel(), nlg, long_tracker(), DOMAIN))
    assert [e["event"] for e in endpoint.requests[0]["json"]["tracker"]["events"]] == ["user"]
    assert not DOMAIN.form_names


def test_remote_action_internals_we_override_keep_their_signatures():
    signature = inspect.signature
    assert (RasaRemoteAction.__module__, RasaRemoteAction.__name__) == ("rasa.core.actions.action", "RemoteAction")
    assert list(signature(RasaRemoteAction.__init__).parameters) == ["self", "name", "action_endpoint"]
    assert list(signature(RasaRemoteAction._action_call_format).parameters) == ["self", "tracker", "domain"]
    assert list(signature(RasaRemoteAction._validate_action_result).parameters) == ["self", "result"]
    assert set(RasaRemoteAction.action_response_format_spec()["properties"]) == {"events", "responses"}


# --- SQLTrackerStore and FailSafeTrackerStore ----------------------------------------------


@pytest.fixture()
def store(tmp_path):
    return FailClosedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "c.db"))


def test_sql_tracker_store_internals_we_override_or_call_keep_their_signatures(store):
    """FailClosedSQLTrackerStore overrides _additional_events and swaps the engine Rasa's sessions use."""
    signature = inspect.signature
    assert list(signature(SQLTrackerStore._additional_events).parameters) == ["self", "session", "tracker"]
    assert list(signature(SQLTrackerStore.get_db_url).parameters) == [
        "dialect",
        "host",
        "port",
        "db",
        "username",
        "password",
        "login_db",
        "query",
    ]
    with store.session_scope() as session:  # Rasa's sessions come from the sessionmaker we replace
        assert session.get_bind() is store.engine


class Processor(MessageProcessor):
    """Rasa's MessageProcessor, with `predict` instead of a trained model (NLU comes as parse_data)."""

    def __init__(self, tracker_store, predict):
        self.predict = predict
        super().__init__(
            "no-model", tracker_store, our_locks.QuickInMemoryLockStore(), NaturalLanguageGenerator.create(None, DOMAIN)
        )

    @staticmethod
    def _load_model(model_path):
        metadata = SimpleNamespace(
            domain=DOMAIN, training_type=TrainingType.BOTH, model_id="canary", assistant_id="canary"
        )
        return "no-model.tar.gz", metadata, None

    def _predict_next_with_tracker(self, tracker):
        return self.predict(tracker)


def predicting(action, policy_name="RulePolicy", priority=1):
    def predict(tracker):
        chosen = action if tracker.latest_action_name == ACTION_LISTEN_NAME else ACTION_LISTEN_NAME
        probabilities = [0.0] * len(DOMAIN.action_names_or_texts)
        probabilities[DOMAIN.index_for_action(chosen)] = 1.0
        return PolicyPrediction(probabilities, policy_name, priority)

    return predict


def say(processor, sender, text, parse_data=None):
    output = CollectingOutputChannel()
    parse_data = parse_data or {"text": text, "intent": {"name": "greet", "confidence": 1.0}, "entities": []}
    asyncio.run(processor.handle_message(UserMessage(text, output, sender, parse_data=parse_data)))
    return [m.get("text") for m in output.messages]


def test_rasas_processor_saves_the_very_tracker_our_store_handed_out(store):
    """Our store hands Rasa only the recent events and saves by object identity; a copy would lose turns."""
    processor = Processor(FailSafeTrackerStore(store), predicting("utter_greet"))
    turns = 2 * RECENT_EVENTS // 3
    for number in range(turns):
        assert say(processor, "rest:long", f"message {number}")
    full = asyncio.run(store.retrieve_full_tracker("rest:long"))
    assert [e.text for e in full.events if isinstance(e, UserUttered)] == [f"message {n}" for n in range(turns)]
    assert len(asyncio.run(store.retrieve("rest:long")).events) < len(full.events)  # the recent part was used


def test_the_agent_wraps_our_store_in_the_fail_safe_store_that_fail_closed_finds(store):
    """Agent._create_tracker_store wraps; the gate reaches our store and the hook through the wrapper."""
    agent = Agent(domain=DOMAIN, tracker_store=store, lock_store=our_locks.QuickInMemoryLockStore())
    assert isinstance(agent.tracker_store, FailSafeTrackerStore)
    assert not agent.is_ready()  # no model: the gate stops the server instead of serving empty replies
    assert fail_closed(agent.tracker_store) is store
    asyncio.run(agent.tracker_store.save(DialogueStateTracker("rest:x", DOMAIN.slots)))
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE events")
    with pytest.raises(ConversationStoreUnavailable):
        asyncio.run(agent.tracker_store.retrieve("rest:x"))


def test_rasas_fail_safe_store_still_forgets_silently_without_our_hook(store):
    """The flaw fail_closed fixes: a broken database gives an empty conversation, not an error."""
    wrapper = FailSafeTrackerStore(store)
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE events")
    assert asyncio.run(wrapper.retrieve("rest:x")) is None


# --- Channels and the gate ------------------------------------------------------------------


def test_channels_get_a_handler_that_calls_app_ctx_agent_and_lets_its_errors_through(monkeypatch):
    """The gate wraps this handler: it must see the agent's errors, and the agent must be app.ctx.agent."""
    handlers = []

    class Probe(InputChannel):
        def blueprint(self, on_new_message):
            handlers.append(on_new_message)
            return object()

    class FailingAgent:
        seen = []

        async def handle_message(self, message):
            self.seen.append(message.sender_id)
            raise ConversationStoreUnavailable("OperationalError")

    app = SimpleNamespace(ctx=SimpleNamespace(), blueprint=lambda *args, **kwargs: None)

    async def load_agent(**kwargs):
        return FailingAgent()

    monkeypatch.setattr(rasa_run.agent, "load_agent", load_agent)
    asyncio.run(rasa_run.load_agent_on_start("model", None, None, app, None))
    rasa_channel.register([Probe()], app, "/webhooks/")
    with pytest.raises(ConversationStoreUnavailable):
        asyncio.run(handlers[0](UserMessage("hi", sender_id="rest:p")))
    assert FailingAgent.seen == ["rest:p"]
    assert '"before_server_start"' in inspect.getsource(rasa_run.serve_application)  # before the gate attaches


def test_rasas_rest_channel_reads_sender_and_text_through_the_methods_we_override():
    received = []

    async def on_new_message(message):
        received.append(message)

    blueprint = RestInput.blueprint(GuardedRestInput(), on_new_message)
    receive = next(route.handler for route in blueprint._future_routes if route.uri == "/webhook")
    request = SimpleNamespace(json={"sender": "telegram:42", "message": '/greet{"triage_level": null}'}, args={})
    assert asyncio.run(receive(request)).status == 200
    (message,) = received
    assert message.sender_id == "rest:telegram:42"  # never another channel's conversation
    assert not message.text.startswith("/")  # never an intent with slot values


class FakeSocketServer:
    def __init__(self):
        self.emitted = []

    async def emit(self, event, data=None, room=None, **kwargs):
        self.emitted.append((event, data, room))


def test_severity_output_sends_through_rasas_send_message():
    sio = FakeSocketServer()
    output = SeverityOutput(sio, "bot_uttered")
    asyncio.run(output.send_response("web:a", {"text": "Call 112.\n\nNow.", "utter_action": "utter_triage_emergency"}))
    asyncio.run(output.send_response("web:a", {"text": "Hi", "buttons": [{"title": "Yes", "payload": "/affirm"}]}))
    severity = {"severity": "emergency"}
    quick_reply = {"content_type": "text", "title": "Yes", "payload": "/affirm"}
    assert sio.emitted == [
        ("bot_uttered", {"text": "Call 112.", "metadata": severity}, "web:a"),
        ("bot_uttered", {"text": "Now.", "metadata": severity}, "web:a"),
        ("bot_uttered", {"text": "Hi", "quick_replies": [quick_reply]}, "web:a"),
    ]


def test_socketio_input_takes_its_settings_in_the_order_we_pass_them():
    """WebChatInput.from_credentials passes SocketIOInput's eight settings by position."""
    channel = WebChatInput.from_credentials(
        {"user_message_evt": "u", "bot_message_evt": "b", "namespace": "/n", "socketio_path": "/s", "metadata_key": "m"}
    )
    settings = ("user_message_evt", "bot_message_evt", "namespace", "session_persistence", "socketio_path")
    assert [getattr(channel, name) for name in settings] == ["u", "b", "/n", True, "/s"]
    assert (channel.jwt_key, channel.jwt_algorithm, channel.metadata_key) == (None, "HS256", "m")
    blueprint = channel._blueprint(lambda message: None)
    assert isinstance(blueprint, SocketBlueprint) and blueprint.ctx.sio is channel.sio
    assert channel.sio.eio.cors_allowed_origins == channel.allowed_origins
    assert inspect.iscoroutinefunction(AsyncServer.enter_room)  # we await it


def test_rasas_socketio_channel_still_has_the_flaws_we_replace_it_for():
    """If Rasa fixed these (issue #13027, origins off), WebChatInput could go back to Rasa's blueprint."""
    channel = SocketIOInput(session_persistence=True)
    channel.blueprint(lambda message: None)
    assert channel.sio.eio.cors_allowed_origins == []
    source = inspect.getsource(SocketIOInput.blueprint)
    assert re.search(r"^\s+sio\.enter_room\(", source, re.MULTILINE)  # not awaited


# --- Lock stores ------------------------------------------------------------------------------


class FakeRedis:
    """Enough of redis.StrictRedis for RedisLockStore; records whether each write held the mutex."""

    def __init__(self, **kwargs):
        self.data = {}
        self.held = 0
        self.writes = []

    def ping(self):
        return True

    def get(self, key):
        return self.data.get(key)

    def set(self, key, value):
        self.writes.append((key, self.held))
        self.data[key] = value

    def delete(self, key):
        self.writes.append((key, self.held))
        return 1 if self.data.pop(key, None) is not None else 0

    def lock(self, name, **kwargs):
        red = self

        class Mutex:
            def __enter__(self):
                red.held += 1

            def __exit__(self, *exc):
                red.held -= 1

        return Mutex()


@pytest.fixture()
def redis_lock_store(monkeypatch):
    monkeypatch.setattr(redis, "StrictRedis", FakeRedis)
    return our_locks.CheckedRedisLockStore(EndpointConfig("localhost", port=6379, db=0, key_prefix="canary"))


def take_lock_while_busy(lock_store, monkeypatch):
    """Takes a conversation's lock as Rasa does while another turn holds it; returns the waits."""
    waits = []
    other_turn = lock_store.issue_ticket("rest:p")

    async def sleep(seconds):
        waits.append(seconds)
        lock_store.cleanup("rest:p", other_turn)  # the other turn ends

    async def take():
        async with lock_store.lock("rest:p"):
            pass

    monkeypatch.setattr(asyncio, "sleep", sleep)
    asyncio.run(take())
    return waits


@pytest.mark.parametrize("kind", ["in_memory", "redis"])
def test_a_busy_conversation_is_polled_every_50_ms(kind, monkeypatch, redis_lock_store):
    lock_store = our_locks.QuickInMemoryLockStore() if kind == "in_memory" else redis_lock_store
    assert take_lock_while_busy(lock_store, monkeypatch) == [our_locks.POLL_SECONDS] == [0.05]
    # Rasa's default, which the project's stores replace: a second message waited up to 1 s for nothing.
    assert inspect.signature(LockStore.lock).parameters["wait_time_in_seconds"].default == 1


def test_rasa_takes_conversation_locks_without_a_wait_time():
    """Our 50 ms is a default: it only applies while Rasa's callers pass no wait time of their own."""
    calls = []

    class Recording(our_locks.QuickInMemoryLockStore):
        def lock(self, *args, **kwargs):
            calls.append((args, kwargs))
            return super().lock(*args, **kwargs)

    class StubProcessor:
        async def handle_message(self, message):
            return []

    agent = Agent(domain=DOMAIN, lock_store=Recording())
    agent.processor = StubProcessor()
    asyncio.run(agent.handle_message(UserMessage("hi", sender_id="rest:p")))
    assert calls == [(("rest:p",), {})]


def test_every_ticket_queue_write_of_rasas_redis_lock_store_holds_the_conversations_mutex(
    redis_lock_store, monkeypatch
):
    """CheckedRedisLockStore guards issue_ticket, update_lock and cleanup: Rasa must write through them only."""
    take_lock_while_busy(redis_lock_store, monkeypatch)
    red = redis_lock_store.red
    assert red.writes and all(held for _, held in red.writes), red.writes
    assert {key for key, _ in red.writes} == {"canary:lock:rest:p"}
    assert our_locks.shared_redis(redis_lock_store) == (red, "canary:lock:")


def test_an_unreachable_redis_stops_the_lock_store_with_rasas_connection_error():
    config = EndpointConfig("127.0.0.1", port=free_port(), type="addons.server.lock_store.CheckedRedisLockStore")
    with pytest.raises(ConnectionException, match="Cannot connect to lock store") as error:
        LockStore.create(config)
    assert f"127.0.0.1:{config.kwargs['port']}" in str(error.value.__cause__)


# --- TriageStatePolicy ------------------------------------------------------------------------


def test_policy_internals_the_triage_policy_calls_keep_their_signatures(tmp_path):
    signature = inspect.signature
    assert list(signature(Policy._default_predictions).parameters) == ["self", "domain"]
    assert list(signature(Policy._prediction).parameters)[:3] == ["self", "probabilities", "events"]
    storage, resource = LocalModelStorage(tmp_path), Resource("triage")
    policy = TriageStatePolicy(
        TriageStatePolicy.get_default_config(), storage, resource, ExecutionContext(graph_schema=None)
    )
    assert policy._model_storage is storage and policy._resource is resource  # where train() writes
    assert policy._default_predictions(DOMAIN) == [0.0] * len(DOMAIN.action_names_or_texts)
    assert TriageStatePolicy.get_default_config()["priority"] > RulePolicy.get_default_config()["priority"]


def test_the_triage_policys_slots_are_set_before_the_action_another_policy_chose(store, tmp_path):
    """Rasa keeps every prediction's events, not only the winner's, and applies them before the action runs."""
    policy = TriageStatePolicy(
        TriageStatePolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("triage"),
        ExecutionContext(graph_schema=None),
        numbers=load_numbers(),
    )
    rules = predicting("utter_triage_urgent", "RulePolicy", RulePolicy.get_default_config()["priority"])

    def predict(tracker):
        ours = policy.predict_action_probabilities(tracker, DOMAIN)
        return DefaultPolicyPredictionEnsemble().combine_predictions([rules(tracker), ours], tracker, DOMAIN)

    text = "my left calf is swollen and hot"
    parse_data = {
        "text": text,
        "intent": {"name": "red_flag_urgent", "confidence": 1.0},
        "entities": [],
        RED_FLAG_KEY: {"level": "urgent", "reason": "clot", "signs": ["leg_swelling"]},
    }
    (answer,) = say(Processor(store, predict), "rest:t", text, parse_data)
    # The variant for triage_reason "clot", with the emergency_number the policy set.
    assert "on one side can be a blood clot" in answer and load_numbers().default in answer
    assert asyncio.run(store.retrieve("rest:t")).get_slot("triage_level") == "urgent"
