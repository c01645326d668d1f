"""Board templates: the shape of an event (stages, steps, prompts, categories).

A template is a TOML file in ``board_templates/``; the format is documented in
docs/templates.md. Parsing is pure: :func:`parse_template` takes the text, so the
rules are testable without files, and every mistake names the file and the key.
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import DomainError

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]


class TemplateError(DomainError):
    """A board template that cannot be used, with the file and key at fault."""

    code = "bad_template"


class StepKind(StrEnum):
    WRITE = "write"
    REVEAL = "reveal"
    DISCUSS = "discuss"
    GROUP = "group"
    VOTE = "vote"
    SUMMARISE = "summarise"


#: Step kinds during which participants may post notes.
POSTING_KINDS = frozenset({StepKind.WRITE, StepKind.REVEAL, StepKind.DISCUSS})

DEFAULT_STEP_TITLES = {
    StepKind.WRITE: "Write",
    StepKind.REVEAL: "Reveal",
    StepKind.DISCUSS: "Discuss",
    StepKind.GROUP: "Group",
    StepKind.VOTE: "Vote",
    StepKind.SUMMARISE: "Summarise",
}


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, strict=True
    )


class Category(_Strict):
    id: Slug
    label: str = Field(min_length=1, max_length=40)
    hint: str = Field(default="", max_length=200)


class Step(_Strict):
    kind: Annotated[StepKind, Field(strict=False)]
    title: str = Field(default="", max_length=60)
    instructions: str = Field(default="", max_length=500)
    private: bool = False

    @model_validator(mode="after")
    def _defaults(self) -> Step:
        if self.private and self.kind is not StepKind.WRITE:
            raise ValueError("'private' is only allowed on a step of kind 'write'")
        if not self.title:
            object.__setattr__(self, "title", DEFAULT_STEP_TITLES[self.kind])
        return self

    @property
    def accepts_notes(self) -> bool:
        """Whether participants may post during this step."""
        return self.kind in POSTING_KINDS


class Stage(_Strict):
    id: Slug
    title: str = Field(min_length=1, max_length=120)
    prompt: str = Field(min_length=1, max_length=1000)
    duration_minutes: int | None = Field(default=None, ge=1, le=480)
    votes: int | None = Field(default=None, ge=0, le=20)
    categories: list[Category] = Field(default_factory=list, max_length=8)
    steps: list[Step] = Field(min_length=1, max_length=10)

    @model_validator(mode="after")
    def _coherent(self) -> Stage:
        ids = [c.id for c in self.categories]
        if len(ids) != len(set(ids)):
            raise ValueError(f"category ids must be unique within a stage, got {ids}")
        if not any(step.accepts_notes for step in self.steps):
            raise ValueError("a stage needs at least one step that accepts notes "
                             "(write, reveal or discuss)")
        for i, step in enumerate(self.steps):
            if step.private and not any(s.kind is StepKind.REVEAL for s in self.steps[i + 1:]):
                raise ValueError(f"step {i + 1} is private writing, so a 'reveal' step "
                                 "must follow it in the same stage")
        return self


class Topic(_Strict):
    title: str = Field(min_length=1, max_length=120)
    brief: str = Field(default="", max_length=2000)


class Template(_Strict):
    schema_: Literal[1] = Field(alias="schema")
    name: Slug
    title: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=1000)
    votes_per_participant: int = Field(default=3, ge=0, le=20)
    show_author_names: bool = True
    note_max_length: int = Field(default=280, ge=20, le=1000)
    #: "after_vote": during a vote step participants see only their own dots,
    #: and the counts appear when the step ends; "live": counts show as they come.
    vote_counts: Literal["live", "after_vote"] = "after_vote"
    topics: list[Topic] = Field(default_factory=list, max_length=100)
    stages: list[Stage] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _coherent(self) -> Template:
        ids = [s.id for s in self.stages]
        if len(ids) != len(set(ids)):
            raise ValueError(f"stage ids must be unique, got {ids}")
        titles = [t.title for t in self.topics]
        if len(titles) != len(set(titles)):
            raise ValueError("topic titles must be unique")
        for i, stage in enumerate(self.stages):
            if self.votes_for(i) == 0 and any(s.kind is StepKind.VOTE for s in stage.steps):
                raise ValueError(f"stage {i + 1} ({stage.id}) has a vote step but no votes; "
                                 "set 'votes' on the stage or 'votes_per_participant'")
        return self

    def votes_for(self, stage_index: int) -> int:
        """Dot votes each participant has in the given stage."""
        votes = self.stages[stage_index].votes
        return self.votes_per_participant if votes is None else votes

    def to_data(self) -> dict[str, Any]:
        """The template as plain data (stored with each event, sent to clients)."""
        return self.model_dump(mode="json", by_alias=True)


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part + 1}]"
        else:
            path += ("." if path else "") + part
    return path or "(top level)"


def parse_template(text: str, *, source: str, expected_name: str | None = None) -> Template:
    """Parse and validate template TOML; errors name ``source`` and the key at fault."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{source}: not valid TOML: {exc}") from exc
    return template_from_data(data, source=source, expected_name=expected_name)


def template_from_data(
    data: dict[str, Any], *, source: str, expected_name: str | None = None
) -> Template:
    """Validate template data already parsed (from TOML or from the store)."""
    try:
        template = Template.model_validate(data)
    except ValidationError as exc:
        problems = []
        errors = exc.errors()
        failed = {err["loc"] for err in errors}
        for err in errors:
            # A list whose items failed also reports itself "too short"; the item's
            # own error is the one a person can act on.
            if err["type"] == "too_short" and any(
                loc[: len(err["loc"])] == err["loc"] and loc != err["loc"] for loc in failed
            ):
                continue
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling against docs/templates.md)"
            problems.append(f"{source}: {_key_path(err['loc'])}: {msg}")
        raise TemplateError("\n".join(problems)) from None
    if expected_name is not None and template.name != expected_name:
        raise TemplateError(
            f"{source}: name: is {template.name!r} but the file is named {expected_name!r}.toml; "
            "they must match"
        )
    return template
