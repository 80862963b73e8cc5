"""vae_support.hierarchical: the two-level VAE holds the exact posterior of the book's two-layer
linear-Gaussian toy (every log-weight equals log p(x)); off it, the per-level KLs add up to the exact
KL(q(z1, z2|x) || p(z1, z2)) and the ELBO to its closed form; active units and training behave."""
import math

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from vae_support.data import load_digits
from vae_support.hierarchical import (
    HierarchicalVAE,
    active_units_per_level,
    fit_hierarchical,
    hierarchical_elbo_terms,
    two_layer_toy,
)

from test_models import one_thread  # noqa: E402,F401  (autouse: one thread)

A, S, SIGMA = 1.0, 0.3, 1.0
X = torch.tensor([[0.5], [-2.0], [3.0]], dtype=torch.float64)


def exact_log_px(x, a=A, s=S, sigma=SIGMA):
    """log N(x; 0, a^2 + s^2 + sigma^2): the two-layer toy's evidence."""
    return Normal(torch.zeros((), dtype=torch.float64), math.sqrt(a * a + s * s + sigma ** 2)).log_prob(x[:, 0])


@pytest.mark.parametrize("inference", ["bottom-up", "top-down"])
def test_the_toy_holds_its_exact_posterior_so_every_log_weight_is_log_px(inference):
    model = two_layer_toy(A, S, SIGMA, inference)
    torch.manual_seed(0)
    log_w = model.log_weights(X, 50)
    assert torch.allclose(log_w, exact_log_px(X).expand_as(log_w), atol=1e-12)
    assert torch.allclose(model.iwae(X, 7), exact_log_px(X), atol=1e-12)


def linear_layer(layer):
    return layer.weight.detach().reshape(-1).tolist(), layer.bias.detach().tolist()


def exact_joint_q(model, x):
    """The Gaussian q(z1, z2 | x) of a linear one-dimensional model, on (z1, z2): mean [n, 2], cov [n, 2, 2]."""
    (pw, _), (pb0, plogv) = linear_layer(model.prior1[0])
    a, b0, s2 = pw, pb0, math.exp(plogv)
    x = x[:, 0]
    if model.inference == "bottom-up":
        (w1, _), (c1, lv1) = linear_layer(model.encoder1[0])
        (w2, _), (c2, lv2) = linear_layer(model.encoder2[0])
        m1, v1, c, d, v2 = w1 * x + c1, math.exp(lv1), w2, c2, math.exp(lv2)
        mean = torch.stack([m1, c * m1 + d], -1)
        cov = torch.tensor([[v1, c * v1], [c * v1, c * c * v1 + v2]], dtype=torch.float64)
    else:
        (w2, _, wm, _), (c2, lv2, cm, lvm) = linear_layer(model.encoder[0])
        m2, v2, mu_msg, vm = w2 * x + c2, math.exp(lv2), wm * x + cm, math.exp(lvm)
        v1 = 1 / (1 / vm + 1 / s2)
        alpha, beta = v1 * (mu_msg / vm + b0 / s2), v1 * a / s2  # E[z1 | z2] = alpha + beta z2
        mean = torch.stack([alpha + beta * m2, m2], -1)
        cov = torch.tensor([[beta * beta * v2 + v1, beta * v2], [beta * v2, v2]], dtype=torch.float64)
    prior = MultivariateNormal(torch.tensor([b0, 0.0], dtype=torch.float64),
                               torch.tensor([[a * a + s2, a], [a, 1.0]], dtype=torch.float64))
    return MultivariateNormal(mean, cov.expand(len(x), 2, 2)), prior


@pytest.mark.parametrize("inference", ["bottom-up", "top-down"])
def test_per_level_kls_add_up_to_the_exact_kl_and_the_elbo_to_its_closed_form(inference):
    model = two_layer_toy(A, S, SIGMA, inference)
    with torch.no_grad():  # move q and the model off the exact posterior
        for p in model.parameters():
            p.add_(0.3 * torch.sin(torch.arange(p.numel(), dtype=torch.float64) + 1).reshape(p.shape))
        for name, layer in model.named_children():  # variances stay constant in z and x: the model stays linear-Gaussian
            if name != "decoder":
                layer[0].weight[1::2] = 0.0
    q, prior = exact_joint_q(model, X)
    kl_exact = kl_divergence(q, prior)
    dw, db = linear_layer(model.decoder[0])
    m1, v1 = q.mean[:, 0], q.covariance_matrix[:, 0, 0]
    # E_q log N(x; w z1 + b, sigma^2) = log N(x; w m1 + b, sigma^2) - w^2 v1 / (2 sigma^2)
    recon_exact = Normal(dw[0] * m1 + db[0], SIGMA).log_prob(X[:, 0]) - dw[0] ** 2 * v1 / (2 * SIGMA ** 2)
    torch.manual_seed(1)
    n = 200_000
    with torch.no_grad():
        f = model.forward_pass(X, n)
        t = hierarchical_elbo_terms(f, inference)
        log_w = f.log_px_z + f.log_p - f.log_q
    assert torch.allclose(t.kl1 + t.kl2, t.kl1_dims.sum(-1) + t.kl2_dims.sum(-1))
    assert torch.allclose(t.elbo, t.reconstruction - t.kl1 - t.kl2)
    se = 5 * (f.log_q - f.log_p).std(0) / math.sqrt(n)
    assert ((t.kl1 + t.kl2 - kl_exact).abs() < se).all(), (t.kl1 + t.kl2, kl_exact)
    assert ((t.reconstruction - recon_exact).abs() < 5 * f.log_px_z.std(0) / math.sqrt(n)).all()
    assert ((log_w.mean(0) - (recon_exact - kl_exact)).abs() < 5 * log_w.std(0) / math.sqrt(n)).all()
    if inference == "top-down":
        assert (t.kl1 >= 0).all() and (t.kl2 >= 0).all()


def test_active_units_of_the_toy_and_of_a_cut_top_level():
    model = two_layer_toy(A, S, SIGMA, "top-down")
    x = torch.linspace(-3, 3, 50, dtype=torch.float64).unsqueeze(-1)
    torch.manual_seed(2)
    assert active_units_per_level(model, x) == (1, 1)
    with torch.no_grad():
        model.encoder[0].weight[0] = 0.0  # q(z2|x) no longer depends on x: the top level is cut
    assert active_units_per_level(model, x)[1] == 0


def test_skip_connection_lets_the_decoder_see_z2():
    torch.manual_seed(3)
    x = load_digits().test.x[:4]
    for skip in (False, True):
        model = HierarchicalVAE(z1_dim=3, z2_dim=2, hidden=(16,), skip=skip)
        z1, z2 = torch.randn(4, 3), torch.randn(4, 2, requires_grad=True)
        (g,) = torch.autograd.grad(model.decode(z1, z2).log_prob(x).sum(), z2, allow_unused=True)
        assert (g is not None and g.abs().sum() > 0) == skip


def test_fit_improves_the_objective_and_samples_have_the_data_support():
    torch.manual_seed(4)
    digits = load_digits()
    for inference in ("bottom-up", "top-down"):
        model = HierarchicalVAE(z1_dim=4, z2_dim=2, hidden=(32,), inference=inference)
        history = fit_hierarchical(model, digits.train.x[:200], epochs=3, batch_size=50, free_bits=(0.0, 0.1))
        assert len(history) == 3 and history[-1] > history[0]
        units = active_units_per_level(model, digits.test.x[:50])
        assert 0 <= units[0] <= 4 and 0 <= units[1] <= 2
        s = model.sample(5)
        assert s.shape == (5, 64) and (s == s.round()).all() and s.min() >= 0 and s.max() <= 16


def test_bad_input():
    with pytest.raises(ValueError, match="inference"):
        HierarchicalVAE(inference="sideways")
    with pytest.raises(ValueError, match="skip"):
        HierarchicalVAE(skip=1)
    with pytest.raises(ValueError, match="z2_dim"):
        HierarchicalVAE(z2_dim=0)
    model = HierarchicalVAE(z1_dim=2, z2_dim=1, hidden=(8,))
    with pytest.raises(ValueError, match=r"x: expected shape \[batch, 64\]"):
        model.elbo(torch.zeros(3, 10))
    with pytest.raises(ValueError, match="x: the categorical likelihood"):
        model.elbo(torch.full((3, 64), 0.5))
    with pytest.raises(ValueError, match="x: expected finite"):
        model.elbo(torch.full((3, 64), float("nan")))
    with pytest.raises(ValueError, match="free_bits"):
        fit_hierarchical(model, torch.zeros(4, 64), epochs=1, free_bits=-1.0)
    with pytest.raises(ValueError, match="free_bits"):
        fit_hierarchical(model, torch.zeros(4, 64), epochs=1, free_bits=(0.1, 0.2, 0.3))
    with pytest.raises(TypeError, match="model"):
        active_units_per_level(object(), torch.zeros(4, 64))
    with pytest.raises(ValueError, match="at least 2"):
        active_units_per_level(model, torch.zeros(1, 64))
    with pytest.raises(ValueError, match="s: expected strictly positive"):
        two_layer_toy(1.0, 0.0, 1.0)
    with pytest.raises(TypeError, match="HierarchicalPass"):
        hierarchical_elbo_terms((1, 2), "top-down")
