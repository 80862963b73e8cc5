r"""The course's models: the VAE and a discrete-latent model (for VIMCO).

Both are latent variable models :math:`p_\theta(x, z) = p(z)\,p_\theta(x\mid z)` with an
amortized variational posterior :math:`q_\phi(z\mid x)`, computed by multilayer perceptrons.
Each model exposes the same methods, all per data point and in nats:

* ``encode(x)`` → :math:`q_\phi(z\mid x)` and ``decode(z)`` → :math:`p_\theta(x\mid z)`, both
  ``torch.distributions`` objects; ``prior_distribution()`` → :math:`p(z)`;
* ``log_weights(x, k)`` → :math:`\log w` of shape ``[k, batch]`` (book equation
  ``eq-log-weights``), computed by :func:`vae_support.bounds.log_weights`;
* ``elbo(x, k=1)`` → ``[batch]`` (``eq-elbo-def``), ``elbo_terms(x, k=1)`` → reconstruction,
  KL and ELBO (``eq-elbo-decomposition``), ``iwae(x, k)`` → :math:`\mathcal L_K` (``eq-iwae``);
* ``sample(n)`` → images from the model, ``reconstruct(x)`` → the decoder's mean at the
  encoder's mean (for a flow encoder, at the flow's image of the base mean).

The models run on whatever device their parameters are on (``model.to("cuda")``); inputs
must be on the same device.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
from torch import nn
from torch.distributions import Bernoulli, Distribution, Independent, MultivariateNormal, Normal, kl_divergence

from . import bounds
from ._checks import check_integer, check_real
from .distributions import (
    MixturePrior,
    StandardNormalPrior,
    VampPrior,
    bernoulli_likelihood,
    categorical_likelihood,
    diagonal_gaussian,
    full_gaussian,
    gaussian_likelihood,
    pixel_mean,
    scale_tril_from_vector,
)
from .flows import FLOWS, FlowPosterior, make_flow

LIKELIHOODS = ("bernoulli", "gaussian", "categorical")
PRIORS = ("standard", "mog", "vamp")
ENCODER_COVARIANCES = ("diagonal", "full")
ENCODER_FAMILIES = ENCODER_COVARIANCES + FLOWS
ACTIVATIONS = {"leaky_relu": nn.LeakyReLU, "relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU}


class ForwardPass(NamedTuple):
    r"""Everything one pass through a model computes at ``k`` samples :math:`z_s\sim q(z|x)`.

    ``q`` has batch shape [batch]; ``z`` is [k, batch, z_dim]; ``log_px_z``, ``log_pz`` and
    ``log_qz_x`` are [k, batch] (nats; the last two ``None`` when not requested); ``prior`` is
    :math:`p(z)`.
    """

    q: Distribution
    prior: Distribution
    z: torch.Tensor
    log_px_z: torch.Tensor
    log_pz: torch.Tensor
    log_qz_x: torch.Tensor


def mlp(sizes: Sequence[int], activation: str = "leaky_relu", dropout: float = 0.0) -> nn.Sequential:
    """Linear layers of the given ``sizes`` with ``activation`` (then dropout, if > 0) between them."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {sorted(ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def _check_dropout(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{name}: expected a probability in [0, 1), got {value!r}")
    return float(value)


def _check_hidden(hidden) -> tuple[int, ...]:
    if isinstance(hidden, int):
        hidden = (hidden,)
    try:
        return tuple(check_integer("hidden", h) for h in hidden)
    except TypeError as err:
        raise ValueError(f"hidden: expected a sequence of positive layer widths, got {hidden!r}") from err


def _check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise ValueError(f"{name}: expected one of {list(choices)}, got {value!r}")
    return value


def _marginals(dist: Distribution) -> Distribution | None:
    """The one-dimensional marginals of a factorized (or Gaussian) distribution, batch [..., d]."""
    if isinstance(dist, Independent) and dist.reinterpreted_batch_ndims == 1:
        return dist.base_dist
    if isinstance(dist, MultivariateNormal):
        return Normal(dist.mean, dist.variance.sqrt(), validate_args=False)
    return None


def _factorizes(dist: Distribution) -> bool:
    if isinstance(dist, MultivariateNormal):
        return bool((dist.scale_tril.tril(-1) == 0).all())
    return isinstance(dist, Independent) and dist.reinterpreted_batch_ndims == 1


def kl_per_dimension(q: Distribution, prior: Distribution) -> torch.Tensor | None:
    r"""KL of each latent coordinate, :math:`\mathrm{KL}(q(z_j|x)\,\|\,p(z_j))`, shape [batch, z_dim].

    Defined when the prior factorizes over coordinates (``Independent`` of ``Normal`` or
    ``Bernoulli``, or a diagonal ``MultivariateNormal``). For a factorized q the coordinates sum
    to the total KL; for a full-covariance q these are the KLs of its marginals (their sum leaves
    out the correlations, so it is smaller than the total). Returns ``None`` for a prior that does
    not factorize (mixtures), where no per-coordinate split exists.
    """
    if not _factorizes(prior):
        return None
    q_j, p_j = _marginals(q), _marginals(prior)
    if q_j is None:
        return None
    return kl_divergence(q_j, p_j.expand(q_j.batch_shape))


class LatentVariableModel(nn.Module):
    r"""Shared machinery of the course's models: likelihood head, input checks, bounds.

    Subclasses build ``self.encoder`` and implement :meth:`encode_unchecked` and
    :meth:`prior_distribution`; everything else (decoding, log-weights, ELBO, IWAE, sampling,
    reconstruction) lives here once.

    Parameters
    ----------
    x_dim : int
        Pixels per image.
    z_dim : int
        Latent dimension.
    hidden : sequence of int
        Widths of the hidden layers (the decoder uses them reversed).
    likelihood : {"bernoulli", "gaussian", "categorical"}
        Pixel model :math:`p_\theta(x\mid z)`.
    levels : int
        Pixel levels of the categorical likelihood (Digits: 17); data must be integers
        0..levels−1. Ignored by the other likelihoods.
    obs_scale : float or None
        Gaussian likelihood only: a fixed pixel standard deviation, or ``None`` to learn one
        per pixel.
    activation : str
        ``"leaky_relu"`` (default), ``"relu"``, ``"tanh"`` or ``"elu"``.
    decoder_dropout : float
        Dropout probability after each hidden layer of the decoder (active in ``train()`` mode
        only; a regularizer for small data sets). Default 0.
    """

    reparameterizable = True
    """Whether q's samples can be reparameterized (``rsample``): False for binary latents."""

    def __init__(self, x_dim: int, z_dim: int, hidden, likelihood: str, levels: int, obs_scale: float | None,
                 activation: str, decoder_dropout: float = 0.0):
        super().__init__()
        self.x_dim = check_integer("x_dim", x_dim)
        self.z_dim = check_integer("z_dim", z_dim)
        self.hidden = _check_hidden(hidden)
        self.likelihood = _check_choice("likelihood", likelihood, LIKELIHOODS)
        self.levels = check_integer("levels", levels, minimum=2)
        self.activation = activation
        self.decoder_dropout = _check_dropout("decoder_dropout", decoder_dropout)
        out = {"bernoulli": self.x_dim, "gaussian": self.x_dim, "categorical": self.x_dim * self.levels}[likelihood]
        self.decoder = mlp((self.z_dim, *reversed(self.hidden), out), activation, self.decoder_dropout)
        # The encoder sees pixels scaled to [0, 1] for the categorical likelihood.
        self.input_scale = 1.0 / (self.levels - 1) if likelihood == "categorical" else 1.0
        self.obs_scale = None
        if likelihood == "gaussian":
            if obs_scale is None:
                self.log_obs_scale = nn.Parameter(torch.zeros(self.x_dim))
            else:
                self.obs_scale = check_real("obs_scale", obs_scale, minimum=0.0, inclusive=False)

    # ----------------------------------------------------------------- checks
    @property
    def device(self) -> torch.device:
        """The device of the model's parameters."""
        return next(self.parameters()).device

    def check_x(self, x, name: str = "x") -> torch.Tensor:
        """Return ``x`` as a float tensor [batch, x_dim] on the model's device, or raise ``ValueError``.

        Checks: a tensor (``TypeError`` otherwise), shape [batch, x_dim], finite values, and the
        support of the likelihood (0/1 for Bernoulli, integers 0..levels−1 for categorical).
        """
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor [batch, {self.x_dim}], got {type(x).__name__}")
        if x.dim() != 2 or x.shape[-1] != self.x_dim:
            raise ValueError(f"{name}: expected shape [batch, {self.x_dim}], got {tuple(x.shape)}")
        if x.dtype == torch.bool or x.is_complex():
            raise ValueError(f"{name}: expected a real floating or integer tensor, got dtype {x.dtype}")
        if x.device != self.device:
            raise ValueError(f"{name}: expected a tensor on {self.device} (the model's device), got {x.device}")
        dtype = next(self.parameters()).dtype
        x = x.to(dtype)
        if not torch.isfinite(x).all():
            raise ValueError(f"{name}: expected finite values, found {int((~torch.isfinite(x)).sum())} NaN/inf entries")
        if self.likelihood == "bernoulli" and ((x != 0) & (x != 1)).any():
            raise ValueError(f"{name}: the Bernoulli likelihood needs pixels in {{0, 1}} (see data.binarize)")
        if self.likelihood == "categorical" and x.numel() and (
            (x != x.round()).any() or x.min() < 0 or x.max() > self.levels - 1
        ):
            raise ValueError(
                f"{name}: the categorical likelihood needs integer pixels in 0..{self.levels - 1} (levels={self.levels}), "
                f"got range [{float(x.min()):.4g}, {float(x.max()):.4g}]"
            )
        return x

    def _check_z(self, z) -> torch.Tensor:
        if not isinstance(z, torch.Tensor):
            raise TypeError(f"z: expected a torch.Tensor [..., {self.z_dim}], got {type(z).__name__}")
        if z.dim() < 1 or z.shape[-1] != self.z_dim:
            raise ValueError(f"z: expected shape [..., {self.z_dim}], got {tuple(z.shape)}")
        if not torch.isfinite(z).all():
            raise ValueError("z: expected finite values")
        return z.to(device=self.device, dtype=next(self.parameters()).dtype)

    # -------------------------------------------------------- distributions
    def encode_unchecked(self, x: torch.Tensor) -> Distribution:  # pragma: no cover - abstract
        raise NotImplementedError

    def prior_distribution(self) -> Distribution:  # pragma: no cover - abstract
        """The prior :math:`p(z)`, event shape [z_dim]."""
        raise NotImplementedError

    def prior_for(self, q: Distribution) -> Distribution:
        """The prior, broadcast to q's batch shape where a closed-form KL needs it (hook for subclasses)."""
        return self.prior_distribution()

    def encode(self, x: torch.Tensor) -> Distribution:
        r"""The variational posterior :math:`q_\phi(z\mid x)`: batch shape [batch], event [z_dim]."""
        return self.encode_unchecked(self.check_x(x))

    def decode(self, z: torch.Tensor) -> Distribution:
        r"""The likelihood :math:`p_\theta(x\mid z)`: batch shape ``z.shape[:-1]``, event [x_dim]."""
        return self.decode_unchecked(self._check_z(z), validate_args=None)

    def decode_unchecked(self, z: torch.Tensor, validate_args: bool | None = False) -> Distribution:
        """:math:`p_\\theta(x|z)`; unvalidated by default (loops over checked data), torch's validation with ``None``."""
        out = self.decoder(z)
        if self.likelihood == "bernoulli":
            return bernoulli_likelihood(out, validate_args=validate_args)
        if self.likelihood == "categorical":
            return categorical_likelihood(out.unflatten(-1, (self.x_dim, self.levels)), validate_args=validate_args)
        scale = self.log_obs_scale.exp() if self.obs_scale is None else out.new_tensor(self.obs_scale)
        return gaussian_likelihood(out, scale, validate_args=validate_args)

    # ---------------------------------------------------------------- bounds
    def forward_pass(self, x: torch.Tensor, k: int = 1, check: bool = True, reparameterize: bool = True,
                     q: Distribution | None = None, densities: bool = True) -> ForwardPass:
        r"""Draw ``k`` samples :math:`z_s\sim q(z|x)` and evaluate every log-density at them.

        Reparameterized (``rsample``: gradients flow through z) when q allows it and
        ``reparameterize`` is true; otherwise plain ``sample`` (for score-function estimators).
        ``check=False`` skips the input checks (for loops over data checked once). ``q`` replaces
        the encoder's :math:`q_\phi(z|x)` by any distribution of batch shape [batch] and event
        [z_dim] (e.g. one optimized per data point, :mod:`vae_support.inference`).
        ``densities=False`` skips :math:`\log p(z)` and :math:`\log q(z|x)` (left ``None``) for
        callers that need only the reconstruction and the closed-form KL.
        """
        k = check_integer("k", k)
        if check:
            x = self.check_x(x)
        if q is None:
            q = self.encode_unchecked(x)
        elif tuple(q.batch_shape) != (x.shape[0],) or tuple(q.event_shape) != (self.z_dim,):
            raise ValueError(f"q: expected batch shape [{x.shape[0]}] and event shape [{self.z_dim}], "
                             f"got {tuple(q.batch_shape)} and {tuple(q.event_shape)}")
        prior = self.prior_for(q)
        z = q.rsample((k,)) if q.has_rsample and reparameterize else q.sample((k,))
        if x.shape[0] == 0:  # an empty batch has empty log-densities (torch's Independent cannot sum over no points)
            empty = z.new_zeros(z.shape[:-1])
            return ForwardPass(q, prior, z, empty, empty if densities else None, empty if densities else None)
        log_px_z = self.decode_unchecked(z).log_prob(x)
        if not densities:
            return ForwardPass(q, prior, z, log_px_z, None, None)
        return ForwardPass(q, prior, z, log_px_z, prior.log_prob(z), q.log_prob(z))

    def log_weights(self, x: torch.Tensor, k: int = 1) -> torch.Tensor:
        r"""Log importance weights :math:`\log w_s = \log p(x|z_s) + \log p(z_s) - \log q(z_s|x)`.

        Book equation ``eq-log-weights``; ``z_s ~ q(z|x)``, s = 1..k.

        Returns
        -------
        Tensor [k, batch], nats.
        """
        f = self.forward_pass(x, k)
        return bounds.log_weights(f.log_px_z, f.log_pz, f.log_qz_x)

    def elbo(self, x: torch.Tensor, k: int = 1) -> torch.Tensor:
        r"""Monte Carlo ELBO :math:`\frac1k\sum_s \log w_s` (book equation ``eq-elbo-def``), [batch] nats."""
        return bounds.elbo(self.log_weights(x, k))

    def elbo_terms(self, x: torch.Tensor, k: int = 1) -> bounds.ElboTerms:
        r"""Reconstruction (mean over ``k`` draws) − KL (closed form when one exists), each [batch].

        Book equation ``eq-elbo-decomposition``; see :func:`vae_support.bounds.elbo_terms`.
        """
        f = self.forward_pass(x, k)
        return bounds.elbo_terms(f.log_px_z, f.q, f.prior, f.z)

    def iwae(self, x: torch.Tensor, k: int) -> torch.Tensor:
        r"""Importance-weighted bound :math:`\mathcal L_k` (book equation ``eq-iwae``), [batch] nats."""
        return bounds.iwae_bound(self.log_weights(x, k))

    def kl_per_dimension(self, x: torch.Tensor) -> torch.Tensor | None:
        r""":math:`\mathrm{KL}(q(z_j|x)\,\|\,p(z_j))` per latent coordinate, [batch, z_dim]; see :func:`kl_per_dimension`."""
        return kl_per_dimension(self.encode(x), self.prior_distribution())

    # --------------------------------------------------------------- outputs
    @torch.no_grad()
    def sample(self, n: int, mean: bool = False) -> torch.Tensor:
        r"""Draw ``n`` images: :math:`z\sim p(z)`, then :math:`x\sim p(x|z)` (or its mean if ``mean``).

        Returns
        -------
        Tensor [n, x_dim], float, in the data's units (0..levels−1 for categorical).
        """
        n = check_integer("n", n)
        z = self.prior_distribution().sample((n,))
        px_z = self.decode_unchecked(z)
        return pixel_mean(px_z) if mean else px_z.sample().to(z.dtype)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        r"""Decoder mean at the encoder's point code, :math:`\mathbb E_{p(x|z)}[x]` at :math:`z = z^*(x)`.

        :math:`z^*(x) = \mathbb E_q[z]` for a q with a closed-form mean (Gaussian, Bernoulli). A
        flow encoder (``encoder="planar"`` or ``"iaf"``) has none; its point code is
        :attr:`vae_support.flows.FlowPosterior.base_mean_image`, the flow's image of the base
        mean :math:`f_K\circ\dots\circ f_1(\mu(x))` — deterministic, but not
        :math:`\mathbb E_q[z]`.

        Returns
        -------
        Tensor [batch, x_dim], in the data's units.
        """
        q = self.encode(x)
        z = q.base_mean_image if isinstance(q, FlowPosterior) else q.mean
        return pixel_mean(self.decode_unchecked(z))


class VAE(LatentVariableModel):
    r"""Variational autoencoder with MLP encoder and decoder (Kingma & Welling, 2014).

    .. math::
        p(z)\,p_\theta(x\mid z),\qquad
        q_\phi(z\mid x) = \mathcal N\big(\mu_\phi(x), \Sigma_\phi(x)\big)

    The encoder maps :math:`x \to` hidden layers :math:`\to` the parameters of q:
    :math:`(\mu, \log\sigma^2)` (``encoder_cov="diagonal"``, 2·z_dim outputs) or
    :math:`(\mu, \log L_{jj}, L_{j>i})` (``"full"``, :math:`\Sigma = LL^\top`,
    z_dim + z_dim(z_dim+1)/2 outputs). The decoder maps z through the hidden layers (reversed)
    to the parameters of :math:`p_\theta(x\mid z)`.

    Parameters
    ----------
    x_dim, z_dim : int
        Pixels and latent dimension.
    hidden : sequence of int
        Encoder hidden widths; the decoder uses them reversed. Default (256, 256).
    likelihood : {"categorical", "bernoulli", "gaussian"}
    levels : int
        Categorical pixel levels (Digits: 17).
    prior : {"standard", "mog", "vamp"}
        :math:`\mathcal N(0,I)`, a learnable mixture of ``n_components`` Gaussians, or the
        VampPrior with ``n_components`` pseudo-inputs.
    encoder_cov : {"diagonal", "full"}
    n_components : int
        Components of the ``mog`` / ``vamp`` priors.
    obs_scale : float or None
        Gaussian likelihood: fixed pixel standard deviation, or ``None`` (learned per pixel).
    activation : str
        Hidden nonlinearity, default ``"leaky_relu"``.
    encoder_dropout, decoder_dropout : float
        Dropout after each hidden layer of the encoder / decoder, in training mode only
        (default 0: none).
    encoder : {"diagonal", "full", "planar", "iaf"} or None
        The family of q in one argument: the two Gaussians (as ``encoder_cov``), or a
        diagonal Gaussian pushed through ``flow_length`` planar or IAF layers
        (:mod:`vae_support.flows`; the IAF's MADE has ``flow_hidden`` units). ``None``: the
        Gaussian of ``encoder_cov``. A flow q has no closed-form KL: the ELBO uses the Monte
        Carlo KL (book equation ``eq-kl-mc``).

    Examples
    --------
    >>> from vae_support.data import load_digits
    >>> digits = load_digits()
    >>> model = VAE(z_dim=2)
    >>> model.elbo(digits.test.x[:5]).shape
    torch.Size([5])
    """

    def __init__(self, x_dim: int = 64, z_dim: int = 16, hidden: Sequence[int] = (256, 256),
                 likelihood: str = "categorical", levels: int = 17, prior: str = "standard",
                 encoder_cov: str = "diagonal", n_components: int = 10, obs_scale: float | None = None,
                 activation: str = "leaky_relu", encoder_dropout: float = 0.0, decoder_dropout: float = 0.0,
                 encoder: str | None = None, flow_length: int = 2, flow_hidden: int = 32):
        super().__init__(x_dim, z_dim, hidden, likelihood, levels, obs_scale, activation, decoder_dropout)
        self.encoder_dropout = _check_dropout("encoder_dropout", encoder_dropout)
        self.hparams = dict(x_dim=x_dim, z_dim=z_dim, hidden=list(self.hidden), likelihood=likelihood, levels=levels,
                            prior=prior, encoder_cov=encoder_cov, n_components=n_components, obs_scale=obs_scale,
                            activation=activation, encoder_dropout=encoder_dropout, decoder_dropout=decoder_dropout)
        self.encoder_cov = _check_choice("encoder_cov", encoder_cov, ENCODER_COVARIANCES)
        self.prior_kind = _check_choice("prior", prior, PRIORS)
        self.flow, encoder_cov = self._encoder_family(encoder, encoder_cov, flow_length, flow_hidden)
        self.hparams.update(encoder=self.encoder_family, flow_length=flow_length, flow_hidden=flow_hidden)
        n_q = 2 * self.z_dim if encoder_cov == "diagonal" else self.z_dim + self.z_dim * (self.z_dim + 1) // 2
        n_q = n_q if self.flow is None else self.flow.n_outputs
        self.encoder = mlp((self.x_dim, *self.hidden, n_q), activation, self.encoder_dropout)
        if prior == "standard":
            check_integer("n_components", n_components)  # unused by this prior, checked like every argument
            self.prior = StandardNormalPrior(self.z_dim, full=encoder_cov == "full")
        elif prior == "mog":
            self.prior = MixturePrior(self.z_dim, n_components)
        else:
            init = self.levels - 1 if likelihood == "categorical" else 1.0
            self.prior = VampPrior(self.x_dim, n_components, init_scale=init)

    def _encoder_family(self, encoder, encoder_cov, flow_length, flow_hidden):
        """The flow head (None for a Gaussian encoder) and the Gaussian covariance of ``encoder``."""
        if encoder is None:
            self.encoder_family = encoder_cov
            return None, encoder_cov
        self.encoder_family = _check_choice("encoder", encoder, ENCODER_FAMILIES)
        if encoder_cov != "diagonal" and encoder != encoder_cov:
            raise ValueError(f"encoder: {encoder!r} conflicts with encoder_cov={encoder_cov!r}; give one of them")
        self.encoder_cov = "full" if encoder == "full" else "diagonal"
        flow_length = check_integer("flow_length", flow_length)
        flow_hidden = check_integer("flow_hidden", flow_hidden)
        flow = make_flow(encoder, self.z_dim, flow_length, flow_hidden) if encoder in FLOWS else None
        return flow, self.encoder_cov

    def encode_unchecked(self, x: torch.Tensor) -> Distribution:
        """:math:`q_\\phi(z|x)` without input checks (used inside loops over checked data)."""
        out = self.encoder(x * self.input_scale)
        if self.flow is not None:
            return self.flow(out)
        loc, rest = out[..., : self.z_dim], out[..., self.z_dim:]
        if self.encoder_cov == "diagonal":
            return diagonal_gaussian(loc, (0.5 * rest).exp(), validate_args=False)
        diag_raw, off_diag = rest[..., : self.z_dim], rest[..., self.z_dim:]
        return full_gaussian(loc, scale_tril_from_vector(diag_raw, off_diag), validate_args=False)

    def prior_distribution(self) -> Distribution:
        """The prior :math:`p(z)` (event [z_dim]); for the VampPrior it uses the current encoder."""
        if self.prior_kind == "vamp":
            return self.prior(self.encode_unchecked)
        return self.prior()


class DiscreteVAE(LatentVariableModel):
    r"""A VAE with binary latents, trained with score-function estimators (VIMCO).

    .. math::
        p(z) = \prod_{j}\mathrm{Bernoulli}(z_j;\tfrac12),\qquad
        q_\phi(z\mid x) = \prod_j \mathrm{Bernoulli}\big(z_j;\operatorname{sigmoid}(\ell_\phi(x)_j)\big)

    z cannot be reparameterized, so gradients with respect to :math:`\phi` need a score-function
    estimator: train with ``TrainConfig(objective="vimco", k=...)`` (Mnih & Rezende, 2016).

    Parameters
    ----------
    x_dim, z_dim, hidden, likelihood, levels, obs_scale, activation
        As for :class:`VAE`.
    """

    reparameterizable = False

    def __init__(self, x_dim: int = 64, z_dim: int = 16, hidden: Sequence[int] = (256, 256),
                 likelihood: str = "categorical", levels: int = 17, obs_scale: float | None = None,
                 activation: str = "leaky_relu"):
        super().__init__(x_dim, z_dim, hidden, likelihood, levels, obs_scale, activation)
        self.hparams = dict(x_dim=x_dim, z_dim=z_dim, hidden=list(self.hidden), likelihood=likelihood, levels=levels,
                            obs_scale=obs_scale, activation=activation)
        self.encoder = mlp((self.x_dim, *self.hidden, self.z_dim), activation)
        self.register_buffer("prior_logits", torch.zeros(self.z_dim))

    def encode_unchecked(self, x: torch.Tensor) -> Distribution:
        """:math:`q_\\phi(z|x)` as ``Independent(Bernoulli, 1)``, without input checks."""
        return Independent(Bernoulli(logits=self.encoder(x * self.input_scale), validate_args=False), 1,
                           validate_args=False)

    def prior_for(self, q: Distribution) -> Distribution:
        """The prior expanded to q's batch shape (torch's Bernoulli–Bernoulli KL does not broadcast)."""
        return self.prior_distribution().expand(q.batch_shape)

    def prior_distribution(self) -> Distribution:
        """:math:`p(z) = \\prod_j \\mathrm{Bernoulli}(1/2)`, event [z_dim]."""
        return Independent(Bernoulli(logits=self.prior_logits, validate_args=False), 1, validate_args=False)
