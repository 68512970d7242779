"""Typed "/..." text never acts as an intent; the bot's own buttons still work."""

import pytest

from addons.channels.guard import MAX_MESSAGE_CHARS, allowed_payloads, sanitize_text


@pytest.mark.parametrize(
    "typed,seen",
    [
        ("/restart", "restart"),
        ("/back", "back"),
        ('/greet{"triage_level": null}', 'greet{"triage_level": null}'),
        ("/red_flag_emergency", "red_flag_emergency"),
        ('/ask_first_aid{"population": "pregnancy"}', 'ask_first_aid{"population": "pregnancy"}'),
        ("//session_start", "session_start"),
        ("  /restart  ", "restart"),
        ("why do my legs cramp?", "why do my legs cramp?"),
    ],
)
def test_typed_commands_become_plain_text(typed, seen):
    assert sanitize_text(typed) == seen


def test_the_bots_own_button_payloads_pass(knowledge):
    payloads = allowed_payloads()
    assert {"/ask_first_aid", "/ask_more", "/feedback_helpful", "/feedback_not_helpful"} <= payloads
    with_entities = {p for p in payloads if "{" in p}
    assert with_entities == {knowledge.messages.entry_button(e)["payload"] for e in knowledge.entries.values()}
    for payload in payloads:
        assert sanitize_text(payload) == payload


@pytest.mark.parametrize(
    "typed",
    [
        '/ask_follow_up{"entry": "no_such_entry"}',
        '/ask_follow_up{"entry": "diet", "triage_level": null}',
        '/ask_follow_up{"entry":"diet"}',  # not exactly the form the bot writes
    ],
)
def test_only_the_exact_entry_payload_of_a_known_entry_passes(typed):
    assert sanitize_text(typed) == typed[1:]


def test_bad_input_is_bounded_and_never_none():
    assert sanitize_text(None) == ""
    assert sanitize_text("a\x00b") == "ab"
    assert len(sanitize_text("x" * 100_000)) == MAX_MESSAGE_CHARS
