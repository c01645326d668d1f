"""How well the real model and clustering find the room's themes, against the labelled
notes in tests/data/themes_labelled.txt (several hundred notes, five stages, 16 tables).

Needs the themes extra (the model); CI installs it, so there this cannot skip.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.conftest import missing
from tests.themes_data import Labelled, load

#: Adjusted Rand index this pipeline reaches (mean over the five stages): a guard
#: against getting worse. The issue's target, 0.65, is asserted below and not yet met.
REACHED = 0.50
TARGET = 0.65


@pytest.fixture(scope="module")
def predicted() -> tuple[list[Labelled], list[int]]:
    from plenary.themes import missing as themes_missing

    if themes_missing():
        missing("the themes extra (pip install '.[themes]')")
    from plenary.themes import cluster
    from plenary.themes.embedder import Embedder

    notes = load()
    embedder = Embedder()
    vectors = embedder.embed([n.text for n in notes])
    scopes: dict[tuple[int, str | None], list[int]] = defaultdict(list)
    for i, n in enumerate(notes):
        scopes[(n.stage, n.category)].append(i)
    groups = [-1] * len(notes)
    offset = 0
    for members in scopes.values():
        found = cluster.labels(vectors[members])
        for i, g in zip(members, found, strict=True):
            groups[i] = int(g) + offset
        offset += int(found.max()) + 1
    return notes, groups


def ari_per_stage(notes: list[Labelled], groups: list[int]) -> list[float]:
    from sklearn.metrics import adjusted_rand_score

    out = []
    for stage in sorted({n.stage for n in notes}):
        idx = [i for i, n in enumerate(notes) if n.stage == stage]
        out.append(adjusted_rand_score([f"{notes[i].category}/{notes[i].theme}" for i in idx],
                                       [groups[i] for i in idx]))
    return out


def test_the_labelled_set_is_what_it_says():
    notes = load()
    assert len(notes) >= 300
    assert {n.stage for n in notes} == {0, 1, 2, 3, 4}
    assert {n.topic for n in notes} == set(range(8))
    assert all(1 <= n.table <= 16 for n in notes)
    near = [n for n in notes if n.near is not None]
    assert len(near) >= 40
    assert all(notes[n.near].table != n.table and notes[n.near].theme == n.theme
               for n in near)


def test_themes_agree_with_the_labels(predicted):
    notes, groups = predicted
    scores = ari_per_stage(notes, groups)
    mean = sum(scores) / len(scores)
    print(f"adjusted Rand index per stage {[round(s, 3) for s in scores]}, mean {mean:.3f}")
    assert mean >= REACHED


@pytest.mark.xfail(reason="ARI ~0.51 with the int8 MiniLM on this set; target 0.65 not met",
                   strict=True)
def test_themes_reach_the_issues_target(predicted):
    notes, groups = predicted
    scores = ari_per_stage(notes, groups)
    assert sum(scores) / len(scores) >= TARGET


def test_near_duplicates_from_different_tables_share_a_theme(predicted):
    notes, groups = predicted
    pairs = [(n.near, i) for i, n in enumerate(notes) if n.near is not None]
    apart = [(notes[a].text, notes[b].text) for a, b in pairs if groups[a] != groups[b]]
    assert not apart, apart


def test_a_large_stage_whose_notes_all_join_the_sample_groups():
    """Above EXACT_LIMIT every note may join a sample's group in the first round: the
    next round then has nothing left to cluster (a 0-row array once crashed it)."""
    from plenary.themes import missing as themes_missing

    if themes_missing():
        missing("the themes extra (pip install '.[themes]')")
    import numpy as np
    from plenary.themes import cluster

    rng = np.random.default_rng(1)
    centres = rng.normal(size=(3, 384)).astype(np.float32)
    vectors = np.repeat(centres, 30, axis=0) + 0.01 * rng.normal(size=(90, 384))
    found = cluster.labels(vectors.astype(np.float32), exact_limit=20)
    assert len(found) == 90 and (found >= 0).all()
    assert len(set(found[:30].tolist())) == 1
