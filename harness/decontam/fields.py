"""`--field`: which text of a training row is compared (dotted paths; chat message lists joined)."""
from __future__ import annotations

import json
from typing import Any

import orjson

from harness.errors import HarnessError


def parse_fields(text: str) -> list[list[str]]:
    """`--field problem,solution` or `--field conversations.1.value`: paths split on dots."""
    paths = [part.strip() for part in text.split(",") if part.strip()]
    if not paths:
        raise HarnessError("--field: no field named")
    return [path.split(".") for path in paths]


class NotText(ValueError):
    """A field value that is no text (null, a number, a dict that is not a chat message)."""


def as_text(value: Any) -> str:
    """Strings as they are; chat `messages` (dicts with content/value/text) and lists joined by lines.

    Anything else is refused: scanning `null` or `5` as text would report a row clean that was
    never compared, so a wrong --field must not pass silently."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("content", "value", "text"):
            if key in value:
                return as_text(value[key])
        raise NotText(f"a dict without content/value/text ({json.dumps(value, ensure_ascii=False, default=str)[:60]})")
    if isinstance(value, (list, tuple)):
        return "\n".join(as_text(item) for item in value)
    kind = "null" if value is None else f"a boolean ({value})" if isinstance(value, bool) else \
        f"a number ({value})" if isinstance(value, (int, float)) else f"a {type(value).__name__}"
    raise NotText(kind)


class FieldText:
    """record -> the text of the chosen fields. Picklable, so scan workers can run it."""

    def __init__(self, field: str, source: str):
        self.field = field
        self.paths = parse_fields(field)
        self.source = source

    def top_level(self) -> list[str]:
        return list(dict.fromkeys(path[0] for path in self.paths))

    def __call__(self, record: Any, row: int) -> str:
        return "\n".join(self.text(record, path, row) for path in self.paths)

    def text(self, record: Any, path: list[str], row: int) -> str:
        try:
            return as_text(self.lookup(record, path, row))
        except NotText as exc:
            raise HarnessError(f"{self.source}: row {row}: field '{'.'.join(path)}' is {exc}, not text "
                               f"(--field {self.field})") from None

    def lookup(self, record: Any, path: list[str], row: int) -> Any:
        value = record
        for depth, key in enumerate(path):
            if isinstance(value, dict) and key in value:
                value = value[key]
            elif isinstance(value, (list, tuple)) and key.isdigit() and int(key) < len(value):
                value = value[int(key)]
            else:
                where = ".".join(path[:depth + 1])
                known = f" (fields: {', '.join(map(str, value))})" if isinstance(value, dict) else ""
                raise HarnessError(f"{self.source}: row {row}: no field '{where}' for --field {self.field}{known}")
        return value


class JsonLineText(FieldText):
    """A raw JSONL line (bytes) -> text; parsing happens in the scan workers."""

    def __call__(self, line: bytes, row: int) -> str:
        try:
            record = orjson.loads(line)  # ~4x json.loads; the scan's largest cost after hashing
        except orjson.JSONDecodeError:
            try:  # what orjson refuses and json takes (integers beyond 64 bits, NaN), or the error
                record = json.loads(line)
            except ValueError as exc:
                raise HarnessError(f"{self.source}: row {row}: not valid JSON ({exc})") from None
        return super().__call__(record, row)
