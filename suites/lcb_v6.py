"""LiveCodeBench v6 window as VibeThinker evaluated it: release_v6 from 2025-02-01, 131 problems.

No data ships (no public copy with tests exists); --data DIR with the official files is required.
"""
from suites import livecodebench as lcb

RELEASE, START, EXPECTED = "release_v6", "2025-02-01", 131


def load(path, options):
    problems = lcb.load_official(path, options["public_tests_only"], RELEASE, START)
    return lcb.check_count(problems, EXPECTED, f"{RELEASE} from {START}", path)


SUITE = lcb.code_suite(
    name="lcb_v6",
    data_file="",
    sha256="",
    source="official livecodebench/code_generation_lite files via --data (test6.jsonl at HF revision 0fe84c3: "
           "sha256 bb4c364f71921c4495a6ad15abe1a927350b720009f4933e2e71f8af0f6fd1f5)",
    loader=load,
    description="LiveCodeBench release_v6, contest_date >= 2025-02-01 (131 problems); needs --data",
    data_hint=lcb.HF_HINT,
    data_digest=lcb.digest_for(RELEASE),
)
