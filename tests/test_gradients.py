"""vae_support.gradients: each estimator is unbiased for a gradient known in closed form, baselines and
VIMCO reduce variance, and the surrogates' learning signals match hand computations."""
import math

import pytest
import torch
from torch.distributions import Normal

from vae_support.bounds import iwae_bound
from vae_support.gradients import (
    estimator_variance,
    gradient_draws,
    iwae_surrogate,
    leave_one_out_baseline,
    reparameterization_surrogate,
    score_function_surrogate,
    vimco_surrogate,
)

MU, LOG_SIGMA = 0.7, math.log(0.8)


from test_models import one_thread  # noqa: E402,F401  (autouse: tiny models run on one thread)


@pytest.fixture
def params():
    torch.manual_seed(0)
    return torch.tensor(MU, requires_grad=True), torch.tensor(LOG_SIGMA, requires_grad=True)


def exact_gradient():
    """F(μ, log σ) = E_{N(μ, σ²)}[z²] = μ² + σ²: ∂F/∂μ = 2μ, ∂F/∂log σ = 2σ²."""
    return torch.tensor([2 * MU, 2 * math.exp(2 * LOG_SIGMA)])


def reparam(mu, log_sigma, n=4):
    def surrogate():
        z = Normal(mu, log_sigma.exp()).rsample((n,))
        return reparameterization_surrogate(z**2)
    return surrogate


def score(mu, log_sigma, n=4, shift=0.0, baseline=None):
    def surrogate():
        q = Normal(mu, log_sigma.exp())
        z = q.sample((n,))
        return score_function_surrogate(z**2 + shift, q.log_prob(z), baseline=baseline)
    return surrogate


@pytest.mark.parametrize("make", [
    lambda m, s: reparam(m, s),
    lambda m, s: score(m, s),
    lambda m, s: score(m, s, baseline=torch.tensor(MU**2 + math.exp(2 * LOG_SIGMA))),
], ids=["reparameterization", "score-function", "score-function+baseline"])
def test_each_estimator_is_unbiased(params, make):
    stats = estimator_variance(make(*params), params, n_draws=2000)
    stderr = (stats.variance / 2000).sqrt()
    assert ((stats.mean - exact_gradient()).abs() < 4.5 * stderr).all(), (stats.mean, exact_gradient(), stderr)


def test_reparameterization_beats_score_function_and_a_baseline_helps(params):
    rep = estimator_variance(reparam(*params), params, n_draws=2000).variance.sum()
    plain = estimator_variance(score(*params, shift=10.0), params, n_draws=2000).variance.sum()
    based = estimator_variance(score(*params, shift=10.0, baseline=10.0 + MU**2), params, n_draws=2000).variance.sum()
    assert rep < based < plain / 5


def test_score_function_surrogate_keeps_fs_own_dependence_on_the_parameters():
    theta = torch.tensor(2.0, requires_grad=True)
    z = torch.tensor([0.5, -1.0])
    log_q = torch.zeros(2)  # no dependence through q: the gradient is that of f alone
    (g,) = torch.autograd.grad(score_function_surrogate(theta * z, log_q), theta)
    assert float(g) == pytest.approx(float(z.mean()))


def test_leave_one_out_baseline_by_hand():
    f = torch.tensor([[1.0], [2.0], [6.0]])
    torch.testing.assert_close(leave_one_out_baseline(f), torch.tensor([[4.0], [3.5], [1.5]]))
    with pytest.raises(ValueError, match="at least 2 samples"):
        leave_one_out_baseline(torch.ones(1, 3))


def test_vimco_learning_signal_by_hand():
    log_w = torch.tensor([[0.0], [1.0], [3.0]])
    log_q = torch.zeros(3, 1, requires_grad=True)
    surrogate = vimco_surrogate(log_w, log_q)
    (signal,) = torch.autograd.grad(surrogate.sum(), log_q)
    bound = math.log((1 + math.e + math.e**3) / 3)
    # replace log w_k by the mean of the others
    expected = [bound - math.log((math.exp(2.0) + math.e + math.e**3) / 3),
                bound - math.log((1 + math.exp(1.5) + math.e**3) / 3),
                bound - math.log((1 + math.e + math.exp(0.5)) / 3)]
    torch.testing.assert_close(signal.squeeze(1), torch.tensor(expected))
    torch.testing.assert_close(surrogate.detach(), iwae_bound(log_w))


def gaussian_toy_log_w(mu, log_sigma, z, q):
    """p(z) = N(0, 1), p(x|z) = N(x; z, 1) at x = 1.5."""
    return Normal(z, 1.0).log_prob(torch.tensor(1.5)) + Normal(0.0, 1.0).log_prob(z) - q.log_prob(z)


def test_vimco_is_unbiased_for_the_iwae_gradient_and_beats_plain_score_function():
    # n independent replicates in one pass: replicate i has its own copy of (μ, log σ), so the
    # gradient with respect to the copies holds n independent draws of each estimator
    n, K = 4000, 5

    def draws(kind):
        mu = torch.full((n,), MU, requires_grad=True)
        log_sigma = torch.full((n,), LOG_SIGMA, requires_grad=True)
        q = Normal(mu, log_sigma.exp())
        z = q.rsample((K,)) if kind == "reparam" else q.sample((K,))
        log_q = q.log_prob(z)
        log_w = gaussian_toy_log_w(mu, log_sigma, z, q)
        if kind == "reparam":
            surrogate = iwae_surrogate(log_w)
        elif kind == "vimco":
            surrogate = vimco_surrogate(log_w, log_q)
        else:  # plain score function of the IWAE bound: no baseline
            bound = iwae_bound(log_w)
            surrogate = bound.detach() * log_q.sum(0) + bound
        return torch.stack(torch.autograd.grad(surrogate.sum(), (mu, log_sigma)), dim=1)  # [n, 2]

    torch.manual_seed(0)
    reference, vimco, plain = draws("reparam"), draws("vimco"), draws("plain")
    stderr = ((reference.var(0) + vimco.var(0)) / n).sqrt()
    assert ((vimco.mean(0) - reference.mean(0)).abs() < 4.5 * stderr).all()
    assert vimco.var(0).sum() < plain.var(0).sum() / 2


def test_gradient_draws_shapes_and_bad_input(params):
    g = gradient_draws(reparam(*params), params, n_draws=3)
    assert g.shape == (3, 2)
    with pytest.raises(ValueError, match="params"):
        gradient_draws(reparam(*params), [torch.tensor(1.0)], n_draws=3)
    with pytest.raises(ValueError, match="n_draws"):
        estimator_variance(reparam(*params), params, n_draws=1)
    with pytest.raises(ValueError, match="VIMCO needs K >= 2"):
        vimco_surrogate(torch.zeros(1, 2), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="expected equal shapes"):
        score_function_surrogate(torch.zeros(3, 2), torch.zeros(3, 1))
