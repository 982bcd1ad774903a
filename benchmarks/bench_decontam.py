"""Throughput and peak memory of `harness decontam` on a synthetic corpus, against lm-eval's Janitor.

    python benchmarks/bench_decontam.py [--docs 1000000] [--janitor-docs 20000] [--workdir /tmp/bench-decontam]
    python benchmarks/bench_decontam.py --docs 10000000 --words-per-doc 12 --janitor-docs 0 --datatrove-docs 0  # memory

Builds (once, kept in --workdir) a JSONL corpus of --docs documents of about 1 KB: words drawn
from the suites' own word frequencies (so almost every word is in the index vocabulary: the slow
path), with punctuation and LaTeX fragments, plus one planted copy of each of the first 1000
indexable suite problems at known rows. Then it runs the real CLI (`harness decontam`, all suites,
10-grams, default jobs) as a subprocess, sampling the RSS of its whole process tree, checks that
every planted row is flagged, and runs lm-evaluation-harness's Janitor (Python mode, 10-grams,
contaminants = the same suite statements) on the first --janitor-docs documents of the same corpus
in the same process. Prints documents/s for both, the ratio, and peak memory. `pip install
--no-deps lm-eval` provides the Janitor (it is not a dependency of the harness).

Second anchor: datatrove's n-gram decontamination (`datatrove.pipeline.decont.NGramsDecontFilter`,
10-grams, its default text normalisation and English word tokenizer), on the first
--datatrove-docs documents of the same corpus, one core, in this process. Its index is the same
suite statements, hashed with the filter's own normalisation, tokenizer and hash function (the
library's indexer step needs lighteval to fetch tasks, so the index files are written here in its
format). The corpus is normalisation-neutral: words and LaTeX fragments separated by spaces, so
each library's tokeniser sees the same words. Every tool is reported in MB/s per core (ours: the
CLI's wall time x its worker processes). `pip install 'ssp-harness[bench]'` installs datatrove
and spacy (its English tokenizer).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

PLANTED = 1000
SEED = 20251106
FRAGMENTS = ["$x^2$", "\\frac{1}{2}", "$a_n$", "\\sqrt{3}", "(", ")", ",", ".", ":", "$n$", "\\le"]


def suite_statements() -> list[tuple[str, str]]:
    from harness.decontam.index import STATEMENT_OPTIONS
    from harness.errors import HarnessError
    from suites import get_suite, suite_names

    found = []
    for name in suite_names():
        try:
            found += [(p.problem_id, p.statement) for p in get_suite(name).load_problems(STATEMENT_OPTIONS)]
        except HarnessError:
            continue  # a suite whose data must be supplied
    return found


def build_corpus(path: Path, docs: int, statements: list[tuple[str, str]], words_per_doc: int = 190) -> dict[int, str]:
    """Write the corpus; return {row: problem_id} of the planted copies."""
    from collections import Counter

    from harness.decontam.normalize import normalize

    counts = Counter(word for _, text in statements for word in normalize(text))
    words = np.array(list(counts) + FRAGMENTS, dtype=object)
    weights = np.array(list(counts.values()) + [sum(counts.values()) // 50] * len(FRAGMENTS), dtype=float)
    rng = np.random.default_rng(SEED)
    planted_rows = rng.choice(docs, size=min(PLANTED, len(statements), docs), replace=False)
    planted = {int(row): statements[i] for i, row in enumerate(sorted(planted_rows))}
    block = 10_000
    with open(path, "w", encoding="utf-8") as handle:
        for start in range(0, docs, block):
            picks = rng.choice(len(words), size=(min(block, docs - start), words_per_doc), p=weights / weights.sum())
            for offset, row in enumerate(words[picks]):
                text = " ".join(row)
                if start + offset in planted:
                    text = text[:300] + " " + planted[start + offset][1] + " " + text[300:600]
                handle.write(json.dumps({"id": start + offset, "text": text}) + "\n")
    return {row: problem_id for row, (problem_id, _) in planted.items()}


def tree_rss(process: psutil.Process) -> int:
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:  # the run just ended
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_cli(corpus: Path, report: Path, jobs: int) -> tuple[float, int, str]:
    command = [sys.executable, "-m", "harness", "decontam", "--train", str(corpus), "--out", str(report),
               "--overwrite", "--jobs", str(jobs)]
    started = time.monotonic()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             env={**os.environ, "HARNESS_PROGRESS": "off"})
    peak, watched = 0, psutil.Process(child.pid)
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(watched))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = child.communicate()[0]
    done.set()
    sampler.join()
    if child.returncode:
        raise SystemExit(f"harness decontam failed ({child.returncode}):\n{output}")
    return time.monotonic() - started, peak, output


def run_janitor(corpus: Path, docs: int, statements: list[tuple[str, str]]) -> tuple[float, int]:
    try:
        from lm_eval.decontamination.janitor import Janitor
    except ImportError:
        print("lm-eval is not installed (pip install --no-deps lm-eval): Janitor skipped")
        return 0.0, 0
    janitor = Janitor(ngram_n=10)
    for _, text in statements:
        janitor.register_contaminant(text)
    texts = []
    with open(corpus, encoding="utf-8") as handle:
        for line in handle:
            texts.append(json.loads(line)["text"])
            if len(texts) == docs:
                break
    dirty, started = 0, time.monotonic()
    for text in texts:
        dirty += janitor.clean_python(text) != [text]
    return len(texts) / (time.monotonic() - started), dirty


def run_datatrove(corpus: Path, docs: int, statements: list[tuple[str, str]], workdir: Path) -> tuple[float, int, int]:
    """(seconds, documents flagged, bytes) of datatrove's NGramsDecontFilter over the first `docs` rows."""
    try:
        from datatrove.data import Document
        from datatrove.pipeline.decont import NGramsDecontConfig, NGramsDecontFilter
    except ImportError:
        print("datatrove is not installed (pip install 'ssp-harness[bench]'): datatrove skipped")
        return 0.0, 0, 0
    from datatrove.utils.text import ngrams, simplify_text

    config = NGramsDecontConfig(n_grams=10, find_query_ngrams=True, find_overlap_ngrams=False)
    index = workdir / "datatrove-index"
    index.mkdir(exist_ok=True)
    flt = NGramsDecontFilter(str(index), config=config)
    hash_text = flt.hash_func  # datatrove 0.10's default xxhash64 takes bytes; its filter passes str
    flt.hash_func = lambda text: hash_text(text.encode("utf-8") if isinstance(text, str) else text)
    hashes = set()
    for _, text in statements:
        tokens = flt.tokenizer.word_tokenize(simplify_text(text, config.norm_config))
        hashes.update(flt.hash_func(" ".join(gram)) for gram in ngrams(tokens, config.n_grams))
    np.array(sorted(hashes), dtype=np.dtype(config.hash_config.np_descr)).tofile(index / "suites.index.hashes")
    texts = []
    with open(corpus, encoding="utf-8") as handle:
        for line in handle:
            texts.append(json.loads(line)["text"])
            if len(texts) == docs:
                break
    flt.load_index_hashes()
    size = sum(len(text.encode("utf-8")) for text in texts)
    flagged, started = 0, time.monotonic()
    for number, text in enumerate(texts):
        verdict = flt.filter(Document(text=text, id=str(number)))
        flagged += verdict is not True
    return time.monotonic() - started, flagged, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--janitor-docs", type=int, default=20_000)
    parser.add_argument("--datatrove-docs", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, help="worker processes of harness decontam (default: its own)")
    parser.add_argument("--words-per-doc", type=int, default=190,
                        help="background words per document (190: ~1 KB; 12 for a 10M-document memory run)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-decontam"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    from harness.decontam.index import MIN_SHORT_WORDS
    from harness.decontam.normalize import words

    # problems under MIN_SHORT_WORDS words ("Simplify $\\sqrt{242}$.") are not indexed, by design
    statements = [(pid, text) for pid, text in suite_statements() if len(words(text)) >= MIN_SHORT_WORDS]
    corpus = args.workdir / (f"corpus-{args.docs}.jsonl" if args.words_per_doc == 190
                             else f"corpus-{args.docs}-w{args.words_per_doc}.jsonl")
    planted_file = corpus.with_suffix(".planted.json")
    if not planted_file.is_file():
        started = time.monotonic()
        planted = build_corpus(corpus, args.docs, statements, args.words_per_doc)
        planted_file.write_text(json.dumps(planted))
        print(f"corpus: {args.docs} docs, {corpus.stat().st_size / 1e6:.0f} MB, built in {time.monotonic() - started:.0f} s")
    planted = {int(row): pid for row, pid in json.loads(planted_file.read_text()).items()}
    size = corpus.stat().st_size
    print(f"load before: {os.getloadavg()[0]:.2f} (1-min average), cpus {os.cpu_count()}")
    print(f"corpus: {args.docs} docs, {size / args.docs:.0f} bytes/doc, {len(planted)} planted copies, "
          f"{len(statements)} suite problems")

    from harness.decontam.scan import default_jobs

    jobs = args.jobs or default_jobs()
    seconds, peak, output = run_cli(corpus, args.workdir / "report.jsonl", jobs)
    flagged = {}
    with open(args.workdir / "report.jsonl") as handle:
        for line in handle:
            record = json.loads(line)
            flagged[record["index"]] = {m["problem_id"] for m in record["matches"]}
    missed = [row for row, pid in planted.items() if pid not in flagged.get(row, set())]
    ours = args.docs / seconds
    print(output.rstrip())
    print(f"harness decontam: {ours:,.0f} docs/s wall (whole CLI run {seconds:.1f} s), peak RSS {peak / 2**20:.0f} MiB "
          f"(process tree); planted copies found {len(planted) - len(missed)}/{len(planted)}; "
          f"other rows flagged {len(set(flagged) - set(planted))}")

    per_byte = size / args.docs
    ours_mb = size / seconds / jobs / 1e6
    print(f"harness decontam: {ours_mb:.2f} MB/s per core ({jobs} worker processes, whole CLI run)")
    janitor_rate, dirty = run_janitor(corpus, args.janitor_docs, statements) if args.janitor_docs else (0.0, 0)
    if janitor_rate:
        janitor_mb = janitor_rate * per_byte / 1e6
        print(f"lm-eval Janitor (python mode, 10-gram, 1 core): {janitor_rate:,.0f} docs/s = {janitor_mb:.2f} MB/s "
              f"per core on the first {args.janitor_docs} docs ({dirty} changed); "
              f"ours/Janitor per core {ours_mb / janitor_mb:.1f}x")
    dt_seconds, dt_flagged, dt_bytes = (run_datatrove(corpus, args.datatrove_docs, statements, args.workdir)
                                        if args.datatrove_docs else (0.0, 0, 0))
    if dt_seconds:
        dt_mb = dt_bytes / dt_seconds / 1e6
        print(f"datatrove NGramsDecontFilter (10-gram, 1 core): {args.datatrove_docs / dt_seconds:,.0f} docs/s = "
              f"{dt_mb:.2f} MB/s per core on the first {args.datatrove_docs} docs ({dt_flagged} flagged); "
              f"ours/datatrove per core {ours_mb / dt_mb:.1f}x")
    print(f"load after: {os.getloadavg()[0]:.2f}")
    if missed:
        raise SystemExit(f"planted copies missed: {missed[:10]}")


if __name__ == "__main__":
    main()
