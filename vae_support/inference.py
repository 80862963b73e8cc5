r"""Per-data-point optimization of q and the split of the inference gap (Cremer et al., 2018).

For a trained model and a data point x, three ELBOs bracket :math:`\log p(x)`:

.. math::
    \mathcal L[q_\phi(z|x)] \;\le\; \mathcal L[q^*_x] \;\le\; \log p(x),
    \qquad q^*_x = \arg\max_{q\in\mathcal Q}\mathcal L[q],

where :math:`q_\phi` is the encoder's (amortized) answer and :math:`q^*_x` the best member of the
same family :math:`\mathcal Q`, found by optimizing q's parameters for this x alone with the
decoder fixed. By book equation ``eq-elbo-gap`` the *inference gap*
:math:`\log p(x) - \mathcal L[q_\phi]` splits into

* the **approximation gap** :math:`\log p(x) - \mathcal L[q^*_x] = \mathrm{KL}(q^*_x\|p(z|x))`:
  the family is too narrow;
* the **amortization gap** :math:`\mathcal L[q^*_x] - \mathcal L[q_\phi(z|x)]`: one encoder shared
  by all x cannot hit each :math:`q^*_x`.

:math:`\log p(x)` is estimated by importance sampling
(:func:`vae_support.bounds.estimate_log_likelihood`).

The second half of the module fits q to *one* observation of a toy model of
:mod:`vae_support.toy`, where the ELBO and every KL are exact: :func:`fit_gaussian_q` and
:func:`ascend_elbo_path` (a linear-Gaussian model), :func:`fit_normal` (a 1-D grid posterior,
reverse or forward KL), and the closed-form mean-field optimum :func:`optimal_diagonal_gaussian`.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from typing import NamedTuple

import torch
from torch.distributions import Distribution, Independent, MultivariateNormal, Normal, kl_divergence

from . import bounds
from ._checks import as_tensor, check_finite, check_integer, check_positive, check_real
from .distributions import diagonal_gaussian, full_gaussian, scale_tril_from_vector
from .flows import FlowPosterior
from .models import LatentVariableModel
from .toy import Grid1D, LinearGaussian

INITS = ("encoder", "prior")


class LocalQ(NamedTuple):
    """Result of :func:`optimize_local_q`: the optimized q (batch [batch]) and the ELBO per step [steps, batch]."""

    q: Distribution
    elbo_trace: torch.Tensor


class InferenceGaps(NamedTuple):
    """The terms of Cremer et al. (2018), each [batch] in nats; the gaps are differences of the bounds."""

    log_px: torch.Tensor
    elbo_amortized: torch.Tensor
    elbo_optimized: torch.Tensor
    approximation_gap: torch.Tensor
    amortization_gap: torch.Tensor
    inference_gap: torch.Tensor


def _gaussian_parameters(q: Distribution) -> list[torch.Tensor]:
    """Unconstrained parameters of a Gaussian q: [loc, log_scale] or [loc, log diag(L), strict lower(L)].

    A flow posterior (:class:`vae_support.flows.FlowPosterior`) gives its own, one set per data point.
    """
    if isinstance(q, FlowPosterior):
        return q.local_parameters()
    if isinstance(q, Independent) and isinstance(q.base_dist, Normal):
        return [q.mean.detach().clone(), q.stddev.detach().log()]
    if isinstance(q, MultivariateNormal):
        tril = q.scale_tril.detach()
        d = tril.shape[-1]
        rows, cols = torch.tril_indices(d, d, offset=-1, device=tril.device)
        return [q.mean.detach().clone(), torch.diagonal(tril, dim1=-2, dim2=-1).log(), tril[..., rows, cols].clone()]
    base = f"({type(q.base_dist).__name__})" if isinstance(q, Independent) else ""
    raise ValueError(f"model: per-point optimization needs a Gaussian q (VAE), got {type(q).__name__}{base}")


def _gaussian_from(params: list[torch.Tensor]) -> Distribution:
    if len(params) == 2:
        return diagonal_gaussian(params[0], params[1].exp(), validate_args=False)
    return full_gaussian(params[0], scale_tril_from_vector(params[1], params[2]), validate_args=False)


def _elbo_of(model: LatentVariableModel, x: torch.Tensor, q: Distribution | None, k: int) -> torch.Tensor:
    """ELBO [batch] of q (the encoder's if None): reconstruction over k draws − KL (closed form when one exists)."""
    f = model.forward_pass(x, k, check=False, q=q)
    return bounds.elbo_terms(f.log_px_z, f.q, f.prior, f.z).elbo


def optimize_local_q(model: LatentVariableModel, x: torch.Tensor, steps: int = 300, lr: float = 0.05, k: int = 10,
                     init: str = "encoder") -> LocalQ:
    r"""Fit a separate Gaussian :math:`q_x` to each data point by stochastic gradient ascent on its ELBO.

    .. math:: q^*_x = \arg\max_{q\in\mathcal Q}\; \mathbb E_{q}[\log p_\theta(x|z)] - \mathrm{KL}(q\,\|\,p(z))

    (book equation ``eq-elbo-decomposition``), over the encoder's family :math:`\mathcal Q`
    (diagonal or full-covariance Gaussian), with the model's weights fixed. Every point has its
    own parameters (for a flow posterior, its base and every flow parameter, MADE weights
    included: the family, not the encoder, limits :math:`q^*_x`); Adam updates each coordinate separately, so optimizing the batch together
    is the same as optimizing each point alone. Reparameterized gradients
    (``eq-reparam-gradient``) with ``k`` samples per step; the step size decays linearly from
    ``lr`` to ``lr / steps``, so that the returned (last) iterate settles instead of wandering
    with the gradient noise. Without the decay, Adam's steps of size ≈ ``lr`` on every
    coordinate keep moving the many off-diagonal Cholesky entries of a full-covariance q, and
    the final q can be *worse* than the encoder's (a negative amortization gap).

    Parameters
    ----------
    model : vae_support.models.VAE
    x : Tensor [batch, x_dim]
    steps : int
        Adam steps.
    lr : float
        Adam learning rate.
    k : int
        Samples per step (the gradient's noise falls as 1/k).
    init : {"encoder", "prior"}
        Start at the encoder's :math:`q_\phi(z|x)` (Cremer et al.) or at :math:`\mathcal N(0, I)`.

    Returns
    -------
    LocalQ
        ``q``: the optimized distribution (batch [batch], no gradient); ``elbo_trace``
        [steps, batch]: the single-estimate ELBO at each step (nats).
    """
    if not isinstance(model, LatentVariableModel):
        raise TypeError(f"model: expected a vae_support.models model, got {type(model).__name__}")
    x = model.check_x(x)
    steps = check_integer("steps", steps)
    k = check_integer("k", k)
    lr = check_real("lr", lr, minimum=0.0, inclusive=False)
    if init not in INITS:
        raise ValueError(f"init: expected one of {list(INITS)}, got {init!r}")
    with torch.no_grad():
        q0 = model.encode_unchecked(x)
        params = _gaussian_parameters(q0)
    build = q0.with_parameters if isinstance(q0, FlowPosterior) else _gaussian_from
    if init == "prior" and isinstance(q0, FlowPosterior):
        raise ValueError("init: 'prior' is defined for Gaussian encoders; a flow posterior starts at the encoder's answer")
    if init == "prior":
        params = [torch.zeros_like(p) for p in params]
    for p in params:
        p.requires_grad_(True)
    optimizer = torch.optim.Adam(params, lr=float(lr))
    decay = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: 1.0 - t / steps)
    trace = []
    with torch.enable_grad():
        for _ in range(steps):
            elbo = _elbo_of(model, x, build(params), k)
            grads = torch.autograd.grad(-elbo.sum(), params)
            for p, g in zip(params, grads):
                p.grad = g
            optimizer.step()
            decay.step()
            trace.append(elbo.detach())
    return LocalQ(build([p.detach() for p in params]), torch.stack(trace))


def inference_gaps(model: LatentVariableModel, x: torch.Tensor, k_log_px: int = 1000, eval_k: int = 100,
                   steps: int = 300, lr: float = 0.05, k: int = 10) -> InferenceGaps:
    r"""Split the inference gap into approximation and amortization gaps, per data point.

    .. math::
        \underbrace{\log p(x) - \mathcal L[q_\phi]}_{\text{inference gap}}
        = \underbrace{\log p(x) - \mathcal L[q^*_x]}_{\text{approximation}}
        + \underbrace{\mathcal L[q^*_x] - \mathcal L[q_\phi]}_{\text{amortization}}

    (Cremer et al., 2018; book equation ``eq-elbo-gap``.) :math:`\log p(x)` by importance
    sampling with ``k_log_px`` samples; both ELBOs with the same estimator (reconstruction over
    ``eval_k`` draws minus the KL, in closed form when one exists); :math:`q^*_x` from
    :func:`optimize_local_q` started at the encoder's answer. Monte Carlo error can make a gap
    slightly negative for a point where it is near zero.

    Returns
    -------
    InferenceGaps
        Each field [batch], nats.
    """
    k_log_px, eval_k = check_integer("k_log_px", k_log_px), check_integer("eval_k", eval_k)
    local = optimize_local_q(model, x, steps=steps, lr=lr, k=k)
    x = model.check_x(x)
    with torch.no_grad():
        log_px = bounds.estimate_log_likelihood(model, x, k=k_log_px)
        amortized = _elbo_of(model, x, None, eval_k)
        optimized = _elbo_of(model, x, local.q, eval_k)
    return InferenceGaps(log_px, amortized, optimized, log_px - optimized, optimized - amortized, log_px - amortized)


# ---------------------------------------------------------------------------------------------
# One observation of a toy model, where the ELBO and the KLs are exact (chapters 3, 4, 7, 8)
# ---------------------------------------------------------------------------------------------
FAMILIES = ("full", "diagonal")
"""Gaussian families of q for :func:`fit_gaussian_q`."""


class QPath(NamedTuple):
    r"""The path of a diagonal Gaussian q while the ELBO is ascended (T recorded steps).

    ``mean`` and ``std`` are [T, d]; ``elbo`` and ``kl`` [T] in nats; ``log_px`` the constant
    :math:`\log p(x)` (book equation ``eq-elbo-gap``: ``elbo + kl == log_px`` at every step).
    """

    mean: torch.Tensor
    std: torch.Tensor
    elbo: torch.Tensor
    kl: torch.Tensor
    log_px: torch.Tensor


class NormalFit(NamedTuple):
    """A 1-D Normal fitted to a :class:`~vae_support.toy.Grid1D` posterior: mean, std, the divergence reached (nats)."""

    mean: float
    std: float
    divergence: float


@contextmanager
def _small_problem():
    """One thread and no argument validation inside: for the many tiny steps of an optimization.

    The distributions built inside are valid by construction, and problems of a few thousand
    numbers gain nothing from threads, which cost more than the step on a loaded machine (as in
    :func:`fit_gaussian_q`). Both settings are restored on exit.
    """
    validate, threads = Distribution._validate_args, torch.get_num_threads()
    Distribution.set_default_validate_args(False)
    torch.set_num_threads(1)
    try:
        yield
    finally:
        Distribution.set_default_validate_args(validate)
        torch.set_num_threads(threads)


def _one_observation(model: LinearGaussian, x) -> torch.Tensor:
    """``x`` checked against the toy model, and required to be one observation [d_x]."""
    x = model._check_x(x)
    if x.dim() != 1:
        raise ValueError(f"x: expected one observation of shape [{model.x_dim}], got {tuple(x.shape)}")
    return x


class GaussianFit(NamedTuple):
    """Result of :func:`fit_gaussian_q`: the ELBO after each step (index 0 = start) and the final q."""

    elbo: torch.Tensor
    q: Distribution


def fit_gaussian_q(model, x, family: str = "full", steps: int = 300, lr: float = 0.05) -> GaussianFit:
    r"""Maximize the closed-form ELBO of a linear-Gaussian model over a Gaussian family of q.

    Starts at the prior :math:`q = \mathcal N(0, I)` and runs Adam on the mean :math:`m` and the
    Cholesky factor :math:`L` (log-diagonal and, for ``family="full"``, the strictly lower
    entries) of :math:`q = \mathcal N(m, LL^\top)`, maximizing

    .. math:: \mathcal L(q) = \mathbb E_q[\log p(x|z)] - \mathrm{KL}(q\,\|\,p(z))
              = \log p(x) - \mathrm{KL}(q\,\|\,p(z|x))

    (book equations ``eq-elbo-decomposition`` and ``eq-elbo-gap``), computed exactly by
    :meth:`LinearGaussian.elbo`.

    Parameters
    ----------
    model : vae_support.toy.LinearGaussian
    x : Tensor [d_x]
        One observation.
    family : {"full", "diagonal"}
        Full-covariance or diagonal Gaussian q.
    steps : int
        Number of Adam steps (≥ 1).
    lr : float
        Adam's learning rate (> 0).

    Returns
    -------
    GaussianFit
        ``elbo`` [steps + 1] in nats (before the first step, then after each step) and the
        final ``q`` (detached).
    """
    if family not in FAMILIES:
        raise ValueError(f"family: expected one of {FAMILIES}, got {family!r}")
    steps = check_integer("steps", steps)
    check_positive("lr", as_tensor("lr", lr))
    if not isinstance(model, LinearGaussian):
        raise TypeError(f"model: expected a LinearGaussian, got {type(model).__name__}")
    x = _one_observation(model, x)
    d, dtype = model.z_dim, model.W.dtype
    loc = torch.zeros(d, dtype=dtype, requires_grad=True)
    diag_raw = torch.zeros(d, dtype=dtype, requires_grad=True)
    off_diag = torch.zeros(d * (d - 1) // 2, dtype=dtype, requires_grad=family == "full")
    params = [loc, diag_raw] + ([off_diag] if family == "full" else [])
    opt = torch.optim.Adam(params, lr=float(lr))
    trace = []
    with _small_problem():
        for _ in range(steps):
            value = model.elbo(x, _gaussian_from(params))
            trace.append(value.detach())
            opt.zero_grad()
            (-value).backward()
            opt.step()
    with torch.no_grad():
        q = _gaussian_from([p.detach() for p in params])
        trace.append(model.elbo(x, q))
    return GaussianFit(torch.stack(trace), q)


def optimal_diagonal_gaussian(posterior: MultivariateNormal) -> Distribution:
    r"""The diagonal Gaussian closest to a Gaussian posterior in reverse KL.

    .. math:: \arg\min_{q\ \mathrm{diagonal}} \mathrm{KL}(q\,\|\,\mathcal N(\mu, \Lambda^{-1}))
              = \mathcal N\big(\mu,\ \operatorname{diag}(1/\Lambda_{11}, \dots, 1/\Lambda_{dd})\big),

    with the minimal KL :math:`\tfrac12\big(\sum_j \log\Lambda_{jj} - \log\det\Lambda\big)`
    (Bishop, 2006, §10.1.2): the mean is exact, the variances are the *conditional* variances,
    smaller than the marginal ones when the posterior is correlated.

    Parameters
    ----------
    posterior : MultivariateNormal, batch shape [...], event [d]

    Returns
    -------
    Independent(Normal, 1), batch shape [...], event [d].
    """
    if not isinstance(posterior, MultivariateNormal):
        raise TypeError(f"posterior: expected a MultivariateNormal, got {type(posterior).__name__}")
    precision_diag = torch.diagonal(posterior.precision_matrix, dim1=-2, dim2=-1)
    return diagonal_gaussian(posterior.mean, precision_diag.rsqrt())


def ascend_elbo_path(model: LinearGaussian, x, mean0, std0, steps: int = 60, lr: float = 0.1) -> QPath:
    r"""Gradient ascent on the exact ELBO of a diagonal Gaussian q in a linear-Gaussian model.

    q = :math:`\mathcal N(m, \operatorname{diag} s^2)` with parameters :math:`(m, \log s)`; each step
    :math:`\theta \leftarrow \theta + \eta\,\nabla_\theta\mathcal L`, with the closed-form ELBO of
    :meth:`~vae_support.toy.LinearGaussian.elbo` (book equation ``eq-elbo-decomposition``).
    At each recorded step the exact :math:`\mathrm{KL}(q\,\|\,p(z|x))` is computed too, so the
    path shows :math:`\mathcal L + \mathrm{KL} = \log p(x)` (``eq-elbo-gap``).

    Parameters
    ----------
    model : LinearGaussian
    x : Tensor [d_x]
        One observation.
    mean0, std0 : Tensor [d_z]
        Starting mean and standard deviations of q.
    steps : int
        Number of gradient steps (the path has ``steps + 1`` points).
    lr : float
        Step size :math:`\eta > 0`.

    Returns
    -------
    QPath
    """
    if not isinstance(model, LinearGaussian):
        raise TypeError(f"model: expected a LinearGaussian, got {type(model).__name__}")
    steps = check_integer("steps", steps, minimum=1)
    lr = float(check_positive("lr", as_tensor("lr", lr)))
    dtype = model.W.dtype
    x = _one_observation(model, x)
    mean = check_finite("mean0", as_tensor("mean0", mean0, dtype=dtype)).to(dtype).clone()
    log_std = check_positive("std0", as_tensor("std0", std0, dtype=dtype)).to(dtype).log().clone()
    for name, t in (("mean0", mean), ("std0", log_std)):
        if t.shape != (model.z_dim,):
            raise ValueError(f"{name}: expected shape ({model.z_dim},), got {tuple(t.shape)}")
    posterior = model.posterior(x)
    means, stds, elbos, kls = [], [], [], []
    with _small_problem():
        _ascend(model, x, posterior, mean, log_std, steps, lr, means, stds, elbos, kls)
    return QPath(torch.stack(means), torch.stack(stds), torch.stack(elbos), torch.stack(kls), model.log_marginal(x).detach())


def _ascend(model, x, posterior, mean, log_std, steps, lr, means, stds, elbos, kls) -> None:
    """The loop of :func:`ascend_elbo_path`: appends each step's q and values to the lists."""
    for step in range(steps + 1):
        mean.requires_grad_(True)
        log_std.requires_grad_(True)
        cov = torch.diag(torch.exp(2 * log_std))
        q = MultivariateNormal(mean, covariance_matrix=cov)
        elbo = model.elbo(x, q)
        means.append(mean.detach().clone())
        stds.append(log_std.detach().exp())
        elbos.append(elbo.detach())
        kls.append(kl_divergence(q, posterior).detach())
        if step == steps:
            break
        g_mean, g_log_std = torch.autograd.grad(elbo, (mean, log_std))
        mean = (mean + lr * g_mean).detach()
        log_std = (log_std + lr * g_log_std).detach()


def fit_normal(grid: Grid1D, divergence: str = "reverse", mean0: float = 0.0, std0: float = 1.0,
               steps: int = 300, lr: float = 0.05) -> NormalFit:
    r"""Fit :math:`q = \mathcal N(m, s^2)` to a grid posterior by minimizing a KL with Adam.

    ``divergence="reverse"`` minimizes :math:`\mathrm{KL}(q\,\|\,p(z|x))` (the ELBO's, mode-seeking:
    the answer depends on the start); ``"forward"`` minimizes :math:`\mathrm{KL}(p(z|x)\,\|\,q)`
    (mass-covering: its minimizer matches the posterior's mean and variance). Both are grid
    integrals (:meth:`Grid1D.kl`, :meth:`Grid1D.forward_kl`, book equation ``eq-kl-def``).

    Parameters
    ----------
    grid : Grid1D
    divergence : {"reverse", "forward"}
    mean0, std0 : float
        Starting point.
    steps : int
    lr : float
        Adam's step size.

    Returns
    -------
    NormalFit
        The fitted mean and standard deviation and the divergence at the fit, in nats.
    """
    if not isinstance(grid, Grid1D):
        raise TypeError(f"grid: expected a Grid1D, got {type(grid).__name__}")
    if divergence not in ("reverse", "forward"):
        raise ValueError(f"divergence: expected 'reverse' or 'forward', got {divergence!r}")
    objective = grid.kl if divergence == "reverse" else grid.forward_kl
    steps = check_integer("steps", steps, minimum=1)
    params = torch.tensor([float(check_finite("mean0", as_tensor("mean0", mean0))),
                           math.log(float(check_positive("std0", as_tensor("std0", std0))))],
                          dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([params], lr=float(check_positive("lr", as_tensor("lr", lr))))
    if divergence == "reverse":  # KL(q‖p) integrates over q: the grid must resolve it
        with torch.no_grad():
            grid.check_q(Normal(params[0], params[1].exp()), "mean0, std0")
    with _small_problem():
        for step in range(steps):
            opt.zero_grad()
            try:
                objective(Normal(params[0], params[1].exp())).backward()
            except ValueError as err:  # q left the grid, or became narrower than its spacing
                raise ValueError(f"lr: at step {step}, q = N({float(params[0]):.4g}, {float(params[1].exp()):.4g}²) "
                                 f"is no longer resolved by the grid; use a smaller lr or a wider grid") from err
            opt.step()
    with torch.no_grad():
        value = objective(Normal(params[0], params[1].exp()))
    params = params.detach()
    return NormalFit(float(params[0]), float(params[1].exp()), float(value))
