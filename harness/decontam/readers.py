"""Streaming readers of training data: JSONL, a JSON array, CSV, parquet, a `datasets` directory
saved with `save_to_disk`, or anything `datasets.load_dataset(..., streaming=True)` reads (a hub id,
a local folder of data files).

Each yields `Chunk`s of consecutive rows: `payloads` for the scan workers and `raw` for the clean
writer, which needs the untouched bytes (JSONL, JSON, CSV) or the Arrow batch (parquet). Only one
chunk per worker is alive at a time, so memory does not grow with the file. The JSON array reader
is written here because json/ijson give values, not the exact bytes of each element.
"""
from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path
from typing import Iterable, Iterator

from harness.decontam.fields import FieldText, JsonLineText
from harness.decontam.scan import Chunk
from harness.errors import HarnessError
from harness.hub import looks_like_path, require_hub

FORMATS = ("jsonl", "json", "csv", "parquet", "arrow", "datasets")
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
READ_BLOCK = 1 << 20


def detect_format(path: str) -> str:
    location = Path(path)
    if location.is_dir():
        if any((location / name).is_file() for name in ("dataset_dict.json", "state.json", "dataset_info.json")):
            return "arrow"
        return "datasets"
    if location.is_file():
        suffix = location.suffix.lower()
        if suffix in (".jsonl", ".ndjson"):
            return "jsonl"
        if suffix == ".json":
            return "json" if first_character(location) == "[" else "jsonl"
        if suffix in (".csv", ".parquet"):
            return suffix[1:]
        raise HarnessError(f"--train {path}: unknown file type {suffix or '(none)'}; give --format ({', '.join(FORMATS)})")
    if HUB_ID.fullmatch(path) and not looks_like_path(path):
        require_hub("--train", path, "dataset")
        return "datasets"
    raise HarnessError(f"--train {path}: no such file or directory (nor a hub dataset id)")


def first_character(path: Path) -> str:
    with open(path, "rb") as handle:
        return handle.read(4096).decode("utf-8", "replace").lstrip("\ufeff \t\r\n")[:1]


class JsonlReader:
    """One JSON object per line; blank lines are not rows. Workers parse the lines."""

    def __init__(self, path: str, field: FieldText):
        self.path, self.extract = path, JsonLineText(field.field, path)

    def chunks(self, size: int) -> Iterator[Chunk]:
        lines, start = [], 0
        with open(self.path, "rb") as handle:
            for line in handle:
                if not line.strip():
                    continue
                lines.append(line)
                if len(lines) == size:
                    yield Chunk(start, lines, raw=lines)
                    start, lines = start + size, []
        if lines:
            yield Chunk(start, lines, raw=lines)


class JsonArrayReader:
    """A top-level array of objects, decoded element by element from a sliding text buffer.

    `layout` keeps the text around the elements (`[`, the first separator, `]`) for the clean writer.
    """

    def __init__(self, path: str, field: FieldText):
        self.path, self.field, self.extract = path, field, None
        self.layout = {"open": "[", "separator": ",", "close": "]"}

    def chunks(self, size: int) -> Iterator[Chunk]:
        return chunked(((self.field(record, row), raw) for row, (record, raw) in enumerate(self.elements())), size)

    def elements(self) -> Iterator[tuple[object, str]]:
        decoder = json.JSONDecoder()
        with open(self.path, encoding="utf-8") as handle:
            buffer = handle.read(READ_BLOCK)
            opening = re.match(r"\ufeff?\s*\[\s*", buffer)
            if not opening:
                raise HarnessError(f"{self.path}: not a JSON array of rows")
            self.layout["open"], position, row, block = opening.group(), opening.end(), 0, READ_BLOCK
            while True:
                if buffer.startswith("]", position):
                    self.layout["close"] = buffer[position:] + handle.read()
                    return
                if not buffer.startswith("{", position):
                    raise HarnessError(f"{self.path}: row {row}: expected a JSON object")
                try:
                    record, end = decoder.raw_decode(buffer, position)
                    separator = re.compile(r"\s*(,\s*|(?=\]))").match(buffer, end)
                    if separator is None or separator.end() == len(buffer):
                        raise ValueError("element or separator runs past the buffer")
                except ValueError:
                    more = handle.read(block)
                    if not more:
                        raise HarnessError(f"{self.path}: row {row}: truncated or invalid JSON") from None
                    buffer, position, block = buffer[position:] + more, 0, block * 2
                    continue
                yield record, buffer[position:end]
                if not separator.group(1):  # the last element: keep the text before `]` with it
                    self.layout["close"] = buffer[end:] + handle.read()
                    return
                if row == 0:
                    self.layout["separator"] = buffer[end:separator.end()]
                position, row = separator.end(), row + 1
                if position > READ_BLOCK:
                    buffer, position = buffer[position:] + handle.read(READ_BLOCK), 0


class CsvReader:
    """A header row, then one row per record (quoted cells may span lines); raw text kept per row."""

    def __init__(self, path: str, field: FieldText):
        self.path, self.field, self.extract = path, field, None
        self.header_text = ""

    def chunks(self, size: int) -> Iterator[Chunk]:
        csv.field_size_limit(sys.maxsize)
        consumed: list[str] = []

        def recorded(handle):
            for line in handle:
                consumed.append(line)
                yield line

        with open(self.path, encoding="utf-8", newline="") as handle:
            rows = csv.reader(recorded(handle))
            header = next(rows, None)
            if header is None:
                return
            header = [name.lstrip("\ufeff") for name in header]
            self.header_text, consumed[:] = "".join(consumed), []
            texts, raws, start = [], [], 0
            for number, cells in enumerate(rows):
                texts.append(self.field(dict(zip(header, cells)), number))
                raws.append("".join(consumed))
                consumed.clear()
                if len(texts) == size:
                    yield Chunk(start, texts, raw=raws)
                    texts, raws, start = [], [], start + size
            if texts:
                yield Chunk(start, texts, raw=raws)


class ParquetReader:
    """Record batches; only the text columns are read unless a clean copy is being written."""

    def __init__(self, path: str, field: FieldText, whole_rows: bool = False):
        import pyarrow.parquet as pq

        self.path, self.field, self.extract = path, field, None
        try:
            self.file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several types for a bad file
            raise HarnessError(f"{path}: not a readable parquet file ({exc})") from exc
        self.schema = self.file.schema_arrow
        missing = [name for name in field.top_level() if name not in self.schema.names]
        if missing:
            raise HarnessError(f"{path}: no column '{missing[0]}' for --field {field.field} (columns: {', '.join(self.schema.names)})")
        self.columns = None if whole_rows else field.top_level()

    def chunks(self, size: int) -> Iterator[Chunk]:
        start = 0
        for batch in self.file.iter_batches(batch_size=size, columns=self.columns):
            records = batch.select(self.field.top_level()).to_pylist()
            texts = [self.field(record, start + i) for i, record in enumerate(records)]
            yield Chunk(start, texts, raw=batch)
            start += len(texts)


class ArrowDirReader:
    """A `datasets` directory (`save_to_disk`): memory-mapped Arrow, read in slices."""

    def __init__(self, path: str, field: FieldText, split: str | None = None):
        import datasets

        self.path, self.field, self.extract = path, field, None
        try:
            loaded = datasets.load_from_disk(path)
        except Exception as exc:
            raise HarnessError(f"--train {path}: not a datasets directory ({exc})") from exc
        if isinstance(loaded, datasets.DatasetDict):
            if split is None and len(loaded) == 1:
                split = next(iter(loaded))
            if split not in loaded:
                raise HarnessError(f"--split {split}: {path} has splits {', '.join(loaded)}")
            loaded = loaded[split]
        self.dataset = loaded
        missing = [name for name in field.top_level() if name not in loaded.column_names]
        if missing:
            raise HarnessError(f"{path}: no column '{missing[0]}' for --field {field.field} (columns: {', '.join(loaded.column_names)})")

    def chunks(self, size: int) -> Iterator[Chunk]:
        columns = self.dataset.select_columns(self.field.top_level())
        for start in range(0, len(columns), size):
            block = columns[start:start + size]
            records = [dict(zip(block, values)) for values in zip(*block.values())]
            yield Chunk(start, [self.field(record, start + i) for i, record in enumerate(records)], raw=(start, len(records)))


class StreamingDatasetReader:
    """`datasets.load_dataset(source, split, streaming=True)`: a hub id or a folder of data files."""

    def __init__(self, source: str, field: FieldText, split: str | None = None):
        import datasets

        self.path, self.field, self.extract = source, field, None
        try:
            self.dataset = datasets.load_dataset(source, split=split or "train", streaming=True)
        except Exception as exc:
            raise HarnessError(f"--train {source}: datasets.load_dataset could not open it ({exc.__class__.__name__}: {exc})") from exc

    def chunks(self, size: int) -> Iterator[Chunk]:
        return chunked(((self.field(row, index), row) for index, row in enumerate(self.dataset)), size)


def open_training(path: str, field: str, format: str | None = None, split: str | None = None,
                  whole_rows: bool = False):
    """The reader for `--train PATH` (format detected from the name unless given)."""
    kind = format or detect_format(path)
    fields = FieldText(field, path)
    if kind == "jsonl":
        return JsonlReader(path, fields)
    if kind == "json":
        return JsonArrayReader(path, fields)
    if kind == "csv":
        return CsvReader(path, fields)
    if kind == "parquet":
        return ParquetReader(path, fields, whole_rows)
    if kind == "arrow":
        return ArrowDirReader(path, fields, split)
    if kind == "datasets":
        return StreamingDatasetReader(path, fields, split)
    raise HarnessError(f"--format {kind}: unknown (known: {', '.join(FORMATS)})")


def chunked(texts_and_raws: Iterable[tuple[str, object]], size: int) -> Iterator[Chunk]:
    """Consecutive Chunks of `size` rows (text plus the raw row the clean writer copies)."""
    texts: list[str] = []
    raws: list[object] = []
    start = 0
    for text, raw in texts_and_raws:
        texts.append(text)
        raws.append(raw)
        if len(texts) == size:
            yield Chunk(start, texts, raw=raws)
            texts, raws, start = [], [], start + size
    if texts:
        yield Chunk(start, texts, raw=raws)
