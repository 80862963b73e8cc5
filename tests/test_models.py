"""vae_support.models: every log-density against torch.distributions / closed forms, bad input."""
import math

import pytest
import torch
from torch.distributions import Bernoulli, MultivariateNormal, Normal

from vae_support import bounds
from vae_support.kl import full_gaussian_kl, gaussian_kl
from vae_support.models import VAE, DiscreteVAE, kl_per_dimension

X_CAT = torch.tensor([[0.0, 16.0, 3.0, 7.0], [5.0, 0.0, 16.0, 1.0], [2.0, 2.0, 9.0, 12.0]])

@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models: one thread is fastest, and immune to a busy machine's oversubscription."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)



def make(seed=0, **kw):
    torch.manual_seed(seed)
    kw.setdefault("x_dim", 4)
    kw.setdefault("z_dim", 3)
    kw.setdefault("hidden", (8,))
    return VAE(**kw)


def test_log_weights_are_log_p_x_given_z_plus_log_prior_minus_log_q():
    model = make()
    torch.manual_seed(1)
    log_w = model.log_weights(X_CAT, k=5)
    torch.manual_seed(1)
    q = model.encode(X_CAT)
    z = q.rsample((5,))
    logits = model.decoder(z).unflatten(-1, (4, 17))
    log_px_z = torch.log_softmax(logits, -1).gather(-1, X_CAT.long().expand(5, 3, 4).unsqueeze(-1)).squeeze(-1).sum(-1)
    log_pz = Normal(0.0, 1.0).log_prob(z).sum(-1)
    expected = log_px_z + log_pz - q.log_prob(z)
    assert log_w.shape == (5, 3)
    torch.testing.assert_close(log_w, expected)


def test_encoder_is_a_diagonal_gaussian_from_mean_and_log_variance():
    model = make()
    out = model.encoder(X_CAT / 16)
    q = model.encode(X_CAT)
    torch.testing.assert_close(q.mean, out[:, :3])
    torch.testing.assert_close(q.variance, out[:, 3:].exp())
    # closed-form KL of the ELBO terms is the book's eq-kl-gaussian-diag
    torch.testing.assert_close(model.elbo_terms(X_CAT).kl, gaussian_kl(out[:, :3], out[:, 3:]))
    torch.testing.assert_close(model.kl_per_dimension(X_CAT).sum(-1), gaussian_kl(out[:, :3], out[:, 3:]))


def test_full_covariance_encoder_kl_matches_the_book_formula():
    model = make(encoder_cov="full")
    q = model.encode(X_CAT)
    assert isinstance(q, MultivariateNormal)
    cov = q.covariance_matrix
    assert (cov - cov.transpose(-1, -2)).abs().max() < 1e-6
    expected = full_gaussian_kl(q.mean, cov, torch.zeros(3), torch.eye(3))
    torch.testing.assert_close(model.elbo_terms(X_CAT).kl, expected, rtol=1e-4, atol=1e-5)
    # marginal KLs: each coordinate against N(0, 1)
    var = torch.diagonal(cov, dim1=-2, dim2=-1)
    torch.testing.assert_close(model.kl_per_dimension(X_CAT), 0.5 * (q.mean**2 + var - var.log() - 1), rtol=1e-4, atol=1e-5)


def test_mixture_prior_is_a_weighted_sum_of_gaussians():
    model = make(prior="mog", n_components=4)
    p = model.prior_distribution()
    z = torch.randn(6, 3)
    comps = Normal(model.prior.locs, model.prior.log_scales.exp())
    log_comp = comps.log_prob(z.unsqueeze(1)).sum(-1) + torch.log_softmax(model.prior.logits, 0)
    torch.testing.assert_close(p.log_prob(z), torch.logsumexp(log_comp, -1))
    assert model.kl_per_dimension(X_CAT) is None


def test_vamp_prior_is_the_mean_of_q_at_the_pseudo_inputs():
    model = make(prior="vamp", n_components=5)
    z = torch.randn(6, 3)
    q_u = model.encode_unchecked(model.prior.pseudo_inputs)
    log_q = q_u.log_prob(z.unsqueeze(1))  # [6, 5]
    expected = torch.logsumexp(log_q, -1) - math.log(5)
    torch.testing.assert_close(model.prior_distribution().log_prob(z), expected)


@pytest.mark.parametrize("obs_scale", [None, 0.5])
def test_gaussian_likelihood_fixed_and_learned_scale(obs_scale):
    model = make(likelihood="gaussian", obs_scale=obs_scale)
    z = torch.randn(2, 3)
    x = torch.randn(2, 4)
    scale = model.log_obs_scale.exp() if obs_scale is None else torch.tensor(obs_scale)
    expected = Normal(model.decoder(z), scale).log_prob(x).sum(-1)
    torch.testing.assert_close(model.decode(z).log_prob(x), expected)
    assert (obs_scale is None) == any(n == "log_obs_scale" for n, _ in model.named_parameters())


def test_bernoulli_likelihood():
    model = make(likelihood="bernoulli")
    z = torch.randn(2, 3)
    x = torch.tensor([[0.0, 1.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    torch.testing.assert_close(model.decode(z).log_prob(x), Bernoulli(logits=model.decoder(z)).log_prob(x).sum(-1))


def test_elbo_and_iwae_are_the_bounds_of_the_log_weights():
    model = make()
    torch.manual_seed(3)
    log_w = model.log_weights(X_CAT, k=7)
    torch.manual_seed(3)
    torch.testing.assert_close(model.elbo(X_CAT, k=7), bounds.elbo(log_w))
    torch.manual_seed(3)
    torch.testing.assert_close(model.iwae(X_CAT, k=7), bounds.iwae_bound(log_w))


def test_sample_and_reconstruct_are_in_the_data_units():
    model = make()
    s = model.sample(50)
    assert s.shape == (50, 4) and s.min() >= 0 and s.max() <= 16 and (s == s.round()).all()
    r = model.reconstruct(X_CAT)
    probs = torch.softmax(model.decoder(model.encode(X_CAT).mean).unflatten(-1, (4, 17)), -1)
    torch.testing.assert_close(r, (probs * torch.arange(17.0)).sum(-1))
    assert model.sample(3, mean=True).shape == (3, 4)


def test_discrete_model_kl_is_the_bernoulli_closed_form():
    torch.manual_seed(0)
    model = DiscreteVAE(x_dim=4, z_dim=3, hidden=(8,))
    q = model.encode(X_CAT)
    probs = torch.sigmoid(model.encoder(X_CAT / 16))
    expected = (probs * (2 * probs).log() + (1 - probs) * (2 * (1 - probs)).log()).sum(-1)
    torch.testing.assert_close(model.elbo_terms(X_CAT).kl, expected)
    torch.testing.assert_close(kl_per_dimension(q, model.prior_distribution()).sum(-1), expected)
    z = model.forward_pass(X_CAT, k=4).z
    assert set(z.unique().tolist()) <= {0.0, 1.0}


def test_runs_on_cuda_when_available():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    model = make().to("cuda")
    assert model.elbo(X_CAT.cuda(), k=2).device.type == "cuda"


@pytest.mark.parametrize("x, match", [
    (X_CAT[:, :3], "x: expected shape \\[batch, 4\\]"),
    (X_CAT[0], "x: expected shape"),
    (X_CAT + 0.5, "x: the categorical likelihood needs integer pixels in 0..16"),
    (X_CAT + 1, "x: the categorical likelihood needs integer pixels in 0..16"),
    (-X_CAT, "x: the categorical likelihood"),
    (torch.full((1, 4), float("nan")), "x: expected finite"),
    (X_CAT > 3, "dtype"),
])
def test_bad_data_fails_at_once(x, match):
    with pytest.raises(ValueError, match=match):
        make().elbo(x)


def test_bad_arguments_fail_with_the_argument_named():
    model = make()
    with pytest.raises(TypeError, match="x: expected a torch.Tensor"):
        model.elbo(X_CAT.tolist())
    with pytest.raises(ValueError, match="k: expected an integer >= 1"):
        model.log_weights(X_CAT, k=0)
    with pytest.raises(ValueError, match="z: expected shape"):
        model.decode(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="x: the Bernoulli likelihood needs pixels in"):
        make(likelihood="bernoulli").elbo(X_CAT)
    for kw, name in [(dict(likelihood="poisson"), "likelihood"), (dict(prior="flow"), "prior"),
                     (dict(encoder_cov="banded"), "encoder_cov"), (dict(z_dim=0), "z_dim"),
                     (dict(hidden=(8, -1)), "hidden"), (dict(levels=1), "levels"),
                     (dict(activation="gelu2"), "activation"),
                     (dict(likelihood="gaussian", obs_scale=-1.0), "obs_scale")]:
        with pytest.raises(ValueError, match=name):
            make(**kw)
