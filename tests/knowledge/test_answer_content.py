"""What people read: plain language, no diagnosis, no doses, unsafe remedies only as warnings."""

import re
from pathlib import Path

import pytest
import textstat
import yaml

from conftest import record_figure

DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text())


def all_answer_texts(knowledge):
    for entry in knowledge.entries.values():
        for field, text in (("answer", entry.answer), ("more", entry.more), ("answer_clot_safe", entry.answer_clot_safe)):
            if text:
                yield f"{entry.id}.{field}", text


def domain_texts():
    for name, variants in DOMAIN["responses"].items():
        for variant in variants:
            yield name, variant["text"]


def sentences(text):
    return [s for s in re.split(r"(?<=[.!?:])\s+|\n", text) if s.strip()]


def test_answers_are_easy_to_read(knowledge):
    scores = {name: textstat.flesch_reading_ease(text) for name, text in all_answer_texts(knowledge)}
    average = sum(scores.values()) / len(scores)
    hardest = min(scores, key=scores.get)
    record_figure("Knowledge", f"Flesch reading ease: mean {average:.1f} over {len(scores)} texts, lowest {scores[hardest]:.1f} ({hardest})")
    assert average >= 60
    assert all(score >= 50 for score in scores.values()), {k: v for k, v in scores.items() if v < 50}


DIAGNOSIS = re.compile(r"\byou (have|'ve got|have got|are suffering from) (a |an )?(dvt|clot|blood clot|disease|deficiency|restless legs|thrombosis)\b|\bthis is (definitely|certainly) ", re.I)
DOSE = re.compile(r"\b\d+(\.\d+)?\s*(mg|mcg|g|ml|milligrams?|grams?|iu)\b|\b\d+\s*(tablets?|pills?|capsules?|drops?)\b|\b(once|twice|three times|\d+ times) (a|per) day\b", re.I)
NEVER_AS_CRAMP = re.compile(r"\b(seizures?|convulsions?|myoclonus|lactic acid)\b", re.I)
UNSAFE = re.compile(r"\b(turpentine|mustard|vinegar|celandine|wormwood|mumiyo|shilajit|cinquefoil|needles?|aspirin|analgin|metamizole|kvass)\b", re.I)
WARNING = re.compile(r"\b(don't|do not|never|not|no|poisonous|burn|harm|unsafe|can cause|avoid|banned|emergency)\b", re.I)


@pytest.mark.parametrize("source", ["knowledge", "domain"])
def test_no_text_claims_a_diagnosis_or_gives_a_dose(knowledge, source):
    texts = all_answer_texts(knowledge) if source == "knowledge" else domain_texts()
    for name, text in texts:
        assert not DIAGNOSIS.search(text), name
        assert not DOSE.search(text), name


def test_cramps_are_never_called_seizures_and_myths_only_corrected(knowledge):
    for name, text in list(all_answer_texts(knowledge)) + list(domain_texts()):
        for sentence in sentences(text):
            if NEVER_AS_CRAMP.search(sentence):
                assert re.search(r"\b(not|no)\b", sentence, re.I), f"{name}: {sentence}"


def test_unsafe_remedies_appear_only_as_warnings(knowledge):
    for name, text in all_answer_texts(knowledge):
        lines = text.splitlines()
        for index, sentence in enumerate(sentences(text)):
            if UNSAFE.search(sentence):
                # A bullet under "Please don't use these" is a warning too.
                warned = WARNING.search(sentence) or any(
                    "don't use" in line for line in lines[: max(0, index)]
                )
                assert warned, f"{name}: {sentence}"


PRESCRIPTION = re.compile(r"\b(quinine|tolperisone|mydocalm|tizanidine|sirdalud|phenytoin|difenin|venotonics?|heparin)\b", re.I)


def test_prescription_medicines_come_with_a_doctor(knowledge):
    for entry in knowledge.entries.values():
        if PRESCRIPTION.search(entry.answer):
            assert "doctor_decides" in entry.advice or "doctor" in entry.answer.lower(), entry.id


def test_medicines_that_cause_cramps_say_not_to_stop_them(knowledge):
    assert "keep_taking_medicines" in knowledge.get("causes_medication").advice
    assert "don't stop" in knowledge.messages.advice["keep_taking_medicines"].lower()


def test_triage_answers_name_emergency_number_and_forbid_massage():
    urgent = [v["text"] for v in DOMAIN["responses"]["utter_triage_urgent"]]
    for variant in DOMAIN["responses"]["utter_triage_emergency"]:
        assert "{emergency_number}" in variant["text"] and "don't massage" in variant["text"]
    assert all("{emergency_number}" in text for text in urgent)
    assert all(re.search(r"don't massage|don't rub", t, re.I) for t in urgent if "leg" in t and "swollen" in t)
