"""The knowledge file's schema: every required entry exists; a broken file is named."""

import copy
import re
from pathlib import Path

import pytest
import yaml

from actions.knowledge import (
    KNOWLEDGE_FILE,
    REQUIRED_ENTRY_IDS,
    KnowledgeError,
    load_knowledge,
    parse_knowledge,
)

SHARED = Path(__file__).resolve().parents[3] / "shared"
SEED = SHARED / "seeds" / "000_c29477d150ef88e6.txt"
REVIEW = SHARED / "curation-review.md"


@pytest.fixture(scope="module")
def document():
    return yaml.safe_load(KNOWLEDGE_FILE.read_text())


@pytest.mark.parametrize("entry_id", REQUIRED_ENTRY_IDS)
def test_required_entry_exists(knowledge, entry_id):
    assert knowledge.get(entry_id) is not None


def _entry(document, entry_id):
    return next(e for e in document["entries"] if e["id"] == entry_id)


BREAKAGES = [
    ("first_aid", lambda e: e.pop("answer"), "answer", "is missing"),
    ("first_aid", lambda e: e.update(reviewed="last week"), "reviewed", "must be a date"),
    ("diet", lambda e: e.update(advice=["ask_your_mum"]), "advice", "unknown advice"),
    ("diet", lambda e: e.update(answer="word " * 200), "answer", "characters"),
    ("diet", lambda e: e.update(references=["NHS"]), "references", "R-numbers"),
    ("quinine", lambda e: e.update(references=[]), "references", "must cite references"),
    (
        "diet",
        lambda e: e.update(routes=[{"intent": "ask_diet", "medication": "chocolate"}]),
        "routes",
        "not in the vocabulary",
    ),
    ("diet", lambda e: e.update(answer="Massage your calf every night."), "answer_clot_safe", "mentions massage"),
    ("first_aid", lambda e: e.update(answer_clot_safe="Rub the calf firmly."), "answer_clot_safe", "must not suggest"),
    ("diet", lambda e: e.update(colour="blue"), "colour", "not a known field"),
    ("diet", lambda e: e.update(id="Diet Entry"), "id", "snake_case"),
]


@pytest.mark.parametrize("entry_id,break_it,field,problem", BREAKAGES)
def test_broken_entry_is_reported_with_entry_and_field(document, entry_id, break_it, field, problem):
    broken = copy.deepcopy(document)
    break_it(_entry(broken, entry_id))
    with pytest.raises(KnowledgeError) as error:
        parse_knowledge(broken)
    message = str(error.value)
    assert f"field '{field}'" in message and problem in message
    assert "entry '" in message


def test_duplicate_and_missing_ids_are_reported(document):
    duplicated = copy.deepcopy(document)
    duplicated["entries"].append(copy.deepcopy(_entry(duplicated, "diet")))
    with pytest.raises(KnowledgeError, match="entry 'diet', field 'id': is used by two entries"):
        parse_knowledge(duplicated)
    missing = copy.deepcopy(document)
    missing["entries"] = [e for e in missing["entries"] if e["id"] != "prognosis"]
    with pytest.raises(KnowledgeError, match="entry 'prognosis', field 'id': is a required entry id"):
        parse_knowledge(missing)


@pytest.mark.parametrize(
    "break_it, problem",
    [
        (lambda kind: kind.update(afer=["quinine"]), "unknown keys"),  # a typo would apply it after every entry
        (lambda kind: kind.update(after=["quinnine"]), "unknown entries"),
    ],
)
def test_a_broken_follow_up_kind_is_reported(document, break_it, problem):
    broken = copy.deepcopy(document)
    break_it(broken["follow_up_kinds"][0])
    with pytest.raises(KnowledgeError, match=problem):
        parse_knowledge(broken)


def test_unreadable_file_names_its_path(tmp_path):
    broken = tmp_path / "entries.yml"
    broken.write_text("entries: [unclosed")
    with pytest.raises(KnowledgeError, match=re.escape(str(broken))):
        load_knowledge(broken)
    with pytest.raises(KnowledgeError, match="not found"):
        load_knowledge(tmp_path / "missing.yml")


@pytest.mark.skipif(not SEED.exists(), reason=f"source article not found at {SEED}")
def test_every_source_is_a_heading_of_the_article(knowledge):
    headings = {line.strip() for line in SEED.read_text().splitlines()}
    for entry in knowledge.entries.values():
        assert entry.source == "none" or entry.source in headings, entry.id


@pytest.mark.skipif(not REVIEW.exists(), reason=f"curation review not found at {REVIEW}")
def test_every_reference_exists_in_the_curation_review(knowledge):
    listed = set(re.findall(r"^\| (R\d+) \|", REVIEW.read_text(), flags=re.MULTILINE))
    for entry in knowledge.entries.values():
        assert set(entry.references) <= listed, entry.id
