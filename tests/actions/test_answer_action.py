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
    ranking: Optional[List[Dict[str, Any]]] = None,
) -> Tracker:
    latest = {
        "text": "(test)",
        "intent": {"name": intent, "confidence": 0.99},
        "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.99}],
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
        # After "which medicines help?" in a pregnancy conversation, "and magnesium?" is about magnesium.
        ("causes_pregnancy", {"medication": "magnesium"}, "medication_minerals"),
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
    assert [b["payload"] for b in with_more[-1]["buttons"]] == [
        "/feedback_helpful",
        "/feedback_not_helpful",
        "/ask_more",
    ]
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
    messages, _ = run(tracker("ask_diet", slots={"triage_level": "emergency", "emergency_number": "999"}))
    assert "call an ambulance now: 999." in messages[0]["text"]


def test_after_a_triage_answer_the_question_asked_is_answered():
    red_flag = {"level": "urgent", "question_intent": {"name": "ask_first_aid", "confidence": 0.7}}
    _, events = run(tracker("red_flag_urgent", red_flag=red_flag))
    assert SlotSet("topic", "first_aid") in events


def test_a_triage_answer_alone_adds_nothing():
    messages, events = run(tracker("red_flag_urgent", red_flag={"level": "urgent", "question_intent": None}))
    assert messages == [] and events == []


def test_a_pregnancy_conversation_keeps_the_warning_signs_on_follow_up_answers(knowledge):
    warning = knowledge.messages.advice["pregnancy_warning_signs"]
    first, events = run(tracker("ask_causes", {"population": "pregnancy"}))
    assert SlotSet("pregnancy_mentioned", True) in events
    messages, _ = run(tracker("ask_diet", slots={"population": "pregnancy", "topic": "causes_pregnancy"}))
    assert warning in all_text(messages)
    # "ok for my wife to take magnesium?" names another population: still a pregnancy conversation.
    later, _ = run(
        tracker(
            "ask_medications",
            {"medication": "magnesium", "population": "women"},
            slots={"population": "women", "pregnancy_mentioned": True},
        )
    )
    assert warning in all_text(later)


def test_after_a_stop_the_medicine_triage_no_answer_says_keep_taking_it(knowledge):
    """R23, R14, R28: a statin, quinine or metamizole side effect means stop it and get care today."""
    keep_taking = knowledge.messages.advice["keep_taking_medicines"]
    before, _ = run(tracker("ask_causes"))
    after, _ = run(tracker("ask_causes", slots={"triage_reason": "medicine_stop", "triage_level": "urgent"}))
    assert keep_taking in all_text(before)
    assert keep_taking not in all_text(after)


def test_a_deletion_confirmation_nobody_asked_for_is_answered_by_the_next_meaning(knowledge):
    """The misread of issue 12: a pregnancy question classified as confirm_forget_me."""
    ranking = [{"name": "confirm_forget_me", "confidence": 0.5}, {"name": "ask_causes", "confidence": 0.3}]
    messages, events = run(tracker("confirm_forget_me", {"population": "pregnancy"}, ranking=ranking))
    assert SlotSet("topic", "causes_pregnancy") in events
    assert knowledge.get("causes_pregnancy").answer in all_text(messages)


@pytest.mark.parametrize(
    "ranking",
    [
        [{"name": "confirm_forget_me", "confidence": 1.0}],  # the button payload typed
        [{"name": "confirm_forget_me", "confidence": 0.9}, {"name": "ask_diet", "confidence": 0.05}],
    ],
)
def test_a_deletion_confirmation_nobody_asked_for_without_a_likely_meaning_asks_to_rephrase(ranking):
    messages, events = run(tracker("confirm_forget_me", ranking=ranking))
    assert events == [] and messages[0]["response"] == "utter_ask_rephrase"


@pytest.mark.parametrize(
    "previous, text, expected",
    [
        ("causes_sport", "why does that happen", "causes_sport"),
        ("first_aid", "why does that happen", "causes_general"),
        ("causes_pregnancy", "what else can she do then", "causes_pregnancy"),
        ("cramps_children", "what can i do for him when it happens", "cramps_children"),
        ("diet", "is it dangerous?", "prognosis"),
        ("quinine", "side effects?", "quinine"),
        ("medication_minerals", "is it safe to take every night", "medication_minerals"),
        ("diagnosis", "and if everything comes back normal?", "diagnosis"),
        # More about the thing just answered: how soon, when, how often.
        ("medication_minerals", "how long until it starts working?", "medication_minerals"),
        ("exercises", "before bed or in the morning?", "exercises"),
        ("folk_remedies", "does it work though", "folk_remedies"),
        # Kinds that follow only some entries: after a medicine, what else there is to take.
        ("quinine", "ok so what are the other options", "medications"),
        ("medication_painkillers", "so what does actually help then", "medications"),
        ("prevention", "what else helps", "prevention"),
        ("causes_medication", "which other drugs do this", "causes_medication"),
        # What next when what was answered does not help; whether a medicine taken is the cause.
        ("prognosis", "and if they dont stop?", "when_to_see_doctor"),
        ("exercises", "ok and if none of that works?", "when_to_see_doctor"),
        ("causes_elderly", "could it be one of his pills?", "causes_medication"),
    ],
)
def test_a_follow_up_with_nothing_new_asks_its_kind_of_question_about_the_same_people(previous, text, expected):
    t = tracker("ask_follow_up", slots={"topic": previous})
    t.latest_message["text"] = text
    _, events = run(t)
    assert SlotSet("topic", expected) in events


@pytest.mark.parametrize(
    "intent, previous, text, expected",
    [
        ("ask_more", "quinine", "what else is there", "medications"),
        ("ask_causes", "medication_painkillers", "why doesnt it work", "medication_painkillers"),
        ("ask_causes", "quinine", "why wont the doctor give it me", "quinine"),
        (
            "ask_causes",
            "medication_painkillers",
            "why doesn\u2019t it work",
            "medication_painkillers",
        ),  # phone apostrophe
        ("ask_more", "quinine", "what else can i do", "prevention"),
        # Why-shaped, but pointing back at the doctor just suggested.
        ("ask_prognosis", "when_to_see_doctor", "what will they do there", "diagnosis"),
    ],
)
def test_a_short_message_that_only_makes_sense_about_the_last_answer_is_read_as_its_follow_up(
    intent, previous, text, expected
):
    """The classifier reads "what else is there" as "tell me more" and "why doesn't it work"
    as a general why; after a medicine both ask about medicines.
    """
    t = tracker(intent, slots={"topic": previous})
    t.latest_message["text"] = text
    _, events = run(t)
    assert SlotSet("topic", expected) in events


@pytest.mark.parametrize(
    "intent, text",
    [
        ("ask_more", "what else is there"),
        ("ask_causes", "why do they happen"),
        ("ask_more", "yes please, does it work?"),
    ],
)
def test_without_a_referring_cue_the_classifier_keeps_its_meaning(knowledge, intent, text):
    t = tracker(intent, slots={"topic": "prevention"})
    t.latest_message["text"] = text
    messages, events = run(t)
    if intent == "ask_more":
        assert all_text(messages) == knowledge.get("prevention").more and not events
    else:
        assert SlotSet("topic", "causes_general") in events


def test_an_unsure_intent_answers_a_clear_knowledge_winner_and_says_what_it_understood(knowledge):
    t = tracker("nlu_fallback", ranking=[{"name": "nlu_fallback", "confidence": 0.4}])
    t.latest_message["knowledge_ranking"] = [{"entry": "diet", "score": 0.7}, {"entry": "prevention", "score": 0.6}]
    messages, events = run(t)
    assert SlotSet("topic", "diet") in events
    assert messages[0]["text"] == knowledge.messages.understood.replace("{title}", knowledge.get("diet").title)


def test_an_unsure_intent_offers_close_entries_as_buttons_that_name_them(knowledge):
    t = tracker("nlu_fallback", ranking=[{"name": "nlu_fallback", "confidence": 0.4}])
    t.latest_message["knowledge_ranking"] = [
        {"entry": "diet", "score": 0.52},
        {"entry": "prevention", "score": 0.5},
        {"entry": "exercises", "score": 0.48},
        {"entry": "quinine", "score": 0.3},
    ]
    messages, events = run(t)
    assert events == [] and messages[0]["text"] == knowledge.messages.choose_entry
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == [
        knowledge.messages.entry_button(knowledge.get(e))["payload"] for e in ("diet", "prevention", "exercises")
    ]
    chosen, events = run(tracker("ask_follow_up", {"entry": "prevention"}))
    assert SlotSet("topic", "prevention") in events


@pytest.mark.parametrize(
    "medicine, expected",
    [
        ("muscle_relaxants", "medication_muscle_relaxants"),
        ("diuretics", "causes_medication"),
    ],
)
def test_an_unsure_intent_answers_about_the_medicine_named(knowledge, medicine, expected):
    """'Methocarbamol (Robaxin) for cramping legs', no clear knowledge winner: the medicine is the subject."""
    t = tracker("nlu_fallback", {"medication": medicine}, ranking=[{"name": "nlu_fallback", "confidence": 0.4}])
    t.latest_message["knowledge_ranking"] = [
        {"entry": "medications", "score": 0.66},
        {"entry": "medication_venous", "score": 0.64},
    ]
    messages, events = run(t)
    assert SlotSet("topic", expected) in events
    assert messages[0]["text"] == knowledge.messages.understood.replace("{title}", knowledge.get(expected).title)


def test_nothing_close_in_the_knowledge_asks_to_rephrase():
    t = tracker("nlu_fallback", ranking=[{"name": "nlu_fallback", "confidence": 0.3}])
    t.latest_message["knowledge_ranking"] = [{"entry": "diet", "score": 0.3}]
    messages, events = run(t)
    assert events == [] and messages[0]["response"] == "utter_ask_rephrase"


def test_a_medicine_named_beside_a_population_wins_the_route(knowledge):
    """'Is magnesium safe in pregnancy?' → the magnesium entry, with the pregnancy line."""
    messages, events = run(tracker("ask_medications", {"medication": "magnesium", "population": "pregnancy"}))
    assert SlotSet("topic", "medication_minerals") in events
    assert knowledge.messages.advice["pregnancy_warning_signs"] in all_text(messages)


@pytest.mark.parametrize(
    "intent, entities, ranking, expected",
    [
        # "I'm a guy, 45, legs cramp at night. related?": the men's entry, which the ranking likes as much.
        (
            "ask_related_conditions",
            {"population": "men"},
            {"causes_men": 0.50, "related_conditions": 0.52},
            "causes_men",
        ),
        # ... but not when the ranking clearly prefers the general answer,
        (
            "ask_related_conditions",
            {"population": "men"},
            {"causes_men": 0.30, "related_conditions": 0.60},
            "related_conditions",
        ),
        # nor for what to do: "how can I help my wife right now" is first aid.
        ("ask_first_aid", {"population": "women"}, {"causes_women": 0.60, "first_aid": 0.50}, "first_aid"),
    ],
)
def test_a_named_group_wins_over_a_general_why_answer_the_ranking_likes_no_better(intent, entities, ranking, expected):
    t = tracker(intent, entities)
    t.latest_message["knowledge_ranking"] = [{"entry": e, "score": s} for e, s in ranking.items()]
    _, events = run(t)
    assert SlotSet("topic", expected) in events


@pytest.mark.parametrize(
    "intent, ranking, expected",
    [
        # The ranking clearly prefers another entry: it overrules the intent's entry.
        ("ask_causes", {"causes_elderly": 0.70, "causes_general": 0.62}, "causes_elderly"),
        # ... not when it is barely ahead,
        ("ask_causes", {"causes_elderly": 0.66, "causes_general": 0.62}, "causes_general"),
        # ... nor when nothing is close,
        ("ask_causes", {"causes_elderly": 0.45, "causes_general": 0.30}, "causes_general"),
        # ... nor for what to do right now.
        ("ask_first_aid", {"exercises": 0.80, "first_aid": 0.60}, "first_aid"),
    ],
)
def test_a_clear_knowledge_ranking_winner_overrules_the_intent(intent, ranking, expected):
    t = tracker(intent)
    t.latest_message["knowledge_ranking"] = [{"entry": e, "score": s} for e, s in ranking.items()]
    _, events = run(t)
    assert SlotSet("topic", expected) in events
