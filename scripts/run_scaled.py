"""`make run-scaled`: the scaled-out profile on this machine, to try it or watch it fail over.

Starts a throw-away PostgreSQL and Redis (random passwords, data gone at exit), the
action server, RASA_INSTANCES (default 2) `rasa run` on endpoints-scaled.yml, the web
page, and nginx in front of them all; prints the URL and the REST token. Ctrl-C stops
everything. In production, run the same endpoints-scaled.yml against your own PostgreSQL
and Redis (README, "Scaling out").
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from local_servers import ROOT, VENV_BIN, Server, action_server, free_port  # noqa: E402
from scaled_stack import Nginx, Postgres, Redis, rasa_instance, scaled_env  # noqa: E402
from train_model import current_model  # noqa: E402


def main() -> int:
    model = current_model()
    if model is None:
        sys.exit("error: no model for the current data; run `make train`")
    instances = int(os.environ.get("RASA_INSTANCES", "2"))
    port = int(os.environ.get("SCALED_PORT", "8088"))
    rest_token = os.environ.get("CRAMP_COACH_REST_TOKEN") or secrets.token_urlsafe(24)
    logs = ROOT / "build" / "logs" / "scaled"
    logs.mkdir(parents=True, exist_ok=True)
    public_url = f"http://127.0.0.1:{port}"
    servers = []
    postgres = None
    try:
        postgres = Postgres()
        servers.append(Redis(logs))
        actions = action_server(logs)
        servers.append(actions)
        env = {**scaled_env(postgres, servers[0], f"http://127.0.0.1:{actions.port}/webhook"),
               "CRAMP_COACH_ALLOWED_ORIGINS": public_url}
        rasas = [rasa_instance(model, logs, env) for _ in range(instances)]
        servers += rasas
        web_port = free_port()
        servers.append(Server("web", [str(VENV_BIN / "python"), str(ROOT / "scripts" / "serve_web.py"),
                                      "--port", str(web_port), "--rasa-url", public_url], logs))
        for rasa in rasas:
            rasa.wait_until_ready(f"http://127.0.0.1:{rasa.port}/webhooks/rest/", timeout=240)
        servers.append(Nginx(logs, [r.port for r in rasas], rest_token, port=port, web_port=web_port))
        print(f"""
Cramp Coach, scaled out: {instances} Rasa instances, PostgreSQL :{postgres.port}, Redis :{servers[0].port}, nginx.
  Web:   {public_url}/
  REST:  curl -s {public_url}/webhooks/rest/webhook -H 'Authorization: Bearer {rest_token}' \\
              -H 'Content-Type: application/json' -d '{{"sender": "me", "message": "hi"}}'
  Logs:  {logs}/
Stop one instance (kill its pid) to watch the others carry on. Ctrl-C stops everything.""", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while all(s.process.poll() is None for s in servers if s not in rasas) and any(
                r.process.poll() is None for r in rasas):
            time.sleep(1)
        print("a server stopped; see the logs", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for server in reversed(servers):
            server.stop()
        if postgres is not None:
            postgres.remove()


if __name__ == "__main__":
    sys.exit(main())
