"""docs/training.md 4.I: pass@K table, specialist selection with its tie-break, identical seeds per checkpoint."""
import pandas as pd
import pytest

from harness.backends.base import Sampling
from harness.backends.hf import HFBackend
from harness.training.probe import pass_table, sample_models, select_specialists
from harness.training.toy_tasks import generate_splits

STEPS = {"step-10": 10, "step-20": 20, "step-30": 30}


def table(rows):
    return pd.DataFrame(rows, columns=["model", "domain", "pass@1", "pass@4"])


def test_specialist_is_the_per_domain_argmax_and_a_double_winner_appears_twice():
    probe = table([("step-10", "algebra", 0.2, 0.5), ("step-20", "algebra", 0.3, 0.7), ("step-30", "algebra", 0.1, 0.6),
                   ("step-10", "geometry", 0.2, 0.4), ("step-20", "geometry", 0.4, 0.9), ("step-30", "geometry", 0.4, 0.8),
                   ("step-10", "calculus", 0.5, 0.8), ("step-20", "calculus", 0.1, 0.2), ("step-30", "calculus", 0.1, 0.3)])
    chosen = select_specialists(probe, 4, STEPS)
    assert chosen == {"algebra": "step-20", "geometry": "step-20", "calculus": "step-10"}
    assert [chosen[d] for d in ("algebra", "geometry", "calculus")].count("step-20") == 2


def test_ties_on_pass_at_k_go_to_higher_pass_at_1_then_to_the_earliest_step():
    probe = table([("step-30", "algebra", 0.5, 0.75), ("step-20", "algebra", 0.25, 0.75), ("step-10", "algebra", 0.5, 0.75),
                   ("step-30", "geometry", 0.0, 0.0), ("step-20", "geometry", 0.0, 0.0)])
    assert select_specialists(probe, 4, STEPS) == {"algebra": "step-10", "geometry": "step-20"}


def test_pass_table_uses_the_unbiased_estimator_per_problem():
    samples = pd.DataFrame([{"model": "m", "domain": "d", "problem_id": p, "correct": c}
                            for p, outcomes in (("a", [1, 0, 0, 0]), ("b", [1, 1, 0, 0, 0, 0, 0, 0][:4]))
                            for c in outcomes])
    row = pass_table(samples, [1, 2]).iloc[0]
    assert row["pass@1"] == pytest.approx((0.25 + 0.5) / 2)
    assert row["pass@2"] == pytest.approx((0.5 + 5 / 6) / 2)


class RecordingHF(HFBackend):
    """The real hf backend; records the seeds it was asked to use."""
    seen: list = []

    def generate(self, requests, sampling):
        RecordingHF.seen.append([(r.problem_id, r.sample, r.seed) for r in requests])
        yield from super().generate(requests, sampling)


def test_every_checkpoint_is_probed_with_the_same_per_sample_seeds():
    problems = generate_splits({"probe": 1}, ["algebra", "statistics"])["probe"]
    RecordingHF.seen = []
    samples = sample_models({"step-1": "smollm2-135m", "step-2": "smollm2-135m"}, problems, 2,
                            Sampling(n=2, temperature=1.0, top_p=1.0, max_tokens=4, seed=7),
                            lambda path: RecordingHF(path, batch_size=4))
    assert len(RecordingHF.seen) == 2 and RecordingHF.seen[0] == RecordingHF.seen[1]
    assert len({seed for _, _, seed in RecordingHF.seen[0]}) == 4
    same = samples.pivot_table(index=["problem_id", "sample"], columns="model", values="response", aggfunc="first")
    assert (same["step-1"] == same["step-2"]).all()  # same weights + same seeds = same samples
