"""The names the code shares with domain.yml: triage levels, intents, slots, responses, actions.

One place for them, so a rename in the domain is a rename here, and `make validate`
(scripts/check_project.py) fails when a name below is missing from domain.yml. Plain
constants, no imports: the action server, the Rasa side and the maintainers' scripts all
read it, and none of them should load Rasa for a list of names.
"""

# Triage levels, least serious first (a red-flag finding's level; the slot triage_level).
ROUTINE = "routine"
URGENT = "urgent"
EMERGENCY = "emergency"
LEVELS = (ROUTINE, URGENT, EMERGENCY)


class Intent:
    """Intents the code reads or sets."""

    AFFIRM = "affirm"
    DENY = "deny"
    GREET = "greet"
    GOODBYE = "goodbye"
    THANKS = "thanks"
    BOT_CHALLENGE = "bot_challenge"
    OUT_OF_SCOPE = "out_of_scope"
    INFORM_COUNTRY = "inform_country"
    FORGET_ME = "forget_me"
    CONFIRM_FORGET_ME = "confirm_forget_me"
    UNSUPPORTED_LANGUAGE = "unsupported_language"
    ASK_MORE = "ask_more"
    ASK_FOLLOW_UP = "ask_follow_up"
    ASK_FIRST_AID = "ask_first_aid"
    ASK_MEDICINE_SIDE_EFFECTS = "ask_medicine_side_effects"
    ASK_CAUSES = "ask_causes"
    ASK_RELATED_CONDITIONS = "ask_related_conditions"
    ASK_WHAT_IS_CRAMP = "ask_what_is_cramp"
    ASK_PROGNOSIS = "ask_prognosis"
    RED_FLAG_ROUTINE = "red_flag_routine"
    RED_FLAG_URGENT = "red_flag_urgent"
    RED_FLAG_EMERGENCY = "red_flag_emergency"


class Slot:
    """Slots the code reads or sets."""

    TOPIC = "topic"
    POPULATION = "population"
    PREGNANCY_MENTIONED = "pregnancy_mentioned"
    COUNTRY = "country"
    COUNTRY_HINT = "country_hint"
    EMERGENCY_NUMBER = "emergency_number"
    CLOT_SIGNS = "clot_signs"
    TRIAGE_LEVEL = "triage_level"
    TRIAGE_REASON = "triage_reason"
    TRIAGE_PENDING = "triage_pending"  # "level|reason" a yes to the clarifying question confirms
    TRIAGE_QUESTION = "triage_question"  # which clarifying question (the response variant)


class Response:
    """Responses the code names. Those said by the code itself, outside rules and stories, are
    listed again in SAID_BY_CODE below.
    """

    TRIAGE_ROUTINE = "utter_triage_routine"
    TRIAGE_URGENT = "utter_triage_urgent"
    TRIAGE_EMERGENCY = "utter_triage_emergency"
    TRIAGE_QUESTION = "utter_triage_question"  # addons.model.triage_policy: the detector is unsure
    CONFIRM_FORGET_ME = "utter_confirm_forget_me"
    CONVERSATION_DELETED = "utter_conversation_deleted"
    MEMORY_UNAVAILABLE = "utter_memory_unavailable"  # addons.channels.gate: tracker or lock store down
    TURN_FAILED = "utter_turn_failed"  # addons.channels.gate: any other failure of a turn
    SLOW_DOWN = "utter_slow_down"  # addons.channels.gate: over the rate limit
    FORGET_FAILED = "utter_forget_failed"  # addons.channels.gate: "forget me" could not delete
    ACTION_UNAVAILABLE = "utter_action_unavailable"  # addons.server.remote_actions: action server down or slow
    ASK_REPHRASE = "utter_ask_rephrase"  # actions.answers: nothing in the knowledge is close
    ONLY_TEXT = "utter_only_text"  # addons.channels.telegram: a sticker, photo or voice note
    UNKNOWN_COMMAND = "utter_unknown_command"  # addons.channels.telegram: a /command it does not know
    PRIVATE_CHATS_ONLY = "utter_private_chats_only"  # addons.channels.telegram: added to a group


class CustomAction:
    """Custom actions the code names."""

    ANSWER_TOPIC = "action_answer_topic"


TRIAGE_RESPONSES = {
    ROUTINE: Response.TRIAGE_ROUTINE,
    URGENT: Response.TRIAGE_URGENT,
    EMERGENCY: Response.TRIAGE_EMERGENCY,
}

# Rasa's validator cannot see these used (no rule or story says them), so scripts/validate.sh
# accepts its "not used in any story or rule" warning for exactly these names.
SAID_BY_CODE = (
    Response.TRIAGE_QUESTION,
    Response.MEMORY_UNAVAILABLE,
    Response.TURN_FAILED,
    Response.SLOW_DOWN,
    Response.FORGET_FAILED,
    Response.ACTION_UNAVAILABLE,
    Response.ASK_REPHRASE,
    Response.ONLY_TEXT,
    Response.UNKNOWN_COMMAND,
    Response.PRIVATE_CHATS_ONLY,
)


def names_of(namespace: type) -> dict:
    """The names a namespace class above lists, by attribute."""
    return {key: value for key, value in vars(namespace).items() if key.isupper()}
