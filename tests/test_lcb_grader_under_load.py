"""Verdicts must not depend on how busy the machine is: the parity fixtures graded while the CPU is
saturated, and while another sandbox's uid has used up its process budget, equal the recorded
official verdicts. (The flake this guards against: bwrap sandboxes all ran as `nobody`, whose
RLIMIT_NPROC is shared host-wide, so a fork bomb in a concurrent test made a correct program
"no result".)"""
from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import time

import pytest

import sandbox
from harness.graders.code import CodeGrader
from test_lcb_grader import RECORDED, fixture_cases, official_correct

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bwrap not installed")
BUSY_S = 90.0  # every busy process stops by itself after this, even if the test dies


def spin(deadline: float) -> None:
    while time.time() < deadline:
        pass


def disagreements(backend: str) -> list:
    grader = CodeGrader("compat", backend, unsafe_local=True)
    cases = fixture_cases()
    verdicts = list(grader.grade_many([(response, tests) for _, response, tests in cases]))
    out = []
    for (key, _, _), verdict in zip(cases, verdicts):
        official = RECORDED[key]
        ours = (verdict.correct, verdict.details["error_code"], verdict.details["tests_passed"])
        theirs = (official_correct(official), official["error_code"], sum(r is True for r in official["results"]))
        if ours != theirs:
            out.append((key, ours, theirs, verdict.details.get("error_message")))
    assert len(cases) == 44
    return out


def test_parity_fixtures_give_the_same_verdicts_while_the_cpu_is_saturated():
    deadline = time.time() + BUSY_S
    busy = [multiprocessing.Process(target=spin, args=(deadline,), daemon=True)
            for _ in range(4 * (os.cpu_count() or 1))]
    for process in busy:
        process.start()
    try:
        assert disagreements("bwrap") == []
    finally:
        for process in busy:
            process.terminate()
            process.join()
        sandbox.close_all()


@pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox drops to a uid of its own only when started as root")
def test_another_uid_out_of_processes_does_not_change_verdicts():
    """130 processes of `nobody` (what a docker container or an old sandbox's fork bomb leaves)."""
    hogs = [subprocess.Popen(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                              "sleep", str(int(BUSY_S))]) for _ in range(130)]
    try:
        assert disagreements("bwrap") == []
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
        sandbox.close_all()
