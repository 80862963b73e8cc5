"""vae_support.gradients, Part III: STL and DReG are unbiased for gradients known exactly on the
linear-Gaussian model, STL's variance vanishes at the exact posterior, and the signal-to-noise
ratio of the standard IWAE encoder gradient falls with K while DReG's grows."""
import math

import numpy as np
import pytest
import torch
from torch.distributions import Independent, MultivariateNormal, Normal

from vae_support import bounds, gradients, toy
from vae_support.gradients import (
    dreg_surrogate,
    gradient_draws,
    iwae_surrogate,
    signal_to_noise,
    stl_surrogate,
    stop_gradient,
    stopped_log_weights,
)

from test_models import one_thread  # noqa: E402,F401  (autouse: one thread)


def problem(x_dim=5, z_dim=2, shift=0.2):
    """A linear-Gaussian model, one observation and a diagonal q off the exact posterior."""
    model = toy.LinearGaussian.random(x_dim=x_dim, z_dim=z_dim, noise_std=1.0, seed=0)
    x, _ = model.sample(1, generator=torch.Generator().manual_seed(1))
    post = model.posterior(x)
    loc = (post.mean + shift).detach().clone().requires_grad_(True)
    log_scale = (0.5 * post.covariance_matrix.diagonal(dim1=-2, dim2=-1).log() + shift / 2).detach().clone().requires_grad_(True)
    return model, x, loc, log_scale


def estimates(model, x, loc, log_scale, kind, k, n):
    """n independent gradient estimates [n, 2 d_z] w.r.t. (loc, log_scale): each replica has its own copy of q."""
    locs = loc.detach().expand(n, -1).clone().requires_grad_(True)
    log_scales = log_scale.detach().expand(n, -1).clone().requires_grad_(True)

    def surrogate():
        q = Independent(Normal(locs, log_scales.exp()), 1)
        z = q.rsample((k,))
        log_px_z, log_pz = model.likelihood(z).log_prob(x), model.prior().log_prob(z)
        if kind == "iwae":
            return iwae_surrogate(bounds.log_weights(log_px_z, log_pz, q.log_prob(z)))
        log_w = stopped_log_weights(log_px_z, log_pz, z, q)
        if kind == "stl-iwae":
            return bounds.iwae_bound(log_w)
        return dreg_surrogate(log_w) if kind == "dreg" else stl_surrogate(log_w)

    flat = gradient_draws(surrogate, [locs, log_scales], 1)[0]
    return torch.cat([flat[: locs.numel()].reshape(n, -1), flat[locs.numel():].reshape(n, -1)], 1)


class Stats:
    def __init__(self, draws):
        self.mean, self.variance = draws.mean(0), draws.var(0)


def assert_within_standard_errors(stats, exact, n, width=5.0):
    se = (stats.variance / n).sqrt()
    assert ((stats.mean - exact).abs() <= width * se + 1e-9).all(), (stats.mean, exact, se)


def test_stl_is_unbiased_for_the_exact_elbo_gradient():
    model, x, loc, log_scale = problem()
    q = Independent(Normal(loc, log_scale.exp()), 1)
    exact = torch.cat(torch.autograd.grad(model.elbo(x, q).sum(), [loc, log_scale])).flatten()  # closed form
    torch.manual_seed(0)
    n = 20_000
    stats = Stats(estimates(model, x, loc, log_scale, "stl", 1, n))
    assert_within_standard_errors(stats, exact, n)
    assert exact.abs().min() > 10 * (stats.variance / n).sqrt().max()  # a test with power: the gradient is far from 0


def test_stl_value_is_the_elbo_and_dreg_with_one_sample_is_stl():
    model, x, loc, log_scale = problem()
    q = Independent(Normal(loc, log_scale.exp()), 1)
    z = q.rsample((7,))
    log_px_z, log_pz = model.likelihood(z).log_prob(x), model.prior().log_prob(z)
    log_w = stopped_log_weights(log_px_z, log_pz, z, q)
    assert torch.allclose(log_w, bounds.log_weights(log_px_z, log_pz, q.log_prob(z)))
    assert torch.allclose(stl_surrogate(log_w), bounds.elbo(log_w))
    one = log_w[:1]
    g_stl = torch.autograd.grad(stl_surrogate(one).sum(), [loc, log_scale], retain_graph=True)
    g_dreg = torch.autograd.grad(dreg_surrogate(one).sum(), [loc, log_scale])
    assert all(torch.allclose(a, b) for a, b in zip(g_stl, g_dreg))


def test_dreg_weights_by_hand():
    log_w = torch.tensor([[0.0], [math.log(3.0)]], requires_grad=True)  # weights 1 and 3: w~ = 1/4, 3/4
    (g,) = torch.autograd.grad(dreg_surrogate(log_w).sum(), log_w)
    assert torch.allclose(g, torch.tensor([[1 / 16], [9 / 16]]))
    assert torch.allclose(dreg_surrogate(log_w.detach()), torch.tensor([9 / 16 * math.log(3.0)]))


def gauss_hermite_iwae_gradient(model, x, loc, log_scale, k, nodes=40):
    """Exact ∇ L_K of a one-dimensional q by a K-dimensional Gauss–Hermite rule over (ε_1..ε_K)."""
    e, w = np.polynomial.hermite_e.hermegauss(nodes)
    e, w = torch.tensor(e), torch.tensor(w / w.sum())
    grids = torch.meshgrid(*([e] * k), indexing="ij")
    weight = torch.ones(()).double()
    for i in range(k):
        weight = weight * w.reshape([-1 if j == i else 1 for j in range(k)])
    eps = torch.stack([g.reshape(-1) for g in grids])  # [K, nodes^K]
    z = (loc + log_scale.exp() * eps).unsqueeze(-1)  # [K, nodes^K, 1]
    q = Independent(Normal(loc, log_scale.exp()), 1)
    log_w = model.likelihood(z).log_prob(x) + model.prior().log_prob(z) - q.log_prob(z)
    bound = (weight.reshape(-1) * bounds.iwae_bound(log_w)).sum()  # E[L_K], eq-iwae
    return torch.cat(torch.autograd.grad(bound, [loc, log_scale])).flatten()


@pytest.mark.parametrize("k", [2, 3])
def test_dreg_and_standard_iwae_gradients_are_unbiased_against_quadrature(k):
    model, x, loc, log_scale = problem(x_dim=3, z_dim=1, shift=0.5)
    exact = gauss_hermite_iwae_gradient(model, x, loc, log_scale, k)
    # the quadrature is converged: fewer nodes give the same gradient
    assert torch.allclose(exact, gauss_hermite_iwae_gradient(model, x, loc, log_scale, k, nodes=30), atol=1e-5)
    n = 20_000
    for kind in ("iwae", "dreg"):
        torch.manual_seed(1)
        stats = Stats(estimates(model, x, loc, log_scale, kind, k, n))
        assert_within_standard_errors(stats, exact, n)


def test_stl_is_biased_for_the_iwae_bound():
    """STL's surrogate pushed through the IWAE bound has a mean away from ∇ L_K (Tucker et al., 2019)."""
    model, x, loc, log_scale = problem(x_dim=3, z_dim=1, shift=0.5)
    k = 3
    exact = gauss_hermite_iwae_gradient(model, x, loc, log_scale, k)
    torch.manual_seed(2)
    n = 20_000
    stats = Stats(estimates(model, x, loc, log_scale, "stl-iwae", k, n))
    se = (stats.variance / n).sqrt()
    assert ((stats.mean - exact).abs() > 20 * se).any()


def test_zero_variance_at_the_exact_posterior():
    model, x, _, _ = problem()
    post = model.posterior(x)
    loc = post.mean.detach().clone().requires_grad_(True)
    tril = post.scale_tril.detach().clone().requires_grad_(True)
    torch.manual_seed(3)
    for k in (1, 5):
        for surrogate in (stl_surrogate, dreg_surrogate):
            q = MultivariateNormal(loc, scale_tril=tril)
            z = q.rsample((k,))
            log_w = stopped_log_weights(model.likelihood(z).log_prob(x), model.prior().log_prob(z), z, q)
            assert torch.allclose(log_w, model.log_marginal(x).expand_as(log_w), atol=1e-10)  # w = p(x) for every z
            grads = torch.autograd.grad(surrogate(log_w).sum(), [loc, tril])
            assert all(g.abs().max() < 1e-10 for g in grads)
    # the standard reparameterized estimator is not zero there
    q = MultivariateNormal(loc, scale_tril=tril)
    z = q.rsample((1,))
    log_w = bounds.log_weights(model.likelihood(z).log_prob(x), model.prior().log_prob(z), q.log_prob(z))
    assert torch.cat([g.flatten() for g in torch.autograd.grad(log_w.sum(), [loc, tril])]).abs().max() > 1e-3


def test_snr_of_the_encoder_gradient_falls_with_k_for_iwae_and_grows_for_dreg():
    model, x, loc, log_scale = problem()
    snr = {}
    for kind in ("iwae", "dreg"):
        for k in (1, 256):
            torch.manual_seed(4)
            snr[kind, k] = signal_to_noise(estimates(model, x, loc, log_scale, kind, k, 1000)).mean()
    # measured: iwae 0.31 -> 0.025, dreg 1.4 -> 13 (1000 draws: each SNR within about +-0.03 + 3%)
    assert snr["iwae", 256] < 0.4 * snr["iwae", 1]
    assert snr["dreg", 256] > 4 * snr["dreg", 1]
    assert snr["dreg", 256] > 50 * snr["iwae", 256]


def test_signal_to_noise_by_hand():
    draws = torch.tensor([[1.0, 0.0, 2.0], [3.0, 0.0, 2.0], [2.0, 0.0, 2.0]])  # mean 2, sd 1 | always 0 | always 2
    snr = signal_to_noise(draws)
    assert snr[0] == 2.0 and snr[1] == 0.0 and torch.isinf(snr[2])
    p = torch.tensor([1.0, 2.0], requires_grad=True)
    stream = iter(draws[:, :2])
    assert torch.allclose(signal_to_noise(gradient_draws(lambda: (p * next(stream)).sum(), [p], 3)), snr[:2])


def test_signal_to_noise_of_pure_noise_sits_at_its_floor():
    torch.manual_seed(5)
    n = 400
    snr = signal_to_noise(torch.randn(n, 2000))
    assert abs(snr.mean().item() - math.sqrt(2 / (math.pi * n))) < 0.003


def test_bad_input():
    with pytest.raises(TypeError, match="q: expected a Normal"):
        stop_gradient(torch.distributions.Bernoulli(torch.tensor(0.5)))
    with pytest.raises(ValueError, match="log_w"):
        dreg_surrogate(torch.tensor(1.0))
    with pytest.raises(ValueError, match="log_w: expected finite"):
        stl_surrogate(torch.tensor([[float("nan")]]))
    with pytest.raises(ValueError, match="z: expected finite"):
        q = Independent(Normal(torch.zeros(1, 2), torch.ones(1, 2)), 1)
        stopped_log_weights(torch.zeros(1, 1), torch.zeros(1, 1), torch.full((1, 1, 2), float("inf")), q)
    with pytest.raises(ValueError, match="expected equal shapes"):
        q = Independent(Normal(torch.zeros(1, 2), torch.ones(1, 2)), 1)
        stopped_log_weights(torch.zeros(3, 1), torch.zeros(1, 1), torch.zeros(3, 1, 2), q)
    with pytest.raises(ValueError, match="draws: expected shape"):
        signal_to_noise(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="draws: expected finite"):
        signal_to_noise(torch.tensor([[0.0], [float("nan")]]))


def test_stop_gradient_keeps_the_path_and_drops_the_parameters():
    loc = torch.tensor([0.3], requires_grad=True)
    for q in (Normal(loc, 2.0), Independent(Normal(loc, torch.tensor([2.0])), 1),
              MultivariateNormal(loc, scale_tril=torch.tensor([[2.0]]))):
        sg = stop_gradient(q)
        assert type(sg) is type(q) and sg.batch_shape == q.batch_shape and sg.event_shape == q.event_shape
        z = torch.tensor([1.0])
        assert torch.allclose(sg.log_prob(z), q.log_prob(z))
        assert not sg.log_prob(z).requires_grad
