"""Responses the code says itself, outside rules and stories.

Rasa's validator cannot see these used, so scripts/validate.sh accepts its "not used in
any story or rule" warning for exactly these names, and scripts/check_project.py
checks that each one is in the domain. Plain constants, no imports: those scripts read
this file without importing the addons package (which loads Rasa).
"""

MEMORY_UNAVAILABLE = "utter_memory_unavailable"  # addons.channels.gate: tracker or lock store down
TURN_FAILED = "utter_turn_failed"  # addons.channels.gate: any other failure of a turn
SLOW_DOWN = "utter_slow_down"  # addons.channels.gate: over the rate limit
FORGET_FAILED = "utter_forget_failed"  # addons.channels.gate: "forget me" could not delete
ACTION_UNAVAILABLE = "utter_action_unavailable"  # addons.server.remote_actions: action server down or slow
ASK_REPHRASE = "utter_ask_rephrase"  # actions.answers: nothing in the knowledge is close
TRIAGE_QUESTION = "utter_triage_question"  # addons.model.triage_policy: the detector is unsure

SAID_BY_CODE = (
    MEMORY_UNAVAILABLE,
    TURN_FAILED,
    SLOW_DOWN,
    FORGET_FAILED,
    ACTION_UNAVAILABLE,
    ASK_REPHRASE,
    TRIAGE_QUESTION,
)
