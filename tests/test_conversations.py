"""Real conversations over the REST channel with rasa run and the action server running."""

import time
import uuid

import pytest

from conftest import record_figure
from helpers import texts

pytestmark = [pytest.mark.model, pytest.mark.servers]


def new_sender() -> str:
    return uuid.uuid4().hex


# A real question for each knowledge entry, as a person might type it.
QUESTIONS = {
    "what_is_cramp": "what actually is a leg cramp?",
    "causes_general": "why do my legs cramp at night?",
    "causes_pregnancy": "why do pregnant women get leg cramps?",
    "causes_elderly": "why do old people get cramps at night?",
    "causes_women": "why do women get calf cramps?",
    "causes_men": "what causes leg cramps in men?",
    "causes_sport": "why do runners get calf cramps?",
    "causes_medication": "can medicines cause leg cramps?",
    "related_conditions": "what diseases are linked to leg cramps?",
    "cramps_arms": "why do my arms cramp as well?",
    "toe_cramps": "why do my toes cramp?",
    "first_aid": "I have a cramp right now",
    "medications": "what medicine can I take for leg cramps?",
    "medication_minerals": "does magnesium help leg cramps?",
    "medication_muscle_relaxants": "is mydocalm good for cramps?",
    "medication_painkillers": "do painkillers help cramps?",
    "medication_venous": "does heparin ointment help cramps?",
    "vitamins": "do vitamins help with leg cramps?",
    "quinine": "is quinine good for leg cramps?",
    "prevention": "how can I prevent leg cramps?",
    "diet": "what should I eat to avoid cramps?",
    "exercises": "what stretches help leg cramps?",
    "folk_remedies": "are there any home remedies for cramps?",
    "when_to_see_doctor": "when should I see a doctor about cramps?",
    "diagnosis": "what tests will the doctor do?",
    "restless_legs": "what is restless legs syndrome?",
    "prognosis": "will my cramps ever go away?",
    "cramps_children": "why does my son get leg pains at night?",
    "cramps_swimming": "why do I get cramps while swimming?",
}


def test_every_entry_is_reachable_and_sets_topic(assistant, knowledge):
    assert set(QUESTIONS) == set(knowledge.entries)
    wrong = {}
    latencies = []
    for entry_id, question in QUESTIONS.items():
        sender = new_sender()
        started = time.monotonic()
        reply = assistant.send(sender, question)
        latencies.append(time.monotonic() - started)
        topic = assistant.tracker(f"rest:{sender}")["slots"]["topic"]
        if topic != entry_id or knowledge.get(entry_id).answer not in texts(reply):
            wrong[entry_id] = topic
    latencies.sort()
    record_figure(
        "Conversations (REST, one person)",
        f"median reply {latencies[len(latencies) // 2] * 1000:.0f} ms over {len(latencies)} questions",
    )
    assert not wrong


def test_follow_ups_keep_context(assistant, knowledge):
    sender = new_sender()
    assistant.send(sender, "why do my legs cramp at night?")
    reply = assistant.send(sender, "what about during pregnancy?")
    assert knowledge.get("causes_pregnancy").answer in texts(reply)
    assert knowledge.messages.advice["pregnancy_warning_signs"] in texts(reply)
    more = assistant.send(sender, "tell me more")
    assert knowledge.get("causes_pregnancy").more in texts(more)
    assistant.send(sender, "which medicines help?")
    reply = assistant.send(sender, "and magnesium?")
    assert knowledge.get("medication_minerals").answer in texts(reply)
    assert assistant.tracker(f"rest:{sender}")["slots"]["topic"] == "medication_minerals"


def test_greeting_offers_a_one_tap_route_to_first_aid(assistant, knowledge):
    sender = new_sender()
    greeting = assistant.send(sender, "hi")
    payloads = {b["title"]: b["payload"] for m in greeting for b in m.get("buttons", [])}
    assert payloads["I have a cramp right now"] == "/ask_first_aid"
    reply = assistant.send(sender, payloads["I have a cramp right now"])
    assert knowledge.get("first_aid").answer in texts(reply)


def test_urgent_sign_then_the_question_is_answered_and_massage_is_dropped(assistant, knowledge):
    sender = new_sender()
    reply = assistant.send(sender, "my left calf is swollen and hot, what should I do during a cramp?")
    assert reply[0]["text"].startswith("⚠️") and "blood clot" in reply[0]["text"]
    slots = assistant.tracker(f"rest:{sender}")["slots"]
    assert slots["triage_level"] == "urgent" and slots["clot_signs"] is True
    reply = assistant.send(sender, "I have a cramp right now")
    assert knowledge.get("first_aid").answer_clot_safe in texts(reply)
    assert "Rub the calf" not in texts(reply)


def test_triage_level_never_drops_and_typed_commands_cannot_reset_it(assistant):
    sender = new_sender()
    assistant.send(sender, "I can't breathe and my chest hurts")
    for attempt in [
        "/restart",
        '/greet{"triage_level": null}',
        "/red_flag_routine",
        "/session_start",
        "my left calf is swollen",
    ]:
        assistant.send(sender, attempt)
    assert assistant.tracker(f"rest:{sender}")["slots"]["triage_level"] == "emergency"


def test_country_is_remembered_for_the_emergency_number(assistant):
    sender = new_sender()
    noted = assistant.send(sender, "I live in Australia")
    assert "000" in texts(noted)
    emergency = assistant.send(sender, "he collapsed and isn't breathing properly")
    assert ": 000 (or 112 from a mobile)." in texts(emergency)
    assert "tell me your country" not in texts(emergency)
    later = assistant.send(sender, "what stretches help?")
    assert "call an ambulance now: 000 (or 112 from a mobile)." in texts(later)


def test_browser_region_gives_a_guess_beside_112(assistant):
    reply = assistant.send(new_sender(), "chest pain and can't breathe", metadata={"locale": "en-GB"})
    assert "999 if you are in the UK, otherwise 112" in texts(reply)
    assert "If you tell me your country" in texts(reply)  # only a guess so far


@pytest.mark.parametrize(
    "message,expected",
    [
        ("", "not sure I understood"),
        ("   ", "not sure I understood"),
        ("🦵😖", "not sure I understood"),
        ("<img src=x onerror=alert(1)>", None),
        ("tengo calambres en las piernas por la noche", "only read messages in English"),
        ("x" * 20000, None),
    ],
)
def test_bad_input_gets_a_kind_answer(assistant, message, expected):
    reply = assistant.send(new_sender(), message)
    assert reply, "no answer at all"
    if expected:
        assert expected in texts(reply)


def test_rest_callers_cannot_reach_another_channels_conversation(assistant):
    """A REST sender "telegram:42" lands in "rest:telegram:42", not in Telegram's conversation."""
    assistant.send("telegram:42", "I can't breathe and my chest hurts")
    assert assistant.tracker("rest:telegram:42")["slots"]["triage_level"] == "emergency"
    assert assistant.tracker("telegram:42")["events"] in ([], None) or not any(
        e.get("event") == "user" for e in assistant.tracker("telegram:42")["events"]
    )


def test_simultaneous_messages_to_one_conversation_are_answered_in_turn(assistant):
    """A person tapping twice, or two tabs: every message answered, none lost, one turn at a time."""
    from concurrent.futures import ThreadPoolExecutor

    sender = new_sender()
    messages = [f"what stretches help, question {n}" for n in range(8)]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(messages)) as pool:
        replies = list(pool.map(lambda text: assistant.send(sender, text), messages))
    record_figure(
        "Conversations (REST, one person)",
        f"8 simultaneous messages to one conversation answered in {time.monotonic() - started:.2f} s",
    )
    assert all(replies)
    events = assistant.tracker(f"rest:{sender}")["events"]
    assert sorted(e["text"] for e in events if e["event"] == "user") == sorted(messages)
    turns = "".join("u" if e["event"] == "user" else "b" for e in events if e["event"] in ("user", "bot"))
    assert "uu" not in turns
