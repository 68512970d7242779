"""TriageStatePolicy: triage_level only rises; the emergency number follows the country."""

from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from addons.model.emergency_numbers import load_numbers
from addons.model.triage_policy import TriageStatePolicy

DOMAIN = Domain.load("domain.yml")


def policy(tmp_path):
    return TriageStatePolicy(
        TriageStatePolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("triage"),
        ExecutionContext(graph_schema=None),
        numbers=load_numbers(),
    )


def tracker_after(message_level=None, slots=None, metadata=None, signs=()):
    tracker = DialogueStateTracker.from_events("t", [], slots=DOMAIN.slots)
    for name, value in (slots or {}).items():
        tracker.update(SlotSet(name, value))
    parse_data = {"intent": {"name": "x"}, "entities": []}
    if message_level:
        parse_data["red_flag"] = {
            "level": message_level,
            "reason": "clot" if "leg_swelling" in signs else "default",
            "signs": list(signs),
        }
    tracker.update(UserUttered("text", parse_data["intent"], [], parse_data, metadata=metadata))
    return tracker


def events_dict(events):
    return {e.key: e.value for e in events}


def test_level_rises_and_reason_and_clot_flag_are_set(tmp_path):
    events = events_dict(policy(tmp_path).slot_events(tracker_after("urgent", signs=("leg_swelling",))))
    assert events["triage_level"] == "urgent"
    assert events["triage_reason"] == "clot"
    assert events["clot_signs"] is True


def test_level_never_goes_down(tmp_path):
    events = events_dict(policy(tmp_path).slot_events(tracker_after("routine", slots={"triage_level": "emergency"})))
    assert "triage_level" not in events
    assert events["triage_reason"] == "default"


def test_no_finding_changes_no_triage_slot(tmp_path):
    events = events_dict(policy(tmp_path).slot_events(tracker_after(None, slots={"triage_level": "urgent"})))
    assert not {"triage_level", "triage_reason", "clot_signs"} & set(events)


def test_emergency_number_follows_country_then_locale(tmp_path):
    p = policy(tmp_path)
    assert events_dict(p.slot_events(tracker_after(slots={"country": "US"})))["emergency_number"] == "911"
    guessed = events_dict(p.slot_events(tracker_after(metadata={"locale": "en-GB"})))
    assert guessed["emergency_number"].startswith("999")
    prediction = p.predict_action_probabilities(tracker_after(slots={"country": "US"}), DOMAIN)
    assert max(prediction.probabilities) == 0.0  # it never picks an action


# ---------------------------------------------------------------- the clarifying question
UNSURE = {
    "level": None,
    "reason": None,
    "signs": [],
    "unsure": {"level": "urgent", "reason": "clot", "question": "one_leg"},
}


def user(tracker, text, intent, red_flag=None):
    from rasa.shared.core.events import ActionExecuted

    tracker.update(ActionExecuted("action_listen"))
    parse_data = {"intent": {"name": intent, "confidence": 1.0}, "entities": [], "red_flag": red_flag or {}}
    tracker.update(UserUttered(text, parse_data["intent"], [], parse_data))


def act(p, tracker, action=None):
    """As Rasa does: predict on the tracker as it is, apply the slot events, then the action."""
    from rasa.shared.core.events import ActionExecuted

    predicted = p.next_action(tracker)
    for event in p.slot_events(tracker):
        tracker.update(event)
    tracker.update(ActionExecuted(action or predicted))
    return predicted


def test_unsure_asks_after_the_answer_and_a_yes_escalates_at_once(tmp_path):
    p, tracker = policy(tmp_path), DialogueStateTracker.from_events("t", [], slots=DOMAIN.slots)
    user(tracker, "my calf feels funny since the flight, what helps?", "ask_first_aid", UNSURE)
    assert act(p, tracker, "action_answer_topic") is None  # the rules answer the question first
    assert tracker.get_slot("triage_pending") == "urgent|clot" and tracker.get_slot("triage_question") == "one_leg"
    assert act(p, tracker) == "utter_triage_question"
    assert act(p, tracker) == "action_listen"
    user(tracker, "/affirm", "affirm")  # the Yes button: no NLU, so no red_flag at all
    assert act(p, tracker) == "utter_triage_urgent"
    assert tracker.get_slot("triage_level") == "urgent" and tracker.get_slot("triage_reason") == "clot"
    assert tracker.get_slot("clot_signs") is True and tracker.get_slot("triage_pending") is None
    assert act(p, tracker) == "action_listen"


def test_a_no_or_another_message_carries_on_and_clears_the_question(tmp_path):
    p, tracker = policy(tmp_path), DialogueStateTracker.from_events("t", [], slots=DOMAIN.slots)
    user(tracker, "my calf feels funny since the flight", "ask_causes", UNSURE)
    act(p, tracker, "action_answer_topic")
    act(p, tracker)
    act(p, tracker)
    user(tracker, "no", "deny")
    assert p.next_action(tracker) is None  # the rules answer "no"
    assert events_dict(p.slot_events(tracker))["triage_pending"] is None


def test_a_yes_without_the_question_just_before_escalates_nothing(tmp_path):
    p, tracker = policy(tmp_path), DialogueStateTracker.from_events("t", [], slots=DOMAIN.slots)
    tracker.update(SlotSet("triage_pending", "emergency|breathing_or_chest"))
    user(tracker, "yes", "affirm")
    assert p.next_action(tracker) is None
    assert "triage_level" not in events_dict(p.slot_events(tracker))
