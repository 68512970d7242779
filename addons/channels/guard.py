"""What every channel does to typed text before Rasa sees it.

Rasa treats text starting with "/" as an intent (with entities and slot values in
{...}), skipping NLU: "/restart" would wipe a conversation's triage level and
'/greet{"triage_level": null}' would clear it. Only the payloads of the bot's own
buttons pass: intent only, no entities, plus the one form that names a knowledge entry
('/ask_follow_up{"entry": "<id>"}', for a known id, exactly as the answer action writes it);
any other "/..." is read as plain text.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, FrozenSet, Iterable, Optional, Text

import yaml

ROOT = Path(__file__).resolve().parents[2]
# Files whose buttons the bot sends: the domain's responses and the answer action's words.
BUTTON_SOURCES = (ROOT / "domain.yml", ROOT / "knowledge" / "entries.yml")
# Longer messages are cut: the assistant answers short questions, and an unbounded
# text would make NLU and the tracker store do unbounded work.
MAX_MESSAGE_CHARS = 2000


def _button_payloads(node: Any) -> Iterable[Text]:
    if isinstance(node, dict):
        if isinstance(node.get("payload"), str) and isinstance(node.get("title"), str):
            yield node["payload"]
        for value in node.values():
            yield from _button_payloads(value)
    elif isinstance(node, list):
        for item in node:
            yield from _button_payloads(item)


def _entry_payloads(knowledge: Any) -> Iterable[Text]:
    """'/ask_follow_up{"entry": "<id>"}' for every entry id of the knowledge file."""
    template = str((knowledge.get("messages") or {}).get("entry_payload") or "")
    if "{entry_id}" in template:
        for entry in knowledge.get("entries") or []:
            yield template.replace("{entry_id}", str(entry.get("id")))


@lru_cache(maxsize=1)
def allowed_payloads() -> FrozenSet[Text]:
    """The bot's own button payloads, such as "/ask_first_aid"."""
    payloads = set()
    for source in BUTTON_SOURCES:
        document = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        payloads.update(_button_payloads(document.get("responses") or document.get("messages") or {}))
    plain = {p for p in payloads if p.startswith("/") and "{" not in p and "@" not in p}
    knowledge = yaml.safe_load(BUTTON_SOURCES[1].read_text(encoding="utf-8")) or {}
    return frozenset(plain | set(_entry_payloads(knowledge)))


def sanitize_text(text: Optional[Text]) -> Text:
    """Typed text as Rasa should see it: plain text, or one of the bot's own payloads."""
    if not isinstance(text, str):
        return ""
    # Lone surrogates (from JSON "\\ud800" escapes) cannot be stored or logged as UTF-8.
    text = text.replace("\x00", "")[:MAX_MESSAGE_CHARS].encode("utf-8", "replace").decode("utf-8")
    stripped = text.strip()
    if stripped.startswith("/") and stripped not in allowed_payloads():
        return stripped.lstrip("/").strip()
    return text
