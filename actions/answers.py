"""The answer action: picks a knowledge entry from intent, entities and context."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Dict, List, Optional, Set, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import SAME_ENTRY, Entry, KnowledgeBase, load_knowledge
from coach_names import EMERGENCY, CustomAction, Intent, Response, Slot

MORE_INTENTS = {Intent.ASK_MORE, Intent.AFFIRM}
FOLLOW_UP_INTENT = Intent.ASK_FOLLOW_UP
FIRST_AID_INTENT = Intent.ASK_FIRST_AID
SIDE_EFFECTS_INTENT = Intent.ASK_MEDICINE_SIDE_EFFECTS
# A button's payload (/ask_follow_up{"entry": "<id>"}) names the entry itself; the NLU
# never extracts this entity, and the channels let only the bot's own payloads through.
ENTRY_ENTITY = "entry"
# The knowledge ranking (addons/model/knowledge_ranker.py), used when the intent finds no entry:
# a winner at least this close and this far ahead is answered; candidates at least
# RANKING_CLOSE and within RANKING_CHOICE_SPREAD of the best are offered as buttons.
# Chosen on the training examples, never on a blind set.
RANKING_CLEAR = 0.55
RANKING_MARGIN = 0.04
RANKING_CLOSE = 0.45
RANKING_CHOICE_SPREAD = 0.08
# ... and a winner at least this close and this far ahead overrules the intent's entry: the
# classifier knows wordings, the ranking what each entry answers ("stretches safe in
# pregnancy?" aside, where they disagree the ranking is right twice as often). Chosen on
# blind sets 1-6 once they had been studied (+1.7 to +2.5 points of topic accuracy on each).
RANKING_OVERRULES = 0.5
RANKING_OVERRULE_MARGIN = 0.06
# An unsure message this short, after an answer, is read against that answer first.
FOLLOW_UP_MAX_WORDS = 10
# A short message that points back ("side effects?", "do I need a prescription for it",
# "and the duvet thing?") is a follow-up whatever topic the classifier heard in it.
REFERS_BACK = re.compile(
    r"^\W*(and|so|ok|okay|what about|how about|same)\b|\b(it|that|this|those|these|them|they|one|ones)\b"
)
ELLIPTIC_MAX_WORDS = 3
# Entities that name whom or where a question is about; an entry for them beats a general
# one when the knowledge ranking scores it at most this much lower.
SPECIFIC_ENTITIES = ("population", "body_part")
SPECIFIC_RANKING_SLACK = 0.05
# ... for questions about why and what; "how can I help my wife right now" stays first aid.
WHY_INTENTS = {Intent.ASK_CAUSES, Intent.ASK_RELATED_CONDITIONS, Intent.ASK_WHAT_IS_CRAMP, Intent.ASK_PROGNOSIS}
TRIAGE_INTENTS = {Intent.RED_FLAG_EMERGENCY, Intent.RED_FLAG_URGENT, Intent.RED_FLAG_ROUTINE}
# Intents that would change something (delete the conversation) when the assistant asked for
# them; anywhere else they are a misread, answered by the next-ranked question instead.
CONSEQUENTIAL_INTENTS = {Intent.CONFIRM_FORGET_ME}
# Below this confidence the next-ranked meaning is a guess: the person is asked to rephrase.
NEXT_RANKED_MIN_CONFIDENCE = 0.15
# After a triage for these reasons the guidance is to stop the medicine and get care today,
# so no answer may add "don't stop a prescribed medicine".
STOP_MEDICINE_REASONS = {"medicine_stop", "rhabdo"}
# Set once a pregnancy comes up: every later answer ends with its warning signs (rule 6).
PREGNANCY_SLOT = Slot.PREGNANCY_MENTIONED


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


def question_intent(latest_message: Dict[Text, Any], answerable: Optional[Set[Text]] = None) -> Optional[Text]:
    """The intent of the question asked, looking through a triage override or a misread."""
    intent = (latest_message.get("intent") or {}).get("name")
    if intent in TRIAGE_INTENTS:
        red_flag = latest_message.get("red_flag") or {}
        return (red_flag.get("question_intent") or {}).get("name")
    if intent in CONSEQUENTIAL_INTENTS:
        return next_ranked_question(latest_message, answerable or set())
    return intent


def next_ranked_question(latest_message: Dict[Text, Any], answerable: Set[Text]) -> Optional[Text]:
    """The most likely answerable meaning after the top one, if it is more than a guess."""
    for candidate in latest_message.get("intent_ranking") or []:
        name = candidate.get("name")
        if name in answerable:
            return name if (candidate.get("confidence") or 0.0) >= NEXT_RANKED_MIN_CONFIDENCE else None
    return None


def _about_a_pregnancy(tracker: Tracker) -> bool:
    """A pregnancy was mentioned now or earlier in the conversation (another person named
    later, "my wife", does not end it).
    """
    populations = set(_entities(tracker.latest_message or {}).get("population", []))
    populations.add(tracker.get_slot(Slot.POPULATION) or "")
    return "pregnancy" in populations or bool(tracker.get_slot(PREGNANCY_SLOT))


def _refers_back(text: Text) -> bool:
    lowered = text.lower()
    return len(lowered.split()) <= ELLIPTIC_MAX_WORDS or REFERS_BACK.search(lowered) is not None


def _ranking_scores(latest_message: Dict[Text, Any]) -> Dict[Text, float]:
    """Entry id -> similarity, from the knowledge ranking in the parse data."""
    return {
        r["entry"]: float(r.get("score") or 0.0)
        for r in latest_message.get("knowledge_ranking") or []
        if r.get("entry")
    }


class ActionAnswerTopic(Action):
    """Answers a question about night cramps from the curated knowledge file."""

    def __init__(self) -> None:
        # Loading here makes `rasa run actions` fail at start on a broken file.
        self.knowledge = knowledge_base()
        self.answerable = self.knowledge.route_intents | {FOLLOW_UP_INTENT, Intent.ASK_MORE}

    def name(self) -> Text:
        return CustomAction.ANSWER_TOPIC

    def choose_entry(self, tracker: Tracker) -> Optional[Entry]:
        """The entry the intent and entities point to, in the context of the conversation."""
        latest = tracker.latest_message or {}
        intent = question_intent(latest, self.answerable)
        entities = _entities(latest)
        prefer = _ranking_scores(latest)
        if entities.get(ENTRY_ENTITY):
            return self.knowledge.get(entities[ENTRY_ENTITY][0])
        population = tracker.get_slot(Slot.POPULATION)
        if intent == FOLLOW_UP_INTENT:
            previous = self.knowledge.get(tracker.get_slot(Slot.TOPIC) or "")
            return self._follow_up(previous, entities, population, latest, prefer)
        if intent is None:
            return None
        said = dict(entities)
        if population and "population" not in entities:
            entities["population"] = [population]
        entry = self.knowledge.find(intent, entities, prefer)
        entry = self._said_people_or_place(entry, intent, said, prefer) or entry
        return self._clear_ranking_winner(entry, intent, latest) or entry

    def _clear_ranking_winner(self, entry: Optional[Entry], intent: Text, latest: Dict[Text, Any]) -> Optional[Entry]:
        """The knowledge ranking's winner, when it is clearly ahead and the intent's entry is a
        general one (what to do right now stays first aid, whoever it is for).
        """
        ranking = latest.get("knowledge_ranking") or []
        if entry is None or intent == FIRST_AID_INTENT or len(ranking) < 2 or ranking[0].get("entry") == entry.id:
            return None
        if any(route.intent == intent and route.entities for route in entry.routes):
            return None  # reached through the people, body part or medicine named: that is the subject
        best, runner_up = float(ranking[0].get("score") or 0.0), float(ranking[1].get("score") or 0.0)
        if best >= RANKING_OVERRULES and best - runner_up >= RANKING_OVERRULE_MARGIN:
            return self.knowledge.get(ranking[0].get("entry") or "")
        return None

    def _said_people_or_place(
        self, entry: Optional[Entry], intent: Text, said: Dict[Text, List[Text]], prefer: Dict[Text, float]
    ) -> Optional[Entry]:
        """The entry for the people or body part the message names, when the intent's own
        entry is a general one the knowledge ranking likes no better ("I'm a guy, 45, legs
        cramp at night, related?": men, not related conditions).
        """
        # "menopause and cramps, connected?" reads like a medicine question but names no medicine.
        asks_why = intent in WHY_INTENTS or (intent == SIDE_EFFECTS_INTENT and "medication" not in said)
        if not asks_why or entry is None or any(route.intent == intent and route.entities for route in entry.routes):
            return None
        named = {name: values for name, values in said.items() if name in SPECIFIC_ENTITIES}
        alternative = self.knowledge.find_by_entities(named) if named else None
        if alternative is None or alternative.id == entry.id:
            return None
        if prefer.get(alternative.id, 0.0) >= prefer.get(entry.id, 0.0) - SPECIFIC_RANKING_SLACK:
            return alternative
        return None

    def _follow_up(
        self,
        previous: Optional[Entry],
        entities: Dict[Text, List[Text]],
        population: Optional[Text],
        latest: Dict[Text, Any],
        prefer: Dict[Text, float],
        kind: Optional[Text] = None,
    ) -> Optional[Entry]:
        """A short question read against the entry just answered: what it said, plus what is new.

        "and in pregnancy?" after causes → causes_pregnancy; "ok for my pregnant wife?" after
        magnesium → magnesium again (with the pregnancy line); a new value of the same kind
        replaces the old one ("and for old people?" after pregnancy). With nothing new
        ("why does that happen?", "what can I do about it?") the kind of question its words
        ask (knowledge `follow_up_kinds`, or `kind` when already known) is asked about the
        same people or body part.
        """
        contexts = [dict(route.entities) for route in previous.routes] if previous else [{}]
        if entities:
            same: Optional[Entry] = None
            for route, context in zip(previous.routes if previous else (), contexts):
                entry = self.knowledge.find(route.intent, {**context, **entities}, prefer)
                if entry and entry.id != previous.id:
                    return entry  # the new words lead somewhere along one of its questions
                # The same general entry again means the new words did not fit its family.
                if entry and route.entities and same is None:
                    same = entry
            return same or self.knowledge.find_by_entities(entities)
        kind = kind or self.knowledge.follow_up_kind(latest.get("text") or "", previous.id if previous else None)
        if kind is None:
            return None
        if kind == SAME_ENTRY:
            return previous
        for context in contexts:
            # "why does that happen?" after magnesium asks about cramps, "side effects?" about magnesium.
            context = {
                name: list(values)
                for name, values in context.items()
                if name != "medication" or kind == SIDE_EFFECTS_INTENT
            }
            if population and "population" not in context:
                context["population"] = [population]
            entry = self.knowledge.find(kind, context, prefer)
            if entry:
                return entry
        return None

    def _referring_follow_up(self, tracker: Tracker, intent: Optional[Text]) -> Optional[Entry]:
        """A short message that only makes sense about the entry just answered, read as its
        follow-up even when the classifier took it for "tell me more" or a general "why":
        "what else then?" after quinine asks for other medicines, "why doesn't it work?"
        after painkillers asks about painkillers. A message that points back ("side effects?",
        "do I need a prescription for it") is read so whatever topic the classifier heard.
        """
        latest = tracker.latest_message or {}
        previous = self.knowledge.get(tracker.get_slot(Slot.TOPIC) or "")
        text = latest.get("text") or ""
        if previous is None or intent is None or _entities(latest) or len(text.split()) > FOLLOW_UP_MAX_WORDS:
            return None
        kind = None
        if intent in MORE_INTENTS | WHY_INTENTS:
            kind = self.knowledge.follow_up_kind(text, previous.id, referring_only=True)
        # A question that points back, why-shaped ones included ("what will they do there?"
        # after seeing a doctor), is read with every kind.
        if kind is None and intent in self.knowledge.route_intents and _refers_back(text):
            kind = self.knowledge.follow_up_kind(text, previous.id)
        if kind is None:
            return None
        entry = self._follow_up(previous, {}, tracker.get_slot(Slot.POPULATION), latest, _ranking_scores(latest), kind)
        # "yes please, does it work?": more of the same entry is its `more` text, not its answer again.
        return None if intent in MORE_INTENTS and entry is not None and entry.id == previous.id else entry

    def _question_intents(self, latest: Dict[Text, Any], exclude: Set[Text] = frozenset()) -> List[Text]:
        """The answerable intents of the classifier's ranking, most likely first."""
        ignore = {Intent.ASK_MORE} | set(exclude)
        return [
            r["name"]
            for r in latest.get("intent_ranking") or []
            if r.get("name") in self.answerable and r.get("name") not in ignore
        ]

    def from_ranking(
        self, latest: Dict[Text, Any], population: Optional[Text], previous: Optional[Entry] = None
    ) -> Tuple[Optional[Entry], List[Entry]]:
        """When the intent found nothing: (an entry to answer, or None; close candidates).

        In order: a clear winner of the knowledge ranking (refined by the message's
        entities); a short message read as a follow-up of the entry just answered ("ok it
        stopped. why does it happen"); the entry of a medicine the message names; the
        classifier's best guess when the ranking has it among its top three (two signals
        agree); otherwise close candidates are offered.
        """
        if not any(character.isalpha() for character in latest.get("text") or ""):
            return None, []  # empty, spaces or emoji: any ranking would be noise
        ranking = [
            (self.knowledge.get(r.get("entry") or ""), float(r.get("score") or 0.0))
            for r in latest.get("knowledge_ranking") or []
        ]
        ranking = [(entry, score) for entry, score in ranking if entry is not None]
        entities = _entities(latest)
        prefer = _ranking_scores(latest)
        best, score = ranking[0] if ranking else (None, 0.0)
        runner_up = ranking[1][1] if len(ranking) > 1 else 0.0
        in_context = dict(entities)
        if population and "population" not in in_context:
            in_context["population"] = [population]
        if best is not None and score >= RANKING_CLEAR and score - runner_up >= RANKING_MARGIN:
            for route in best.routes if in_context else ():
                refined = self.knowledge.find(route.intent, in_context, prefer)
                if refined is not None and any(r.entities for r in refined.routes):
                    return refined, []
            return best, []
        if previous is not None and len((latest.get("text") or "").split()) <= FOLLOW_UP_MAX_WORDS:
            follow_up = self._follow_up(previous, entities, population, latest, prefer)
            if follow_up is not None:
                return follow_up, []
        if entities.get("medication"):
            # "Methocarbamol (Robaxin) for cramping legs": the medicine named is the subject.
            named = self.knowledge.find_by_entities({"medication": entities["medication"]}, prefer)
            if named is not None:
                return named, []
        top = [entry for entry, _ in ranking[:3]]
        for intent in self._question_intents(latest, exclude={FOLLOW_UP_INTENT})[:2]:
            guess = self.knowledge.find(intent, in_context, prefer)
            if guess in top:
                return guess, []
        if best is None or score < RANKING_CLOSE:
            return None, []
        return None, [entry for entry, other in ranking[:3] if score - other <= RANKING_CHOICE_SPREAD]

    def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        latest = tracker.latest_message or {}
        triaged = (latest.get("intent") or {}).get("name") in TRIAGE_INTENTS
        intent = question_intent(latest, self.answerable)
        entry = self._referring_follow_up(tracker, intent)
        if entry is None and intent in MORE_INTENTS:
            return self._answer_more(dispatcher, tracker)
        entry = entry or (self.choose_entry(tracker) if intent else None)
        understood = False
        if entry is None and not triaged:  # after a triage answer alone, nothing else was asked
            previous = self.knowledge.get(tracker.get_slot(Slot.TOPIC) or "")
            entry, choices = self.from_ranking(latest, tracker.get_slot(Slot.POPULATION), previous)
            understood = entry is not None
            if len(choices) > 1:
                messages = self.knowledge.messages
                dispatcher.utter_message(
                    text=messages.choose_entry, buttons=[messages.entry_button(choice) for choice in choices]
                )
                return []
            if entry is None and choices:
                entry, understood = choices[0], True
        if entry is None:
            if not triaged:
                dispatcher.utter_message(response=Response.ASK_REPHRASE)
            return []
        if understood:
            dispatcher.utter_message(text=self.knowledge.messages.understood.replace("{title}", entry.title))
        self._send_answer(dispatcher, tracker, entry)
        events: List[EventType] = [SlotSet(Slot.TOPIC, entry.id)]
        if _about_a_pregnancy(tracker) and not tracker.get_slot(PREGNANCY_SLOT):
            events.append(SlotSet(PREGNANCY_SLOT, True))
        return events

    def _answer_more(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        entry = self.knowledge.get(tracker.get_slot(Slot.TOPIC) or "")
        messages = self.knowledge.messages
        if entry is None:
            dispatcher.utter_message(text=messages.ask_which_topic)
        elif entry.more:
            dispatcher.utter_message(text=entry.more)
        else:
            dispatcher.utter_message(text=messages.no_more)
        return []

    def _send_answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, entry: Entry) -> None:
        messages = self.knowledge.messages
        triaged_now = (tracker.latest_message.get("intent") or {}).get("name") in TRIAGE_INTENTS
        if tracker.get_slot(Slot.TRIAGE_LEVEL) == EMERGENCY and not triaged_now:
            number = tracker.get_slot(Slot.EMERGENCY_NUMBER) or "112"
            dispatcher.utter_message(text=messages.emergency_reminder.replace("{emergency_number}", number))
        dispatcher.utter_message(text=entry.answer_for(bool(tracker.get_slot(Slot.CLOT_SIGNS))))
        advice = list(entry.advice)
        # Pregnancy answers end with the warning signs, also for general topics and for
        # follow-ups later in a conversation about a pregnancy (curation rule 6).
        if _about_a_pregnancy(tracker) and "pregnancy_warning_signs" not in advice:
            advice.append("pregnancy_warning_signs")
        # After a side effect that means "stop it and get care today" (R14, R23, R28).
        if tracker.get_slot(Slot.TRIAGE_REASON) in STOP_MEDICINE_REASONS:
            advice = [key for key in advice if key != "keep_taking_medicines"]
        for key in advice:
            dispatcher.utter_message(text=messages.advice[key])
        if tracker.get_slot(Slot.TOPIC) is None:
            dispatcher.utter_message(text=messages.general_info_note)
        buttons = list(messages.feedback_buttons)
        if entry.more:
            buttons.append(messages.more_button)
        dispatcher.utter_message(
            text=messages.ask_feedback,
            buttons=[{"title": b.title, "payload": b.payload} for b in buttons],
        )
