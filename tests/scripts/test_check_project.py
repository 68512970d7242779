"""`make validate`'s project checks: each kind of broken project is caught and explained."""

import pytest
import yaml

from scripts import check_project

from helpers import ROOT, copy_project


@pytest.fixture
def project(tmp_path):
    """A copy of the parts of the project the checks read."""
    names = (
        "domain.yml",
        "data",
        "knowledge",
        "actions",
        "addons",
        "tests/test_stories.yml",
        "tests/nlu_test.yml",
        "coach_names.py",
    )
    return copy_project(names, tmp_path)


def edit_yaml(path, change):
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))


def test_the_real_project_is_clean():
    assert check_project.run_checks(ROOT) == []


def test_entry_without_examples_is_unreachable(project):
    def drop_diet(document):
        document["nlu"] = [b for b in document["nlu"] if b.get("intent") != "ask_diet"]

    edit_yaml(project / "data" / "nlu" / "prevention.yml", drop_diet)
    problems = check_project.check_knowledge_reachable(project)
    assert any("'diet'" in p and "0 NLU examples" in p and "data/nlu/" in p for p in problems)


def test_entry_without_a_rule_or_test_story_is_reported(project):
    def drop(document):
        key = "rules" if "rules" in document else "stories"
        document[key] = [
            b for b in document[key] if not any(s.get("intent") == "ask_restless_legs" for s in b["steps"])
        ]

    edit_yaml(project / "data" / "rules" / "answers.yml", drop)
    edit_yaml(project / "tests" / "test_stories.yml", drop)
    problems = check_project.check_knowledge_reachable(project)
    assert any("'restless_legs'" in p and "data/rules/answers.yml" in p for p in problems)
    assert any("'restless_legs'" in p and "tests/test_stories.yml" in p for p in problems)


def test_unknown_intent_action_and_unused_slot_are_reported(project):
    def break_rule(document):
        document["rules"][0]["steps"] = [{"intent": "ask_horoscope"}, {"action": "utter_horoscope"}]

    edit_yaml(project / "data" / "rules" / "conversation.yml", break_rule)
    edit_yaml(
        project / "domain.yml", lambda d: d["slots"].update(mood={"type": "text", "mappings": [{"type": "custom"}]})
    )
    problems = "\n".join(check_project.check_domain_consistency(project))
    assert "intent 'ask_horoscope', which domain.yml does not list" in problems
    assert "action 'utter_horoscope', which domain.yml does not define" in problems
    assert "slot 'mood' is read or set nowhere" in problems


def test_near_identical_examples_in_two_intents_are_reported(project):
    path = project / "data" / "nlu" / "first_aid.yml"
    path.write_text(
        path.read_text().replace("    - stop cramp now\n", "    - stop cramp now\n    - Cramps, prevent!\n")
    )
    problems = check_project.check_near_duplicates(project)
    assert any(
        "'Cramps, prevent!' (ask_first_aid" in p and "'prevent cramps' (ask_prevention" in p for p in problems
    ), problems


def test_hand_edited_synonyms_are_reported(project):
    path = project / "data" / "nlu" / "synonyms.yml"
    path.write_text(path.read_text() + "- synonym: pregnancy\n  examples: |\n    - bun in the oven\n")
    problems = check_project.check_spacy_agrees(project)
    assert any("synonyms.yml differs" in p and "make setup" in p for p in problems)


def test_a_held_out_message_in_the_training_data_is_caught(project):
    held_out = "how long do cramps usually last"  # tests/nlu_test.yml, ask_what_is_cramp

    def train_on_it(document):
        block = next(b for b in document["nlu"] if b.get("intent") == "ask_diet")
        block["examples"] += f"- {held_out.upper()}!\n"

    edit_yaml(project / "data" / "nlu" / "prevention.yml", train_on_it)
    problems = check_project.check_held_out_not_trained(project)
    assert len(problems) == 1 and held_out in problems[0] and "data/nlu/prevention.yml" in problems[0]


def test_a_name_the_code_uses_but_the_domain_lost_is_reported(project):
    """Renaming a slot or response in domain.yml alone breaks the code that names it (coach_names.py)."""

    def rename(document):
        document["slots"]["triage_level_renamed"] = document["slots"].pop("triage_level")
        document["responses"].pop("utter_only_text")

    edit_yaml(project / "domain.yml", rename)
    problems = check_project.check_shared_names(project)
    assert any("Slot.TRIAGE_LEVEL = 'triage_level'" in p for p in problems)
    assert any("Response.ONLY_TEXT = 'utter_only_text'" in p for p in problems)
    assert check_project.check_shared_names(ROOT) == []
