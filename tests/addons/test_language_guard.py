"""LanguageGuard: other languages are recognised; English with typos and emoji is not."""

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource

from addons.model.nlu_components import LanguageGuard


@pytest.fixture
def guard(tmp_path):
    known = ["cramp", "cramps", "leg", "legs", "calf", "night", "wat", "causes", "crampz", "pregnant"]
    return LanguageGuard(LanguageGuard.get_default_config(), LocalModelStorage(tmp_path), Resource("guard"), known)


@pytest.mark.parametrize(
    "text",
    [
        "tengo calambres en las piernas por la noche",
        "j'ai des crampes la nuit",
        "у меня судороги в ногах",
        "我晚上腿抽筋",
    ],
)
def test_other_languages_are_foreign(guard, text):
    assert guard.is_foreign(text)


@pytest.mark.parametrize(
    "text",
    ["why do my legs cramp at night", "wat causes crampz", "🦵😖", "", "calf", "I'm pregnant and my calf cramps"],
)
def test_english_and_non_text_are_not(guard, text):
    assert not guard.is_foreign(text)
