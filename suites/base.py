"""What a suite is: a data file pinned by sha256, a prompt builder, a grader, a protocol, paper numbers.

Suites are small declarative objects. The pipeline only ever asks a suite for its problems
(`load_problems`) and for its grader; everything a run depends on is in the suite's `identity`,
which goes into the manifest. A suite's options are `harness.settings.Setting` declarations: the
CLI flags, the comparability rule and the deviation sentences are derived from them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from harness.errors import HarnessError
from harness.problems import Grader, Problem, Verdict  # noqa: F401  (suites hand these out)
from harness.rundir import sha256_of
from harness.sampling import Sampling
from harness.settings import Setting, Settings, union

DATA_DIR = Path(__file__).parent / "data"
# Options every suite accepts (a suite may redeclare one with its own default); see
# harness.graders.answer_region for `think`, harness.pipeline.grade_record for `truncated_wrong`.
THINK = Setting("think", "strip", "think-block policy for grading: strip = the text after the last </think> "
                "(default for math and GPQA), full = the whole response (default for LiveCodeBench)",
                choices=("strip", "full"))
# Off by default: the published evaluations grade a sample cut at the token budget on what it
# wrote. Training's recipe turns it on (an unfinished answer earns no reward there either).
TRUNCATED_WRONG = Setting("truncated_wrong", False, "grade a sample cut at the token budget (finish_reason "
                          "length) as wrong whatever it wrote (default: graded on what was written)",
                          kind=bool, label=lambda value: "truncated = wrong")
COMMON_OPTIONS: tuple[Setting, ...] = (THINK, TRUNCATED_WRONG)


def verify_sha256(path: Path, expected: str) -> None:
    if not path.is_file():
        raise HarnessError(f"{path}: data file not found")
    actual = sha256_of(path)
    if actual != expected:
        raise HarnessError(
            f"{path}: sha256 mismatch (expected {expected}, found {actual}); "
            "the vendored benchmark file was modified or replaced"
        )


@dataclass(frozen=True)
class Suite:
    """A benchmark. Subclass-free: each suite module builds one of these.

    `loader(path, options) -> list[Problem]` reads the data file; `grader_for(options)` returns the
    pure grading function; `options` declares the suite-specific settings; `protocol` is the
    published sampling (VibeThinker-1.5B report, section 4.1).
    """

    name: str
    version: str
    data_file: str  # file name under suites/data
    sha256: str
    source: str
    loader: Callable[[Path, dict[str, Any]], list[Problem]]
    grader_for: Callable[[dict[str, Any]], Grader]
    protocol: Sampling
    kind: str = "math"  # math | choice | code: decides cons@n and how answers are normalised
    breakdown_fields: tuple[str, ...] = ()
    options: tuple[Setting, ...] = ()
    description: str = ""
    # seconds per verdict in a killable worker; None = the grader enforces its own limits in-process
    verdict_timeout: float | None = 30.0
    # for suites that ship no data (data_file=""): where users get it, shown when --data is missing
    data_hint: str = ""
    # digest of a --data path (a directory, or several files read); default: sha256 of the file
    data_digest: Callable[[Path], dict[str, Any]] | None = None

    @property
    def data_path(self) -> Path:
        return DATA_DIR / self.data_file

    @property
    def settings(self) -> Settings:
        return Settings(tuple(union([self.options, COMMON_OPTIONS])))

    def resolve_options(self, given: dict[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with the options this suite declares, validated; other keys are ignored."""
        return self.settings.resolve(given)

    def option_deviations(self, options: dict[str, Any]) -> list[str]:
        return self.settings.deviations(self.resolve_options(options))

    def grader_identity(self) -> dict[str, Any]:
        """The grading function and its rules version (`RULES_VERSION` of its module), for the identity."""
        import sys

        module = sys.modules.get(self.grader_for.__module__)
        return {"name": f"{self.grader_for.__module__}.{self.grader_for.__name__}",
                "version": getattr(module, "RULES_VERSION", None), "rules": getattr(module, "RULES", "")}

    def load_problems(self, options: dict[str, Any] | None = None, data: Path | None = None) -> list[Problem]:
        options = self.resolve_options(options or {})
        path = Path(data) if data else self.data_path
        if data is None and not self.data_file:
            raise HarnessError(f"{self.name}: no data ships with the harness; give it with --data. {self.data_hint}")
        if data is None:
            verify_sha256(path, self.sha256)
        elif not path.exists():
            raise HarnessError(f"--data {path}: no such file or directory")
        return self.loader(path, options)

    def grader(self, options: dict[str, Any] | None = None) -> Grader:
        return self.grader_for(self.resolve_options(options or {}))

    def identity(self, options: dict[str, Any] | None = None, data: Path | None = None) -> dict[str, Any]:
        """What the manifest records about this suite; two runs are comparable only if these match."""
        path = Path(data) if data else self.data_path
        return {
            "name": self.name,
            "version": self.version,
            "data_path": str(path),
            "data_sha256": sha256_of(path) if path.is_file() else self.sha256,
            "source": self.source,
            "options": self.resolve_options(options or {}),
            "grader": self.grader_identity(),
            "protocol": self.protocol.as_dict(),
        } | (self.data_digest(path) if data and self.data_digest else {})
