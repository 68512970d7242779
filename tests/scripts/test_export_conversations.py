"""The exporter on a real SQLite tracker store filled by a real conversation."""

import subprocess
import sys
import uuid

import pytest
import yaml

from scripts.export_conversations import scrub

from helpers import ROOT, SERVER_ENV


@pytest.mark.parametrize(
    "text,expected",
    [
        ("my name is Sarah and my calf hurts", "my name is [name] and my calf hurts"),
        ("I'm Tom Baker, why do I cramp?", "I'm [name], why do I cramp?"),
        ("I'm pregnant", "I'm pregnant"),
        ("I'm 80 and get cramps", "I'm 80 and get cramps"),
        ("mail me at sam.j@example.co.uk", "mail me at [email]"),
        ("call +44 7700 900123 please", "call [phone] please"),
        ("my number is 07700900123", "my number is [phone]"),
        ("cramps for 3 weeks", "cramps for 3 weeks"),
    ],
)
def test_personal_data_is_removed(text, expected):
    assert scrub(text) == expected


@pytest.mark.model
@pytest.mark.servers
def test_export_of_a_real_conversation(assistant, tmp_path):
    sender = uuid.uuid4().hex
    for message in [
        "hi",
        "my name is Sarah Jones, my email is sarah@example.com and my phone is +44 7700 900123",
        "why do my legs cramp at night?",
        "/feedback_helpful",
        "blorp snizzle wug",
        "what should I eat?",
        "/feedback_not_helpful",
    ]:
        assistant.send(sender, message)
    out = tmp_path / "exports"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.export_conversations",
            "--db",
            str(assistant.workdir / "conversations.db"),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=SERVER_ENV,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    everything = "".join(p.read_text() for p in out.iterdir())
    for secret in ("Sarah", "Jones", "sarah@example.com", "7700", sender):
        assert secret not in everything
    review = yaml.safe_load((out / "nlu_to_review.yml").read_text())
    assert any("blorp snizzle wug" in block["examples"] for block in review["nlu"])
    stories = yaml.safe_load((out / "test_stories.yml").read_text())["stories"]
    mine = [s for s in stories if any(step.get("user") == "blorp snizzle wug" for step in s["steps"])]
    assert len(mine) == 1
    assert {"action": "action_answer_topic"} in mine[0]["steps"]
    feedback = (out / "feedback.md").read_text()
    assert "| causes_general | 1 | 0 |" in feedback and "| diet | 0 | 1 |" in feedback
