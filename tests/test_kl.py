"""vae_support.kl against torch.distributions and against its own Monte Carlo estimator."""
import pytest
import torch
from torch.distributions import Independent, MultivariateNormal, Normal, StudentT, kl_divergence

from vae_support.kl import full_gaussian_kl, gaussian_kl, kl_mean_gradient, monte_carlo_kl


pytestmark = pytest.mark.usefixtures("float64_default")
F64 = torch.float64


def diag_normal(mu, logvar):
    return Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)


def random_spd(g, batch, d):
    a = torch.randn(*batch, d, d, generator=g)
    return a @ a.transpose(-1, -2) + 0.5 * torch.eye(d)


def test_gaussian_kl_matches_library_on_random_batches():
    g = torch.Generator().manual_seed(0)
    mu_q, lv_q, mu_p, lv_p = (torch.randn(7, 5, generator=g) for _ in range(4))
    expected = kl_divergence(diag_normal(mu_q, lv_q), diag_normal(mu_p, lv_p))
    torch.testing.assert_close(gaussian_kl(mu_q, lv_q, mu_p, lv_p), expected)


def test_gaussian_kl_defaults_to_standard_normal_prior():
    g = torch.Generator().manual_seed(1)
    mu, lv = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    expected = kl_divergence(diag_normal(mu, lv), diag_normal(torch.zeros(3), torch.zeros(3)))
    torch.testing.assert_close(gaussian_kl(mu, lv), expected)


def test_gaussian_kl_hand_computed_value_and_zero_at_equality():
    # KL(N(1, 1) || N(0, 1)) = 1/2 per dimension; two dimensions give 1 nat.
    assert gaussian_kl(torch.ones(2), torch.zeros(2)).item() == pytest.approx(1.0)
    mu, lv = torch.tensor([0.3, -2.0]), torch.tensor([0.1, 1.5])
    assert gaussian_kl(mu, lv, mu, lv).item() == pytest.approx(0.0, abs=1e-12)


def test_gaussian_kl_broadcasts_prior_over_batch():
    g = torch.Generator().manual_seed(2)
    mu_q, lv_q = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    mu_p, lv_p = torch.randn(4, generator=g), torch.randn(4, generator=g)
    expected = kl_divergence(diag_normal(mu_q, lv_q), diag_normal(mu_p.expand(6, 4), lv_p.expand(6, 4)))
    torch.testing.assert_close(gaussian_kl(mu_q, lv_q, mu_p, lv_p), expected)


def test_full_gaussian_kl_matches_library():
    g = torch.Generator().manual_seed(3)
    d = 4
    mu_q, mu_p = torch.randn(5, d, generator=g), torch.randn(5, d, generator=g)
    cov_q, cov_p = random_spd(g, (5,), d), random_spd(g, (5,), d)
    expected = kl_divergence(MultivariateNormal(mu_q, cov_q), MultivariateNormal(mu_p, cov_p))
    torch.testing.assert_close(full_gaussian_kl(mu_q, cov_q, mu_p, cov_p), expected)


def test_full_gaussian_kl_reduces_to_diagonal_formula():
    g = torch.Generator().manual_seed(4)
    mu_q, lv_q, mu_p, lv_p = (torch.randn(3, 6, generator=g) for _ in range(4))
    full = full_gaussian_kl(mu_q, torch.diag_embed(lv_q.exp()), mu_p, torch.diag_embed(lv_p.exp()))
    torch.testing.assert_close(full, gaussian_kl(mu_q, lv_q, mu_p, lv_p))


def test_full_gaussian_kl_broadcasts_a_single_prior():
    g = torch.Generator().manual_seed(5)
    mu_q, cov_q = torch.randn(3, 2, generator=g), random_spd(g, (3,), 2)
    mu_p, cov_p = torch.zeros(2), torch.eye(2)
    expected = kl_divergence(MultivariateNormal(mu_q, cov_q), MultivariateNormal(mu_p, cov_p))
    torch.testing.assert_close(full_gaussian_kl(mu_q, cov_q, mu_p, cov_p), expected)


@pytest.mark.parametrize("case", ["diagonal", "full"])
def test_monte_carlo_kl_within_four_standard_errors_of_closed_form(case):
    torch.manual_seed(6)
    g = torch.Generator().manual_seed(6)
    if case == "diagonal":
        q = diag_normal(torch.randn(8, 3, generator=g), torch.randn(8, 3, generator=g))
        p = diag_normal(torch.randn(8, 3, generator=g), torch.randn(8, 3, generator=g))
    else:
        q = MultivariateNormal(torch.randn(8, 3, generator=g), random_spd(g, (8,), 3))
        p = MultivariateNormal(torch.randn(8, 3, generator=g), random_spd(g, (8,), 3))
    est = monte_carlo_kl(q, p, n_samples=20_000)
    exact = kl_divergence(q, p)
    assert est.estimate.shape == exact.shape == est.stderr.shape
    assert (est.stderr > 0).all()
    assert ((est.estimate - exact).abs() < 4 * est.stderr).all()


def test_monte_carlo_kl_works_without_a_closed_form():
    # KL(N(0,1) || StudentT(3)) has no registered closed form; check against quadrature.
    torch.manual_seed(7)
    q, p = Normal(torch.tensor(0.0), torch.tensor(1.0)), StudentT(torch.tensor(3.0))
    est = monte_carlo_kl(q, p, n_samples=50_000)
    z = torch.linspace(-12, 12, 200_001)
    dz = z[1] - z[0]
    exact = (q.log_prob(z).exp() * (q.log_prob(z) - p.log_prob(z))).sum() * dz
    assert abs(est.estimate - exact) < 4 * est.stderr


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: gaussian_kl(torch.tensor([float("nan")]), torch.zeros(1)), "mu_q"),
        (lambda: gaussian_kl(torch.zeros(2), torch.tensor([0.0, float("inf")])), "logvar_q"),
        (lambda: gaussian_kl(torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(4, 2)), "mu_p"),
        (lambda: gaussian_kl(torch.tensor(0.0), torch.tensor(0.0)), "mu_q"),
        (lambda: full_gaussian_kl(torch.zeros(2), -torch.eye(2), torch.zeros(2), torch.eye(2)), "cov_q: expected a positive definite"),
        (lambda: full_gaussian_kl(torch.zeros(2), torch.eye(2), torch.zeros(2), torch.tensor([[1.0, 0.5], [0.0, 1.0]])), "cov_p: expected a symmetric"),
        (lambda: full_gaussian_kl(torch.zeros(2), torch.ones(2), torch.zeros(2), torch.eye(2)), "cov_q: expected square"),
        (lambda: full_gaussian_kl(torch.zeros(3), torch.eye(2), torch.zeros(3), torch.eye(2)), "cov_q: expected last dimension 3"),
        (lambda: monte_carlo_kl(Normal(0.0, 1.0), Normal(0.0, 1.0), n_samples=1), "n_samples"),
        (lambda: monte_carlo_kl(Normal(0.0, 1.0), Normal(0.0, 1.0), n_samples=2.5), "n_samples"),
        (lambda: monte_carlo_kl(diag_normal(torch.zeros(2), torch.zeros(2)), Normal(0.0, 1.0), 10), "event shape"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_monte_carlo_kl_rejects_non_distributions_and_infinite_kl():
    with pytest.raises(TypeError, match="q: expected a torch.distributions"):
        monte_carlo_kl(torch.zeros(2), Normal(0.0, 1.0), 10)
    from torch.distributions import Uniform
    with pytest.raises(ValueError, match="p: log p"):
        monte_carlo_kl(Normal(0.0, 1.0), Uniform(-0.1, 0.1), 100)


def test_kl_mean_gradient_is_precision_times_displacement_for_any_q_covariance(lg):
    model, x = lg
    post = model.posterior(x)
    means = torch.randn(4, 3, 2, dtype=F64, generator=torch.Generator().manual_seed(0))
    expected = torch.linalg.solve(post.covariance_matrix, (means - post.mean).unsqueeze(-1)).squeeze(-1)
    for cov_q in (torch.eye(2, dtype=F64), torch.tensor([[0.3, 0.1], [0.1, 2.0]], dtype=F64)):
        got = kl_mean_gradient(means, cov_q, post)
        assert got.shape == means.shape
        torch.testing.assert_close(got, expected)


def test_kl_mean_gradient_rejects_a_batched_or_non_gaussian_target(lg):
    model, x = lg
    with pytest.raises(ValueError, match="posterior"):
        kl_mean_gradient(torch.zeros(2), torch.eye(2), Normal(0.0, 1.0))
    with pytest.raises(ValueError, match="mean"):
        kl_mean_gradient(torch.tensor([float("nan"), 0.0]), torch.eye(2), model.posterior(x))
