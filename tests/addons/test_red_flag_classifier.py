"""The learned red-flag classifier: most alarming sentence, thresholds, vetoed sentences."""

import numpy as np

from addons.model.red_flag_classifier import RedFlagClassifier, label_of, load_corpus

# A toy classifier on 3-dimensional "vectors": one axis per label.
TOY = RedFlagClassifier(["emergency|fit", "none", "urgent|clot"], np.eye(3) * 10, np.zeros(3))
THRESHOLDS = {"emergency": 0.5, "urgent": 0.5, "routine": 0.9}


def test_the_most_alarming_sentence_wins_even_after_harmless_ones():
    vectors = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=np.float32)
    finding = TOY.most_alarming(vectors, THRESHOLDS, lambda index: True)
    assert (finding.level, finding.reason, finding.sentence) == ("emergency", "fit", 2)


def test_a_sentence_the_patterns_see_negated_or_asked_about_does_not_count():
    vectors = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=np.float32)
    finding = TOY.most_alarming(vectors, THRESHOLDS, lambda index: index != 1)
    assert (finding.level, finding.sentence) == ("urgent", 2)


def test_below_its_threshold_a_level_is_not_reported():
    unsure = np.array([[0.05, 0.0, 0.0]], dtype=np.float32)  # about 0.4 for emergency
    assert TOY.most_alarming(unsure, THRESHOLDS, lambda index: True) is None


def test_an_unsure_escalation_gets_the_general_answer_not_advice_for_another_emergency():
    unsure = np.array([[0.05, 0.0, 0.0]], dtype=np.float32)  # about 0.4 for emergency
    finding = TOY.most_alarming(unsure, {"emergency": 0.25}, lambda index: True)
    assert finding.level == "emergency" and finding.reason_if_sure(0.5) == "default"
    sure = TOY.most_alarming(np.array([[1.0, 0.0, 0.0]], dtype=np.float32), THRESHOLDS, lambda index: True)
    assert sure.reason_if_sure(0.5) == "fit"


def test_the_stored_classifier_predicts_the_same():
    restored = RedFlagClassifier.from_dict(TOY.to_dict())
    vectors = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    assert np.allclose(restored.probabilities(vectors), TOY.probabilities(vectors), atol=1e-4)


def test_the_corpus_is_large_labelled_and_covers_every_level():
    corpus = load_corpus()
    labels = {label_of(message) for message in corpus}
    assert len(corpus) >= 1500
    assert {label.split("|")[0] for label in labels} == {"emergency", "urgent", "routine", "none"}
    for reason in (
        "breathing_or_chest",
        "fit",
        "heat",
        "poisoning",
        "allergy",
        "no_blood_supply",
        "low_sugar",
        "back",
        "tetanus",
        "collapse",
    ):
        assert f"emergency|{reason}" in labels, reason
