"""Grouping notes by meaning, and the words that set each group apart.

Average-linkage agglomerative clustering (scipy.cluster.hierarchy) of the notes, after
taking out what every note of the stage shares (the stage's prompt pulls all its
answers one way; the mean is that pull). A handful of notes says little about that
pull, so the mean is taken out in proportion to how many notes there are, and the
distance threshold moves with it from the raw space's to the centred space's.
Before clustering, each note's vector is averaged with those of its nearest
neighbours (:func:`smoothed`): a note worded oddly (a typo, two words) is pulled
towards the notes it is most like, which lifts the labelled set's adjusted Rand index
from 0.45 to 0.51 and splits no near-duplicates.
Above EXACT_LIMIT notes the clustering runs on a sample and the others join the
nearest group, so 50,000 notes take seconds and bounded memory. Keywords are
class-based TF-IDF: each group's notes as one document, weighed as scikit-learn's
TfidfVectorizer weighs them, in a scipy.sparse matrix (:func:`keywords`).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import csr_matrix

from ..domain.themes import Group
from .stop_words import ENGLISH_STOP_WORDS

#: Average cosine distance under which notes are one theme: in the raw space (a few
#: notes) and the fully centred one (many). Chosen on tests/data/themes_labelled.txt
#: (see tests/unit/test_themes_quality.py).
RAW_DISTANCE = 0.6
CENTRED_DISTANCE = 0.83
#: Each note is averaged with its NEIGHBOURS nearest notes (fewer in a small set: one
#: per NEIGHBOUR_SHARE notes), with as much weight as the note itself.
NEIGHBOURS = 8
NEIGHBOUR_SHARE = 6
#: Above EXACT_LIMIT, notes join a sample's group by their own (unsmoothed) vectors,
#: which sit further from the group's centre than the smoothed ones the threshold was
#: chosen on: the join allows this much more distance (where it was before smoothing).
JOIN_SLACK = 0.07
#: With n notes, n / (n + SHRINK) of their mean is taken out.
SHRINK = 10
#: Up to this many notes are clustered exactly (the distance matrix is n²/2 floats:
#: 2,000 notes are 16 MB); beyond it, a sample this size is, and the rest assigned.
EXACT_LIMIT = 2000
#: Notes compared with the sample's groups at a time.
CHUNK = 4096
#: Notes compared with the others at a time when finding their neighbours.
BLOCK = 256
#: Rounds of "cluster a sample, assign the rest" before what is left stays alone.
ROUNDS = 4
KEYWORDS = 8
#: Words that say nothing about what a note is about, on top of English stop words.
_FILLER = frozenset({"need", "needs", "make", "makes", "like", "just", "really", "lot",
                     "lots", "want", "think", "good", "better", "things", "thing", "way",
                     "dont", "don", "doesn", "didn", "isn", "aren", "cant", "won", "ve",
                     "ll", "use", "used", "new", "people", "get", "gets", "got"})
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS | _FILLER)
#: Words of two or more letters (no digits): "A&E" and "12" say little on their own.
WORDS = r"(?u)\b[^\W\d_][^\W\d_]+\b"
_WORDS = re.compile(WORDS)


def _weight(n: int) -> float:
    return n / (n + SHRINK)


class Centred:
    """The notes' unit vectors with (a share of) the set's mean taken out, made a block
    at a time when asked for (``x[rows]``) from the vectors as given (the stored half
    floats): 50,000 notes never exist as one float32 matrix (77 MB, and as much again
    for its temporaries)."""

    def __init__(self, vectors: np.ndarray) -> None:
        self.raw = vectors
        n = len(vectors)
        total = np.zeros(vectors.shape[1], dtype=np.float64)
        for at in range(0, n, CHUNK):
            total += vectors[at:at + CHUNK].sum(axis=0, dtype=np.float64)
        self.shift = (_weight(n) * total / max(n, 1)).astype(np.float32)

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, rows: Any) -> np.ndarray:
        x = np.asarray(self.raw[rows], dtype=np.float32) - self.shift  # a new array
        x /= np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)
        return x


def centred(vectors: np.ndarray) -> np.ndarray:
    """Unit vectors (float32) with (a share of) the set's mean taken out."""
    return Centred(vectors)[:]


def default_distance(n: int) -> float:
    """The threshold for a set of ``n`` notes (see the module docstring)."""
    return RAW_DISTANCE + _weight(n) * (CENTRED_DISTANCE - RAW_DISTANCE)


def labels(vectors: np.ndarray, *, distance: float | None = None,
           exact_limit: int = EXACT_LIMIT, seed: int = 0) -> np.ndarray:
    """A group number for each vector (numbered from 0; -1 never appears)."""
    return _labels(Centred(vectors), distance=distance, exact_limit=exact_limit, seed=seed)


def _labels(x: Centred, *, distance: float | None, exact_limit: int,
            seed: int) -> np.ndarray:
    n = len(x)
    if n <= 1:
        return np.zeros(n, dtype=np.int64)
    distance = default_distance(n) if distance is None else distance
    if n <= exact_limit:
        return _exact(x[:], distance)
    out = np.full(n, -1, dtype=np.int64)
    rng = np.random.default_rng(seed)
    # A note belongs with a group's centre when it is about as close to it as the
    # group's members are to each other on average (cosine of the centre ~ sqrt),
    # in the unsmoothed space (JOIN_SLACK).
    join = math.sqrt(max(1.0 - distance - JOIN_SLACK, 0.01))
    todo = np.arange(n)
    next_label = 0
    for _ in range(ROUNDS):
        if len(todo) <= exact_limit:
            sub = _exact(x[todo], distance)
            out[todo] = sub + next_label
            return out
        sample = rng.choice(todo, size=exact_limit, replace=False)
        xs = x[sample]
        sub = _exact(xs, distance)
        sizes = np.bincount(sub)
        keep = np.flatnonzero(sizes >= 2)
        centres = np.stack([xs[sub == k].mean(axis=0) for k in keep])
        centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
        best = np.empty(len(todo), dtype=np.int64)
        near = np.empty(len(todo), dtype=bool)
        for at in range(0, len(todo), CHUNK):  # no copy of every remaining vector at once
            sims = x[todo[at:at + CHUNK]] @ centres.T
            best[at:at + CHUNK] = sims.argmax(axis=1)
            near[at:at + CHUNK] = sims.max(axis=1) >= join
        out[todo[near]] = best[near] + next_label
        next_label += len(keep)
        todo = todo[~near]
    out[todo] = np.arange(len(todo)) + next_label  # far from everything: alone
    return out


def smoothed(x: np.ndarray) -> np.ndarray:
    """Unit vectors ``x``, each averaged with its nearest neighbours' (cosine), as unit
    vectors again; a set too small to have neighbours to spare is returned as it is.
    A block of rows at a time: 2,000 notes never need their n² similarities at once."""
    n = len(x)
    k = min(NEIGHBOURS, (n - 1) // NEIGHBOUR_SHARE)
    if k < 1:
        return x
    out = x.copy()
    for at in range(0, n, BLOCK):
        sims = x[at:at + BLOCK] @ x.T
        rows = np.arange(len(sims))
        sims[rows, rows + at] = -np.inf  # not its own neighbour
        near = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        for j in range(k):
            out[at:at + BLOCK] += x[near[:, j]] / k
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out


def _cosine_distances(x: np.ndarray) -> np.ndarray:
    """The condensed (upper-triangle, row by row) cosine distances of unit vectors, as
    ``scipy.spatial.distance.pdist(x, "cosine")`` gives them, by matrix products a
    block at a time (faster than pdist's loop: 0.16 s for 2,000 notes instead of 0.26)."""
    n = len(x)
    out = np.empty(n * (n - 1) // 2, dtype=np.float64)
    at = 0
    for start in range(0, n, BLOCK):
        sims = x[start:start + BLOCK] @ x[start:].T
        for r in range(len(sims)):
            row = sims[r, r + 1:]
            out[at:at + len(row)] = row
            at += len(row)
    np.subtract(1.0, out, out=out)
    np.maximum(out, 0.0, out=out)
    return out


def _exact(x: np.ndarray, distance: float) -> np.ndarray:
    """Average-linkage groups of ``x`` (unit vectors), cut at ``distance`` (cosine)."""
    if len(x) <= 1:  # nothing (or one note) left to cluster
        return np.zeros(len(x), dtype=np.int64)
    tree = linkage(_cosine_distances(smoothed(x)), method="average")
    found = fcluster(tree, t=distance, criterion="distance")
    return np.unique(found, return_inverse=True)[1].astype(np.int64)


def terms(doc: str) -> list[str]:
    """A document's words (lower case, stop words left out), then its two-word phrases
    (of the words left), in order: scikit-learn's analyser with
    ``token_pattern=WORDS, stop_words=STOP_WORDS, ngram_range=(1, 2)``."""
    words = [w for w in _WORDS.findall(doc.lower()) if w not in STOP_WORDS]
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def keywords(texts: Sequence[str], groups: np.ndarray, *, top: int = KEYWORDS
             ) -> dict[int, list[str]]:
    """The words (and two-word phrases) most particular to each group, best first.

    Class-based TF-IDF: each group's notes are one document, its terms counted into a
    scipy.sparse matrix (a row per group) and weighed as scikit-learn's
    ``TfidfVectorizer(sublinear_tf=True)`` weighs them (1 + log of the count, times
    the smoothed inverse document frequency); equal weights in the order the groups'
    notes, group by group, first use them, as there. scikit-learn itself is not
    imported: its import holds ~47 MB (tests/unit/test_themes_keywords.py checks
    that both give the same words)."""
    ids = sorted(set(groups.tolist()))
    order = np.argsort(groups, kind="stable")  # each group's notes in their order
    starts = np.searchsorted(groups[order], ids, side="left")
    ends = np.searchsorted(groups[order], ids, side="right")
    vocabulary: dict[str, int] = {}
    columns: list[int] = []
    counts: list[int] = []
    rows = [0]
    for start, end in zip(starts, ends, strict=True):
        doc = " ".join(texts[i] for i in order[start:end])
        counted = Counter(vocabulary.setdefault(t, len(vocabulary)) for t in terms(doc))
        columns += counted.keys()
        counts += counted.values()
        rows.append(len(columns))
    scores = csr_matrix((np.array(counts, dtype=np.float64), np.array(columns, dtype=np.int64),
                         np.array(rows, dtype=np.int64)), shape=(len(ids), len(vocabulary)))
    scores.sort_indices()  # equal weights: the term the stage's notes used first, first
    idf = np.log((len(ids) + 1) / (scores.getnnz(axis=0) + 1)) + 1
    scores.data = (np.log(scores.data) + 1) * idf[scores.indices]
    words = list(vocabulary)
    out = {}
    for row, g in enumerate(ids):
        line = slice(scores.indptr[row], scores.indptr[row + 1])
        best = np.argsort(-scores.data[line], kind="stable")[:top]
        out[g] = [words[j] for j in scores.indices[line][best]]
    return out


def groups(vectors: np.ndarray, ids: Sequence[str], texts: Sequence[str], *,
           distance: float | None = None, exact_limit: int = EXACT_LIMIT,
           seed: int = 0) -> list[Group]:
    """The notes' groups, each with its notes most central first and its keywords.
    ``vectors`` may be the stored half floats: they are centred a block at a time."""
    if len(ids) == 0:
        return []
    x = Centred(vectors)
    found = _labels(x, distance=distance, exact_limit=exact_limit, seed=seed)
    words = keywords(texts, found)
    out = []
    for g in sorted(set(found.tolist())):
        members = np.flatnonzero(found == g)
        xm = x[members]
        order = members[np.argsort(-(xm @ xm.mean(axis=0)), kind="stable")]
        out.append(Group(notes=tuple(ids[i] for i in order), keywords=tuple(words[g])))
    return out
