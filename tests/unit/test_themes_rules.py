"""The rules of cross-table themes: identity between refreshes, names, the organiser's
choices. Plain data in, plain data out (no model, no database)."""

from __future__ import annotations

import itertools

import pytest
from plenary.domain.errors import IllegalMove, InvalidPayload, NotFound
from plenary.domain.themes import (
    Group,
    Known,
    NoteInfo,
    build,
    check_label,
    check_merge,
    match,
    pick_keywords,
    resolve,
    theme_name,
)


def notes(*specs: tuple[str, str, int]) -> dict[str, NoteInfo]:
    return {i: NoteInfo(i, t, topic, f"text {i}") for i, t, topic in specs}


NOTES = notes(("a", "t1", 1), ("b", "t2", 2), ("c", "t3", 1), ("d", "t1", 1), ("e", "t4", 3),
              ("f", "t5", 4), ("g", "t6", 4), ("h", "t2", 2))


def new_ids():
    counter = itertools.count(1)
    return lambda: f"new{next(counter)}"


def test_a_theme_that_gains_a_note_stays_the_same_theme_with_its_name():
    known = [Known("T1", frozenset("abc"), "Funding · budget", named_size=3)]
    themes = build([Group(tuple("abcd"), ("money",))], known, NOTES, new_ids())
    assert [t.id for t in themes] == ["T1"]
    assert themes[0].name == "Funding · budget"
    assert themes[0].notes == list("abcd")


def test_a_theme_named_from_two_notes_is_renamed_once_it_has_doubled():
    known = [Known("T1", frozenset("ab"), "Old words", named_size=2)]
    themes = build([Group(tuple("abcd"), ("funding", "budget"))], known, NOTES, new_ids())
    assert themes[0].id == "T1"
    assert themes[0].name == "Funding · budget"
    assert themes[0].named_size == 4


def test_new_groups_get_new_ids_and_single_notes_are_not_themes():
    themes = build([Group(("a", "b"), ("x",)), Group(("e",), ("y",))], [], NOTES, new_ids())
    assert [t.id for t in themes] == ["new1"]


def test_a_group_is_an_old_theme_when_they_share_most_of_the_smaller():
    known = [Known("T1", frozenset("ab"), "n")]
    assert match([Group(tuple("aefg"), ())], known) == [None]  # 1 of 2 shared
    assert match([Group(tuple("abefgh"), ())], known) == ["T1"]  # it grew
    assert match([Group(tuple("ef"), ())], [Known("T2", frozenset("abcdef"), "n")]) == ["T2"]


def test_a_split_theme_keeps_its_id_on_the_bigger_part():
    known = [Known("T1", frozenset("abcdef"), "n")]
    result = match([Group(tuple("ab"), ()), Group(tuple("cdef"), ())], known)
    assert result == [None, "T1"]


def test_tables_and_topics_are_counted_and_the_widest_theme_comes_first():
    themes = build([Group(("a", "d"), ("x",)), Group(("b", "e", "f"), ("y",))], [], NOTES,
                   new_ids())
    assert [(t.tables, t.topics) for t in themes] == [(3, 3), (1, 1)]


def test_a_merged_theme_folds_into_its_target_on_every_refresh():
    known = [Known("A", frozenset("ab"), "A words", merged_into="B"),
             Known("B", frozenset("efgh"), "B words")]
    themes = build([Group(("a", "b"), ("x",)), Group(("e", "f", "g"), ("y",))], known, NOTES,
                   new_ids())
    assert [t.id for t in themes] == ["B"]
    assert set(themes[0].notes) == set("abefg")
    assert themes[0].merged_from == ["A"]


def test_after_a_merge_both_groups_still_find_the_target():
    # Stored after the merge: B holds every note, A none. Both groups come back.
    known = [Known("A", frozenset(), "A", merged_into="B"),
             Known("B", frozenset("abefg"), "B")]
    themes = build([Group(("a", "b"), ()), Group(("e", "f", "g"), ())], known, NOTES, new_ids())
    assert [t.id for t in themes] == ["B"]
    assert set(themes[0].notes) == set("abefg")


def test_a_note_moved_out_stays_out():
    known = [Known("T1", frozenset("abc"), "n", excluded=frozenset("c"))]
    themes = build([Group(tuple("abc"), ())], known, NOTES, new_ids())
    assert themes[0].notes == ["a", "b"]


def test_the_organisers_name_and_hiding_survive_a_refresh():
    known = [Known("T1", frozenset("abc"), "auto", label="Money worries", hidden=True)]
    [theme] = build([Group(tuple("abcd"), ())], known, NOTES, new_ids())
    assert (theme.title, theme.hidden) == ("Money worries", True)


def test_notes_no_longer_public_drop_out():
    known = [Known("T1", frozenset("ab"), "n")]
    [theme] = build([Group(("a", "b", "zz"), ())], known, NOTES, new_ids())
    assert theme.notes == ["a", "b"]


def test_merge_chains_resolve_and_cycles_stop():
    assert resolve("A", {"A": "B", "B": "C"}) == "C"
    assert resolve("A", {"A": "B", "B": "A"}) in {"A", "B"}


def test_names_take_three_distinct_keywords():
    assert theme_name(["funding", "fund", "budget", "grants", "money"]) == \
        "Funding · budget · grants"
    assert pick_keywords(["care workers", "care", "pay"]) == ["care workers", "pay"]
    assert pick_keywords(["local providers", "team", "small local", "bid"]) == \
        ["local providers", "team", "bid"]
    assert theme_name([]) == "Other notes"


def test_labels_are_trimmed_limited_and_reset_by_blank():
    assert check_label("  Money   worries ") == "Money worries"
    assert check_label("   ") is None
    assert check_label(None) is None
    with pytest.raises(InvalidPayload):
        check_label("x" * 81)
    with pytest.raises(InvalidPayload):
        check_label(3)


def test_merging_needs_two_different_unmerged_themes():
    a, b = Known("A", frozenset(), "a"), Known("B", frozenset(), "b")
    check_merge(a, b)
    with pytest.raises(NotFound):
        check_merge(a, None)
    with pytest.raises(IllegalMove):
        check_merge(a, a)
    with pytest.raises(IllegalMove):
        check_merge(Known("A", frozenset(), "a", merged_into="B"), b)


def test_without_the_extra_themes_say_how_to_turn_them_on(monkeypatch):
    import importlib.util

    from plenary import themes

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    assert "pip install 'plenary[themes]'" in (themes.missing() or "")
    monkeypatch.setattr(importlib.util, "find_spec", real)
    assert themes.missing() is None
