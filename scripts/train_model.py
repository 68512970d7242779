"""Trains a model when the data changed; otherwise says which model is current.

A model is named cramp-coach-<date>-<fingerprint>.tar.gz, where the fingerprint covers
everything training reads and nothing else (config, domain, data, the model's code in
addons/model/, the red-flag files, the emergency numbers, the entries' titles and example
questions, the installed spaCy pipeline, the pins), so "nothing changed" is a file lookup
instead of Rasa's slower check, and editing an answer's wording, a channel or a store
never retrains. Before training it
refreshes the red-flag fingerprint in config.yml, so changed patterns retrain the
detector even though Rasa cannot see the file the component reads.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterable, Optional

import yaml

ROOT = Path(__file__).resolve().parent.parent

MODELS = ROOT / "models"
CONFIG = ROOT / "config.yml"
# Files and folders `rasa train` reads, itself or through the model's components. The
# knowledge entries are read only for their titles (see training_view_of_entries).
TRAINING_INPUTS = (
    "config.yml",
    "domain.yml",
    "data",
    "addons/model",
    "knowledge/red_flags.yml",
    "knowledge/red_flag_corpus",
    "knowledge/emergency_numbers.yml",
    "knowledge/entry_questions.yml",
    "requirements.lock",
    "requirements-model.txt",
)


def _files(root: Path, paths: Iterable[str]) -> Iterable[Path]:
    for name in paths:
        path = root / name
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        elif path.exists():
            yield path


def training_view_of_entries(root: Path) -> bytes:
    """What training reads of knowledge/entries.yml: each entry's id and title (the ranker's anchors)."""
    entries = yaml.safe_load((root / "knowledge" / "entries.yml").read_text(encoding="utf-8"))["entries"]
    return json.dumps([[entry["id"], entry["title"]] for entry in entries]).encode()


def data_fingerprint(root: Path = ROOT) -> str:
    """A hash of everything training reads under root, plus the installed spaCy pipeline."""
    from scripts.build_spacy_pipeline import installed_fingerprint

    digest = hashlib.sha256()
    for path in _files(root, TRAINING_INPUTS):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    digest.update(training_view_of_entries(root))
    digest.update(installed_fingerprint().encode())
    return digest.hexdigest()[:12]


def data_file_fingerprints() -> Dict[str, str]:
    """config.yml keys that carry the hash of a data file a component reads itself."""
    from addons.model.emergency_numbers import numbers_fingerprint
    from addons.model.red_flags import spec_fingerprint

    return {"patterns_fingerprint": spec_fingerprint(), "numbers_fingerprint": numbers_fingerprint()}


def refresh_data_file_fingerprints() -> None:
    """Rasa's training cache cannot see those files: a changed hash in config retrains."""
    text = CONFIG.read_text()
    updated = text
    for key, value in data_file_fingerprints().items():
        updated = re.sub(rf'({key}:\s*)"[0-9a-f]*"', rf'\g<1>"{value}"', updated)
    if updated != text:
        CONFIG.write_text(updated)
        print("updated data file fingerprints in config.yml (patterns or numbers changed)")


def current_model() -> Optional[Path]:
    """The trained model for the data as it is now, if there is one."""
    matches = sorted(MODELS.glob(f"cramp-coach-*-{data_fingerprint()}.tar.gz"))
    return matches[-1] if matches else None


def train(extra_args: list) -> Path:
    refresh_data_file_fingerprints()
    existing = current_model()
    if existing and "--force" not in extra_args:
        print(f"model is up to date: {existing.relative_to(ROOT)}")
        return existing
    name = f"cramp-coach-{time.strftime('%Y%m%d-%H%M%S')}-{data_fingerprint()}"
    command = [
        str(Path(sys.executable).parent / "rasa"),
        "train",
        "--config",
        "config.yml",
        "--domain",
        "domain.yml",
        "--data",
        "data",
        "--out",
        "models",
        "--fixed-model-name",
        name,
        *[a for a in extra_args if a != "--force"],
    ]
    log = ROOT / "build" / "logs" / "train.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print("training:", " ".join(command[1:]), f"(log: {log.relative_to(ROOT)})", flush=True)
    started = time.monotonic()
    with open(log, "w") as output:
        result = subprocess.run(
            command,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
    if result.returncode != 0:
        print("\n".join(log.read_text(errors="replace").splitlines()[-40:]), file=sys.stderr)
        raise SystemExit(f"training failed (exit {result.returncode}); full log: {log}")
    model = MODELS / f"{name}.tar.gz"
    size = model.stat().st_size / 1e6
    print(f"trained {model.relative_to(ROOT)} in {time.monotonic() - started:.0f} s ({size:.1f} MB)")
    return model


def main() -> int:
    parser = argparse.ArgumentParser(description="Train the assistant if anything changed.")
    parser.add_argument("--print-current", action="store_true", help="print the current model path or fail")
    parser.add_argument("--list", action="store_true", help="list trained models, newest first")
    args, extra = parser.parse_known_args()
    if args.list:
        current = current_model()
        for model in sorted(MODELS.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True):
            mark = "  <- matches the current data" if model == current else ""
            print(f"{model.relative_to(ROOT)}  {model.stat().st_size / 1e6:.1f} MB{mark}")
        return 0
    if args.print_current:
        model = current_model()
        if model is None:
            print("no model for the current data; run `make train`", file=sys.stderr)
            return 1
        print(model)
        return 0
    train(extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
