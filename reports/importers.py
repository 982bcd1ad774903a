"""Published per-sample outputs -> a generations.jsonl that `harness grade` accepts.

Each record keeps the publisher's own verdict (`published_correct`) and extraction next to the
raw response, so a re-graded run can show our number beside theirs and count the samples where
the two graders disagree. Formats:

- `lcb-eval-all`: LiveCodeBench `*_eval_all.json` (a JSON list, one object per problem with
  `question_id`, `contest_date`, `output_list`, `code_list`, `graded_list`, `metadata`).
- `qwen25-math`: Qwen2.5-Math evaluation output JSONL, as in SkyThought's published outputs (one
  line per problem with `question`, `gt`, `code` = list of responses, `pred`, `score`). Lines carry
  no stable id, so problems are matched to the suite by statement text (with the gold answer as a
  tie-breaker where the publisher's copy differs in whitespace or figures).
- `lm-eval`, `lighteval`, `inspect`, `nemo-skills`: the peer harnesses' per-sample files
  (below), each with the publisher's settings where the file has them.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any, Iterator

from harness.errors import HarnessError
from harness.rundir import iter_jsonl
from suites import get_suite
from suites.base import Problem
from suites.livecodebench import in_window, parse_day

FORMATS = ("lcb-eval-all", "qwen25-math", "lm-eval", "lighteval", "inspect", "nemo-skills", "parquet")
# Statements that differ only after this many normalised characters (figures, spacing) still match
# when the gold answers agree too.
PREFIX_CHARS = 120


def import_file(fmt: str, path: Path, suite: str | None = None, **options: Any) -> list[dict[str, Any]]:
    return import_files(fmt, [path], suite, **options)[0]


def import_files(fmt: str, paths: list[Path], suite: str | None = None,
                 **options: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(records, source settings). Every file is read and validated before anything is returned."""
    for path in paths:
        if path.is_dir():
            raise HarnessError(f"{path}: is a directory, expected a file")
        if not path.is_file():
            raise HarnessError(f"{path}: no such file")
        looks = sniff(path)
        if looks is not None and looks != fmt:
            hint = ("an ordinary generations file: grade it with `harness grade --generations`"
                    if looks == "generations" else f"use `harness import {looks}`")
            raise HarnessError(f"{path}: looks like a {looks} file, not {fmt} ({hint})")
    if fmt in READERS:
        return READERS[fmt](paths, suite, **options)
    if len(paths) > 1:
        raise HarnessError(f"{fmt}: one FILE at a time (several files: nemo-skills seeds only)")
    [path] = paths
    source = {"format": fmt, "files": [str(path)]}
    return import_single(fmt, path, suite, **options), source


def import_single(fmt: str, path: Path, suite: str | None = None, **options: Any) -> list[dict[str, Any]]:
    if fmt == "lcb-eval-all":
        if suite is not None and get_suite(suite).kind != "code":
            raise HarnessError(f"--suite {suite}: lcb-eval-all files hold LiveCodeBench code samples; "
                               f"{suite} is a {get_suite(suite).kind} suite (give lcb_v5, lcb_v6 or lcb_custom)")
        return list(lcb_eval_all(path, suite or "lcb_v5", options.get("start_date"), options.get("end_date")))
    if fmt == "qwen25-math":
        if not suite:
            raise HarnessError("--suite: qwen25-math files carry no suite name; give e.g. --suite math500")
        return list(qwen25_math(path, suite, get_suite(suite).load_problems()))
    raise HarnessError(f"FORMAT {fmt}: unknown (known: {', '.join(FORMATS)})")


# ----------------------------------------------------------------------------- LiveCodeBench

def lcb_eval_all(path: Path, suite: str, start: str | None = None, end: str | None = None) -> Iterator[dict]:
    """The samples of the problems in LCB's date window (suites.livecodebench.in_window)."""
    start_day, end_day = parse_day(start, "--start-date"), parse_day(end, "--end-date")
    try:
        problems = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise HarnessError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(problems, list):
        raise HarnessError(f"{path}: expected a JSON list of problems (an LCB eval_all file)")
    for index, problem in enumerate(problems):
        try:
            if not in_window(dt.datetime.fromisoformat(problem["contest_date"]), start_day, end_day):
                continue
            yield from lcb_samples(problem, suite)
        except (KeyError, TypeError, ValueError) as exc:
            raise HarnessError(f"{path}: problem {index} ({problem.get('question_id', '?')}): bad or missing {exc}") from None


def lcb_samples(problem: dict[str, Any], suite: str) -> Iterator[dict[str, Any]]:
    outputs, codes, graded = problem["output_list"], problem["code_list"], problem["graded_list"]
    if not len(outputs) == len(codes) == len(graded):
        raise ValueError("output_list/code_list/graded_list lengths")
    details = problem.get("metadata") or [None] * len(outputs)
    for sample, (output, code, correct, meta) in enumerate(zip(outputs, codes, graded, details)):
        yield {
            "suite": suite, "problem_id": str(problem["question_id"]), "sample": sample,
            "response": output,
            "published_correct": bool(correct), "published_extracted": code,
            "published_details": json.loads(meta) if isinstance(meta, str) else meta,
            "contest_date": problem["contest_date"], "difficulty": problem.get("difficulty"),
            "platform": problem.get("platform"),
        }


# ------------------------------------------------------------------------------ Qwen2.5-Math

def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def same_gold(left: str, right: str) -> bool:
    """AIME golds are '025' in one copy and '25' in another."""
    return normalise(str(left)).lstrip("0") == normalise(str(right)).lstrip("0")


class ProblemMatcher:
    def __init__(self, problems: list[Problem]):
        self.by_text = {normalise(p.statement): p for p in problems}
        self.by_prefix: dict[str, list[Problem]] = {}
        for problem in problems:
            self.by_prefix.setdefault(normalise(problem.statement)[:PREFIX_CHARS], []).append(problem)

    def match(self, question: str, gold: str, contained: bool = False) -> Problem | None:
        """`contained`: the question may be one of our statements wrapped in the publisher's own
        prompt template (lighteval, inspect); the longest statement inside it wins, gold breaks ties."""
        text = normalise(question)
        if text in self.by_text:
            return self.by_text[text]
        candidates = [p for p in self.by_prefix.get(text[:PREFIX_CHARS], []) if same_gold(p.answer, gold)]
        if len(candidates) == 1:
            return candidates[0]
        if not contained:
            return None
        inside = [(len(key), p) for key, p in self.by_text.items() if len(key) > 20 and key in text]
        if not inside:
            return None
        longest = max(size for size, _ in inside)
        best = [p for size, p in inside if size == longest]
        if len(best) > 1:
            best = [p for p in best if same_gold(p.answer, gold)]
        return best[0] if len(best) == 1 else None


def qwen25_math(path: Path, suite: str, problems: list[Problem]) -> Iterator[dict[str, Any]]:
    matcher, seen = ProblemMatcher(problems), {}
    for number, row in iter_jsonl(path):
        missing = [key for key in ("question", "code", "score") if key not in row]
        if missing:
            raise HarnessError(f"{path}:{number}: missing field '{missing[0]}'")
        problem = matcher.match(row["question"], row.get("gt", row.get("answer", "")))
        if problem is None:
            raise HarnessError(f"{path}:{number}: question matches no problem of suite {suite} (idx {row.get('idx')})")
        if problem.problem_id in seen:
            raise HarnessError(f"{path}:{number}: same problem as line {seen[problem.problem_id]} ({problem.problem_id})")
        seen[problem.problem_id] = number
        predictions = row.get("pred") or [None] * len(row["code"])
        for sample, (response, correct, pred) in enumerate(zip(row["code"], row["score"], predictions)):
            yield {"suite": suite, "problem_id": problem.problem_id, "sample": sample, "response": response,
                   "published_correct": bool(correct), "published_extracted": pred,
                   "published_gold": row.get("gt")}


def published_accuracy(path: Path) -> float | None:
    """The publisher's aggregate next to a Qwen2.5-Math output file (`X.jsonl` -> `X.metrics.json`)."""
    metrics = path.with_name(path.name.removesuffix(".jsonl") + ".metrics.json")
    if not metrics.is_file():
        return None
    return float(json.loads(metrics.read_text())["acc"]) / 100


# ============================================================================ peer harnesses
#
# Common rules: a row is matched to one of our problems by id where the format has one (tried as
# given, under the suite's prefix, and without a file extension), else by statement text with the
# gold as tie-break; a row that matches nothing is an error naming the file and line (or row).
# Samples of one problem (lm-eval repeats, inspect epochs, NeMo-Skills seed files) are numbered
# 0..n-1 in the file's order. `published_correct` is written only where the publisher judged that
# very sample (lm-eval's default `take_first` filter scores the first repeat only).

# task names the peers use for our suites (their own task names and our lm-eval task pack's)
TASK_SUITES = {
    "aime24": "aime24", "aime_2024": "aime24", "aime2024": "aime24", "aime25": "aime25", "aime_2025": "aime25",
    "aime2025": "aime25", "hmmt25": "hmmt25", "hmmt_feb_2025": "hmmt25", "math500": "math500", "math_500": "math500",
    "minerva_math500": "math500", "hendrycks_math500": "math500", "gpqa_diamond": "gpqa_diamond",
    "gpqa:diamond": "gpqa_diamond", "gpqa_diamond_zeroshot": "gpqa_diamond", "gpqa_diamond_cot_zeroshot": "gpqa_diamond",
    "gpqa_diamond_published": "gpqa_diamond",
}
ID_FIELDS = ("problem_id", "id", "unique_id", "question_id", "idx")
TEXT_FIELDS = ("problem", "question", "Problem", "Question", "prompt", "query", "input")
GOLD_FIELDS = ("answer", "expected_answer", "gt", "target", "solution")


def suite_for_task(task: str, suite: str | None, where: str) -> str:
    """--suite wins; else the task name (`lighteval|aime24|0`, `ssp_aime24`, `aime24`) names it."""
    from suites import suite_names

    if suite:
        get_suite(suite)
        return suite
    for name in (task, *task.split("|")):
        name = name.removeprefix("ssp_")
        if name in suite_names():
            return name
        if name in TASK_SUITES:
            return TASK_SUITES[name]
    raise HarnessError(f"{where}: task '{task}' maps to no suite (known: {', '.join(suite_names())}); "
                       f"give --suite")


class Resolver:
    """Rows -> our problems: by id first, then by statement text (gold as tie-break)."""

    def __init__(self, suite: str, contained: bool = False):
        self.suite, self.contained = suite, contained
        self.problems = get_suite(suite).load_problems()
        self.by_id = {p.problem_id: p for p in self.problems}
        self.matcher = ProblemMatcher(self.problems)

    def by_identifier(self, raw: Any) -> Problem | None:
        if raw is None or raw == "":
            return None
        raw = str(raw)
        stem = re.sub(r"\.(json|jsonl|txt)$", "", raw)
        for candidate in (raw, stem, f"{self.suite}/{raw}", f"{self.suite}/{stem}"):
            if candidate in self.by_id:
                return self.by_id[candidate]
        return None

    def resolve(self, where: str, ids: list[Any], text: str | None, gold: Any) -> Problem:
        for raw in ids:
            if (problem := self.by_identifier(raw)) is not None:
                return problem
        if text:
            problem = self.matcher.match(text, "" if gold is None else str(gold), self.contained)
            if problem is not None:
                return problem
        shown = next((str(raw) for raw in ids if raw not in (None, "")), None)
        raise HarnessError(f"{where}: {'id ' + repr(shown) + ' and ' if shown else ''}"
                           f"{'statement' if text else 'no statement'} match no problem of suite {self.suite}")


def first_field(row: dict[str, Any], names: tuple[str, ...]) -> Any:
    return next((row[name] for name in names if isinstance(row, dict) and row.get(name) not in (None, "")), None)


def as_verdict(value: Any) -> bool | None:
    """A publisher's per-sample score as a verdict: C/I, booleans, 0/1; anything else is not one."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        upper = value.strip().upper()
        return {"C": True, "I": False, "CORRECT": True, "INCORRECT": False, "TRUE": True, "FALSE": False,
                "1": True, "0": False, "1.0": True, "0.0": False}.get(upper)
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    return None


def sample_record(suite: str, problem: Problem, sample: int, response: Any, where: str,
                  verdict: Any = None, extracted: Any = None, **extra: Any) -> dict[str, Any]:
    if not isinstance(response, str):
        raise HarnessError(f"{where}: the response is {type(response).__name__}, not text")
    record = {"suite": suite, "problem_id": problem.problem_id, "sample": sample, "response": response}
    correct = as_verdict(verdict)
    if correct is not None:
        record["published_correct"] = correct
    if extracted not in (None, ""):
        record["published_extracted"] = extracted if isinstance(extracted, str) else json.dumps(extracted)
    record.update({key: value for key, value in extra.items() if value is not None})
    return record


class Samples:
    """Numbers samples per problem in arrival order; one problem seen again is its next sample."""

    def __init__(self):
        self.count: dict[str, int] = {}

    def next(self, problem: Problem) -> int:
        number = self.count.get(problem.problem_id, 0)
        self.count[problem.problem_id] = number + 1
        return number


def settings(fmt: str, paths: list[Path], suite: str, **values: Any) -> dict[str, Any]:
    source = {"format": fmt, "files": [str(p) for p in paths], "suite": suite}
    source.update({key: value for key, value in values.items() if value is not None})
    return source


def require_rows(records: list[dict[str, Any]], paths: list[Path]) -> list[dict[str, Any]]:
    if not records:
        raise HarnessError(f"{', '.join(map(str, paths))}: no rows")
    return records


# ------------------------------------------------------------------------------ format sniffing

def sniff(path: Path) -> str | None:
    """The format a file looks like (None: cannot tell); cheap, reads the first row only."""
    name = path.name
    if name.endswith(".eval"):
        return "inspect"
    if name.endswith(".parquet"):
        try:
            import pyarrow.parquet as pq

            columns = set(pq.read_schema(path).names)
        except Exception:
            return None
        if {"doc", "model_response", "metric"} <= columns:
            return "lighteval"
        if {"problem_id", "sample", "response", "correct"} <= columns:
            return "parquet"
        return None
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return None
    text = head.decode("utf-8", errors="replace").lstrip()
    if text.startswith("["):
        return "lcb-eval-all" if '"question_id"' in text[:4096] and '"output_list"' in head.decode(errors="replace") else None
    first = text.split("\n", 1)[0]
    try:
        row = json.loads(first)
    except json.JSONDecodeError:
        row = None
        if text.startswith("{") and '"eval"' in text[:2048] and ('"version"' in text[:200] or '"status"' in text[:200]):
            return "inspect"  # a pretty-printed inspect .json log
    if not isinstance(row, dict):
        return None
    keys = set(row)
    if {"eval", "version"} <= keys or {"eval", "samples"} <= keys:
        return "inspect"
    if {"doc", "resps"} <= keys or {"doc", "filtered_resps"} <= keys:
        return "lm-eval"
    if "generation" in keys and keys & {"predicted_answer", "symbolic_correct", "expected_answer"}:
        return "nemo-skills"
    if {"question", "code", "score"} <= keys:
        return "qwen25-math"
    if {"problem_id", "sample", "response"} <= keys:
        return "generations"
    return None


# ----------------------------------------------------------------------------------- lm-eval

def lm_eval(paths: list[Path], suite: str | None = None, metric: str | None = None, **_: Any):
    """`samples_<task>_<date>.jsonl` from `lm_eval --log_samples`: one line per (doc, filter)."""
    [path] = one_file("lm-eval", paths)
    task = re.sub(r"^samples_(.+)_\d{4}-\d\d-\d\dT[\d\-.:]+$", r"\1", path.name.removesuffix(".jsonl"))
    results = lm_eval_results(path)
    config = (results.get("configs") or {}).get(task, {})
    suite = suite_for_task(task, suite, str(path))
    resolver, numbers, records, chosen_filter, first_only = Resolver(suite, contained=True), Samples(), [], None, False
    for number, row in iter_jsonl(path):
        where = f"{path}:{number}"
        for key in ("doc", "resps"):
            if key not in row:
                raise HarnessError(f"{where}: missing field '{key}' (not an lm-eval --log_samples line)")
        chosen_filter = chosen_filter or row.get("filter", "none")
        if row.get("filter", "none") != chosen_filter:
            continue  # the same doc under another filter: one filter's verdicts are imported
        doc = row["doc"] if isinstance(row["doc"], dict) else {}
        if doc.get("suite") not in (None, suite):
            raise HarnessError(f"{where}: doc of suite '{doc['suite']}' but --suite {suite}")
        prompt = first_field(doc, TEXT_FIELDS)
        problem = resolver.resolve(where, [first_field(doc, ID_FIELDS)], prompt, row.get("target"))
        responses = [text for request in row["resps"] for text in (request if isinstance(request, list) else [request])]
        if not responses:
            raise HarnessError(f"{where}: 'resps' holds no response")
        metrics = row.get("metrics") or []
        name = metric or (metrics[0] if metrics else None)
        if name is None or name not in row:
            raise HarnessError(f"{where}: no per-sample metric {name or ''} (metrics: {metrics}); give --metric")
        filtered = row.get("filtered_resps") or []
        score_all = len(filtered) == len(responses) and len(responses) == 1 or (
            len(filtered) == len(responses) and as_verdict(row[name]) is not None)
        first_only = first_only or (len(responses) > 1 and len(filtered) == 1)
        for index, response in enumerate(responses):
            verdict = row[name] if (index == 0 and len(filtered) == 1) or score_all else None
            extracted = filtered[0] if index == 0 and len(filtered) == 1 and chosen_filter != "none" else None
            records.append(sample_record(suite, problem, numbers.next(problem), response, where, verdict,
                                         extracted, published_score=row[name] if index == 0 else None,
                                         published_doc_id=row.get("doc_id")))
    gen = config.get("generation_kwargs") or {}
    cli = results.get("config") or {}
    source = settings("lm-eval", paths, suite, task=task, metric=metric or None, filter=chosen_filter,
                      model=results.get("model_name") or (cli.get("model_args") or {}).get("model")
                      or (cli.get("model_args") or {}).get("pretrained"),
                      model_backend=cli.get("model"), n=config.get("repeats"),
                      temperature=gen.get("temperature"), top_p=gen.get("top_p"),
                      max_tokens=(cli.get("gen_kwargs") or {}).get("max_gen_toks") or gen.get("max_gen_toks"),
                      lm_eval_version=results.get("lm_eval_version"),
                      verdicts=("first repeat only (lm-eval's take_first filter)" if first_only else None))
    return require_rows(records, paths), source


def lm_eval_results(samples: Path) -> dict[str, Any]:
    """The results_<date>.json lm-eval writes beside the samples file (settings), or {}."""
    date = samples.name.removesuffix(".jsonl").rsplit("_", 1)[-1]
    candidates = sorted(samples.parent.glob(f"results_{date}.json")) or sorted(samples.parent.glob("results_*.json"))
    for candidate in candidates:
        try:
            return json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
    return {}


def one_file(fmt: str, paths: list[Path]) -> list[Path]:
    if len(paths) != 1:
        raise HarnessError(f"{fmt}: one FILE at a time (several files: nemo-skills seeds only)")
    return paths


# --------------------------------------------------------------------------------- lighteval

def lighteval(paths: list[Path], suite: str | None = None, metric: str | None = None, **_: Any):
    """`details_<task>_<date>.parquet`: one row per doc with `doc`, `model_response` (its `text`:
    one response per sample), `metric` (the doc's scores)."""
    import pyarrow.parquet as pq

    [path] = one_file("lighteval", paths)
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise HarnessError(f"{path}: not a readable parquet file ({exc})") from None
    missing = [c for c in ("doc", "model_response", "metric") if c not in table.column_names]
    if missing:
        raise HarnessError(f"{path}: missing column '{missing[0]}' (not a lighteval details file)")
    rows = table.to_pylist()
    task = re.sub(r"^details_(.+)_\d{4}-\d\d-\d\dT[\d\-.:]+$", r"\1", path.name.removesuffix(".parquet"))
    task = next((row["doc"].get("task_name") for row in rows[:1] if isinstance(row["doc"], dict)
                 and row["doc"].get("task_name")), task)
    suite = suite_for_task(task, suite, str(path))
    resolver, numbers, records, sizes = Resolver(suite, contained=True), Samples(), [], set()
    for index, row in enumerate(rows):
        where = f"{path}: row {index}"
        doc, response, scores = row["doc"] or {}, row["model_response"] or {}, row["metric"] or {}
        texts = response.get("text") if isinstance(response, dict) else None
        if not texts:
            raise HarnessError(f"{where}: model_response has no text (the response)")
        choices, gold_index = doc.get("choices") or [], doc.get("gold_index")
        gold = choices[gold_index] if isinstance(gold_index, int) and 0 <= gold_index < len(choices) else None
        problem = resolver.resolve(where, [doc.get("id")], doc.get("original_query") or doc.get("query"), gold)
        name = metric or next(iter(scores), None)
        if name is not None and name not in scores:
            raise HarnessError(f"{where}: no metric '{name}' (metrics: {sorted(scores)})")
        processed = response.get("text_post_processed") or []
        sizes.add(len(texts))
        for k, text in enumerate(texts):
            records.append(sample_record(suite, problem, numbers.next(problem), text, where,
                                         scores.get(name) if len(texts) == 1 else None,
                                         processed[k] if k < len(processed) and processed[k] != text else None,
                                         published_score=scores.get(name) if k == 0 else None))
    generation = next((row["doc"].get("generation_size") for row in rows if row["doc"].get("generation_size")), None)
    source = settings("lighteval", paths, suite, task=task, metric=metric or next(iter(rows[0]["metric"] or {}), None),
                      n=max(sizes) if sizes else None, max_tokens=generation,
                      model=lighteval_model(path))
    return require_rows(records, paths), source


def lighteval_model(path: Path) -> str | None:
    """lighteval writes OUT/details/<org>/<model>/<date>/details_*.parquet."""
    parts = path.resolve().parts
    if "details" in parts:
        at = len(parts) - 1 - parts[::-1].index("details")
        return "/".join(parts[at + 1:-2]) or None
    return None


# ----------------------------------------------------------------------------------- inspect

def inspect(paths: list[Path], suite: str | None = None, scorer: str | None = None, **_: Any):
    """An inspect_ai log (`.eval` or `.json`), read with inspect_ai.log.read_eval_log: one sample
    per (id, epoch); the scorer's value (C/I, 0/1) is the verdict and its `answer` the extraction."""
    try:
        from inspect_ai.log import read_eval_log
    except ImportError:
        raise HarnessError("inspect logs need inspect_ai: pip install 'ssp-harness[inspect]'") from None
    [path] = one_file("inspect", paths)
    try:
        log = read_eval_log(str(path))
    except Exception as exc:
        raise HarnessError(f"{path}: not a readable inspect log ({str(exc).splitlines()[0][:200]})") from None
    suite = suite_for_task(log.eval.task.split("/")[-1], suite, str(path))
    resolver, records = Resolver(suite, contained=True), []
    samples = sorted(log.samples or [], key=lambda s: (s.epoch, str(s.id)))
    for index, sample in enumerate(samples):
        where = f"{path}: sample {sample.id} epoch {sample.epoch}"
        prompt = sample.input if isinstance(sample.input, str) else next(
            (m.text for m in reversed(sample.input) if m.role == "user"), None)
        target = sample.target if isinstance(sample.target, str) else (sample.target or [None])[0]
        problem = resolver.resolve(where, [sample.id], prompt, target)
        if sample.output is None or not sample.output.choices:
            raise HarnessError(f"{where}: no output (the response)")
        scores = sample.scores or {}
        name = scorer or next(iter(scores), None)
        if name is not None and name not in scores:
            raise HarnessError(f"{where}: no scorer '{name}' (scorers: {sorted(scores)})")
        score = scores.get(name)
        usage = sample.output.usage
        records.append(sample_record(suite, problem, sample.epoch - 1, sample.output.completion, where,
                                     score.value if score else None, score.answer if score else None,
                                     finish_reason=str(sample.output.stop_reason or "") or None,
                                     num_tokens=usage.output_tokens if usage else None))
    seen: dict[tuple[str, int], int] = {}
    for record in records:
        key = (record["problem_id"], record["sample"])
        if key in seen:
            raise HarnessError(f"{path}: problem {key[0]} epoch {key[1] + 1} twice (two inspect samples match it)")
        seen[key] = 1
    config = log.plan.config if log.plan else None
    generate = log.eval.model_generate_config
    value = lambda field: getattr(config, field, None) if getattr(config, field, None) is not None else getattr(generate, field, None)  # noqa: E731
    source = settings("inspect", paths, suite, task=log.eval.task, model=log.eval.model, scorer=scorer or None,
                      n=log.eval.config.epochs, temperature=value("temperature"), top_p=value("top_p"),
                      max_tokens=value("max_tokens"), inspect_version=log.eval.packages.get("inspect_ai")
                      if log.eval.packages else None)
    return require_rows(records, paths), source


# ------------------------------------------------------------------------------- NeMo-Skills

def nemo_skills(paths: list[Path], suite: str | None = None, **_: Any):
    """`output-rs<seed>.jsonl` files: one line per problem with `generation`, `predicted_answer`,
    `symbolic_correct` (or `judgement`/`is_correct`); each file (random seed) is one sample."""
    if not suite:
        raise HarnessError("--suite: nemo-skills files carry no suite name; give e.g. --suite math500")
    suite = suite_for_task(suite, suite, "--suite")
    seed = lambda p: int(m.group(1)) if (m := re.search(r"rs(\d+)", p.name)) else 0  # noqa: E731
    ordered = sorted(paths, key=lambda p: (seed(p), str(p)))
    resolver, records = Resolver(suite), []
    for sample, path in enumerate(ordered):
        seen: dict[str, int] = {}
        for number, row in iter_jsonl(path):
            where = f"{path}:{number}"
            if "generation" not in row:
                raise HarnessError(f"{where}: missing field 'generation' (the response)")
            problem = resolver.resolve(where, [row.get("id")], first_field(row, ("problem", "question")),
                                       first_field(row, ("expected_answer", "answer")))
            if problem.problem_id in seen:
                raise HarnessError(f"{where}: same problem as line {seen[problem.problem_id]} ({problem.problem_id})")
            seen[problem.problem_id] = number
            verdict = next((row[key] for key in ("symbolic_correct", "is_correct", "judgement_correct")
                            if key in row), None)
            records.append(sample_record(suite, problem, sample, row["generation"], where, verdict,
                                         row.get("predicted_answer"), published_gold=row.get("expected_answer"),
                                         num_tokens=row.get("num_generated_tokens"), seed=seed(path)))
    counts = {}
    for record in records:
        counts.setdefault(record["problem_id"], []).append(record["sample"])
    for problem_id, samples in counts.items():  # a problem missing from one seed's file: renumber 0..k-1
        if samples != list(range(len(samples))):
            for new, record in enumerate(r for r in records if r["problem_id"] == problem_id):
                record["sample"] = new
    source = settings("nemo-skills", ordered, suite, n=len(ordered), seeds=[seed(p) for p in ordered])
    return require_rows(records, paths), source


# ---------------------------------------------------------------------- our own parquet export

def own_parquet(paths: list[Path], suite: str | None = None, **_: Any):
    """A file written by `harness export RUN --to parquet`: the run's generations, with its
    grades as the publisher's verdicts (so a round trip shows zero disagreements)."""
    import pyarrow.parquet as pq

    [path] = one_file("parquet", paths)
    rows = pq.read_table(path).to_pylist()
    records = []
    for index, row in enumerate(rows):
        if suite and row["suite"] != suite:
            continue
        if not isinstance(row.get("response"), str):
            raise HarnessError(f"{path}: row {index}: missing field 'response'")
        record = {key: row[key] for key in ("suite", "problem_id", "sample", "response", "finish_reason",
                                            "num_tokens", "seed") if row.get(key) is not None}
        if row.get("correct") is not None:
            record["published_correct"] = bool(row["correct"])
        if row.get("extracted") is not None:
            record["published_extracted"] = row["extracted"]
        records.append(record)
    models = {row.get("model") for row in rows if row.get("model")}
    source = settings("parquet", paths, suite or ",".join(sorted({r["suite"] for r in rows})),
                      model=models.pop() if len(models) == 1 else None)
    return require_rows(records, paths), source


READERS = {"lm-eval": lm_eval, "lighteval": lighteval, "inspect": inspect, "nemo-skills": nemo_skills,
           "parquet": own_parquet}
