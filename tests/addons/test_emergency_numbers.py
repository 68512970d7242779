"""The emergency number named in triage answers."""

import pytest

from addons.model.emergency_numbers import load_numbers


@pytest.fixture(scope="module")
def numbers():
    return load_numbers()


def test_a_stated_country_wins(numbers):
    assert numbers.number_text("GB", {"locale": "en-US"}).startswith("999")
    assert numbers.number_text("AU", {}).startswith("000")


@pytest.mark.parametrize(
    "metadata,expected",
    [
        ({"locale": "en-GB"}, "999 if you are in the UK, otherwise 112"),
        ({"locale": "ru_RU"}, "112 (or 103 for an ambulance)"),
        ({"time_zone": "America/Chicago"}, "911 if you are in the US, otherwise 112"),
    ],
)
def test_a_region_from_the_channel_is_a_guess_beside_112(numbers, metadata, expected):
    assert numbers.number_text(None, metadata) == expected


def test_a_language_tag_alone_is_not_a_country(numbers):
    assert numbers.number_text(None, {"locale": "en"}) == numbers.default
    assert "112" in numbers.default and "911" in numbers.default and "999" in numbers.default
