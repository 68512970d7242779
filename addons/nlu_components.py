"""Custom NLU graph components: the language guard and the red-flag detector.

Both run after the intent classifier and FallbackClassifier and may override the
intent, so that a dialogue rule can react whatever the classifier chose. The
classifier's own intent is kept in the component's output key for the answer action.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, Iterable, List, Optional, Set, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from spacy.lang.en.stop_words import STOP_WORDS

from addons.red_flags import PATTERNS_FILE, RedFlagRules, load_spec
from addons.stored_json import StoredJsonComponent

logger = logging.getLogger(__name__)

RED_FLAG_KEY = "red_flag"
LANGUAGE_KEY = "language_guard"
UNSUPPORTED_LANGUAGE_INTENT = "unsupported_language"
TRIAGE_PREFIX = "red_flag_"
NOT_QUESTIONS = {"nlu_fallback", UNSUPPORTED_LANGUAGE_INTENT, "greet", "goodbye", "thanks", "affirm", "deny", "out_of_scope", "bot_challenge", "inform_country"}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def _override_intent(message: Message, name: Text) -> None:
    ranking = [
        r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != name
    ]
    message.set(INTENT, {"name": name, "confidence": 1.0}, add_to_output=True)
    message.set(
        INTENT_RANKING_KEY, [{"name": name, "confidence": 1.0}] + ranking, add_to_output=True
    )


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
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
    overriding whatever the classifier (or the fallback) chose. The classifier's own
    red_flag_* prediction is a safety net for wordings the patterns miss, unless the
    patterns saw the sign negated or asked about.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # sha256 prefix of knowledge/red_flags.yml + addons/red_flags.py; kept in
            # config.yml so that a changed pattern file retrains this component.
            "patterns_fingerprint": None,
            "classifier_safety_net_threshold": 0.8,
            # A question asked beside a red flag is answered after the triage answer
            # when the classifier is at least this sure of it.
            "question_intent_threshold": 0.2,
        }

    ARTIFACT = "red_flags.json"

    def restore(self, stored: Optional[Dict[Text, Any]]) -> None:
        self._spec = stored
        self._rules: Optional[RedFlagRules] = None

    def train(self, training_data: TrainingData, model: Optional[SpacyModel] = None) -> Resource:
        spec = load_spec(PATTERNS_FILE)
        if model is not None:
            RedFlagRules(spec, model.model)  # fail the training on a broken file
        self.restore(spec)
        return self.persist(spec)

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
        level, source = finding.level, "patterns"
        if level is None and str(classifier_intent.get("name", "")).startswith(TRIAGE_PREFIX):
            confident = classifier_intent.get("confidence", 0.0) >= self._config[
                "classifier_safety_net_threshold"
            ]
            if confident and not (finding.negated or finding.asked_about):
                level, source = classifier_intent["name"][len(TRIAGE_PREFIX):], "classifier"
            elif str(intent.get("name", "")).startswith(TRIAGE_PREFIX):
                self._demote(message)
        if level:
            _override_intent(message, f"{TRIAGE_PREFIX}{level}")
        red_flag = finding.as_dict()
        red_flag.update(
            level=level,
            reason=finding.reason if source == "patterns" else "default",
            source=source if level else None,
            classifier_intent=classifier_intent,
            question_intent=self._question_intent(message),
        )
        message.set(RED_FLAG_KEY, red_flag, add_to_output=True)

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
            r for r in message.get(INTENT_RANKING_KEY) or []
            if not str(r.get("name", "")).startswith(TRIAGE_PREFIX)
        ]
        best = ranking[0] if ranking else {"name": "nlu_fallback", "confidence": 1.0}
        message.set(INTENT, dict(best), add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    def process_training_data(
        self, training_data: TrainingData, model: Optional[SpacyModel] = None
    ) -> TrainingData:
        return training_data
