"""One stage's themes from its notes and what was stored: the CPU part of a refresh.

Runs in the themes process (``worker.py``). Takes the notes as columns and the stored
themes (no database), returns rows to write. A stage with note categories (barriers,
enablers) is clustered per category.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..domain.themes import Known, NoteInfo, Theme, build
from ..store.themes import NoteColumns
from . import DIMENSIONS, STORED, cluster

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Scope:
    """Themes of one stage and category (None: a stage without categories)."""

    category: str | None
    themes: list[Theme]


def known_of(rows: Sequence[Row], excluded: dict[str, set[str]]) -> dict[str | None, list[Known]]:
    """Stored theme rows as the rules' Known, by category."""
    out: dict[str | None, list[Known]] = {}
    for r in rows:
        out.setdefault(r["category"], []).append(Known(
            id=r["id"], notes=frozenset(r["notes"] or ()), name=r["name"],
            named_size=r["named_size"], label=r["label"], hidden=bool(r["hidden"]),
            merged_into=r["merged_into"], excluded=frozenset(excluded.get(r["id"], ()))))
    return out


def compute(notes: NoteColumns, known: dict[str | None, list[Known]],
            new_id: Callable[[], str], **options: Any) -> list[Scope]:
    """The stage's themes per category, from its embedded notes as columns."""
    import numpy as np

    # A view of the buffer the rows were read into: no copy.
    vectors = np.frombuffer(notes.vectors, dtype=STORED).reshape(len(notes), DIMENSIONS)
    scopes: dict[str | None, list[int]] = {}
    for i, category in enumerate(notes.categories):
        scopes.setdefault(category, []).append(i)
    out = []
    for category in sorted(set(scopes) | set(known), key=lambda c: (c is not None, c or "")):
        rows = scopes.get(category, [])
        if rows:
            # The stored half floats as they are (one category) or this category's rows.
            found = cluster.groups(vectors if len(rows) == len(notes) else vectors[rows],
                                   [notes.ids[i] for i in rows],
                                   [notes.texts[i] for i in rows], **options)
        else:
            found = []
        info = {notes.ids[i]: NoteInfo(notes.ids[i], notes.table_ids[i], notes.topic_ids[i],
                                       notes.texts[i]) for i in rows}
        out.append(Scope(category, build(found, known.get(category, []), info, new_id)))
    return out


def rows_to_write(scopes: Sequence[Scope], known: dict[str | None, list[Known]]
                  ) -> tuple[list[Row], set[str]]:
    """The refresh as rows for the store, and the stored themes no longer present
    (merged away, or no group matched them): they are kept, without notes."""
    computed = []
    for scope in scopes:
        for rank, t in enumerate(scope.themes):
            computed.append({"id": t.id, "category": scope.category, "name": t.name[:120],
                             "named_size": t.named_size, "notes": list(t.notes),
                             "keywords": list(t.keywords), "tables": t.tables,
                             "topics": t.topics, "rank": rank, "active": True})
    present = {r["id"] for r in computed}
    gone = {k.id for ks in known.values() for k in ks} - present
    return computed, gone
