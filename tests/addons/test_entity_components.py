"""Entity clean-up after the entity ruler: negated people, ages in numbers."""

import pytest
from rasa.shared.nlu.training_data.message import Message

from addons.nlu_components import NegatedPopulation, age_population


def populations_after(text: str, said: str) -> list:
    start = text.index(said)
    message = Message(data={"text": text, "entities": [
        {"entity": "population", "value": said, "start": start, "end": start + len(said)}]})
    NegatedPopulation().process([message])
    return [e["value"] for e in message.get("entities")]


@pytest.mark.parametrize("text, said", [
    ("what causes night cramps generally? not pregnant, just get them", "pregnant"),
    ("i dont do sport and my calves cramp at night", "sport"),
])
def test_a_negated_population_is_dropped(text, said):
    assert populations_after(text, said) == []


@pytest.mark.parametrize("text, said", [
    ("I'm not sure if pregnancy causes cramps", "pregnancy"),
    ("my wife is pregnant and cramps every night", "pregnant"),
    ("not only pregnant women get them?", "pregnant"),
])
def test_a_population_said_plainly_or_in_doubt_stays(text, said):
    assert populations_after(text, said) == [said]


@pytest.mark.parametrize("text, expected", [
    ("my dad is 82 and cramps at night", "elderly"),
    ("he's 8 and wakes with leg pain", "children"),
    ("cramps for 20 weeks now", None),
])
def test_an_age_in_numbers_gives_the_population(text, expected):
    found = age_population(text)
    assert (found[0] if found else None) == expected
