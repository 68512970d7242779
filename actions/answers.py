"""The answer action: picks a knowledge entry from intent, entities and context."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import Entry, KnowledgeBase, load_knowledge

MORE_INTENTS = {"ask_more", "affirm"}
FOLLOW_UP_INTENT = "ask_follow_up"
TRIAGE_INTENTS = {"red_flag_emergency", "red_flag_urgent", "red_flag_routine"}


@lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    """The validated knowledge file, read once per process."""
    return load_knowledge()


def _entities(latest_message: Dict[Text, Any]) -> Dict[Text, List[Text]]:
    found: Dict[Text, List[Text]] = {}
    for entity in latest_message.get("entities") or []:
        if entity.get("entity") and entity.get("value") is not None:
            found.setdefault(entity["entity"], []).append(str(entity["value"]))
    return found


def question_intent(latest_message: Dict[Text, Any]) -> Optional[Text]:
    """The intent of the question asked, looking through a triage override."""
    intent = (latest_message.get("intent") or {}).get("name")
    if intent in TRIAGE_INTENTS:
        red_flag = latest_message.get("red_flag") or {}
        return (red_flag.get("question_intent") or {}).get("name")
    return intent


class ActionAnswerTopic(Action):
    """Answers a question about night cramps from the curated knowledge file."""

    def __init__(self) -> None:
        # Loading here makes `rasa run actions` fail at start on a broken file.
        self.knowledge = knowledge_base()

    def name(self) -> Text:
        return "action_answer_topic"

    def choose_entry(self, tracker: Tracker) -> Optional[Entry]:
        """The entry that answers the latest message in its conversation."""
        latest = tracker.latest_message or {}
        intent = question_intent(latest)
        entities = _entities(latest)
        previous = self.knowledge.get(tracker.get_slot("topic") or "")
        if intent == FOLLOW_UP_INTENT:
            if previous:
                for route in previous.routes:
                    entry = self.knowledge.find(route.intent, entities)
                    if entry and entry.id != previous.id:
                        return entry
            return self.knowledge.find_by_entities(entities)
        if intent is None:
            return None
        population = tracker.get_slot("population")
        if population and "population" not in entities:
            entities["population"] = [population]
        return self.knowledge.find(intent, entities)

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        latest = tracker.latest_message or {}
        intent = question_intent(latest)
        if intent is None:
            return []  # a triage answer alone; nothing was asked besides
        if intent in MORE_INTENTS:
            return self._answer_more(dispatcher, tracker)
        entry = self.choose_entry(tracker)
        if entry is None:
            if (latest.get("intent") or {}).get("name") not in TRIAGE_INTENTS:
                dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        self._send_answer(dispatcher, tracker, entry)
        return [SlotSet("topic", entry.id)]

    def _answer_more(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> List[EventType]:
        entry = self.knowledge.get(tracker.get_slot("topic") or "")
        messages = self.knowledge.messages
        if entry is None:
            dispatcher.utter_message(text=messages.ask_which_topic)
        elif entry.more:
            dispatcher.utter_message(text=entry.more)
        else:
            dispatcher.utter_message(text=messages.no_more)
        return []

    def _send_answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, entry: Entry
    ) -> None:
        messages = self.knowledge.messages
        triaged_now = (tracker.latest_message.get("intent") or {}).get("name") in TRIAGE_INTENTS
        if tracker.get_slot("triage_level") == "emergency" and not triaged_now:
            number = tracker.get_slot("emergency_number") or "112"
            dispatcher.utter_message(
                text=messages.emergency_reminder.replace("{emergency_number}", number)
            )
        dispatcher.utter_message(text=entry.answer_for(bool(tracker.get_slot("clot_signs"))))
        advice = list(entry.advice)
        # Pregnancy answers end with the warning signs, also for general topics.
        if "pregnancy" in _entities(tracker.latest_message).get("population", []):
            if "pregnancy_warning_signs" not in advice:
                advice.append("pregnancy_warning_signs")
        for key in advice:
            dispatcher.utter_message(text=messages.advice[key])
        if tracker.get_slot("topic") is None:
            dispatcher.utter_message(text=messages.general_info_note)
        buttons = list(messages.feedback_buttons)
        if entry.more:
            buttons.append(messages.more_button)
        dispatcher.utter_message(
            text=messages.ask_feedback,
            buttons=[{"title": b.title, "payload": b.payload} for b in buttons],
        )
