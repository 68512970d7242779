"""When parts fail, the person still gets an answer: never silence, never a conversation without its past.

Triage answers are domain responses, so they arrive without the action server; a
question that needs the action server gets a short apology, within the action timeout
(Rasa's own would wait 300 s). Servers that cannot start say why and stop.
"""

import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from scripts.evaluate import TUNING_MARKER

from helpers import ROOT, SERVER_ENV, VENV_BIN, Assistant, free_port, texts

pytestmark = [pytest.mark.model, pytest.mark.servers]
# The suite's curated part: every emergency there must escalate through the whole system.
# The part added for the learned detector is scored with floors by `make evaluate`.
CASES = yaml.safe_load((Path(__file__).resolve().parent / "triage_cases.yml").read_text().split(TUNING_MARKER)[0])[
    "cases"
]
ACTION_TIMEOUT = 2
EMERGENCY_NUMBERS = "112 (Europe and many other countries), 911 (US and Canada) or 999 (UK)"
APOLOGY = "Sorry, I can't look that up right now"


class HangingActionServer(ThreadingHTTPServer):
    """Accepts action calls and never answers in time (an overloaded or stuck action server)."""

    daemon_threads = True

    def __init__(self):
        class Hang(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                time.sleep(30)

            def log_message(self, *_):
                pass

        super().__init__(("127.0.0.1", free_port()), Hang)
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def hanging_action_server():
    server = HangingActionServer()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def assistant_with_broken_actions(trained_model, tmp_path_factory, hanging_action_server):
    running = Assistant(
        trained_model,
        tmp_path_factory.mktemp("broken_actions"),
        with_action_server=False,
        action_port=hanging_action_server.server_address[1],
        env={"CRAMP_COACH_ACTION_TIMEOUT": str(ACTION_TIMEOUT)},
    )
    yield running
    running.stop()


def test_every_emergency_message_gets_the_emergency_answer(assistant_with_broken_actions):
    missed = []
    for case in (c for c in CASES if c["level"] == "emergency"):
        sender = uuid.uuid4().hex
        reply = assistant_with_broken_actions.send(sender, case["text"])
        level = assistant_with_broken_actions.tracker(f"rest:{sender}")["slots"]["triage_level"]
        if EMERGENCY_NUMBERS not in texts(reply) or level != "emergency":
            missed.append(case["text"])
    assert missed == []


def test_a_stuck_action_server_costs_the_timeout_then_an_apology_after_the_triage_answer(assistant_with_broken_actions):
    sender = uuid.uuid4().hex
    started = time.monotonic()
    reply = assistant_with_broken_actions.send(sender, "my right calf is red, swollen and warm, can I take magnesium?")
    elapsed = time.monotonic() - started
    assert ACTION_TIMEOUT <= elapsed < ACTION_TIMEOUT + 8
    assert "blood clot" in reply[0]["text"]
    assert APOLOGY in texts(reply)
    assert assistant_with_broken_actions.tracker(f"rest:{sender}")["slots"]["triage_level"] == "urgent"


def test_a_stopped_action_server_gets_an_apology_and_the_conversation_goes_on(
    assistant_with_broken_actions, hanging_action_server
):
    hanging_action_server.shutdown()
    hanging_action_server.server_close()  # now nothing listens: connection refused
    sender = uuid.uuid4().hex
    reply = assistant_with_broken_actions.send(sender, "why do my legs cramp at night?")
    assert APOLOGY in texts(reply)
    events = assistant_with_broken_actions.tracker(f"rest:{sender}")["events"]
    assert [e["text"] for e in events if e["event"] == "bot"] == [reply[0]["text"]]  # stored like any answer
    assert "not sure I understood" not in texts(assistant_with_broken_actions.send(sender, "hello"))


def rasa_run(args, workdir, env=None, timeout=120):
    """`rasa run` expected to stop by itself: (exit code, log)."""
    completed = subprocess.run(
        [str(VENV_BIN / "rasa"), "run", "--interface", "127.0.0.1", "--port", str(free_port()), *args],
        cwd=workdir,
        env={**SERVER_ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return completed.returncode, completed.stdout + completed.stderr


def test_an_unreachable_conversation_database_stops_the_start_with_a_clear_error(trained_model, tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "tracker_store:\n  type: addons.server.tracker_store.FailClosedSQLTrackerStore\n  dialect: postgresql\n"
        f"  url: 127.0.0.1\n  port: {free_port()}\n  db: cramp\n  username: coach\n  password: pw-not-in-logs\n"
    )
    code, log = rasa_run(
        ["--model", str(trained_model), "--endpoints", str(endpoints)],
        tmp_path,
        env={"CRAMP_COACH_DB_STARTUP_WAIT": "2"},
    )
    assert code != 0
    assert "cannot reach the conversation database" in log
    assert "pw-not-in-logs" not in log


def test_a_corrupt_model_stops_the_start_with_a_clear_error(tmp_path):
    corrupt = tmp_path / "cramp-coach-corrupt.tar.gz"
    corrupt.write_bytes(b"\x1f\x8b not really a model" * 100)
    code, log = rasa_run(
        [
            "--model",
            str(corrupt),
            "--endpoints",
            str(ROOT / "endpoints.yml"),
            "--credentials",
            str(ROOT / "credentials.yml"),
        ],
        tmp_path,
    )
    assert code == 78
    assert "no usable model" in log
