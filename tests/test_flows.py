"""vae_support.flows: every log-density against an exact answer (MultivariateNormal, numerical
Jacobians, a grid integral), the planar invertibility condition, IAF's autoregressive
structure, shapes, the amortized posteriors inside the VAE, training and local optimization, bad input."""
import math

import pytest
import torch
from torch.autograd.functional import jacobian
from torch.distributions import MultivariateNormal, TransformedDistribution

from vae_support import bounds
from vae_support.distributions import diagonal_gaussian, pixel_mean
from vae_support.flows import (
    IAF,
    FlowPosterior,
    IAFTransform,
    LinearTransform,
    PlanarFlow,
    PlanarTransform,
    made_masks,
    make_flow,
)
from vae_support.inference import optimize_local_q
from vae_support.models import VAE
from vae_support.train import fit

from test_models import one_thread  # noqa: F401  (autouse: tiny models run on one thread)

X_CAT = torch.tensor([[0.0, 16.0, 3.0, 7.0], [5.0, 0.0, 16.0, 1.0], [2.0, 2.0, 9.0, 12.0]])


def standard(d, batch=()):
    return diagonal_gaussian(torch.zeros(*batch, d, dtype=torch.float64), torch.ones(*batch, d, dtype=torch.float64))


def numerical_log_det(f, z):
    """log|det J| of f at each row of z [n, d], from torch.autograd.functional.jacobian."""
    return torch.stack([torch.linalg.slogdet(jacobian(f, zi))[1] for zi in z])


# ------------------------------------------------------------------------------- linear (exact)
def test_linear_flow_of_a_standard_normal_is_the_multivariate_normal():
    g = torch.Generator().manual_seed(0)
    A = torch.randn(3, 3, generator=g, dtype=torch.float64)
    c = torch.randn(3, generator=g, dtype=torch.float64)
    q = TransformedDistribution(standard(3), [LinearTransform(A, c)])
    exact = MultivariateNormal(c, covariance_matrix=A @ A.T)
    z = torch.randn(7, 3, generator=g, dtype=torch.float64)  # fresh points: log_prob inverts the map
    torch.testing.assert_close(q.log_prob(z), exact.log_prob(z))
    torch.manual_seed(1)
    samples = q.sample((20000,))
    torch.testing.assert_close(torch.cov(samples.T), A @ A.T, atol=0.15, rtol=0.05)


def test_linear_flow_inside_a_flow_posterior_matches_the_multivariate_normal_per_data_point():
    """Batch of 2 data points with their own A and c, samples [k, batch, d]."""
    g = torch.Generator().manual_seed(2)
    A = torch.randn(2, 3, 3, generator=g, dtype=torch.float64)
    c = torch.randn(2, 3, generator=g, dtype=torch.float64)
    loc = torch.randn(2, 3, generator=g, dtype=torch.float64)
    scale = torch.rand(2, 3, generator=g, dtype=torch.float64) + 0.5
    q = TransformedDistribution(diagonal_gaussian(loc, scale), [LinearTransform(A, c)])
    mean = (A @ loc.unsqueeze(-1)).squeeze(-1) + c
    cov = A @ torch.diag_embed(scale**2) @ A.transpose(-1, -2)
    z = q.rsample((5,))
    assert z.shape == (5, 2, 3)
    torch.testing.assert_close(q.log_prob(z), MultivariateNormal(mean, cov).log_prob(z))


# ------------------------------------------------------------------------------------- planar
@pytest.fixture
def planar():
    g = torch.Generator().manual_seed(3)
    u = torch.randn(3, generator=g, dtype=torch.float64)
    w = torch.randn(3, generator=g, dtype=torch.float64)
    return PlanarTransform(u, w, torch.tensor(0.3, dtype=torch.float64))


def test_planar_log_det_matches_the_numerical_jacobian(planar):
    z = torch.randn(6, 3, generator=torch.Generator().manual_seed(4), dtype=torch.float64) * 2
    torch.testing.assert_close(planar.log_abs_det_jacobian(z, planar(z)), numerical_log_det(planar, z))


@pytest.mark.parametrize("scale", [-5.0, -1.0, 0.0, 3.0])
def test_planar_invertibility_condition_is_enforced(scale):
    w = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    u = scale * w  # w·u = scale ||w||², down to very negative
    t = PlanarTransform(u, w, torch.tensor(0.0, dtype=torch.float64))
    assert float(t.w_u_hat) > -1
    torch.testing.assert_close(t.w_u_hat, torch.nn.functional.softplus((w * u).sum()) - 1)
    z = torch.randn(50, 3, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    assert torch.isfinite(t.log_abs_det_jacobian(z, t(z))).all()


def test_planar_inverse_and_log_prob_of_fresh_points(planar):
    q = TransformedDistribution(standard(3), [planar])
    z0 = torch.randn(9, 3, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    z = planar._call(z0)  # uncached: log_prob must invert by bisection
    torch.testing.assert_close(planar._inverse(z), z0)
    torch.testing.assert_close(q.log_prob(z), standard(3).log_prob(z0) - numerical_log_det(planar, z0))


def test_planar_density_integrates_to_one_on_a_grid():
    t = PlanarTransform(torch.tensor([2.0, 1.0], dtype=torch.float64), torch.tensor([1.5, -0.5], dtype=torch.float64),
                        torch.tensor(0.2, dtype=torch.float64))
    q = TransformedDistribution(standard(2), [t])
    grid = torch.linspace(-9, 9, 301, dtype=torch.float64)
    zz = torch.stack(torch.meshgrid(grid, grid, indexing="ij"), -1).reshape(-1, 2)
    mass = q.log_prob(zz).exp().sum() * (grid[1] - grid[0]) ** 2
    assert abs(float(mass) - 1) < 1e-3


# ---------------------------------------------------------------------------------------- IAF
def iaf_transform(d=4, h=10, reverse=False, seed=7, batch=()):
    g = torch.Generator().manual_seed(seed)
    mask_in, mask_out = made_masks(d, h, reverse=reverse)
    return IAFTransform(torch.randn(*batch, h, d, generator=g, dtype=torch.float64),
                        torch.randn(*batch, h, generator=g, dtype=torch.float64),
                        torch.randn(*batch, 2 * d, h, generator=g, dtype=torch.float64),
                        torch.randn(*batch, 2 * d, generator=g, dtype=torch.float64),
                        mask_in.double(), mask_out.double())


@pytest.mark.parametrize("reverse", [False, True])
def test_iaf_jacobian_is_triangular_and_its_log_det_matches(reverse):
    t = iaf_transform(reverse=reverse)
    z = torch.randn(5, 4, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    torch.testing.assert_close(t.log_abs_det_jacobian(z, t(z)), numerical_log_det(t, z))
    J = jacobian(t, z[0])
    order = torch.arange(4).flip(0) if reverse else torch.arange(4)
    J = J[order][:, order]  # in the autoregressive order: lower triangular
    assert torch.equal(J.triu(1), torch.zeros_like(J))
    assert (J.tril(-1).abs() > 0).any()  # and not diagonal: the coordinates do interact


def test_made_masks_make_each_output_depend_on_earlier_inputs_only():
    mask_in, mask_out = made_masks(5, 12)
    reach = (mask_out @ mask_in)[:5]  # paths from input i to output j
    assert torch.equal(reach > 0, torch.ones(5, 5).tril(-1) > 0)


def test_iaf_inverse_and_log_prob_of_fresh_points():
    t = iaf_transform()
    q = TransformedDistribution(standard(4), [t])
    z0 = torch.randn(6, 4, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    z = t._call(z0)
    t._last = None
    torch.testing.assert_close(t._inverse(z), z0)
    torch.testing.assert_close(q.log_prob(z), standard(4).log_prob(z0) - numerical_log_det(t, z0))


def test_iaf_per_point_weights_broadcast_against_samples():
    t = iaf_transform(batch=(3,))
    z = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(10), dtype=torch.float64)
    y = t(z)
    for b in range(3):  # each data point uses its own weights
        tb = IAFTransform(t.weight_in[b], t.context[b], t.weight_out[b], t.bias_out[b], *made_masks(4, 10))
        torch.testing.assert_close(y[:, b], tb._call(z[:, b]).to(y.dtype))


# ------------------------------------------------------------------- amortized flow posteriors
@pytest.mark.parametrize("kind", ["planar", "iaf"])
def test_flow_posterior_shapes_and_cached_log_prob(kind):
    torch.manual_seed(0)
    head = make_flow(kind, 3, length=3, hidden=8).double()
    out = torch.randn(5, head.n_outputs, dtype=torch.float64)
    q = head(out)
    assert isinstance(q, FlowPosterior) and q.batch_shape == (5,) and q.event_shape == (3,)
    z = q.rsample((4,))
    assert z.shape == (4, 5, 3)
    log_q = q.log_prob(z)  # from the cache
    assert log_q.shape == (4, 5)
    z_fresh = z.clone()  # a new object: log_prob inverts every layer
    torch.testing.assert_close(q.log_prob(z_fresh), log_q, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("kind", ["planar", "iaf"])
def test_local_parameters_rebuild_the_same_posterior(kind):
    torch.manual_seed(0)
    head = make_flow(kind, 3, length=2, hidden=8).double()
    q = head(torch.randn(4, head.n_outputs, dtype=torch.float64))
    params = q.local_parameters()
    assert all(p.shape[0] == 4 and not p.requires_grad for p in params)
    q2 = q.with_parameters(params)
    z = torch.randn(6, 4, 3, dtype=torch.float64)
    torch.testing.assert_close(q2.log_prob(z), q.log_prob(z.clone()), atol=1e-6, rtol=1e-6)


def test_flow_posterior_has_no_closed_form_mean_and_no_closed_form_kl():
    """`.mean` raises (E_q[z] has no closed form; `base_mean_image` is the point code, see below)."""
    head = PlanarFlow(2, 1)
    q = head(torch.randn(3, head.n_outputs))
    with pytest.raises(NotImplementedError):
        q.mean
    z = q.rsample((5,))
    prior = diagonal_gaussian(torch.zeros(2), torch.ones(2))
    terms = bounds.elbo_terms(torch.zeros(5, 3), q, prior, z)  # falls back to the Monte Carlo KL
    torch.testing.assert_close(terms.kl, (q.log_prob(z) - prior.log_prob(z)).mean(0))


# --------------------------------------------------------------------------------- in the VAE
@pytest.mark.parametrize("encoder", ["planar", "iaf"])
def test_vae_flow_encoder_log_weights_and_training(encoder):
    torch.manual_seed(0)
    model = VAE(x_dim=4, z_dim=2, hidden=(8,), encoder=encoder, flow_length=2, flow_hidden=6)
    assert model.hparams["encoder"] == encoder
    log_w = model.log_weights(X_CAT, k=5)
    assert log_w.shape == (5, 3) and torch.isfinite(log_w).all()
    history = fit(model, X_CAT.repeat(10, 1), epochs=3, batch_size=10, progress=False)
    assert all(math.isfinite(v) for v in history.train_elbo)
    local = optimize_local_q(model, X_CAT, steps=5, k=2)
    assert isinstance(local.q, FlowPosterior) and local.elbo_trace.shape == (5, 3)


def test_local_optimization_of_a_flow_raises_the_elbo():
    torch.manual_seed(0)
    model = VAE(x_dim=4, z_dim=2, hidden=(8,), encoder="iaf", flow_length=1, flow_hidden=6)
    local = optimize_local_q(model, X_CAT, steps=150, k=10, lr=0.05)
    start, end = local.elbo_trace[:10].mean(0), local.elbo_trace[-10:].mean(0)
    assert (end > start).all()


def test_vae_encoder_names_the_family_in_one_argument():
    assert VAE(x_dim=4, z_dim=2, hidden=(8,), encoder="full").encoder_cov == "full"
    assert VAE(x_dim=4, z_dim=2, hidden=(8,), encoder="diagonal").flow is None
    assert VAE(x_dim=4, z_dim=2, hidden=(8,)).hparams["encoder"] == "diagonal"


# ----------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("build, match", [
    (lambda: VAE(x_dim=4, z_dim=2, encoder="realnvp"), "encoder: expected one of"),
    (lambda: VAE(x_dim=4, z_dim=2, encoder="planar", encoder_cov="full"), "encoder: 'planar' conflicts"),
    (lambda: VAE(x_dim=4, z_dim=2, encoder="planar", flow_length=0), "length: expected an integer >= 1"),
    (lambda: VAE(x_dim=4, z_dim=1, encoder="iaf"), "z_dim: expected an integer >= 2"),
    (lambda: make_flow("radial", 2), "kind: expected one of"),
    (lambda: IAF(3, hidden=0), "hidden: expected an integer >= 1"),
    (lambda: PlanarTransform(torch.ones(3), torch.ones(2), 0.0), "w: expected last dimension 3"),
    (lambda: PlanarTransform(torch.ones(2, 3), torch.ones(2, 3), torch.zeros(4)), "b: expected a shape broadcastable"),
    (lambda: PlanarTransform(torch.tensor([1.0, float("nan")]), torch.ones(2), 0.0), "u: expected finite values"),
    (lambda: PlanarTransform("u", torch.ones(2), 0.0), "u: expected a tensor"),
    (lambda: LinearTransform(torch.ones(2, 3), torch.zeros(2)), "matrix: expected a square matrix"),
    (lambda: LinearTransform(torch.ones(2, 2), torch.zeros(2)), "matrix: expected an invertible matrix"),
    (lambda: LinearTransform(torch.eye(2), torch.zeros(3)), "shift: expected last dimension 2"),
    (lambda: IAFTransform(torch.ones(5, 3), torch.ones(4), torch.ones(6, 5), torch.ones(6), *made_masks(3, 5)),
     "context: expected trailing shape"),
    (lambda: made_masks(1, 4), "z_dim: expected an integer >= 2"),
    (lambda: PlanarFlow(2, 1)(torch.ones(3, 4)), "out: expected last dimension 9"),
    (lambda: FlowPosterior(PlanarFlow(2, 1), [torch.zeros(2), torch.zeros(2)], [False, False]),
     "params: expected 5 tensors"),
    (lambda: FlowPosterior(PlanarFlow(2, 1), [torch.zeros(3), torch.zeros(3), torch.ones(3), torch.ones(3), torch.zeros(())],
                           [False] * 5), r"params: expected loc and log_scale of shape \[..., 2\]"),
    (lambda: FlowPosterior("planar", [], []), "head: expected a PlanarFlow or IAF"),
])
def test_bad_input_names_the_argument(build, match):
    with pytest.raises((ValueError, TypeError), match=match):
        build()


def test_prior_initialization_is_refused_for_a_flow():
    model = VAE(x_dim=4, z_dim=2, hidden=(8,), encoder="planar")
    with pytest.raises(ValueError, match="init: 'prior' is defined for Gaussian encoders"):
        optimize_local_q(model, X_CAT, steps=2, init="prior")


# ------------------------------------------------------- a point code: the image of the base mean
def test_base_mean_image_of_affine_layers_is_the_mean_exactly():
    """With affine layers the image of the base mean is E_q[z]: known in closed form, and checked by Monte Carlo."""
    g = torch.Generator().manual_seed(11)
    d = 3
    mu = torch.randn(4, d, generator=g, dtype=torch.float64)
    log_var = 0.3 * torch.randn(4, d, generator=g, dtype=torch.float64)
    # planar layers with w = 0 are pure shifts: f(z) = z + u tanh(b)
    planar = PlanarFlow(d, length=2).double()
    u1, u2 = (torch.randn(4, d, generator=g, dtype=torch.float64) for _ in range(2))
    b1, b2 = (torch.randn(4, 1, generator=g, dtype=torch.float64) for _ in range(2))
    zero = torch.zeros(4, d, dtype=torch.float64)
    q = planar(torch.cat([mu, log_var, u1, zero, b1, u2, zero, b2], -1))
    exact = mu + u1 * torch.tanh(b1) + u2 * torch.tanh(b2)
    torch.testing.assert_close(q.base_mean_image, exact, atol=1e-12, rtol=0)
    # IAF layers whose MADE outputs do not depend on z: f(z) = sigma * z + (1 - sigma) * m
    iaf = IAF(d, length=2, hidden=5).double()
    with torch.no_grad():
        for k in range(2):
            iaf.weight_out[k].zero_()
            iaf.bias_out[k].copy_(torch.randn(2 * d, generator=g, dtype=torch.float64))
    q = iaf(torch.cat([mu, log_var, torch.randn(4, 10, generator=g, dtype=torch.float64)], -1))
    exact = mu
    for k in range(2):
        m, sigma = iaf.bias_out[k][:d].detach(), torch.sigmoid(iaf.bias_out[k][d:].detach())
        exact = sigma * exact + (1 - sigma) * m
    torch.testing.assert_close(q.base_mean_image, exact, atol=1e-12, rtol=0)
    torch.manual_seed(12)
    samples = q.sample((40000,))
    se = samples.std(0) / 200.0
    assert ((samples.mean(0) - exact).abs() < 5 * se).all()


def test_base_mean_image_is_not_the_mean_of_a_nonlinear_flow():
    """The documented caveat: for a planar layer that bends space, f(mu) differs from E_q[z] beyond Monte Carlo error."""
    head = PlanarFlow(2, length=1).double()
    out = torch.tensor([[1.0, 0.0, 0.0, 0.0, 3.0, 0.0, 2.0, 0.0, 0.0]], dtype=torch.float64)  # mu = (1, 0), u = (3, 0), w = (2, 0)
    q = head(out)
    torch.manual_seed(13)
    samples = q.sample((40000,))
    se = samples.std(0) / 200.0
    assert (samples.mean(0) - q.base_mean_image).abs()[0, 0] > 10 * se[0, 0]


@pytest.mark.parametrize("encoder", ["planar", "iaf"])
def test_vae_reconstruct_works_for_flow_encoders(encoder):
    torch.manual_seed(0)
    model = VAE(x_dim=4, z_dim=2, hidden=(8,), encoder=encoder, flow_length=2, flow_hidden=6)
    with torch.no_grad():
        x_hat = model.reconstruct(X_CAT)
        q = model.encode(X_CAT)
        expected = pixel_mean(model.decode(q.base_mean_image))  # mean pixel level of the categorical
    assert x_hat.shape == (3, 4) and torch.isfinite(x_hat).all()
    torch.testing.assert_close(x_hat, expected)


def test_vae_reconstruct_of_an_affine_iaf_decodes_the_gaussian_mean():
    """An IAF encoder whose MADE ignores z is an affine map of the base: reconstruct decodes E_q[z] exactly."""
    torch.manual_seed(0)
    model = VAE(x_dim=4, z_dim=2, hidden=(8,), encoder="iaf", flow_length=1, flow_hidden=6)
    with torch.no_grad():
        model.flow.weight_out[0].zero_()
        q = model.encode(X_CAT)
        m, sigma = model.flow.bias_out[0][:2], torch.sigmoid(model.flow.bias_out[0][2:])
        mean = sigma * q.base_dist.mean + (1 - sigma) * m
        torch.testing.assert_close(model.reconstruct(X_CAT), pixel_mean(model.decode(mean)))
