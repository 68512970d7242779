"""Where a turn's time goes: cProfile of Rasa's message handling at turns 100-120 of one conversation.

    .venv/bin/python -m bench.profile_turns [--model M] [--top 40]

Loads the agent in this process (the project's tracker store on a temporary SQLite file,
the real action server as a subprocess; endpoints.yml's stores), sends 130 messages of the benchmark's mix to one
conversation, prints the latency of turns 1-5 and 95-105, and the functions with the most
cumulative time over turns 100-120. This is how the hot spots named in issue #8 were found.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

from bench.run_bench import CONVERSATION
from devstack.local_servers import action_server, embedded_endpoints
from scripts.train_model import current_model

ROOT = Path(__file__).resolve().parent.parent


async def converse(model: Path, endpoints: Path, top: int) -> None:
    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.utils import AvailableEndpoints

    agent = await load_agent(model_path=str(model), endpoints=AvailableEndpoints.read_endpoints(str(endpoints)))
    profile, times = cProfile.Profile(), []
    for turn in range(130):
        if turn == 100:
            profile.enable()
        started = time.perf_counter()
        text = CONVERSATION[1 + turn % (len(CONVERSATION) - 3)]
        await agent.handle_message(UserMessage(text, CollectingOutputChannel(), "rest:profile"))
        times.append(time.perf_counter() - started)
        if turn == 119:
            profile.disable()
    print(
        "ms at turns 1-5:",
        [round(t * 1000) for t in times[:5]],
        " 95-99:",
        [round(t * 1000) for t in times[94:99]],
        " 121-125 (not profiled):",
        [round(t * 1000) for t in times[120:125]],
    )
    pstats.Stats(profile).sort_stats("cumulative").print_stats(top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    model = Path(args.model) if args.model else current_model()
    if model is None:
        sys.exit("error: no model for the current data; run `make train`")
    workdir = Path(tempfile.mkdtemp(prefix="cramp-profile-"))
    actions = action_server(workdir)
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(embedded_endpoints(actions.port, workdir / "profile.db"))
    try:
        asyncio.run(converse(model, endpoints, args.top))
    finally:
        actions.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
