r"""Gradient estimators for expectations under q, written as *surrogates*.

A surrogate is a scalar-per-data-point tensor whose autograd gradient is the estimator; its
*value* is not the bound (the bounds live in :mod:`vae_support.bounds`). Keeping them apart is
the rule of the package: ``iwae_bound`` is a bound, :func:`iwae_surrogate` is what one
differentiates.

For :math:`\mathcal F(\phi) = \mathbb E_{q_\phi(z)}[f(z)]`:

* reparameterization (book equation ``eq-reparam-gradient``):
  :math:`\nabla_\phi\mathcal F = \mathbb E_{\epsilon}[\nabla_\phi f(g_\phi(\epsilon))]`;
* score function / REINFORCE (book equation ``eq-score-function``):
  :math:`\nabla_\phi\mathcal F = \mathbb E_q[(f(z) - b)\,\nabla_\phi\log q_\phi(z)]`
  for any baseline b that does not depend on z;
* VIMCO (Mnih & Rezende, 2016): the score-function estimator of the IWAE bound with a
  per-sample leave-one-out baseline.

:func:`gradient_draws` and :func:`estimator_variance` evaluate a surrogate many times to
measure an estimator's mean and variance; :func:`encoder_gradient_variance` does it for the
score-function and VIMCO estimators of a discrete-latent model.

The end of the module computes what the geometry chapters draw: the encoder's gradient split
into its reconstruction and regularization parts (:func:`encoder_gradient_split`, and the two
fields over a grid of q's means, :func:`reconstruction_gradient`,
:func:`regularization_gradient`) and the reparameterization map of a grid
(:func:`reparameterize_grid`).
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple, Sequence

import torch
from torch.distributions import Bernoulli, Distribution, Independent, Normal, kl_divergence

from . import bounds
from ._checks import as_tensor, check_finite, check_integer, check_min_dim, check_positive, check_same_shape
from .models import DiscreteVAE
from ._checks import check_broadcastable, check_no_nan, check_not_empty, check_real  # merge with the line above once the DReG/STL branch lands


def reparameterization_surrogate(f_z: torch.Tensor) -> torch.Tensor:
    r"""Surrogate of the reparameterization estimator: the sample mean of :math:`f(z_s)`.

    .. math:: \widehat{\nabla_\phi\mathcal F} = \frac1S\sum_{s=1}^S \nabla_\phi f\big(g_\phi(\epsilon_s)\big)

    Book equation ``eq-reparam-gradient``. ``f_z`` must be computed at
    :math:`z_s = g_\phi(\epsilon_s)` drawn with ``rsample``, so that gradients flow through z.

    Parameters
    ----------
    f_z : Tensor [samples, batch...]

    Returns
    -------
    Tensor [batch...]
    """
    f_z = _samples_first("f_z", f_z)
    check_no_nan(f_z=f_z)
    return f_z.mean(0)


def score_function_surrogate(f_z: torch.Tensor, log_q: torch.Tensor, baseline=None) -> torch.Tensor:
    r"""Surrogate of the score-function (REINFORCE) estimator, with an optional baseline.

    .. math::
        \widehat{\nabla_\phi\mathcal F} = \frac1S\sum_{s=1}^S
            \big(f(z_s) - b\big)\,\nabla_\phi\log q_\phi(z_s) + \nabla_\phi f(z_s)

    Book equation ``eq-score-function``. The surrogate is
    :math:`\frac1S\sum_s [\operatorname{sg}(f(z_s) - b)\log q_\phi(z_s) + f(z_s)]` (sg = stop
    gradient). Only its gradient means something: the first term gives the score-function part,
    the second carries f's own dependence on the parameters (e.g. the decoder's) and contributes
    nothing when f does not depend on them. Samples must come from ``sample()`` (no path
    through z).

    Parameters
    ----------
    f_z : Tensor [samples, batch...]
        :math:`f(z_s)`.
    log_q : Tensor [samples, batch...]
        :math:`\log q_\phi(z_s)`, differentiable in :math:`\phi`.
    baseline : Tensor or float, optional
        b, broadcast against ``f_z``; must not depend on :math:`z_s` (it is detached). Default 0.

    Returns
    -------
    Tensor [batch...]
    """
    f_z = _samples_first("f_z", f_z)
    log_q = as_tensor("log_q", log_q)
    check_same_shape(f_z=f_z, log_q=log_q)
    b = torch.zeros(()) if baseline is None else as_tensor("baseline", baseline).detach()
    check_broadcastable(f_z=f_z, baseline=b)
    check_no_nan(f_z=f_z, log_q=log_q, baseline=b)
    if baseline is None:
        b = 0.0
    return ((f_z.detach() - b) * log_q + f_z).mean(0)


def _samples_first(name: str, value) -> torch.Tensor:
    """``value`` as a floating tensor with a non-empty first (samples) dimension, or ``ValueError``."""
    t = as_tensor(name, value)
    check_min_dim(name, t, 1, "(samples first)")
    return check_not_empty(name, t, 0, "sample (the first dimension)")


def leave_one_out_baseline(f_z: torch.Tensor) -> torch.Tensor:
    r"""Baseline of each sample from the others: :math:`b_s = \frac1{S-1}\sum_{t\ne s} f(z_t)`.

    Independent of :math:`z_s`, so the score-function estimator stays unbiased. Needs S ≥ 2.

    Returns
    -------
    Tensor, same shape as ``f_z`` [samples, batch...], detached.
    """
    f_z = as_tensor("f_z", f_z).detach()
    s = f_z.shape[0] if f_z.dim() else 0
    if s < 2:
        raise ValueError(f"f_z: the leave-one-out baseline needs at least 2 samples, got {s}")
    check_no_nan(f_z=f_z)
    fast = (f_z.sum(0, keepdim=True) - f_z) / (s - 1)
    # An infinite f(z_t) (a log-weight of -inf) makes total - f(z_t) = inf - inf = NaN at t:
    # there the others are summed directly, which is defined (b = 2.5 for [-inf, 2, 3]).
    eye = torch.eye(s, dtype=torch.bool, device=f_z.device).view(s, s, *([1] * (f_z.dim() - 1)))
    others = f_z.unsqueeze(0).expand(s, *f_z.shape).masked_fill(eye, 0.0).sum(1) / (s - 1)
    return torch.where(torch.isinf(f_z).any(0, keepdim=True), others, fast)


def iwae_surrogate(log_w: torch.Tensor) -> torch.Tensor:
    r"""Surrogate of the reparameterized IWAE gradient (Burda et al., 2016).

    .. math:: \nabla\mathcal L_K = \sum_k \tilde w_k\,\nabla\log w_k,\qquad
              \tilde w_k = w_k / \textstyle\sum_j w_j

    With reparameterized samples the gradient of :math:`\mathcal L_K` (book equation
    ``eq-iwae``) is exactly this self-normalized average, so the surrogate is the bound itself,
    :func:`vae_support.bounds.iwae_bound`, evaluated on differentiable log-weights.

    Parameters
    ----------
    log_w : Tensor [K, batch]
        Log-weights at reparameterized samples.

    Returns
    -------
    Tensor [batch]
    """
    return bounds.iwae_bound(log_w)


def vimco_surrogate(log_w: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    r"""Surrogate of the VIMCO estimator of the IWAE gradient (Mnih & Rezende, 2016).

    For :math:`\hat L = \log\frac1K\sum_k w_k` with samples that cannot be reparameterized,

    .. math::
        \widehat{\nabla}\hat L = \sum_k \big(\hat L - \hat L_{-k}\big)\nabla\log q(z_k|x)
              + \sum_k \tilde w_k\,\nabla\log w_k,

    where :math:`\hat L_{-k}` replaces :math:`\log w_k` by the mean of the other log-weights
    (a baseline that does not depend on :math:`z_k`) and :math:`\tilde w_k` are the normalized
    weights. The surrogate is
    :math:`\sum_k \operatorname{sg}(\hat L - \hat L_{-k})\log q(z_k|x) + \hat L`; its value is
    not a bound (use :func:`vae_support.bounds.iwae_bound` for that).

    Parameters
    ----------
    log_w : Tensor [K, batch]
        Log-weights at samples drawn with ``sample()`` (K ≥ 2); differentiable in the model's
        parameters through :math:`\log p` and :math:`\log q`.
    log_q : Tensor [K, batch]
        :math:`\log q(z_k|x)`, differentiable in the encoder's parameters.

    Returns
    -------
    Tensor [batch]
    """
    log_w = bounds._check_log_w(log_w)  # finite or -inf (a zero weight)
    log_q = as_tensor("log_q", log_q)
    check_same_shape(log_w=log_w, log_q=log_q)
    k = log_w.shape[0]
    if k < 2:
        raise ValueError(f"log_w: VIMCO needs K >= 2 samples, got K={k}")
    check_no_nan(log_q=log_q)
    lw = log_w.detach()
    bound = bounds._log_mean_exp(log_w)
    # log-weights with the k-th replaced by the mean of the others: [K(which is replaced), K, batch]
    loo_mean = leave_one_out_baseline(lw)
    eye = torch.eye(k, dtype=torch.bool, device=lw.device).view(k, k, *([1] * (lw.dim() - 1)))
    replaced = torch.where(eye, loo_mean.unsqueeze(1), lw.unsqueeze(0))
    bound_without = torch.logsumexp(replaced, dim=1) - math.log(k)
    learning_signal = bound.detach().unsqueeze(0) - bound_without
    return (learning_signal * log_q).sum(0) + bound


class EstimatorStats(NamedTuple):
    """Mean and variance over repeated draws of a gradient estimator, per flattened parameter entry."""

    mean: torch.Tensor
    variance: torch.Tensor
    draws: torch.Tensor


def _flat_grad(value: torch.Tensor, params: Sequence[torch.Tensor]) -> torch.Tensor:
    grads = torch.autograd.grad(value, params, allow_unused=True)
    return torch.cat([torch.zeros_like(p).flatten() if g is None else g.flatten() for p, g in zip(params, grads)])


def gradient_draws(surrogate: Callable[[], torch.Tensor], params: Sequence[torch.Tensor], n_draws: int) -> torch.Tensor:
    r"""Evaluate ``surrogate()`` (a fresh random draw each call) ``n_draws`` times and stack its gradients.

    Parameters
    ----------
    surrogate : callable returning a Tensor
        Draws new samples and returns a surrogate; a non-scalar result is summed (per data
        point values, so the gradient is that of their sum).
    params : sequence of Tensor
        Leaves with ``requires_grad=True``.
    n_draws : int
        Number of independent gradient estimates.

    Returns
    -------
    Tensor [n_draws, P]
        One flattened gradient estimate per row (P = total number of parameter entries).
    """
    n_draws = check_integer("n_draws", n_draws)
    params = list(params)
    if not params or not all(isinstance(p, torch.Tensor) and p.requires_grad for p in params):
        raise ValueError("params: expected a non-empty sequence of tensors with requires_grad=True")
    return torch.stack([_flat_grad(surrogate().sum(), params) for _ in range(n_draws)])


def estimator_variance(surrogate: Callable[[], torch.Tensor], params: Sequence[torch.Tensor],
                       n_draws: int = 1000) -> EstimatorStats:
    r"""Empirical mean and variance of a gradient estimator over ``n_draws`` repeated draws.

    .. math:: \bar g = \frac1N\sum_n g_n,\qquad
              \widehat{\operatorname{Var}}[g] = \frac1{N-1}\sum_n (g_n - \bar g)^2

    per parameter entry (no sum over entries: take ``.sum()`` for the trace of the covariance).

    Returns
    -------
    EstimatorStats
        ``mean`` [P], ``variance`` [P] and the ``draws`` [n_draws, P].
    """
    n_draws = check_integer("n_draws", n_draws, minimum=2)
    draws = gradient_draws(surrogate, params, n_draws)
    return EstimatorStats(draws.mean(0), draws.var(0), draws)


# ---------------------------------------------------------------------------------------------
# The two parts of the encoder's gradient, the reparameterization map, and estimator variance
# for discrete latents (chapters 5 and 8)
# ---------------------------------------------------------------------------------------------
def reconstruction_gradient(log_likelihood, mean, std, eps) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The reconstruction term and its gradient with respect to q's mean, by reparameterization.

    .. math::
        R(\mu) = \frac1S\sum_{s=1}^S \log p(x\mid \mu + \sigma\odot\varepsilon_s),\qquad
        \nabla_\mu R = \frac1S\sum_s \nabla_z \log p(x\mid z)\big|_{z=\mu+\sigma\odot\varepsilon_s}

    the Monte Carlo form of :math:`\nabla_\mu\mathbb E_{q}[\log p(x|z)]` (book equation
    ``eq-reparam-gradient``). The same draws ε serve every mean (common random numbers), so a
    field of gradients over a grid of means is smooth.

    Parameters
    ----------
    log_likelihood : callable
        ``log_likelihood(z)`` with z [S, G, d] returns :math:`\log p(x|z)` [S, G].
    mean : Tensor [G, d]
        Means of q (e.g. a grid in the latent plane).
    std : Tensor [d] or [G, d]
        Standard deviations of q (positive).
    eps : Tensor [S, d]
        Standard-normal draws.

    Returns
    -------
    (Tensor [G], Tensor [G, d])
        :math:`R(\mu)` in nats and :math:`\nabla_\mu R`.
    """
    mean = check_finite("mean", as_tensor("mean", mean)).detach().clone().requires_grad_(True)
    std = check_positive("std", as_tensor("std", std)).to(mean.dtype)
    eps = check_finite("eps", as_tensor("eps", eps)).to(mean.dtype)
    if mean.dim() != 2 or eps.dim() != 2 or eps.shape[-1] != mean.shape[-1]:
        raise ValueError(f"mean, eps: expected shapes [G, d] and [S, d], got {tuple(mean.shape)} and {tuple(eps.shape)}")
    z = mean.unsqueeze(0) + std * eps.unsqueeze(1)
    recon = log_likelihood(z).mean(0)
    (grad,) = torch.autograd.grad(recon.sum(), mean)
    return recon.detach(), grad


def regularization_gradient(mean, std, prior: Distribution, eps=None) -> torch.Tensor:
    r"""The gradient :math:`-\nabla_\mu \mathrm{KL}(q\,\|\,p(z))` of the regularization term.

    For q = :math:`\mathcal N(\mu, \operatorname{diag}\sigma^2)`. When ``torch`` knows the KL in
    closed form (standard normal prior: the gradient is exactly :math:`-\mu`, book equation
    ``eq-kl-gaussian-diag``) it is used; otherwise (a mixture prior) the KL is the Monte Carlo
    average :math:`\frac1S\sum_s[\log q(z_s) - \log p(z_s)]` at :math:`z_s=\mu+\sigma\odot\varepsilon_s`
    (``eq-kl-mc``) and ``eps`` must be given. Passing antithetic draws (ε and −ε) makes the
    estimate exact for a single Gaussian prior.

    Parameters
    ----------
    mean : Tensor [G, d]
    std : Tensor [d] or [G, d]
    prior : Distribution, event [d]
    eps : Tensor [S, d], optional

    Returns
    -------
    Tensor [G, d]
    """
    if not isinstance(prior, Distribution):
        raise TypeError(f"prior: expected a torch.distributions.Distribution, got {type(prior).__name__}")
    mean = check_finite("mean", as_tensor("mean", mean)).detach().clone().requires_grad_(True)
    std = check_positive("std", as_tensor("std", std)).to(mean.dtype).expand_as(mean)
    q = torch.distributions.Independent(Normal(mean, std), 1)
    try:
        kl = kl_divergence(q, prior)
    except NotImplementedError:
        if eps is None:
            raise ValueError(f"eps: no closed-form KL for this prior ({type(prior).__name__}); pass draws eps [S, d]") from None
        eps = check_finite("eps", as_tensor("eps", eps)).to(mean.dtype)
        z = mean.unsqueeze(0) + std.unsqueeze(0) * eps.unsqueeze(1)
        kl = (q.log_prob(z) - prior.log_prob(z)).mean(0)
    (grad,) = torch.autograd.grad(kl.sum(), mean)
    return -grad


def encoder_gradient_split(model, x, k: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The ELBO's gradient in the encoder's parameters φ, split into its two parts.

    .. math::
        \nabla_\phi\mathcal L = \underbrace{\nabla_\phi\,\mathbb E_{q_\phi}[\log p(x|z)]}_{\text{reconstruction}}
        \;\underbrace{-\;\nabla_\phi\,\mathrm{KL}(q_\phi(z|x)\,\|\,p(z))}_{\text{regularization}}

    (book equation ``eq-encoder-gradient``), for the *sum* over the batch of per-point terms.
    The reconstruction expectation is the reparameterized average over ``k`` draws
    (``model.forward_pass``, ``eq-reparam-gradient``); the KL is closed-form when torch knows it.

    Parameters
    ----------
    model : vae_support.models.VAE
    x : Tensor [batch, x_dim]
    k : int
        Draws of z per data point.

    Returns
    -------
    (Tensor [P], Tensor [P])
        The two gradients, flattened over the P encoder parameters (nats per unit of φ).
    """
    k = check_integer("k", k)
    params = [p for p in model.encoder.parameters() if p.requires_grad]
    f = model.forward_pass(x, k)
    terms = bounds.elbo_terms(f.log_px_z, f.q, f.prior, f.z)  # closed-form KL where torch has one, else Monte Carlo
    g_rec = torch.autograd.grad(terms.reconstruction.sum(), params, retain_graph=True)
    g_kl = torch.autograd.grad(terms.kl.sum(), params)
    return torch.cat([g.reshape(-1) for g in g_rec]), -torch.cat([g.reshape(-1) for g in g_kl])


def reparameterize_grid(mean, scale_tril, lim: float = 2.0, n_lines: int = 9, n_points: int = 50):
    r"""Map a square grid of ε-space to z-space by :math:`z = \mu + L\varepsilon` (``eq-reparam-gradient``).

    With a diagonal :math:`L = \operatorname{diag}\sigma` this is the VAE's
    :math:`z = \mu + \sigma\odot\varepsilon`.

    Parameters
    ----------
    mean : Tensor [2]
    scale_tril : Tensor [2, 2]
        Lower-triangular factor with positive diagonal.
    lim : float
        The grid covers [−lim, lim]² in ε-space.
    n_lines, n_points : int
        Lines per direction and points per line.

    Returns
    -------
    (Tensor [2, n_lines, n_points, 2], Tensor [2, n_lines, n_points, 2])
        The ε grid lines (horizontal, vertical) and their images in z-space.
    """
    mean = check_finite("mean", as_tensor("mean", mean))
    L = check_finite("scale_tril", as_tensor("scale_tril", scale_tril)).to(mean.dtype)
    if mean.shape != (2,) or L.shape != (2, 2):
        raise ValueError(f"mean, scale_tril: expected shapes (2,) and (2, 2), got {tuple(mean.shape)} and {tuple(L.shape)}")
    if not torch.equal(L, torch.tril(L)) or not (torch.diagonal(L) > 0).all():
        raise ValueError("scale_tril: expected a lower-triangular matrix with positive diagonal")
    lim = check_real("lim", lim, minimum=0.0, inclusive=False)
    levels = torch.linspace(-lim, lim, check_integer("n_lines", n_lines, minimum=2), dtype=mean.dtype)
    t = torch.linspace(-lim, lim, check_integer("n_points", n_points, minimum=2), dtype=mean.dtype)
    a, b = torch.meshgrid(levels, t, indexing="ij")
    eps = torch.stack([torch.stack([b, a], -1), torch.stack([a, b], -1)])
    return eps, mean + eps @ L.T


def encoder_gradient_variance(model, x, k: int, estimator: str, replicas: int = 100) -> float:
    r"""Variance of a score-function estimator of :math:`\nabla\mathcal L_K` w.r.t. the encoder's outputs.

    For a model whose latents cannot be reparameterized (:class:`vae_support.models.DiscreteVAE`),
    the gradient of :math:`\mathcal L_K` (book equation ``eq-iwae``) with respect to the
    parameters :math:`\ell = \ell_\phi(x)` of :math:`q(z|x)` is estimated ``replicas`` times
    independently (all in one backward pass: each replica of x has its own copy of ℓ), by

    * ``"score"`` — plain score function (``eq-score-function``):
      :math:`\hat L\sum_k\nabla\log q(z_k|x) + \nabla\hat L`;
    * ``"vimco"`` — VIMCO (Mnih & Rezende, 2016): per-sample signals :math:`\hat L - \hat L_{-k}`.

    Parameters
    ----------
    model : DiscreteVAE
        Its encoder returns the logits of :math:`q(z|x) = \prod_j \mathrm{Bernoulli}(z_j)`.
    x : Tensor [batch, x_dim]
    k : int
        K ≥ 2 samples per estimate.
    estimator : {"score", "vimco"}
    replicas : int
        Independent estimates per data point (≥ 2).

    Returns
    -------
    float
        Per data point, the sum over the coordinates of ℓ of the estimator's variance, averaged
        over the batch.
    """
    if not isinstance(model, DiscreteVAE):
        raise TypeError(f"model: expected a vae_support.models.DiscreteVAE, got {type(model).__name__}")
    if estimator not in ("score", "vimco"):
        raise ValueError(f"estimator: expected 'score' or 'vimco', got {estimator!r}")
    k = check_integer("k", k, minimum=2)
    replicas = check_integer("replicas", replicas, minimum=2)
    x = model.check_x(x)
    xr = x.repeat(int(replicas), 1)  # [replicas*batch, x_dim]
    with torch.no_grad():
        params0 = model.encoder(xr * model.input_scale)
    params = params0.clone().requires_grad_(True)
    prior = model.prior_distribution()

    def surrogate():
        q = Independent(Bernoulli(logits=params, validate_args=False), 1)  # q(z|x) of DiscreteVAE
        z = q.sample((int(k),))
        log_q = q.log_prob(z)
        with torch.no_grad():
            log_joint = model.decode_unchecked(z).log_prob(xr) + prior.log_prob(z)
        log_w = log_joint - log_q  # differentiable in the encoder's outputs through log q
        if estimator == "vimco":
            return vimco_surrogate(log_w, log_q)
        bound = bounds.iwae_bound(log_w)
        return score_function_surrogate(bound[None], log_q.sum(0)[None])

    g = gradient_draws(surrogate, [params], 1).reshape(int(replicas), x.shape[0], -1)
    return float(g.var(0).sum(-1).mean())


# ---------------------------------------------------------------------------------------------
# Better gradients for the encoder (Part III): sticking the landing (STL), doubly
# reparameterized IWAE gradients (DReG), and the signal-to-noise ratio of an estimator
# ---------------------------------------------------------------------------------------------
def stop_gradient(q: Distribution) -> Distribution:
    r"""A copy of the Gaussian q whose parameters are detached: :math:`q_{\operatorname{sg}(\phi)}`.

    ``stop_gradient(q).log_prob(z)`` still depends on φ through a reparameterized z, but no longer
    through q's own parameters — the "path" part of :math:`\nabla_\phi\log q_\phi(z)` is kept, the
    "score" part dropped (Roeder et al., 2017).

    Parameters
    ----------
    q : Normal, Independent(Normal) or MultivariateNormal

    Returns
    -------
    Distribution of the same kind, batch and event shape, with detached parameters.
    """
    if isinstance(q, torch.distributions.MultivariateNormal):
        return torch.distributions.MultivariateNormal(q.loc.detach(), scale_tril=q.scale_tril.detach(), validate_args=False)
    if isinstance(q, Independent) and isinstance(q.base_dist, Normal):
        base = Normal(q.base_dist.loc.detach(), q.base_dist.scale.detach(), validate_args=False)
        return Independent(base, q.reinterpreted_batch_ndims, validate_args=False)
    if isinstance(q, Normal):
        return Normal(q.loc.detach(), q.scale.detach(), validate_args=False)
    raise TypeError(f"q: expected a Normal, Independent(Normal) or MultivariateNormal, got {type(q).__name__}")


def stopped_log_weights(log_px_z, log_pz, z, q: Distribution) -> torch.Tensor:
    r"""Log-weights with q's parameters stopped: :math:`\log p(x|z) + \log p(z) - \log q_{\operatorname{sg}(\phi)}(z|x)`.

    Same value as :func:`vae_support.bounds.log_weights` (book equation ``eq-log-weights``); only
    the gradient differs: with :math:`z = g_\phi(\epsilon)` from ``rsample`` it is the *path*
    derivative :math:`\nabla_z\log w\cdot\nabla_\phi z`, whose expectation under q equals that of
    the full gradient because the score :math:`\nabla_\phi\log q_\phi(z)` has mean zero
    (book equation ``eq-stl``). This is the input of :func:`stl_surrogate` and
    :func:`dreg_surrogate`.

    Parameters
    ----------
    log_px_z, log_pz : Tensor [samples, batch]
        At the reparameterized samples z.
    z : Tensor [samples, batch, z_dim]
        Samples drawn with ``q.rsample``.
    q : Gaussian Distribution, batch [batch]
        :math:`q_\phi(z|x)`; see :func:`stop_gradient`.

    Returns
    -------
    Tensor [samples, batch], nats.
    """
    z = check_finite("z", as_tensor("z", z))
    return bounds.log_weights(log_px_z, log_pz, stop_gradient(q).log_prob(z))


def _check_stopped_log_w(log_w) -> torch.Tensor:
    log_w = as_tensor("log_w", log_w)
    check_min_dim("log_w", log_w, 1, "(samples first: [K, batch])")
    return check_finite("log_w", log_w)


def stl_surrogate(log_w: torch.Tensor) -> torch.Tensor:
    r"""Surrogate of the sticking-the-landing ELBO gradient (Roeder et al., 2017).

    .. math:: \widehat{\nabla_\phi\mathcal L} = \frac1S\sum_{s=1}^S
              \nabla_z\big[\log p(x, z) - \log q_\phi(z|x)\big]_{z=g_\phi(\epsilon_s)}\,\nabla_\phi g_\phi(\epsilon_s)

    Book equation ``eq-stl``: the reparameterized ELBO gradient (``eq-reparam-gradient``) without
    the score term :math:`-\nabla_\phi\log q_\phi(z)|_{z\text{ fixed}}`, which has expectation
    zero. Unbiased for the ELBO; when q equals the exact posterior every draw is exactly zero
    (:math:`\log w = \log p(x)` for every z). The surrogate is the mean of ``log_w`` from
    :func:`stopped_log_weights`; its value equals the Monte Carlo ELBO
    (:func:`vae_support.bounds.elbo`), but use that function for the bound.

    Parameters
    ----------
    log_w : Tensor [samples, batch]
        From :func:`stopped_log_weights`.

    Returns
    -------
    Tensor [batch]

    Notes
    -----
    Applied to the IWAE bound (``bounds.iwae_bound`` of these log-weights), STL is *biased* for
    K > 1 (Tucker et al., 2019); :func:`dreg_surrogate` is the unbiased fix.
    """
    return _check_stopped_log_w(log_w).mean(0)


def dreg_surrogate(log_w: torch.Tensor) -> torch.Tensor:
    r"""Surrogate of the doubly reparameterized IWAE gradient for the *encoder* (Tucker et al., 2019).

    .. math:: \widehat{\nabla_\phi\mathcal L_K} = \sum_{k=1}^K \tilde w_k^{\,2}\;
              \nabla_z\log w_k\big|_{z=z_k}\,\nabla_\phi z_k,
              \qquad \tilde w_k = \frac{w_k}{\sum_j w_j}

    Book equation ``eq-dreg``. The surrogate is :math:`\sum_k \operatorname{sg}(\tilde w_k^2)\log w_k`
    with ``log_w`` from :func:`stopped_log_weights` (path derivative only). Its expectation is the
    exact gradient of :math:`\mathcal L_K` (``eq-iwae``) with respect to q's parameters φ; unlike
    the standard estimator (:func:`iwae_surrogate`), its signal-to-noise ratio does not vanish as
    K grows. With K = 1 it is :func:`stl_surrogate`.

    Only the gradient with respect to φ is DReG's. Differentiated with respect to the decoder's
    parameters θ it would weight by :math:`\tilde w_k^2` instead of :math:`\tilde w_k` — biased;
    take θ's gradient from :func:`iwae_surrogate`, which is already the right estimator for θ.

    Parameters
    ----------
    log_w : Tensor [K, batch]
        From :func:`stopped_log_weights`, at reparameterized samples.

    Returns
    -------
    Tensor [batch]
    """
    log_w = _check_stopped_log_w(log_w)
    weights_sq = torch.softmax(log_w.detach(), dim=0).pow(2)
    return (weights_sq * log_w).sum(0)


def signal_to_noise(draws: torch.Tensor) -> torch.Tensor:
    r"""Signal-to-noise ratio of a gradient estimator, per parameter entry (Rainforth et al., 2018).

    .. math:: \mathrm{SNR}_j = \frac{\lvert\mathbb E[g_j]\rvert}{\sqrt{\operatorname{Var}[g_j]}}
              \approx \frac{\lvert\bar g_j\rvert}{\hat s_j}

    Book equation ``eq-snr``, from independent estimates such as the rows of
    :func:`gradient_draws` (or :attr:`EstimatorStats.draws`), with the mean and the unbiased
    variance of :func:`estimator_variance`. An entry whose estimates are all equal has
    :math:`\hat s_j = 0`: its SNR is ``inf`` if its mean is non-zero and 0 if the estimator is
    exactly zero (no signal). With N draws, an entry whose true SNR is 0 still shows about
    :math:`\sqrt{2/(\pi N)}`: the estimate's floor.

    Parameters
    ----------
    draws : Tensor [N, P]
        N ≥ 2 independent gradient estimates, one per row.

    Returns
    -------
    Tensor [P]
        Dimensionless.
    """
    draws = check_finite("draws", as_tensor("draws", draws))
    if draws.dim() != 2 or draws.shape[0] < 2:
        raise ValueError(f"draws: expected shape [N >= 2, P], got {tuple(draws.shape)}")
    signal, noise = draws.mean(0).abs(), draws.var(0).sqrt()
    ratio = signal / torch.where(noise > 0, noise, torch.ones_like(noise))
    return torch.where(noise > 0, ratio, torch.where(signal > 0, torch.full_like(signal, math.inf), torch.zeros_like(signal)))
