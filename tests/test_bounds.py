"""vae_support.bounds on the linear-Gaussian model, where log p(x) and the ELBO are exact."""
import math

import pytest
import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal, kl_divergence

from vae_support.bounds import beta_elbo, elbo, elbo_terms, iwae_bound, iwae_bounds_by_k, log_weights
from vae_support.toy import LinearGaussian


pytestmark = pytest.mark.usefixtures("float64_default")


@pytest.fixture
def model():
    return LinearGaussian.random(x_dim=4, z_dim=2, noise_std=0.7, seed=0)


@pytest.fixture
def x(model):
    return model.sample(3, generator=torch.Generator().manual_seed(1))[0]


def diag_q(x, shift=0.4, scale=0.8):
    return Independent(Normal(torch.full((x.shape[0], 2), shift), torch.full((x.shape[0], 2), scale)), 1)


def sampled_log_w(model, x, q, n):
    z = q.sample((n,))
    return log_weights(model.likelihood(z).log_prob(x), model.prior().log_prob(z), q.log_prob(z))


def test_log_weights_is_the_sum_of_its_parts():
    a, b, c = torch.tensor([[1.0, -2.0]]), torch.tensor([[0.5, 0.25]]), torch.tensor([[3.0, -1.0]])
    torch.testing.assert_close(log_weights(a, b, c), torch.tensor([[-1.5, -0.75]]))


def test_monte_carlo_elbo_converges_to_closed_form(model, x):
    torch.manual_seed(2)
    q = diag_q(x)
    log_w = sampled_log_w(model, x, q, 40_000)
    estimate, stderr = elbo(log_w), log_w.std(0) / math.sqrt(log_w.shape[0])
    exact = model.elbo(x, q)
    assert estimate.shape == (3,)
    assert ((estimate - exact).abs() < 4 * stderr).all()
    assert (exact < model.log_marginal(x)).all()


def test_elbo_terms_split_matches_closed_forms(model, x):
    torch.manual_seed(3)
    q = diag_q(x, shift=-0.2, scale=0.5)
    z = q.sample((40_000,))
    terms = elbo_terms(model.likelihood(z).log_prob(x), q, model.prior())
    torch.testing.assert_close(terms.kl, kl_divergence(q, model.prior()))
    torch.testing.assert_close(terms.elbo, terms.reconstruction - terms.kl)
    torch.testing.assert_close(terms.reconstruction, model.expected_log_likelihood(x, q), rtol=0, atol=0.05)


def test_elbo_terms_falls_back_to_monte_carlo_kl_when_no_closed_form(model, x):
    torch.manual_seed(4)
    q = diag_q(x)
    # A mixture prior has no registered closed-form KL.
    prior = MixtureSameFamily(Categorical(torch.tensor([0.5, 0.5])),
                              Independent(Normal(torch.tensor([[-1.0, 0.0], [1.0, 0.0]]), torch.ones(2, 2)), 1))
    z = q.sample((50_000,))
    log_px_z = model.likelihood(z).log_prob(x)
    with pytest.raises(ValueError, match="z: no closed-form KL"):
        elbo_terms(log_px_z, q, prior)
    terms = elbo_terms(log_px_z, q, prior, z=z)
    log_ratio = q.log_prob(z) - prior.log_prob(z)
    assert ((terms.kl - log_ratio.mean(0)).abs() < 1e-12).all()
    assert (terms.kl > 0).all()


def test_beta_elbo_weights_the_kl():
    rec, kl = torch.tensor([-10.0, -3.0]), torch.tensor([2.0, 0.5])
    torch.testing.assert_close(beta_elbo(rec, kl, beta=1.0), torch.tensor([-12.0, -3.5]))
    torch.testing.assert_close(beta_elbo(rec, kl, beta=4.0), torch.tensor([-18.0, -5.0]))
    torch.testing.assert_close(beta_elbo(rec, kl, beta=0.0), rec)


def test_iwae_with_one_sample_is_the_elbo_and_is_stable():
    log_w = torch.tensor([[-1000.0, 3.0, -2.5]])
    torch.testing.assert_close(iwae_bound(log_w), elbo(log_w))
    huge = torch.tensor([[-1000.0], [-1001.0]])
    expected = -1000.0 + math.log((1 + math.exp(-1.0)) / 2)
    assert iwae_bound(huge).item() == pytest.approx(expected, rel=1e-12)


def test_iwae_is_exact_when_q_is_the_posterior(model, x):
    torch.manual_seed(5)
    post = model.posterior(x)
    z = post.sample((7,))
    log_w = log_weights(model.likelihood(z).log_prob(x), model.prior().log_prob(z), post.log_prob(z))
    torch.testing.assert_close(iwae_bound(log_w), model.log_marginal(x))
    torch.testing.assert_close(elbo(log_w), model.log_marginal(x))


def test_iwae_expectation_increases_with_k_toward_log_marginal(model, x):
    torch.manual_seed(6)
    q = diag_q(x, shift=0.0, scale=1.0)
    means = []
    for k in (1, 10, 100, 1000):
        reps = torch.stack([iwae_bound(sampled_log_w(model, x, q, k)) for _ in range(200)])
        means.append(reps.mean(0))
    means = torch.stack(means)  # [K values, batch]
    assert (means[1:] >= means[:-1] - 0.02).all()
    gap_1000 = model.log_marginal(x) - means[-1]
    gap_1 = model.log_marginal(x) - means[0]
    assert (gap_1000 >= -0.02).all() and (gap_1000 < 0.2 * gap_1).all()


def test_iwae_bounds_by_k_matches_hand_computed_groups():
    log_w = torch.tensor([[0.0, 1.0], [2.0, -1.0], [1.0, 0.0], [-3.0, 2.0]])  # N=4, batch 2
    got = iwae_bounds_by_k(log_w, [1, 2, 4])
    assert got.shape == (3, 2)
    torch.testing.assert_close(got[0], log_w.mean(0))  # K=1: the ELBO estimate of each point

    def lme(*v):
        return torch.logsumexp(torch.tensor(v), 0) - math.log(len(v))

    # groups of consecutive rows: (0, 1) and (2, 3), per data point (column)
    torch.testing.assert_close(got[1], torch.stack([(lme(0.0, 2.0) + lme(1.0, -3.0)) / 2, (lme(1.0, -1.0) + lme(0.0, 2.0)) / 2]))
    torch.testing.assert_close(got[2], torch.stack([lme(0.0, 2.0, 1.0, -3.0), lme(1.0, -1.0, 0.0, 2.0)]))
    with pytest.raises(ValueError, match="divisors"):
        iwae_bounds_by_k(log_w, [3])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: log_weights(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3, 2)), "log_qz_x"),
        (lambda: log_weights(torch.tensor([[float("nan")]]), torch.zeros(1, 1), torch.zeros(1, 1)), "log_px_z"),
        (lambda: elbo(torch.tensor(1.0)), "log_w"),
        (lambda: iwae_bound(torch.tensor([[float("nan")]])), "log_w"),
        (lambda: beta_elbo(torch.zeros(2), torch.ones(2), beta=-1.0), "beta"),
        (lambda: beta_elbo(torch.zeros(2), -torch.ones(2)), "kl"),
        (lambda: beta_elbo(torch.zeros(2), torch.ones(3)), "reconstruction"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
