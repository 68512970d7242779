"""The pattern file itself: broken files fail with the sign and field named."""

import copy

import pytest

from addons.red_flags import RedFlagPatternError, RedFlagRules, expand_alternatives, load_spec


@pytest.fixture(scope="module")
def spec():
    return load_spec()


@pytest.mark.parametrize(
    "break_it,message",
    [
        (lambda s: s["signs"]["chest_pain"].update(level="panic"), "sign 'chest_pain', field 'level'"),
        (lambda s: s["signs"]["chest_pain"].update(phrases=[], regex=[]), "sign 'chest_pain': needs"),
        (lambda s: s["signs"]["long_cramp"].update(regex=["(unclosed"]), "sign 'long_cramp', field 'regex'"),
        (lambda s: s["signs"]["chest_pain"].update(phrases=["* chest"]), "must start and end with a word"),
        (lambda s: s["combinations"].append({"all": ["no_such_sign"], "level": "urgent"}), "unknown signs"),
        (lambda s: s["negation"]["before"].append(False), "quote it"),
    ],
)
def test_broken_pattern_file_is_named(spec, nlp, break_it, message):
    broken = copy.deepcopy(spec)
    break_it(broken)
    with pytest.raises(RedFlagPatternError, match=message.replace("(", r"\(").replace("*", r"\*")):
        RedFlagRules(broken, nlp)


def test_alternatives_expand():
    assert expand_alternatives("(cold and white|ice cold) (leg|foot)") == [
        "cold and white leg", "cold and white foot", "ice cold leg", "ice cold foot",
    ]


def test_config_fingerprint_matches_the_pattern_file():
    """config.yml carries the pattern fingerprint so changed patterns retrain (make train updates it)."""
    from pathlib import Path

    import yaml

    from addons.red_flags import spec_fingerprint

    config = yaml.safe_load((Path(__file__).resolve().parents[2] / "config.yml").read_text())
    detector = next(c for c in config["pipeline"] if c["name"].endswith("RedFlagDetector"))
    assert detector["patterns_fingerprint"] == spec_fingerprint(), "run `make train` to refresh it"
