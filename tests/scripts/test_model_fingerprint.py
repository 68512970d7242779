"""Only what training reads retrains: the model fingerprint of scripts/train_model.py.

`make run` looks the model up by this fingerprint, so an unchanged fingerprint means it
restarts on the same model without training.
"""

import pytest
import yaml

from scripts.train_model import TRAINING_INPUTS, data_fingerprint

from helpers import ROOT, copy_project

NOT_TRAINED_ON = ("knowledge/entries.yml", "actions", "addons/channels", "addons/server")


@pytest.fixture()
def project(tmp_path):
    """A copy of everything training reads, plus what it must not read."""
    return copy_project((*TRAINING_INPUTS, *NOT_TRAINED_ON), tmp_path)


def _edit_entries(project, change):
    path = project / "knowledge" / "entries.yml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document["entries"][0])
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_the_copy_has_the_real_fingerprint(project):
    assert data_fingerprint(project) == data_fingerprint(ROOT)


def test_rewording_an_answer_does_not_retrain(project):
    before = data_fingerprint(project)
    _edit_entries(project, lambda entry: entry.update(answer=entry["answer"] + " Reworded."))
    assert data_fingerprint(project) == before


@pytest.mark.parametrize(
    "path", ["addons/channels/telegram.py", "addons/server/tracker_store.py", "actions/answers.py"]
)
def test_editing_a_channel_a_store_or_an_action_does_not_retrain(project, path):
    before = data_fingerprint(project)
    with open(project / path, "a", encoding="utf-8") as file:
        file.write("\n# an edit\n")
    assert data_fingerprint(project) == before


def test_a_new_entry_title_retrains_the_knowledge_ranking(project):
    before = data_fingerprint(project)
    _edit_entries(project, lambda entry: entry.update(title=entry["title"] + " (renamed)"))
    assert data_fingerprint(project) != before


@pytest.mark.parametrize(
    "path", ["domain.yml", "knowledge/red_flags.yml", "knowledge/emergency_numbers.yml", "addons/model/red_flags.py"]
)
def test_training_inputs_retrain(project, path):
    before = data_fingerprint(project)
    with open(project / path, "a", encoding="utf-8") as file:
        file.write("\n# an edit\n")
    assert data_fingerprint(project) != before


def test_the_ranker_keeps_its_cache_when_an_answer_is_reworded(project, monkeypatch):
    """Rasa's own training cache: the KnowledgeRanker's key ignores answer wording, not titles."""
    from addons.model import knowledge_ranker

    monkeypatch.setattr(knowledge_ranker, "ENTRIES_FILE", project / "knowledge" / "entries.yml")
    before = knowledge_ranker.KnowledgeRanker.fingerprint_addon({})
    _edit_entries(project, lambda entry: entry.update(answer=entry["answer"] + " Reworded."))
    assert knowledge_ranker.KnowledgeRanker.fingerprint_addon({}) == before
    _edit_entries(project, lambda entry: entry.update(title=entry["title"] + " (renamed)"))
    assert knowledge_ranker.KnowledgeRanker.fingerprint_addon({}) != before
