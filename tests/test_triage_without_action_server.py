"""Triage answers are domain responses: they arrive with the action server stopped."""

import uuid
from pathlib import Path

import pytest
import yaml

from helpers import Assistant, texts

pytestmark = [pytest.mark.model, pytest.mark.servers]
CASES = yaml.safe_load((Path(__file__).resolve().parent / "triage_cases.yml").read_text())["cases"]


@pytest.fixture(scope="module")
def assistant_without_actions(trained_model, tmp_path_factory):
    running = Assistant(trained_model, tmp_path_factory.mktemp("no_actions"), with_action_server=False)
    yield running
    running.stop()


def test_every_emergency_message_gets_the_emergency_answer(assistant_without_actions):
    missed = []
    for case in (c for c in CASES if c["level"] == "emergency"):
        sender = uuid.uuid4().hex
        reply = assistant_without_actions.send(sender, case["text"])
        level = assistant_without_actions.tracker(f"rest:{sender}")["slots"]["triage_level"]
        if "This could be an emergency" not in texts(reply) or level != "emergency":
            missed.append(case["text"])
    assert not missed


def test_urgent_answer_arrives_even_though_the_question_cannot_be_answered(assistant_without_actions):
    sender = uuid.uuid4().hex
    reply = assistant_without_actions.send(sender, "my right calf is red, swollen and warm, can I take magnesium?")
    assert "blood clot" in texts(reply)
    assert assistant_without_actions.tracker(f"rest:{sender}")["slots"]["triage_level"] == "urgent"
