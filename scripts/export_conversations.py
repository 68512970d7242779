"""Turns stored conversations into files a maintainer can review (exports/ by default).

Reads Rasa's SQL tracker store (the SQLite file `rasa run` writes, or any SQLAlchemy URL
given with --url) and writes:
  nlu_to_review.yml   user messages the NLU was unsure of (fallback, or confidence below
                      --threshold), under the intent it guessed: move each line to the
                      right intent in data/nlu/ (Rasa NLU YAML)
  test_stories.yml    whole conversations as test stories, for tests/test_stories.yml
  feedback.md         👍 / 👎 per knowledge topic
Names, e-mail addresses and phone numbers are replaced before anything is written, and
conversation ids are replaced by numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_ACTIONS = {"action_listen", "action_session_start", "action_extract_slots"}
FEEDBACK = {"feedback_helpful": "👍", "feedback_not_helpful": "👎"}
TRIAGE_PREFIX = "red_flag_"

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w+])\+?\d[\d ().-]{6,}\d")
# "my name is Sam", "I'm Sam Jones": a capitalised word after an introduction.
NAME = re.compile(r"(?i:\b(my name is|i am|i'm|im|this is|call me|it's|its)\s+)([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)")
NOT_NAMES = {
    "pregnant",
    "in",
    "on",
    "from",
    "not",
    "so",
    "very",
    "really",
    "worried",
    "diabetic",
    "here",
    "back",
    "fine",
    "ok",
    "okay",
    "the",
    "a",
    "an",
    "still",
    "also",
    "just",
    "getting",
    "having",
    "taking",
}


def scrub(text: str) -> str:
    """The text without names, e-mail addresses and phone numbers."""
    text = EMAIL.sub("[email]", text)
    text = PHONE.sub("[phone]", text)

    def name(match: re.Match) -> str:
        first = match.group(2).split()[0].lower()
        return match.group(0) if first in NOT_NAMES else match.group(0).replace(match.group(2), "[name]")

    return NAME.sub(name, text)


def _intent(parse_data: Dict[str, Any]) -> Tuple[Optional[str], float]:
    """The classifier's own intent and confidence, looking through overrides."""
    intent = parse_data.get("intent") or {}
    name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
    for key in ("red_flag", "language_guard"):
        original = (parse_data.get(key) or {}).get("classifier_intent") or {}
        if str(name or "").startswith(TRIAGE_PREFIX) or name == "unsupported_language":
            if original.get("name"):
                name, confidence = original["name"], float(original.get("confidence") or 0.0)
    return name, confidence


def read_conversations(url: str) -> List[List[Dict[str, Any]]]:
    """Every conversation's events (as dicts), through Rasa's own SQL tracker store."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    settings = {
        "dialect": parsed.drivername,
        "db": parsed.database,
        "host": parsed.host,
        "port": parsed.port,
        "username": parsed.username,
        "password": parsed.password,
    }

    async def read() -> List[List[Dict[str, Any]]]:
        store = SQLTrackerStore(
            Domain.load(str(ROOT / "domain.yml")), **{k: v for k, v in settings.items() if v is not None}
        )
        conversations = []
        for sender_id in sorted(await store.keys()):
            tracker = await store.retrieve_full_tracker(sender_id)
            if tracker is not None:
                conversations.append([event.as_dict() for event in tracker.events])
        return conversations

    return asyncio.run(read())


def export(conversations: List[List[Dict[str, Any]]], out: Path, threshold: float) -> Dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    to_review: Dict[str, List[str]] = defaultdict(list)
    stories, feedback = [], defaultdict(Counter)
    for number, events in enumerate(conversations, start=1):
        steps: List[Dict[str, Any]] = []
        topic = None
        for event in events:
            kind = event.get("event")
            if kind == "slot" and event.get("name") == "topic":
                topic = event.get("value")
            elif kind == "user":
                parse_data = event.get("parse_data") or {}
                text = scrub(event.get("text") or "")
                intent, confidence = _intent(parse_data)
                shown_intent = (parse_data.get("intent") or {}).get("name") or intent
                if shown_intent in FEEDBACK:
                    feedback[topic or "(no topic)"][FEEDBACK[shown_intent]] += 1
                if text and not text.startswith("/") and (intent == "nlu_fallback" or confidence < threshold):
                    if text not in to_review[intent or "nlu_fallback"]:
                        to_review[intent or "nlu_fallback"].append(text)
                step: Dict[str, Any] = {"user": text or "(empty)", "intent": shown_intent}
                entities = [{e["entity"]: e["value"]} for e in parse_data.get("entities") or [] if e.get("entity")]
                if entities:
                    step["entities"] = entities
                steps.append(step)
            elif kind == "action" and event.get("name") not in SKIPPED_ACTIONS and steps:
                steps.append({"action": event["name"]})
        if any("user" in s for s in steps):
            stories.append({"story": f"Conversation {number} (exported)", "steps": steps})

    header = (
        "# Exported by scripts/export_conversations.py: messages the assistant was unsure of,\n"
        "# under the intent it guessed. Move each to the right intent in data/nlu/, then retrain.\n"
    )
    nlu = [
        {"intent": intent, "examples": "".join(f"- {text}\n" for text in texts)}
        for intent, texts in sorted(to_review.items())
    ]
    (out / "nlu_to_review.yml").write_text(
        header + yaml.safe_dump({"version": "3.1", "nlu": nlu}, allow_unicode=True, sort_keys=False)
    )
    (out / "test_stories.yml").write_text(
        "# Exported conversations as test stories: check each, then copy good ones to tests/test_stories.yml.\n"
        + yaml.safe_dump({"version": "3.1", "stories": stories}, allow_unicode=True, sort_keys=False)
    )
    lines = ["# Feedback per topic", "", "| topic | 👍 | 👎 |", "| --- | --- | --- |"]
    for topic, counts in sorted(feedback.items()):
        lines.append(f"| {topic} | {counts['👍']} | {counts['👎']} |")
    (out / "feedback.md").write_text("\n".join(lines) + "\n")
    return {
        "conversations": len(stories),
        "to_review": sum(map(len, to_review.values())),
        "feedback": sum(sum(c.values()) for c in feedback.values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=ROOT / "conversations.db", help="SQLite tracker store file")
    parser.add_argument("--url", help="SQLAlchemy URL of another tracker store (e.g. postgresql://...)")
    parser.add_argument("--out", type=Path, default=ROOT / "exports")
    parser.add_argument("--threshold", type=float, default=0.6, help="review messages below this confidence")
    args = parser.parse_args()
    if args.url is None and not args.db.exists():
        print(
            f"error: no tracker store at {args.db.resolve()} (run the assistant first, or pass --db/--url)",
            file=sys.stderr,
        )
        return 1
    url = args.url or f"sqlite:///{args.db.resolve()}"
    counts = export(read_conversations(url), args.out, args.threshold)
    print(
        f"exported {counts['conversations']} conversations, {counts['to_review']} messages to review, "
        f"{counts['feedback']} feedback answers into {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
