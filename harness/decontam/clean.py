"""`--write-clean`: the unflagged rows, in the input's format.

JSONL, JSON and CSV rows are copied as the exact bytes they had (the JSON array keeps its opening,
first separator and closing text); parquet keeps the schema and its metadata; a `datasets`
directory is written with `save_to_disk`; a streamed `load_dataset` source becomes JSONL. Output
goes to a temporary name first and is renamed when complete, so a failed scan leaves nothing.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from harness.decontam.readers import (ArrowDirReader, CsvReader, JsonArrayReader, JsonlReader, ParquetReader,
                                      StreamingDatasetReader)
from harness.decontam.scan import Chunk


class CleanWriter:
    def __init__(self, reader, target: Path):
        self.reader, self.target = reader, target
        self.staging = target.with_name(f".{target.name}.partial{os.getpid()}")
        self.open()

    def open(self) -> None:
        self.handle = open(self.staging, "wb")

    def write(self, chunk: Chunk, flagged: set[int]) -> None:
        for offset, raw in enumerate(chunk.raw):
            if offset not in flagged:
                self.handle.write(raw)

    def finish(self) -> None:
        self.handle.close()
        os.replace(self.staging, self.target)

    def abandon(self) -> None:
        self.handle.close()
        shutil.rmtree(self.staging, ignore_errors=True) if self.staging.is_dir() else self.staging.unlink(missing_ok=True)


class JsonArrayWriter(CleanWriter):
    def open(self) -> None:
        self.handle, self.rows = open(self.staging, "w", encoding="utf-8", newline=""), 0

    def write(self, chunk: Chunk, flagged: set[int]) -> None:
        layout = self.reader.layout
        for offset, raw in enumerate(chunk.raw):
            if offset not in flagged:
                self.handle.write((layout["open"] if self.rows == 0 else layout["separator"]) + raw)
                self.rows += 1

    def finish(self) -> None:
        layout = self.reader.layout
        self.handle.write((layout["open"] if self.rows == 0 else "") + layout["close"])
        super().finish()


class CsvWriter(JsonArrayWriter):
    def write(self, chunk: Chunk, flagged: set[int]) -> None:
        if self.rows == 0:
            self.handle.write(self.reader.header_text)
            self.rows = 1
        for offset, raw in enumerate(chunk.raw):
            if offset not in flagged:
                self.handle.write(raw)

    def finish(self) -> None:
        if self.rows == 0:
            self.handle.write(self.reader.header_text)
        CleanWriter.finish(self)


class ParquetWriter(CleanWriter):
    def open(self) -> None:
        import pyarrow.parquet as pq

        self.handle = pq.ParquetWriter(self.staging, self.reader.schema)

    def write(self, chunk: Chunk, flagged: set[int]) -> None:
        keep = np.ones(chunk.raw.num_rows, dtype=bool)
        keep[list(flagged)] = False
        self.handle.write_batch(chunk.raw.filter(keep))


class ArrowDirWriter(CleanWriter):
    def open(self) -> None:
        self.kept: list[np.ndarray] = []

    def write(self, chunk: Chunk, flagged: set[int]) -> None:
        start, count = chunk.raw
        rows = np.arange(start, start + count)
        self.kept.append(rows[~np.isin(rows - start, list(flagged))])

    def finish(self) -> None:
        kept = np.concatenate(self.kept) if self.kept else np.zeros(0, dtype=np.int64)
        self.reader.dataset.select(kept).save_to_disk(str(self.staging))
        os.replace(self.staging, self.target)

    def abandon(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


class JsonlRowsWriter(CleanWriter):
    def write(self, chunk: Chunk, flagged: set[int]) -> None:
        for offset, row in enumerate(chunk.raw):
            if offset not in flagged:
                self.handle.write(json.dumps(row, ensure_ascii=False, default=str).encode() + b"\n")


WRITERS = {JsonlReader: CleanWriter, JsonArrayReader: JsonArrayWriter, CsvReader: CsvWriter,
           ParquetReader: ParquetWriter, ArrowDirReader: ArrowDirWriter, StreamingDatasetReader: JsonlRowsWriter}


def clean_writer(reader, target: Path) -> CleanWriter:
    return WRITERS[type(reader)](reader, target)
