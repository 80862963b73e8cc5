"""vae_support.inference and bounds.estimate_log_likelihood on a VAE that *is* the linear-Gaussian
model (linear decoder, Gaussian likelihood of fixed σ), where log p(x) and p(z|x) are exact."""
import math

import pytest
import torch

from vae_support.bounds import estimate_log_likelihood
from vae_support.inference import inference_gaps, optimize_local_q
from vae_support.models import VAE
from vae_support.toy import LinearGaussian

SIGMA = 0.7


from test_models import one_thread  # noqa: E402,F401  (autouse: tiny models run on one thread)


@pytest.fixture
def toy():
    """Nearly parallel columns of W: a strongly correlated posterior (correlation ≈ −0.9)."""
    W = 1.5 * torch.tensor([[1.0, 0.9], [1.0, 1.1], [0.5, 0.4], [0.2, 0.3]], dtype=torch.float64)
    return LinearGaussian(W, torch.tensor([0.1, -0.2, 0.3, 0.0], dtype=torch.float64), SIGMA)


@pytest.fixture
def x(toy):
    return toy.sample(3, generator=torch.Generator().manual_seed(1))[0]


def linear_vae(toy, encoder_cov="full", exact_encoder=False, shift=0.0):
    """VAE(hidden=()) with decoder z ↦ Wz + b: the linear-Gaussian model in vae_support.models form."""
    torch.manual_seed(0)
    model = VAE(x_dim=4, z_dim=2, hidden=(), likelihood="gaussian", obs_scale=SIGMA, encoder_cov=encoder_cov).double()
    with torch.no_grad():
        model.decoder[0].weight.copy_(toy.W)
        model.decoder[0].bias.copy_(toy.b)
        if exact_encoder:  # posterior mean A(x − b) (+ shift), constant Cholesky factor: one linear layer holds it
            post = toy.posterior(torch.zeros(1, 4))
            A = post.covariance_matrix[0] @ toy.W.T / SIGMA**2
            L = post.scale_tril[0]
            enc = model.encoder[0]
            enc.weight.zero_()
            enc.weight[:2] = A
            rest = [L.diagonal().log(), L[1, :1]] if encoder_cov == "full" else [2 * L.new_tensor([0.0, 0.0])]
            enc.bias.copy_(torch.cat([-A @ toy.b + shift, *rest]))
    return model


def test_importance_sampling_is_exact_with_the_exact_posterior(toy, x):
    model = linear_vae(toy, exact_encoder=True)
    torch.testing.assert_close(model.encode(x).covariance_matrix, toy.posterior(x).covariance_matrix)
    exact = toy.log_marginal(x)
    torch.testing.assert_close(estimate_log_likelihood(model, x, k=5), exact)
    torch.testing.assert_close(model.elbo(x, k=3), exact)  # zero-variance weights: ELBO = log p(x)


def test_importance_sampling_approaches_log_p_from_below_with_a_poor_q(toy, x):
    model = linear_vae(toy, encoder_cov="diagonal")
    torch.manual_seed(0)
    exact = toy.log_marginal(x)
    elbo = model.elbo(x, k=2000).detach()
    ll = estimate_log_likelihood(model, x, k=20000, max_samples=4000)
    assert (elbo < exact).all() and (ll <= exact + 0.02).all()
    assert (exact - ll).abs().max() < 0.1 < (exact - elbo).min()


def test_estimate_log_likelihood_combines_sample_chunks():
    class Fake:
        def __init__(self):
            self.calls = []

        def log_weights(self, x, k):
            self.calls.append((x.shape[0], k))
            return torch.full((k, x.shape[0]), float(k))

    fake = Fake()
    out = estimate_log_likelihood(fake, torch.zeros(5, 1), k=7, max_samples=3)
    # pieces of 3, 3 and 1 samples, one point per pass: log((3e^3 + 3e^3 + 1e^1) / 7)
    expected = math.log((6 * math.exp(3) + math.exp(1)) / 7)
    torch.testing.assert_close(out, torch.full((5,), expected))
    assert fake.calls == [(1, 3), (1, 3), (1, 1)] * 5
    fake.calls.clear()
    estimate_log_likelihood(fake, torch.zeros(5, 1), k=4, max_samples=8)
    assert fake.calls == [(2, 4), (2, 4), (1, 4)]


def test_estimate_log_likelihood_rejects_bad_input(toy, x):
    model = linear_vae(toy)
    with pytest.raises(ValueError, match="k: expected an integer >= 1"):
        estimate_log_likelihood(model, x, k=0)
    with pytest.raises(ValueError, match="max_samples"):
        estimate_log_likelihood(model, x, max_samples=-1)
    with pytest.raises(TypeError, match="model"):
        estimate_log_likelihood(object(), x)
    with pytest.raises(TypeError, match="x: expected a torch.Tensor"):
        estimate_log_likelihood(model, x.tolist())


def test_local_optimization_finds_the_exact_posterior_in_the_full_family(toy, x):
    model = linear_vae(toy)
    torch.manual_seed(0)
    local = optimize_local_q(model, x, steps=600, lr=0.02, k=64, init="prior")
    post = toy.posterior(x)
    torch.testing.assert_close(local.q.mean, post.mean, atol=0.05, rtol=0)
    torch.testing.assert_close(local.q.covariance_matrix, post.covariance_matrix, atol=0.03, rtol=0)
    assert local.elbo_trace.shape == (600, 3)
    assert (local.elbo_trace[-50:].mean(0) > local.elbo_trace[:10].mean(0)).all()


def test_gaps_full_family_has_no_approximation_gap_diagonal_has_the_closed_form(toy, x):
    torch.manual_seed(0)
    # an encoder off by 0.15 in each mean: a good importance proposal, but not q*
    full = inference_gaps(linear_vae(toy, exact_encoder=True, shift=0.15), x, k_log_px=4000, eval_k=20000, steps=600,
                          lr=0.02, k=64)
    exact = toy.log_marginal(x)
    assert full.approximation_gap.abs().max() < 0.05
    torch.testing.assert_close(full.log_px, exact, atol=0.05, rtol=0)
    assert (full.amortization_gap > 0.05).all()  # the shifted encoder is not q*
    torch.testing.assert_close(full.inference_gap, full.approximation_gap + full.amortization_gap)
    torch.testing.assert_close(full.elbo_optimized, exact, atol=0.05, rtol=0)
    # diagonal family: q* has the posterior mean and variances 1/Λ_jj, so the gap is
    # KL(q*‖p(z|x)) = ½(Σ_j log Λ_jj − log det Λ)
    precision = torch.linalg.inv(toy.posterior(x).covariance_matrix[0])
    kl = 0.5 * (precision.diagonal().log().sum() - torch.logdet(precision))
    diag = inference_gaps(linear_vae(toy, encoder_cov="diagonal", exact_encoder=True), x, k_log_px=4000, eval_k=20000,
                          steps=600, lr=0.02, k=64)
    torch.testing.assert_close(diag.log_px, exact, atol=0.05, rtol=0)
    assert kl > 0.5
    torch.testing.assert_close(exact - diag.elbo_optimized, kl.expand(3), atol=0.05, rtol=0)
    torch.testing.assert_close(diag.approximation_gap, kl.expand(3), atol=0.08, rtol=0)


def test_optimize_local_q_rejects_bad_input(toy, x):
    model = linear_vae(toy)
    for kwargs, name in [(dict(steps=0), "steps"), (dict(lr=-1.0), "lr"), (dict(k=0), "k"), (dict(init="zero"), "init")]:
        with pytest.raises(ValueError, match=name):
            optimize_local_q(model, x, **kwargs)
    with pytest.raises(ValueError, match="x: expected shape"):
        optimize_local_q(model, x[:, :3])


def test_gaps_need_a_gaussian_encoder():
    from vae_support.models import DiscreteVAE

    torch.manual_seed(0)
    model = DiscreteVAE(x_dim=4, z_dim=2, hidden=(8,))
    with pytest.raises(ValueError, match="Gaussian q .*Bernoulli"):
        optimize_local_q(model, torch.tensor([[0.0, 1.0, 2.0, 3.0]]))


def test_local_optimization_started_at_the_posterior_stays_there(toy, x):
    """The last iterate settles (decaying step): from the exact q, default settings lose almost nothing.

    Regression: with a constant step, Adam kept moving every Cholesky entry by ≈ lr per step and
    the returned q of a full-covariance encoder was worse than the encoder's own.
    """
    from torch.distributions import kl_divergence

    model = linear_vae(toy, exact_encoder=True)
    post = toy.posterior(x)
    start = kl_divergence(model.encode(x), post).detach()
    assert float(start.max()) < 1e-10
    torch.manual_seed(0)
    local = optimize_local_q(model, x)
    assert float(kl_divergence(local.q, post).max()) < 0.01
