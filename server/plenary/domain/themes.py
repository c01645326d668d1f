"""Cross-table themes: identity between refreshes, naming, and the organiser's choices.

No I/O and no model here: the clustering (``plenary.themes``) hands over groups
of note ids, and these rules decide which stored theme each group is, what it is
called, and how the organiser's renames, merges, moved notes and hidden themes
bend the result. The same rules run on every refresh, so those choices survive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from .errors import IllegalMove, InvalidPayload, NotFound

#: A group needs this many notes to be called a theme: one note is one voice.
MIN_THEME_NOTES = 2
#: A new group is an old theme when they share more than this share of the smaller
#: of the two: a theme that grew from 2 notes to 7 is still itself, and so is the
#: bigger part of a theme that split.
SAME_THEME_SHARE = 0.5
#: The automatic name is kept while the theme has grown less than this factor since
#: it was named: a theme that gains a note keeps its name (the organiser's rule),
#: but one named from two notes is renamed once it has many more.
RENAME_GROWTH = 2.0
#: Keywords in a theme's name.
NAME_WORDS = 3
LABEL_MAX = 80


@dataclass(frozen=True, slots=True)
class NoteInfo:
    """What the rules need of a public note."""

    id: str
    table_id: str
    topic_id: int | None
    text: str


@dataclass(frozen=True, slots=True)
class Group:
    """One group from the clustering: note ids, most central first, and its keywords."""

    notes: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Known:
    """A theme as stored: its notes at the last refresh and the organiser's choices."""

    id: str
    notes: frozenset[str]
    name: str
    named_size: int = 0
    label: str | None = None
    hidden: bool = False
    merged_into: str | None = None
    excluded: frozenset[str] = frozenset()


@dataclass(slots=True)
class Theme:
    """A theme after a refresh: what the dashboard, the console and the report show."""

    id: str
    name: str
    named_size: int
    notes: list[str]
    keywords: list[str]
    tables: int = 0
    topics: int = 0
    label: str | None = None
    hidden: bool = False
    merged_from: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The organiser's name for it if they gave one, else the automatic one."""
        return self.label or self.name

    @property
    def example(self) -> str | None:
        """The most central note: the theme's quote."""
        return self.notes[0] if self.notes else None


def theme_name(keywords: Sequence[str]) -> str:
    """A short name from ranked keywords: 'Funding · budget · grants'."""
    chosen = pick_keywords(keywords)
    if not chosen:
        return "Other notes"
    name = " · ".join(chosen)
    return name[:1].upper() + name[1:]


def pick_keywords(ranked: Iterable[str], n: int = NAME_WORDS) -> list[str]:
    """The first ``n`` keywords that are not a part of one already chosen (fund/funding)."""
    chosen: list[str] = []
    for word in ranked:
        w = word.strip().lower()
        if not w or any(_overlaps(w, c) for c in chosen):
            continue
        chosen.append(w)
        if len(chosen) == n:
            break
    return chosen


def _overlaps(a: str, b: str) -> bool:
    # "fund" and "funding", "carer" and "carers", "care" and "care workers",
    # "local providers" and "small local".
    return any(_same_word(x, y) for x in a.split() for y in b.split())


def _same_word(a: str, b: str) -> bool:
    stem = min(len(a), len(b), 5)
    return a == b or (stem >= 4 and a[:stem] == b[:stem])


def resolve(theme_id: str, merged: dict[str, str]) -> str:
    """Where a theme's notes go: itself, or the theme it was merged into (followed)."""
    seen = {theme_id}
    while theme_id in merged:
        theme_id = merged[theme_id]
        if theme_id in seen:  # a cycle cannot be made through the API; be safe anyway
            break
        seen.add(theme_id)
    return theme_id


def match(groups: Sequence[Group], known: Sequence[Known]) -> list[str | None]:
    """Which stored theme each group is (by shared notes), or None for a new one.

    Greedy on the number of shared notes: each stored theme is given to at most one
    group, and only when they share most of the smaller one's notes. A theme other
    themes were merged into may take several groups (they are one theme now).
    """
    targets = {resolve(k.merged_into, _merges(known)) for k in known if k.merged_into}
    pairs = []
    for gi, g in enumerate(groups):
        members = set(g.notes)
        for ki, k in enumerate(known):
            shared = len(members & k.notes)
            if shared and shared > SAME_THEME_SHARE * min(len(members), len(k.notes)):
                pairs.append((-shared, gi, ki))
    pairs.sort()
    result: list[str | None] = [None] * len(groups)
    taken: set[int] = set()
    for _, gi, ki in pairs:
        if result[gi] is not None:
            continue
        k = known[ki]
        if ki in taken and k.id not in targets:
            continue
        taken.add(ki)
        result[gi] = k.id
    return result


def _merges(known: Iterable[Known]) -> dict[str, str]:
    return {k.id: k.merged_into for k in known if k.merged_into}


def build(groups: Sequence[Group], known: Sequence[Known], notes: dict[str, NoteInfo],
          new_id: Callable[[], str]) -> list[Theme]:
    """This refresh's themes from the clustering's groups and what was stored.

    Groups become themes (new or known), merged themes fold into their target,
    notes the organiser moved out stay out, and each theme counts its tables and
    topics. Returned biggest reach first; hidden themes are kept (marked).
    """
    by_id = {k.id: k for k in known}
    merged = _merges(known)
    themes: dict[str, Theme] = {}
    for group, theme_id in zip(groups, match(groups, known), strict=True):
        if theme_id is None and len(group.notes) < MIN_THEME_NOTES:
            continue
        own = theme_id or new_id()
        final = resolve(own, merged)
        base = by_id.get(final)
        theme = themes.get(final)
        if theme is None:
            theme = themes[final] = Theme(
                id=final, name=base.name if base else "", named_size=base.named_size if base
                else 0, notes=[], keywords=list(group.keywords),
                label=base.label if base else None, hidden=base.hidden if base else False)
        elif len(group.notes) > len(theme.notes):
            theme.keywords = list(group.keywords)
        if own != final:
            theme.merged_from.append(own)
        have = set(theme.notes)
        theme.notes.extend(n for n in group.notes if n not in have)
    result = []
    for theme in themes.values():
        excluded = by_id[theme.id].excluded if theme.id in by_id else frozenset()
        theme.notes = [n for n in theme.notes if n not in excluded and n in notes]
        if not theme.notes:
            continue
        if not theme.name or len(theme.notes) >= RENAME_GROWTH * max(theme.named_size, 1):
            theme.name = theme_name(theme.keywords)
            theme.named_size = len(theme.notes)
        members = [notes[n] for n in theme.notes]
        theme.tables = len({m.table_id for m in members})
        theme.topics = len({m.topic_id for m in members if m.topic_id is not None})
        result.append(theme)
    result.sort(key=lambda t: (-t.tables, -len(t.notes), t.title.lower()))
    return result


def check_label(label: object) -> str | None:
    """An organiser's name for a theme: trimmed text up to LABEL_MAX, or None to reset."""
    if label is None:
        return None
    if not isinstance(label, str):
        raise InvalidPayload("A theme's name must be text.")
    text = " ".join(label.split())
    if len(text) > LABEL_MAX:
        raise InvalidPayload(f"A theme's name can be at most {LABEL_MAX} characters.",
                             code="text_too_long")
    return text or None


def check_merge(source: Known | None, target: Known | None) -> None:
    """Merging two themes: both exist, in the same scope, and they are not the same."""
    if source is None or target is None:
        raise NotFound("There is no such theme in this event.")
    if source.id == target.id:
        raise IllegalMove("A theme cannot be merged into itself.", code="same_theme")
    if source.merged_into is not None or target.merged_into is not None:
        raise IllegalMove("That theme was already merged into another.", code="merged")
