"""`make evaluate`: the figures, the reports, and a gate that a worse model cannot pass."""

import json
import subprocess
import sys

import pytest
import yaml

from conftest import record_figure
from helpers import ROOT, SERVER_ENV, VENV_BIN

pytestmark = pytest.mark.model
EVALUATE = [sys.executable, "-m", "scripts.evaluate"]


@pytest.fixture(scope="module")
def evaluation(trained_model):
    run = subprocess.run(
        EVALUATE + ["--model", str(trained_model)], cwd=ROOT, env=SERVER_ENV, capture_output=True, text=True
    )
    return run, json.loads((ROOT / "results" / "figures.json").read_text())


def test_current_model_passes_the_gate_and_writes_the_reports(evaluation):
    run, figures = evaluation
    results = ROOT / "results"
    record_figure(
        "Evaluation (scripts/evaluate.py)",
        f"NLU macro-F1 {figures['nlu_macro_f1']:.3f} (weighted {figures['nlu_weighted_f1']:.3f}); "
        f"stories failed {figures['stories_failed']:.0f}; summary results/summary.md",
    )
    for name, value in sorted(figures.items()):
        if name.startswith(("topic_accuracy[", "follow_up_accuracy[")):
            record_figure("Understanding, blind sets (tests/heldout/)", f"{name}: {value:.3f}")
    for prefix in ["triage"] + sorted({n.split("]")[0] + "]" for n in figures if n.startswith("triage[")}):
        part = {
            "triage": "part curated with the patterns",
            "triage[tuning]": "whole tuning suite (tests/triage_cases.yml)",
        }.get(prefix, f"blind part {prefix[7:-1]}")
        record_figure(
            "Triage, both detectors as the model runs them",
            (
                f"{part}: recall emergency {figures[prefix + '_emergency_recall']:.1%}, urgent "
                f"{figures[prefix + '_urgent_recall']:.1%}, routine {figures[prefix + '_routine_recall']:.1%}; "
                f"ordinary messages escalated {figures[prefix + '_false_positive_rate']:.1%}"
            ),
        )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    for report in (
        "summary.md",
        "misclassified.md",
        "nlu/intent_report.json",
        "nlu/intent_confusion_matrix.png",
        "core/story_report.json",
    ):
        assert (results / report).exists(), report
    assert figures["stories_failed"] == 0 and any(name.startswith("topic_accuracy[") for name in figures)


def test_a_deliberately_degraded_model_fails_the_gate(tmp_path):
    """Same data, but DIET trained for one epoch: the gate must say no (on the NLU figures,
    which `--quick` judges).
    """
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    for component in config["pipeline"]:
        if component["name"] == "DIETClassifier":
            component["epochs"] = 1
    degraded_config = tmp_path / "config.yml"
    degraded_config.write_text(yaml.safe_dump(config))
    train = subprocess.run(
        [
            str(VENV_BIN / "rasa"),
            "train",
            "--config",
            str(degraded_config),
            "--domain",
            "domain.yml",
            "--data",
            "data",
            "--out",
            str(tmp_path),
            "--fixed-model-name",
            "degraded",
        ],
        cwd=ROOT,
        env=SERVER_ENV,
        capture_output=True,
        text=True,
    )
    assert train.returncode == 0, train.stdout[-2000:]
    run = subprocess.run(
        EVALUATE + ["--quick", "--model", str(tmp_path / "degraded.tar.gz"), "--out", str(tmp_path / "results")],
        cwd=ROOT,
        env=SERVER_ENV,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert "evaluation gate: FAILED" in run.stderr and "nlu_macro_f1" in run.stderr
    assert "below the threshold" in (tmp_path / "results" / "summary.md").read_text()


def test_the_gate_judges_accuracy_against_the_baseline_but_not_the_share_offered_as_buttons():
    """Answering one more question outright shrinks the missed questions whose right entry was
    offered; that must not fail the gate, while a drop in topic accuracy beyond the tolerance must.
    """
    from scripts.evaluate import judge

    baseline = {
        "tolerance": {"default": 0.02},
        "figures": {"topic_accuracy[questions_2]": 0.90, "right_entry_offered[questions_2]": 0.05},
    }
    better = judge({"topic_accuracy[questions_2]": 0.91, "right_entry_offered[questions_2]": 0.0}, baseline)
    worse = judge({"topic_accuracy[questions_2]": 0.85, "right_entry_offered[questions_2]": 0.05}, baseline)
    assert [status for _, status, _ in better] == ["ok", "ok"]
    assert dict((name, status) for name, status, _ in worse)["topic_accuracy[questions_2]"] == "FAIL"
