"""action_answer_topic: the right entry for each question, with context and safety lines."""

from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ActionAnswerTopic


def tracker(
    intent: str,
    entities: Optional[Dict[str, str]] = None,
    slots: Optional[Dict[str, Any]] = None,
    red_flag: Optional[Dict[str, Any]] = None,
) -> Tracker:
    latest = {
        "text": "(test)",
        "intent": {"name": intent, "confidence": 0.99},
        "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
    }
    if red_flag is not None:
        latest["red_flag"] = red_flag
    return Tracker("test-user", dict(slots or {}), latest, [], False, None, {}, "action_listen")


def run(t: Tracker):
    dispatcher = CollectingDispatcher()
    events = ActionAnswerTopic().run(dispatcher, t, {})
    return dispatcher.messages, events


def all_text(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


QUESTIONS = [
    ("ask_what_is_cramp", {}, "what_is_cramp"),
    ("ask_causes", {}, "causes_general"),
    ("ask_causes", {"population": "pregnancy"}, "causes_pregnancy"),
    ("ask_causes", {"population": "elderly"}, "causes_elderly"),
    ("ask_causes", {"population": "women"}, "causes_women"),
    ("ask_causes", {"population": "men"}, "causes_men"),
    ("ask_causes", {"population": "athletes"}, "causes_sport"),
    ("ask_causes", {"population": "children"}, "cramps_children"),
    ("ask_causes", {"population": "swimmers"}, "cramps_swimming"),
    ("ask_causes", {"medication": "diuretics"}, "causes_medication"),
    ("ask_medicine_side_effects", {}, "causes_medication"),
    ("ask_related_conditions", {}, "related_conditions"),
    ("ask_causes", {"body_part": "arms"}, "cramps_arms"),
    ("ask_causes", {"body_part": "toes"}, "toe_cramps"),
    ("ask_first_aid", {}, "first_aid"),
    ("ask_medications", {}, "medications"),
    ("ask_medications", {"medication": "magnesium"}, "medication_minerals"),
    ("ask_medications", {"medication": "tolperisone"}, "medication_muscle_relaxants"),
    ("ask_medications", {"medication": "aspirin"}, "medication_painkillers"),
    ("ask_medications", {"medication": "venotonics"}, "medication_venous"),
    ("ask_medications", {"medication": "vitamin_d"}, "vitamins"),
    ("ask_medications", {"medication": "quinine"}, "quinine"),
    ("ask_medications", {"medication": "statins"}, "causes_medication"),
    ("ask_prevention", {}, "prevention"),
    ("ask_diet", {}, "diet"),
    ("ask_exercises", {}, "exercises"),
    ("ask_folk_remedies", {}, "folk_remedies"),
    ("ask_when_to_see_doctor", {}, "when_to_see_doctor"),
    ("ask_diagnosis", {}, "diagnosis"),
    ("ask_restless_legs", {}, "restless_legs"),
    ("ask_prognosis", {}, "prognosis"),
]


@pytest.mark.parametrize("intent,entities,expected", QUESTIONS)
def test_each_question_is_answered_from_its_entry(knowledge, intent, entities, expected):
    messages, events = run(tracker(intent, entities))
    assert SlotSet("topic", expected) in events
    assert knowledge.get(expected).answer in all_text(messages)


def test_every_entry_is_reachable_from_some_question(knowledge):
    reachable = {expected for _, _, expected in QUESTIONS}
    assert set(knowledge.entries) == reachable


@pytest.mark.parametrize(
    "previous,entities,expected",
    [
        ("causes_general", {"population": "pregnancy"}, "causes_pregnancy"),
        ("causes_pregnancy", {"population": "elderly"}, "causes_elderly"),
        ("medications", {"medication": "magnesium"}, "medication_minerals"),
        ("medication_minerals", {"medication": "quinine"}, "quinine"),
        ("causes_general", {"body_part": "toes"}, "toe_cramps"),
        # A follow-up that does not fit the last topic's family still finds its entry.
        ("first_aid", {"medication": "ibuprofen"}, "medication_painkillers"),
    ],
)
def test_follow_up_keeps_the_context(previous, entities, expected):
    _, events = run(tracker("ask_follow_up", entities, slots={"topic": previous}))
    assert SlotSet("topic", expected) in events


def test_follow_up_without_anything_to_go_on_asks_to_rephrase():
    messages, events = run(tracker("ask_follow_up", {}, slots={"topic": "first_aid"}))
    assert events == []
    assert messages[0]["response"] == "utter_ask_rephrase"


def test_population_mentioned_earlier_shapes_a_later_causes_question():
    _, events = run(tracker("ask_causes", {}, slots={"population": "elderly", "topic": "diet"}))
    assert SlotSet("topic", "causes_elderly") in events


@pytest.mark.parametrize("intent", ["ask_more", "affirm"])
def test_tell_me_more_gives_the_entry_details(knowledge, intent):
    messages, events = run(tracker(intent, slots={"topic": "first_aid"}))
    assert all_text(messages) == knowledge.get("first_aid").more
    assert events == []


def test_tell_me_more_without_a_topic_asks_which(knowledge):
    messages, _ = run(tracker("ask_more"))
    assert all_text(messages) == knowledge.messages.ask_which_topic


def test_tell_me_more_on_an_entry_without_details_says_so(knowledge):
    assert knowledge.get("vitamins").more is None
    messages, _ = run(tracker("ask_more", slots={"topic": "vitamins"}))
    assert all_text(messages) == knowledge.messages.no_more


def test_first_answer_carries_the_not_a_diagnosis_note(knowledge):
    first, _ = run(tracker("ask_first_aid"))
    later, _ = run(tracker("ask_first_aid", slots={"topic": "causes_general"}))
    assert knowledge.messages.general_info_note in all_text(first)
    assert knowledge.messages.general_info_note not in all_text(later)


def test_every_answer_asks_for_feedback_and_offers_more_when_there_is_more(knowledge):
    with_more, _ = run(tracker("ask_first_aid"))
    without_more, _ = run(tracker("ask_medications", {"medication": "vitamin_d"}))
    assert with_more[-1]["text"] == knowledge.messages.ask_feedback
    assert [b["payload"] for b in with_more[-1]["buttons"]] == ["/feedback_helpful", "/feedback_not_helpful", "/ask_more"]
    assert [b["payload"] for b in without_more[-1]["buttons"]] == ["/feedback_helpful", "/feedback_not_helpful"]


@pytest.mark.parametrize(
    "entities,advice",
    [
        ({"medication": "magnesium"}, "pharmacist"),
        ({"medication": "paracetamol"}, "pharmacist"),
        ({"medication": "vitamins"}, "pharmacist"),
        ({"medication": "quinine"}, "doctor_decides"),
        ({"medication": "tizanidine"}, "doctor_decides"),
        ({"medication": "venotonics"}, "doctor_decides"),
        ({"medication": "diuretics"}, "keep_taking_medicines"),
    ],
)
def test_medicine_answers_say_who_decides(knowledge, entities, advice):
    messages, _ = run(tracker("ask_medications", entities))
    assert knowledge.messages.advice[advice] in all_text(messages)


def test_pregnancy_answers_end_with_the_warning_signs(knowledge):
    warning = knowledge.messages.advice["pregnancy_warning_signs"]
    pregnancy, _ = run(tracker("ask_causes", {"population": "pregnancy"}))
    prevention, _ = run(tracker("ask_prevention", {"population": "pregnancy"}))
    plain, _ = run(tracker("ask_prevention"))
    assert warning in all_text(pregnancy)
    assert warning in all_text(prevention)
    assert warning not in all_text(plain)


def test_after_clot_signs_no_answer_suggests_massage(knowledge):
    messages, _ = run(tracker("ask_first_aid", slots={"clot_signs": True}))
    text = all_text(messages)
    assert knowledge.get("first_aid").answer_clot_safe in text
    assert "Rub the calf" not in text


def test_after_an_emergency_later_answers_carry_a_reminder():
    messages, _ = run(
        tracker("ask_diet", slots={"triage_level": "emergency", "emergency_number": "999"})
    )
    assert "call an ambulance now: 999." in messages[0]["text"]


def test_after_a_triage_answer_the_question_asked_is_answered():
    red_flag = {"level": "urgent", "question_intent": {"name": "ask_first_aid", "confidence": 0.7}}
    _, events = run(tracker("red_flag_urgent", red_flag=red_flag))
    assert SlotSet("topic", "first_aid") in events


def test_a_triage_answer_alone_adds_nothing():
    messages, events = run(tracker("red_flag_urgent", red_flag={"level": "urgent", "question_intent": None}))
    assert messages == [] and events == []
