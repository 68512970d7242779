"""Entity clean-up after the entity ruler: negated people, ages in numbers, body parts
in figures of speech.
"""

from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.message import Message

from addons.model.nlu_components import AgePopulation, FigurativeBodyPart, NegatedPopulation, age_population

CONFIG = Path(__file__).resolve().parents[2] / "config.yml"


def populations_after(text: str, said: str) -> list:
    start = text.index(said)
    message = Message(
        data={
            "text": text,
            "entities": [{"entity": "population", "value": said, "start": start, "end": start + len(said)}],
        }
    )
    NegatedPopulation().process([message])
    return [e["value"] for e in message.get("entities")]


@pytest.mark.parametrize(
    "text, said",
    [
        ("what causes night cramps generally? not pregnant, just get them", "pregnant"),
        ("i dont do sport and my calves cramp at night", "sport"),
    ],
)
def test_a_negated_population_is_dropped(text, said):
    assert populations_after(text, said) == []


@pytest.mark.parametrize(
    "text, said",
    [
        ("I'm not sure if pregnancy causes cramps", "pregnancy"),
        ("my wife is pregnant and cramps every night", "pregnant"),
        ("not only pregnant women get them?", "pregnant"),
    ],
)
def test_a_population_said_plainly_or_in_doubt_stays(text, said):
    assert populations_after(text, said) == [said]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my dad is 82 and cramps at night", "elderly"),
        ("he's 8 and wakes with leg pain", "children"),
        ("cramps for 20 weeks now", None),
    ],
)
def test_an_age_in_numbers_gives_the_population(text, expected):
    found = age_population(text)
    assert (found[0] if found else None) == expected


@pytest.mark.parametrize(
    "text, said, expected",
    [
        ("my son is 24 and gets cramps after roofing all day", "son", []),
        ("our daughter (36) cramps every night", "daughter", []),
        ("my son is 9 and wakes crying with calf pain", "son", ["children"]),
        ("my daughter gets cramps at night, why", "daughter", ["children"]),
        ("my son is 24, our grandad is 80, both cramp", "son", ["elderly"]),
    ],
)
def test_a_grown_up_son_or_daughter_is_not_a_child(text, said, expected):
    start = text.index(said)
    entity = {"entity": "population", "value": "children", "start": start, "end": start + len(said)}
    message = Message(data={"text": text, "entities": [entity]})
    AgePopulation().process([message])
    assert [e["value"] for e in message.get("entities")] == expected


@pytest.fixture(scope="module")
def figurative_body_part():
    """The component as config.yml configures it."""
    pipeline = yaml.safe_load(CONFIG.read_text())["pipeline"]
    config = next(c for c in pipeline if c["name"].endswith(".FigurativeBodyPart"))
    return FigurativeBodyPart(config["figures"])


def body_parts_after(component, text: str, said: str) -> list:
    start = text.index(said)
    message = Message(
        data={
            "text": text,
            "entities": [{"entity": "body_part", "value": said, "start": start, "end": start + len(said)}],
        }
    )
    component.process([message])
    return [e["value"] for e in message.get("entities")]


@pytest.mark.parametrize(
    "text, said",
    [
        ("could being on my feet all day at work give me cramps?", "feet"),
        ("best way to stop night cramps coming back", "back"),
        ("all my bloods came back normal, why the cramps?", "back"),
        ("my legs cramp when i point my toes in bed", "toes"),
        ("should I keep my feet under the blanket", "feet"),
        ("pillow under feet to prevent cramp?", "feet"),
        ("do flat feet make you cramp more", "feet"),
        ("is it better to sleep with my feet dangling off the bed", "feet"),
        ("do bed socks on my feet stop cramps", "feet"),
        ("pull my toes towards me or away when my calf goes", "toes"),
        ("is my body short of some mineral, is that why I cramp", "body"),
        ("why always the calves and never my arms or back", "arms"),
        ("why always the calves and never my arms or back", "back"),
        ("had the contraceptive implant put in my arm and now my legs cramp", "arm"),
        ("he has a big belly, could it press on something and cause cramps", "belly"),
        ("slipped disc in my lower back years ago, could that be why my calf cramps", "back"),
        ("he sleeps in the recliner because of his back and cramps at night", "back"),
    ],
)
def test_a_body_part_in_a_figure_of_speech_is_dropped(figurative_body_part, text, said):
    assert body_parts_after(figurative_body_part, text, said) == []


@pytest.mark.parametrize(
    "text, said",
    [
        ("cramps in my back at night", "back"),
        ("my back is cramping every night", "back"),
        ("my toes curl up and cramp at night", "toes"),
        ("cramp in the sole of my foot", "foot"),
        ("my toes cramp under the duvet every night", "toes"),
        ("cramps all over my body at night", "all over"),
        ("not in my legs but in my arms, why?", "arms"),
    ],
)
def test_a_body_part_where_the_cramp_is_stays(figurative_body_part, text, said):
    assert body_parts_after(figurative_body_part, text, said) == [said]


def test_a_figure_that_does_not_compile_names_the_component():
    with pytest.raises(ValueError, match="FigurativeBodyPart"):
        FigurativeBodyPart(["(unclosed"])
