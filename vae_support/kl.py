"""Kullback–Leibler divergences: closed forms for Gaussians and the Monte Carlo estimator.

All values are in nats and per data point: a batch of distributions gives a batch of KLs, never
their mean. The closed forms are written out as the book derives them ({eq}`eq-kl-gaussian-diag`,
{eq}`eq-kl-gaussian-full`) and are tested against ``torch.distributions.kl_divergence``.
:func:`kl_mean_gradient` differentiates the Gaussian KL in q's mean (the arrows of the
KL-geometry chapter).
"""
from __future__ import annotations

import functools
import math
from typing import NamedTuple

import torch
from torch.distributions import Distribution, MultivariateNormal

from ._checks import as_tensor, check_broadcastable, check_finite, check_integer, check_min_dim, cholesky


class MonteCarloEstimate(NamedTuple):
    """A Monte Carlo average and its standard error (same shape, nats)."""

    estimate: torch.Tensor
    stderr: torch.Tensor


def gaussian_kl(mu_q, logvar_q, mu_p=None, logvar_p=None) -> torch.Tensor:
    r"""KL between diagonal Gaussians, summed over the last (event) dimension.

    .. math::
        \mathrm{KL}(q\,\|\,p) = \frac12 \sum_{j=1}^{d}\Big[\log\sigma_{p,j}^2 - \log\sigma_{q,j}^2
        + \frac{\sigma_{q,j}^2 + (\mu_{q,j}-\mu_{p,j})^2}{\sigma_{p,j}^2} - 1\Big]

    With ``mu_p = logvar_p = None`` the prior is :math:`\mathcal N(0, I)` and the formula becomes
    :math:`\tfrac12\sum_j(\mu_j^2 + \sigma_j^2 - \log\sigma_j^2 - 1)`, book equation
    ``eq-kl-gaussian-diag`` (which the book writes for that case only); the general diagonal
    case above is ``eq-kl-gaussian-full`` with diagonal covariances.

    Parameters
    ----------
    mu_q, logvar_q : Tensor [..., d]
        Mean and log-variance of q.
    mu_p, logvar_p : Tensor [..., d], optional
        Mean and log-variance of p (broadcast against q); default 0 (standard normal).

    Returns
    -------
    Tensor [...]
        KL(q‖p) in nats, one value per distribution in the batch, in the inputs' dtype
        (half-precision inputs are computed in float32, so a KL that float16 can hold is
        returned even when the squares inside it would overflow).

    References
    ----------
    Kingma & Welling (2014), Appendix B.
    """
    mu_q = check_finite("mu_q", as_tensor("mu_q", mu_q))
    logvar_q = check_finite("logvar_q", as_tensor("logvar_q", logvar_q))
    mu_p = torch.zeros_like(mu_q) if mu_p is None else check_finite("mu_p", as_tensor("mu_p", mu_p))
    logvar_p = torch.zeros_like(logvar_q) if logvar_p is None else check_finite("logvar_p", as_tensor("logvar_p", logvar_p))
    for name, t in (("mu_q", mu_q), ("logvar_q", logvar_q), ("mu_p", mu_p), ("logvar_p", logvar_p)):
        check_min_dim(name, t, 1, "(the last one is the event dimension)")
    check_broadcastable(mu_q=mu_q, logvar_q=logvar_q, mu_p=mu_p, logvar_p=logvar_p)
    dtype = functools.reduce(torch.promote_types, (t.dtype for t in (mu_q, logvar_q, mu_p, logvar_p)))
    work = torch.float32 if torch.finfo(dtype).bits < 32 else dtype  # float16's squares overflow at 65 504
    mu_q, logvar_q, mu_p, logvar_p = (t.to(work) for t in (mu_q, logvar_q, mu_p, logvar_p))
    ratio = torch.exp(logvar_q - logvar_p)
    mahalanobis = (mu_q - mu_p).pow(2) * torch.exp(-logvar_p)
    return (0.5 * (ratio + mahalanobis - 1.0 - (logvar_q - logvar_p)).sum(-1)).to(dtype)


def full_gaussian_kl(mu_q, cov_q, mu_p, cov_p) -> torch.Tensor:
    r"""KL between full-covariance Gaussians, as the book derives it.

    .. math::
        \mathrm{KL}(q\,\|\,p) = \frac12\Big[\operatorname{tr}(\Sigma_p^{-1}\Sigma_q)
        + (\mu_p-\mu_q)^\top\Sigma_p^{-1}(\mu_p-\mu_q) - d
        + \log\det\Sigma_p - \log\det\Sigma_q\Big]

    Book equation ``eq-kl-gaussian-full``. Computed through Cholesky factors
    :math:`\Sigma = LL^\top`: :math:`\log\det\Sigma = 2\sum_i\log L_{ii}`, and the trace and
    quadratic form by triangular solves, never an explicit inverse.

    Parameters
    ----------
    mu_q, mu_p : Tensor [..., d]
    cov_q, cov_p : Tensor [..., d, d]
        Symmetric positive definite covariances.

    Returns
    -------
    Tensor [...]
        KL(q‖p) in nats.
    """
    mu_q = check_finite("mu_q", as_tensor("mu_q", mu_q))
    mu_p = check_finite("mu_p", as_tensor("mu_p", mu_p))
    cov_q = as_tensor("cov_q", cov_q)
    cov_p = as_tensor("cov_p", cov_p)
    chol_q = cholesky("cov_q", cov_q)
    chol_p = cholesky("cov_p", cov_p)
    d = mu_q.shape[-1]
    for name, t in (("mu_p", mu_p), ("cov_q", cov_q), ("cov_p", cov_p)):
        if t.shape[-1] != d:
            raise ValueError(f"{name}: expected last dimension {d} to match mu_q, got shape {tuple(t.shape)}")
    batch = check_broadcastable(mu_q=mu_q[..., 0], mu_p=mu_p[..., 0], cov_q=cov_q[..., 0, 0], cov_p=cov_p[..., 0, 0])
    chol_p = chol_p.expand(*batch, d, d)
    # tr(Σp⁻¹Σq) = ||Lp⁻¹ Lq||_F²
    m = torch.linalg.solve_triangular(chol_p, chol_q.expand(*batch, d, d), upper=False)
    trace = m.pow(2).sum((-1, -2))
    diff = (mu_p - mu_q).expand(*batch, d).unsqueeze(-1)
    quad = torch.linalg.solve_triangular(chol_p, diff, upper=False).pow(2).sum((-1, -2))
    logdet_p = 2 * torch.diagonal(chol_p, dim1=-2, dim2=-1).log().sum(-1)
    logdet_q = 2 * torch.diagonal(chol_q, dim1=-2, dim2=-1).log().sum(-1)
    return 0.5 * (trace + quad - d + logdet_p - logdet_q)


def monte_carlo_kl(q: Distribution, p: Distribution, n_samples: int) -> MonteCarloEstimate:
    r"""Monte Carlo estimate of KL(q‖p) for any pair of ``torch.distributions``.

    .. math::
        \widehat{\mathrm{KL}} = \frac1S\sum_{s=1}^S\big[\log q(z_s) - \log p(z_s)\big],
        \qquad z_s\sim q,

    with standard error :math:`\hat\sigma/\sqrt S` (book equation ``eq-kl-mc``). Unbiased; the
    standard error tells how far from the exact value an estimate may be.

    Parameters
    ----------
    q, p : torch.distributions.Distribution
        Same event shape; p's support must contain q's.
    n_samples : int
        S ≥ 2 draws from q.

    Returns
    -------
    MonteCarloEstimate
        ``estimate`` and ``stderr``, each of q's batch shape, in nats.
    """
    if not isinstance(q, Distribution):
        raise TypeError(f"q: expected a torch.distributions.Distribution, got {type(q).__name__}")
    if not isinstance(p, Distribution):
        raise TypeError(f"p: expected a torch.distributions.Distribution, got {type(p).__name__}")
    n_samples = check_integer("n_samples", n_samples, minimum=2)
    if q.event_shape != p.event_shape:
        raise ValueError(f"q, p: expected the same event shape, got {tuple(q.event_shape)} and {tuple(p.event_shape)}")
    infinite = "p: log p(z) is -inf at samples of q, so KL(q‖p) is infinite (p must cover q's support)"
    with torch.no_grad():
        z = q.sample((n_samples,))
        try:
            log_ratio = q.log_prob(z) - p.log_prob(z)
        except ValueError as err:  # torch's argument validation: z outside p's support
            raise ValueError(infinite) from err
    if not torch.isfinite(log_ratio).all():
        raise ValueError(infinite)
    return MonteCarloEstimate(log_ratio.mean(0), log_ratio.std(0) / math.sqrt(n_samples))


def _check_mvn(name: str, d) -> MultivariateNormal:
    if not isinstance(d, MultivariateNormal) or d.batch_shape != torch.Size():
        raise ValueError(f"{name}: expected a MultivariateNormal with no batch shape")
    return d


def kl_mean_gradient(mean, cov_q, posterior: MultivariateNormal) -> torch.Tensor:
    r"""Gradient of :math:`\mathrm{KL}(q\,\|\,p)` with respect to q's mean, for Gaussian q and p.

    .. math::
        \nabla_{\mu_q}\mathrm{KL}\big(\mathcal N(\mu_q, S)\,\|\,\mathcal N(\mu_p, \Sigma_p)\big)
        = \Sigma_p^{-1}(\mu_q - \mu_p)

    obtained by automatic differentiation of :func:`full_gaussian_kl` (book
    equation ``eq-kl-gaussian-full``); it does not depend on q's covariance S.

    Parameters
    ----------
    mean : Tensor [..., d]
        Means of q at which to evaluate the gradient (a grid of them, say).
    cov_q : Tensor [d, d]
        Covariance of q (shared by every mean).
    posterior : MultivariateNormal, event [d]
        The target p, e.g. the exact posterior of a linear-Gaussian model.

    Returns
    -------
    Tensor [..., d]
        The gradient, in nats per unit of z.
    """
    posterior = _check_mvn("posterior", posterior)
    mean = check_finite("mean", as_tensor("mean", mean, dtype=posterior.mean.dtype)).to(posterior.mean.dtype)
    mean = mean.detach().clone().requires_grad_(True)
    kl = full_gaussian_kl(mean, as_tensor("cov_q", cov_q).to(mean.dtype), posterior.mean, posterior.covariance_matrix)
    (grad,) = torch.autograd.grad(kl.sum(), mean)
    return grad
