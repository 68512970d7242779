"""The sentence encoder: pinned files, meaning over wording, a buried question kept."""

import numpy as np
import pytest

from addons.model import sentence_encoder
from addons.model.sentence_encoder import EncoderFileError, check_file, load_encoder, split_sentences


def test_a_changed_encoder_file_stops_everything_with_an_error_naming_it(tmp_path):
    changed = tmp_path / "tokenizer.json"
    changed.write_bytes(sentence_encoder.TOKENIZER_FILE.read_bytes() + b" ")
    with pytest.raises(EncoderFileError, match=str(changed)):
        check_file(changed, sentence_encoder.TOKENIZER_SHA256)
    with pytest.raises(EncoderFileError, match="missing"):
        check_file(tmp_path / "model.onnx", sentence_encoder.MODEL_SHA256)


def test_the_installed_files_are_the_pinned_ones():
    check_file(sentence_encoder.model_file(), sentence_encoder.MODEL_SHA256)
    check_file(sentence_encoder.TOKENIZER_FILE, sentence_encoder.TOKENIZER_SHA256)


def cosine(a, b):
    return float(np.dot(a, b))


def test_paraphrases_are_closer_than_unrelated_questions():
    encoder = load_encoder()
    blood, blood_again, snack, foods, cramp_help = encoder.encode(
        [
            "I can't stop coughing up blood",
            "I am coughing up blood",
            "whats a good bedtime snack to stop cramps",
            "which foods help with leg cramps",
            "what helps during a cramp",
        ]
    )
    assert cosine(blood, blood_again) > 0.75 > cosine(blood, cramp_help) + 0.4
    assert cosine(snack, foods) > cosine(snack, blood) + 0.3


def test_a_question_buried_in_a_long_post_keeps_its_own_vector():
    post = (
        "Hi all, first post. I'm 54, I walk the dog every day and I'm not on any tablets. "
        "Last night was my right foot and calf together. Anyway, is magnesium worth trying?"
    )
    ((whole, sentences),) = load_encoder().encode_messages([post])
    question = load_encoder().encode(["is magnesium worth trying for cramps"])[0]
    assert len(sentences) == len(split_sentences(post)) == 4
    assert max(cosine(s, question) for s in sentences) > cosine(whole, question) + 0.1
