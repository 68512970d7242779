"""A quick before/after figure for one change: single-person latency and latency by turn.

    .venv/bin/python -m bench.turns [--model models/X.tar.gz] [--label after]

Starts the action server and `rasa run` as `make run` does (project tracker store on a
temporary SQLite file, rate limit off: the limiter is not what is measured), then sends
5 conversations of the benchmark's message mix one after another (p50/p95), and one
120-turn conversation (median latency around turns 1, 20 and 100). Prints one JSON line.
The full comparison with stock Rasa is bench/run_bench.py (`make bench`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import uuid
from pathlib import Path

import aiohttp

from bench.run_bench import CONVERSATION, first_answer, percentile, send, turn_latencies
from devstack.local_servers import action_server, embedded_endpoints, rasa_server
from scripts.train_model import current_model


async def single_person(url: str, conversations: int = 5) -> dict:
    latencies = []
    async with aiohttp.ClientSession() as session:
        for _ in range(conversations):
            sender = "quick-" + uuid.uuid4().hex
            for text in CONVERSATION:
                latencies.append(await send(session, url, sender, text))
    return {
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="default: the model for the current data")
    parser.add_argument("--label", default="")
    parser.add_argument(
        "--store",
        help="a tracker store type instead of endpoints.yml's stores (SQL for code older than the project's store)",
    )
    args = parser.parse_args()
    model = args.model or current_model()
    if model is None:
        sys.exit("error: no model for the current data; run `make train`")
    workdir = Path(tempfile.mkdtemp(prefix="cramp-turns-"))
    servers = [action_server(workdir)]
    try:
        endpoints = workdir / "endpoints.yml"
        endpoints.write_text(embedded_endpoints(servers[0].port, workdir / "c.db", args.store))
        servers.append(rasa_server(model, endpoints, workdir, {"CRAMP_COACH_RATE_LIMIT": "0"}))
        url = f"http://127.0.0.1:{servers[1].port}/webhooks/rest/webhook"
        asyncio.run(first_answer(url))
        figures = {
            "label": args.label,
            "model": Path(model).name,
            **asyncio.run(single_person(url)),
            **asyncio.run(turn_latencies(url)),
        }
    finally:
        for server in servers:
            server.stop()
    figures["turn_100_over_turn_1"] = round(figures["turn_100_ms"] / figures["turn_1_ms"], 2)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
