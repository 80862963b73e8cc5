r"""The distributions of the course's models, all built on ``torch.distributions``.

Variational families (encoders), :math:`q_\phi(z\mid x)`:

* :func:`diagonal_gaussian` — :math:`\mathcal N(\mu, \operatorname{diag}\sigma^2)` as
  ``Independent(Normal(μ, σ), 1)``;
* :func:`full_gaussian` — :math:`\mathcal N(\mu, LL^\top)` as ``MultivariateNormal(μ, scale_tril=L)``.

Likelihoods (decoders), :math:`p_\theta(x\mid z)`, one factor per pixel (event = pixels):

* :func:`bernoulli_likelihood` — binary pixels;
* :func:`gaussian_likelihood` — continuous pixels, fixed or learned variance;
* :func:`categorical_likelihood` — integer pixels with ``levels`` values (Digits: 17).

Priors :math:`p(z)` (``nn.Module`` so that learnable ones train with the model and all move
with ``.to(device)``); calling one returns a ``Distribution`` with event shape ``[z_dim]``:

* :class:`StandardNormalPrior` — :math:`\mathcal N(0, I)`;
* :class:`MixturePrior` — a learnable mixture of diagonal Gaussians,
  :math:`\sum_k \pi_k\,\mathcal N(\mu_k, \operatorname{diag}\sigma_k^2)`;
* :class:`VampPrior` — :math:`\frac1K\sum_k q_\phi(z\mid u_k)` with learnable pseudo-inputs
  :math:`u_k` (Tomczak & Welling, 2018).

All log-densities are in nats; batch shapes follow torch (samples, batch), the event comes last.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.distributions import (
    Bernoulli,
    Categorical,
    Distribution,
    Independent,
    MixtureSameFamily,
    MultivariateNormal,
    Normal,
)

from ._checks import as_tensor, check_broadcastable, check_finite, check_integer, check_min_dim, check_real


def _check_parameters(validate_args: bool | None, **tensors) -> None:
    """Check distribution parameters at the boundary: tensors of finite real numbers, broadcastable.

    Skipped when ``validate_args`` is False (the models' inner loops, on parameters computed from
    checked data); torch's own validation then checks the constraints (a positive scale …).
    """
    if validate_args is False:
        return
    for name, t in tensors.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(t).__name__}")
        check_finite(name, as_tensor(name, t))
    check_min_dim(next(iter(tensors)), next(iter(tensors.values())), 1, "(the last one is the event dimension)")


def diagonal_gaussian(loc: torch.Tensor, scale: torch.Tensor, validate_args: bool | None = None) -> Independent:
    r"""Diagonal Gaussian :math:`\mathcal N(\mu, \operatorname{diag}\sigma^2)` over the last dimension.

    Parameters
    ----------
    loc, scale : Tensor [..., d]
        Means and standard deviations (:math:`\sigma > 0`).

    Returns
    -------
    Independent(Normal, 1)
        Batch shape ``[...]``, event shape ``[d]``.
    """
    _check_parameters(validate_args, loc=loc, scale=scale)
    if validate_args is not False:
        check_broadcastable(loc=loc, scale=scale)
    return Independent(Normal(loc, scale, validate_args=validate_args), 1, validate_args=validate_args)


def full_gaussian(loc: torch.Tensor, scale_tril: torch.Tensor, validate_args: bool | None = None) -> MultivariateNormal:
    r"""Full-covariance Gaussian :math:`\mathcal N(\mu, LL^\top)` from its Cholesky factor.

    Parameters
    ----------
    loc : Tensor [..., d]
    scale_tril : Tensor [..., d, d]
        Lower-triangular with a positive diagonal.

    Returns
    -------
    MultivariateNormal
        Batch shape ``[...]``, event shape ``[d]``.
    """
    _check_parameters(validate_args, loc=loc, scale_tril=scale_tril)
    if validate_args is not False and (scale_tril.dim() < 2 or scale_tril.shape[-2:] != (loc.shape[-1],) * 2):
        raise ValueError(f"scale_tril: expected shape [..., {loc.shape[-1]}, {loc.shape[-1]}] to match loc "
                         f"{tuple(loc.shape)}, got {tuple(scale_tril.shape)}")
    return MultivariateNormal(loc, scale_tril=scale_tril, validate_args=validate_args)


def scale_tril_from_vector(diag_raw: torch.Tensor, off_diag: torch.Tensor) -> torch.Tensor:
    r"""Assemble a Cholesky factor :math:`L` from unconstrained network outputs.

    :math:`L_{ii} = \exp(\text{diag\_raw}_i)` (so positive) and the strictly lower entries are
    ``off_diag`` in row-major order.

    Parameters
    ----------
    diag_raw : Tensor [..., d]
    off_diag : Tensor [..., d(d-1)/2]

    Returns
    -------
    Tensor [..., d, d], lower-triangular.
    """
    d = diag_raw.shape[-1]
    rows, cols = torch.tril_indices(d, d, offset=-1, device=diag_raw.device)
    scale_tril = torch.diag_embed(diag_raw.exp())
    if off_diag.shape[-1]:
        scale_tril = _put_lower(scale_tril, rows, cols, off_diag)
    return scale_tril


def _put_lower(scale_tril: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    lower = torch.zeros_like(scale_tril)
    lower[..., rows, cols] = values
    return scale_tril + lower


def bernoulli_likelihood(logits: torch.Tensor, validate_args: bool | None = None) -> Independent:
    r"""Bernoulli pixels :math:`p(x\mid z) = \prod_i \lambda_i^{x_i}(1-\lambda_i)^{1-x_i}`, :math:`\lambda = \operatorname{sigmoid}(\text{logits})`.

    Parameters
    ----------
    logits : Tensor [..., pixels]

    Returns
    -------
    Independent(Bernoulli, 1), event shape ``[pixels]``.
    """
    _check_parameters(validate_args, logits=logits)
    return Independent(Bernoulli(logits=logits, validate_args=validate_args), 1, validate_args=validate_args)


def gaussian_likelihood(loc: torch.Tensor, scale: torch.Tensor, validate_args: bool | None = None) -> Independent:
    r"""Gaussian pixels :math:`p(x\mid z) = \prod_i \mathcal N(x_i;\mu_i,\sigma_i^2)`.

    ``scale`` may be a learned tensor [..., pixels] or a fixed tensor broadcast against ``loc``.

    Returns
    -------
    Independent(Normal, 1), event shape ``[pixels]``.
    """
    _check_parameters(validate_args, loc=loc, scale=scale)
    if validate_args is not False:
        check_broadcastable(loc=loc, scale=scale)
    return diagonal_gaussian(loc, scale.expand_as(loc), validate_args=validate_args)


class LevelCategorical(Categorical):
    r"""``torch.distributions.Categorical`` normalized by the fused ``log_softmax`` kernel.

    The same distribution as ``Categorical(logits=logits)`` (whose constructor computes
    :math:`\ell - \operatorname{logsumexp}(\ell)` in several passes); on a CPU the fused kernel
    makes a training step of the Digits VAE about 15% faster. Every method is Categorical's.
    """

    def __init__(self, logits: torch.Tensor, validate_args: bool | None = None):
        if logits.dim() < 1:
            raise ValueError("logits: expected at least one dimension (the levels)")
        self.logits = torch.log_softmax(logits, dim=-1)
        self._param = self.logits
        self._num_events = self.logits.shape[-1]
        Distribution.__init__(self, self.logits.shape[:-1], validate_args=validate_args)

    def log_prob(self, value) -> torch.Tensor:
        """Log-probability of integer levels 0..levels−1; any other value (3.5, −1, ``levels``, NaN) is refused.

        With ``validate_args`` (torch's default) a bad value raises ``ValueError`` naming
        ``value``; without (inside the models' training loops) its log-probability is NaN, so
        that :func:`vae_support.train.fit`'s guard stops with ``NonFiniteLossError`` — never a
        truncated level, never an index error from inside torch.
        """
        if self._validate_args:
            return super().log_prob(value)
        value = torch.as_tensor(value, device=self.logits.device)
        valid = (value == value.round()) & (value >= 0) & (value <= self._num_events - 1)
        log_p = super().log_prob(torch.where(valid, value, torch.zeros_like(value)))
        return torch.where(valid, log_p, torch.full_like(log_p, float("nan")))

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LevelCategorical, _instance)
        return super().expand(batch_shape, _instance=new)


def categorical_likelihood(logits: torch.Tensor, validate_args: bool | None = None) -> Independent:
    r"""Categorical pixels over integer levels: :math:`p(x\mid z) = \prod_i \pi_{i,x_i}`, :math:`\pi_i = \operatorname{softmax}(\text{logits}_i)`.

    Each pixel takes one of ``levels`` integer values 0..levels−1 (17 for Digits).

    Parameters
    ----------
    logits : Tensor [..., pixels, levels]

    Returns
    -------
    Independent(LevelCategorical, 1)
        A ``Categorical`` per pixel (see :class:`LevelCategorical`); event shape ``[pixels]``; ``log_prob`` takes pixel values (float or integer) in
        0..levels−1.
    """
    _check_parameters(validate_args, logits=logits)
    return Independent(LevelCategorical(logits, validate_args=validate_args), 1, validate_args=validate_args)


def pixel_mean(likelihood: Distribution) -> torch.Tensor:
    r"""Mean of a pixel likelihood, :math:`\mathbb E_{p(x\mid z)}[x]`, shape [..., pixels].

    For the categorical likelihood this is :math:`\sum_{l} l\,\pi_{i,l}` (``torch``'s
    ``Categorical.mean`` is undefined because it treats levels as labels).
    """
    if not isinstance(likelihood, Distribution):
        raise TypeError(f"likelihood: expected a torch.distributions.Distribution (e.g. model.decode(z)), "
                        f"got {type(likelihood).__name__}")
    base = likelihood.base_dist if isinstance(likelihood, Independent) else likelihood
    if isinstance(base, Categorical):
        levels = torch.arange(base.probs.shape[-1], dtype=base.probs.dtype, device=base.probs.device)
        return base.probs @ levels
    return likelihood.mean


class StandardNormalPrior(nn.Module):
    r"""The standard normal prior :math:`p(z) = \mathcal N(0, I_{d})`.

    Parameters
    ----------
    z_dim : int
        Latent dimension d.
    full : bool
        Return it as a ``MultivariateNormal`` (so that ``kl_divergence`` with a full-covariance
        q has its closed form, book equation ``eq-kl-gaussian-full``) instead of
        ``Independent(Normal, 1)`` (closed form with a diagonal q, ``eq-kl-gaussian-diag``).
    """

    def __init__(self, z_dim: int, full: bool = False):
        super().__init__()
        self.z_dim = check_integer("z_dim", z_dim)
        self.full = bool(full)
        self.register_buffer("loc", torch.zeros(self.z_dim))
        self.register_buffer("scale", torch.ones(self.z_dim))

    def forward(self) -> Distribution:
        """Return :math:`\\mathcal N(0, I)`, event ``[z_dim]``."""
        if self.full:
            return full_gaussian(self.loc, torch.diag(self.scale), validate_args=False)
        return diagonal_gaussian(self.loc, self.scale, validate_args=False)


class MixturePrior(nn.Module):
    r"""A learnable mixture of diagonal Gaussians.

    .. math:: p(z) = \sum_{k=1}^K \pi_k\,\mathcal N(z;\mu_k,\operatorname{diag}\sigma_k^2),
              \qquad \pi = \operatorname{softmax}(a)

    Built as ``MixtureSameFamily(Categorical(logits=a), Independent(Normal(μ, σ), 1))``.
    The means start spread out (seeded draws from :math:`\mathcal N(0, I)`) and the scales at
    1, so the mixture starts close to a broad standard-normal-like prior.

    Parameters
    ----------
    z_dim : int
    n_components : int
        K ≥ 1.
    """

    def __init__(self, z_dim: int, n_components: int = 10):
        super().__init__()
        self.z_dim = check_integer("z_dim", z_dim)
        self.n_components = check_integer("n_components", n_components)
        self.logits = nn.Parameter(torch.zeros(self.n_components))
        self.locs = nn.Parameter(torch.randn(self.n_components, self.z_dim))
        self.log_scales = nn.Parameter(torch.zeros(self.n_components, self.z_dim))

    def forward(self) -> MixtureSameFamily:
        """Return the mixture as a ``MixtureSameFamily``, event ``[z_dim]``."""
        components = diagonal_gaussian(self.locs, self.log_scales.exp(), validate_args=False)
        return MixtureSameFamily(Categorical(logits=self.logits, validate_args=False), components, validate_args=False)


class VampPrior(nn.Module):
    r"""The VampPrior: the aggregate posterior of learnable pseudo-inputs.

    .. math:: p(z) = \frac1K\sum_{k=1}^K q_\phi(z\mid u_k)

    (Tomczak & Welling, 2018). The pseudo-inputs :math:`u_k` are parameters of the same shape
    as the data; the encoder :math:`q_\phi` is shared with the model, so calling the prior needs
    the encoder: ``prior(encode)``.

    Parameters
    ----------
    x_dim : int
        Data dimension (pixels).
    n_components : int
        K ≥ 1 pseudo-inputs.
    init_scale : float
        Pseudo-inputs start as ``init_scale`` × uniform(0, 1) noise (use the data's range).
    """

    def __init__(self, x_dim: int, n_components: int = 10, init_scale: float = 1.0):
        super().__init__()
        self.x_dim = check_integer("x_dim", x_dim)
        self.n_components = check_integer("n_components", n_components)
        init_scale = check_real("init_scale", init_scale, minimum=0.0, inclusive=False)
        self.pseudo_inputs = nn.Parameter(init_scale * torch.rand(self.n_components, self.x_dim))

    def forward(self, encode: Callable[[torch.Tensor], Distribution]) -> MixtureSameFamily:
        """Return :math:`\\frac1K\\sum_k q(z|u_k)` as a ``MixtureSameFamily``, event ``[z_dim]``."""
        components = encode(self.pseudo_inputs)
        uniform = torch.zeros(self.n_components, device=self.pseudo_inputs.device, dtype=self.pseudo_inputs.dtype)
        return MixtureSameFamily(Categorical(logits=uniform, validate_args=False), components, validate_args=False)

