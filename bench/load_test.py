"""Bounded load test over REST: one instance (make run) and two instances (scaled profile).

    make load-test                     # 20 people x 10 messages, each set-up, at most 120 s each
    make load-test ARGS="--people 50 --messages 20"

Each simulated person is a fresh conversation sending its messages one after another
(the benchmark's realistic mix), all people at once. Afterwards every conversation is
read back from the tracker store (SQLite or PostgreSQL, with SQL, not through Rasa) and
checked: each message stored once, in order, each followed by the assistant's answer.
Set-ups:
  single: action server + one `rasa run`, SQLite tracker store, in-memory lock store;
  scaled: action server + two `rasa run`, PostgreSQL + Redis lock store, behind nginx.
The per-sender rate limit stays on (its default allows these message rates).
Writes bench/results/load.json and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Tuple

import aiohttp
import sqlalchemy as sa

from bench.run_bench import CONVERSATION, RESULTS, peak_rss_mb, percentile
from devstack.local_servers import Server, action_server, embedded_endpoints, rasa_server
from devstack.scaled_stack import Nginx, Postgres, Redis, rasa_instance, scaled_env
from scripts.train_model import current_model

FAILURE_TEXTS = (
    "can't reach my memory",
    "something went wrong on my side",
    "can't look that up",
    "faster than I can read",
)


async def person(
    session: aiohttp.ClientSession,
    url: str,
    headers: Dict[str, str],
    messages: int,
    deadline: float,
    result: Dict[str, Any],
) -> None:
    sender = "load-" + uuid.uuid4().hex
    result["senders"][sender] = 0
    for number in range(messages):
        if time.monotonic() > deadline:
            return
        text = CONVERSATION[number % len(CONVERSATION)]
        started = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": text}, headers=headers) as answer:
                body = await answer.json(content_type=None)
            reply = " ".join(m.get("text") or "" for m in body or [])
            if answer.status != 200 or not body or any(f in reply for f in FAILURE_TEXTS):
                result["errors"] += 1
            else:
                result["senders"][sender] += 1
        except Exception:  # noqa: BLE001 (counted)
            result["errors"] += 1
        result["latencies"].append(time.perf_counter() - started)


async def run_load(url: str, headers: Dict[str, str], people: int, messages: int, time_limit: float) -> Dict[str, Any]:
    result: Dict[str, Any] = {"latencies": [], "errors": 0, "senders": {}}
    deadline = time.monotonic() + time_limit
    started = time.monotonic()
    connector = aiohttp.TCPConnector(limit=people)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=90)) as session:
        await asyncio.gather(*(person(session, url, headers, messages, deadline, result) for _ in range(people)))
    result["seconds"] = time.monotonic() - started
    return result


def verify(db_url: str, answered: Dict[str, int]) -> Tuple[int, List[str]]:
    """Checks each conversation in the tracker store; returns (stored user messages, problems)."""
    engine = sa.create_engine(db_url)
    problems, stored = [], 0
    with engine.connect() as connection:
        for sender, count in answered.items():
            rows = connection.execute(
                sa.text("select type_name from events where sender_id = :s order by id"), {"s": f"rest:{sender}"}
            ).all()
            kinds = "".join({"user": "u", "bot": "b"}.get(r[0], "") for r in rows)
            stored += kinds.count("u")
            if kinds.count("u") != count:
                problems.append(f"{sender}: {count} answered, {kinds.count('u')} stored")
            elif count and ("uu" in kinds or not kinds.endswith("b")):
                problems.append(f"{sender}: a message without its answer ({kinds})")
    engine.dispose()
    return stored, problems


def summarise(name: str, result: Dict[str, Any], stored: int, problems: List[str], rss: Dict[str, float]) -> Dict:
    latencies = result["latencies"]
    return {
        "setup": name,
        "requests": len(latencies),
        "errors": result["errors"],
        "messages_per_second": round(len(latencies) / result["seconds"], 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "answered": sum(result["senders"].values()),
        "stored_user_messages": stored,
        "lost_or_duplicated": len(problems),
        "problems": problems[:10],
        "peak_rss_mb": rss,
    }


def single(model: Path, args: argparse.Namespace, workdir: Path) -> Dict[str, Any]:
    db = workdir / "single.db"
    servers = [action_server(workdir, name="single-actions")]
    try:
        endpoints = workdir / "endpoints.yml"
        endpoints.write_text(embedded_endpoints(servers[0].port, db))
        rasa = rasa_server(model, endpoints, workdir, name="single-rasa")
        servers.append(rasa)
        port = rasa.port
        rasa.wait_until_ready(f"http://127.0.0.1:{port}/webhooks/rest/", timeout=240)
        result = asyncio.run(
            run_load(f"http://127.0.0.1:{port}/webhooks/rest/webhook", {}, args.people, args.messages, args.time_limit)
        )
        rss = {"rasa": peak_rss_mb(rasa.process.pid), "actions": peak_rss_mb(servers[0].process.pid)}
    finally:
        for server in reversed(servers):
            server.stop()
    return summarise("single (SQLite)", result, *verify(f"sqlite:///{db}", result["senders"]), rss)


def scaled(model: Path, args: argparse.Namespace, workdir: Path) -> Dict[str, Any]:
    postgres = Postgres()
    servers: List[Server] = []
    try:
        redis = Redis(workdir)
        servers.append(redis)
        actions = action_server(workdir, name="scaled-actions")
        servers.append(actions)
        env = scaled_env(postgres, redis, f"http://127.0.0.1:{actions.port}/webhook")
        rasas = [rasa_instance(model, workdir, env) for _ in range(args.instances)]
        servers += rasas
        for rasa in rasas:
            rasa.wait_until_ready(f"http://127.0.0.1:{rasa.port}/webhooks/rest/", timeout=240)
        token = secrets.token_hex(16)
        nginx = Nginx(workdir, [r.port for r in rasas], token)
        servers.append(nginx)
        result = asyncio.run(
            run_load(
                f"http://127.0.0.1:{nginx.port}/webhooks/rest/webhook",
                {"Authorization": f"Bearer {token}"},
                args.people,
                args.messages,
                args.time_limit,
            )
        )
        rss = {f"rasa_{i + 1}": peak_rss_mb(r.process.pid) for i, r in enumerate(rasas)}
        rss["actions"] = peak_rss_mb(servers[1].process.pid)
        db_url = f"postgresql://{postgres.user}:{postgres.password}@127.0.0.1:{postgres.port}/{postgres.database}"
        return summarise(
            f"scaled ({args.instances} instances, PostgreSQL + Redis, nginx)",
            result,
            *verify(db_url, result["senders"]),
            rss,
        )
    finally:
        for server in reversed(servers):
            server.stop()
        postgres.remove()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--messages", type=int, default=10, help="messages per person (at most 20: rate limit)")
    parser.add_argument("--time-limit", type=float, default=120, help="seconds per set-up at most")
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--setups", default="single,scaled")
    args = parser.parse_args()
    model = current_model()
    if model is None:
        sys.exit("error: no model for the current data; run `make train`")
    workdir = Path(tempfile.mkdtemp(prefix="cramp-load-"))
    report = {"people": args.people, "messages_each": args.messages, "results": []}
    for name in args.setups.split(","):
        print(f"load test: {name} ...", flush=True)
        report["results"].append({"single": single, "scaled": scaled}[name](model, args, workdir))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{args.people} people x {args.messages} messages")
    print(f"{'set-up':<52}{'msg/s':>7}{'p50':>8}{'p95':>8}{'p99':>8}{'errors':>8}{'lost':>6}")
    for r in report["results"]:
        print(
            f"{r['setup']:<52}{r['messages_per_second']:>7}{r['p50_ms']:>8}{r['p95_ms']:>8}{r['p99_ms']:>8}"
            f"{r['errors']:>8}{r['lost_or_duplicated']:>6}"
        )
        print(f"{'':<52}answered {r['answered']}, stored {r['stored_user_messages']}, peak RSS MB {r['peak_rss_mb']}")
    print(f"written: {RESULTS / 'load.json'}")
    return 0 if all(r["lost_or_duplicated"] == 0 and r["errors"] == 0 for r in report["results"]) else 1


if __name__ == "__main__":
    sys.exit(main())
