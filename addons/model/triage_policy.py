"""Keeps the triage slots on the Rasa side, so they never wait on the action server.

It attaches SlotSet events to the turn's predictions, which Rasa applies before the chosen
action runs, so the triage response already sees the right emergency number. It predicts
actions only for the clarifying question: when the red-flag detector is unsure (no
escalation, but the learned classifier half-suspects an urgent or emergency sign), the
question is asked after the turn's answer; a yes (button or typed) to it escalates at
once, anything else carries on. The pending level and question live in slots, since a
button answer skips the NLU. Its priority is above RulePolicy's, so these few predictions
win; everywhere else its probabilities are zero.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

import yaml
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from addons.model.emergency_numbers import NUMBERS_FILE, EmergencyNumbers, load_numbers, parse_numbers
from addons.model.nlu_components import RED_FLAG_KEY
from addons.model.red_flags import LEVEL_RANK
from addons.model.stored_json import read_json, write_json
from coach_names import Intent, Response, Slot

ARTIFACT = "emergency_numbers.json"
PENDING_SLOT = Slot.TRIAGE_PENDING
QUESTION_SLOT = Slot.TRIAGE_QUESTION
QUESTION_RESPONSE = Response.TRIAGE_QUESTION
TRIAGE_RESPONSE_PREFIX = "utter_triage_"
YES_INTENT = Intent.AFFIRM

# Signs after which no answer may suggest massaging the leg.
CLOT_SIGNS = {"clot_mention", "leg_swelling", "hard_veins"}
CLOT_REASONS = {"clot", "swelling_unclear"}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class TriageStatePolicy(Policy):
    """Raises `triage_level` (never lowers it) and keeps the emergency number current."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # numbers_fingerprint: kept in config.yml by scripts/train_model.py, so that a
        # changed knowledge/emergency_numbers.yml retrains this policy (Rasa's cache
        # cannot see files a component reads itself).
        return {"priority": 7, "numbers_fingerprint": None}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        numbers: Optional[EmergencyNumbers] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context)
        self.numbers = numbers

    def train(
        self,
        training_trackers: List[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        raw = yaml.safe_load(NUMBERS_FILE.read_text(encoding="utf-8"))
        self.numbers = parse_numbers(raw)
        write_json(self._model_storage, self._resource, ARTIFACT, raw)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "TriageStatePolicy":
        stored = read_json(model_storage, resource, ARTIFACT)
        numbers = parse_numbers(stored) if stored is not None else load_numbers()
        return cls(config, model_storage, resource, execution_context, numbers=numbers)

    def slot_events(self, tracker: DialogueStateTracker) -> List[Event]:
        """The slot changes the latest user message calls for."""
        message = tracker.latest_message
        if message is None:
            return []
        wanted: Dict[Text, Any] = {}
        red_flag = (message.parse_data or {}).get(RED_FLAG_KEY) or {}
        level, reason, signs = red_flag.get("level"), red_flag.get("reason"), red_flag.get("signs")
        pending = tracker.get_slot(PENDING_SLOT)
        if level is None and pending and _answered_the_question(tracker) and _said_yes(message):
            level, reason, signs = *pending.split("|", 1), []  # the question's yes escalates
        if level in LEVEL_RANK:
            self._raise(tracker, wanted, level, reason, signs)
        if tracker.latest_action_name == ACTION_LISTEN_NAME:  # a new message: any question is answered
            unsure = red_flag.get("unsure") if level is None else None
            wanted[PENDING_SLOT] = f"{unsure['level']}|{unsure['reason']}" if unsure else None
            wanted[QUESTION_SLOT] = unsure["question"] if unsure else None
        if self.numbers is not None:
            country = tracker.get_slot(Slot.COUNTRY)
            wanted[Slot.EMERGENCY_NUMBER] = self.numbers.number_text(country, message.metadata or {})
            wanted[Slot.COUNTRY_HINT] = "" if self.numbers.for_country(country) else self.numbers.ask_country
        return [SlotSet(name, value) for name, value in wanted.items() if tracker.get_slot(name) != value]

    @staticmethod
    def _raise(
        tracker: DialogueStateTracker,
        wanted: Dict[Text, Any],
        level: Text,
        reason: Optional[Text],
        signs: Optional[List[Text]],
    ) -> None:
        current = tracker.get_slot(Slot.TRIAGE_LEVEL)
        if LEVEL_RANK[level] > LEVEL_RANK.get(current, 0):
            wanted[Slot.TRIAGE_LEVEL] = level
        wanted[Slot.TRIAGE_REASON] = reason or "default"
        if reason in CLOT_REASONS or CLOT_SIGNS & set(signs or []):
            wanted[Slot.CLOT_SIGNS] = True

    def next_action(self, tracker: DialogueStateTracker) -> Optional[Text]:
        """The action this policy insists on, if any (the clarifying question's turns only)."""
        since_user = _actions_since_user(tracker)
        message = tracker.latest_message
        red_flag = ((message.parse_data or {}) if message else {}).get(RED_FLAG_KEY) or {}
        pending = tracker.get_slot(PENDING_SLOT)
        if not since_user:
            if red_flag.get("level") is None and pending and _answered_the_question(tracker) and _said_yes(message):
                return f"{TRIAGE_RESPONSE_PREFIX}{pending.split('|', 1)[0]}"
            return None
        if since_user[-1] == QUESTION_RESPONSE or (
            _answered_the_question(tracker)
            and len(since_user) == 1
            and since_user[0].startswith(TRIAGE_RESPONSE_PREFIX)
        ):
            return ACTION_LISTEN_NAME
        if red_flag.get("unsure") and red_flag.get("level") is None and len(since_user) == 1:
            return QUESTION_RESPONSE  # after the turn's answer
        return None

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = self.next_action(tracker)
        if action is not None and action in domain.action_names_or_texts:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities, events=self.slot_events(tracker))


def _actions_since_user(tracker: DialogueStateTracker) -> List[Text]:
    """The assistant's actions after the latest user message, action_listen excluded."""
    actions: List[Text] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, ActionExecuted) and event.action_name and event.action_name != ACTION_LISTEN_NAME:
            actions.append(event.action_name)
    return list(reversed(actions))


def _answered_the_question(tracker: DialogueStateTracker) -> bool:
    """The assistant's last action before the latest user message was the clarifying question."""
    seen_user = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            if seen_user:
                return False
            seen_user = True
        elif seen_user and isinstance(event, ActionExecuted) and event.action_name != ACTION_LISTEN_NAME:
            return event.action_name == QUESTION_RESPONSE
    return False


def _said_yes(message: Any) -> bool:
    return ((message.intent or {}).get("name") if message else None) == YES_INTENT
