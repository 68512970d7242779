"""Shared fixtures: knowledge, spaCy, the model trained once per run, real servers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from helpers import ROOT, SERVER_ENV, Assistant

FIGURES: Dict[str, List[str]] = {}


def record_figure(section: str, line: str) -> None:
    """A measured figure, printed in the test run's summary."""
    FIGURES.setdefault(section, []).append(line)


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: D103
    if not FIGURES:
        return
    terminalreporter.section("Cramp Coach figures")
    for section, lines in FIGURES.items():
        terminalreporter.write_line(f"{section}:")
        for line in lines:
            terminalreporter.write_line(f"  {line}")


@pytest.fixture(scope="session")
def knowledge():
    from actions.knowledge import load_knowledge

    return load_knowledge()


@pytest.fixture(scope="session")
def nlp():
    import spacy

    return spacy.load("en_cramp_coach")


@pytest.fixture(scope="session")
def red_flag_rules(nlp):
    from addons.model.red_flags import load_rules

    return load_rules(nlp)


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model for the current data; trained here only if `make train` did not."""
    train = [sys.executable, "-m", "scripts.train_model"]
    subprocess.run(train, cwd=ROOT, env=SERVER_ENV, check=True, stdout=subprocess.DEVNULL)
    current = subprocess.run(
        train + ["--print-current"],
        cwd=ROOT,
        env=SERVER_ENV,
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(current.stdout.strip())


@pytest.fixture(scope="session")
def assistant(trained_model, tmp_path_factory) -> Iterator[Assistant]:
    """The assistant as people use it: rasa run + action server, shared by the session."""
    running = Assistant(trained_model, tmp_path_factory.mktemp("assistant"))
    yield running
    running.stop()
