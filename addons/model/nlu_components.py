"""Custom NLU graph components: stated country, the language guard and the red-flag detector.

StatedCountry keeps a country only where the person says they are there. The language
guard and the red-flag detector run after the intent classifier and FallbackClassifier
and may override the intent, so that a dialogue rule can react whatever the classifier
chose. The classifier's own intent is kept in the component's output key for the answer
action.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, FrozenSet, List, Optional, Set, Text, Tuple

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_ROLE,
    ENTITY_ATTRIBUTE_TYPE,
    INTENT,
    INTENT_RANKING_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from spacy.lang.en.stop_words import STOP_WORDS

from addons.model.red_flag_classifier import (
    MIN_SENTENCE_WORDS,
    ClassifierFinding,
    RedFlagClassifier,
    alarming,
    corpus_fingerprint,
    label_of,
    load_corpus,
)
from addons.model.red_flags import LEVEL_RANK, PATTERNS_FILE, Finding, RedFlagRules, load_spec
from addons.model.sentence_encoder import encoding_of, load_encoder, split_sentences
from addons.model.stored_json import StoredJsonComponent
from coach_names import Intent

logger = logging.getLogger(__name__)

RED_FLAG_KEY = "red_flag"
LANGUAGE_KEY = "language_guard"
UNSUPPORTED_LANGUAGE_INTENT = Intent.UNSUPPORTED_LANGUAGE
TRIAGE_PREFIX = "red_flag_"
NOT_QUESTIONS = {
    "nlu_fallback",
    UNSUPPORTED_LANGUAGE_INTENT,
    Intent.GREET,
    Intent.GOODBYE,
    Intent.THANKS,
    Intent.AFFIRM,
    Intent.DENY,
    Intent.OUT_OF_SCOPE,
    Intent.BOT_CHALLENGE,
    Intent.INFORM_COUNTRY,
    Intent.FORGET_ME,
    Intent.CONFIRM_FORGET_ME,
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

COUNTRY_ENTITY = "country"
STATED_ROLE = "stated"  # the `country` slot maps only this role (domain.yml)
MENTIONED_ROLE = "mentioned"
# "I'm in …", "we live in …", "I'm currently based in …", "here in …": the person is there now.
_STATED_BEFORE = re.compile(
    r"(?:\b(?:i'?m|i am|we'?re|we are|i live|we live|i'?m living|we'?re living|living|based|located|"
    r"staying|currently|here)\b)(?:\s+(?:currently|now|still|also|actually|over|out|down|up|back|based|"
    r"living|staying|located))*\s+in\s+(?:the\s+)?$"
)
_COUNTRY_IS_BEFORE = re.compile(r"\b(?:my|our) country is\s+(?:the\s+)?$|\bcountry\s*:\s*(?:the\s+)?$")
# A message that is only a place, or "I'm from / in <place>": an answer to "which country?".
_WHOLE_MESSAGE = re.compile(r"^\W*(?:(?:i'?m|i am|we'?re|we are|i live|we live)\s+)?(?:(?:from|in)\s+)?(?:the\s+)?\Z")
_WHOLE_MESSAGE_AFTER = re.compile(r"^\s*(?:btw|thanks|please|pls)?\W*\Z")


def is_stated_place(text: Text, start: int, end: int) -> bool:
    """True when the words around text[start:end] say the person is in that place now."""
    before, after = text[:start].lower(), text[end:].lower()
    if _STATED_BEFORE.search(before) or _COUNTRY_IS_BEFORE.search(before):
        return True
    return bool(_WHOLE_MESSAGE.match(before) and _WHOLE_MESSAGE_AFTER.match(after))


class StatelessComponent(GraphComponent):
    """A component with nothing to configure or train: it only looks at each message."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "StatelessComponent":
        return cls()


POPULATION_ENTITY = "population"
# An age said in numbers: "my dad is 82", "I'm 68", "54F", "my 7yo", "in her 80s", "my son (24)".
_AGE = re.compile(
    r"\b(\d{1,3})\s*-?\s*(?:years?|yrs?|yr|y)\s*-?\s*olds?\b"
    r"|\b(\d{1,3})\s*(?:yo|y/o|y\.o\.)\b"
    r"|\b(\d{2})\s?[mf]\b"
    r"|\b(?:i'?m|i am|he'?s|he is|she'?s|she is|is|aged|age|turned|turning)\s+(\d{1,3})\b"
    r"(?!\s*(?:weeks?|wks?|months?|days?|nights?|hours?|hrs?|minutes?|mins?|mg|kg|lbs?|k|km|miles?|%|times|x|cm))"
    r"|\bin (?:his|her|my|their|our) ([6-9])0s\b"
    r"|(?:\b(?:son|daughter|husband|wife|dad|mum|mom|father|mother|partner|he|she)\s*)\((\d{1,2})\)",
    re.IGNORECASE,
)
OLDER_FROM, CHILD_UNTIL = 65, 17


def stated_ages(text: Text) -> List[Tuple[int, int, int]]:
    """(age, start, end) for every age said in numbers."""
    ages = []
    for match in _AGE.finditer(text):
        number = next(int(group) for group in match.groups() if group)
        ages.append((number * 10 if match.group(5) else number, match.start(), match.end()))
    return ages


def age_population(text: Text) -> Optional[Tuple[Text, int, int]]:
    """(population, start, end) for an age said in numbers that places a person in one."""
    for age, start, end in stated_ages(text):
        if age >= OLDER_FROM:
            return "elderly", start, end
        if 0 < age <= CHILD_UNTIL:
            return "children", start, end
    return None


# "my son is 24", "our daughter (36)": a son or daughter, grown up; not a question about children.
_KIN = re.compile(
    r"^(?:my |our |his |her )?(?:son|sons|daughter|daughters|boy|girl|grandson|granddaughter|grandchild)$", re.I
)


def _grown_up_kin(text: Text, entity: Dict[Text, Any]) -> bool:
    if entity.get(ENTITY_ATTRIBUTE_TYPE) != POPULATION_ENTITY or entity.get("value") != "children":
        return False
    if not _KIN.match(text[entity.get("start", 0) : entity.get("end", 0)].strip()):
        return False
    ages = [age for age, _, _ in stated_ages(text)]
    return bool(ages) and min(ages) > CHILD_UNTIL


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class AgePopulation(StatelessComponent):
    """Adds a `population` entity for an age given in numbers, when no word gave one.

    The vocabulary knows "elderly" and "my son"; people write "my dad is 82" or "he's 8".
    A son or daughter whose age makes them an adult ("my son is 24") is not a child.
    """

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            entities = message.get(ENTITIES) or []
            kept = [e for e in entities if not _grown_up_kin(text, e)]
            if len(kept) != len(entities):
                entities = kept
                message.set(ENTITIES, entities, add_to_output=True)
            if any(e.get(ENTITY_ATTRIBUTE_TYPE) == POPULATION_ENTITY for e in entities):
                continue
            found = age_population(text)
            if found:
                value, start, end = found
                entity = {
                    "entity": POPULATION_ENTITY,
                    "value": value,
                    "start": start,
                    "end": end,
                    "extractor": self.__class__.__name__,
                }
                message.set(ENTITIES, [*entities, entity], add_to_output=True)
        return messages


# "not pregnant", "I don't do sport", "I'm not old": the people named are not the ones asked about.
_NEGATED_BEFORE = re.compile(
    r"\b(?:not|no|never|don'?t|dont|doesn'?t|isn'?t|aren'?t|ain'?t|nor)\s+(?!sure\b|only\b|just\b|long\b)(?:\w+\s+)?$",
    re.IGNORECASE,
)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class NegatedPopulation(StatelessComponent):
    """Drops a `population` entity the message negates ("i dont do sport, not pregnant,
    just get them": a general question, not one about athletes or pregnancy).
    """

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            entities = message.get(ENTITIES) or []
            kept = [
                e
                for e in entities
                if e.get(ENTITY_ATTRIBUTE_TYPE) != POPULATION_ENTITY
                or not _NEGATED_BEFORE.search(text[: e.get("start", 0)])
            ]
            if len(kept) != len(entities):
                message.set(ENTITIES, kept, add_to_output=True)
        return messages


BODY_PART_ENTITY = "body_part"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class FigurativeBodyPart(GraphComponent):
    """Drops a `body_part` entity used in a figure of speech, not as the place of a cramp:
    "on my feet all day" (standing), "the cramps came back", "my bloods came back",
    "point my toes in bed" (how one lies). Such a word must not send a question about
    causes or prevention to the toe or the "other places" entry.

    `figures` (config.yml): regular expressions; an entity inside a match is dropped.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"figures": []}

    def __init__(self, figures: List[Text]):
        try:  # a broken expression fails training, not a conversation
            self._figures = [re.compile(figure, re.IGNORECASE) for figure in figures]
        except re.error as error:
            raise ValueError(f"config.yml, FigurativeBodyPart: a figure does not compile: {error}") from error

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "FigurativeBodyPart":
        return cls(list(config.get("figures") or []))

    def _is_figurative(self, text: Text, entity: Dict[Text, Any]) -> bool:
        start, end = entity.get("start", 0), entity.get("end", 0)
        return any(
            match.start() <= start and end <= match.end() for figure in self._figures for match in figure.finditer(text)
        )

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            entities = message.get(ENTITIES) or []
            kept = [
                e
                for e in entities
                if e.get(ENTITY_ATTRIBUTE_TYPE) != BODY_PART_ENTITY or not self._is_figurative(text, e)
            ]
            if len(kept) != len(entities):
                message.set(ENTITIES, kept, add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class StatedCountry(StatelessComponent):
    """Gives each `country` entity the role `stated` or `mentioned`.

    The `country` slot takes only `stated`, so a place, unit or food mentioned in passing
    ("I flew back from London", "2 oz of pickle juice") never changes the emergency
    number. Works whatever the intent, since the red-flag detector may override it ("I'm
    in the UK and my chest hurts"). Runs after EntitySynonymMapper (values are codes).
    """

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            for entity in message.get(ENTITIES) or []:
                if entity.get(ENTITY_ATTRIBUTE_TYPE) == COUNTRY_ENTITY:
                    stated = is_stated_place(text, entity.get("start", 0), entity.get("end", 0))
                    entity[ENTITY_ATTRIBUTE_ROLE] = STATED_ROLE if stated else MENTIONED_ROLE
        return messages


def _override_intent(message: Message, name: Text) -> None:
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != name]
    message.set(INTENT, {"name": name, "confidence": 1.0}, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [{"name": name, "confidence": 1.0}] + ranking, add_to_output=True)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LanguageGuard(StoredJsonComponent):
    """Marks messages that are not English text, so the reply can say so kindly.

    English is told from other languages by how many words the assistant knows: the
    words of its training examples plus English stop words.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"min_words": 3, "min_known_share": 0.34, "max_foreign_script_share": 0.5}

    ARTIFACT = "known_words.json"

    def restore(self, stored: Optional[List[Text]]) -> None:
        self._known = set(STOP_WORDS) | set(stored or ())

    def train(self, training_data: TrainingData) -> Resource:
        words: Set[Text] = set()
        for example in training_data.intent_examples:
            if example.get(INTENT) != UNSUPPORTED_LANGUAGE_INTENT:
                words.update(w.lower() for w in _WORD.findall(example.get(TEXT) or ""))
        self.restore(sorted(words))
        return self.persist(sorted(words))

    def is_foreign(self, text: Text) -> bool:
        """True for text that is clearly not English."""
        letters = [c for c in text if c.isalpha()]
        if not letters:
            return False  # emoji, digits, punctuation: the classifier's fallback answers
        foreign = sum(1 for c in letters if ord(c) > 0x24F)
        if foreign / len(letters) > self._config["max_foreign_script_share"]:
            return True
        words = [w.lower() for w in _WORD.findall(text)]
        if len(words) < self._config["min_words"]:
            return False
        known = sum(1 for w in words if w in self._known)
        return known / len(words) < self._config["min_known_share"]

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if self.is_foreign(text):
                message.set(LANGUAGE_KEY, {"classifier_intent": message.get(INTENT)}, add_to_output=True)
                _override_intent(message, UNSUPPORTED_LANGUAGE_INTENT)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER],
    is_trainable=True,
    model_from="SpacyNLP",
)
class RedFlagDetector(StoredJsonComponent):
    """Finds red-flag signs in every message and turns them into a triage intent.

    Runs last: on a finding the intent becomes red_flag_<level> with confidence 1.0,
    overriding whatever the classifier (or the fallback) chose. Two detectors, the
    higher level wins: the curated patterns (knowledge/red_flags.yml) and the learned
    red-flag classifier on the sentence encoder (addons/model/red_flag_classifier.py). DIET's
    own red_flag_* prediction stays a safety net, unless the patterns saw the sign
    negated or asked about.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # sha256 prefix of knowledge/red_flags.yml + addons/model/red_flags.py; kept in
            # config.yml so that a changed pattern file retrains this component.
            "patterns_fingerprint": None,
            "classifier_safety_net_threshold": 0.8,
            # A question asked beside a red flag is answered after the triage answer
            # when the classifier is at least this sure of it.
            "question_intent_threshold": 0.2,
            # The learned classifier's probability at or above which it reports a level
            # (chosen on the tuning part of the triage suite; see tests/heldout/README.md).
            "learned_thresholds": {"emergency": 0.25, "urgent": 0.5, "routine": 0.9},
            # Below this the classifier's reason is a guess: it escalates with the level's
            # general answer, not with advice for an emergency the person may not have.
            "learned_reason_from": 0.5,
            # How sure it must be to report a sign for a reason whose signs the patterns read as
            # asked about, supposed or past in the same message.
            "learned_sure_when_doubted": {"emergency": 0.6, "urgent": 0.8, "routine": 0.95},
            # Between these and the thresholds the classifier is unsure: when nothing else
            # escalated, the assistant asks one short question (addons/model/triage_policy.py).
            "unsure_from": {"emergency": 0.15, "urgent": 0.35},
            # The question asked, by the reason the classifier suspects (domain response
            # utter_triage_question, variant by the slot triage_question).
            "questions": {
                "clot": "one_leg",
                "swelling_unclear": "one_leg",
                "breathing_or_chest": "chest",
                "collapse": "chest",
                "default": "now",
            },
        }

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        """Rasa's cache cannot see the corpus the classifier is trained on: retrain when it changes."""
        return corpus_fingerprint()

    ARTIFACT = "red_flags.json"

    def restore(self, stored: Optional[Dict[Text, Any]]) -> None:
        stored = stored or {}
        self._spec = stored.get("patterns")
        self._learned = RedFlagClassifier.from_dict(stored["classifier"]) if stored.get("classifier") else None
        self._rules: Optional[RedFlagRules] = None

    def train(self, training_data: TrainingData, model: Optional[SpacyModel] = None) -> Resource:
        spec = load_spec(PATTERNS_FILE)
        if model is not None:
            RedFlagRules(spec, model.model)  # fail the training on a broken file
        corpus = load_corpus()
        learned = RedFlagClassifier.train(
            [m["text"] for m in corpus], [label_of(m) for m in corpus], load_encoder().encode
        )
        stored = {"patterns": spec, "classifier": learned.to_dict()}
        self.restore(stored)
        return self.persist(stored)

    def _rules_for(self, model: SpacyModel) -> RedFlagRules:
        if self._rules is None or self._rules.nlp is not model.model:
            self._rules = RedFlagRules(self._spec or load_spec(PATTERNS_FILE), model.model)
        return self._rules

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        rules = self._rules_for(model)
        for message in messages:
            self._process_message(message, rules)
        return messages

    def _process_message(self, message: Message, rules: RedFlagRules) -> None:
        text = message.get(TEXT) or ""
        # SpacyNLP already parsed the (lowercased) text; detect() checks it matches.
        finding = rules.detect(text, message.get(SPACY_DOCS[TEXT]))
        intent = message.get(INTENT) or {}
        classifier_intent = dict(intent)
        language = message.get(LANGUAGE_KEY)
        if language:
            classifier_intent = language.get("classifier_intent") or classifier_intent
        level, source, reason = finding.level, "patterns", finding.reason
        strongest = self._learned_strongest(message, text, rules, finding)
        # What the message itself rules out ("it lasted about a minute") needs a sure reading.
        settled, sure = rules.settled_reasons(finding), self._config["learned_sure_when_doubted"]
        strongest = {
            lvl: found
            for lvl, found in strongest.items()
            if found.reason not in settled or found.probability >= sure[lvl]
        }
        doubted = self._doubted(strongest, rules.doubted_reasons(finding))
        learned = alarming(
            {lvl: f for lvl, f in strongest.items() if f is not doubted.get(lvl)}, self._config["learned_thresholds"]
        )
        if learned is not None and LEVEL_RANK[learned.level] > LEVEL_RANK.get(level or "", 0):
            level, source = learned.level, "learned"
            reason = learned.reason_if_sure(self._config["learned_reason_from"])
        if level is None and str(classifier_intent.get("name", "")).startswith(TRIAGE_PREFIX):
            confident = classifier_intent.get("confidence", 0.0) >= self._config["classifier_safety_net_threshold"]
            if confident and not (finding.negated or finding.asked_about or finding.not_a_report):
                level, source, reason = classifier_intent["name"][len(TRIAGE_PREFIX) :], "classifier", "default"
            elif str(intent.get("name", "")).startswith(TRIAGE_PREFIX):
                self._demote(message)
        if level:
            _override_intent(message, f"{TRIAGE_PREFIX}{level}")
        red_flag = finding.as_dict()
        red_flag.update(
            level=level,
            reason=reason if level else None,
            source=source if level else None,
            learned=learned.as_dict() if learned else None,
            unsure=self._unsure(strongest, level, doubted),
            classifier_intent=classifier_intent,
            question_intent=self._question_intent(message),
        )
        message.set(RED_FLAG_KEY, red_flag, add_to_output=True)

    def _doubted(
        self, strongest: Dict[Text, ClassifierFinding], reasons: FrozenSet[Text]
    ) -> Dict[Text, ClassifierFinding]:
        """Per level, the finding not sure enough to overrule the patterns, which read its very sign as
        asked about, supposed or past ("Hypothetically if my kid swallowed turpentine, who do I call?
        We have a bottle."). It does not escalate; the assistant asks instead (_unsure). Findings of
        other levels still count.
        """
        reports, sure = self._config["learned_thresholds"], self._config["learned_sure_when_doubted"]
        return {
            level: found
            for level, found in strongest.items()
            if found.reason in reasons and reports[level] <= found.probability < sure[level]
        }

    def _unsure(
        self, strongest: Dict[Text, ClassifierFinding], level: Optional[Text], doubted: Dict[Text, ClassifierFinding]
    ) -> Optional[Dict[Text, Any]]:
        """What to ask when the classifier half-suspects an urgent or emergency sign nothing confirmed
        (doubted: findings the patterns' reading overruled).
        """
        if LEVEL_RANK.get(level or "", 0) >= LEVEL_RANK["urgent"]:
            return None
        for suspected in ("emergency", "urgent"):
            finding = strongest.get(suspected)
            if finding and (
                finding is doubted.get(suspected)
                or self._config["unsure_from"][suspected]
                <= finding.probability
                < self._config["learned_thresholds"][suspected]
            ):
                questions = self._config["questions"]
                return {
                    "level": suspected,
                    "reason": finding.reason,
                    "question": questions.get(finding.reason, questions["default"]),
                }
        return None

    def _learned_strongest(
        self, message: Message, text: Text, rules: RedFlagRules, whole_finding: Finding
    ) -> Dict[Text, ClassifierFinding]:
        """Per level, the learned classifier's surest sentence, where the patterns see no negation or question
        (whole_finding: the patterns' reading of the whole message, already made).
        """
        if self._learned is None or not text.strip():
            return {}
        whole, sentences = encoding_of(message)
        parts = [text] + (split_sentences(text) if len(sentences) > 1 else [])
        vectors = np.vstack([whole, sentences]) if len(parts) > 1 else whole[None, :]

        def counts(index: int) -> bool:
            if index and len(parts[index].split()) < MIN_SENTENCE_WORDS:
                return False  # "It's warm." alone: the whole message gives it its sense
            if not index:
                return not (whole_finding.negated or whole_finding.asked_about or whole_finding.not_a_report)
            seen = rules.detect(parts[index])
            return not (seen.negated or seen.asked_about or seen.not_a_report or seen.ruled_out)

        return self._learned.strongest(vectors, counts)

    def _question_intent(self, message: Message) -> Optional[Dict[Text, Any]]:
        """The best non-triage intent, so a question asked beside a sign is answered."""
        for ranked in message.get(INTENT_RANKING_KEY) or []:
            name = str(ranked.get("name", ""))
            if name.startswith(TRIAGE_PREFIX) or name in NOT_QUESTIONS:
                continue
            if ranked.get("confidence", 0.0) >= self._config["question_intent_threshold"]:
                return {"name": name, "confidence": ranked.get("confidence")}
            return None
        return None

    @staticmethod
    def _demote(message: Message) -> None:
        """Replace a classifier red_flag_* intent the patterns contradict."""
        ranking = [
            r for r in message.get(INTENT_RANKING_KEY) or [] if not str(r.get("name", "")).startswith(TRIAGE_PREFIX)
        ]
        best = ranking[0] if ranking else {"name": "nlu_fallback", "confidence": 1.0}
        message.set(INTENT, dict(best), add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    def process_training_data(self, training_data: TrainingData, model: Optional[SpacyModel] = None) -> TrainingData:
        return training_data
