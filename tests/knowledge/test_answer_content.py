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
        for field, text in (
            ("answer", entry.answer),
            ("more", entry.more),
            ("answer_clot_safe", entry.answer_clot_safe),
        ):
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
    record_figure(
        "Knowledge",
        f"Flesch reading ease: mean {average:.1f} over {len(scores)} texts, lowest {scores[hardest]:.1f} ({hardest})",
    )
    assert average >= 60
    assert all(score >= 50 for score in scores.values()), {k: v for k, v in scores.items() if v < 50}


DIAGNOSIS = re.compile(
    r"\byou (have|'ve got|have got|are suffering from) (a |an )?"
    r"(dvt|clot|blood clot|disease|deficiency|restless legs|thrombosis)\b|\bthis is (definitely|certainly) ",
    re.I,
)
DOSE = re.compile(
    r"\b\d+(\.\d+)?\s*(mg|mcg|g|ml|milligrams?|grams?|iu)\b|\b\d+\s*(tablets?|pills?|capsules?|drops?)\b"
    r"|\b(once|twice|three times|\d+ times) (a|per) day\b",
    re.I,
)
NEVER_AS_CRAMP = re.compile(r"\b(seizures?|convulsions?|myoclonus|lactic acid)\b", re.I)
UNSAFE = re.compile(
    r"\b(turpentine|mustard|vinegar|celandine|wormwood|mumiyo|shilajit|cinquefoil|needles?|aspirin|analgin|metamizole|kvass)\b",
    re.I,
)
WARNING = re.compile(
    r"\b(don't|do not|never|not|no|poisonous|burn|harm|unsafe|can cause|avoid|banned|emergency)\b", re.I
)


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
                warned = WARNING.search(sentence) or any("don't use" in line for line in lines[: max(0, index)])
                assert warned, f"{name}: {sentence}"


PRESCRIPTION = re.compile(
    r"\b(quinine|tolperisone|mydocalm|tizanidine|sirdalud|phenytoin|difenin|venotonics?|heparin)\b", re.I
)


def test_prescription_medicines_come_with_a_doctor(knowledge):
    for entry in knowledge.entries.values():
        if PRESCRIPTION.search(entry.answer):
            assert "doctor_decides" in entry.advice or "doctor" in entry.answer.lower(), entry.id


def test_medicines_that_cause_cramps_say_not_to_stop_them(knowledge):
    assert "keep_taking_medicines" in knowledge.get("causes_medication").advice
    assert "don't stop" in knowledge.messages.advice["keep_taking_medicines"].lower()


def triage_variants(response):
    """{reason: text} of a triage response (None for the variant without a condition)."""
    variants = {}
    for variant in DOMAIN["responses"][response]:
        reasons = [c["value"] for c in variant.get("condition") or [] if c["name"] == "triage_reason"]
        variants[reasons[0] if reasons else None] = variant["text"]
    return variants


# Per reason (curation-review §2): what to do now, and what not to do.
EMERGENCY_STEPS = {
    "breathing_or_chest": [r"sit upright", r"don't walk about"],  # R18, R19
    "fit": [r"time the fit", r"don't put anything in their mouth", r"recovery position"],  # R42
    "collapse": [r"lie down", r"on their side"],
    "heat": [r"cool", r"shad", r"sips of water only if they are fully awake"],  # R22
    "poisoning": [r"don't try to make them sick", r"take the bottle"],  # R29
    "allergy": [r"adrenaline", r"don't take any more"],  # R14, R27
    "no_blood_supply": [r"keep the leg still", r"don't rub or massage"],  # R20
    "low_sugar": [r"something sugary", r"awake and can swallow", r"give nothing by mouth"],  # R44
    "back": [r"emergency department", r"don't wait"],  # R24
    "tetanus": [r"emergency department", r"don't try to stretch or massage"],  # R21
    "rhabdo": [r"statin", r"don't take any more"],  # R23
}
URGENT_STEPS = {
    "clot": [r"today", r"don't massage"],  # R18
    "long_cramp": [r"more than 10 minutes", r"today"],  # R1, R2
    "medicine_stop": [r"stop taking it", r"today"],  # R23, R14, R28
    "pregnancy": [r"midwife", r"straight away", r"don't massage"],  # R18, R25
    "heat": [r"30 minutes", r"keep cooling"],  # R22
    "child": [r"one leg", r"today", r"aspirin"],  # R43, R26
    "tetanus": [r"tetanus", r"today"],  # R21
    "weakness": [r"weakness", r"today"],  # R4, R7
}
# Reasons where no leg is involved: no massage advice at all.
NOT_ABOUT_A_LEG = {"fit", "collapse", "heat", "poisoning", "allergy", "low_sugar", "back"}


@pytest.mark.parametrize(
    "response, steps", [("utter_triage_emergency", EMERGENCY_STEPS), ("utter_triage_urgent", URGENT_STEPS)]
)
def test_triage_answers_per_reason_say_what_to_do_now_always_with_the_number(response, steps):
    variants = triage_variants(response)
    assert set(steps) <= set(variants), set(steps) - set(variants)
    assert None in variants  # a default for any other reason
    for reason, text in variants.items():
        assert "{emergency_number}" in text, reason
        for step in steps.get(reason, []):
            assert re.search(step, text, re.I), f"{reason}: {step}"
        if reason in NOT_ABOUT_A_LEG:
            assert "massage" not in text.lower(), reason


def test_emergency_answers_ask_for_the_country_until_it_is_known():
    assert all(text.rstrip().endswith("{country_hint}") for text in triage_variants("utter_triage_emergency").values())


@pytest.mark.parametrize("reason", ["clot", "swelling_unclear", "pregnancy", "long_cramp"])
def test_rule_2_urgent_answers_about_a_swollen_leg_forbid_massage(reason):
    assert re.search(r"don't massage|don't rub", triage_variants("utter_triage_urgent")[reason], re.I)


# ---------------------------------------------------------------- safety lines by curation rule
def test_rule_2_first_aid_warns_against_rubbing_a_swollen_red_or_warm_leg_in_the_answer_itself(knowledge):
    answer = knowledge.get("first_aid").answer
    rub = next(line for line in answer.splitlines() if "Rub the calf" in line)
    assert re.search(r"not if the leg is swollen, red or warm", rub), rub


@pytest.mark.parametrize(
    "entry_id",
    [
        "causes_general",
        "causes_elderly",
        "causes_men",
        "causes_women",
        "causes_medication",
        "medication_muscle_relaxants",
    ],
)
def test_rule_4_entries_naming_medicines_as_causes_say_not_to_stop_them(knowledge, entry_id):
    assert "keep_taking_medicines" in knowledge.get(entry_id).advice


def test_rule_4_and_6_every_answer_naming_quinine_says_never_in_pregnancy(knowledge):
    for entry in knowledge.entries.values():
        if re.search(r"\bquinine\b", entry.answer, re.I):
            assert re.search(r"never (used )?in pregnancy|never used for cramps in pregnancy", entry.answer, re.I), (
                entry.id
            )
