"""Topic accuracy: after one real turn, is the `topic` slot an acceptable knowledge entry?

Runs a held-out question set (tests/heldout/questions_*.yml, written blind: see
tests/heldout/README.md) through the trained model in process, with the real action
server on 127.0.0.1: each question as the first message of a new conversation, and each
conversation turn by turn. Reports, per set, topic accuracy (single questions) and
follow-up accuracy (every turn after a conversation's first). With --misses it prints
each miss, to study a set's errors (then have a fresh set written: never train on one).
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

from devstack.local_servers import InProcessAssistant

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "tests" / "heldout"


def question_sets() -> List[Path]:
    return sorted(HELDOUT.glob("questions_*.yml"))


def topic_after(assistant: InProcessAssistant, sender: str, text: str) -> Tuple[Any, List[Dict[str, Any]]]:
    tracker, replies = assistant.send(sender, text)
    return tracker.get_slot("topic"), replies


def score_set(assistant: InProcessAssistant, path: Path) -> Tuple[Dict[str, float], List[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    misses: List[str] = []
    right = offered = 0
    questions = data.get("questions") or []
    for question in questions:
        topic, replies = topic_after(assistant, uuid.uuid4().hex, question["text"])
        if topic in question["accept"]:
            right += 1
        else:
            buttons = [b.get("payload", "") for r in replies for b in r.get("buttons") or []]
            offered += any(f'"{a}"' in p for a in question["accept"] for p in buttons)
            misses.append(f"question: {question['text']!r} -> {topic} (accept {question['accept']})")
    follow_right = follow_total = 0
    for conversation in data.get("conversations") or []:
        sender = uuid.uuid4().hex
        for index, turn in enumerate(conversation["turns"]):
            topic, _ = topic_after(assistant, sender, turn["text"])
            if index == 0:
                continue
            follow_total += 1
            if topic in turn["accept"]:
                follow_right += 1
            else:
                misses.append(f"follow-up: {turn['text']!r} -> {topic} (accept {turn['accept']})")
    name = path.stem
    figures = {
        f"topic_accuracy[{name}]": right / max(1, len(questions)),
        f"right_entry_offered[{name}]": offered / max(1, len(questions) - right),
    }
    if follow_total:
        figures[f"follow_up_accuracy[{name}]"] = follow_right / follow_total
    return figures, misses


def main() -> int:
    from scripts.evaluate import current_model, score_blind_sets

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--set", type=Path, action="append", help="a question set (default: all held out)")
    parser.add_argument("--misses", action="store_true", help="print every miss")
    args = parser.parse_args()
    model = (args.model or current_model()).resolve()
    figures, misses, _ = score_blind_sets(model, args.set or question_sets(), triage=[])
    for name, value in figures.items():
        print(f"{name}: {value:.3f}")
    if args.misses:
        print("\n".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
