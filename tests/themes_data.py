"""The labelled notes of tests/data/themes_labelled.txt (its header says the format)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

PATH = Path(__file__).with_name("data") / "themes_labelled.txt"
_NOTE = re.compile(r"^(\d+) ([|~]) (.+)$")
_THEME = re.compile(r"^## (.+?)(?: \[(\w+)\])?$")


@dataclass(frozen=True)
class Labelled:
    stage: int
    theme: str
    category: str | None
    table: int  # 1-16
    text: str
    #: The index (in the file's list) of the note this one nearly repeats, or None.
    near: int | None

    @property
    def topic(self) -> int:
        """The topic's position (0-7): tables 1-8 and 9-16 have topics 1-8."""
        return (self.table - 1) % 8


def load() -> list[Labelled]:
    """Every note in the file, in order."""
    out: list[Labelled] = []
    stage, theme, category = -1, "", None
    for line in PATH.read_text(encoding="utf-8").splitlines():
        if line.startswith("== "):
            stage = int(line.split()[1])
        elif m := _THEME.match(line):
            theme, category = m.group(1), m.group(2)
        elif m := _NOTE.match(line):
            text = m.group(3)
            near = _closest(out, theme, text) if m.group(2) == "~" else None
            out.append(Labelled(stage, theme, category, int(m.group(1)), text, near))
    return out


def _closest(notes: list[Labelled], theme: str, text: str) -> int:
    """The earlier note of the same theme closest in wording: the one a ``~`` line repeats."""
    same = [i for i, n in enumerate(notes) if n.theme == theme and n.near is None]
    return max(same, key=lambda i: SequenceMatcher(None, notes[i].text.lower(),
                                                   text.lower()).ratio())
