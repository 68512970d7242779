"""Local server processes for tests and the benchmark: start, wait, log, stop.

Everything listens on 127.0.0.1 and every process is stopped for sure.
"""

from __future__ import annotations

import copy
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
SERVER_ENV = {
    **os.environ,
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "RASA_TELEMETRY_ENABLED": "false",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    """True when something answers this URL (URLError and connection errors are OSErrors)."""
    try:
        urllib.request.urlopen(url, timeout=2)
        return True
    except OSError:
        return False


class Server:
    """One subprocess with its log file; stopped for sure at the end."""

    def __init__(self, name: str, command: List[str], log_dir: Path, env: Optional[Dict[str, str]] = None):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "w")
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**SERVER_ENV, **(env or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_until_ready(self, url: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            if answers(url):
                return
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} not ready after {timeout} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def action_server(log_dir: Path, port: Optional[int] = None, name: str = "actions") -> Server:
    """devstack.action_server on 127.0.0.1, returned once it answers; `.port` is its port."""
    port = port or free_port()
    server = Server(name, [str(VENV_BIN / "python"), "-m", "devstack.action_server", "--port", str(port)], log_dir)
    server.port = port  # type: ignore[attr-defined]
    server.wait_until_ready(f"http://127.0.0.1:{port}/health")
    return server


def rasa_server(
    model: Path,
    endpoints: Path,
    log_dir: Path,
    env: Optional[Dict[str, str]] = None,
    port: Optional[int] = None,
    credentials: Path = ROOT / "credentials.yml",
    extra: Sequence[str] = (),
    name: Optional[str] = None,
    host: str = "127.0.0.1",
) -> Server:
    """`rasa run` on host (not waited for); `.port` is its port."""
    port = port or free_port()
    server = Server(
        name or f"rasa_{port}",
        [
            str(VENV_BIN / "rasa"),
            "run",
            "--model",
            str(model),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(credentials),
            "--interface",
            host,
            "--port",
            str(port),
            *extra,
        ],
        log_dir,
        env,
    )
    server.port = port  # type: ignore[attr-defined]
    return server


def web_server(
    log_dir: Path, rasa_url: str, host: str = "127.0.0.1", port: Optional[int] = None, name: str = "web"
) -> Server:
    """devstack.web_server (the demo page and the widget, pointing at rasa_url), returned once it answers."""
    port = port or free_port()
    command = [str(VENV_BIN / "python"), "-m", "devstack.web_server", "--host", host, "--port", str(port)]
    server = Server(name, [*command, "--rasa-url", rasa_url], log_dir)
    server.port = port  # type: ignore[attr-defined]
    server.url = f"http://{host}:{port}"  # type: ignore[attr-defined]
    server.wait_until_ready(server.url)  # type: ignore[attr-defined]
    return server


def embedded_endpoints(action_port: int, db: Path, tracker_store_type: Optional[str] = None) -> str:
    """endpoints.yml as `make run` uses it, with this action server and this SQLite file.

    `tracker_store_type` (e.g. Rasa's "SQL") replaces the project's stores, for comparisons.
    """
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{action_port}/webhook"
    endpoints["tracker_store"]["db"] = str(db)
    if tracker_store_type:
        endpoints["tracker_store"]["type"] = tracker_store_type
        endpoints.pop("lock_store", None)
    return yaml.safe_dump(endpoints)


class InProcessAssistant:
    """The trained model's Agent in this process (as `rasa run` builds it), on one event loop.

    With an action server URL custom actions run for real; without one they answer with
    the apology, which is enough where only the Rasa side matters (NLU, rules, slots).
    """

    def __init__(self, model: Path, action_url: Optional[str] = None, remember_parses: bool = False) -> None:
        """remember_parses: parse each distinct text once (NLU reads no conversation state),
        for tests that send the same texts into many conversations.
        """
        import asyncio
        import logging

        from rasa.core.agent import load_agent
        from rasa.core.utils import AvailableEndpoints
        from rasa.utils.common import configure_logging_and_warnings
        from rasa.utils.endpoints import EndpointConfig
        from rasa.utils.log_utils import configure_structlog

        import addons  # noqa: F401 (the Rasa-side patches `rasa run` installs)

        configure_logging_and_warnings(logging.WARNING)
        configure_structlog(logging.WARNING)  # the debug log would print every message
        self.loop = asyncio.new_event_loop()
        endpoints = AvailableEndpoints(action=EndpointConfig(url=action_url)) if action_url else None
        self.agent = self.loop.run_until_complete(load_agent(model_path=str(model), endpoints=endpoints))
        self._parses: Optional[Dict[str, Dict[str, Any]]] = {} if remember_parses else None

    def send(self, sender: str, text: str) -> Any:
        """One turn; returns (tracker after it, the bot's replies)."""
        from rasa.core.channels.channel import UserMessage

        parse = None
        if self._parses is not None:
            if text not in self._parses:
                self._parses[text] = self.parse(text)
            parse = copy.deepcopy(self._parses[text])
        message = UserMessage(text, None, sender, parse_data=parse)
        replies = self.loop.run_until_complete(self.agent.handle_message(message)) or []
        return self.loop.run_until_complete(self.agent.tracker_store.retrieve(sender)), replies

    def parse(self, text: str) -> Dict[str, Any]:
        return self.loop.run_until_complete(self.agent.parse_message(text))

    def close(self) -> None:
        self.loop.close()
