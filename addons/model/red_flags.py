"""Red-flag detection: curated patterns (knowledge/red_flags.yml) matched with spaCy.

Matching runs on normalised tokens (lowercase -> known misspelling -> lookup lemma), so
"swolen calves" and "calf is swollen" meet the same pattern. Each match is then judged
in its sentence: negated ("no swelling", "a clot was ruled out"), asked about ("can
cramps cause swelling?"), long past ("a DVT 6 years ago") or reported. Reported signs combine
into a level, with a medicine named in a question ("Does quinine thin the blood? I bruise
easily") as their frame.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token

from coach_names import EMERGENCY, LEVELS

PATTERNS_FILE = Path(__file__).resolve().parents[2] / "knowledge" / "red_flags.yml"
LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS, start=1)}
_GAP = [{"OP": "?"}] * 4
_ALTERNATIVES = re.compile(r"\(([^()]*)\)")
_NORM = "cc_norm"

if not Token.has_extension(_NORM):
    Token.set_extension(_NORM, default="")


class RedFlagPatternError(ValueError):
    """The pattern file is unusable; the message names the sign and the field."""


@dataclass(frozen=True)
class Finding:
    """What the detector saw in one message."""

    level: Optional[str] = None
    reason: Optional[str] = None
    signs: Tuple[str, ...] = ()
    negated: Tuple[str, ...] = ()
    asked_about: Tuple[str, ...] = ()
    # Every sentence asks, supposes or recalls the past ("had one seizure as a teenager,
    # nothing since"): whatever it names, it reports nothing happening now.
    not_a_report: bool = False
    # Signs some sentence rules out, matched or not ("had my tetanus booster last year"):
    # a single sentence so marked is not read by the learned detector.
    ruled_out: Tuple[str, ...] = ()

    def as_dict(self) -> Dict[str, Any]:
        return {
            "level": self.level,
            "reason": self.reason,
            "signs": list(self.signs),
            "negated": list(self.negated),
            "asked_about": list(self.asked_about),
            "not_a_report": self.not_a_report,
        }


@dataclass(frozen=True)
class Sign:
    name: str
    level: Optional[str]
    reason: str
    phrases: Tuple[str, ...]
    regex: Tuple[re.Pattern, ...]
    requires_in_sentence: Tuple[str, ...]
    unless_in_sentence: Tuple[str, ...]
    # Words that rule the sign out like a negation ("got a tetanus booster the same day"):
    # unlike unless_in_sentence (only no match), the learned detector must not count it either.
    ruled_out_by: Tuple[str, ...] = ()
    # Its phrases speak of the past by nature ("last tetanus jab 20 years ago"): a long-ago
    # marker does not make it history.
    about_the_past: bool = False
    # False when a phrase itself holds a negation ("not sweating"), so words inside a
    # match cannot negate it; otherwise "calf isn't swollen" is negated from within.
    inner_negation: bool = True
    # Its phrases say something is fine ("breathing's normal"): found, it counts as negated.
    states_absence: bool = False
    # A medicine or setting that, named in a question, still frames what another sentence
    # reports ("Does quinine thin the blood? I bruise so easily since I started it").
    frames_from_a_question: bool = False


@dataclass(frozen=True)
class Combination:
    signs: FrozenSet[str]
    level: str
    reason: str
    replaces: FrozenSet[str] = field(default_factory=frozenset)
    # Signs that keep it from counting ("new cramps" with numbness that came on over months).
    unless: FrozenSet[str] = field(default_factory=frozenset)


# Lemmas of question starters that other forms share ("been", "did"): only the written starter asks.
LEMMA_ONLY_STARTERS = frozenset({"be", "do", "have"})
# Reasons that say less than another reason of the same level.
GENERAL_REASONS = {"default": 0, "collapse": 1}


def load_spec(path: Path = PATTERNS_FILE) -> Dict[str, Any]:
    """The raw pattern document; validated when compiled."""
    try:
        with open(path, encoding="utf-8") as handle:
            spec = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as error:
        raise RedFlagPatternError(f"cannot read red-flag patterns {path.resolve()}: {error}") from error
    if not isinstance(spec, dict) or not isinstance(spec.get("signs"), dict):
        raise RedFlagPatternError(f"{path.resolve()}: needs a 'signs' mapping")
    return spec


def spec_fingerprint(path: Path = PATTERNS_FILE) -> str:
    """Short hash of the pattern file and this module, for config.yml (retrains on change)."""
    digest = hashlib.sha256(path.read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


def expand_alternatives(phrase: str) -> List[str]:
    """'(a|b) c' -> ['a c', 'b c']; an empty alternative drops the word."""
    parts = _ALTERNATIVES.split(phrase)
    # Odd positions are alternative groups.
    choices = [part.split("|") if index % 2 else [part] for index, part in enumerate(parts)]
    return [" ".join("".join(combo).split()) for combo in itertools.product(*choices)]


class Normaliser:
    """Lowercase, fix known misspellings, then take the lookup lemma."""

    def __init__(self, nlp: Language, misspellings: Mapping[str, str], as_written: Iterable[str] = ()):
        self._misspellings = dict(misspellings)
        # Words whose lookup lemma is another word ("number" -> "numb").
        self._as_written = frozenset(w.lower() for w in as_written)
        self._lemmas = None
        if "lemmatizer" in nlp.pipe_names:
            lookups = nlp.get_pipe("lemmatizer").lookups
            if lookups.has_table("lemma_lookup"):
                self._lemmas = lookups.get_table("lemma_lookup")

    def __call__(self, word: str) -> str:
        word = word.lower()
        word = self._misspellings.get(word, word)
        if self._lemmas is not None and word not in self._as_written:
            word = self._lemmas.get(word, word)
        return word

    def annotate(self, doc: Doc) -> None:
        for token in doc:
            token._.set(_NORM, self(token.text))


class RedFlagRules:
    """The compiled pattern file, ready to judge messages."""

    def __init__(self, spec: Mapping[str, Any], nlp: Language):
        self.nlp = nlp
        misspellings = spec.get("misspellings") or {}
        for wrong, right in misspellings.items():
            if not isinstance(right, str) or len(str(right).split()) != 1:
                raise RedFlagPatternError(f"misspellings: '{wrong}' must map to one word")
        self.normalise = Normaliser(nlp, misspellings, spec.get("not_lemmatised") or [])
        negation = spec.get("negation") or {}
        self.window = int(negation.get("window", 5))
        self.negation_before = self._phrase_set(negation.get("before", []))
        self.negation_after = self._phrase_set(negation.get("after", []))
        self.not_negation_followers = self._phrase_set(negation.get("not_negation_when_followed_by", []))
        self.not_negation_after_followers = self._phrase_set(negation.get("after_not_negation_when_followed_by", []))
        # Doubt or a habit before a `ruled_out_by` phrase: it rules nothing out.
        self.not_ruling_out = self._phrase_set([*negation.get("uncertainty", []), *negation.get("habit", [])])
        self.clause_breaks = self._phrase_set(negation.get("clause_breaks", []))
        self.negation_cancellers = self._phrase_set(negation.get("cancelled_by_after", []))
        self.answered_no = frozenset(str(w).lower() for w in negation.get("answered_no", []))
        questions = spec.get("questions") or {}
        self.question_starters = self._phrase_set(questions.get("starters", []))
        # As written: "been on quinine for a year" starts with a form of "be", not with "is".
        self.question_starter_words = frozenset(str(p).lower() for p in questions.get("starters", []))
        self.hypothetical = self._phrase_set(questions.get("hypothetical", []))
        self.report_markers = self._phrase_set(questions.get("report_markers", []))
        self.strong_report_markers = self._phrase_set(questions.get("strong_report_markers", []))
        self.long_ago = self._phrase_set(questions.get("long_ago", []))
        # Dates and decades ("back in 2019", "once in his 40s") and "if … ever", as written.
        self.long_ago_regex = self._regexes("questions", "long_ago_regex", questions)
        self.hypothetical_regex = self._regexes("questions", "hypothetical_regex", questions)
        # A negation cancelled by an earlier one: {"without": ["can not", …]}.
        self.double_negatives = {
            self._normalised(str(cue)): self._phrase_set(before)
            for cue, before in (negation.get("double_negative_before") or {}).items()
        }
        self.present_markers = self._phrase_set(questions.get("present_markers", []))
        self.ongoing_markers = self._phrase_set(questions.get("ongoing_markers", []))
        self.story_ended = self._phrase_set(questions.get("story_ended", []))
        self.same_thing_again = self._phrase_set(questions.get("same_thing_again", []))
        self.signs = {name: self._parse_sign(name, raw) for name, raw in spec["signs"].items()}
        self.ruling_out_signs = [sign for sign in self.signs.values() if sign.ruled_out_by]
        self.combinations = [
            self._parse_combination(number, raw) for number, raw in enumerate(spec.get("combinations") or [], start=1)
        ]
        self.matcher = Matcher(nlp.vocab)
        for sign in self.signs.values():
            patterns = [self._token_pattern(sign.name, p) for p in sign.phrases]
            if patterns:
                self.matcher.add(sign.name, patterns)

    # ------------------------------------------------------------------ compiling
    @staticmethod
    def _regexes(section: str, name: str, raw: Mapping[str, Any]) -> Tuple[re.Pattern, ...]:
        try:
            return tuple(re.compile(r, re.IGNORECASE) for r in raw.get(name) or [])
        except re.error as error:
            raise RedFlagPatternError(f"{section}, field '{name}': {error}") from error

    def _normalised(self, text: str) -> str:
        return " ".join(self.normalise(t.text) for t in self.nlp.tokenizer(text.lower()))

    def _phrase_set(self, phrases: Iterable[Any]) -> Tuple[str, ...]:
        for phrase in phrases:
            if not isinstance(phrase, str):
                # YAML reads a bare no/yes/on/off as a boolean: quote it.
                raise RedFlagPatternError(f"phrase {phrase!r} is not text; quote it in the YAML file")
        return tuple(self._normalised(p) for p in phrases)

    def _token_pattern(self, sign: str, phrase: str) -> List[Dict[str, Any]]:
        pattern: List[Dict[str, Any]] = []
        for word in phrase.split():
            if word == "*":
                pattern.extend(_GAP)
                continue
            if word.startswith("(") and word.endswith(")"):
                options = sorted({self._normalised(o) for o in word[1:-1].split("|") if o})
                if any(" " in o for o in options):
                    raise RedFlagPatternError(f"sign '{sign}': multi-word options need expanding: {phrase}")
                pattern.append({"_": {_NORM: {"IN": options}}})
                continue
            for token in self.nlp.tokenizer(word.lower()):
                pattern.append({"_": {_NORM: self.normalise(token.text)}})
        if not pattern or pattern[0] == _GAP[0] or pattern[-1] == _GAP[0]:
            raise RedFlagPatternError(f"sign '{sign}': phrase must start and end with a word: {phrase!r}")
        return pattern

    def _parse_sign(self, name: str, raw: Any) -> Sign:
        if not isinstance(raw, dict):
            raise RedFlagPatternError(f"sign '{name}': must be a mapping")
        level = raw.get("level")
        if level is not None and level not in LEVEL_RANK:
            raise RedFlagPatternError(f"sign '{name}', field 'level': {level!r} is not one of {LEVELS}")
        phrases: List[str] = []
        for phrase in raw.get("phrases") or []:
            # Multi-word alternatives are expanded into separate phrases.
            if any(" " in group for group in _ALTERNATIVES.findall(str(phrase))):
                phrases.extend(expand_alternatives(str(phrase)))
            else:
                phrases.append(str(phrase))
        try:
            regex = tuple(re.compile(r, re.IGNORECASE) for r in raw.get("regex") or [])
        except re.error as error:
            raise RedFlagPatternError(f"sign '{name}', field 'regex': {error}") from error
        if not phrases and not regex:
            raise RedFlagPatternError(f"sign '{name}': needs 'phrases' or 'regex'")
        if raw.get("states_absence") and level is not None:
            raise RedFlagPatternError(f"sign '{name}': a sign that states an absence cannot have a level")
        phrase_words = {
            w
            for p in phrases
            for w in self._normalised(p.replace("(", " ").replace(")", " ").replace("|", " ")).split()
        }
        return Sign(
            inner_negation=not (phrase_words & set(self.negation_before)),
            name=name,
            level=level,
            reason=str(raw.get("reason") or "default"),
            phrases=tuple(phrases),
            regex=regex,
            requires_in_sentence=self._phrase_set(raw.get("requires_in_sentence") or []),
            unless_in_sentence=self._phrase_set(raw.get("unless_in_sentence") or []),
            ruled_out_by=self._phrase_set(raw.get("ruled_out_by") or []),
            about_the_past=bool(raw.get("about_the_past")),
            frames_from_a_question=bool(raw.get("frames_from_a_question")),
            states_absence=bool(raw.get("states_absence")),
        )

    def _parse_combination(self, number: int, raw: Any) -> Combination:
        where = f"combinations[{number}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("all"), list):
            raise RedFlagPatternError(f"{where}: needs an 'all' list of signs")
        unknown = [
            s
            for s in raw["all"] + list(raw.get("replaces") or []) + list(raw.get("unless") or [])
            if s not in self.signs
        ]
        if unknown:
            raise RedFlagPatternError(f"{where}: unknown signs {unknown}")
        if not raw["all"] or set(raw["all"]) & set(raw.get("unless") or []):
            raise RedFlagPatternError(f"{where}: needs signs in 'all', none of them also in 'unless'")
        if raw.get("level") not in LEVEL_RANK:
            raise RedFlagPatternError(f"{where}, field 'level': must be one of {LEVELS}")
        return Combination(
            signs=frozenset(raw["all"]),
            level=raw["level"],
            reason=str(raw.get("reason") or "default"),
            replaces=frozenset(raw.get("replaces") or []),
            unless=frozenset(raw.get("unless") or []),
        )

    # ------------------------------------------------------------------ judging
    @staticmethod
    def _contains(text: str, phrase: str) -> bool:
        return f" {phrase} " in text

    def _norm_text(self, tokens: Sequence[Token]) -> str:
        return " " + " ".join(t._.get(_NORM) for t in tokens) + " "

    def _cut_at_last_break(self, words: List[str]) -> List[str]:
        """The words after the last clause break (a break may span several words)."""
        cut = 0
        for index in range(len(words)):
            for brk in self.clause_breaks:
                size = brk.count(" ") + 1
                if " ".join(words[index : index + size]) == brk:
                    cut = max(cut, index + size)
        return words[cut:]

    def _cut_at_first_break(self, words: List[str]) -> List[str]:
        for index in range(len(words)):
            for brk in self.clause_breaks:
                size = brk.count(" ") + 1
                if " ".join(words[index : index + size]) == brk:
                    return words[:index]
        return words

    def _is_negated(self, sign: Sign, sentence: Span, start: int, end: int, covered: FrozenSet[int]) -> bool:
        """Negated by a cue in the same clause; words inside another sign are not cues."""
        doc = sentence.doc
        if self._answered_no(doc, end):
            return True
        following = " " + " ".join(doc[i]._.get(_NORM) for i in range(end, min(sentence.end, end + self.window))) + " "
        if any(self._contains(following, phrase) for phrase in self.negation_cancellers):
            return False  # "never had chest pain like this": an intensifier
        if sign.inner_negation:
            inner = {doc[i]._.get(_NORM) for i in range(start + 1, end - 1)}
            if inner & {c for c in self.negation_before if " " not in c}:
                return True
        before = [
            doc[i]._.get(_NORM) if i not in covered else "_"
            for i in range(max(sentence.start, start - self.window), start)
        ]
        words = self._cut_at_last_break(before)
        # Unmasked: "can't walk without chest pain" holds another sign's "can't".
        written = [doc[i]._.get(_NORM) for i in range(start - len(words), start)]
        for cue, cancellers in self.double_negatives.items():
            # "can't finish a sentence without stopping for air": the two negations cancel.
            if cue in words:
                last = len(words) - 1 - words[::-1].index(cue)
                if any(self._contains(" " + " ".join(written[:last]) + " ", c) for c in cancellers):
                    words = words[last + 1 :]
        text = " " + " ".join(words) + " "
        for cue in self.negation_before:
            if " " in cue:
                if self._contains(text, cue):
                    return True
                continue
            for index, word in enumerate(words):
                follower = words[index + 1] if index + 1 < len(words) else doc[start]._.get(_NORM)
                if word == cue and follower not in self.not_negation_followers:
                    return True
        after = self._cut_at_first_break(
            [doc[i]._.get(_NORM) for i in range(end, min(sentence.end, end + self.window))]
        )
        after_text = " " + " ".join(after) + " "
        written_after = " " + " ".join(doc[i].lower_ for i in range(end, end + len(after))) + " "
        for cue in self.negation_after:
            position = after_text.find(f" {cue} ")
            if position < 0 or after_text[:position].endswith((" not", " never", " no")):
                continue
            if " go " in f" {cue} " and " going " in written_after:
                continue  # "has been going into my jaw": the lemmas of "is gone", but it goes on
            # "it's gone on for days", "has gone up": undone by the word after it.
            following = after_text[position + len(cue) + 2 :].split()[:1]
            if not (following and following[0] in self.not_negation_after_followers):
                return True
        return False

    def _answered_no(self, doc: Doc, end: int) -> bool:
        """A sign asked and answered by the writer: "Chest pain? No. Swollen leg? Nope."."""
        return end + 1 < len(doc) and doc[end].text == "?" and doc[end + 1].lower_ in self.answered_no

    def _is_asked_about(self, sentence: Span, history_counts: bool = True) -> bool:
        tokens = [t for t in sentence if not t.is_space]
        if not tokens:
            return False
        text = self._norm_text(tokens)
        # "can't breathe" starts with "can" but is no question.
        second = tokens[1]._.get(_NORM) if len(tokens) > 1 else ""
        first = tokens[0]
        question = second != "not" and (
            first.lower_ in self.question_starter_words
            or (first._.get(_NORM) in self.question_starters and first._.get(_NORM) not in LEMMA_ONLY_STARTERS)
        )
        if question and not any(self._contains(text, m) for m in self.report_markers):
            return True
        written = sentence.text
        if history_counts and (
            any(self._contains(text, cue) for cue in (*self.long_ago, *self.story_ended))
            or any(rx.search(written) for rx in self.long_ago_regex)
        ):
            # "all fine since", "nothing since" end the story; they do not bring it into the present.
            settled = text
            for phrase in (*self.negation_after, *self.story_ended):
                settled = settled.replace(f" {phrase} ", " ")
            if not any(self._contains(settled, marker) for marker in self.present_markers):
                return True
        for likeness in ("as if", "as though"):  # "feels as if I was drowning" supposes nothing
            text = text.replace(f" {self._normalised(likeness)} ", " ")
            written = re.sub(rf"\b{likeness}\b", " ", written, flags=re.IGNORECASE)
        # Longest first: "in case I" before "in case", or "I get" stays and reads as a report.
        cues = sorted((cue for cue in self.hypothetical if self._contains(text, cue)), key=len, reverse=True)
        for cue in cues:  # "if I get …" holds "I get", which must not read as a report
            text = text.replace(f" {cue} ", " ")
        supposed = bool(cues) or any(rx.search(written) for rx in self.hypothetical_regex)
        return supposed and not any(self._contains(text, m) for m in self.strong_report_markers)

    def _clause_is_history(self, sentence: Span, start: int, end: int) -> bool:
        """The sign's own clause is long past ("I had heatstroke 20 years ago, now I cramp
        sometimes"): the present marker belongs to another clause.
        """
        words, following = self._clause_and_rest(sentence, start, end)
        clause = " " + " ".join(words) + " "
        # What follows the clause, its break included ("cramps every night now", "…, but now it
        # comes at rest": a present that speaks of the same thing again).
        rest = " " + " ".join(following) + " "
        if not any(self._contains(clause, cue) for cue in self.long_ago):
            return False
        ending = rest.split()[:1]  # "cramps every night now": a break that is itself a present marker
        if any(self._contains(clause + " ".join(ending) + " ", marker) for marker in self.present_markers):
            return False
        return not any(
            any(self._contains(later, marker) for marker in self.present_markers)
            and any(self._contains(later, word) for word in self.same_thing_again)
            for later in self._clauses(rest.split())
        )

    def _clauses(self, words: List[str]) -> List[str]:
        """The words split at clause breaks, each break opening the clause after it."""
        clauses, current, index = [], [], 0
        while index < len(words):
            size = next(
                (
                    brk.count(" ") + 1
                    for brk in self.clause_breaks
                    if " ".join(words[index : index + brk.count(" ") + 1]) == brk
                ),
                0,
            )
            if size and current:
                clauses.append(" " + " ".join(current) + " ")
                current = []
            current.extend(words[index : index + max(size, 1)])
            index += max(size, 1)
        if current:
            clauses.append(" " + " ".join(current) + " ")
        return clauses

    def _sentence_requires(self, sign: Sign, sentence: Span) -> bool:
        text = self._norm_text(sentence)
        return not sign.requires_in_sentence or any(self._contains(text, word) for word in sign.requires_in_sentence)

    def _sentence_has(self, sentence: Span, phrases: Iterable[str]) -> bool:
        text = self._norm_text(sentence)
        return any(self._contains(text, phrase) for phrase in phrases)

    def _clause_and_rest(self, sentence: Span, start: int, end: int) -> Tuple[List[str], List[str]]:
        """The normalised words of the clause around doc[start:end] (between clause breaks),
        and the words of the sentence after it.
        """
        doc = sentence.doc
        norm = [doc[i]._.get(_NORM) for i in range(sentence.start, sentence.end)]
        before = self._cut_at_last_break(norm[: start - sentence.start])
        after = self._cut_at_first_break(norm[end - sentence.start :])
        return before + norm[start - sentence.start : end - sentence.start] + after, norm[
            end - sentence.start + len(after) :
        ]

    def _rules_out(self, sign: Sign, words: Sequence[str]) -> bool:
        """A ruling-out phrase neither negated nor in doubt ("never had a tetanus jab", "no idea
        when I last had a tetanus jab" rule nothing out).
        """
        text = " " + " ".join(words) + " "
        for phrase in sign.ruled_out_by:
            position = text.find(f" {phrase} ")
            if position < 0:
                continue
            before = text[: position + 1]
            if not before.endswith((" not ", " never ", " no ")) and not any(
                self._contains(before, cue) for cue in self.not_ruling_out
            ):
                return True
        return False

    @staticmethod
    def _sentence(doc: Doc, start: int) -> Span:
        return doc[start].sent if doc.has_annotation("SENT_START") else doc[:]

    def _matches(self, doc: Doc) -> Iterable[Tuple[Sign, int, int]]:
        for match_id, start, end in self.matcher(doc):
            yield self.signs[self.nlp.vocab.strings[match_id]], start, end
        for sign in self.signs.values():
            for pattern in sign.regex:
                for found in pattern.finditer(doc.text):
                    span = doc.char_span(found.start(), found.end(), alignment_mode="expand")
                    if span is not None:
                        yield sign, span.start, span.end

    def detect(self, text: str, doc: Optional[Doc] = None) -> Finding:
        """Judges one message."""
        if not text or not text.strip():
            return Finding()
        if doc is None or doc.text != text.lower():
            doc = self.nlp(text.lower())
        self.normalise.annotate(doc)
        reported, negated, asked, questioned = set(), set(), set(), set()
        sentences = list(doc.sents) if doc.has_annotation("SENT_START") else [doc[:]]
        # A sentence that rules a sign out ("had my tetanus booster last year") does so even
        # where none of its phrases matched, so the learned detector does not read it as one.
        # Only for the learned detector reading this one sentence: it is never a negation of
        # the whole message ("had my booster last year" says nothing of another sentence).
        sentence_words = {sentence.start: self._norm_text(sentence).split() for sentence in sentences}
        ruled_out = tuple(
            sorted(
                {
                    sign.name
                    for words in sentence_words.values()
                    for sign in self.ruling_out_signs
                    if self._rules_out(sign, words)
                }
            )
        )
        matches = []
        for sign, start, end in self._matches(doc):
            sentence = self._sentence(doc, start)
            if not self._sentence_requires(sign, sentence):
                continue
            # An emergency sign only by its own clause ("fell asleep after the cramp and now we
            # can't wake him"); others by their sentence ("…, and I had my booster last year").
            scope = (
                self._clause_and_rest(sentence, start, end)[0]
                if sign.level == EMERGENCY
                else sentence_words[sentence.start]
            )
            if sign.ruled_out_by and self._rules_out(sign, scope):
                negated.add(sign.name)  # like a negation
            elif not self._sentence_has(sentence, sign.unless_in_sentence):
                matches.append((sign, start, end))
        for sign, start, end in matches:
            sentence = self._sentence(doc, start)
            # Words of other signs ("can't" in "can't breathe") never negate this one.
            covered = frozenset(
                i for other, s, e in matches if other is not sign and (e <= start or s >= end) for i in range(s, e)
            )
            if sign.states_absence or self._is_negated(sign, sentence, start, end, covered):
                negated.add(sign.name)
            elif self._is_asked_about(sentence, history_counts=not sign.about_the_past) or (
                not sign.about_the_past and self._clause_is_history(sentence, start, end)
            ):
                asked.add(sign.name)
                if sentence.text.rstrip().endswith("?"):
                    questioned.add(sign.name)
            else:
                reported.add(sign.name)
        if asked and any(self._contains(self._norm_text(doc[:]), m) for m in self.ongoing_markers):
            # "Is it normal for the calf to stay hot and swollen? It's been like this two days."
            reported |= asked
        not_a_report = all(self._is_asked_about(sentence) for sentence in sentences)
        finding = self._judge(
            reported, negated - reported, asked - reported, not_a_report, frames=questioned - negated - reported
        )
        return replace(finding, ruled_out=tuple(name for name in ruled_out if name not in reported))

    def settled_reasons(self, finding: Finding) -> FrozenSet[str]:
        """The reasons of the signs a message rules out ("it lasted about a minute", "had my
        booster last year"): the learned detector must be sure to report one of them.
        """
        return frozenset(self.signs[name].reason for name in finding.ruled_out if self.signs[name].level)

    def doubted_reasons(self, finding: Finding) -> FrozenSet[str]:
        """The reasons of the signs a finding read as asked about, supposed or past: their own and
        their combinations' (a question about statins frames all of them). Not of signs denied:
        a negation removes only the sign it negates ("no chest pain, but out of breath").
        """
        asked = set(finding.asked_about)
        own = {self.signs[name].reason for name in asked if self.signs[name].level}
        return frozenset(own | {c.reason for c in self.combinations if c.signs & asked})

    def _judge(
        self, reported: set, negated: set, asked: set, not_a_report: bool, frames: Iterable[str] = ()
    ) -> Finding:
        candidates: List[Tuple[str, str]] = []
        replaced: set = set()
        context = reported | {name for name in frames if self.signs[name].frames_from_a_question}
        for combination in self.combinations:
            if combination.signs <= context and combination.signs & reported and not combination.unless & reported:
                candidates.append((combination.level, combination.reason))
                replaced |= combination.replaces
        for name in sorted(reported - replaced):
            sign = self.signs[name]
            if sign.level:
                candidates.append((sign.level, sign.reason))
        level, reason = None, None
        if candidates:
            # Highest level first; among equals, a specific reason beats a general one
            # (a fit and not waking: the fit's first aid), then the first found.
            level, reason = max(candidates, key=lambda c: (LEVEL_RANK[c[0]], GENERAL_REASONS.get(c[1], 2)))
        return Finding(
            level=level,
            reason=reason,
            signs=tuple(sorted(reported)),
            negated=tuple(sorted(negated)),
            asked_about=tuple(sorted(asked)),
            not_a_report=not_a_report,
        )


def load_rules(nlp: Language, path: Path = PATTERNS_FILE) -> RedFlagRules:
    return RedFlagRules(load_spec(path), nlp)
