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
measure an estimator's mean and variance.
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple, Sequence

import torch

from . import bounds
from ._checks import as_tensor, check_integer, check_min_dim, check_same_shape


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
    f_z = as_tensor("f_z", f_z)
    check_min_dim("f_z", f_z, 1, "(samples first)")
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
    f_z = as_tensor("f_z", f_z)
    log_q = as_tensor("log_q", log_q)
    check_min_dim("f_z", f_z, 1, "(samples first)")
    check_same_shape(f_z=f_z, log_q=log_q)
    b = 0.0 if baseline is None else as_tensor("baseline", baseline).detach()
    return ((f_z.detach() - b) * log_q + f_z).mean(0)


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
    return (f_z.sum(0, keepdim=True) - f_z) / (s - 1)


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
    log_w = as_tensor("log_w", log_w)
    log_q = as_tensor("log_q", log_q)
    check_min_dim("log_w", log_w, 1, "(samples first: [K, batch])")
    check_same_shape(log_w=log_w, log_q=log_q)
    k = log_w.shape[0]
    if k < 2:
        raise ValueError(f"log_w: VIMCO needs K >= 2 samples, got K={k}")
    lw = log_w.detach()
    bound = bounds.iwae_bound(log_w)
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
