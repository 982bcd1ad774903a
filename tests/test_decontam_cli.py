"""`harness decontam` end to end: every input format, the report contract, --write-clean round trips."""
import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import run_harness
from suites import get_suite

DATA = Path(__file__).parent / "data" / "decontam"
SUITES = "aime24,math500"
PLANTED = {4: "aime24", 9: "math500", 10: "aime24"}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return {"SSP_HARNESS_CACHE": str(tmp_path_factory.mktemp("cache"))}


@pytest.fixture(scope="module")
def records() -> list[dict]:
    """Background rows with three planted problems at rows 4, 9, 10 (chat messages with a system turn)."""
    rows = [json.loads(line) for line in (DATA / "background.jsonl").read_text().splitlines()][:14]
    statements = {"aime24": get_suite("aime24").load_problems()[6].statement,
                  "math500": get_suite("math500").load_problems()[40].statement}
    out = []
    for i, row in enumerate(rows):
        text = row["text"] if i not in PLANTED else "Solve this.\n" + statements[PLANTED[i]].upper()
        out.append({"id": row["id"], "meta": {"source": "lcb"},
                    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]})
    return out


def decontam(tmp_path, cache, train, *extra):
    result = run_harness("decontam", "--train", str(train), "--field", "messages", "--suites", SUITES,
                         "--out", str(tmp_path / "report.jsonl"), *extra, env={**cache, "HARNESS_PROGRESS": "off"})
    assert result.returncode == 0, result.stderr
    report = [json.loads(line) for line in (tmp_path / "report.jsonl").read_text().splitlines()]
    return result, report


def check_report(report):
    assert [line["index"] for line in report] == sorted(PLANTED)
    for line in report:
        assert PLANTED[line["index"]] in {m["suite"] for m in line["matches"]}
        for match in line["matches"]:
            assert set(match) >= {"suite", "problem_id", "ngram"} and len(match["ngram"].split()) == 10


def jsonl_bytes(records):
    # mixed spacing and key order, so a re-serialised row would not be byte-identical
    return "".join(json.dumps(r, indent=None, separators=(", ", ": ") if i % 2 else (",", ":"), ensure_ascii=i % 3 == 0) + "\n"
                   for i, r in enumerate(records)).encode()


def test_jsonl_report_summary_and_byte_identical_clean_copy(tmp_path, cache, records):
    train = tmp_path / "train.jsonl"
    train.write_bytes(jsonl_bytes(records))
    result, report = decontam(tmp_path, cache, train, "--write-clean", str(tmp_path / "clean.jsonl"))
    check_report(report)
    assert "14 rows scanned, 3 flagged" in result.stdout
    assert "aime24: 2 rows flagged; 1/30 problems seen" in result.stdout
    assert "math500: 1 rows flagged; 1/500 problems seen" in result.stdout
    kept = [line for i, line in enumerate(train.read_bytes().splitlines(keepends=True)) if i not in PLANTED]
    assert (tmp_path / "clean.jsonl").read_bytes() == b"".join(kept)


def test_json_array_clean_copy_keeps_untouched_rows_byte_for_byte(tmp_path, cache, records):
    train = tmp_path / "train.json"
    train.write_text(json.dumps(records, indent=2, ensure_ascii=False), encoding="utf-8")
    _, report = decontam(tmp_path, cache, train, "--write-clean", str(tmp_path / "clean.json"))
    check_report(report)
    expected = json.dumps([r for i, r in enumerate(records) if i not in PLANTED], indent=2, ensure_ascii=False)
    assert (tmp_path / "clean.json").read_text(encoding="utf-8") == expected


def test_csv_with_multiline_cells_round_trips(tmp_path, cache, records):
    raw_rows = []
    for record in records:
        row_buffer = io.StringIO(newline="")
        csv.writer(row_buffer).writerow([record["id"], record["messages"][1]["content"]])
        raw_rows.append(row_buffer.getvalue())
    train = tmp_path / "train.csv"
    train.write_text("id,messages\r\n" + "".join(raw_rows), encoding="utf-8", newline="")
    _, report = decontam(tmp_path, cache, train, "--write-clean", str(tmp_path / "clean.csv"))
    check_report(report)
    expected = "id,messages\r\n" + "".join(r for i, r in enumerate(raw_rows) if i not in PLANTED)
    assert (tmp_path / "clean.csv").read_bytes() == expected.encode("utf-8")


def test_parquet_with_dotted_field_and_clean_rows(tmp_path, cache, records):
    table = pa.Table.from_pylist(records)
    train = tmp_path / "train.parquet"
    pq.write_table(table, train, row_group_size=5)
    result = run_harness("decontam", "--train", str(train), "--field", "messages.1.content", "--suites", SUITES,
                         "--out", str(tmp_path / "report.jsonl"), "--write-clean", str(tmp_path / "clean.parquet"),
                         env={**cache, "HARNESS_PROGRESS": "off"})
    assert result.returncode == 0, result.stderr
    check_report([json.loads(line) for line in (tmp_path / "report.jsonl").read_text().splitlines()])
    clean = pq.read_table(tmp_path / "clean.parquet")
    assert clean.schema == table.schema
    assert clean.to_pylist() == [r for i, r in enumerate(records) if i not in PLANTED]


def test_datasets_directory_and_streaming_load_dataset(tmp_path, cache, records):
    import datasets

    saved = tmp_path / "saved"
    datasets.Dataset.from_list(records).save_to_disk(str(saved))
    _, report = decontam(tmp_path, cache, saved, "--write-clean", str(tmp_path / "clean_saved"))
    check_report(report)
    clean = datasets.load_from_disk(str(tmp_path / "clean_saved"))
    assert clean.to_list() == [r for i, r in enumerate(records) if i not in PLANTED]

    # a folder of data files goes through datasets.load_dataset(..., streaming=True), as a hub id does
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "train.jsonl").write_bytes(jsonl_bytes(records))
    _, report = decontam(tmp_path, cache, folder, "--overwrite", "--write-clean", str(tmp_path / "clean_stream.jsonl"))
    check_report(report)
    streamed = [json.loads(line) for line in (tmp_path / "clean_stream.jsonl").read_text().splitlines()]
    assert streamed == [r for i, r in enumerate(records) if i not in PLANTED]


def test_errors_name_the_flag_and_nothing_is_overwritten(tmp_path, cache, records):
    train = tmp_path / "train.jsonl"
    train.write_bytes(jsonl_bytes(records))
    out = tmp_path / "report.jsonl"
    out.write_text("keep me\n")
    env = {**cache, "HARNESS_PROGRESS": "off"}
    result = run_harness("decontam", "--train", str(train), "--field", "messages", "--out", str(out), env=env)
    assert result.returncode == 2 and "--out" in result.stderr and "already exists" in result.stderr
    assert out.read_text() == "keep me\n"
    result = run_harness("decontam", "--train", str(train), "--field", "prompt", "--suites", SUITES,
                         "--out", str(tmp_path / "r2.jsonl"), env=env)
    assert result.returncode == 2 and "no field 'prompt'" in result.stderr and "messages" in result.stderr
    assert not (tmp_path / "r2.jsonl").exists()
    result = run_harness("decontam", "--train", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "r3.jsonl"), env=env)
    assert result.returncode == 2 and "--train" in result.stderr
    result = run_harness("decontam", "--train", str(train), "--suites", "aime24,nope", "--out", str(tmp_path / "r4.jsonl"), env=env)
    assert result.returncode == 2 and "nope" in result.stderr
