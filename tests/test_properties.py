"""Property-based tests (Hypothesis): invariants on random valid input, clear errors on random invalid input."""
import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch.distributions import Independent, MultivariateNormal, Normal, kl_divergence

from vae_support import bounds, gradients, kl, latent
from vae_support.distributions import categorical_likelihood, diagonal_gaussian
from vae_support.models import VAE
from vae_support.toy import Grid1D, LinearGaussian

F64 = torch.float64
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
reals = st.floats(-5, 5, allow_nan=False, allow_infinity=False, width=64)
log_vars = st.floats(-3, 3, allow_nan=False, allow_infinity=False, width=64)


def arrays(shape, elements=reals):
    return hnp.arrays(np.float64, shape, elements=elements).map(torch.from_numpy)


@st.composite
def gaussian_pairs(draw):
    d = draw(st.integers(1, 4))
    batch = draw(st.integers(1, 3))
    return [draw(arrays((batch, d), e)) for e in (reals, log_vars, reals, log_vars)]


@st.composite
def spd(draw, d):
    a = draw(arrays((d, d), st.floats(-2, 2, allow_nan=False, width=64)))
    return a @ a.T + 0.5 * torch.eye(d, dtype=F64)


# ----------------------------------------------------------------------------- valid input
@SETTINGS
@given(gaussian_pairs())
def test_diagonal_kl_is_torchs_nonnegative_and_zero_only_at_equality(params):
    mu_q, lv_q, mu_p, lv_p = params
    value = kl.gaussian_kl(mu_q, lv_q, mu_p, lv_p)
    q = Independent(Normal(mu_q, (0.5 * lv_q).exp()), 1)
    p = Independent(Normal(mu_p, (0.5 * lv_p).exp()), 1)
    torch.testing.assert_close(value, kl_divergence(q, p))
    assert (value >= -1e-12).all()
    assert (kl.gaussian_kl(mu_q, lv_q, mu_q, lv_q).abs() <= 1e-12).all()
    differs = ((mu_q - mu_p).abs() > 1e-3) | ((lv_q - lv_p).abs() > 1e-3)
    assert (value[differs.any(-1)] > 0).all()


@SETTINGS
@given(st.integers(1, 3).flatmap(lambda d: st.tuples(arrays((d,)), spd(d), arrays((d,)), spd(d))))
def test_full_kl_is_torchs_and_nonnegative(params):
    mu_q, cov_q, mu_p, cov_p = params
    value = kl.full_gaussian_kl(mu_q, cov_q, mu_p, cov_p)
    torch.testing.assert_close(value, kl_divergence(MultivariateNormal(mu_q, cov_q), MultivariateNormal(mu_p, cov_p)))
    assert value >= -1e-9
    assert abs(float(kl.full_gaussian_kl(mu_q, cov_q, mu_q, cov_q))) < 1e-9


@SETTINGS
@given(st.tuples(st.integers(1, 8), st.integers(1, 4)).flatmap(
    lambda shape: arrays(shape, st.floats(-50, 5, allow_nan=False, width=64))))
def test_iwae_bound_is_at_least_the_elbo_and_their_shapes_are_per_point(log_w):
    iwae, elbo = bounds.iwae_bound(log_w), bounds.elbo(log_w)
    assert iwae.shape == elbo.shape == log_w.shape[1:]
    assert (iwae >= elbo - 1e-9).all()  # Jensen: log mean exp >= mean log
    equal = (log_w == log_w[0]).all(0)
    torch.testing.assert_close(iwae[equal], elbo[equal])


@SETTINGS
@given(arrays((4, 2), st.floats(-50, 5, allow_nan=False, width=64)), st.integers(0, 3), st.integers(0, 1))
def test_a_minus_inf_log_weight_is_a_zero_weight(log_w, row, col):
    with_zero = log_w.clone()
    with_zero[row, col] = -math.inf
    others = torch.cat([log_w[:row, col], log_w[row + 1:, col]])
    expected = torch.logsumexp(others, 0) - math.log(4)
    torch.testing.assert_close(bounds.iwae_bound(with_zero)[col], expected)
    baseline = gradients.leave_one_out_baseline(with_zero)
    torch.testing.assert_close(baseline[row, col], others.mean())


@SETTINGS
@given(st.integers(0, 2**31 - 1), arrays((2,)), arrays((2,), st.floats(0.2, 2, width=64)),
       st.floats(-0.9, 0.9, width=64))
def test_linear_gaussian_log_px_is_elbo_plus_kl(seed, mean, std, rho):
    model = LinearGaussian.random(x_dim=3, z_dim=2, seed=seed % 1000)
    x, _ = model.sample(1, generator=torch.Generator().manual_seed(seed))
    x = x[0]
    cov = torch.tensor([[1.0, rho], [rho, 1.0]], dtype=F64) * torch.outer(std, std)
    q = MultivariateNormal(mean, cov)
    post = model.posterior(x)
    gap = kl.full_gaussian_kl(mean, cov, post.mean, post.covariance_matrix)
    torch.testing.assert_close(model.log_marginal(x), model.elbo(x, q) + gap)


GRID = None


def _grid():
    global GRID
    if GRID is None:
        GRID = Grid1D.skewed()
    return GRID


@SETTINGS
@given(st.floats(-4, 6, width=64), st.floats(0.2, 3, width=64))
def test_grid_log_px_is_elbo_plus_kl(mean, std):
    g = _grid()
    assume(float(g.z[0]) < mean - 6 * std and mean + 6 * std < float(g.z[-1]))  # q's mass on the grid to 1e-9
    q = Normal(torch.tensor(mean, dtype=F64), torch.tensor(std, dtype=F64))
    value = g.kl(q)
    assert value >= -1e-9
    torch.testing.assert_close(g.log_marginal(), g.elbo(q) + value, atol=1e-7, rtol=0)


@SETTINGS
@given(st.integers(2, 12), st.floats(1e-300, 0.49))
def test_quantile_grids_are_finite_increasing_and_symmetric(n, eps):
    z = latent.gaussian_quantile_grid(n, eps)
    assert z.shape == (n,) and torch.isfinite(z).all()
    assert (z[1:] > z[:-1]).all()
    torch.testing.assert_close(z, -z.flip(0), atol=1e-5, rtol=1e-5)


# --------------------------------------------------------------------------- invalid input
@st.composite
def poisoned(draw, shape=(4, 3)):
    t = draw(arrays(shape))
    index = tuple(draw(st.integers(0, s - 1)) for s in shape)
    t[index] = draw(st.sampled_from([math.nan, math.inf]))
    return t


@SETTINGS
@given(poisoned(), st.sampled_from(["log_px_z", "log_pz", "log_qz_x"]))
def test_a_nan_or_inf_log_density_is_refused_by_name(bad, name):
    args = {"log_px_z": torch.zeros(4, 3, dtype=F64), "log_pz": torch.zeros(4, 3, dtype=F64),
            "log_qz_x": torch.zeros(4, 3, dtype=F64), name: bad}
    with pytest.raises(ValueError, match=f"^{name}: expected finite values"):
        bounds.log_weights(**args)


@SETTINGS
@given(poisoned((3, 2)), st.sampled_from(["mu_q", "logvar_q", "mu_p", "logvar_p"]))
def test_a_nan_or_inf_gaussian_parameter_is_refused_by_name(bad, name):
    args = {k: torch.zeros(3, 2, dtype=F64) for k in ("mu_q", "logvar_q", "mu_p", "logvar_p")}
    args[name] = bad
    with pytest.raises(ValueError, match=f"^{name}: expected finite values"):
        kl.gaussian_kl(**args)


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4))
def test_mismatched_shapes_are_refused_naming_each_argument(a, b, c, d):
    assume((a, b) != (c, d))
    with pytest.raises(ValueError, match=r"log_px_z \(.*log_pz \(.*log_qz_x"):
        bounds.log_weights(torch.zeros(a, b), torch.zeros(c, d), torch.zeros(a, b))


@SETTINGS
@given(arrays((3,), st.floats(-5, 0, width=64)))
def test_a_non_positive_scale_is_refused_by_name(scale):
    with pytest.raises(ValueError, match="scale"):
        diagonal_gaussian(torch.zeros(3, dtype=F64), scale)


@SETTINGS
@given(st.sampled_from([torch.complex64, torch.complex128]), st.sampled_from(["log_w", "f_z"]))
def test_complex_tensors_are_refused_by_name(dtype, name):
    fn = bounds.elbo if name == "log_w" else gradients.reparameterization_surrogate
    with pytest.raises(TypeError, match=f"^{name}: expected real numbers"):
        fn(torch.zeros(3, 2, dtype=dtype))


@SETTINGS
@given(st.integers(0, 5), st.sampled_from([bounds.elbo, bounds.iwae_bound, gradients.iwae_surrogate]))
def test_zero_samples_are_refused_and_zero_points_give_empty_results(batch, fn):
    with pytest.raises(ValueError, match="^log_w: expected at least one sample"):
        fn(torch.zeros(0, batch))
    assert fn(torch.zeros(3, 0)).shape == (0,)


@SETTINGS
@given(st.one_of(st.floats(-100, 100, width=32).filter(lambda v: v != round(v) or not 0 <= v <= 16),
                 st.just(math.nan), st.just(math.inf)))
def test_pixels_outside_the_levels_are_refused(value):
    lik = categorical_likelihood(torch.zeros(2, 17))
    with pytest.raises(ValueError, match="value"):
        lik.log_prob(torch.tensor([value, 0.0]))
    model = _model()
    x = torch.zeros(2, 64)
    x[1, 5] = value
    with pytest.raises(ValueError, match="^x: "):
        model.elbo(x)


MODEL = None


def _model():
    global MODEL
    if MODEL is None:
        torch.manual_seed(0)
        MODEL = VAE(hidden=(8,), z_dim=2)
    return MODEL
