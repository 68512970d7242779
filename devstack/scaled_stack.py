"""The scaled-out profile on one machine: PostgreSQL, Redis, N `rasa run`, one action server, nginx.

Rasa's own way to scale out: several `rasa run` instances share a SQL tracker store
(PostgreSQL) and a Redis lock store, behind a load balancer (nginx). Used by
`make run-scaled`, the multi-instance tests and the load test (bench/load_test.py).
Every server listens on 127.0.0.1; PostgreSQL and Redis get a random password.

PostgreSQL refuses to run as root, so as root its processes run as the `postgres`
user that Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

from devstack.local_servers import ROOT, Server, free_port, rasa_server

ENDPOINTS_SCALED = ROOT / "endpoints-scaled.yml"
NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf.template"


def _as_postgres_user(command: List[str]) -> List[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run scripts/system_packages.sh scaled")
    return found[-1]


class Postgres:
    """A throw-away PostgreSQL cluster on 127.0.0.1 with one password-protected database."""

    def __init__(self, port: Optional[int] = None, database: str = "cramp_coach", user: str = "cramp_coach"):
        self.port = port or free_port()
        self.database, self.user = database, user
        self.password = secrets.token_hex(16)
        # Not under pytest's private tmp dirs: the postgres user must be able to enter it.
        self.directory = Path(tempfile.mkdtemp(prefix="cramp-coach-pg-"))
        self.directory.chmod(0o755)
        password_file = self.directory / "password"
        password_file.write_text(self.password)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
            shutil.chown(password_file, "postgres", "postgres")
        self._run(
            [
                _postgres_bin("initdb"),
                "-D",
                str(self.data),
                "-U",
                self.user,
                "--pwfile",
                str(password_file),
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "-E",
                "UTF8",
                "--no-instructions",
            ]
        )
        password_file.unlink()
        self.start()
        self._run(
            [_postgres_bin("createdb"), "-h", str(self.directory), "-p", str(self.port), "-U", self.user, self.database]
        )

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def _run(self, command: List[str]) -> None:
        subprocess.run(_as_postgres_user(command), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -c unix_socket_directories={self.directory} -p {self.port}"
        self._run(
            [
                _postgres_bin("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.directory / "postgres.log"),
                "-o",
                options,
                "-w",
                "start",
            ]
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            _as_postgres_user([_postgres_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)

    def count_events(self) -> Dict[str, int]:
        """Stored events per conversation, read with psql (independent of Rasa)."""
        out = subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                self.database,
                "-At",
                "-F",
                "\t",
                "-c",
                "select sender_id, count(*) from events group by sender_id",
            ],
            env={**os.environ, "PGPASSWORD": self.password},
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return {sender: int(count) for sender, count in (line.split("\t") for line in out.splitlines() if line)}


class Redis(Server):
    """redis-server on 127.0.0.1 with a password and no persistence (locks only)."""

    def __init__(self, log_dir: Path, port: Optional[int] = None, password: Optional[str] = None):
        self.port = port or free_port()
        self.password = password or secrets.token_hex(16)
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server is not installed: run scripts/system_packages.sh scaled")
        super().__init__(
            f"redis_{self.port}",
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--requirepass",
                self.password,
            ],
            log_dir,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if (
                subprocess.run(
                    ["redis-cli", "-p", str(self.port), "--no-auth-warning", "-a", self.password, "ping"],
                    capture_output=True,
                    text=True,
                ).stdout.strip()
                == "PONG"
            ):
                return
            time.sleep(0.2)
        raise RuntimeError(f"redis did not start:\n{self.log_tail()}")


def scaled_env(postgres: Postgres, redis: Redis, action_url: str) -> Dict[str, str]:
    """The environment endpoints-scaled.yml reads its addresses and secrets from."""
    return {
        "CRAMP_COACH_ACTION_URL": action_url,
        "CRAMP_COACH_DB_HOST": "127.0.0.1",
        "CRAMP_COACH_DB_PORT": str(postgres.port),
        "CRAMP_COACH_DB_NAME": postgres.database,
        "CRAMP_COACH_DB_USER": postgres.user,
        "CRAMP_COACH_DB_PASSWORD": postgres.password,
        "CRAMP_COACH_REDIS_HOST": "127.0.0.1",
        "CRAMP_COACH_REDIS_PORT": str(redis.port),
        "CRAMP_COACH_REDIS_PASSWORD": redis.password,
    }


class Nginx(Server):
    """nginx balancing the Rasa instances: REST and Telegram round robin, socket.io sticky by address."""

    def __init__(
        self,
        log_dir: Path,
        rasa_ports: List[int],
        rest_token: str,
        port: Optional[int] = None,
        web_port: Optional[int] = None,
    ):
        self.port = port or free_port()
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            raise RuntimeError("nginx is not installed: run scripts/system_packages.sh scaled")
        prefix = Path(tempfile.mkdtemp(prefix="cramp-coach-nginx-"))
        prefix.chmod(0o755)  # nginx's workers (nobody, when started as root) use its temp dirs
        config = NGINX_TEMPLATE.read_text()
        for key, value in {
            "PORT": str(self.port),
            "PREFIX": str(prefix),
            "RASA_SERVERS": "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in rasa_ports),
            "WEB_LOCATION": f"proxy_pass http://127.0.0.1:{web_port};" if web_port else "return 404;",
            "REST_TOKEN": rest_token,
        }.items():
            config = config.replace("{{" + key + "}}", value)
        (prefix / "nginx.conf").write_text(config)
        super().__init__(
            f"nginx_{self.port}",
            [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")],
            log_dir,
        )
        self.wait_until_ready(f"http://127.0.0.1:{self.port}/health", timeout=20)


def rasa_instance(
    model: Path, log_dir: Path, env: Dict[str, str], port: Optional[int] = None, extra: Optional[List[str]] = None
) -> Server:
    """One `rasa run` of the scaled profile (REST and socket.io; API only with a token)."""
    return rasa_server(model, ENDPOINTS_SCALED, log_dir, env, port=port, extra=extra or ())
