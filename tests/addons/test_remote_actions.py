"""Action-server calls carry the current turn only."""

import rasa.core.actions.action as rasa_actions
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from addons.server.remote_actions import ResilientRemoteAction

from helpers import ROOT

DOMAIN = Domain.load(str(ROOT / "domain.yml"))


def test_rasa_creates_the_resilient_action_for_custom_actions():
    action = rasa_actions.action_for_name_or_text("action_answer_topic", DOMAIN, EndpointConfig("http://x"))
    assert isinstance(action, ResilientRemoteAction)


def test_the_request_holds_the_slots_and_only_the_latest_turns_events():
    tracker = DialogueStateTracker("rest:p", DOMAIN.slots)
    for number in range(30):
        tracker.update(UserUttered(f"old message {number}", {"name": "ask_causes"}))
        tracker.update(BotUttered("answer"))
    tracker.update(SlotSet("triage_level", "urgent"))
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("my calf hurts", {"name": "ask_first_aid", "confidence": 1.0}))
    body = ResilientRemoteAction("action_answer_topic", EndpointConfig("http://x"))._action_call_format(tracker, DOMAIN)
    state = body["tracker"]
    assert state["slots"]["triage_level"] == "urgent"
    assert state["latest_message"]["text"] == "my calf hurts"
    assert [e["event"] for e in state["events"]] == ["user"]
    assert "old message" not in str(body)
    assert body["sender_id"] == "rest:p"
