"""The learned red-flag detector: a classifier on the sentence encoder, beside the patterns.

Patterns cannot cover every way people describe a clot in the lungs or a fit ("I have
to stop halfway up the stairs to get my breath", "his eyes rolled back and he won't
answer"). This classifier is trained on its own corpus (knowledge/red_flag_corpus/: signs
of ../shared/curation-review.md §2 in many voices, and hard negatives), separate from the
NLU examples. It reads the whole message and each sentence and keeps the most alarming
one, so a sign buried in a long post is not averaged away; a sentence in which the
patterns see a negated sign or a question about a sign does not count, since sentence
vectors hardly tell "no chest pain" from "chest pain".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Text

import numpy as np
import yaml

from addons.model.red_flags import LEVEL_RANK

CORPUS_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "red_flag_corpus"
NO_FLAG = "none"
# Stronger regularisation overfits the corpus's wordings less (chosen on the tuning suite).
REGULARISATION = 4.0
# A sentence shorter than this is judged only as part of the whole message.
MIN_SENTENCE_WORDS = 3


@dataclass(frozen=True)
class ClassifierFinding:
    level: Text
    reason: Text
    probability: float
    sentence: int  # 0 = the whole message, then its sentences

    def reason_if_sure(self, sure_from: float) -> Text:
        """The reason, or "default" (the level's general answer) when the classifier is unsure of it."""
        return self.reason if self.probability >= sure_from else "default"

    def as_dict(self) -> Dict[Text, Any]:
        return {
            "level": self.level,
            "reason": self.reason,
            "probability": round(self.probability, 3),
            "sentence": self.sentence,
        }


def load_corpus(directory: Path = CORPUS_DIR) -> List[Dict[Text, Text]]:
    """Every labelled message of the corpus files ({level, reason?, text})."""
    messages: List[Dict[Text, Text]] = []
    for path in sorted(directory.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for number, message in enumerate(document.get("messages") or [], start=1):
            level = message.get("level")
            if level != NO_FLAG and level not in LEVEL_RANK or not str(message.get("text") or "").strip():
                raise ValueError(
                    f"{path.name}, message {number}: needs a text and a level "
                    f"({NO_FLAG} or one of {sorted(LEVEL_RANK)})"
                )
            messages.append(message)
    return messages


def corpus_fingerprint(directory: Path = CORPUS_DIR) -> Text:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted(directory.glob("*.yml")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def label_of(message: Mapping[Text, Any]) -> Text:
    level = message["level"]
    return NO_FLAG if level == NO_FLAG else f"{level}|{message.get('reason') or 'default'}"


class RedFlagClassifier:
    """Multinomial logistic regression over (level|reason) labels, on encoder vectors."""

    def __init__(self, classes: Sequence[Text], coef: np.ndarray, intercept: np.ndarray) -> None:
        self.classes = list(classes)
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.levels = [label.split("|")[0] for label in self.classes]
        self.reasons = [label.split("|")[1] if "|" in label else "" for label in self.classes]

    @classmethod
    def train(
        cls, texts: Sequence[Text], labels: Sequence[Text], encode: Callable[[Sequence[Text]], np.ndarray]
    ) -> "RedFlagClassifier":
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=REGULARISATION, max_iter=3000)
        model.fit(encode(texts), list(labels))
        return cls(model.classes_, model.coef_, model.intercept_)

    def to_dict(self) -> Dict[Text, Any]:
        return {
            "classes": self.classes,
            "coef": np.round(self.coef, 5).tolist(),
            "intercept": np.round(self.intercept, 5).tolist(),
        }

    @classmethod
    def from_dict(cls, stored: Mapping[Text, Any]) -> "RedFlagClassifier":
        return cls(stored["classes"], np.asarray(stored["coef"]), np.asarray(stored["intercept"]))

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        scores = vectors @ self.coef.T + self.intercept
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)

    def strongest(self, vectors: np.ndarray, counts: Callable[[int], bool]) -> Dict[Text, ClassifierFinding]:
        """Per level: the counted vector most sure of it (as its top class)."""
        best: Dict[Text, ClassifierFinding] = {}
        for index, row in enumerate(self.probabilities(vectors)):
            top = int(row.argmax())
            level = self.levels[top]
            if level == NO_FLAG or (level in best and best[level].probability >= row[top]):
                continue
            if counts(index):
                best[level] = ClassifierFinding(level, self.reasons[top], float(row[top]), index)
        return best

    def most_alarming(
        self, vectors: np.ndarray, thresholds: Mapping[Text, float], counts: Callable[[int], bool]
    ) -> Optional[ClassifierFinding]:
        """The highest level any counted vector reaches above its threshold."""
        return alarming(self.strongest(vectors, counts), thresholds)


def alarming(
    strongest: Mapping[Text, ClassifierFinding], thresholds: Mapping[Text, float]
) -> Optional[ClassifierFinding]:
    """The highest level at or above its threshold."""
    found = [f for level, f in strongest.items() if f.probability >= thresholds.get(level, 1.0)]
    return max(found, key=lambda f: LEVEL_RANK[f.level], default=None)
