"""A misread never does harm: it deletes nothing and sets no country nobody stated.

Thousands of messages go through the trained model in process (Rasa's own message
handling, no action server: deletion and the country are decided on the Rasa side), as a
first message and in the middle of a conversation; a few hundred also over REST.
"""

from __future__ import annotations

import itertools
import random
import uuid
from typing import Iterator, List, Optional, Tuple

import pytest
import yaml

from devstack.local_servers import InProcessAssistant

from conftest import record_figure
from helpers import ROOT, texts

pytestmark = [pytest.mark.model]

DELETED = "utter_conversation_deleted"
QUESTION = "utter_confirm_forget_me"
DEFAULT_NUMBERS = "112 (Europe and many other countries), 911 (US and Canada) or 999 (UK)"

# Places, nationalities, units and foods mentioned for another reason: never a country.
IN_PASSING = [
    "I drink 2 oz of pickle juice when a cramp starts, does it help?",
    "I flew back from London and can't sleep for the cramps",
    "we had french fries for tea and now my calf is cramping",
    "my german shepherd woke me up, calf cramping again",
    "does nail polish remover smell make cramps worse lol",
    "I was in Australia last year and that's when the cramps started",
    "my doctor back in Texas said to try magnesium",
    "my mum is visiting from Canada and her legs cramp at night",
    "british summer heat and my calves keep cramping",
    "I'm going to Spain next week, will the flight make the cramps worse?",
    "American football practice gives me cramps in my thighs",
    "my Irish grandma swears by soap under the sheets",
    "we moved from Russia two years ago and since then I get cramps",
    "I'm flying to the UK tomorrow, can I take my magnesium on the plane",
    "a friend in Germany uses magnesium spray",
    "I watched a documentary about New Zealand and then woke up with a cramp",
    "Indian food is spicy, could that cause cramps",
    "my husband works in Dublin and cramps every night",
    "I drove from Ontario to Quebec and my calves cramped the whole way",
    "the Dutch are tall, do tall people cramp more",
    "Polish sausage with lots of salt before bed, good or bad",
    "my Italian neighbour says olive oil rubs help",
    "i ate 8 oz of steak and had a cramp after",
    "French press coffee late at night, does caffeine cause cramps",
    "got back from a trip to Paris and my legs ache and cramp",
]
# Plain statements of where the person is: the country, by code.
STATED = [
    ("I'm in the UK and my chest hurts", "GB"),
    ("we live in Australia, what helps with night cramps", "AU"),
    ("I'm in Texas", "US"),
    ("i live in ireland btw, is quinine allowed", "IE"),
    ("we're in Ontario and my dad has cramps every night", "CA"),
    ("I'm currently in Germany and my calf is swollen and hot", "DE"),
    ("UK", "GB"),
    ("my country is New Zealand", "NZ"),
]
# Messages that look like a yes, with no question asked before them.
YES_LIKE = [
    "yes",
    "yes delete it",
    "yes, delete everything",
    "ok do it",
    "sure",
    "go ahead",
    "yes please",
    "/confirm_forget_me",
    "delete it now",
    "yes, and what about magnesium?",
    "confirm",
    "yep",
    "23 weeks and the calf cramps started this week, what is it about being pregant that causes them",
]
# The public suites' messages that state a country, and which.
PUBLIC_STATED = {
    "i am in canada": "CA",
    "i live in the uk": "GB",
    "i'm in australia": "AU",
    "I'm in the UK": "GB",
    "I'm in Canada": "CA",
}


def public_messages() -> List[str]:
    nlu = yaml.safe_load((ROOT / "tests" / "nlu_test.yml").read_text())
    messages = [
        line[2:].strip()
        for block in nlu["nlu"]
        if "intent" in block
        for line in block["examples"].splitlines()
        if line.startswith("- ")
    ]
    triage = yaml.safe_load((ROOT / "tests" / "triage_cases.yml").read_text())
    return messages + [case["text"] for case in triage["cases"]]


def generated_messages(public: List[str], count: int = 2000) -> List[str]:
    """Public messages with a place, unit or food mentioned in passing, and yes-like texts."""
    rng = random.Random(12)
    generated = list(IN_PASSING) + list(YES_LIKE)
    others = [text for text in public if text not in PUBLIC_STATED] + YES_LIKE
    while len(generated) < count:
        passing, other = rng.choice(IN_PASSING), rng.choice(others)
        generated.append(rng.choice([f"{passing} {other}", f"{other}. {passing}", f"{other}, {passing.lower()}"]))
    return generated


def expected_country(text: str) -> Optional[str]:
    return dict(STATED).get(text) or PUBLIC_STATED.get(text)


@pytest.fixture(scope="module")
def in_process(trained_model) -> Iterator[InProcessAssistant]:
    running = InProcessAssistant(trained_model, remember_parses=True)
    yield running
    running.close()


def actions_of(tracker) -> List[str]:
    return [e.action_name for e in tracker.events if getattr(e, "action_name", None)]


def harm(tracker, text: str, expected: Optional[str]) -> List[str]:
    from addons.server.tracker_store import _confirmed_forget_this_turn

    found = []
    if DELETED in actions_of(tracker) or _confirmed_forget_this_turn(tracker):
        found.append(f"deleted after {text!r}")
    if tracker.get_slot("country") != expected:
        found.append(f"country {tracker.get_slot('country')!r} (expected {expected!r}) after {text!r}")
    return found


def test_no_message_deletes_or_sets_a_country_nobody_stated(in_process):
    public = public_messages()
    messages = public + generated_messages(public)
    assert len(messages) >= 2000 + len(public)
    problems: List[str] = []
    # As the first message of a conversation.
    for text in messages:
        problems += harm(in_process.send(f"first:{uuid.uuid4().hex}", text)[0], text, expected_country(text))
    # In the middle of conversations that have already had a greeting and a question
    # (about 40 messages each: a tracker's cost grows with its length, not the finding).
    conversations = [f"middle:{uuid.uuid4().hex}" for _ in range(max(12, len(messages) // 40))]
    for sender in conversations:
        in_process.send(sender, "hi")
        in_process.send(sender, "why do my legs cramp at night?")
    asked = 0
    for index, text in enumerate(t for t in messages if expected_country(t) is None):
        sender = conversations[index % len(conversations)]
        tracker, _ = in_process.send(sender, text)
        problems += harm(tracker, text, None)
        if actions_of(tracker)[-2:-1] == [QUESTION]:  # read as "forget me": the person says no
            asked += 1
            problems += harm(in_process.send(sender, "no, keep it")[0], "no, keep it", None)
    record_figure(
        "Misreads",
        f"{len(messages)} messages as first and as middle message: "
        f"{len(problems)} harmful ({asked} asked whether to delete, none deleted)",
    )
    assert problems == [], problems[:20]


@pytest.mark.parametrize("text, code", STATED)
def test_a_stated_country_is_kept_wherever_it_stands(in_process, text, code):
    tracker, _ = in_process.send(f"stated:{uuid.uuid4().hex}", text)
    assert tracker.get_slot("country") == code


# ---------------------------------------------------------------- the same over REST, with the action server
def rest_sample() -> List[Tuple[str, Optional[str]]]:
    public = public_messages()
    rng = random.Random(7)
    sample = rng.sample(generated_messages(public), 150) + rng.sample(public, 50) + YES_LIKE
    return [(text, expected_country(text)) for text in sample]


@pytest.mark.servers
def test_over_rest_nothing_is_deleted_and_no_country_is_set_in_passing(assistant):
    problems, sample = [], rest_sample()
    # Middle messages spread over conversations, each well under the per-conversation rate limit.
    conversations = {uuid.uuid4().hex: 2 for _ in range(16)}
    for sender in conversations:
        assistant.send(sender, "hi")
        assistant.send(sender, "why do my legs cramp at night?")
    middles = itertools.cycle(conversations)
    for text, expected in sample:
        first = uuid.uuid4().hex
        reply = assistant.send(first, text)
        if not reply:
            problems.append(f"no answer to {text!r}")
        slots = assistant.tracker(f"rest:{first}")["slots"]
        if slots["country"] != expected:
            problems.append(f"country {slots['country']!r} after {text!r}")
        if "I have deleted this conversation" in texts(reply):
            problems.append(f"deleted after {text!r}")
        if expected is None:
            middle = next(middles)
            middle_reply = texts(assistant.send(middle, text))
            conversations[middle] += 1
            assert "faster than I can read" not in middle_reply  # the test itself must stay under the limit
            if "I have deleted this conversation" in middle_reply:
                problems.append(f"deleted mid-conversation after {text!r}")
            if "delete this whole conversation" in middle_reply:
                assistant.send(middle, "no")
                conversations[middle] += 1
    for middle, sent in conversations.items():
        tracker = assistant.tracker(f"rest:{middle}")
        assert tracker["slots"]["country"] is None
        assert len([e for e in tracker["events"] if e["event"] == "user"]) == sent  # nothing was lost
    record_figure("Misreads", f"REST: {len(sample)} messages as first and middle message, {len(problems)} harmful")
    assert problems == [], problems[:20]


@pytest.mark.servers
@pytest.mark.parametrize("text", ["/confirm_forget_me", "yes delete it", YES_LIKE[-1]])
def test_a_confirmation_nobody_asked_for_gets_an_answer_and_deletes_nothing(assistant, text):
    sender = uuid.uuid4().hex
    assistant.send(sender, "hi")
    assistant.send(sender, "my left calf is swollen and hot")
    reply = assistant.send(sender, text)
    assert reply and "I have deleted this conversation" not in texts(reply)
    tracker = assistant.tracker(f"rest:{sender}")
    assert tracker["slots"]["triage_level"] == "urgent"
    assert len([e for e in tracker["events"] if e["event"] == "user"]) == 3


@pytest.mark.servers
@pytest.mark.parametrize(
    "text", ["I drink 2 oz of pickle juice when a cramp starts, does it help?", "I flew back from London last night"]
)
def test_a_place_or_unit_in_passing_leaves_the_emergency_answer_with_the_common_numbers(assistant, text):
    sender = uuid.uuid4().hex
    assistant.send(sender, text)
    emergency = texts(assistant.send(sender, "my chest hurts and I can't breathe"))
    assert DEFAULT_NUMBERS in emergency and "000" not in emergency
    assert "If you tell me your country" in emergency


@pytest.mark.servers
@pytest.mark.parametrize(
    "text, number", [("I'm in the UK and my chest hurts", "999"), ("I'm in Texas and I can't breathe", "911")]
)
def test_a_stated_country_beside_a_red_flag_gives_its_number_at_once(assistant, text, number):
    emergency = texts(assistant.send(uuid.uuid4().hex, text))
    assert f": {number}." in emergency and "If you tell me your country" not in emergency


@pytest.mark.servers
@pytest.mark.parametrize(
    "text, says, never",
    [
        ("he had a fit and now he won't wake up", ["time the fit", "anything in their mouth"], ["massage"]),
        ("my toddler drank some of the turpentine rub", ["make them sick", "bottle"], ["massage"]),
        ("my diabetic grandpa is confused and sweaty and we can't wake him properly", ["sugary"], ["massage"]),
        ("I can't breathe and my calf is swollen", ["sit upright", "don't walk about"], []),
        ("I take a statin and my pee is dark", ["Stop taking it", "today"], []),
        ("I take a statin and my pee is dark and my muscles ache", ["Stop taking it", "today"], []),
        ("I'm on a statin and I haven't peed at all today", ["emergency department", "statin"], []),
    ],
)
def test_emergency_and_urgent_answers_fit_the_emergency(assistant, text, says, never):
    reply = texts(assistant.send(uuid.uuid4().hex, text))
    for phrase in says:
        assert phrase.lower() in reply.lower(), (phrase, reply)
    for phrase in never:
        assert phrase not in reply.lower(), (phrase, reply)
    assert "Please don't stop a prescribed medicine" not in reply
