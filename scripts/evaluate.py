"""Evaluates a trained model and gates on thresholds and on the committed baseline.

Runs the held-out NLU test set (rasa test nlu), the test stories (rasa test core) and the
red-flag suite, and writes to results/:
  summary.md          one page: each figure against its threshold and the baseline
  figures.json        the figures, for machines
  misclassified.md    every held-out message the NLU got wrong
  nlu/                Rasa's intent report, confusion matrix image (intent_confusion_matrix.png), errors
  core/               Rasa's story report and failed_test_stories.yml
Exits 1 when a figure is below its threshold or worse than the baseline by more than the
baseline's tolerance (informational figures, see INFORMATIONAL, are shown but not gated).
`--update-baseline` writes the current figures as the new baseline (a deliberate
maintainer act; results/ is not committed, the baseline is).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

from devstack.local_servers import action_server
from scripts.topic_accuracy import question_sets, score_set

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "tests" / "evaluation_baseline.json"
RASA = Path(sys.executable).parent / "rasa"
ENV = {
    **os.environ,
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "RASA_TELEMETRY_ENABLED": "false",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
}
LABELS = {
    "nlu_macro_f1": "NLU intent macro-F1 (held out)",
    "nlu_weighted_f1": "NLU intent weighted F1 (held out)",
    "nlu_accuracy": "NLU intent accuracy (held out)",
    "stories_failed": "Test stories failed",
    "triage_emergency_recall": "Triage recall, emergency",
    "triage_urgent_recall": "Triage recall, urgent",
    "triage_routine_recall": "Triage recall, routine",
    "triage_exact_rate": "Triage exact level",
    "triage_false_positive_rate": "Triage false positives on 'none'",
}
# Figures named per held-out set, e.g. "topic_accuracy[questions_2]": labelled by their stem.
SET_LABELS = {
    "topic_accuracy": "Topic accuracy, single questions",
    "follow_up_accuracy": "Follow-up accuracy, conversation turns",
    "right_entry_offered": "Right entry among the buttons, when not answered",
}


def label(name: str) -> str:
    stem, _, rest = name.partition("[")
    if rest:
        held_out = rest.split("]")[0]
        base = SET_LABELS.get(stem) or LABELS.get(f"triage{rest.split(']')[1]}", stem)
        return f"{base} ({'whole tuning suite' if held_out == 'tuning' else held_out + ', blind'})"
    if name.startswith("triage_"):
        return f"{LABELS.get(name, name)} (part curated with the patterns)"
    return LABELS.get(name, name)


# Figures where lower is better.
LOWER_IS_BETTER = {"stories_failed", "triage_false_positive_rate"}


def lower_is_better(name: str) -> bool:
    return name in LOWER_IS_BETTER or name.endswith("false_positive_rate")


# Figures shown beside the baseline but never gated on it. The share of missed questions whose
# right entry was among the buttons counts a handful of messages, and its denominator shrinks as
# topic accuracy rises: one question answered outright instead of offered moves it by 0.03.
INFORMATIONAL = {"right_entry_offered"}


def informational(name: str) -> bool:
    return name.partition("[")[0] in INFORMATIONAL


def rasa(log: Path, *args: str) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as output:
        return subprocess.run([str(RASA), *args], cwd=ROOT, env=ENV, stdout=output, stderr=subprocess.STDOUT).returncode


def evaluate_nlu(model: Path, out: Path) -> Dict[str, float]:
    nlu = out / "nlu"
    if rasa(
        out / "logs" / "test_nlu.log",
        "test",
        "nlu",
        "--model",
        str(model),
        "--nlu",
        "tests/nlu_test.yml",
        "--out",
        str(nlu),
    ):
        raise SystemExit(f"rasa test nlu failed; see {out / 'logs' / 'test_nlu.log'}")
    report = json.loads((nlu / "intent_report.json").read_text())
    errors = json.loads((nlu / "intent_errors.json").read_text()) if (nlu / "intent_errors.json").exists() else []
    lines = [
        "# Misclassified held-out messages",
        "",
        "| message | expected | predicted | confidence |",
        "| --- | --- | --- | --- |",
    ]
    for error in errors:
        predicted = error.get("intent_prediction") or {}
        lines.append(
            f"| {error['text']} | {error['intent']} | {predicted.get('name')} | {predicted.get('confidence', 0):.2f} |"
        )
    (out / "misclassified.md").write_text("\n".join(lines) + "\n")
    return {
        "nlu_macro_f1": report["macro avg"]["f1-score"],
        "nlu_weighted_f1": report["weighted avg"]["f1-score"],
        "nlu_accuracy": report.get("accuracy", 0.0),
    }


def evaluate_stories(model: Path, out: Path) -> Dict[str, float]:
    core = out / "core"
    rasa(
        out / "logs" / "test_core.log",
        "test",
        "core",
        "--model",
        str(model),
        "--stories",
        "tests/test_stories.yml",
        "--out",
        str(core),
    )
    failed = core / "failed_test_stories.yml"
    text = failed.read_text() if failed.exists() else ""
    if not (core / "story_report.json").exists():
        raise SystemExit(f"rasa test core did not run; see {out / 'logs' / 'test_core.log'}")
    return {"stories_failed": float(text.count("- story:"))}


def score_triage(
    detect: Any, cases: List[Dict[str, Any]], prefix: str = "triage"
) -> Tuple[Dict[str, float], List[str]]:
    """Recall per level (a higher level counts as caught), exact rate, false positives, misses.

    `detect(text)` gives the level found ("emergency", "urgent", "routine" or None).
    """
    from addons.model.red_flags import LEVEL_RANK

    rank = {"none": 0, **LEVEL_RANK}
    totals, caught, exact, false_positive = Counter(), Counter(), 0, 0
    misses = []
    for case in cases:
        got = detect(case["text"]) or "none"
        totals[case["level"]] += 1
        if case["level"] != "none" and rank[got] >= rank[case["level"]]:
            caught[case["level"]] += 1
        exact += got == case["level"]
        false_positive += case["level"] == "none" and got != "none"
        if got != case["level"]:
            misses.append(f"{case['level']} -> {got}: {case['text']}")
    figures = {f"{prefix}_{level}_recall": caught[level] / max(1, totals[level]) for level in LEVEL_RANK}
    figures[f"{prefix}_exact_rate"] = exact / len(cases)
    figures[f"{prefix}_false_positive_rate"] = false_positive / max(1, totals["none"])
    return figures, misses


TUNING_MARKER = "# ------------------------------------------------------------------ added for the learned detector"


def triage_sets() -> List[Tuple[str, Path, List[Dict[str, Any]]]]:
    """(figure prefix, file, cases): the part curated with the patterns (strict thresholds),
    the whole tuning suite, then each blind part (tests/heldout/triage_*.yml).
    """
    suite = ROOT / "tests" / "triage_cases.yml"
    text = suite.read_text()
    sets = [
        ("triage", suite, yaml.safe_load(text.split(TUNING_MARKER)[0])["cases"]),
        ("triage[tuning]", suite, yaml.safe_load(text)["cases"]),
    ]
    return sets + [
        (f"triage[{path.stem}]", path, yaml.safe_load(path.read_text())["cases"])
        for path in sorted((ROOT / "tests" / "heldout").glob("triage_*.yml"))
    ]


# The blind sets are scored by worker processes, each with the model loaded once, sharing one
# action server: about 7,000 questions and 7,000 triage messages took 17 of CI's 30 minutes in
# one process. A set is the unit of work, so its figures do not depend on the number of workers.
_worker_assistant: Any = None
_worker_levels: Dict[str, Any] = {}


def _load_worker(model: str, action_url: str) -> None:
    global _worker_assistant
    from devstack.local_servers import InProcessAssistant

    _worker_assistant = InProcessAssistant(Path(model), action_url)


def _detected_level(text: str) -> Any:
    """Both detectors, as the trained model runs them (the tuning part repeats the curated part)."""
    if text not in _worker_levels:
        _worker_levels[text] = (_worker_assistant.parse(text).get("red_flag") or {}).get("level")
    return _worker_levels[text]


def _score_unit(unit: Tuple[str, str, Path, Any]) -> Tuple[Dict[str, float], List[str]]:
    kind, prefix, path, cases = unit
    if kind == "topic":
        return score_set(_worker_assistant, path)
    return score_triage(_detected_level, cases, prefix)


def score_blind_sets(
    model: Path, topic_paths: List[Path], triage: List[Tuple[str, Path, List[Dict[str, Any]]]], workers: int = 0
) -> Tuple[Dict[str, float], List[str], List[str]]:
    """(figures, topic misses, triage misses page lines) for these question and triage sets."""
    units = [("topic", path.stem, path, None) for path in topic_paths] + [
        ("triage", prefix, path, cases) for prefix, path, cases in triage
    ]
    workers = workers or int(os.environ.get("CRAMP_COACH_EVAL_WORKERS") or os.cpu_count() or 1)
    figures: Dict[str, float] = {}
    topic_misses: List[str] = []
    triage_lines = ["# Triage cases not given their level", ""]
    with tempfile.TemporaryDirectory() as logs:
        server = action_server(Path(logs))
        try:
            with ProcessPoolExecutor(
                max_workers=min(workers, len(units)) or 1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_load_worker,
                initargs=(str(model), f"http://127.0.0.1:{server.port}/webhook"),
            ) as pool:
                for (kind, prefix, path, _), (set_figures, misses) in zip(units, pool.map(_score_unit, units)):
                    figures.update(set_figures)
                    if kind == "topic":
                        topic_misses += [f"[{prefix}] {miss}" for miss in misses]
                    else:
                        triage_lines += [f"## {prefix}: {path.relative_to(ROOT)}", ""]
                        triage_lines += [f"- {miss}" for miss in misses] + [""]
        finally:
            server.stop()
    return figures, topic_misses, triage_lines


def judge(figures: Dict[str, float], baseline: dict) -> List[Tuple[str, str, str]]:
    """(figure, status, why) for every figure."""
    verdicts = []
    tolerance = baseline.get("tolerance", {})
    for name, value in figures.items():
        rule = baseline.get("thresholds", {}).get(name, {})
        problems = []
        if "min" in rule and value < rule["min"]:
            problems.append(f"below the threshold {rule['min']}")
        if "max" in rule and value > rule["max"]:
            problems.append(f"above the threshold {rule['max']}")
        previous = baseline.get("figures", {}).get(name)
        if previous is not None and not informational(name):
            worse = value - previous if lower_is_better(name) else previous - value
            if worse > tolerance.get(name, tolerance.get("default", 0.0)) + 1e-9:
                problems.append(f"worse than the baseline {previous:.3f}")
        verdicts.append((name, "FAIL" if problems else "ok", "; ".join(problems)))
    return verdicts


def summary(model: Path, figures: Dict[str, float], baseline: dict, verdicts) -> str:
    lines = [
        "# Evaluation summary",
        "",
        f"Model: `{model.name}`. Baseline: `tests/evaluation_baseline.json`.",
        "",
        "| figure | value | threshold | baseline | change | status |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, status, why in verdicts:
        value = figures[name]
        rule = baseline.get("thresholds", {}).get(name, {})
        threshold = f"≥ {rule['min']}" if "min" in rule else (f"≤ {rule['max']}" if "max" in rule else "")
        previous = baseline.get("figures", {}).get(name)
        change = f"{value - previous:+.3f}" if previous is not None else ""
        shown_previous = f"{previous:.3f}" if previous is not None else ""
        lines.append(
            f"| {label(name)} | {value:.3f} | {threshold} | {shown_previous} | {change} "
            f"| {status}{': ' + why if why else ''} |"
        )
    lines += [
        "",
        "Details: `results/misclassified.md`, `results/nlu/intent_confusion_matrix.png`, "
        "`results/nlu/intent_report.json`, `results/core/failed_test_stories.yml`.",
    ]
    return "\n".join(lines) + "\n"


def current_model() -> Path:
    from scripts.train_model import current_model as find

    model = find()
    if model is None:
        raise SystemExit("no model for the current data: run `make train` first")
    return model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model to evaluate (default: the current one)")
    parser.add_argument("--out", type=Path, default=ROOT / "results")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("--update-baseline", action="store_true", help="store these figures as the new baseline")
    parser.add_argument(
        "--quick", action="store_true", help="NLU and stories only (a minute, not several): judges just those figures"
    )
    args = parser.parse_args()
    if args.quick and args.update_baseline:
        parser.error("--update-baseline needs every figure: run without --quick")
    model = (args.model or current_model()).resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    figures = {**evaluate_nlu(model, args.out), **evaluate_stories(model, args.out)}
    if not args.quick:
        blind, topic_misses, triage_lines = score_blind_sets(model, question_sets(), triage_sets())
        figures.update(blind)
        (args.out / "triage_misses.md").write_text("\n".join(triage_lines))
        (args.out / "topic_misses.md").write_text(
            "# Held-out questions not given an acceptable entry\n\n" + "".join(f"- {miss}\n" for miss in topic_misses)
        )
    baseline = json.loads(args.baseline.read_text()) if args.baseline.exists() else {}
    if args.update_baseline:
        baseline["figures"] = {k: round(v, 4) for k, v in figures.items()}
        args.baseline.write_text(json.dumps(baseline, indent=2) + "\n")
        print(f"baseline updated: {args.baseline}")
    verdicts = judge(figures, baseline)
    (args.out / "figures.json").write_text(json.dumps(figures, indent=2) + "\n")
    page = summary(model, figures, baseline, verdicts)
    (args.out / "summary.md").write_text(page)
    print(page)
    failed = [name for name, status, _ in verdicts if status == "FAIL"]
    if failed:
        print(f"evaluation gate: FAILED ({', '.join(failed)})", file=sys.stderr)
        return 1
    print("evaluation gate: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
