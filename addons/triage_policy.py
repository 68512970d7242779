"""Keeps the triage slots on the Rasa side, so they never wait on the action server.

The policy never predicts an action (all its probabilities are zero); it only attaches
SlotSet events to the turn's first prediction, which Rasa applies before the chosen
action runs, so the triage response already sees the right emergency number.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

import yaml
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SlotSet
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from addons.emergency_numbers import NUMBERS_FILE, EmergencyNumbers, load_numbers, parse_numbers
from addons.nlu_components import RED_FLAG_KEY
from addons.red_flags import LEVEL_RANK
from addons.stored_json import read_json, write_json

ARTIFACT = "emergency_numbers.json"

# Signs after which no answer may suggest massaging the leg.
CLOT_SIGNS = {"clot_mention", "leg_swelling", "hard_veins"}
CLOT_REASONS = {"clot", "swelling_unclear"}


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class TriageStatePolicy(Policy):
    """Raises `triage_level` (never lowers it) and keeps the emergency number current."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # numbers_fingerprint: kept in config.yml by scripts/train_model.py, so that a
        # changed knowledge/emergency_numbers.yml retrains this policy (Rasa's cache
        # cannot see files a component reads itself).
        return {"priority": 0, "numbers_fingerprint": None}

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
        level = red_flag.get("level")
        if level in LEVEL_RANK:
            current = tracker.get_slot("triage_level")
            if LEVEL_RANK[level] > LEVEL_RANK.get(current, 0):
                wanted["triage_level"] = level
            wanted["triage_reason"] = red_flag.get("reason") or "default"
            if red_flag.get("reason") in CLOT_REASONS or CLOT_SIGNS & set(red_flag.get("signs") or []):
                wanted["clot_signs"] = True
        if self.numbers is not None:
            wanted["emergency_number"] = self.numbers.number_text(
                tracker.get_slot("country"), message.metadata or {}
            )
        return [
            SlotSet(name, value)
            for name, value in wanted.items()
            if tracker.get_slot(name) != value
        ]

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        return self._prediction(
            self._default_predictions(domain), events=self.slot_events(tracker)
        )
