"""Regression tests of issue 12: every silently wrong answer found by the hostile-input battery, one test each."""
import math

import pytest
import torch
from torch.distributions import Normal

from vae_support import bounds, data, gradients, kl, latent
from vae_support.distributions import VampPrior, categorical_likelihood, pixel_mean
from vae_support.inference import fit_normal
from vae_support.models import VAE, DiscreteVAE
from vae_support.toy import Grid1D
from vae_support.train import NonFiniteLossError, fit
from vae_support.widgets import q_explorer_state

from test_models import one_thread  # noqa: F401  (autouse: tiny models run on one thread)

F64 = torch.float64


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return VAE(hidden=(8,), z_dim=2)


@pytest.fixture(scope="module")
def x():
    return data.load_digits().train.x[:20]


# ------------------------------------------------------------------------------- models
@pytest.mark.parametrize("value", [3.5, 17.0, -1.0, math.nan])
def test_the_categorical_likelihood_refuses_a_value_that_is_not_a_level(value):
    lik = categorical_likelihood(torch.zeros(2, 17))
    with pytest.raises(ValueError, match="value"):
        lik.log_prob(torch.tensor([value, 1.0]))
    unvalidated = categorical_likelihood(torch.zeros(2, 17), validate_args=False)  # the models' training loop
    log_p = unvalidated.log_prob(torch.tensor([value, 1.0]))
    assert torch.isnan(log_p)  # never level 3, never an IndexError: NaN, which fit's guard reports


def test_the_unvalidated_categorical_likelihood_still_scores_levels_exactly():
    logits = torch.randn(3, 17)
    lik = categorical_likelihood(logits, validate_args=False)
    value = torch.tensor([0.0, 16.0, 7.0])
    want = torch.log_softmax(logits, -1)[torch.arange(3), value.long()].sum()
    torch.testing.assert_close(lik.log_prob(value), want)


@pytest.mark.parametrize("value", [3.5, 17.0, -1.0])
def test_the_models_refuse_pixels_that_are_not_levels(model, value):
    x = torch.zeros(2, 64)
    x[0, 3] = value
    with pytest.raises(ValueError, match=r"^x: the categorical likelihood needs integer pixels in 0\.\.16"):
        model.elbo(x)
    with pytest.raises(ValueError, match="value"):
        model.decode(torch.zeros(2, 2)).log_prob(x)  # the public decoder validates too


@pytest.mark.parametrize("augment, message", [(lambda b: b + 0.5, "augment.*integer pixels"),
                                              (lambda b: b * math.nan, "augment.*finite"),
                                              (lambda b: b[:, :10], "augment: expected a tensor of shape")])
def test_an_augmentation_leaving_the_support_is_refused(x, augment, message):
    with pytest.raises(ValueError, match=message):
        fit(VAE(hidden=(8,), z_dim=2), x, epochs=1, batch_size=10, progress=False, augment=augment)


def test_nan_in_the_forward_pass_under_the_categorical_likelihood_stops_with_nonfinite_loss_error(x):
    torch.manual_seed(0)
    m = VAE(hidden=(8,), z_dim=2)
    real = m.forward_pass

    def poisoned(xb, *args, **kw):  # data turned NaN after the checks (check=False inside fit)
        return real(xb * math.nan, *args, **kw)

    m.forward_pass = poisoned
    with pytest.raises(NonFiniteLossError, match="epoch 1, step 1"):
        fit(m, x, epochs=1, batch_size=10, progress=False)


# ---------------------------------------------------------------------- bounds, gradients
def test_elbo_terms_of_no_samples_are_refused_and_of_no_points_are_empty(model):
    q, p = model.encode(torch.zeros(3, 64)), model.prior_distribution()
    with pytest.raises(ValueError, match="^log_px_z: expected at least one sample"):
        bounds.elbo_terms(torch.zeros(0, 3), q, p)
    for t in model.elbo_terms(torch.zeros(0, 64), k=2):
        assert t.shape == (0,)


def test_leave_one_out_baseline_with_a_minus_inf_entry():
    b = gradients.leave_one_out_baseline(torch.tensor([[-math.inf], [2.0], [3.0]]))
    assert float(b[0, 0]) == 2.5
    assert b[1, 0] == -math.inf and b[2, 0] == -math.inf  # the mean of others that include a -inf


def test_vimco_gradients_at_a_minus_inf_log_weight_are_the_limit_of_a_very_small_one():
    def grads(first):
        log_w = torch.tensor([[first], [1.0], [2.0]], dtype=F64, requires_grad=True)
        log_q = torch.tensor([[0.1], [0.2], [0.3]], dtype=F64, requires_grad=True)
        gradients.vimco_surrogate(log_w, log_q).sum().backward()
        return log_w.grad, log_q.grad

    at_inf, near = grads(-math.inf), grads(-1e4)
    for a, b in zip(at_inf, near):
        assert torch.isfinite(a).all()
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("call", [
    lambda: gradients.reparameterization_surrogate(torch.tensor([[math.nan]])),
    lambda: gradients.score_function_surrogate(torch.tensor([[math.nan]]), torch.zeros(1, 1)),
    lambda: gradients.score_function_surrogate(torch.zeros(1, 1), torch.tensor([[math.nan]])),
    lambda: gradients.iwae_surrogate(torch.tensor([[math.nan], [0.0]])),
    lambda: gradients.vimco_surrogate(torch.tensor([[math.nan], [0.0]]), torch.zeros(2, 1)),
    lambda: gradients.vimco_surrogate(torch.zeros(2, 1), torch.tensor([[math.nan], [0.0]])),
])
def test_surrogates_of_nan_inputs_are_refused(call):
    with pytest.raises(ValueError, match=r"^(f_z|log_q|log_w): expected"):
        call()


@pytest.mark.parametrize("lim", [math.nan, math.inf, -1.0, 0.0])
def test_reparameterize_grid_refuses_a_bad_lim(lim):
    with pytest.raises(ValueError, match="^lim: expected a (finite )?number"):
        gradients.reparameterize_grid(torch.zeros(2), torch.eye(2), lim=lim)


# ------------------------------------------------------------------------------------ kl
def test_gaussian_kl_in_float16_returns_a_kl_that_float16_holds():
    value = kl.gaussian_kl(torch.tensor([300.0], dtype=torch.float16), torch.zeros(1, dtype=torch.float16))
    assert value.dtype == torch.float16
    assert float(value) == pytest.approx(45000, rel=1e-3)  # 300² / 2; float16 rounds to 45 000 exactly


# ------------------------------------------------------------------ toy, inference, widgets
@pytest.fixture(scope="module")
def skewed():
    return Grid1D.skewed()


def test_grid_kl_of_a_q_outside_the_grid_is_refused(skewed):
    with pytest.raises(ValueError, match="^q: q's probability on the grid .* sums to 0"):
        skewed.kl(Normal(torch.tensor(100.0, dtype=F64), torch.tensor(1.0, dtype=F64)))
    with pytest.raises(ValueError, match="^q: "):
        skewed.elbo(Normal(torch.tensor(2.0, dtype=F64), torch.tensor(1e-10, dtype=F64)))


def test_posterior_probability_refuses_nan_ends(skewed):
    with pytest.raises(ValueError, match="^lower: expected a real number or ±inf, got NaN"):
        skewed.posterior_probability(math.nan, 5)
    with pytest.raises(ValueError, match="^lower, upper: expected lower <= upper"):
        skewed.posterior_probability(5, 1)
    assert float(skewed.posterior_probability(-math.inf, math.inf)) == pytest.approx(1.0, abs=1e-9)


def test_a_grid_whose_likelihood_is_zero_everywhere_is_refused():
    prior = Normal(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))
    with pytest.raises(ValueError, match="^likelihood: p\\(x\\|z\\) p\\(z\\) is 0 at every grid point"):
        Grid1D(prior, lambda z: torch.distributions.Uniform(z + 100, z + 101, validate_args=False), x=1.0)
    with pytest.raises(ValueError, match="^likelihood: "):  # torch refuses x outside the support at every z
        Grid1D(prior, lambda z: torch.distributions.Uniform(z + 100, z + 101), x=1.0)


def test_fit_normal_refuses_a_start_the_grid_cannot_resolve(skewed):
    with pytest.raises(ValueError, match="^mean0, std0: "):
        fit_normal(skewed, "reverse", 2.0, 1e-10)
    fit = fit_normal(skewed, "reverse", 2.0, 0.5, steps=50)
    q = Normal(torch.tensor(fit.mean, dtype=F64), torch.tensor(fit.std, dtype=F64))
    assert fit.divergence == pytest.approx(float(skewed.kl(q))) and fit.divergence > 0


@pytest.mark.parametrize("mean, std", [(1e4, 1.0), (2.0, 1e-9), (2.0, 1e4)])
def test_the_q_explorer_refuses_extreme_sliders_instead_of_kl_zero(skewed, mean, std):
    with pytest.raises(ValueError, match="^mean, std: "):
        q_explorer_state(skewed, mean, std)


def test_the_q_explorer_keeps_its_identity(skewed):
    s = q_explorer_state(skewed, 2.0, 1.2)
    assert s.kl > 0 and s.elbo < s.log_px
    assert s.gap == pytest.approx(s.kl, abs=1e-8)


# --------------------------------------------------------------------------------- latent
def test_quantile_grid_at_a_tiny_eps_is_finite():
    z = latent.gaussian_quantile_grid(3, 1e-300)
    assert torch.isfinite(z).all()
    assert float(z[0]) == pytest.approx(-37.0471, abs=1e-3) and float(z[1]) == 0 and float(z[2]) == -float(z[0])
    torch.testing.assert_close(latent.gaussian_quantile_grid(5, 1e-12),  # the erfinv form, where it is finite
                               Normal(0.0, 1.0).icdf(torch.linspace(1e-12, 1 - 1e-12, 5, dtype=F64)).float())


def test_class_means_refuse_nan_labels():
    with pytest.raises(ValueError, match="^labels: expected whole-number class labels"):
        latent.class_means(torch.zeros(3, 2), torch.tensor([0.0, math.nan, 1.0]))


def test_transfer_codes_refuse_a_fractional_target():
    z, y = torch.randn(4, 2), torch.tensor([0, 0, 1, 1])
    classes, means = latent.class_means(z, y)
    with pytest.raises(ValueError, match="^target: expected whole-number class labels"):
        latent.transfer_codes(z, y, classes, means, target=1.7)
    moved = latent.transfer_codes(z, y, classes, means, target=1)
    torch.testing.assert_close(moved, z - means[y] + means[1])


def test_total_correlation_refuses_a_non_symmetric_covariance():
    for cov in (torch.tensor([[1.0, 0.0], [0.5, 1.0]]), torch.tensor([[1.0, 0.5], [0.0, 1.0]])):
        with pytest.raises(ValueError, match="^cov: expected a symmetric covariance matrix"):
            latent.gaussian_total_correlation(cov)
    rho = 0.5
    value = latent.gaussian_total_correlation(torch.tensor([[1.0, rho], [rho, 1.0]]))
    assert float(value) == pytest.approx(-0.5 * math.log(1 - rho ** 2))


# ----------------------------------------------------------------------------------- data
def test_split_in_order_refuses_negative_sizes_and_unequal_lengths():
    x, y = torch.zeros(10, 4), torch.arange(10)
    with pytest.raises(ValueError, match="^sizes: expected an integer >= 0"):
        data.split_in_order(x, y, (12, -3, 0))
    with pytest.raises(ValueError, match="^x, y: expected the same number of images and labels"):
        data.split_in_order(x, y[:7], (5, 2, 0))
    split = data.split_in_order(x, y, (5, 3, 2))
    assert [len(s.y) for s in split] == [5, 3, 2] and split.test.y.tolist() == [8, 9]


# -------------------------------------------------------------------------- distributions
def test_pixel_mean_of_a_tensor_is_refused():
    with pytest.raises(TypeError, match="^likelihood: expected a torch.distributions.Distribution"):
        pixel_mean(torch.zeros(3))


@pytest.mark.parametrize("scale", [math.nan, math.inf, 0.0, -1.0])
def test_vamp_prior_refuses_a_bad_init_scale(scale):
    with pytest.raises(ValueError, match="^init_scale: expected a (finite )?number"):
        VampPrior(4, 2, init_scale=scale)


# ---------------------------------------------------------------------------------- train
@pytest.mark.parametrize("objective", ["elbo", "iwae"])
def test_a_discrete_vae_is_refused_by_objectives_that_need_reparameterization(x, objective):
    with pytest.raises(ValueError, match="^objective: .*cannot.*'vimco'"):
        fit(DiscreteVAE(hidden=(8,), z_dim=2), x, epochs=1, objective=objective, k=2, progress=False)
    h = fit(DiscreteVAE(hidden=(8,), z_dim=2), x, epochs=1, batch_size=10, objective="vimco", k=2, progress=False)
    assert h.epoch == [1]
