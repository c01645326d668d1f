"""Theme keywords: class-based TF-IDF in scipy.sparse gives the words scikit-learn's
TfidfVectorizer gives (cluster.keywords no longer imports scikit-learn, whose import
holds ~47 MB; the test extra still installs it, to check against)."""

from __future__ import annotations

import random

import pytest

from tests.conftest import missing
from tests.themes_data import load


@pytest.fixture(scope="module")
def cluster():
    from plenary.themes import missing as themes_missing

    if themes_missing():
        missing("the themes extra (pip install '.[themes]')")
    from plenary.themes import cluster

    return cluster


@pytest.fixture(scope="module")
def sklearn_text():
    try:
        from sklearn.feature_extraction import text
    except ImportError:
        missing("scikit-learn (the test extra)")
    return text


def sklearn_keywords(text, cluster, texts, groups, top=8):
    """What cluster.keywords returned when it called scikit-learn."""
    import numpy as np

    ids = sorted(set(groups.tolist()))
    docs = [" ".join(texts[i] for i in np.flatnonzero(groups == g)) for g in ids]
    vectoriser = text.TfidfVectorizer(stop_words=sorted(cluster.STOP_WORDS),
                                      ngram_range=(1, 2), sublinear_tf=True,
                                      token_pattern=cluster.WORDS)
    try:
        scores = vectoriser.fit_transform(docs)
    except ValueError:  # only stop words everywhere
        return {g: [] for g in ids}
    vocab = vectoriser.get_feature_names_out()
    out = {}
    for row, g in enumerate(ids):
        line = scores.getrow(row)
        order = np.argsort(-line.data, kind="stable")[:top]
        out[g] = [str(vocab[line.indices[j]]) for j in order]
    return out


def test_the_stop_words_are_scikit_learns(sklearn_text):
    from plenary.themes.stop_words import ENGLISH_STOP_WORDS

    assert sklearn_text.ENGLISH_STOP_WORDS == ENGLISH_STOP_WORDS


def test_keywords_are_scikit_learns(cluster, sklearn_text):
    import numpy as np

    notes = load()
    rng = random.Random(3)
    for stage in range(5):
        texts = [n.text for n in notes if n.stage == stage]
        by_theme = {t: i for i, t in enumerate(sorted({n.theme for n in notes
                                                       if n.stage == stage}))}
        labelled = np.array([by_theme[n.theme] for n in notes if n.stage == stage])
        shuffled = np.array([rng.randrange(7) for _ in texts])
        for groups in (labelled, shuffled, np.zeros(len(texts), dtype=np.int64)):
            assert cluster.keywords(texts, groups) == sklearn_keywords(
                sklearn_text, cluster, texts, groups)


def test_keywords_of_stop_words_only_and_of_nothing(cluster, sklearn_text):
    import numpy as np

    texts = ["it is what it is", "we need to do it", "Really, really good"]
    groups = np.array([0, 1, 1])
    assert cluster.keywords(texts, groups) == {0: [], 1: []}
    assert cluster.keywords(texts, groups) == sklearn_keywords(sklearn_text, cluster,
                                                                texts, groups)
    assert cluster.keywords([], np.zeros(0, dtype=np.int64)) == {}
