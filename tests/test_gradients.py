"""vae_support.gradients: each estimator is unbiased for a gradient known in closed form, baselines and
VIMCO reduce variance, and the surrogates' learning signals match hand computations."""
import math

import numpy as np
import pytest
import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

from vae_support import gradients
from vae_support.bounds import iwae_bound
from vae_support.kl import gaussian_kl
from vae_support.models import VAE
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


F64 = torch.float64


# ------------------------------------------ the encoder gradient's two parts, the reparameterization map
@pytest.fixture(scope="module")
def tiny_vae():
    torch.manual_seed(0)
    return VAE(x_dim=64, z_dim=2, hidden=(16,)), torch.randint(0, 17, (5, 64)).float()


def test_reconstruction_gradient_of_a_gaussian_likelihood_is_x_minus_mu():
    x = torch.tensor([0.7, -1.2], dtype=F64)
    log_lik = lambda z: Independent(Normal(z, 1.0), 1).log_prob(x)  # noqa: E731
    eps = torch.randn(8, 2, dtype=F64, generator=torch.Generator().manual_seed(0))
    eps = torch.cat([eps, -eps])
    mean = torch.tensor([[0.0, 0.0], [1.0, 2.0], [-3.0, 0.5]], dtype=F64)
    std = torch.tensor([0.5, 2.0], dtype=F64)
    value, grad = gradients.reconstruction_gradient(log_lik, mean, std, eps)
    torch.testing.assert_close(grad, x - mean)
    # E[log N(x; mu + s eps, I)] = log N(x; mu, I) - sum(s^2)/2 when the draws have sample variance 1
    var = (eps**2).mean(0)
    expected = Independent(Normal(mean, 1.0), 1).log_prob(x) - 0.5 * (std**2 * var).sum()
    torch.testing.assert_close(value, expected)
    with pytest.raises(ValueError, match="mean, eps"):
        gradients.reconstruction_gradient(log_lik, mean[0], std, eps)
    with pytest.raises(ValueError, match="std"):
        gradients.reconstruction_gradient(log_lik, mean, -std, eps)


def test_regularization_gradient_closed_form_and_monte_carlo():
    mean = torch.tensor([[0.0, 0.0], [1.0, -2.0], [3.0, 0.5]], dtype=F64)
    std = torch.tensor([0.3, 1.5], dtype=F64)
    standard = Independent(Normal(torch.zeros(2, dtype=F64), torch.ones(2, dtype=F64)), 1)
    torch.testing.assert_close(gradients.regularization_gradient(mean, std, standard), -mean)
    # a one-component mixture has no closed-form KL in torch: the Monte Carlo path, exact with antithetic draws
    m, s = torch.tensor([1.0, -1.0], dtype=F64), 0.5
    one = MixtureSameFamily(Categorical(probs=torch.ones(1, dtype=F64)), Independent(Normal(m[None], s), 1))
    eps = torch.randn(16, 2, dtype=F64, generator=torch.Generator().manual_seed(1))
    got = gradients.regularization_gradient(mean, std, one, eps=torch.cat([eps, -eps]))
    torch.testing.assert_close(got, -(mean - m) / s**2)
    with pytest.raises(ValueError, match="eps"):
        gradients.regularization_gradient(mean, std, one)
    with pytest.raises(TypeError, match="prior"):
        gradients.regularization_gradient(mean, std, "N(0, I)")


def test_reparameterize_grid_is_the_affine_map():
    mean = torch.tensor([1.0, -0.5])
    L = torch.tensor([[0.8, 0.0], [-0.6, 0.4]])
    eps, z = gradients.reparameterize_grid(mean, L, lim=2.0, n_lines=5, n_points=7)
    assert eps.shape == z.shape == (2, 5, 7, 2)
    torch.testing.assert_close(z, mean + eps @ L.T)
    assert float(eps.abs().max()) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="scale_tril"):
        gradients.reparameterize_grid(mean, L.T)
    with pytest.raises(ValueError, match="scale_tril"):
        gradients.reparameterize_grid(mean, -L)


def test_encoder_gradient_split_adds_up_to_the_elbo_gradient(tiny_vae):
    model, x = tiny_vae
    params = list(model.encoder.parameters())
    torch.manual_seed(3)
    g_rec, g_reg = gradients.encoder_gradient_split(model, x, k=2)
    torch.manual_seed(3)
    f = model.forward_pass(x, 2)
    mu, std = f.q.mean, f.q.stddev
    elbo = f.log_px_z.mean(0) - gaussian_kl(mu, 2 * std.log())  # eq-elbo-decomposition, KL by eq-kl-gaussian-diag
    total = torch.cat([g.reshape(-1) for g in torch.autograd.grad(elbo.sum(), params, retain_graph=True)])
    torch.testing.assert_close(g_rec + g_reg, total, atol=1e-5, rtol=1e-5)
    kl_only = torch.cat([g.reshape(-1) for g in torch.autograd.grad(-gaussian_kl(mu, 2 * std.log()).sum(), params)])
    torch.testing.assert_close(g_reg, kl_only, atol=1e-6, rtol=1e-5)
    assert g_rec.shape == (sum(p.numel() for p in params),)


def _constant_weight_model(z_dim=3):
    """A DiscreteVAE with q(z|x) = p(z) = Bernoulli(1/2)^d and a decoder that ignores z: w_k = p(x) for every z."""
    from vae_support.models import DiscreteVAE

    torch.manual_seed(0)
    model = DiscreteVAE(x_dim=4, z_dim=z_dim, hidden=(5,), likelihood="bernoulli")
    with torch.no_grad():
        model.encoder[-1].weight.zero_()
        model.encoder[-1].bias.zero_()
        model.decoder[0].weight.zero_()
    return model


def test_gradient_variance_known_answers_when_all_weights_are_equal():
    # With w_k = p(x) for all k: VIMCO's signals vanish and its gradient is -(1/K) sum_k (z_k - 1/2),
    # variance d/(4K); the plain score function is (log p(x) - 1/K) sum_k (z_k - 1/2), variance
    # d K (log p(x) - 1/K)^2 / 4.
    model, d, k, r = _constant_weight_model(), 3, 4, 4000
    x = torch.tensor([[1.0, 0.0, 1.0, 1.0]])
    with torch.no_grad():
        log_px = float(model.decode(torch.zeros(1, d)).log_prob(x))
    torch.manual_seed(1)
    vimco = gradients.encoder_gradient_variance(model, x, k, "vimco", replicas=r)
    score = gradients.encoder_gradient_variance(model, x, k, "score", replicas=r)
    np.testing.assert_allclose(vimco, d / (4 * k), rtol=0.1)
    np.testing.assert_allclose(score, d * k * (log_px - 1 / k) ** 2 / 4, rtol=0.1)


def test_gradient_variance_rejects_bad_input():
    model = _constant_weight_model()
    x = torch.ones(1, 4)
    with pytest.raises(ValueError, match="estimator"):
        gradients.encoder_gradient_variance(model, x, 4, "reinforce")
    with pytest.raises(ValueError, match="k"):
        gradients.encoder_gradient_variance(model, x, 1, "vimco")
    with pytest.raises(ValueError, match="replicas"):
        gradients.encoder_gradient_variance(model, x, 2, "vimco", replicas=1)
    with pytest.raises(TypeError, match="DiscreteVAE"):
        gradients.encoder_gradient_variance(VAE(x_dim=4, z_dim=2, hidden=(3,), likelihood="bernoulli"), x, 2, "vimco")
