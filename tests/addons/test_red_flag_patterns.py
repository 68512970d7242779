"""The pattern file itself: broken files fail with the sign and field named."""

import copy

import pytest

from addons.model.red_flags import RedFlagPatternError, RedFlagRules, expand_alternatives, load_spec


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
        "cold and white leg",
        "cold and white foot",
        "ice cold leg",
        "ice cold foot",
    ]


def test_config_fingerprints_match_the_data_files():
    """config.yml carries the hashes of files components read, so changes retrain them."""
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[2]
    from scripts.train_model import data_file_fingerprints

    config = yaml.safe_load((root / "config.yml").read_text())
    configured = {
        key: value
        for component in config["pipeline"] + config["policies"]
        for key, value in component.items()
        if key.endswith("_fingerprint")
    }
    assert configured == data_file_fingerprints(), "run `make train` to refresh them"
