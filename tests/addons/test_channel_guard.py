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


def test_the_bots_own_button_payloads_pass():
    payloads = allowed_payloads()
    assert {"/ask_first_aid", "/ask_more", "/feedback_helpful", "/feedback_not_helpful"} <= payloads
    assert all("{" not in p for p in payloads)
    for payload in payloads:
        assert sanitize_text(payload) == payload


def test_bad_input_is_bounded_and_never_none():
    assert sanitize_text(None) == ""
    assert sanitize_text("a\x00b") == "ab"
    assert len(sanitize_text("x" * 100_000)) == MAX_MESSAGE_CHARS
