"""The project's own consistency checks, run by `make validate` after `rasa data validate`.

Each problem says what to fix and where. Checks:
1. every knowledge entry is reachable: its route intents exist, have NLU examples, a
   rule or story answers them with action_answer_topic, and a test story asks them;
2. intents, actions and slots used in data exist in the domain, and the domain's are used;
3. no two intents share near-identical examples (same words in any order);
4. the spaCy pipeline and data/nlu/synonyms.yml agree with the knowledge vocabulary.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

import yaml

from coach_names import LEVELS, SAID_BY_CODE, TRIAGE_RESPONSES, CustomAction, Intent, Response, Slot, names_of

ROOT = Path(__file__).resolve().parent.parent
ANSWER_ACTION = CustomAction.ANSWER_TOPIC
MIN_EXAMPLES = 20
BLIND_MIN_WORDS = 8
# Intents the NLU pipeline sets itself or Rasa provides; they need no rule of their own.
BUILT_IN_INTENTS = {"nlu_fallback"}


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _yaml_files(folder: Path) -> List[Path]:
    return sorted(folder.rglob("*.yml")) if folder.exists() else []


def nlu_examples(root: Path) -> Dict[str, List[Tuple[str, Path]]]:
    examples: Dict[str, List[Tuple[str, Path]]] = defaultdict(list)
    for path in _yaml_files(root / "data" / "nlu"):
        for block in _yaml(path).get("nlu") or []:
            if "intent" in block:
                for line in str(block.get("examples") or "").splitlines():
                    text = re.sub(r"^\s*-\s?", "", line).strip()
                    if text:
                        examples[block["intent"]].append((re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text), path))
    return examples


def dialogue_steps(paths: Iterable[Path]) -> List[Tuple[Path, str, List[dict]]]:
    """(file, name, steps) of every rule and story in these files."""
    found = []
    for path in paths:
        document = _yaml(path)
        for kind in ("rules", "stories"):
            for block in document.get(kind) or []:
                found.append((path, block.get("rule") or block.get("story") or "?", block.get("steps") or []))
    return found


def _answered_intents(steps_list) -> Set[str]:
    answered = set()
    for _, _, steps in steps_list:
        for current, following in zip(steps, steps[1:]):
            if "intent" in current and following.get("action") == ANSWER_ACTION:
                answered.add(current["intent"])
    return answered


def _story_asks(steps_list) -> Set[Tuple[str, Tuple[Tuple[str, str], ...]]]:
    asked = set()
    for _, _, steps in steps_list:
        for step in steps:
            if "intent" in step:
                entities = []
                for entity in step.get("entities") or []:
                    if isinstance(entity, dict):
                        entities.extend((k, str(v)) for k, v in entity.items() if k not in ("entity", "value"))
                        if "entity" in entity:
                            entities.append((entity["entity"], str(entity.get("value"))))
                asked.add((step["intent"], tuple(entities)))
    return asked


def check_knowledge_reachable(root: Path) -> List[str]:
    problems = []
    knowledge = _yaml(root / "knowledge" / "entries.yml")
    domain_intents = set(_yaml(root / "domain.yml").get("intents") or [])
    examples = nlu_examples(root)
    training = dialogue_steps(_yaml_files(root / "data" / "rules") + _yaml_files(root / "data" / "stories"))
    answered = _answered_intents(training)
    asked = _story_asks(dialogue_steps([root / "tests" / "test_stories.yml"]))
    for entry in knowledge.get("entries") or []:
        entry_id = entry.get("id", "?")
        for route in entry.get("routes") or []:
            intent = route.get("intent")
            where = f"knowledge entry '{entry_id}' (route intent '{intent}')"
            if intent not in domain_intents:
                problems.append(f"{where}: intent is not in domain.yml: add it under `intents:`")
                continue
            count = len(examples.get(intent, []))
            if count < MIN_EXAMPLES:
                problems.append(
                    f"{where}: {count} NLU examples, need {MIN_EXAMPLES}: "
                    f"add examples under `- intent: {intent}` in data/nlu/"
                )
            if intent not in answered:
                problems.append(
                    f"{where}: no rule or story answers it: add a rule in data/rules/answers.yml "
                    f"with `- intent: {intent}` then `- action: {ANSWER_ACTION}`"
                )
            wanted = {
                (name, str(v)) for name in ("population", "medication", "body_part") for v in _as_list(route.get(name))
            }
            covered = any(
                story_intent == intent and (not wanted or wanted & set(story_entities))
                for story_intent, story_entities in asked
            )
            if not covered:
                hint = f" with one of the entities {sorted(wanted)}" if wanted else ""
                problems.append(
                    f"{where}: no test story asks it: add one to tests/test_stories.yml with intent {intent}{hint}"
                )
    return problems


def _as_list(value) -> List:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def check_domain_consistency(root: Path) -> List[str]:
    problems = []
    domain = _yaml(root / "domain.yml")
    intents = set(domain.get("intents") or [])
    responses = set(domain.get("responses") or {})
    actions = set(domain.get("actions") or [])
    slots = set(domain.get("slots") or {})
    nlu_intents = set(nlu_examples(root))
    training = dialogue_steps(_yaml_files(root / "data" / "rules") + _yaml_files(root / "data" / "stories"))
    tests = dialogue_steps([root / "tests" / "test_stories.yml"])
    used_intents, used_actions = set(), set()
    for path, name, steps in training + tests:
        for step in steps:
            if "intent" in step:
                used_intents.add(step["intent"])
                if step["intent"] not in intents | BUILT_IN_INTENTS:
                    problems.append(
                        f"{path.relative_to(root)}: '{name}' uses intent '{step['intent']}', "
                        "which domain.yml does not list"
                    )
            if "action" in step:
                used_actions.add(step["action"])
                if step["action"] not in responses | actions and not step["action"].startswith("action_"):
                    problems.append(
                        f"{path.relative_to(root)}: '{name}' uses action '{step['action']}', "
                        "which domain.yml does not define"
                    )
    for intent in sorted(nlu_intents - intents):
        problems.append(f"data/nlu: intent '{intent}' has examples but is not in domain.yml `intents:`")
    for intent in sorted(intents - nlu_intents):
        problems.append(f"domain.yml: intent '{intent}' has no NLU examples in data/nlu/")
    for intent in sorted(intents - used_intents):
        problems.append(f"domain.yml: intent '{intent}' is used by no rule or story in data/")
    for action in sorted(actions - used_actions):
        problems.append(f"domain.yml: action '{action}' is used by no rule or story in data/")
    for response in SAID_BY_CODE:
        if response not in responses:
            problems.append(f"domain.yml: response '{response}' (said by code, coach_names.py) is missing")
    code = (
        "\n".join(
            p.read_text(encoding="utf-8")
            for folder in ("actions", "addons")
            for p in sorted((root / folder).rglob("*.py"))
        )
        + (root / "coach_names.py").read_text(encoding="utf-8")
        + (root / "domain.yml").read_text(encoding="utf-8").split("slots:", 1)[0]
    )
    code += "\n".join(p.read_text(encoding="utf-8") for p in _yaml_files(root / "data"))
    responses_text = yaml.safe_dump(domain.get("responses") or {})
    for slot in sorted(slots):
        if f'"{slot}"' not in code and f"{{{slot}}}" not in responses_text and f"name: {slot}" not in responses_text:
            problems.append(
                f"domain.yml: slot '{slot}' is read or set nowhere (actions/, addons/, responses, data/): "
                "remove it or use it"
            )
    return problems


def _words(text: str) -> Tuple[str, ...]:
    return tuple(sorted(re.findall(r"[\w']+", text.lower())))


def check_near_duplicates(root: Path) -> List[str]:
    seen: Dict[Tuple[str, ...], Tuple[str, str, Path]] = {}
    problems = []
    for intent, examples in sorted(nlu_examples(root).items()):
        for text, path in examples:
            key = _words(text)
            if not key:
                continue
            if key in seen and seen[key][0] != intent:
                other_intent, other_text, other_path = seen[key]
                problems.append(
                    f"near-identical examples in two intents: '{other_text}' ({other_intent}, "
                    f"{other_path.relative_to(root)}) and '{text}' ({intent}, {path.relative_to(root)}): "
                    "keep one, in the intent it belongs to"
                )
            seen.setdefault(key, (intent, text, path))
    return problems


def _training_texts(root: Path) -> Iterable[Tuple[str, Path]]:
    """Every message something learns from: NLU examples, entry questions, the red-flag corpus."""
    for examples in nlu_examples(root).values():
        yield from examples
    questions = root / "knowledge" / "entry_questions.yml"
    if questions.exists():
        for texts in (_yaml(questions).get("entries") or {}).values():
            yield from ((text, questions) for text in texts)
    for path in _yaml_files(root / "knowledge" / "red_flag_corpus"):
        yield from ((message["text"], path) for message in _yaml(path).get("messages") or [])


def _held_out_texts(root: Path) -> Iterable[Tuple[str, Path]]:
    """Every message that measures the model: the public NLU test set and the blind sets."""
    nlu_test = root / "tests" / "nlu_test.yml"
    if nlu_test.exists():
        for block in _yaml(nlu_test).get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    yield re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.strip()[2:]), nlu_test
    for path in _yaml_files(root / "tests" / "heldout"):
        document = _yaml(path)
        turns = [turn for conversation in document.get("conversations") or [] for turn in conversation["turns"]]
        for item in (document.get("questions") or []) + turns + (document.get("cases") or []):
            yield item["text"], path


def check_held_out_not_trained(root: Path) -> List[str]:
    """A held-out message in the training data makes its figure meaningless.

    Short everyday messages ("tell me more", "magnesium??") are written independently by
    trainers and blind writers alike, so in the blind sets only messages of
    BLIND_MIN_WORDS words or more count; in the public NLU test set, every message.
    """
    trained = {_words(text): path for text, path in _training_texts(root) if _words(text)}
    return [
        f"held-out message '{text}' ({path.relative_to(root)}) is also training data in "
        f"{trained[_words(text)].relative_to(root)}: remove it from the training data"
        for text, path in _held_out_texts(root)
        if _words(text) in trained and (path.name == "nlu_test.yml" or len(_words(text)) >= BLIND_MIN_WORDS)
    ]


def check_spacy_agrees(root: Path) -> List[str]:
    from scripts import build_spacy_pipeline as build

    problems = []
    vocabulary = build.project_vocabulary()
    if (root / "data" / "nlu" / "synonyms.yml").read_text() != build.synonyms_yaml(vocabulary):
        problems.append(
            "data/nlu/synonyms.yml differs from the knowledge vocabulary: run `make setup` (do not edit it by hand)"
        )
    if build.installed_fingerprint() != build.fingerprint(vocabulary):
        problems.append(
            "the installed spaCy pipeline en_cramp_coach is older than the knowledge vocabulary: run `make setup`"
        )
    return problems


def check_shared_names(root: Path) -> List[str]:
    """Every name in coach_names.py is in domain.yml, and the triage levels match the triage responses."""
    domain = _yaml(root / "domain.yml")
    declared = {
        Intent: set(domain.get("intents") or []),
        Slot: set(domain.get("slots") or {}),
        Response: set(domain.get("responses") or {}),
        CustomAction: set(domain.get("actions") or []),
    }
    problems = []
    for namespace, known in declared.items():
        for attribute, name in names_of(namespace).items():
            if name not in known:
                problems.append(
                    f"coach_names.py: {namespace.__name__}.{attribute} = '{name}' is not in domain.yml: "
                    "rename it to match the domain or add it there"
                )
    for level in LEVELS:
        if TRIAGE_RESPONSES.get(level) not in declared[Response]:
            problems.append(f"coach_names.py: triage level '{level}' has no response in domain.yml")
    return problems


CHECKS = (
    check_shared_names,
    check_knowledge_reachable,
    check_domain_consistency,
    check_near_duplicates,
    check_held_out_not_trained,
    check_spacy_agrees,
)


def run_checks(root: Path = ROOT) -> List[str]:
    return [problem for check in CHECKS for problem in check(root)]


def main() -> int:
    problems = run_checks()
    for problem in problems:
        print(f"- {problem}", file=sys.stderr)
    if problems:
        print(f"project checks: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("project checks: clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
