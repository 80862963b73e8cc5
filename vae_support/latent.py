r"""Latent-space geometry: interpolation, class arithmetic, quantile grids, the aggregate posterior.

The computations behind chapters ``geometry-in-practice``, ``geometry-limits`` and ``priors``:

* :func:`lerp` and :func:`slerp` — linear and spherical interpolation between latent codes
  (White, 2016; Shoemake, 1985);
* :func:`gaussian_quantile_grid` — a grid of the latent plane at equally spaced quantiles of
  :math:`\mathcal N(0, 1)` (the grid of Kingma & Welling, 2014, Fig. 4);
* :func:`class_means` and :func:`transfer_codes` — latent arithmetic with class-mean vectors;
* :func:`gaussian_total_correlation` — the total correlation of a Gaussian, in nats;
* :func:`aggregate_posterior`, :func:`aggregate_covariance` and :func:`aggregate_kl` — the
  aggregate posterior :math:`q(z) = \frac1N\sum_n q(z\mid x_n)` of a batch of encoder outputs,
  its covariance, and :math:`\mathrm{KL}(q(z)\,\|\,p(z))` (Hoffman & Johnson, 2016).

Every value is per data point and in nats. Their figures are in ``vae_support.plot.latent_space``.
"""
from __future__ import annotations


import torch
from torch.distributions import Categorical, Distribution, MixtureSameFamily, MultivariateNormal

from ._checks import as_tensor, check_finite, check_integer, check_labels, check_real, cholesky

__all__ = ["lerp", "slerp", "gaussian_quantile_grid", "class_means", "transfer_codes", "gaussian_total_correlation",
           "aggregate_posterior", "aggregate_covariance", "aggregate_kl"]


def _check_pair(z0, z1, t) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    z0 = check_finite("z0", as_tensor("z0", z0))
    z1 = check_finite("z1", as_tensor("z1", z1, dtype=z0.dtype)).to(z0.dtype)
    t = check_finite("t", as_tensor("t", t, dtype=z0.dtype)).to(z0.dtype)
    if z0.dim() < 1 or z0.shape != z1.shape:
        raise ValueError(f"z0, z1: expected equal shapes [..., d], got {tuple(z0.shape)} and {tuple(z1.shape)}")
    if t.dim() != 1:
        raise ValueError(f"t: expected a 1-D tensor of interpolation times, got shape {tuple(t.shape)}")
    return z0, z1, t.reshape(-1, *([1] * z0.dim()))


def lerp(z0, z1, t) -> torch.Tensor:
    r"""Linear interpolation :math:`z(t) = (1-t)\,z_0 + t\,z_1`.

    Parameters
    ----------
    z0, z1 : Tensor [..., d]
        End points (t = 0 and t = 1).
    t : Tensor [T]
        Interpolation times (usually in [0, 1]).

    Returns
    -------
    Tensor [T, ..., d]
    """
    z0, z1, t = _check_pair(z0, z1, t)
    return (1 - t) * z0 + t * z1


def slerp(z0, z1, t) -> torch.Tensor:
    r"""Spherical linear interpolation (White, 2016; Shoemake, 1985).

    .. math::
        z(t) = \frac{\sin((1-t)\,\omega)}{\sin\omega}\,z_0 + \frac{\sin(t\,\omega)}{\sin\omega}\,z_1,
        \qquad \cos\omega = \frac{z_0^\top z_1}{\lVert z_0\rVert\,\lVert z_1\rVert}.

    It follows the great circle from :math:`z_0` to :math:`z_1`: when the end points have the
    same norm, every point of the path keeps that norm (the linear path cuts inside the sphere,
    where a high-dimensional Gaussian prior has almost no mass). Where the end points are
    (anti)parallel, :math:`\sin\omega \approx 0` and the linear path is returned.

    Parameters
    ----------
    z0, z1 : Tensor [..., d]
    t : Tensor [T]

    Returns
    -------
    Tensor [T, ..., d]
    """
    z0, z1, t = _check_pair(z0, z1, t)
    norms = z0.norm(dim=-1, keepdim=True) * z1.norm(dim=-1, keepdim=True)
    if (norms == 0).any():
        raise ValueError("z0, z1: expected non-zero vectors (the angle between them must be defined)")
    cos = ((z0 * z1).sum(-1, keepdim=True) / norms).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    parallel = sin.abs() < 1e-6
    safe = torch.where(parallel, torch.ones_like(sin), sin)
    spherical = torch.sin((1 - t) * omega) / safe * z0 + torch.sin(t * omega) / safe * z1
    return torch.where(parallel, (1 - t) * z0 + t * z1, spherical)


def gaussian_quantile_grid(n: int, eps: float = 0.05) -> torch.Tensor:
    r"""Coordinates of an n × n grid of the latent plane at quantiles of :math:`\mathcal N(0,1)`.

    .. math:: z_i = \Phi^{-1}\Big(\varepsilon + (1-2\varepsilon)\frac{i}{n-1}\Big),\quad i = 0,\dots,n-1

    Equal steps in probability, not in z: each cell of the grid holds the same prior mass per
    axis, so the grid covers where the standard normal prior puts its samples (Kingma &
    Welling, 2014, Fig. 4).

    Parameters
    ----------
    n : int
        Points per axis, ≥ 2.
    eps : float
        Probability left out at each end, in (0, 0.5).

    Returns
    -------
    Tensor [n]
        The coordinates (the same on both axes), increasing.
    """
    n = check_integer("n", n, minimum=2)
    eps = check_real("eps", eps, minimum=0.0, maximum=0.5, inclusive=False)
    probs = torch.linspace(eps, 1 - eps, n, dtype=torch.float64)
    z = torch.distributions.Normal(0.0, 1.0).icdf(probs)
    if not torch.isfinite(z).all():  # a tiny eps: 1 - 2 eps rounds to 1, so the erfinv form overflows
        z = torch.special.ndtri(probs)  # accurate in the tails; 1 - eps may still round to 1, so mirror:
        z = torch.where(probs > 0.5, -z.flip(0), z)  # z(1 - p) = -z(p)
    return z.to(torch.get_default_dtype())


def class_means(z, labels) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Mean latent code of each class, :math:`\bar z_c = \frac{1}{n_c}\sum_{i:y_i=c} z_i`.

    Parameters
    ----------
    z : Tensor [n, d]
        Codes, e.g. the means of :math:`q_\phi(z|x_i)`.
    labels : Tensor [n]
        Integer class of each code.

    Returns
    -------
    (classes [c], means [c, d])
        The sorted distinct classes and their mean codes.
    """
    z = check_finite("z", as_tensor("z", z))
    labels = check_labels("labels", labels)
    if z.dim() != 2 or labels.shape != z.shape[:1]:
        raise ValueError(f"z, labels: expected z [n, d] and labels [n], got {tuple(z.shape)} and {tuple(labels.shape)}")
    classes = torch.unique(labels)
    means = torch.stack([z[labels == c].mean(0) for c in classes])
    return classes, means


def transfer_codes(z, labels, classes, means, target) -> torch.Tensor:
    r"""Move codes to another class, keeping their offset from their own class mean ("style").

    .. math:: z' = z - \bar z_{y} + \bar z_{\text{target}}

    The offset :math:`z - \bar z_y` is what distinguishes this example from the average example
    of its class (slant, thickness…); adding it to another class's mean asks the decoder for
    *that* example's style in the target class.

    Parameters
    ----------
    z : Tensor [n, d]
    labels : Tensor [n]
        Class of each code (each must be among ``classes``).
    classes, means : Tensor [c], Tensor [c, d]
        As returned by :func:`class_means`.
    target : int
        The class to move to (one of ``classes``).

    Returns
    -------
    Tensor [n, d]
    """
    z = check_finite("z", as_tensor("z", z))
    means = check_finite("means", as_tensor("means", means))
    classes, labels = check_labels("classes", classes), check_labels("labels", labels)
    if z.dim() != 2 or means.dim() != 2 or means.shape[-1] != z.shape[-1] or len(means) != len(classes):
        raise ValueError(f"z, means, classes: expected z [n, d], means [c, d] and classes [c], got "
                         f"{tuple(z.shape)}, {tuple(means.shape)} and {tuple(classes.shape)}")
    if labels.shape != z.shape[:1]:
        raise ValueError(f"labels: expected shape [{z.shape[0]}] (one per code), got {tuple(labels.shape)}")
    target = check_labels("target", target)
    if target.dim() != 0 or int(target) not in classes.tolist():
        raise ValueError(f"target: expected one of the classes {classes.tolist()}, got {target!r}")
    index = {int(c): i for i, c in enumerate(classes)}
    unknown = sorted({int(c) for c in labels} - set(index))
    if unknown:
        raise ValueError(f"labels: classes {unknown} have no mean in means")
    own = means[torch.as_tensor([index[int(c)] for c in labels])]
    return z - own + means[index[int(target)]]


def gaussian_total_correlation(cov) -> torch.Tensor:
    r"""Total correlation of a Gaussian, :math:`\mathrm{KL}(\mathcal N(\mu,\Sigma)\,\|\,\prod_j\mathcal N(\mu_j,\Sigma_{jj}))`.

    .. math:: \mathrm{TC} = \frac12\Big(\sum_{j}\log\Sigma_{jj} - \log\det\Sigma\Big)

    Zero exactly when Σ is diagonal; for two coordinates with correlation ρ it is
    :math:`-\tfrac12\log(1-\rho^2)`. The term that β-TCVAE penalizes (Chen et al., 2018),
    here for a Gaussian.

    Parameters
    ----------
    cov : Tensor [..., d, d]
        Symmetric positive definite covariances.

    Returns
    -------
    Tensor [...], nats.
    """
    cov = as_tensor("cov", cov)
    chol = cholesky("cov", cov)  # finite, square, symmetric, positive definite
    logdet = 2 * torch.diagonal(chol, dim1=-2, dim2=-1).log().sum(-1)
    return 0.5 * (torch.diagonal(cov, dim1=-2, dim2=-1).log().sum(-1) - logdet)


def _check_encoder_batch(q) -> Distribution:
    """q must be N encoder distributions: batch shape [N] (N >= 1), event shape [d]."""
    if not isinstance(q, Distribution):
        raise TypeError(f"q: expected a torch Distribution (the encoder's q(z|x) for a batch), got {type(q).__name__}")
    if len(q.batch_shape) != 1 or q.batch_shape[0] < 1 or len(q.event_shape) != 1:
        raise ValueError("q: expected one distribution per data point, batch shape [N] and event shape [d]; "
                         f"got batch {tuple(q.batch_shape)}, event {tuple(q.event_shape)}")
    return q


def aggregate_posterior(q) -> MixtureSameFamily:
    r"""The aggregate posterior of a batch, :math:`q(z) = \frac1N\sum_{n=1}^N q(z\mid x_n)`.

    The marginal of the codes when the data point is drawn uniformly from the batch: an equal-weight
    mixture of the N encoder distributions. Its ``log_prob`` is
    :math:`\log\sum_n q(z\mid x_n) - \log N` and its ``sample`` draws a data point, then a code.

    Parameters
    ----------
    q : Distribution, batch [N], event [d]
        The encoder's :math:`q(z\mid x_n)` for the N points (e.g. ``model.encode(x)``).

    Returns
    -------
    MixtureSameFamily, event [d]
    """
    q = _check_encoder_batch(q)
    weights = Categorical(logits=torch.zeros(q.batch_shape[0], dtype=q.mean.dtype, device=q.mean.device))
    return MixtureSameFamily(weights, q)


def aggregate_covariance(q) -> torch.Tensor:
    r"""Covariance of the aggregate posterior, by the law of total covariance.

    .. math::
        \operatorname{Cov}_{q(z)}[z] = \frac1N\sum_n \Sigma_n
        + \frac1N\sum_n (\mu_n - \bar\mu)(\mu_n - \bar\mu)^\top,
        \qquad \bar\mu = \frac1N\sum_n \mu_n,

    with :math:`\mu_n, \Sigma_n` the mean and covariance of :math:`q(z\mid x_n)`: the average
    spread of the codes around each point's mean plus the spread of the means. Exact for the mixture
    (no sampling); the covariance of the moment-matched Gaussian of :math:`q(z)`.

    Parameters
    ----------
    q : Distribution, batch [N], event [d]
        A full-covariance ``MultivariateNormal`` or any distribution with ``mean`` and ``variance``
        whose coordinates are independent (the diagonal encoder's ``Independent(Normal)``).

    Returns
    -------
    Tensor [d, d]
    """
    q = _check_encoder_batch(q)
    covariances = q.covariance_matrix if isinstance(q, MultivariateNormal) else torch.diag_embed(q.variance)
    centred = q.mean - q.mean.mean(0)
    return covariances.mean(0) + centred.T @ centred / q.batch_shape[0]


def aggregate_kl(q, prior, n_samples: int = 2000) -> torch.Tensor:
    r"""Monte Carlo :math:`\mathrm{KL}(q(z)\,\|\,p(z))` between the aggregate posterior and the prior, in nats.

    .. math::
        \mathrm{KL}(q(z)\,\|\,p(z)) \approx \frac1S\sum_{s=1}^S \big[\log q(z_s) - \log p(z_s)\big],
        \qquad z_s \sim q(z),

    with :math:`\log q(z)` the exact log-density of the mixture (:func:`aggregate_posterior`). It is
    the part of the average KL (the rate) that a better prior could remove:
    :math:`\mathbb E_n\,\mathrm{KL}(q(z\mid x_n)\|p(z)) = I_q(x; z) + \mathrm{KL}(q(z)\|p(z))`
    (Hoffman & Johnson, 2016). The draws use torch's global generator: seed it first
    (``vae_support.set_seed``) for a repeatable value.

    Parameters
    ----------
    q : Distribution, batch [N], event [d]
        The encoder's :math:`q(z\mid x_n)` for the N points.
    prior : Distribution, event [d]
        :math:`p(z)`.
    n_samples : int
        S, the number of draws of :math:`q(z)` (the cost is S·N density evaluations).

    Returns
    -------
    Tensor [] (0-dim), nats.
    """
    q = _check_encoder_batch(q)
    n_samples = check_integer("n_samples", n_samples)
    if not isinstance(prior, Distribution) or tuple(prior.batch_shape) != () or prior.event_shape != q.event_shape:
        raise ValueError(f"prior: expected one distribution with event shape {tuple(q.event_shape)}, got "
                         + (f"batch {tuple(prior.batch_shape)}, event {tuple(prior.event_shape)}"
                            if isinstance(prior, Distribution) else type(prior).__name__))
    mixture = aggregate_posterior(q)
    z = mixture.sample((n_samples,))
    return (mixture.log_prob(z) - prior.log_prob(z)).mean()
