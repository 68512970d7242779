"""The one launcher behind `make run`, `make shell` and `make run-scaled`.

`run`: the action server, `rasa run` and the web page on this machine (the README's first
command); `shell`: a chat in the terminal; `scaled`: PostgreSQL, Redis, several `rasa run`
and nginx (the scaled-out profile). Each picks the model (MODEL=... to roll back, otherwise
the one for the current data, trained first when there is none), starts its servers
through devstack.local_servers, prints how to talk to the assistant, and stops everything
it started on Ctrl-C or when one of them dies.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import List

from devstack.local_servers import ROOT, SERVER_ENV, VENV_BIN, Server, action_server, answers, rasa_server, web_server
from devstack.scaled_stack import Nginx, Postgres, Redis, rasa_instance, scaled_env

LOGS = ROOT / "build" / "logs"


def progress(line: str) -> None:
    print(f"==> {line}", flush=True)


def chosen_model(train_if_missing: bool) -> Path:
    """MODEL from the environment (a rollback), else the model for the current data."""
    from scripts.train_model import current_model, train

    if os.environ.get("MODEL"):
        model = Path(os.environ["MODEL"]).resolve()
        if not model.is_file():
            sys.exit(f"error: no model file {model} (see: make models)")
        return model
    model = current_model()
    if model is None:
        if not train_if_missing:
            sys.exit("error: no model for the current data; run `make train`")
        progress("training a model for the current data (about 4 min on 2 cores; log: build/logs/train.log)")
        model = train([])
    return model


def keep_running(log_dir: Path, must_all_live: List[Server], enough_alive: List[Server]) -> int:
    """Block until Ctrl-C (0) or until a server the stack cannot do without stops (1)."""
    try:
        while all(s.process.poll() is None for s in must_all_live) and any(
            s.process.poll() is None for s in enough_alive
        ):
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    print(f"a server stopped; see the logs in {log_dir}/", file=sys.stderr)
    return 1


def run() -> int:
    """The embedded profile: SQLite conversations, one Rasa, the action server, the web page."""
    host = os.environ.get("CRAMP_COACH_HOST", "127.0.0.1")
    rasa_port = int(os.environ.get("RASA_PORT", "5005"))
    model = chosen_model(train_if_missing=True)
    credentials = "credentials-telegram.yml" if os.environ.get("TELEGRAM_TOKEN") else "credentials.yml"
    # The HTTP API (trackers, model control) only ever behind a token.
    token = os.environ.get("RASA_AUTH_TOKEN")
    api = ["--enable-api", "--auth-token", token] if token else []
    LOGS.mkdir(parents=True, exist_ok=True)
    progress(f"starting the servers (model {model.name}; logs in build/logs/)")
    with ExitStack() as stack:
        actions = action_server(LOGS, port=int(os.environ.get("ACTION_SERVER_PORT", "5055")))
        stack.callback(actions.stop)
        rasa_url = f"http://{host}:{rasa_port}"
        web = web_server(LOGS, rasa_url, host=host, port=int(os.environ.get("WEB_PORT", "8080")))
        stack.callback(web.stop)
        rasa = rasa_server(
            model, ROOT / "endpoints.yml", LOGS, port=rasa_port, host=host, credentials=ROOT / credentials, extra=api
        )
        stack.callback(rasa.stop)
        rasa.wait_until_ready(f"{rasa_url}/webhooks/rest/", timeout=240)
        print(
            f"""
Cramp Coach is running.
  Web:    http://{host}:{web.port}/   (the chat widget on a demo page)
  REST:   curl -s {rasa_url}/webhooks/rest/webhook -H 'Content-Type: application/json' \\
               -d '{{"sender": "me", "message": "I have a cramp right now"}}'
  Shell:  make shell   (in another terminal)
Press Ctrl-C to stop.""",
            flush=True,
        )
        return keep_running(LOGS, must_all_live=[actions, web, rasa], enough_alive=[rasa])


def shell() -> int:
    """`rasa shell` in this terminal, with an action server for the session unless one answers."""
    model = chosen_model(train_if_missing=False)
    LOGS.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        if not answers("http://127.0.0.1:5055/health"):
            progress("starting the action server for this session (log: build/logs/actions.log)")
            stack.callback(action_server(LOGS, port=5055).stop)
        command = [str(VENV_BIN / "rasa"), "shell", "--model", str(model), "--endpoints", "endpoints.yml"]
        return subprocess.run(command, cwd=ROOT, env=SERVER_ENV).returncode


def scaled() -> int:
    """Throw-away PostgreSQL and Redis, RASA_INSTANCES `rasa run`, the action server and nginx."""
    model = chosen_model(train_if_missing=False)
    instances = int(os.environ.get("RASA_INSTANCES", "2"))
    port = int(os.environ.get("SCALED_PORT", "8088"))
    rest_token = os.environ.get("CRAMP_COACH_REST_TOKEN") or secrets.token_urlsafe(24)
    logs = LOGS / "scaled"
    logs.mkdir(parents=True, exist_ok=True)
    public_url = f"http://127.0.0.1:{port}"
    progress(f"starting PostgreSQL, Redis, {instances} Rasa instances and nginx (logs in {logs}/)")
    with ExitStack() as stack:
        postgres = Postgres()
        stack.callback(postgres.remove)
        redis = Redis(logs)
        stack.callback(redis.stop)
        actions = action_server(logs)
        stack.callback(actions.stop)
        env = {
            **scaled_env(postgres, redis, f"http://127.0.0.1:{actions.port}/webhook"),
            "CRAMP_COACH_ALLOWED_ORIGINS": public_url,
        }
        rasas = []
        for _ in range(instances):
            rasas.append(rasa_instance(model, logs, env))
            stack.callback(rasas[-1].stop)
        web = web_server(logs, public_url)
        stack.callback(web.stop)
        for rasa in rasas:
            rasa.wait_until_ready(f"http://127.0.0.1:{rasa.port}/webhooks/rest/", timeout=240)
        nginx = Nginx(logs, [r.port for r in rasas], rest_token, port=port, web_port=web.port)
        stack.callback(nginx.stop)
        print(
            f"""
Cramp Coach, scaled out: {instances} Rasa instances, PostgreSQL :{postgres.port}, Redis :{redis.port}, nginx.
  Web:   {public_url}/
  REST:  curl -s {public_url}/webhooks/rest/webhook -H 'Authorization: Bearer {rest_token}' \\
              -H 'Content-Type: application/json' -d '{{"sender": "me", "message": "hi"}}'
  Logs:  {logs}/
Stop one instance (kill its pid) to watch the others carry on. Ctrl-C stops everything.""",
            flush=True,
        )
        return keep_running(logs, must_all_live=[redis, actions, web, nginx], enough_alive=rasas)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", choices=["run", "shell", "scaled"])
    profile = parser.parse_args().profile
    # A kill or a closed terminal unwinds like Ctrl-C, so every server started is stopped.
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, lambda *_: sys.exit(0))
    try:
        return {"run": run, "shell": shell, "scaled": scaled}[profile]()
    except KeyboardInterrupt:  # during start-up: everything started is stopped on the way out
        return 130


if __name__ == "__main__":
    sys.exit(main())
