"""The trained model against held-out NLU data and the test stories (Rasa's own tools)."""

import json
import subprocess
from pathlib import Path

import pytest

from conftest import record_figure
from helpers import ROOT, SERVER_ENV, VENV_BIN

pytestmark = pytest.mark.model
RESULTS = ROOT / "results"


def rasa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "rasa"), *args], cwd=ROOT, env=SERVER_ENV, capture_output=True, text=True
    )


def test_held_out_nlu_macro_f1(trained_model):
    out = RESULTS / "nlu"
    run = rasa("test", "nlu", "--model", str(trained_model), "--nlu", "tests/nlu_test.yml", "--out", str(out))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads((out / "intent_report.json").read_text())
    macro, weighted = report["macro avg"]["f1-score"], report["weighted avg"]["f1-score"]
    weak = {k: round(v["f1-score"], 2) for k, v in report.items() if isinstance(v, dict) and "support" in v and k not in ("macro avg", "weighted avg", "micro avg") and v["f1-score"] < 0.9}
    record_figure("NLU (tests/nlu_test.yml, held out)", f"intent macro-F1 {macro:.3f}, weighted F1 {weighted:.3f}, accuracy {report.get('accuracy', 0):.3f}; intents below 0.9: {weak or 'none'}")
    assert macro >= 0.95, weak


def test_every_test_story_passes(trained_model):
    out = RESULTS / "core"
    run = rasa(
        "test", "core", "--model", str(trained_model), "--stories", "tests/test_stories.yml",
        "--out", str(out), "--fail-on-prediction-errors",
    )
    failed = (out / "failed_test_stories.yml")
    failed_text = failed.read_text() if failed.exists() else ""
    stories = (ROOT / "tests" / "test_stories.yml").read_text().count("- story:")
    record_figure("Dialogue (tests/test_stories.yml)", f"{stories} stories, failed: {failed_text.count('- story:')}")
    assert run.returncode == 0, failed_text or (run.stdout[-3000:] + run.stderr[-3000:])
