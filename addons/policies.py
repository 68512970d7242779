"""Rasa's RulePolicy and MemoizationPolicy, predicting from the recent part of a conversation.

Both turn the whole conversation into states at every prediction (several times a
turn) and then look only at its end: a rule is at most a few turns long, and
memoization here remembers 3 states. On a 100-turn conversation that made every answer
about 15 ms slower than on the first turn. These give the same policies the latest
RECENT_EVENTS events (about ten turns, well over any rule or story), so the work per
prediction stops growing with the conversation. Slots are carried over with their
current values (none of this assistant's slots influence predictions anyway).
"""

from __future__ import annotations

import itertools
from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

RECENT_EVENTS = 80


def recent_part(tracker: DialogueStateTracker, size: int = RECENT_EVENTS) -> DialogueStateTracker:
    """The tracker's latest `size` events (from a bot action on), with its current slots."""
    if len(tracker.events) <= size:
        return tracker
    window = list(itertools.islice(tracker.events, len(tracker.events) - size, None))
    start = next((i for i, e in enumerate(window) if isinstance(e, ActionExecuted)), 0)
    return DialogueStateTracker.from_events(tracker.sender_id, window[start:], slots=list(tracker.slots.values()))


class _RecentStates:
    def _prediction_states(self, tracker: DialogueStateTracker, domain: Domain,
                           use_text_for_last_user_input: bool = False,
                           rule_only_data: Optional[Dict[Text, Any]] = None) -> List[State]:
        return super()._prediction_states(  # type: ignore[misc]
            recent_part(tracker), domain, use_text_for_last_user_input, rule_only_data)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class RecentRulePolicy(_RecentStates, RulePolicy):
    """RulePolicy on the recent part of the conversation."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class RecentMemoizationPolicy(_RecentStates, MemoizationPolicy):
    """MemoizationPolicy on the recent part of the conversation."""
