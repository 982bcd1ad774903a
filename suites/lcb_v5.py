"""LiveCodeBench v5 window as VibeThinker evaluated it: release_v5 from 2024-08-01, 279 problems.

Without --data: the vendored public tests of those 279 problems (needs --public-tests-only, which
is then shown on every result). With --data DIR: the official files, full tests, count checked.
"""
from harness.errors import HarnessError
from suites import livecodebench as lcb

RELEASE, START, EXPECTED = "release_v5", "2024-08-01", 279


def load(path, options):
    if path.resolve() == (lcb.DATA_DIR / lcb.V5_PUBLIC).resolve():
        if not options["public_tests_only"]:
            raise HarnessError("lcb_v5: the shipped v5 data has public tests only; pass --public-tests-only "
                               f"(shown on every result), or --data DIR for full tests. {lcb.HF_HINT}")
        return lcb.load_vendored_v5(path)
    problems = lcb.load_official(path, options["public_tests_only"], RELEASE, START)
    return lcb.check_count(problems, EXPECTED, f"{RELEASE} from {START}", path)


SUITE = lcb.code_suite(
    name="lcb_v5",
    data_file=lcb.V5_PUBLIC,
    sha256=lcb.V5_PUBLIC_SHA256,
    source="rllm fork @ d3c3c8f rllm/data/test/code/livecodebench.json (MIT) + ids from LiveCodeBench/submissions "
           "@ 4d04b02; or the official livecodebench/code_generation_lite files via --data",
    loader=load,
    description="LiveCodeBench release_v5, contest_date >= 2024-08-01 (279 problems)",
    data_digest=lcb.digest_for(RELEASE),
)
