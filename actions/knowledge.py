"""Loading and validating the curated knowledge file.

The file is read once, when the action server starts; a broken file stops the server
with an error naming the entry and the field, because a health assistant that answers
from half a knowledge base is worse than one that refuses to start.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Tuple

import yaml

# The follow-up kind that asks about the entry just answered, not another kind of question.
SAME_ENTRY = "same_entry"

# CRAMP_COACH_KNOWLEDGE_FILE lets a maintainer (or a test) point the server elsewhere.
KNOWLEDGE_FILE = Path(
    os.environ.get(
        "CRAMP_COACH_KNOWLEDGE_FILE",
        Path(__file__).resolve().parent.parent / "knowledge" / "entries.yml",
    )
)

ROUTE_ENTITIES = ("population", "medication", "body_part")
_WORDS = re.compile(r"[a-z0-9']+")
ADVICE_KEYS = (
    "pharmacist",
    "doctor_decides",
    "keep_taking_medicines",
    "pregnancy_warning_signs",
)
MESSAGE_KEYS = (
    "general_info_note",
    "no_more",
    "ask_which_topic",
    "emergency_reminder",
    "understood",
    "choose_entry",
    "entry_payload",
)
REQUIRED_ENTRY_IDS = (
    "what_is_cramp",
    "causes_general",
    "causes_pregnancy",
    "causes_elderly",
    "causes_women",
    "causes_men",
    "causes_sport",
    "causes_medication",
    "related_conditions",
    "cramps_arms",
    "toe_cramps",
    "first_aid",
    "medications",
    "medication_minerals",
    "medication_muscle_relaxants",
    "medication_painkillers",
    "medication_venous",
    "vitamins",
    "prevention",
    "diet",
    "exercises",
    "folk_remedies",
    "when_to_see_doctor",
    "diagnosis",
    "restless_legs",
    "prognosis",
)
_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_REFERENCE_PATTERN = re.compile(r"^R\d{1,2}$")
_MASSAGE_PATTERN = re.compile(r"\b(massag\w*|rub\w*)\b", re.IGNORECASE)
# Chat-sized: a short paragraph or a handful of bullets.
MAX_ANSWER_CHARS = 700
MAX_BULLETS = 6


def suggests_massage(text: str) -> bool:
    """True when a sentence mentions rubbing or massage other than to warn against it."""
    for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
        if _MASSAGE_PATTERN.search(sentence) and not re.search(
            r"\b(don't|do not|never|not|no)\b", sentence, re.IGNORECASE
        ):
            return True
    return False


class KnowledgeError(ValueError):
    """The knowledge file is unusable; the message names the entry and the field."""


@dataclass(frozen=True)
class Route:
    """An intent plus the entity values that lead to an entry."""

    intent: str
    entities: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)

    def matches(self, intent: str, entities: Mapping[str, Iterable[str]]) -> bool:
        if intent != self.intent:
            return False
        return all(set(entities.get(name, ())) & set(values) for name, values in self.entities.items())

    @property
    def specificity(self) -> int:
        return len(self.entities)


@dataclass(frozen=True)
class Entry:
    """One curated answer with its provenance."""

    id: str
    title: str
    answer: str
    source: str
    reviewed: datetime.date
    references: Tuple[str, ...]
    routes: Tuple[Route, ...]
    more: Optional[str] = None
    advice: Tuple[str, ...] = ()
    cautions: Tuple[str, ...] = ()
    answer_clot_safe: Optional[str] = None

    def texts(self) -> List[str]:
        """Every text of the entry a person may read."""
        return [t for t in (self.answer, self.more, self.answer_clot_safe) if t]

    def answer_for(self, clot_suspected: bool) -> str:
        if clot_suspected and self.answer_clot_safe:
            return self.answer_clot_safe
        return self.answer


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Messages:
    """The answer action's own words around an entry."""

    general_info_note: str
    no_more: str
    ask_which_topic: str
    emergency_reminder: str
    ask_feedback: str
    feedback_buttons: Tuple[Button, ...]
    more_button: Button
    advice: Mapping[str, str]
    understood: str
    choose_entry: str
    entry_payload: str

    def entry_button(self, entry: "Entry") -> Dict[str, str]:
        """A button that asks for one entry by id (the guard lets exactly this form pass)."""
        return {"title": entry.title, "payload": self.entry_payload.replace("{entry_id}", entry.id)}


@dataclass(frozen=True)
class KnowledgeBase:
    """All entries, indexed by id, plus the entity vocabulary and the action's words."""

    entries: Mapping[str, Entry]
    vocabulary: Mapping[str, Mapping[str, Tuple[str, ...]]]
    messages: Messages
    # What a follow-up with no new topic asks ("why does that happen?"); SAME_ENTRY asks
    # more about the entry just answered ("how long before it works?").
    follow_up_kinds: Tuple["FollowUpKind", ...] = ()

    def follow_up_kind(self, text: str, previous: Optional[str] = None, referring_only: bool = False) -> Optional[str]:
        """The intent of the first kind whose cue the text contains, as whole words, among
        the kinds that apply after the entry `previous`. `referring_only` keeps the kinds
        that only make sense about that entry: more of the same, or limited to follow it.
        """
        # Phone keyboards type a curly apostrophe ("doesn’t").
        words = " " + " ".join(_WORDS.findall(text.lower().replace("\u2019", "'"))) + " "
        for kind in self.follow_up_kinds:
            if kind.after and previous not in kind.after:
                continue
            if referring_only and not kind.after and kind.intent != SAME_ENTRY:
                continue
            if any(f" {cue} " in words for cue in kind.cues):
                return kind.intent
        return None

    def get(self, entry_id: str) -> Optional[Entry]:
        return self.entries.get(entry_id)

    @property
    def route_intents(self) -> FrozenSet[str]:
        """Every intent that reaches an entry: the questions this file can answer."""
        return frozenset(route.intent for entry in self.entries.values() for route in entry.routes)

    def find(
        self,
        intent: str,
        entities: Mapping[str, Iterable[str]],
        prefer: Optional[Mapping[str, float]] = None,
    ) -> Optional[Entry]:
        """The entry whose most specific route matches, or None.

        Among equally specific routes, a route naming a medicine wins (it is the subject
        of the question), then the entry `prefer` scores highest (the knowledge ranking).
        """
        best: Optional[Tuple[Tuple[int, int, float], Entry]] = None
        for entry in self.entries.values():
            for route in entry.routes:
                if route.matches(intent, entities):
                    rank = (route.specificity, int("medication" in route.entities), (prefer or {}).get(entry.id, 0.0))
                    if best is None or rank > best[0]:
                        best = (rank, entry)
        return best[1] if best else None

    def find_by_entities(
        self, entities: Mapping[str, Iterable[str]], prefer: Optional[Mapping[str, float]] = None
    ) -> Optional[Entry]:
        """An entry reachable through one of these entity values, whatever the intent: the
        one `prefer` scores highest (the knowledge ranking), else the first in the file.
        """
        reachable = [
            entry
            for entry in self.entries.values()
            if any(
                route.entities
                and all(set(entities.get(name, ())) & set(values) for name, values in route.entities.items())
                for route in entry.routes
            )
        ]
        scores = prefer or {}
        return max(reachable, key=lambda entry: scores.get(entry.id, 0.0)) if reachable else None


def _fail(where: str, field_name: str, problem: str) -> KnowledgeError:
    return KnowledgeError(f"entry '{where}', field '{field_name}': {problem}")


def _text(raw: Mapping[str, Any], where: str, name: str, required: bool = True) -> Optional[str]:
    value = raw.get(name)
    if value is None:
        if required:
            raise _fail(where, name, "is missing")
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, name, "must be non-empty text")
    return value.strip()


def _string_list(raw: Mapping[str, Any], where: str, name: str) -> Tuple[str, ...]:
    value = raw.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(where, name, "must be a list of non-empty strings")
    return tuple(value)


def _check_chat_size(text: str, where: str, name: str) -> None:
    if len(text) > MAX_ANSWER_CHARS:
        raise _fail(where, name, f"is {len(text)} characters; keep it under {MAX_ANSWER_CHARS}")
    bullets = sum(1 for line in text.splitlines() if line.lstrip().startswith("•"))
    if bullets > MAX_BULLETS:
        raise _fail(where, name, f"has {bullets} bullets; keep it to {MAX_BULLETS}")


def _parse_routes(raw: Mapping[str, Any], where: str) -> Tuple[Route, ...]:
    routes = raw.get("routes")
    if not isinstance(routes, list) or not routes:
        raise _fail(where, "routes", "must list at least one route")
    parsed = []
    for number, route in enumerate(routes, start=1):
        label = f"routes[{number}]"
        if not isinstance(route, dict) or not isinstance(route.get("intent"), str):
            raise _fail(where, label, "needs an 'intent'")
        unknown = set(route) - {"intent", *ROUTE_ENTITIES}
        if unknown:
            raise _fail(where, label, f"unknown keys {sorted(unknown)}")
        entities = {}
        for name in ROUTE_ENTITIES:
            if name in route:
                values = route[name]
                values = [values] if isinstance(values, str) else values
                if not isinstance(values, list) or not values:
                    raise _fail(where, f"{label}.{name}", "must be a value or a list of values")
                entities[name] = tuple(values)
        parsed.append(Route(intent=route["intent"], entities=entities))
    return tuple(parsed)


def parse_entry(raw: Any, position: int) -> Entry:
    """Validates one raw entry and turns it into an Entry."""
    if not isinstance(raw, dict):
        raise _fail(f"#{position}", "(entry)", "must be a mapping")
    entry_id = raw.get("id")
    where = entry_id if isinstance(entry_id, str) else f"#{position}"
    if not isinstance(entry_id, str) or not _ID_PATTERN.match(entry_id):
        raise _fail(where, "id", "must be a snake_case identifier")
    known = {
        "id",
        "title",
        "answer",
        "more",
        "source",
        "references",
        "reviewed",
        "routes",
        "advice",
        "cautions",
        "answer_clot_safe",
    }
    unknown = set(raw) - known
    if unknown:
        raise _fail(where, sorted(unknown)[0], "is not a known field")

    answer = _text(raw, where, "answer")
    _check_chat_size(answer, where, "answer")
    more = _text(raw, where, "more", required=False)
    if more:
        _check_chat_size(more, where, "more")
        if suggests_massage(more):
            raise _fail(where, "more", "may only mention massage as a warning")
    clot_safe = _text(raw, where, "answer_clot_safe", required=False)
    if clot_safe:
        _check_chat_size(clot_safe, where, "answer_clot_safe")
        if suggests_massage(clot_safe):
            raise _fail(where, "answer_clot_safe", "must not suggest rubbing or massage")
    elif _MASSAGE_PATTERN.search(answer):
        raise _fail(where, "answer_clot_safe", "is needed because 'answer' mentions massage")

    reviewed = raw.get("reviewed")
    if not isinstance(reviewed, datetime.date):
        raise _fail(where, "reviewed", "must be a date (YYYY-MM-DD)")
    references = _string_list(raw, where, "references")
    bad = [r for r in references if not _REFERENCE_PATTERN.match(r)]
    if bad:
        raise _fail(where, "references", f"{bad} are not R-numbers from curation-review.md")
    source = _text(raw, where, "source")
    if source == "none" and not references:
        raise _fail(where, "references", "an entry the article lacks must cite references")
    advice = _string_list(raw, where, "advice")
    unknown_advice = set(advice) - set(ADVICE_KEYS)
    if unknown_advice:
        raise _fail(where, "advice", f"unknown advice {sorted(unknown_advice)}; use {ADVICE_KEYS}")

    return Entry(
        id=entry_id,
        title=_text(raw, where, "title"),
        answer=answer,
        more=more,
        source=source,
        reviewed=reviewed,
        references=references,
        routes=_parse_routes(raw, where),
        advice=advice,
        cautions=_string_list(raw, where, "cautions"),
        answer_clot_safe=clot_safe,
    )


def _parse_vocabulary(raw: Any) -> Dict[str, Dict[str, Tuple[str, ...]]]:
    if not isinstance(raw, dict):
        raise _fail("vocabulary", "(section)", "must map entity names to values")
    vocabulary: Dict[str, Dict[str, Tuple[str, ...]]] = {}
    for entity, values in raw.items():
        if entity not in ROUTE_ENTITIES:
            raise _fail("vocabulary", entity, f"unknown entity; use {ROUTE_ENTITIES}")
        if not isinstance(values, dict):
            raise _fail("vocabulary", entity, "must map values to phrase lists")
        vocabulary[entity] = {}
        for value, phrases in values.items():
            if not isinstance(phrases, list) or not phrases:
                raise _fail("vocabulary", f"{entity}.{value}", "must list phrases")
            cleaned = tuple(str(p) for p in phrases)
            if any(p != p.lower() or not p.strip() for p in cleaned):
                raise _fail("vocabulary", f"{entity}.{value}", "phrases must be lowercase")
            vocabulary[entity][value] = cleaned
    return vocabulary


def _button(raw: Any, where: str) -> Button:
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) and raw.get(k) for k in ("title", "payload")):
        raise _fail("messages", where, "needs a title and a payload")
    if raw["payload"].startswith("/") and "{" in raw["payload"]:
        raise _fail("messages", where, "payloads may not carry entities")
    return Button(title=raw["title"], payload=raw["payload"])


def _parse_messages(raw: Any) -> Messages:
    if not isinstance(raw, dict):
        raise _fail("messages", "(section)", "must be a mapping")
    texts = {key: _text(raw, "messages", key) for key in MESSAGE_KEYS}
    feedback = raw.get("ask_feedback")
    if not isinstance(feedback, dict) or not feedback.get("buttons"):
        raise _fail("messages", "ask_feedback", "needs 'text' and 'buttons'")
    buttons = tuple(_button(b, f"ask_feedback.buttons[{n}]") for n, b in enumerate(feedback["buttons"], start=1))
    advice = raw.get("advice")
    if not isinstance(advice, dict):
        raise _fail("messages", "advice", "must map advice keys to texts")
    missing = [k for k in ADVICE_KEYS if not isinstance(advice.get(k), str)]
    if missing:
        raise _fail("messages", f"advice.{missing[0]}", "is missing")
    return Messages(
        ask_feedback=_text(feedback, "messages", "text"),
        feedback_buttons=buttons,
        more_button=_button(raw.get("more_button"), "more_button"),
        advice={k: advice[k].strip() for k in ADVICE_KEYS},
        **texts,
    )


def parse_knowledge(document: Any) -> KnowledgeBase:
    """Validates a whole knowledge document (already parsed from YAML)."""
    if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
        raise _fail("(file)", "entries", "the file must have a list of entries")
    entries: Dict[str, Entry] = {}
    for position, raw in enumerate(document["entries"], start=1):
        entry = parse_entry(raw, position)
        if entry.id in entries:
            raise _fail(entry.id, "id", "is used by two entries")
        entries[entry.id] = entry
    missing = [i for i in REQUIRED_ENTRY_IDS if i not in entries]
    if missing:
        raise _fail(missing[0], "id", "is a required entry id but is missing")
    vocabulary = _parse_vocabulary(document.get("vocabulary"))
    for entry in entries.values():
        for route in entry.routes:
            for name, values in route.entities.items():
                unknown = [v for v in values if v not in vocabulary.get(name, {})]
                if unknown:
                    raise _fail(entry.id, "routes", f"{name} values {unknown} are not in the vocabulary")
    return KnowledgeBase(
        entries=entries,
        vocabulary=vocabulary,
        messages=_parse_messages(document.get("messages")),
        follow_up_kinds=_parse_follow_up_kinds(document.get("follow_up_kinds"), entries),
    )


@dataclass(frozen=True)
class FollowUpKind:
    """Cues of one kind of follow-up; `after` limits it to follow the entries listed
    ("what else is there?" after quinine asks for other medicines, not for more of the same).
    """

    intent: str
    cues: Tuple[str, ...]
    after: FrozenSet[str] = frozenset()


def _parse_follow_up_kinds(raw: Any, entries: Mapping[str, "Entry"]) -> Tuple[FollowUpKind, ...]:
    intents = {route.intent for entry in entries.values() for route in entry.routes} | {SAME_ENTRY}
    if not isinstance(raw, list):
        raise _fail("follow_up_kinds", "(section)", "must list {intent, cues}")
    kinds = []
    for position, kind in enumerate(raw, start=1):
        where = f"follow_up_kinds[{position}]"
        if not isinstance(kind, dict) or kind.get("intent") not in intents:
            raise _fail("follow_up_kinds", where, f"needs an intent that reaches an entry ({sorted(intents)})")
        unknown_keys = sorted(set(kind) - {"intent", "cues", "after"})
        if unknown_keys:
            raise _fail("follow_up_kinds", where, f"unknown keys {unknown_keys} (intent, cues, after)")
        cues = _string_list(kind, where, "cues")
        if not cues or any(cue != cue.lower() for cue in cues):
            raise _fail("follow_up_kinds", where, "needs lowercase cues")
        after = _string_list(kind, where, "after")
        unknown = sorted(set(after) - set(entries))
        if unknown:
            raise _fail("follow_up_kinds", where, f"'after' names unknown entries {unknown}")
        kinds.append(FollowUpKind(kind["intent"], cues, frozenset(after)))
    return tuple(kinds)


def load_knowledge(path: Path = KNOWLEDGE_FILE) -> KnowledgeBase:
    """Reads and validates the knowledge file; raises KnowledgeError naming what is wrong."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except FileNotFoundError as error:
        raise KnowledgeError(f"knowledge file not found: {path.resolve()}") from error
    except yaml.YAMLError as error:
        raise KnowledgeError(f"knowledge file {path.resolve()} is not valid YAML: {error}") from error
    try:
        return parse_knowledge(document)
    except KnowledgeError as error:
        raise KnowledgeError(f"{path.resolve()}: {error}") from None
