"""Hand values of docs/training.md 4.A (group advantages) and 4.B (MGPO weight)."""
import math

import pytest
import torch

from harness.training.advantages import group_advantages, zero_std_fraction
from harness.training.mgpo import maxent_divergence, maxent_weight, mgpo_advantages


def t(values, dtype=torch.float32):
    return torch.tensor(values, dtype=dtype)


def test_one_correct_of_four_gives_bessel_advantages():
    assert torch.allclose(group_advantages(t([1, 0, 0, 0]), 4), t([1.5, -0.5, -0.5, -0.5]), atol=1e-5)


def test_population_std_would_give_different_values_so_the_estimator_is_pinned():
    population = t([1.7320508, -0.5773503, -0.5773503, -0.5773503])
    assert not torch.allclose(group_advantages(t([1, 0, 0, 0]), 4), population, atol=1e-3)


@pytest.mark.parametrize("rewards,expected", [
    ([1, 1, 0, 0], [0.8660254, 0.8660254, -0.8660254, -0.8660254]),
    ([1, 0, 0, 0, 0, 0, 0, 0], [2.4748737] + [-0.3535534] * 7),
])
def test_group_advantage_hand_values(rewards, expected):
    assert torch.allclose(group_advantages(t(rewards), len(rewards)), t(expected), atol=1e-5)


@pytest.mark.parametrize("rewards", [[0, 0, 0, 0], [1, 1, 1, 1]])
def test_all_equal_group_gives_exact_zero_not_nan(rewards):
    advantages = group_advantages(t(rewards), 4)
    assert torch.equal(advantages, torch.zeros(4))


def test_single_sample_groups_are_refused():
    with pytest.raises(ValueError, match="G >= 2"):
        group_advantages(t([1.0, 0.0]), 1)


def test_advantages_sum_to_zero_per_group_and_have_unit_sample_std():
    torch.manual_seed(0)
    rewards = torch.rand(40 * 8)
    advantages = group_advantages(rewards, 8).view(40, 8)
    assert advantages.sum(dim=1).abs().max() < 1e-5
    assert torch.allclose(advantages.std(dim=1), torch.ones(40), atol=1e-4)


def test_scale_none_is_centring_and_batch_divides_by_batch_std():
    rewards = t([1, 0, 0, 0, 1, 1, 0, 1])
    centred = t([0.75, -0.25, -0.25, -0.25, 0.25, 0.25, -0.75, 0.25])
    assert torch.allclose(group_advantages(rewards, 4, scale="none"), centred)
    assert torch.allclose(group_advantages(rewards, 4, scale="batch"), centred / (rewards.std() + 1e-6))


def test_vectorised_advantages_equal_a_loop_reference_on_many_groups():
    torch.manual_seed(1)
    rewards = torch.randint(0, 2, (50 * 6,)).float()
    reference = []
    for group in rewards.view(50, 6):
        values = [float(r) for r in group]
        mean = sum(values) / 6
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / 5)
        reference += [(v - mean) / (std + 1e-6) for v in values]
    assert torch.allclose(group_advantages(rewards, 6), t(reference), atol=1e-5)


def test_permuting_a_group_permutes_its_advantages_and_identical_prompts_stay_separate_groups():
    rewards = t([1, 0, 0, 1, 0, 0, 0, 0])  # two groups of the same prompt, different outcomes
    base = group_advantages(rewards, 4)
    perm = torch.tensor([3, 1, 2, 0, 4, 5, 6, 7])
    assert torch.allclose(group_advantages(rewards[perm], 4), base[perm])
    assert torch.equal(base[4:], torch.zeros(4)) and base[0] > 0


def test_zero_std_fraction_counts_constant_groups():
    assert zero_std_fraction(t([1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0]), 4) == pytest.approx(2 / 3)


@pytest.mark.parametrize("p,expected", [(0.5, 0.0), (0.0, math.log(2)), (1.0, math.log(2)),
                                        (0.25, 0.1308122), (0.125, 0.3163769), (0.375, 0.0315840)])
def test_maxent_divergence_hand_values(p, expected):
    assert float(maxent_divergence(torch.tensor(p, dtype=torch.float64))) == pytest.approx(expected, abs=2e-7)  # doc values truncated at 7 digits


def test_divergence_is_ln2_minus_binary_entropy_and_nonnegative():
    p = torch.linspace(0, 1, 101, dtype=torch.float64)
    entropy = -(torch.special.xlogy(p, p) + torch.special.xlogy(1 - p, 1 - p))
    divergence = maxent_divergence(p)
    assert torch.allclose(divergence, math.log(2) - entropy, atol=1e-12)
    assert (divergence >= -1e-15).all()


@pytest.mark.parametrize("lam,edge", [(1, 0.5), (2, 0.25), (4, 0.0625)])
def test_weight_at_the_edges_is_two_to_minus_lambda(lam, edge):
    weights = maxent_weight(torch.tensor([0.0, 1.0]), lam)
    assert torch.allclose(weights, torch.tensor([edge, edge]), atol=1e-7)


@pytest.mark.parametrize("p,lam,expected", [(0.25, 4, 16 / 27), (0.25, 1, 0.8773827),
                                            (0.125, 1, 0.7287846), (0.375, 1, 0.9689100)])
def test_weight_hand_values(p, lam, expected):
    assert float(maxent_weight(torch.tensor(p), lam)) == pytest.approx(expected, abs=1e-6)


def test_lambda_zero_weight_is_exactly_one_everywhere():
    assert torch.equal(maxent_weight(torch.linspace(0, 1, 33), 0.0), torch.ones(33))


def test_weight_is_symmetric_peaks_at_half_and_is_monotone_below_it():
    p = torch.linspace(0, 0.5, 51, dtype=torch.float64)
    weights = maxent_weight(p, 2.0)
    assert torch.allclose(weights, maxent_weight(1 - p, 2.0), atol=1e-12)
    assert (weights.diff() > 0).all() and float(weights[-1]) == 1.0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_no_nan_or_inf_at_p_zero_and_one(dtype):
    p = torch.tensor([0.0, 1.0, 1.0 - 1e-12, 1e-12], dtype=dtype)
    for lam in (0.0, 1.0, 4.0, 50.0):
        assert torch.isfinite(maxent_weight(p, lam)).all()


def test_the_clamp_shortcut_is_nan_in_float32_which_is_why_xlogy_is_used():
    p = torch.tensor(1.0).clamp(1e-12, 1 - 1e-12)
    naive = p * torch.log(p / 0.5) + (1 - p) * torch.log((1 - p) / 0.5)
    assert torch.isnan(naive)


def test_lambda_zero_advantages_are_bitwise_grpo():
    torch.manual_seed(2)
    rewards = torch.randint(0, 2, (16 * 8,)).float()
    shaped, _, _ = mgpo_advantages(rewards, rewards, 8, lam=0.0)
    assert torch.equal(shaped, group_advantages(rewards, 8))


def test_mgpo_multiplies_each_group_by_its_weight():
    rewards = t([1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1])
    shaped, weights, p_correct = mgpo_advantages(rewards, rewards, 4, lam=4.0)
    assert torch.allclose(p_correct, t([0.25, 0.5, 1.0]))
    assert float(weights[0]) == pytest.approx(16 / 27, abs=1e-6)
    assert torch.allclose(shaped, group_advantages(rewards, 4) * weights.repeat_interleave(4))
    assert not shaped.requires_grad and not weights.requires_grad


def test_reweighting_rewards_before_normalisation_is_cancelled_so_w_must_come_after():
    rewards = t([1, 0, 0, 0, 1, 1, 0, 0])
    weights = maxent_weight(t([0.25, 0.5]), 4.0).repeat_interleave(4)
    assert torch.allclose(group_advantages(rewards * weights, 4), group_advantages(rewards, 4), atol=1e-4)
    shaped, _, _ = mgpo_advantages(rewards, rewards, 4, lam=4.0)
    assert not torch.allclose(shaped, group_advantages(rewards, 4), atol=1e-2)
