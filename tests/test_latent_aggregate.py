"""The aggregate posterior q(z) = (1/N) Σ_n q(z|x_n): mixture density, exact covariance, KL to the prior.

Known answers: the mixture's log-density by hand (log-sum-exp of the components), the law of total
covariance on hand-computed two-point examples, and KL(q(z)‖p(z)) against torch.distributions'
closed form where q(z) is a single Gaussian.
"""
import math

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from vae_support.distributions import diagonal_gaussian, full_gaussian
from vae_support.latent import aggregate_covariance, aggregate_kl, aggregate_posterior


def two_points():
    """q(z|x_1) = N((0, 0), I), q(z|x_2) = N((2, 0), diag(1, 4))."""
    return diagonal_gaussian(torch.tensor([[0.0, 0.0], [2.0, 0.0]], dtype=torch.float64),
                             torch.tensor([[1.0, 1.0], [1.0, 2.0]], dtype=torch.float64))


def test_log_density_is_the_equal_weight_mixture():
    q = two_points()
    z = torch.tensor([[0.5, -1.0], [3.0, 2.0], [0.0, 0.0]], dtype=torch.float64)
    by_hand = []
    for point in z.tolist():
        n1 = Normal(0.0, 1.0).log_prob(torch.tensor(point[0])) + Normal(0.0, 1.0).log_prob(torch.tensor(point[1]))
        n2 = Normal(2.0, 1.0).log_prob(torch.tensor(point[0])) + Normal(0.0, 2.0).log_prob(torch.tensor(point[1]))
        by_hand.append(math.log(0.5 * math.exp(n1) + 0.5 * math.exp(n2)))
    torch.testing.assert_close(aggregate_posterior(q).log_prob(z), torch.tensor(by_hand, dtype=torch.float64))


def test_one_point_aggregate_is_that_point():
    q = full_gaussian(torch.tensor([[1.0, -1.0]]), torch.tensor([[[1.0, 0.0], [0.5, 2.0]]]))
    z = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(aggregate_posterior(q).log_prob(z), q.log_prob(z[:, None, :]).squeeze(1))


def test_covariance_by_the_law_of_total_covariance():
    # mean of the covariances diag(1, 2.5); means (0,0) and (2,0) spread by 1 along z1 -> [[2, 0], [0, 2.5]]
    expected = torch.tensor([[2.0, 0.0], [0.0, 2.5]], dtype=torch.float64)
    torch.testing.assert_close(aggregate_covariance(two_points()), expected)


def test_covariance_of_full_covariance_encoders():
    # Σ_1 = [[1, .5], [.5, 1]], Σ_2 = [[2, 0], [0, 1]], means (1, 1) and (-1, -1): mean Σ + [[1, 1], [1, 1]]
    q = MultivariateNormal(torch.tensor([[1.0, 1.0], [-1.0, -1.0]]),
                           torch.tensor([[[1.0, 0.5], [0.5, 1.0]], [[2.0, 0.0], [0.0, 1.0]]]))
    torch.testing.assert_close(aggregate_covariance(q), torch.tensor([[2.5, 1.25], [1.25, 2.0]]))


def test_covariance_matches_samples_of_the_mixture():
    torch.manual_seed(0)
    z = aggregate_posterior(two_points()).sample((200_000,))
    torch.testing.assert_close(torch.cov(z.T), aggregate_covariance(two_points()), atol=0.04, rtol=0)


def test_kl_against_the_closed_form_when_every_point_has_the_same_q():
    # all N posteriors equal N(m, s^2 I) -> q(z) is that Gaussian: KL to N(0, I) in closed form
    m, s = torch.tensor([0.8, -0.5]), torch.tensor([0.6, 1.3])
    q = diagonal_gaussian(m.expand(4, 2), s.expand(4, 2))
    prior = diagonal_gaussian(torch.zeros(2), torch.ones(2))
    exact = kl_divergence(diagonal_gaussian(m, s), prior)
    torch.manual_seed(0)
    n = 40_000
    estimate = aggregate_kl(q, prior, n_samples=n)
    # standard error of the mean of the log-ratio, from its variance under q
    z = diagonal_gaussian(m, s).sample((n,))
    se = (diagonal_gaussian(m, s).log_prob(z) - prior.log_prob(z)).std() / math.sqrt(n)
    assert abs(estimate - exact) < 4 * se, (estimate.item(), exact.item(), se.item())


def test_kl_is_zero_when_the_aggregate_is_the_prior():
    prior = diagonal_gaussian(torch.zeros(3), torch.ones(3))
    q = diagonal_gaussian(torch.zeros(5, 3), torch.ones(5, 3))
    torch.manual_seed(0)
    assert abs(aggregate_kl(q, prior, n_samples=100).item()) < 1e-6


def test_kl_of_a_spread_aggregate_is_positive_and_repeatable():
    q = two_points()
    prior = diagonal_gaussian(torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64))
    torch.manual_seed(3)
    first = aggregate_kl(q, prior, n_samples=500)
    torch.manual_seed(3)
    assert aggregate_kl(q, prior, n_samples=500) == first and first > 0


@pytest.mark.parametrize("bad, message", [
    (lambda: aggregate_posterior(torch.zeros(3, 2)), "expected a torch Distribution"),
    (lambda: aggregate_posterior(diagonal_gaussian(torch.zeros(2), torch.ones(2))), "batch shape \\[N\\]"),
    (lambda: aggregate_covariance(Normal(torch.zeros(3), torch.ones(3))), "event shape \\[d\\]"),
    (lambda: aggregate_kl(two_points(), diagonal_gaussian(torch.zeros(3), torch.ones(3))), "event shape \\(2,\\)"),
    (lambda: aggregate_kl(two_points(), "normal"), "prior"),
    (lambda: aggregate_kl(two_points(), diagonal_gaussian(torch.zeros(2), torch.ones(2)), n_samples=0), "n_samples"),
])
def test_bad_input_is_refused_with_a_clear_error(bad, message):
    with pytest.raises((TypeError, ValueError), match=message):
        bad()
