"""Calls to the action server that are quick, small, quiet and never end in silence.

Rasa 3.6 waits up to 300 s for the action server (DEFAULT_REQUEST_TIMEOUT, which
endpoints.yml cannot change): longer than a conversation lock lives (60 s). When the
call fails, it logs the error (with the action server's reply, which for a crashed
action holds the whole conversation) and drops the action's events: the person gets
nothing. Here a failed or slow call becomes the short `utter_action_unavailable`
apology; triage answers are plain responses and need no action server at all.

The action server's reply is checked against Rasa's schema with a validator built once:
`jsonschema.validate` re-checks the (large) events schema itself on every call, which
cost about 10 ms a turn.

The request carries the current turn's events only, not the whole history: the
actions read slots and the latest message, and a history that grows with the
conversation made every call slower and sent more health text than needed.

Rasa 3.6 has no hook for either, so `install()` replaces the RemoteAction class that
`rasa.core.actions.action.action_for_name_or_text` instantiates.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from typing import TYPE_CHECKING, Any, Dict, List, Text

import rasa.core.actions.action as rasa_actions
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction, create_bot_utterance
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import EventVerbosity

from coach_names import Response

if TYPE_CHECKING:
    from rasa.core.channels.channel import OutputChannel
    from rasa.core.nlg import NaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

# Well under the 60 s conversation lock; a healthy answer takes a few milliseconds.
TIMEOUT_SECONDS = float(os.environ.get("CRAMP_COACH_ACTION_TIMEOUT", "10"))


@functools.lru_cache(maxsize=1)
def _response_validator() -> Any:
    from jsonschema.validators import validator_for

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def current_turn_events(tracker: "DialogueStateTracker") -> List[Dict[Text, Any]]:
    """The events from the latest user message on, as the action server expects them."""
    events = list(tracker.events)
    start = next((i for i in range(len(events) - 1, -1, -1) if isinstance(events[i], UserUttered)), 0)
    return [event.as_dict() for event in events[start:]]


class ResilientRemoteAction(RemoteAction):
    """RemoteAction with its own timeout, a kind failure and a small request."""

    def _action_call_format(self, tracker: "DialogueStateTracker", domain: "Domain") -> Dict[Text, Any]:
        body = super()._action_call_format(tracker.init_copy(), domain)
        state = tracker.current_state(EventVerbosity.NONE)
        state["events"] = current_turn_events(tracker)
        body["tracker"] = state
        return body

    def _validate_action_result(self, result: Dict[Text, Any]) -> bool:
        from jsonschema.exceptions import best_match

        error = best_match(_response_validator().iter_errors(result))
        if error is not None:
            raise error
        return True

    async def run(
        self,
        output_channel: "OutputChannel",
        nlg: "NaturalLanguageGenerator",
        tracker: "DialogueStateTracker",
        domain: "Domain",
    ) -> List[Event]:
        try:
            return await asyncio.wait_for(super().run(output_channel, nlg, tracker, domain), TIMEOUT_SECONDS)
        except ActionExecutionRejection:
            raise
        except Exception as error:  # noqa: BLE001 (any failure must still answer the person)
            # The type only: the error's text can hold the action server's reply, i.e. the conversation.
            logger.error("action '%s' failed (%s); the person was told to try again", self.name(), type(error).__name__)
            draft = await nlg.generate(Response.ACTION_UNAVAILABLE, tracker, output_channel.name())
            return [create_bot_utterance({**(draft or {}), "utter_action": Response.ACTION_UNAVAILABLE})]


def install() -> None:
    """Makes Rasa create ResilientRemoteAction for every custom action (idempotent)."""
    rasa_actions.RemoteAction = ResilientRemoteAction
