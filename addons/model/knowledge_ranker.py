"""Ranks the knowledge entries by how close a message is to each, with the sentence encoder.

The intent classifier learns wordings; when it is unsure (nlu_fallback) or its intent
finds no entry, the answer action falls back on this ranking, which travels in the parse
data as `knowledge_ranking`: a clear winner is answered, two or three close ones are
offered as buttons. Each entry is known by its title and its example questions
(knowledge/entry_questions.yml); an entry's score is the mean of its three closest
examples to the whole message or to its best sentence.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import numpy as np
import yaml
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from addons.model.sentence_encoder import encoding_of, load_encoder
from addons.model.stored_json import StoredJsonComponent

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
ENTRIES_FILE = KNOWLEDGE / "entries.yml"
QUESTIONS_FILE = KNOWLEDGE / "entry_questions.yml"
RANKING_KEY = "knowledge_ranking"
TOP_EXAMPLES = 3


def entry_examples() -> Dict[Text, List[Text]]:
    """Per entry id: its title, then its example questions."""
    entries = yaml.safe_load(ENTRIES_FILE.read_text(encoding="utf-8"))["entries"]
    questions = (yaml.safe_load(QUESTIONS_FILE.read_text(encoding="utf-8")) or {}).get("entries") or {}
    return {entry["id"]: [entry["title"], *(questions.get(entry["id"]) or [])] for entry in entries}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class KnowledgeRanker(StoredJsonComponent):
    """Adds `knowledge_ranking` ([{entry, score}], best first) to every message."""

    ARTIFACT = "entry_vectors.json"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"ranking_length": 5}

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[Text]:
        """Rasa's cache cannot see the files read here: retrain when what is read of them changes.

        Only the titles and example questions, so a reworded answer keeps the cached ranker.
        """
        digest = hashlib.sha256(json.dumps(entry_examples(), sort_keys=True).encode())
        digest.update(Path(__file__).read_bytes())
        return digest.hexdigest()

    def restore(self, stored: Optional[Dict[Text, Any]]) -> None:
        stored = stored or {"ids": [], "vectors": []}
        self._ids: List[Text] = stored["ids"]
        self._vectors = np.asarray(stored["vectors"], dtype=np.float32).reshape(-1, 384)
        self._entries = sorted(set(self._ids))
        self._members = {entry: np.array([i for i, e in enumerate(self._ids) if e == entry]) for entry in self._entries}

    def train(self, training_data: TrainingData) -> Resource:
        ids, texts = [], []
        for entry_id, examples in entry_examples().items():
            ids.extend([entry_id] * len(examples))
            texts.extend(examples)
        vectors = load_encoder().encode(texts)
        stored = {"ids": ids, "vectors": np.round(vectors, 5).tolist()}
        self.restore(stored)
        return self.persist(stored)

    def rank(self, message: Message) -> List[Dict[Text, Any]]:
        if not self._entries:
            return []
        whole, sentences = encoding_of(message)
        similarity = np.vstack([whole, sentences]) @ self._vectors.T  # (queries, examples)
        scores = []
        for entry in self._entries:
            closest = np.sort(similarity[:, self._members[entry]], axis=1)[:, -TOP_EXAMPLES:]
            scores.append((float(closest.mean(axis=1).max()), entry))
        scores.sort(reverse=True)
        return [{"entry": entry, "score": round(score, 4)} for score, entry in scores[: self._config["ranking_length"]]]

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            message.set(RANKING_KEY, self.rank(message), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
