"""EdgeIntent's baselines at run time: loading the saved majority and TF-IDF + LR models and
predicting with them (stages/train/intent_baselines.py trains and saves them).

Nothing is pickled. The majority model is `majority.json` (`{"format", "label"}`). A TF-IDF + LR
model is `tfidf_lr.json` (the settings, the classes and both vocabularies, term -> column) and
`tfidf_lr.safetensors` (the idf vectors, the coefficients and the intercepts); loading rebuilds
the scikit-learn vectorizers from the vocabularies and idf vectors, so a saved model is data that
a user can hand in without running code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stages.core.errors import SLMBenchError

MAJORITY_FILE = "majority.json"
MAJORITY_FORMAT = "slmbench-majority"
TFIDF_CONFIG = "tfidf_lr.json"
TFIDF_WEIGHTS = "tfidf_lr.safetensors"
FORMAT = "slmbench-tfidf-lr"


@dataclass(frozen=True)
class TfidfLRConfig:
    word_ngrams: tuple[int, int] = (1, 2)  # word n-gram lengths
    char_ngrams: tuple[int, int] = (2, 5)  # char_wb n-gram lengths (padded words)
    min_df: int = 2  # a term must occur in this many training texts
    C: float = 10.0  # inverse L2 strength of the logistic regression
    max_iter: int = 300  # lbfgs iterations
    seed: int = 0  # passed to scikit-learn (lbfgs does not use it)
    threads: int = 1  # BLAS threads while fitting


def load_majority(model_dir: Path) -> dict[str, Any]:
    path = Path(model_dir) / MAJORITY_FILE
    try:
        model = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SLMBenchError(f"{path}: not a majority-class model ({str(exc).splitlines()[0][:200]})") from None
    if not isinstance(model, dict) or model.get("format") != MAJORITY_FORMAT or not isinstance(model.get("label"), str):
        raise SLMBenchError(f'{path}: expected a JSON object with "format": "{MAJORITY_FORMAT}" and a string "label"')
    return model


def predict_majority(model: dict[str, Any], texts: Sequence[str]) -> list[str]:
    return [model["label"]] * len(texts)


class TfidfLR:
    """The two vectorizers and the regression's weights; `predict` gives labels."""

    def __init__(self, cfg: TfidfLRConfig, word: Any, char: Any, coef: np.ndarray, intercept: np.ndarray, classes: list[str]):
        self.cfg, self.word, self.char = cfg, word, char
        self.coef, self.intercept, self.classes = coef, intercept, classes
        # features x classes in float64, the vectorizers' dtype: a float32 matrix would be upcast (copied) on every call
        self._coef_t = np.ascontiguousarray(coef.T, dtype=np.float64)

    def features(self, texts: Sequence[str]) -> Any:
        from scipy.sparse import hstack

        return hstack([self.word.transform(texts), self.char.transform(texts)]).tocsr()

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.features(list(texts)) @ self._coef_t) + self.intercept

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self.classes[i] for i in self.scores(texts).argmax(axis=1)]


def vectorizers(cfg: TfidfLRConfig, vocab: tuple[dict[str, int], dict[str, int]] | None = None) -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    word = TfidfVectorizer(analyzer="word", ngram_range=tuple(cfg.word_ngrams), sublinear_tf=True, min_df=cfg.min_df, vocabulary=vocab and vocab[0])
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(cfg.char_ngrams), sublinear_tf=True, min_df=cfg.min_df, vocabulary=vocab and vocab[1])
    return word, char


def load_tfidf_lr(model_dir: Path) -> TfidfLR:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    config_path, weights_path = Path(model_dir) / TFIDF_CONFIG, Path(model_dir) / TFIDF_WEIGHTS
    try:
        meta = json.loads(config_path.read_text(encoding="utf-8"))
        tensors = load_file(str(weights_path))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, SafetensorError) as exc:
        raise SLMBenchError(f"{model_dir}: not a TF-IDF + LR model ({str(exc).splitlines()[0][:200]}); expected {TFIDF_CONFIG} and {TFIDF_WEIGHTS}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise SLMBenchError(f'{config_path}: expected a JSON object with "format": "{FORMAT}"')
    try:
        raw = meta["config"]
        cfg = TfidfLRConfig(**{**raw, "word_ngrams": tuple(raw["word_ngrams"]), "char_ngrams": tuple(raw["char_ngrams"])})
        word, char = vectorizers(cfg, (meta["word_vocabulary"], meta["char_vocabulary"]))
        # a vectorizer given a vocabulary still needs fitting for its idf; these two take the saved ones
        for vec, idf in ((word, tensors["word_idf"]), (char, tensors["char_idf"])):
            vec._validate_vocabulary()
            vec.idf_ = idf
        coef, intercept = tensors["coef"], tensors["intercept"]
    except (KeyError, TypeError, ValueError) as exc:
        raise SLMBenchError(f"{model_dir}: a broken TF-IDF + LR model ({type(exc).__name__}: {str(exc)[:200]})") from None
    if coef.shape != (len(meta["classes"]), len(word.vocabulary_) + len(char.vocabulary_)) or intercept.shape != (len(meta["classes"]),):
        raise SLMBenchError(f"{weights_path}: coefficient shape {coef.shape} does not fit {len(meta['classes'])} classes and the vocabularies")
    return TfidfLR(cfg, word, char, coef, intercept, list(meta["classes"]))


def predict_tfidf_lr(model: TfidfLR | Path, texts: Sequence[str]) -> list[str]:
    """Labels for `texts` from a trained model or a saved model's folder."""
    if not isinstance(model, TfidfLR):
        model = load_tfidf_lr(Path(model))
    return model.predict(list(texts))
