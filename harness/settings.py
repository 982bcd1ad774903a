"""Declared settings: every knob of a run says once what it means, and the rest is derived.

A `Setting` carries its default, flag, help, the value of the published protocol and its `Role`:

- `MEASURE`: changes what a number measures (the think policy, GPQA option order, LCB grader mode,
  max tokens, ...). Two runs that differ here are never comparable: a resume is refused, the
  leaderboard marks the cell, the gate refuses, the paper report lists it as a deviation.
- `SAMPLE`: changes which samples are drawn but not what is measured (the sampling seed). A resume
  is refused (the run would no longer be one reproducible draw); reports and the gate compare.
- `PLACE`: decides where or how the work runs (the sandbox, batch sizes): never refused, never
  compared.

The CLI flags of eval/grade/suites show, the resume check (`harness.identity`), the reports'
comparability and the deviation sentences all read these declarations; nothing keeps a list of
names. Why not pydantic: the declarations also drive argparse and the reports' wording, and a
frozen dataclass per setting stays smaller than a model plus the same metadata on each field.
"""
from __future__ import annotations

import argparse
import enum
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Sequence

from harness.errors import HarnessError

UNSET = object()  # `published` when it is the default


class Role(str, enum.Enum):
    MEASURE = "measure"
    SAMPLE = "sample"
    PLACE = "place"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    role: Role = Role.MEASURE
    kind: type = str  # str | int | float | bool (bool: a store_true flag)
    choices: tuple[Any, ...] | None = None
    published: Any = UNSET  # the published protocol's value; UNSET = the default
    # value -> problem text, or None when the value is acceptable
    check: Callable[[Any], str | None] | None = None
    # (value, all options) -> the deviation sentence; default: "name=value (published: p)"
    deviation: Callable[[Any, dict[str, Any]], str | None] | None = None
    label: Callable[[Any], str | None] | None = None  # a short mark for a report cell when not published
    unit: str = ""  # words after the value in sentences ("samples per problem")
    flag_name: str | None = None  # default: --name-with-dashes
    dest: str | None = None  # argparse dest (default: name)
    repeat: bool = False  # the flag may be given several times (a list of values)

    @property
    def flag(self) -> str:
        """--name-with-dashes; a switch whose default is on is turned off by --no-name."""
        negation = "no-" if self.kind is bool and self.default is True else ""
        return self.flag_name or f"--{negation}{self.name.replace('_', '-')}"

    @property
    def published_value(self) -> Any:
        return self.default if self.published is UNSET else self.published

    def with_default(self, default: Any, **changes: Any) -> "Setting":
        """The same setting with another default (e.g. the think policy of code suites)."""
        return replace(self, default=default, **changes)

    def validate(self, value: Any, where: str | None = None) -> Any:
        where = where or self.flag
        if self.kind is bool and not isinstance(value, bool):
            raise HarnessError(f"{where} {value!r}: expected true or false")
        if self.kind in (int, float) and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise HarnessError(f"{where} {value!r}: expected a number")
        if self.kind is int and isinstance(value, float) and not value.is_integer():
            raise HarnessError(f"{where} {value!r}: expected an integer")
        if self.choices is not None and value not in self.choices:
            raise HarnessError(f"{where} {value!r}: expected one of {', '.join(map(str, self.choices))}")
        problem = self.check(value) if self.check else None
        if problem:
            raise HarnessError(f"{where} {value}: {problem}")
        return int(value) if self.kind is int else float(value) if self.kind is float else value

    def deviation_text(self, value: Any, options: dict[str, Any]) -> str | None:
        if self.role is not Role.MEASURE:
            return None
        if self.deviation is not None:
            return self.deviation(value, options)
        if value == self.published_value:
            return None
        return self.sentence(value, self.published_value)

    def sentence(self, value: Any, published: Any) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.name}={value}{unit} (published: {published})"

    def cell_label(self, value: Any) -> str | None:
        if self.label is None or value == self.published_value:
            return None
        return self.label(value)

    def argparse_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"dest": self.dest or self.name, "help": self.help, "default": None}
        if self.kind is bool:  # a flag sets the opposite of the default (--no-x for a True default)
            kwargs.update(action="store_const", const=not self.default)
        else:
            kwargs["type"] = self.kind
            if self.repeat:
                kwargs["action"] = "append"
            if self.choices is not None:
                kwargs["choices"] = list(self.choices)
        return kwargs


@dataclass(frozen=True)
class Settings:
    """An ordered group of declarations (a suite's options, the sampling settings, a backend's)."""

    items: tuple[Setting, ...] = field(default_factory=tuple)

    def __iter__(self):
        return iter(self.items)

    def get(self, name: str) -> Setting | None:
        return next((item for item in self.items if item.name == name), None)

    def defaults(self) -> dict[str, Any]:
        return {item.name: item.default for item in self.items}

    def names(self, *roles: Role) -> list[str]:
        return [item.name for item in self.items if not roles or item.role in roles]

    def resolve(self, given: dict[str, Any], where: Callable[[Setting], str] | None = None) -> dict[str, Any]:
        """Defaults overlaid with the given values this group declares (None = not given), validated."""
        resolved = self.defaults()
        for item in self.items:
            value = given.get(item.name)
            if value is not None:
                resolved[item.name] = item.validate(value, where(item) if where else None)
        return resolved

    def deviations(self, values: dict[str, Any]) -> list[str]:
        return [text for item in self.items if item.name in values
                if (text := item.deviation_text(values[item.name], values))]

    def labels(self, values: dict[str, Any]) -> list[str]:
        return [text for item in self.items if item.name in values and (text := item.cell_label(values[item.name]))]

    def role_of(self, name: str) -> Role:
        """Undeclared names (an option of a newer or unknown suite) count as MEASURE: refuse, never guess."""
        item = self.get(name)
        return item.role if item else Role.MEASURE


def union(groups: Iterable[Iterable[Setting]]) -> list[Setting]:
    """One declaration per name across groups (the first wins: suites may differ only in defaults)."""
    seen: dict[str, Setting] = {}
    for group in groups:
        for item in group:
            seen.setdefault(item.name, item)
    return list(seen.values())


def add_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup, settings: Sequence[Setting]) -> None:
    for item in settings:
        parser.add_argument(item.flag, **item.argparse_kwargs())


def given_values(args: argparse.Namespace, settings: Sequence[Setting]) -> dict[str, Any]:
    """name -> value for the flags the user gave (argparse default None = not given)."""
    return {item.name: value for item in settings
            if (value := getattr(args, item.dest or item.name, None)) is not None}
