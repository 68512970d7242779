"""The public red-flag suite (tests/triage_cases.yml) through the pattern detector.

The suite's first part was curated with the patterns and must pass them alone; the part
added for the learned detector (after the marker line) is scored through both detectors
by `make evaluate` (tests/scripts/test_evaluation_gate.py) and only reported here.
"""

from pathlib import Path

import pytest
import yaml

from addons.model.red_flags import LEVEL_RANK
from scripts.evaluate import TUNING_MARKER, score_triage

from conftest import record_figure

SUITE = (Path(__file__).resolve().parents[1] / "triage_cases.yml").read_text()
CASES = yaml.safe_load(SUITE)["cases"]
PATTERN_PART = yaml.safe_load(SUITE.split(TUNING_MARKER)[0])["cases"]
RANK = {"none": 0, **LEVEL_RANK}


def test_suite_is_large_and_labelled():
    assert len(CASES) >= 600 and len(PATTERN_PART) >= 150
    assert {c["level"] for c in CASES} == set(RANK)
    texts = [c["text"] for c in CASES]
    assert len(texts) == len(set(texts)), "duplicate cases"


def test_patterns_alone_meet_the_targets_on_the_part_curated_with_them(red_flag_rules):
    whole, _ = score_triage(lambda text: red_flag_rules.detect(text).level, CASES)
    record_figure(
        "Triage suite, patterns alone",
        (
            f"all {len(CASES)} cases: recall emergency {whole['triage_emergency_recall']:.1%}, urgent "
            f"{whole['triage_urgent_recall']:.1%}, routine {whole['triage_routine_recall']:.1%}; false positives "
            f"on none {whole['triage_false_positive_rate']:.1%}"
        ),
    )
    figures, misses = score_triage(lambda text: red_flag_rules.detect(text).level, PATTERN_PART)
    record_figure(
        "Triage suite, patterns alone",
        f"{len(PATTERN_PART)} curated cases: recall emergency {figures['triage_emergency_recall']:.1%}, "
        f"urgent {figures['triage_urgent_recall']:.1%}, routine {figures['triage_routine_recall']:.1%}; "
        f"exact level {figures['triage_exact_rate']:.1%}; "
        f"false positives on none {figures['triage_false_positive_rate']:.1%}",
    )
    assert figures["triage_emergency_recall"] == 1.0, misses
    assert figures["triage_urgent_recall"] >= 0.98, misses
    assert figures["triage_false_positive_rate"] <= 0.03, misses


@pytest.mark.parametrize(
    "text,level,reason",
    [
        ("my left calf is swollen", "urgent", "clot"),
        ("my calf is swollen", "urgent", "swelling_unclear"),
        ("both my ankles swell and it goes down overnight", "routine", "swelling_both"),
        ("I'm 30 weeks pregnant with a pounding headache", "urgent", "pregnancy"),
        # R23, R14, R28: side effects that mean "stop it and get care today".
        ("on simvastatin and my muscles ache", "urgent", "medicine_stop"),
        ("I take a statin and my pee is dark", "urgent", "medicine_stop"),
        # Review §2(b): dark urine with aching muscles is urgent; no urine is the emergency.
        ("on a statin, my muscles ache and my pee is dark brown", "urgent", "medicine_stop"),
        (
            "dad's on simvastatin, his pee was like cola and now there's been nothing since this morning",
            "emergency",
            "rhabdo",
        ),
        ("been on quinine for a year and now bruises everywhere", "urgent", "medicine_stop"),
        ("on quinine and my gums keep bleeding", "urgent", "medicine_stop"),
        ("started analgin and now I have a fever", "urgent", "medicine_stop"),
        ("I started a new water pill and now I get cramps", "routine", "medicine"),
        ("chest pain", "emergency", "breathing_or_chest"),
        ("my diabetic grandpa is confused and sweaty", "emergency", "low_sugar"),
        ("he had a fit and now he won't wake up", "emergency", "fit"),
        ("my toddler drank some of the turpentine rub", "emergency", "poisoning"),
    ],
)
def test_signs_combine_into_level_and_reason(red_flag_rules, text, level, reason):
    finding = red_flag_rules.detect(text)
    assert (finding.level, finding.reason) == (level, reason)


@pytest.mark.parametrize(
    "text,negated",
    [
        ("no chest pain", "chest_pain"),
        ("without any chest pain or breathlessness", "breathless"),
        ("the scan ruled out a clot", "clot_mention"),
        ("a clot was ruled out", "clot_mention"),
        ("my calf isn't swollen", "leg_swelling"),
        ("breathing's normal", "breathing_fine"),
        ("I can breathe fine", "breathing_fine"),
    ],
)
def test_negated_signs_do_not_escalate(red_flag_rules, text, negated):
    finding = red_flag_rules.detect(text)
    assert finding.level is None and negated in finding.negated


def test_negation_stops_at_the_clause(red_flag_rules):
    assert red_flag_rules.detect("no chest pain, but I can't breathe").level == "emergency"
    assert red_flag_rules.detect("getting worse not better, left calf swollen and tender").level == "urgent"
    assert red_flag_rules.detect("the cramp won't let go, 40 minutes now").level == "urgent"
    assert red_flag_rules.detect("breathing was fine until an hour ago, now I can't breathe").level == "emergency"
    assert red_flag_rules.detect("not sure, but my calf is swollen and warm").level == "urgent"


def test_questions_about_signs_are_not_reports(red_flag_rules):
    finding = red_flag_rules.detect("can cramps cause chest pain?")
    assert finding.level is None and "chest_pain" in finding.asked_about
    assert red_flag_rules.detect("can cramps cause chest pain? I have chest pain now").level == "emergency"


def test_misspellings_and_russian_emergencies_are_recognised(red_flag_rules):
    assert red_flag_rules.detect("cant breth and chset hurts").level == "emergency"
    assert red_flag_rules.detect("у меня боль в груди").level == "emergency"
