"""The simulator's statistical tier: an intent classifier and slot finder trained on the model's samples, kept on disk.

Like snips-nlu's probabilistic parser, and as a stand-in for Alexa's own statistical understanding:

* Training text is every sample of the interaction model, and of the larger template expansion
  the caller gives, with its slots filled in (custom values and synonyms in turn, a few
  durations, stand-ins for free text), plus Amazon's usual phrases for the built-in intents.
  AMAZON.FallbackIntent's out-of-domain samples and alexa.yaml's `out_of_domain` are the
  explicit "none" class.
* Before classifying, known slot values are replaced by their type ("start the ROUTINE"), in
  training and when understanding, so the classifier learns carrier words, not values.
* Features are TF-IDF word 1-2-grams of that text and character 3-4-grams of the raw words,
  computed by hand (learning.py's `Features`); the classifier is a linear SVM per intent against the rest
  (scikit-learn's liblinear; training takes well under a
  second, a logistic regression several), and a softmax over its margins sets the confidence.
* Slots are found by longest match of values and synonyms (rapidfuzz for near misses, word by
  word), the duration parser, and, for AMAZON.SearchQuery, the words after the longest carrier
  phrase of the intent's samples; after a self-correction only the later words count, and words
  after "for my" that match no value are passed on unresolved, as Alexa does.

Its parts: `classifier` (the Classifier and its Guess), `learning` (TF-IDF features and the SVM),
`slot_spans` (values and durations found in the words); this module keeps the trained classifier
on disk, and its cache key covers all of their code.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skill.core import numbers as spoken_numbers_module
from skill.core import words as tokenizer_module
from skill.simulator import classifier as classifier_module
from skill.simulator import learning as learning_module
from skill.simulator import numbers as numbers_module
from skill.simulator import slot_spans as slot_spans_module
from skill.simulator import words as words_module
from skill.simulator.classifier import Classifier, Guess
from skill.simulator.learning import CHAR_MIN_DF, CHAR_NGRAMS, SVM_C, Features, _one_vs_rest

__all__ = [
    "CACHE_VERSION", "CHAR_MIN_DF", "CHAR_NGRAMS", "SVM_C", "Classifier", "Features", "Guess", "Inputs",
    "_one_vs_rest", "cached",
]

CACHE_VERSION = "10"
"""Part of the cache key, with the tier's code: change it to retire every cached classifier."""


Inputs = Callable[[], tuple[dict[str, list[str]], dict[str, list[str]]]]
"""Builds (free text stand-ins, training samples) when a classifier must be trained."""


def _code_digest() -> str:
    """What the cache key needs of the code and libraries that shape a trained classifier."""
    from importlib.metadata import PackageNotFoundError, version

    parts = [CACHE_VERSION]
    for module in (__file__, classifier_module.__file__, learning_module.__file__, slot_spans_module.__file__,
                   numbers_module.__file__, spoken_numbers_module.__file__, words_module.__file__, tokenizer_module.__file__):
        parts.append(Path(module).read_text(encoding="utf-8"))
    for package in ("scikit-learn", "numpy", "scipy", "rapidfuzz"):
        try:
            parts.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package} missing")
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def cached(model: dict[str, Any], alexa: dict[str, Any], directory: Path, inputs: Inputs, fingerprint: str) -> Classifier:
    """The classifier for a model, from a pickle in `directory` while nothing that shapes it changed.

    The key covers the model, alexa.yaml, `fingerprint` (the files `inputs` reads), the tier's
    code and the libraries' versions, so a pickle is never read back into code it was not made by.
    `inputs` runs only when a classifier must be trained. A pickle that cannot be read is rebuilt;
    other keys' pickles are removed once a new one is written.
    """
    material = repr((_code_digest(), sorted(alexa.items()), model, fingerprint))
    key = hashlib.sha256(material.encode()).hexdigest()[:16]
    path = directory / f"classifier-{key}.pickle"
    try:
        with path.open("rb") as handle:
            found = pickle.load(handle)
        if isinstance(found, Classifier):
            return found
    except Exception:  # missing, truncated, or written by other code: train again
        pass
    free_text, training = inputs()
    classifier = Classifier(model, alexa, free_text, training)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle_number, name = tempfile.mkstemp(dir=directory, prefix="classifier-", suffix=".tmp")
        with os.fdopen(handle_number, "wb") as handle:
            pickle.dump(classifier, handle)
        Path(name).replace(path)
        for other in directory.glob("classifier-*.pickle"):
            if other != path:
                other.unlink(missing_ok=True)
    except OSError:
        pass
    return classifier
