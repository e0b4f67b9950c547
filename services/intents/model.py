"""The recogniser's model: TF-IDF features of words and characters, and a logistic
regression over the eleven intents.

Two feature sets are joined. Words: jieba's segmentation of the normal form (Chinese cut
into words, English split on blanks and punctuation), single words and neighbouring pairs.
Characters: n-grams of one to four characters within each blank-separated run, which is
what carries a typo ("退宽", "refnd", "parcle") and a mixed-language message ("我的 order
还没到") to the words it resembles. Both are sublinear TF-IDF, each row scaled to unit
length. The classifier is a multinomial logistic regression (newton-cg, deterministic);
its class probabilities are the confidence.

The model is built from the shipped corpus the first time it is needed and kept in memory
for the life of the process (two: one on the whole corpus for answers, one on the training
part only for the held-out score). It is never written to disk nor read back: a fitted
scikit-learn model is saved with pickle, and loading a pickle that someone else could have
written runs their code. Building takes one to two seconds, a third of it jieba loading its
dictionary (once per process, shared with the praise rule).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pinzhi.models.enums import Intent
from pinzhi.services.intents import corpus
from pinzhi.services.intents.text import normalise, words

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

# Inverse regularisation strength and the n-gram range, chosen by five-fold cross-validation
# on the training part only (C from 5 to 100, n-grams from (1, 3) to (2, 5), binary or
# sublinear counts, balanced or plain class weights all scored within a point of 0.89).
C = 20.0
CHAR_NGRAMS = (1, 4)
RANDOM_STATE = 0

Part = Literal["all", "training"]


def _pipeline() -> Any:
    # scikit-learn is imported when the first model is built, not with the schema: it
    # takes a second to import, which every process that never reads a message would pay.
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    return Pipeline(
        [
            (
                "features",
                FeatureUnion(
                    [
                        (
                            "words",
                            TfidfVectorizer(analyzer=words, sublinear_tf=True, dtype=np.float64),
                        ),
                        (
                            "chars",
                            TfidfVectorizer(
                                analyzer="char_wb",
                                ngram_range=CHAR_NGRAMS,
                                sublinear_tf=True,
                                dtype=np.float64,
                            ),
                        ),
                    ]
                ),
            ),
            (
                "classifier",
                LogisticRegression(
                    C=C, solver="newton-cg", max_iter=500, random_state=RANDOM_STATE
                ),
            ),
        ]
    )


@dataclass(frozen=True)
class Model:
    """A fitted pipeline; ``intents`` are its probability columns, in order."""

    pipeline: Any
    intents: tuple[Intent, ...]
    trained_on: int
    build_seconds: float

    def probabilities(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """One row per text, one column per intent of ``intents``, each row summing to 1."""
        rows: NDArray[np.float64] = self.pipeline.predict_proba([normalise(t) for t in texts])
        return rows


def fit(examples: Sequence[corpus.Example]) -> Model:
    """A model trained on ``examples`` (deterministic: the same examples, the same model)."""
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    pipeline = _pipeline()
    # One BLAS thread: the problem is small, and on a busy machine more threads only
    # contend (measured: 1.7 s instead of 4.6 s on two loaded cores).
    with threadpool_limits(limits=1):
        pipeline.fit([normalise(e.text) for e in examples], [str(e.intent) for e in examples])
    intents = tuple(Intent(name) for name in pipeline.classes_)
    return Model(pipeline, intents, len(examples), time.perf_counter() - started)


_lock = threading.Lock()
_models: dict[Part, Model] = {}


def get(part: Part = "all") -> Model:
    """The model on the whole shipped corpus (``all``) or on its training part only
    (``training``, for the held-out score), built on first use, once per process."""
    found = _models.get(part)
    if found is None:
        with _lock:
            found = _models.get(part)
            if found is None:
                examples = corpus.shipped()
                if part == "training":
                    examples = tuple(corpus.split(examples)[0])
                found = _models[part] = fit(examples)
    return found
