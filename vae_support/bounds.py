r"""Bounds on the log evidence, computed from log importance weights.

Every function here works per data point and in nats. Shapes follow torch:
``[samples, batch]`` for log-weights, ``[batch]`` for bounds. The value of a bound is kept apart
from any gradient surrogate (see ``vae_support.gradients``): ``iwae_bound`` is the bound, not a
loss.

The central object is the log importance weight

.. math::  \log w = \log p(x\mid z) + \log p(z) - \log q(z\mid x),\qquad z\sim q(z\mid x),

whose average is the ELBO and whose log-mean-exp is the IWAE bound.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch.distributions import Distribution, kl_divergence

from ._checks import as_tensor, check_finite, check_min_dim, check_nonnegative_scalar, check_not_empty, check_same_shape


class ElboTerms(NamedTuple):
    """The ELBO split as reconstruction − KL (book equation ``eq-elbo-decomposition``), each [batch]."""

    reconstruction: torch.Tensor
    kl: torch.Tensor
    elbo: torch.Tensor


def _check_log_w(log_w) -> torch.Tensor:
    log_w = as_tensor("log_w", log_w)
    check_min_dim("log_w", log_w, 1, "(samples first: [samples, batch])")
    check_not_empty("log_w", log_w, 0, "sample (the first dimension)")
    if torch.isnan(log_w).any() or (log_w == float("inf")).any():
        raise ValueError("log_w: expected finite values or -inf, found NaN or +inf")
    return log_w


def log_weights(log_px_z, log_pz, log_qz_x) -> torch.Tensor:
    r"""Log importance weights :math:`\log w = \log p(x|z) + \log p(z) - \log q(z|x)`.

    Book equation ``eq-log-weights``.

    Parameters
    ----------
    log_px_z, log_pz, log_qz_x : Tensor [samples, batch]
        Log-likelihood, log-prior and log-density of q, all at the same samples z ~ q(z|x).

    Returns
    -------
    Tensor [samples, batch]
        :math:`\log w` in nats.
    """
    log_px_z = check_finite("log_px_z", as_tensor("log_px_z", log_px_z))
    log_pz = check_finite("log_pz", as_tensor("log_pz", log_pz))
    log_qz_x = check_finite("log_qz_x", as_tensor("log_qz_x", log_qz_x))
    check_same_shape(log_px_z=log_px_z, log_pz=log_pz, log_qz_x=log_qz_x)
    return log_px_z + log_pz - log_qz_x


def elbo(log_w) -> torch.Tensor:
    r"""Monte Carlo ELBO: the mean of the log-weights over the sample dimension.

    .. math:: \mathcal L(x) = \mathbb E_{q(z|x)}[\log w] \approx \frac1S\sum_{s=1}^S \log w_s

    Book equation ``eq-elbo-def``.

    Parameters
    ----------
    log_w : Tensor [samples, batch]

    Returns
    -------
    Tensor [batch]
        One ELBO per data point, in nats.
    """
    return _check_log_w(log_w).mean(0)


def elbo_terms(log_px_z, q: Distribution, p: Distribution, z=None) -> ElboTerms:
    r"""The ELBO as reconstruction minus KL, with the KL in closed form where one exists.

    .. math:: \mathcal L(x) = \mathbb E_{q(z|x)}[\log p(x|z)] - \mathrm{KL}(q(z|x)\,\|\,p(z))

    Book equation ``eq-elbo-decomposition``. The reconstruction term is the mean of
    ``log_px_z`` over samples; the KL uses ``torch.distributions.kl_divergence`` when the pair
    (q, p) has a registered closed form, and otherwise the Monte Carlo average of
    :math:`\log q(z) - \log p(z)` at the samples ``z`` (which must then be given).

    Parameters
    ----------
    log_px_z : Tensor [samples, batch]
        :math:`\log p(x|z_s)` at samples :math:`z_s \sim q(z|x)`.
    q : Distribution, batch shape [batch]
        The variational posterior :math:`q(z|x)`.
    p : Distribution
        The prior :math:`p(z)`.
    z : Tensor [samples, batch, latent], optional
        The samples behind ``log_px_z``; needed only when no closed-form KL exists.

    Returns
    -------
    ElboTerms
        ``reconstruction``, ``kl`` and ``elbo``, each [batch], in nats.
    """
    log_px_z = check_finite("log_px_z", as_tensor("log_px_z", log_px_z))
    check_min_dim("log_px_z", log_px_z, 1, "(samples first: [samples, batch])")
    check_not_empty("log_px_z", log_px_z, 0, "sample (the first dimension)")
    if not isinstance(q, Distribution):
        raise TypeError(f"q: expected a torch.distributions.Distribution, got {type(q).__name__}")
    if not isinstance(p, Distribution):
        raise TypeError(f"p: expected a torch.distributions.Distribution, got {type(p).__name__}")
    reconstruction = log_px_z.mean(0)
    if reconstruction.numel() == 0:  # no data points: empty terms (torch's KLs cannot sum over no points)
        return ElboTerms(reconstruction, reconstruction.clone(), reconstruction.clone())
    try:
        kl = kl_divergence(q, p)
    except NotImplementedError:
        if z is None:
            raise ValueError(
                f"z: no closed-form KL for ({type(q).__name__}, {type(p).__name__}); pass the samples z to estimate it"
            ) from None
        kl = (q.log_prob(z) - p.log_prob(z)).mean(0)
    kl = kl.expand_as(reconstruction)
    return ElboTerms(reconstruction, kl, reconstruction - kl)


def beta_elbo(reconstruction, kl, beta: float = 1.0) -> torch.Tensor:
    r"""The β-weighted ELBO :math:`\mathbb E_q[\log p(x|z)] - \beta\,\mathrm{KL}(q\|p)`.

    Book equation ``eq-beta-elbo`` (Higgins et al., 2017). ``beta = 1`` gives the ELBO. Since
    KL ≥ 0, ``beta > 1`` gives a looser lower bound on :math:`\log p(x)`, while ``beta < 1`` may
    exceed :math:`\log p(x)`: it is then no bound at all.

    Parameters
    ----------
    reconstruction, kl : Tensor [batch]
        As returned in :class:`ElboTerms`.
    beta : float
        Non-negative weight of the KL term.

    Returns
    -------
    Tensor [batch], nats.
    """
    beta = check_nonnegative_scalar("beta", beta)
    reconstruction = check_finite("reconstruction", as_tensor("reconstruction", reconstruction))
    kl = check_finite("kl", as_tensor("kl", kl))
    if (kl < -1e-6).any():
        raise ValueError(f"kl: expected non-negative values, found min {float(kl.min()):.4g}")
    check_same_shape(reconstruction=reconstruction, kl=kl)
    return reconstruction - beta * kl


def iwae_bound(log_w) -> torch.Tensor:
    r"""The importance-weighted bound :math:`\mathcal L_K`, by a stable log-mean-exp.

    .. math:: \mathcal L_K(x) = \log \frac1K\sum_{k=1}^K w_k
              = \operatorname{logsumexp}_k(\log w_k) - \log K

    Book equation ``eq-iwae`` (Burda et al., 2016). With K = 1 it is a single-sample ELBO; its
    expectation does not decrease with K and tends to :math:`\log p(x)`.

    Parameters
    ----------
    log_w : Tensor [K, batch]

    Returns
    -------
    Tensor [batch], nats.
    """
    return _log_mean_exp(_check_log_w(log_w))


def _log_mean_exp(log_w: torch.Tensor) -> torch.Tensor:
    r""":math:`\log\frac1K\sum_k e^{\log w_k}` over the first dimension, without input checks."""
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])


def iwae_bounds_by_k(log_w, ks) -> torch.Tensor:
    r"""IWAE bounds :math:`\mathcal L_K` for several K from one set of N log-weights per data point.

    The N samples are cut into N/K disjoint groups of K consecutive draws; each group gives one
    independent :math:`\mathcal L_K` (book equation ``eq-iwae``, by :func:`iwae_bound`), and the
    N/K groups of each data point are averaged. Every group is K i.i.d. draws from q, so each
    average is an unbiased estimate of :math:`\mathbb E[\mathcal L_K]`, all from the same draws.

    Parameters
    ----------
    log_w : Tensor [N, batch]
        Log-weights (book equation ``eq-log-weights``).
    ks : sequence of int
        Each a divisor of N.

    Returns
    -------
    Tensor [len(ks), batch]
        Average :math:`\mathcal L_K` of each data point, in nats.
    """
    log_w = _check_log_w(log_w)
    if log_w.dim() != 2:
        raise ValueError(f"log_w: expected shape [N, batch], got {tuple(log_w.shape)}")
    n, batch = log_w.shape
    out = []
    for k in ks:
        if not isinstance(k, (int, float, torch.Tensor)) or isinstance(k, bool) or int(k) != k or k < 1 or n % int(k):
            raise ValueError(f"ks: expected divisors of N={n}, got {k!r}")
        k = int(k)
        groups = log_w.reshape(n // k, k, batch).transpose(0, 1).reshape(k, -1)  # [K, groups*batch]
        out.append(iwae_bound(groups).reshape(n // k, batch).mean(0))
    return torch.stack(out)


def estimate_log_likelihood(model, x, k: int = 1000, max_samples: int = 20000) -> torch.Tensor:
    r"""Importance-sampled :math:`\log p(x)` of a trained model: the IWAE bound with large K.

    .. math:: \log p(x) \approx \mathcal L_K(x) = \log\frac1K\sum_{k=1}^K
              \frac{p(x\mid z_k)\,p(z_k)}{q(z_k\mid x)},\qquad z_k\sim q(z\mid x)

    Book equations ``eq-log-marginal`` and ``eq-iwae`` (Burda et al., 2016). A lower bound in
    expectation that tightens as K grows; K = 1000 is the usual benchmark value. Batched so
    that no forward pass holds more than ``max_samples`` samples: points are processed in
    chunks of ``max_samples // K`` and, when K alone exceeds ``max_samples``, the K samples of
    a point in pieces combined by log-sum-exp.

    Parameters
    ----------
    model : vae_support.models.VAE or DiscreteVAE
        Anything with ``log_weights(x, k) -> [k, batch]``.
    x : Tensor [batch, x_dim]
    k : int
        Importance samples per point, K ≥ 1.
    max_samples : int
        Memory budget: samples per forward pass.

    Returns
    -------
    Tensor [batch]
        :math:`\log p(x)` estimates in nats (no gradient).
    """
    from ._checks import check_integer

    k = check_integer("k", k)
    max_samples = check_integer("max_samples", max_samples)
    if not hasattr(model, "log_weights"):
        raise TypeError(f"model: expected a model with log_weights(x, k), got {type(model).__name__}")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x: expected a torch.Tensor [batch, x_dim], got {type(x).__name__}")
    per_pass = min(k, max_samples)
    points = max(1, max_samples // per_pass)
    pieces = [per_pass] * (k // per_pass) + ([k % per_pass] if k % per_pass else [])
    out = []
    with torch.no_grad():
        for xb in x.split(points):
            log_w = torch.cat([model.log_weights(xb, s) for s in pieces])
            out.append(iwae_bound(log_w))
    return torch.cat(out)
