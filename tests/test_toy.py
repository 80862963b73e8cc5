"""Exact answers of vae_support.toy checked against independent computations."""
import math

import pytest
import torch
from torch.distributions import Independent, MultivariateNormal, Normal, kl_divergence

from vae_support.toy import Grid1D, LinearGaussian


pytestmark = pytest.mark.usefixtures("float64_default")


@pytest.fixture
def model():
    return LinearGaussian.random(x_dim=5, z_dim=3, noise_std=0.6, seed=11)


@pytest.fixture
def x(model):
    return model.sample(4, generator=torch.Generator().manual_seed(12))[0]


def random_gaussians(g, batch, d):
    a = torch.randn(batch, d, d, generator=g)
    full = MultivariateNormal(torch.randn(batch, d, generator=g), a @ a.transpose(-1, -2) + 0.3 * torch.eye(d))
    diag = Independent(Normal(torch.randn(batch, d, generator=g), torch.rand(batch, d, generator=g) + 0.2), 1)
    return full, diag


def test_log_marginal_by_bayes_rule_at_arbitrary_z(model, x):
    # log p(x) = log p(x, z) - log p(z | x) for every z: an identity independent of marginal().
    z = torch.randn(6, 4, 3, generator=torch.Generator().manual_seed(13))
    via_bayes = model.log_joint(x, z) - model.posterior(x).log_prob(z)
    torch.testing.assert_close(via_bayes, model.log_marginal(x).expand(6, 4))


def test_log_marginal_by_quadrature_in_one_dimension():
    m = LinearGaussian(torch.tensor([[1.5], [-0.5]]), torch.tensor([0.2, 1.0]), 0.8)
    x = torch.tensor([[1.0, 0.3], [-2.0, 2.0]])
    z = torch.linspace(-12, 12, 40_001)
    log_joint = m.log_joint(x, z.reshape(-1, 1, 1))
    quad = torch.logsumexp(log_joint, 0) + math.log(float(z[1] - z[0]))
    torch.testing.assert_close(quad, m.log_marginal(x))


def test_log_joint_shapes_follow_samples_and_batch(model, x):
    assert model.log_joint(x, torch.zeros(7, 4, 3)).shape == (7, 4)
    assert model.log_joint(x, torch.zeros(4, 3)).shape == (4,)


@pytest.mark.parametrize("family", ["full", "diag"])
def test_elbo_plus_kl_to_posterior_is_log_marginal(model, x, family):
    g = torch.Generator().manual_seed(14)
    full, diag = random_gaussians(g, 4, 3)
    q = full if family == "full" else diag
    m = q.mean
    cov = q.covariance_matrix if family == "full" else torch.diag_embed(q.variance)
    gap = kl_divergence(MultivariateNormal(m, cov), model.posterior(x))
    torch.testing.assert_close(model.elbo(x, q) + gap, model.log_marginal(x), rtol=1e-5, atol=0)
    assert (gap > 0).all()


def test_elbo_equals_log_marginal_at_the_exact_posterior(model, x):
    torch.testing.assert_close(model.elbo(x, model.posterior(x)), model.log_marginal(x), rtol=1e-10, atol=1e-10)


def test_closed_form_elbo_agrees_with_monte_carlo(model, x):
    torch.manual_seed(15)
    _, q = random_gaussians(torch.Generator().manual_seed(16), 4, 3)
    z = q.sample((50_000,))
    log_w = model.log_joint(x, z) - q.log_prob(z)
    stderr = log_w.std(0) / math.sqrt(z.shape[0])
    assert ((log_w.mean(0) - model.elbo(x, q)).abs() < 4 * stderr).all()


def test_samples_have_the_marginal_moments(model):
    xs, zs = model.sample(100_000, generator=torch.Generator().manual_seed(17))
    marginal = model.marginal()
    torch.testing.assert_close(xs.mean(0), marginal.mean, atol=0.05, rtol=0)
    torch.testing.assert_close(torch.cov(xs.T), marginal.covariance_matrix, atol=0.1, rtol=0.03)
    torch.testing.assert_close(torch.cov(zs.T), torch.eye(3), atol=0.02, rtol=0)


def conjugate_grid():
    # z ~ N(1, 2^2), x | z ~ N(z, 0.5^2), x = 2: posterior N(m, s^2) and evidence in closed form.
    prior = Normal(torch.tensor(1.0), torch.tensor(2.0))
    grid = Grid1D(prior, lambda z: Normal(z, 0.5), x=2.0, z_min=-10, z_max=12)
    s2 = 1 / (1 / 4 + 1 / 0.25)
    post = Normal(torch.tensor(s2 * (1 / 4 + 2 / 0.25)), torch.tensor(math.sqrt(s2)))
    evidence = Normal(torch.tensor(1.0), torch.tensor(math.sqrt(4 + 0.25))).log_prob(torch.tensor(2.0))
    return grid, post, evidence


def test_grid_evidence_and_posterior_match_conjugate_closed_form():
    grid, post, evidence = conjugate_grid()
    assert grid.log_marginal().item() == pytest.approx(evidence.item(), abs=1e-8)
    torch.testing.assert_close(grid.log_posterior(grid.z), post.log_prob(grid.z), atol=1e-7, rtol=0)


def test_grid_kls_match_closed_form_in_conjugate_model():
    grid, post, _ = conjugate_grid()
    q = Normal(torch.tensor([0.0, 2.0]), torch.tensor([1.0, 0.3]))
    torch.testing.assert_close(grid.kl(q), kl_divergence(q, post), atol=1e-7, rtol=0)
    torch.testing.assert_close(grid.forward_kl(q), kl_divergence(post, q), atol=1e-7, rtol=0)


def test_grid_posterior_probability_matches_the_conjugate_cdf():
    grid, post, _ = conjugate_grid()
    for lower, upper in ((0.0, math.inf), (1.0, 2.5), (-math.inf, 1.5)):
        want = float(post.cdf(torch.tensor(upper)) - post.cdf(torch.tensor(lower)))
        assert grid.posterior_probability(lower, upper).item() == pytest.approx(want, abs=2e-3)
    assert grid.posterior_probability().item() == pytest.approx(1.0, abs=1e-8)


@pytest.mark.parametrize("example", ["skewed", "bimodal"])
def test_named_grids_are_normalized_and_kl_agrees_with_monte_carlo(example):
    grid = getattr(Grid1D, example)()
    assert (grid.posterior_density().sum() * grid.dz).item() == pytest.approx(1.0, abs=1e-8)
    q = Normal(torch.tensor(1.5), torch.tensor(1.2))
    torch.manual_seed(18)
    z = q.sample((100_000,))
    log_ratio = q.log_prob(z) - grid.log_posterior(z)
    stderr = log_ratio.std() / math.sqrt(z.numel())
    assert abs(grid.kl(q) - log_ratio.mean()) < 4 * stderr
    torch.testing.assert_close(grid.elbo(q) + grid.kl(q), grid.log_marginal(), rtol=1e-6, atol=0)


def test_skewed_example_prefers_the_wide_candidate():
    # The notes' picture: N(2, 2) (variance 2) is closer to p(z|x) than N(-4, 0.75) (variance 0.75).
    grid = Grid1D.skewed()
    near = Normal(torch.tensor(2.0), torch.tensor(math.sqrt(2.0)))
    far = Normal(torch.tensor(-4.0), torch.tensor(math.sqrt(0.75)))
    assert grid.kl(near) < grid.kl(far)
    assert grid.elbo(near) > grid.elbo(far)
    post = grid.posterior_density()
    mean = (grid.z * post).sum() * grid.dz
    mode = grid.z[post.argmax()]
    assert mode < mean  # long right tail: the posterior is skewed


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: LinearGaussian(torch.ones(3), torch.zeros(3), 1.0), "W"),
        (lambda: LinearGaussian(torch.ones(3, 2), torch.zeros(2), 1.0), "b"),
        (lambda: LinearGaussian(torch.ones(3, 2), torch.zeros(3), 0.0), "noise_std"),
        (lambda: LinearGaussian(torch.ones(3, 2), torch.zeros(3), -1.0), "noise_std"),
        (lambda: LinearGaussian(torch.ones(3, 2), torch.zeros(3), float("nan")), "noise_std"),
        (lambda: LinearGaussian.random(3, 2).log_marginal(torch.zeros(4, 2)), "x: expected shape"),
        (lambda: LinearGaussian.random(3, 2).log_joint(torch.zeros(4, 3), torch.zeros(4, 3)), "z: expected shape"),
        (lambda: LinearGaussian.random(3, 2).posterior(torch.tensor([[float("nan"), 0.0, 0.0]])), "x: expected finite"),
        (lambda: LinearGaussian.random(3, 2).sample(0), "n"),
        (lambda: Grid1D(Normal(0.0, 1.0), lambda z: Normal(z, 1.0), x=0.0, z_min=-1.0, z_max=1.0), "widen the grid"),
        (lambda: Grid1D(Normal(0.0, 1.0), lambda z: Normal(z, 1.0), x=0.0, z_min=1.0, z_max=-1.0), "z_min"),
        (lambda: Grid1D(Normal(0.0, 1.0), lambda z: Normal(z, 1.0), x=float("inf")), "x"),
        (lambda: Grid1D(Normal(torch.zeros(2), 1.0), lambda z: Normal(z, 1.0), x=0.0), "prior"),
        (lambda: Grid1D.skewed().kl(Independent(Normal(torch.zeros(1), 1.0), 1)), "q"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_elbo_rejects_non_gaussian_q(model, x):
    from torch.distributions import StudentT
    with pytest.raises(TypeError, match="q: expected a MultivariateNormal"):
        model.elbo(x, Independent(StudentT(3.0, torch.zeros(4, 3), 1.0), 1))
