"""The statistical tier's learning machinery: hand-built TF-IDF features and the one-vs-rest linear SVM.

Features read two views of a text, 'raw words<TAB>delexicalised words' (see
`Classifier.features_text`): word 1-2-grams of the second and character 3-4-grams of the first.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

CHAR_NGRAMS = (3, 4)
"""Character n-gram lengths of the raw words. Two-letter grams doubled the SVM's work (most of a
feature row) and added nothing the three- and four-letter ones did not say."""
CHAR_MIN_DF = 2
SVM_C = 1.0
"""The linear SVM's regularisation (scikit-learn's C)."""
SVM_TOLERANCE = 0.1
"""liblinear's stopping tolerance. Its default (0.0001) spends most of the training polishing
weights that rank every training text and every development phrasing the same way."""


def _one_vs_rest(features: Any, labels: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The classes, and a linear SVM's weights and intercept per class against the rest (one row
    each, also when there are only two classes, where LinearSVC gives one margin).

    Trained in one process thread: liblinear draws its coordinate order from one random generator
    for the whole process, so SVMs trained side by side would differ from run to run.
    """
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=SVM_C, tol=SVM_TOLERANCE, random_state=0).fit(features, labels)
    classes = [str(c) for c in svm.classes_]
    if len(classes) == 2:  # one margin, for classes[1]; classes[0]'s is its negative
        return classes, np.stack([-svm.coef_[0], svm.coef_[0]]), np.asarray([-svm.intercept_[0], svm.intercept_[0]])
    return classes, svm.coef_, svm.intercept_


def _char_grams(word: str) -> list[str]:
    """"c" and the character n-grams of a word padded with spaces (scikit-learn's "char_wb")."""
    padded = f"c {word} "  # the view's mark, then the word between spaces
    low, high = CHAR_NGRAMS
    return ["c" + padded[i : i + n] for n in range(low, high + 1) for i in range(1, max(2, len(padded) - n + 1))]


def _grams(text: str) -> list[str]:
    """A features_text's features: "w" and the word 1- and 2-grams of the delexicalised words, then
    the character grams of each raw word."""
    raw, _, delex = text.partition("\t")
    words = delex.split()
    grams = ["w" + w for w in words]
    grams += [f"w{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    for word in raw.split():
        grams += _char_grams(word)
    return grams


@dataclass
class Features:
    """TF-IDF over the two views as scikit-learn's TfidfVectorizer computes it (sublinear term
    frequency, smoothed idf, each view scaled to unit length), with one column numbering.

    Built by hand because training pays for every pass over the texts: the grams are made once
    (a word's character grams once for all the texts it is in), counting and weighting are array
    operations over all texts at once, and a prediction is a lookup per gram instead of two
    vectorizer calls with their input checks.
    """

    columns: dict[str, int]
    """A gram ("w" or "c" first) -> its column; word grams come first."""
    idf: np.ndarray
    words: int
    """Columns below this are word grams, the rest character grams."""

    @classmethod
    def fit(cls, texts: list[str]) -> tuple[Features, Any]:
        """The features learned from the texts, and the texts' rows (a float64 sparse matrix, as
        liblinear takes it). Character grams in fewer than CHAR_MIN_DF texts are left out."""
        from scipy.sparse import csr_matrix

        vocabulary: dict[str, int] = {}
        by_word: dict[str, list[int]] = {}
        flat: list[int] = []
        sizes: list[int] = []
        for text in texts:
            raw, _, delex = text.partition("\t")
            words = delex.split()
            before = len(flat)
            flat += [vocabulary.setdefault("w" + w, len(vocabulary)) for w in words]
            flat += [vocabulary.setdefault(f"w{a} {b}", len(vocabulary)) for a, b in zip(words, words[1:], strict=False)]
            for word in raw.split():
                grams = by_word.get(word)
                if grams is None:
                    grams = by_word[word] = [vocabulary.setdefault(g, len(vocabulary)) for g in _char_grams(word)]
                flat += grams
            sizes.append(len(flat) - before)
        size = len(vocabulary)
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), sizes)
        keys, counts = np.unique(rows * size + np.asarray(flat, dtype=np.int64), return_counts=True)
        rows, grams = np.divmod(keys, size)
        df = np.bincount(grams, minlength=size)
        names = list(vocabulary)
        is_char = np.fromiter((name[0] == "c" for name in names), dtype=bool, count=size)
        word_ids = np.flatnonzero(~is_char)
        char_ids = np.flatnonzero(is_char & (df >= CHAR_MIN_DF))
        column = np.full(size, -1, dtype=np.int64)
        column[word_ids] = np.arange(len(word_ids))
        column[char_ids] = len(word_ids) + np.arange(len(char_ids))
        kept = np.concatenate([word_ids, char_ids])
        idf = np.log((1 + len(texts)) / (1 + df[kept])) + 1
        features = cls({names[i]: n for n, i in enumerate(kept.tolist())}, idf.astype(np.float32), len(word_ids))
        keep = column[grams] >= 0
        rows, columns, counts = rows[keep], column[grams][keep], counts[keep]
        data = features._weigh(columns, counts, rows, len(texts))
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(texts)))])
        matrix = csr_matrix((data, columns, indptr), shape=(len(texts), len(kept)))
        matrix.sort_indices()
        return features, matrix

    def _weigh(self, columns: np.ndarray, counts: np.ndarray, rows: np.ndarray, size: int) -> np.ndarray:
        """Sublinear tf times idf, each row's word part and character part scaled to unit length."""
        values = (1 + np.log(counts)) * self.idf[columns]
        part = rows * 2 + (columns >= self.words)
        norms = np.sqrt(np.bincount(part, weights=np.square(values), minlength=2 * size))
        return values / np.where(norms > 0, norms, 1.0)[part]

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The columns and weights of one text's features (grams never seen in training are left out)."""
        found = [(self.columns[g], n) for g, n in Counter(_grams(text)).items() if g in self.columns]
        if not found:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float32)
        pairs = np.asarray(found, dtype=np.float64)
        columns = pairs[:, 0].astype(np.intp)
        return columns, self._weigh(columns, pairs[:, 1], np.zeros(len(columns), dtype=np.intp), 1).astype(np.float32)
