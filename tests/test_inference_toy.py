"""vae_support.inference on the toy models, where ELBOs and KLs are exact: fit_gaussian_q,
optimal_diagonal_gaussian, ascend_elbo_path, fit_normal."""
import math

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from vae_support.inference import ascend_elbo_path, fit_gaussian_q, fit_normal, optimal_diagonal_gaussian
from vae_support.toy import Grid1D

F64 = torch.float64


def test_full_family_reaches_the_exact_posterior(correlated):
    model, x = correlated
    fit = fit_gaussian_q(model, x, "full", steps=300, lr=0.05)
    post = model.posterior(x)
    assert float(kl_divergence(fit.q, post)) < 1e-8
    assert math.isclose(float(fit.elbo[-1]), float(model.log_marginal(x)), abs_tol=1e-8)
    assert fit.elbo.shape == (301,)
    assert float(fit.elbo[0]) == pytest.approx(float(model.elbo(x, model.prior())))


def test_diagonal_family_stops_at_the_analytic_optimum(correlated):
    model, x = correlated
    post = model.posterior(x)
    fit = fit_gaussian_q(model, x, "diagonal", steps=400, lr=0.05)
    best = optimal_diagonal_gaussian(post)
    torch.testing.assert_close(fit.q.mean, best.mean, atol=1e-6, rtol=0)
    torch.testing.assert_close(fit.q.variance, best.variance, atol=1e-6, rtol=0)
    # the minimal gap in closed form, 2-D: -1/2 log(1 - rho^2)
    cov = post.covariance_matrix
    rho = cov[0, 1] / (cov[0, 0] * cov[1, 1]).sqrt()
    gap = float(model.log_marginal(x) - fit.elbo[-1])
    assert gap == pytest.approx(float(-0.5 * torch.log1p(-rho**2)), abs=1e-8)
    assert gap > 0.5


def test_optimal_diagonal_beats_every_nearby_diagonal(correlated):
    model, x = correlated
    post = model.posterior(x)
    best = optimal_diagonal_gaussian(post)
    base = float(kl_divergence(MultivariateNormal(best.mean, torch.diag(best.variance)), post))
    for dv in ([1.1, 1.0], [1.0, 0.9], [1.2, 1.2]):
        cov = torch.diag(best.variance * torch.tensor(dv, dtype=torch.float64))
        assert float(kl_divergence(MultivariateNormal(best.mean, cov), post)) > base


def test_fit_rejects_bad_arguments(correlated):
    model, x = correlated
    with pytest.raises(ValueError, match="family"):
        fit_gaussian_q(model, x, "spherical")
    with pytest.raises(ValueError, match="steps"):
        fit_gaussian_q(model, x, steps=0)
    with pytest.raises(ValueError, match="lr"):
        fit_gaussian_q(model, x, lr=-1.0)
    with pytest.raises(ValueError, match="x"):
        fit_gaussian_q(model, x.expand(2, 3))
    with pytest.raises(TypeError, match="posterior"):
        optimal_diagonal_gaussian(model.prior())


def test_fit_restores_global_torch_settings(correlated):
    from torch.distributions import Distribution

    model, x = correlated
    threads, validate = torch.get_num_threads(), Distribution._validate_args
    fit_gaussian_q(model, x, "full", steps=3)
    assert torch.get_num_threads() == threads
    assert Distribution._validate_args == validate


def test_ascend_elbo_path_keeps_the_gap_identity_and_reaches_the_mean_field_optimum(lg):
    model, x = lg
    path = ascend_elbo_path(model, x, torch.tensor([-1.0, 3.0]), torch.tensor([1.0, 1.0]), steps=80, lr=0.2)
    assert path.mean.shape == (81, 2) and path.std.shape == (81, 2) and path.elbo.shape == (81,)
    torch.testing.assert_close(path.elbo + path.kl, path.log_px.expand(81), atol=1e-10, rtol=0)
    post = model.posterior(x)
    best = optimal_diagonal_gaussian(post)
    cov = post.covariance_matrix
    rho = cov[0, 1] / (cov[0, 0] * cov[1, 1]).sqrt()
    assert float(path.kl[-1]) == pytest.approx(-0.5 * math.log1p(-float(rho) ** 2), abs=1e-6)
    torch.testing.assert_close(path.mean[-1], post.mean, atol=1e-3, rtol=0)
    torch.testing.assert_close(path.std[-1], best.stddev, atol=1e-4, rtol=0)
    # the ELBO is concave in (m, log s): small steps never go down
    small = ascend_elbo_path(model, x, torch.tensor([-1.0, 3.0]), torch.tensor([1.0, 1.0]), steps=30, lr=0.05)
    assert (small.elbo[1:] - small.elbo[:-1] >= -1e-12).all()


def test_ascend_elbo_path_rejects_bad_input(lg):
    model, x = lg
    good = dict(mean0=torch.zeros(2), std0=torch.ones(2))
    with pytest.raises(TypeError, match="model"):
        ascend_elbo_path("model", x, **good)
    with pytest.raises(ValueError, match="steps"):
        ascend_elbo_path(model, x, steps=0, **good)
    with pytest.raises(ValueError, match="lr"):
        ascend_elbo_path(model, x, lr=-1.0, **good)
    with pytest.raises(ValueError, match="std0"):
        ascend_elbo_path(model, x, torch.zeros(2), torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="mean0"):
        ascend_elbo_path(model, x, torch.zeros(3), torch.ones(3))
    with pytest.raises(ValueError, match="x"):
        ascend_elbo_path(model, torch.ones(2, 1, dtype=F64), **good)


def test_fit_normal_recovers_a_gaussian_posterior_with_either_divergence(conjugate):
    grid, post = conjugate
    for divergence in ("reverse", "forward"):
        fit = fit_normal(grid, divergence, mean0=-1.0, std0=2.0, steps=300, lr=0.05)
        assert fit.mean == pytest.approx(0.5, abs=1e-3)
        assert fit.std == pytest.approx(math.sqrt(0.5), abs=1e-3)
        assert fit.divergence == pytest.approx(0.0, abs=1e-5)


def test_forward_kl_matches_moments_and_reverse_kl_picks_a_mode():
    grid = Grid1D.bimodal()
    post = grid.posterior_density()
    mean = float((post * grid.z).sum() * grid.dz)
    std = math.sqrt(float((post * (grid.z - mean) ** 2).sum() * grid.dz))
    forward = fit_normal(grid, "forward", steps=150, lr=0.1)
    assert forward.mean == pytest.approx(mean, abs=0.01)
    assert forward.std == pytest.approx(std, rel=0.01)
    right = fit_normal(grid, "reverse", mean0=1.0, steps=150, lr=0.1)
    left = fit_normal(grid, "reverse", mean0=-1.0, steps=150, lr=0.1)
    assert right.mean > 1.5 and left.mean < -1.5 and right.std < 0.5 * std
    assert right.divergence == pytest.approx(float(grid.kl(Normal(torch.tensor(right.mean, dtype=F64),
                                                                  torch.tensor(right.std, dtype=F64)))))
    assert right.divergence < left.divergence  # the heavier mode (more prior mass at z > 0) wins


def test_fit_normal_rejects_bad_input(conjugate):
    grid, _ = conjugate
    with pytest.raises(ValueError, match="divergence"):
        fit_normal(grid, "both")
    with pytest.raises(TypeError, match="grid"):
        fit_normal(object())
    with pytest.raises(ValueError, match="std0"):
        fit_normal(grid, std0=0.0)
