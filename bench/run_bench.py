"""Cramp Coach against a stock Rasa baseline, on this machine, in one run.

The baseline is the same domain, data and action server trained with Rasa's default
config (what `rasa init` writes: empty pipeline and policies, so Rasa fills in its
defaults). Both are trained from scratch with an empty training cache (wall time), then
served as people use them (`rasa run` + REST + SQLite tracker store + the action server;
the project with its own tracker store and its rate limit off),
and measured with the same fixed message mix:
  - cold start: process start to first answer; model size; peak RSS of every process;
  - 1, 10 and 50 concurrent people, each a fresh conversation of a fixed length, rounds
    interleaving project and baseline so a ratio near 1.0 can be told from noise;
  - latency at turn 1, 20 and 100 of one long conversation.
Everything listens on 127.0.0.1; request counts and time are bounded.
Writes bench/results/bench.json and bench/results/bench.png and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import aiohttp
import yaml

from devstack.local_servers import SERVER_ENV as ENV
from devstack.local_servers import VENV_BIN, Server, action_server, embedded_endpoints, rasa_server

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

# A realistic conversation: questions, follow-ups, a red flag, small talk.
CONVERSATION = [
    "hi",
    "why do my legs cramp at night?",
    "what about during pregnancy?",
    "tell me more",
    "I have a cramp right now, what do I do?",
    "does magnesium help?",
    "my left calf is swollen and hot",
    "what stretches help before bed?",
    "thanks",
    "bye",
]
LEVELS = (1, 10, 50)
TURN_MARKS = (1, 20, 100)


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process and its children (VmHWM), in MB."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        except FileNotFoundError:
            pass
    return round(total, 1)


def train(name: str, config: Path, out: Path) -> Dict[str, Any]:
    """Full training from scratch (empty cache); returns model path and wall time."""
    cache = Path(tempfile.mkdtemp(prefix=f"rasa-cache-{name}-"))
    started = time.monotonic()
    log = out / f"train-{name}.log"
    with open(log, "w") as output:
        result = subprocess.run(
            [
                str(VENV_BIN / "rasa"),
                "train",
                "--config",
                str(config),
                "--domain",
                "domain.yml",
                "--data",
                "data",
                "--out",
                str(out),
                "--fixed-model-name",
                name,
            ],
            cwd=ROOT,
            env={**ENV, "RASA_CACHE_DIRECTORY": str(cache)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    seconds = time.monotonic() - started
    shutil.rmtree(cache, ignore_errors=True)
    if result.returncode:
        raise SystemExit(f"training {name} failed; see {log}")
    model = out / f"{name}.tar.gz"
    return {"model": str(model), "train_seconds": round(seconds, 1), "model_mb": round(model.stat().st_size / 1e6, 1)}


async def send(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> float:
    started = time.perf_counter()
    async with session.post(url, json={"sender": sender, "message": text}) as answer:
        body = await answer.json()
        if answer.status != 200 or not body:
            raise RuntimeError(f"status {answer.status}")
    return time.perf_counter() - started


async def first_answer(url: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                await send(session, url, "bench-warmup-" + uuid.uuid4().hex, "hi")
                return
            except (aiohttp.ClientError, RuntimeError, asyncio.TimeoutError):
                await asyncio.sleep(0.25)
    raise RuntimeError(f"no answer from {url} within {timeout} s")


async def load(url: str, people: int, conversations_each: int, time_limit: float) -> Dict[str, Any]:
    latencies: List[float] = []
    by_text: Dict[str, List[float]] = {}
    errors = 0
    deadline = time.monotonic() + time_limit
    timeout = aiohttp.ClientTimeout(total=60)

    async def person(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        for _ in range(conversations_each):
            sender = "bench-" + uuid.uuid4().hex
            for text in CONVERSATION:
                if time.monotonic() > deadline:
                    return
                try:
                    latencies.append(await send(session, url, sender, text))
                    by_text.setdefault(text, []).append(latencies[-1])
                except Exception:  # noqa: BLE001 (counted, not fatal)
                    errors += 1

    started = time.monotonic()
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=people)) as session:
        await asyncio.gather(*(person(session) for _ in range(people)))
    elapsed = time.monotonic() - started
    return {"latencies": latencies, "by_text": by_text, "errors": errors, "seconds": elapsed}


async def turn_latencies(url: str, turns: int = 100) -> Dict[str, float]:
    sender = "bench-long-" + uuid.uuid4().hex
    measured = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        for turn in range(turns):
            measured.append(await send(session, url, sender, CONVERSATION[1 + turn % (len(CONVERSATION) - 3)]))
    # The median of a few turns around each mark, to damp single-request noise.
    return {
        f"turn_{mark}_ms": round(statistics.median(measured[max(0, mark - 3) : mark + 2]) * 1000, 1)
        for mark in TURN_MARKS
    }


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summarise(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    latencies = [x for run in runs for x in run["latencies"]]
    seconds = sum(run["seconds"] for run in runs)
    by_text: Dict[str, List[float]] = {}
    for run in runs:
        for text, measured in run["by_text"].items():
            by_text.setdefault(text, []).extend(measured)
    return {
        # Which messages make the tail: each message's slowest answer, slowest first.
        "slowest_ms_by_message": dict(
            sorted(
                ((text, round(max(measured) * 1000, 1)) for text, measured in by_text.items()),
                key=lambda item: -item[1],
            )[:5]
        ),
        "requests": len(latencies),
        "errors": sum(run["errors"] for run in runs),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "messages_per_second": round(len(latencies) / seconds, 1) if seconds else 0.0,
    }


def chart(report: Dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = ["project", "baseline"]
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 4))
    width = 0.38
    for index, system in enumerate(systems):
        levels = report[system]["load"]
        left.bar(
            [i + index * width for i in range(len(LEVELS))],
            [levels[str(n)]["p50_ms"] for n in LEVELS],
            width,
            label=system,
        )
        middle.bar(
            [i + index * width for i in range(len(LEVELS))],
            [levels[str(n)]["messages_per_second"] for n in LEVELS],
            width,
            label=system,
        )
        right.plot(TURN_MARKS, [report[system]["turns"][f"turn_{m}_ms"] for m in TURN_MARKS], marker="o", label=system)
    for axis, title in ((left, "median latency (ms)"), (middle, "messages per second")):
        axis.set_xticks([i + width / 2 for i in range(len(LEVELS))])
        axis.set_xticklabels([f"{n} people" for n in LEVELS])
        axis.set_title(title)
        axis.legend()
    right.set_title("latency by turn (ms)")
    right.set_xlabel("turn")
    right.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds per load level")
    parser.add_argument("--conversations", type=int, default=2, help="conversations per simulated person per round")
    parser.add_argument("--time-limit", type=float, default=60, help="seconds per load run at most")
    parser.add_argument("--skip-training", action="store_true", help="reuse bench/results/models from a previous run")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    models_dir = RESULTS / "models"
    models_dir.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="cramp-bench-"))
    baseline_config = workdir / "baseline-config.yml"
    baseline_config.write_text(
        yaml.safe_dump(
            {"recipe": "default.v1", "language": "en", "assistant_id": "baseline", "pipeline": None, "policies": None}
        )
    )

    previous = json.loads((RESULTS / "bench.json").read_text()) if (RESULTS / "bench.json").exists() else {}
    report: Dict[str, Any] = {"machine": {"cores": os.cpu_count()}, "conversation": CONVERSATION}
    for name, config in (("project", ROOT / "config.yml"), ("baseline", baseline_config)):
        if args.skip_training and (models_dir / f"{name}.tar.gz").exists():
            report[name] = {k: previous.get(name, {}).get(k) for k in ("model", "train_seconds", "model_mb")}
        else:
            print(f"training {name} from scratch...", flush=True)
            report[name] = train(name, config, models_dir)

    credentials = {"project": ROOT / "credentials.yml", "baseline": workdir / "credentials.yml"}
    credentials["baseline"].write_text("rest:\n")
    servers: Dict[str, Server] = {}
    try:
        servers["actions"] = action_server(workdir)
        urls = {}
        for name in ("project", "baseline"):
            endpoints = workdir / f"endpoints-{name}.yml"
            # Each as users run it: the project with endpoints.yml's stores, stock Rasa with Rasa's SQL store.
            endpoints.write_text(
                embedded_endpoints(
                    servers["actions"].port, workdir / f"{name}.db", None if name == "project" else "SQL"
                )
            )
            servers[name] = rasa_server(
                report[name]["model"],
                endpoints,
                workdir,
                # The 100-turn conversation would hit the per-sender rate limit; the limiter is not measured.
                {"CRAMP_COACH_RATE_LIMIT": "0"} if name == "project" else None,
                credentials=credentials[name],
                name=name,
            )
            port = servers[name].port
            urls[name] = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
            asyncio.run(first_answer(urls[name]))
            report[name]["cold_start_seconds"] = round(time.monotonic() - servers[name].started, 1)
            print(f"{name}: first answer after {report[name]['cold_start_seconds']} s", flush=True)

        runs: Dict[str, Dict[int, List[Dict[str, Any]]]] = {n: {level: [] for level in LEVELS} for n in urls}
        for round_number in range(args.rounds):
            for level in LEVELS:
                for name in ("project", "baseline") if round_number % 2 == 0 else ("baseline", "project"):
                    runs[name][level].append(asyncio.run(load(urls[name], level, args.conversations, args.time_limit)))
                    print(f"round {round_number + 1}, {level} people, {name}: done", flush=True)
        for name in urls:
            report[name]["load"] = {str(level): summarise(runs[name][level]) for level in LEVELS}
            report[name]["turns"] = asyncio.run(turn_latencies(urls[name]))
            report[name]["peak_rss_mb"] = peak_rss_mb(servers[name].process.pid)
        report["action_server_peak_rss_mb"] = peak_rss_mb(servers["actions"].process.pid)
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    project, baseline = report["project"], report["baseline"]
    report["ratios_project_over_baseline"] = {
        "p50_1_person": round(project["load"]["1"]["p50_ms"] / baseline["load"]["1"]["p50_ms"], 2),
        "throughput_10_people": round(
            project["load"]["10"]["messages_per_second"] / baseline["load"]["10"]["messages_per_second"], 2
        ),
        "train_seconds": round((project["train_seconds"] or 0) / (baseline["train_seconds"] or 1), 2),
        "peak_rss": round(project["peak_rss_mb"] / baseline["peak_rss_mb"], 2),
        "cold_start": round(project["cold_start_seconds"] / baseline["cold_start_seconds"], 2),
    }
    report["project"]["turn_100_over_turn_1"] = round(
        project["turns"]["turn_100_ms"] / project["turns"]["turn_1_ms"], 2
    )
    report["baseline"]["turn_100_over_turn_1"] = round(
        baseline["turns"]["turn_100_ms"] / baseline["turns"]["turn_1_ms"], 2
    )
    (RESULTS / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    chart(report, RESULTS / "bench.png")

    print(f"\n{'figure':<34}{'project':>12}{'baseline':>12}{'ratio':>8}")
    rows = [
        ("train (s, from scratch)", "train_seconds"),
        ("model (MB)", "model_mb"),
        ("cold start to first answer (s)", "cold_start_seconds"),
        ("peak RSS rasa run (MB)", "peak_rss_mb"),
    ]
    for label, key in rows:
        a, b = project[key], baseline[key]
        print(f"{label:<34}{a:>12}{b:>12}{(a / b if a and b else float('nan')):>8.2f}")
    for level in LEVELS:
        for key in ("p50_ms", "p95_ms", "p99_ms", "messages_per_second", "errors"):
            a, b = project["load"][str(level)][key], baseline["load"][str(level)][key]
            print(f"{f'{level} people: {key}':<34}{a:>12}{b:>12}{(a / b if b else float('nan')):>8.2f}")
    for mark in TURN_MARKS:
        a, b = project["turns"][f"turn_{mark}_ms"], baseline["turns"][f"turn_{mark}_ms"]
        print(f"{f'latency at turn {mark} (ms)':<34}{a:>12}{b:>12}{a / b:>8.2f}")
    print(f"{'action server peak RSS (MB)':<34}{report['action_server_peak_rss_mb']:>12}")
    print(f"\nwritten: {RESULTS / 'bench.json'}, {RESULTS / 'bench.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
