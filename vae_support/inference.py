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
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch.distributions import Distribution, Independent, MultivariateNormal, Normal

from . import bounds
from ._checks import check_integer
from .distributions import diagonal_gaussian, full_gaussian, scale_tril_from_vector
from .models import LatentVariableModel

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
    """Unconstrained parameters of a Gaussian q: [loc, log_scale] or [loc, log diag(L), strict lower(L)]."""
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


def optimize_local_q(model: LatentVariableModel, x: torch.Tensor, steps: int = 300, lr: float = 0.05, k: int = 1,
                     init: str = "encoder") -> LocalQ:
    r"""Fit a separate Gaussian :math:`q_x` to each data point by stochastic gradient ascent on its ELBO.

    .. math:: q^*_x = \arg\max_{q\in\mathcal Q}\; \mathbb E_{q}[\log p_\theta(x|z)] - \mathrm{KL}(q\,\|\,p(z))

    (book equation ``eq-elbo-decomposition``), over the encoder's family :math:`\mathcal Q`
    (diagonal or full-covariance Gaussian), with the model's weights fixed. Every point has its
    own parameters; Adam updates each coordinate separately, so optimizing the batch together
    is the same as optimizing each point alone. Reparameterized gradients
    (``eq-reparam-gradient``) with ``k`` samples per step.

    Parameters
    ----------
    model : vae_support.models.VAE
    x : Tensor [batch, x_dim]
    steps : int
        Adam steps.
    lr : float
        Adam learning rate.
    k : int
        Samples per step.
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
    if not float(lr) > 0:
        raise ValueError(f"lr: expected a positive learning rate, got {lr!r}")
    if init not in INITS:
        raise ValueError(f"init: expected one of {list(INITS)}, got {init!r}")
    with torch.no_grad():
        params = _gaussian_parameters(model.encode_unchecked(x))
    if init == "prior":
        params = [torch.zeros_like(p) for p in params]
    for p in params:
        p.requires_grad_(True)
    optimizer = torch.optim.Adam(params, lr=float(lr))
    trace = []
    with torch.enable_grad():
        for _ in range(steps):
            elbo = _elbo_of(model, x, _gaussian_from(params), k)
            grads = torch.autograd.grad(-elbo.sum(), params)
            for p, g in zip(params, grads):
                p.grad = g
            optimizer.step()
            trace.append(elbo.detach())
    return LocalQ(_gaussian_from([p.detach() for p in params]), torch.stack(trace))


def inference_gaps(model: LatentVariableModel, x: torch.Tensor, k_log_px: int = 1000, eval_k: int = 100,
                   steps: int = 300, lr: float = 0.05, k: int = 1) -> InferenceGaps:
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
    local = optimize_local_q(model, x, steps=steps, lr=lr, k=k)
    x = model.check_x(x)
    eval_k = check_integer("eval_k", eval_k)
    with torch.no_grad():
        log_px = bounds.estimate_log_likelihood(model, x, k=k_log_px)
        amortized = _elbo_of(model, x, None, eval_k)
        optimized = _elbo_of(model, x, local.q, eval_k)
    return InferenceGaps(log_px, amortized, optimized, log_px - optimized, optimized - amortized, log_px - amortized)
