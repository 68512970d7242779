"""The project's spaCy pipeline: the entity ruler and Rasa's synonyms agree with the knowledge."""

from pathlib import Path

import pytest

from scripts import build_spacy_pipeline as build

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text,entity,value",
    [
        ("i'm expecting a baby", "population", "pregnancy"),
        ("are water pills to blame", "medication", "diuretics"),
        ("is panangin any good", "medication", "potassium"),
        ("my big toe cramps", "body_part", "toes"),
        ("i live in the uk", "country", "GB"),
    ],
)
def test_entity_ruler_finds_vocabulary_with_canonical_ids(nlp, text, entity, value):
    found = {(e.label_, e.ent_id_) for e in nlp(text).ents}
    assert (entity, value) in found


def test_pipeline_is_built_from_the_current_knowledge():
    assert build.installed_fingerprint() == build.fingerprint(build.project_vocabulary()), "run `make setup`"


def test_synonyms_file_is_generated_from_the_knowledge():
    expected = build.synonyms_yaml(build.project_vocabulary())
    assert build.SYNONYMS_FILE.read_text() == expected, "run `make setup` to regenerate data/nlu/synonyms.yml"


def test_lemmas_come_from_the_lookup_tables(nlp):
    assert [t.lemma_ for t in nlp("legs feet cramping")] == ["leg", "foot", "cramp"]
