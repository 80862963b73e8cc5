r"""A two-level hierarchical VAE, its per-level KL and active units, and a small training loop.

The generative model is a chain :math:`z_2 \to z_1 \to x`:

.. math::
    p_\theta(x, z_1, z_2) = p(z_2)\,p_\theta(z_1\mid z_2)\,p_\theta(x\mid z_1\,[, z_2]),\qquad
    p(z_2) = \mathcal N(0, I)

(book equation ``eq-hvae-model``; the decoder also sees :math:`z_2` when ``skip=True``). Two
inference networks:

* ``inference="bottom-up"`` — :math:`q_\phi(z_1\mid x)\,q_\phi(z_2\mid z_1)`, the order of the
  data: each level is inferred from the one below;
* ``inference="top-down"`` — :math:`q_\phi(z_2\mid x)\,q_\phi(z_1\mid z_2, x)`, the order of the
  generative model, as in the ladder VAE (Sønderby et al., 2016): a deterministic bottom-up pass
  gives :math:`q(z_2|x)` and a Gaussian "message" :math:`\mathcal N(\hat\mu_1(x), \hat\sigma_1^2(x))`
  about :math:`z_1`, and :math:`q(z_1|z_2, x)` is the precision-weighted product of that message
  with the prior :math:`p_\theta(z_1|z_2)` (book equation ``eq-hvae-ladder``).

The ELBO splits into a reconstruction term and one KL per level (book equation
``eq-hvae-elbo``),

.. math::
    \mathcal L = \mathbb E_q[\log p(x|z_1)] - \underbrace{\mathbb E_q\Big[\log\frac{q(z_1|\cdot)}{p(z_1|z_2)}\Big]}_{\mathrm{KL}_1}
    - \underbrace{\mathbb E_q\Big[\log\frac{q(z_2|\cdot)}{p(z_2)}\Big]}_{\mathrm{KL}_2},

whose sum is :math:`\mathrm{KL}(q(z_1,z_2|x)\,\|\,p(z_1,z_2))`. Each conditional KL is in closed
form given a sample of the variable it conditions on, except :math:`\mathrm{KL}_1` of the
bottom-up model, whose prior :math:`p(z_1|z_2)` depends on a :math:`z_2` drawn *after*
:math:`z_1`: that one is a Monte Carlo average (book equation ``eq-kl-mc``).

Everything is per data point and in nats; shapes are (samples, batch, event).
"""
from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import torch
from torch import nn
from torch.distributions import Distribution, Independent, Normal, kl_divergence

from . import bounds
from ._checks import as_tensor, check_finite, check_integer, check_nonnegative_scalar, check_positive
from .distributions import bernoulli_likelihood, categorical_likelihood, diagonal_gaussian, gaussian_likelihood, pixel_mean
from .models import LIKELIHOODS, _check_choice, _check_hidden, mlp
from .train import active_units

INFERENCES = ("bottom-up", "top-down")

__all__ = ["HierarchicalVAE", "HierarchicalPass", "HierarchicalTerms", "hierarchical_elbo_terms",
           "active_units_per_level", "fit_hierarchical", "two_layer_toy", "INFERENCES"]


class HierarchicalPass(NamedTuple):
    r"""One pass through a :class:`HierarchicalVAE` at ``k`` samples per data point.

    ``z1`` [k, batch, z1_dim] and ``z2`` [k, batch, z2_dim] are drawn from q (reparameterized);
    ``q1``, ``q2`` are the conditionals of q that produced them and ``p1`` is
    :math:`p_\theta(z_1|z_2)` at the sampled :math:`z_2` (batch shapes [k, batch] or [batch]);
    ``log_px_z`` is :math:`\log p_\theta(x|z_1[,z_2])` [k, batch]; ``log_p`` =
    :math:`\log p(z_1|z_2) + \log p(z_2)` and ``log_q`` = :math:`\log q(z_1, z_2|x)`, both
    [k, batch].
    """

    z1: torch.Tensor
    z2: torch.Tensor
    q1: Distribution
    q2: Distribution
    p1: Distribution
    log_px_z: torch.Tensor
    log_p: torch.Tensor
    log_q: torch.Tensor


class HierarchicalTerms(NamedTuple):
    r"""The ELBO of a two-level model split by level (book equation ``eq-hvae-elbo``), each [batch] in nats.

    ``kl1_dims`` [batch, z1_dim] and ``kl2_dims`` [batch, z2_dim] are the per-coordinate parts
    (they sum to ``kl1`` and ``kl2``); ``elbo = reconstruction - kl1 - kl2``.
    """

    reconstruction: torch.Tensor
    kl1: torch.Tensor
    kl2: torch.Tensor
    elbo: torch.Tensor
    kl1_dims: torch.Tensor
    kl2_dims: torch.Tensor


def _gaussian_head(out: torch.Tensor, d: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split network outputs into (mean, standard deviation) from (μ, log σ²), like the VAE's encoder."""
    return out[..., :d], (0.5 * out[..., d:2 * d]).exp()


class HierarchicalVAE(nn.Module):
    r"""Two-level VAE :math:`p(z_2)\,p_\theta(z_1|z_2)\,p_\theta(x|z_1[,z_2])` (book equation ``eq-hvae-model``).

    Parameters
    ----------
    x_dim : int
        Pixels per image.
    z1_dim, z2_dim : int
        Sizes of the lower and top latent levels.
    hidden : sequence of int
        Hidden widths of every MLP (encoder nets, the decoder reversed, :math:`p(z_1|z_2)`); an
        empty sequence makes every map linear (used by :func:`two_layer_toy`).
    likelihood : {"categorical", "bernoulli", "gaussian"}
    levels : int
        Categorical pixel levels (Digits: 17).
    inference : {"bottom-up", "top-down"}
        :math:`q(z_1|x)\,q(z_2|z_1)` or the ladder's :math:`q(z_2|x)\,q(z_1|z_2,x)`.
    skip : bool
        The decoder sees :math:`(z_1, z_2)` instead of :math:`z_1` alone.
    obs_scale : float
        Gaussian likelihood only: the fixed pixel standard deviation.
    activation : str

    References
    ----------
    Sønderby et al. (2016), Ladder variational autoencoders; Vahdat & Kautz (2020), NVAE.
    """

    def __init__(self, x_dim: int = 64, z1_dim: int = 8, z2_dim: int = 4, hidden: Sequence[int] = (128,),
                 likelihood: str = "categorical", levels: int = 17, inference: str = "bottom-up",
                 skip: bool = False, obs_scale: float = 1.0, activation: str = "leaky_relu"):
        super().__init__()
        self.x_dim = check_integer("x_dim", x_dim)
        self.z1_dim = check_integer("z1_dim", z1_dim)
        self.z2_dim = check_integer("z2_dim", z2_dim)
        self.hidden = () if hidden is not None and len(tuple(hidden)) == 0 else _check_hidden(hidden)
        self.likelihood = _check_choice("likelihood", likelihood, LIKELIHOODS)
        self.levels = check_integer("levels", levels, minimum=2)
        self.inference = _check_choice("inference", inference, INFERENCES)
        if not isinstance(skip, bool):
            raise ValueError(f"skip: expected True or False, got {skip!r}")
        self.skip = skip
        self.obs_scale = float(check_positive("obs_scale", as_tensor("obs_scale", obs_scale)))
        self.hparams = dict(x_dim=x_dim, z1_dim=z1_dim, z2_dim=z2_dim, hidden=list(self.hidden), likelihood=likelihood,
                            levels=levels, inference=inference, skip=skip, obs_scale=obs_scale, activation=activation)
        h, d1, d2 = self.hidden, self.z1_dim, self.z2_dim
        out = {"bernoulli": self.x_dim, "gaussian": self.x_dim, "categorical": self.x_dim * self.levels}[likelihood]
        self.decoder = mlp((d1 + (d2 if skip else 0), *reversed(h), out), activation)  # p(x | z1 [, z2])
        self.prior1 = mlp((d2, *reversed(h), 2 * d1), activation)  # p(z1 | z2)
        if inference == "bottom-up":
            self.encoder1 = mlp((self.x_dim, *h, 2 * d1), activation)  # q(z1 | x)
            self.encoder2 = mlp((d1, *h, 2 * d2), activation)  # q(z2 | z1)
        else:
            self.encoder = mlp((self.x_dim, *h, 2 * d2 + 2 * d1), activation)  # q(z2 | x) and the message about z1
        self.input_scale = 1.0 / (self.levels - 1) if likelihood == "categorical" else 1.0

    # ----------------------------------------------------------------- checks
    def check_x(self, x, name: str = "x") -> torch.Tensor:
        """Return ``x`` as a float tensor [batch, x_dim], or raise naming ``name`` (shape, finite, support)."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor [batch, {self.x_dim}], got {type(x).__name__}")
        if x.dim() != 2 or x.shape[-1] != self.x_dim:
            raise ValueError(f"{name}: expected shape [batch, {self.x_dim}], got {tuple(x.shape)}")
        x = check_finite(name, x.to(next(self.parameters()).dtype))
        if self.likelihood == "bernoulli" and ((x != 0) & (x != 1)).any():
            raise ValueError(f"{name}: the Bernoulli likelihood needs pixels in {{0, 1}} (see data.binarize)")
        if self.likelihood == "categorical" and x.numel() and (
                (x != x.round()).any() or x.min() < 0 or x.max() > self.levels - 1):
            raise ValueError(f"{name}: the categorical likelihood needs integer pixels in 0..{self.levels - 1}")
        return x

    # -------------------------------------------------------- distributions
    def prior2(self) -> Independent:
        """:math:`p(z_2) = \\mathcal N(0, I)`, event [z2_dim]."""
        zeros = torch.zeros(self.z2_dim, dtype=next(self.parameters()).dtype)
        return diagonal_gaussian(zeros, torch.ones_like(zeros))

    def conditional_prior(self, z2: torch.Tensor) -> Independent:
        """:math:`p_\\theta(z_1\\mid z_2)`, a diagonal Gaussian with batch shape ``z2.shape[:-1]``."""
        return diagonal_gaussian(*_gaussian_head(self.prior1(z2), self.z1_dim), validate_args=False)

    def decode(self, z1: torch.Tensor, z2: torch.Tensor) -> Distribution:
        """:math:`p_\\theta(x\\mid z_1[, z_2])`, batch shape ``z1.shape[:-1]``, event [x_dim]."""
        out = self.decoder(torch.cat([z1, z2], -1) if self.skip else z1)
        if self.likelihood == "bernoulli":
            return bernoulli_likelihood(out, validate_args=False)
        if self.likelihood == "categorical":
            return categorical_likelihood(out.unflatten(-1, (self.x_dim, self.levels)), validate_args=False)
        return gaussian_likelihood(out, out.new_tensor(self.obs_scale), validate_args=False)

    def forward_pass(self, x: torch.Tensor, k: int = 1, check: bool = True) -> HierarchicalPass:
        r"""Draw ``k`` reparameterized samples :math:`(z_1, z_2)\sim q(z_1, z_2|x)` and evaluate every density."""
        k = check_integer("k", k)
        if check:
            x = self.check_x(x)
        xs = x * self.input_scale
        d1, d2 = self.z1_dim, self.z2_dim
        if self.inference == "bottom-up":
            q1 = diagonal_gaussian(*_gaussian_head(self.encoder1(xs), d1), validate_args=False)  # [batch]
            z1 = q1.rsample((k,))
            q2 = diagonal_gaussian(*_gaussian_head(self.encoder2(z1), d2), validate_args=False)  # [k, batch]
            z2 = q2.rsample()
            p1 = self.conditional_prior(z2)
        else:
            out = self.encoder(xs)
            q2 = diagonal_gaussian(*_gaussian_head(out[..., : 2 * d2], d2), validate_args=False)  # [batch]
            z2 = q2.rsample((k,))
            p1 = self.conditional_prior(z2)  # [k, batch]
            msg_loc, msg_scale = _gaussian_head(out[..., 2 * d2:], d1)
            q1 = _precision_weighted(msg_loc, msg_scale, p1.base_dist.loc, p1.base_dist.scale)  # eq-hvae-ladder
            z1 = q1.rsample()
        log_px_z = self.decode(z1, z2).log_prob(x)
        log_p = p1.log_prob(z1) + self.prior2().log_prob(z2)
        log_q = q1.log_prob(z1) + q2.log_prob(z2)
        return HierarchicalPass(z1, z2, q1, q2, p1, log_px_z, log_p, log_q)

    # ---------------------------------------------------------------- bounds
    def log_weights(self, x: torch.Tensor, k: int = 1) -> torch.Tensor:
        r""":math:`\log w = \log p(x|z_1) + \log p(z_1|z_2) + \log p(z_2) - \log q(z_1, z_2|x)` (``eq-log-weights``), [k, batch]."""
        f = self.forward_pass(x, k)
        return bounds.log_weights(f.log_px_z, f.log_p, f.log_q)

    def elbo(self, x: torch.Tensor, k: int = 1) -> torch.Tensor:
        r"""Monte Carlo ELBO (``eq-elbo-def``), [batch] nats."""
        return bounds.elbo(self.log_weights(x, k))

    def iwae(self, x: torch.Tensor, k: int) -> torch.Tensor:
        r""":math:`\mathcal L_k` (``eq-iwae``), [batch] nats."""
        return bounds.iwae_bound(self.log_weights(x, k))

    def elbo_terms(self, x: torch.Tensor, k: int = 1) -> HierarchicalTerms:
        r"""Reconstruction and the KL of each level (``eq-hvae-elbo``); see :func:`hierarchical_elbo_terms`."""
        return hierarchical_elbo_terms(self.forward_pass(x, k), self.inference)

    @torch.no_grad()
    def sample(self, n: int, mean: bool = False) -> torch.Tensor:
        """``n`` images by ancestral sampling :math:`z_2\\to z_1\\to x` (the decoder's mean if ``mean``), [n, x_dim]."""
        n = check_integer("n", n)
        z2 = self.prior2().sample((n,))
        z1 = self.conditional_prior(z2).sample()
        px = self.decode(z1, z2)
        return pixel_mean(px) if mean else px.sample().to(z1.dtype)


def _precision_weighted(loc_a, scale_a, loc_b, scale_b) -> Independent:
    r"""The normalized product of two diagonal Gaussians (book equation ``eq-hvae-ladder``).

    .. math:: \sigma^{-2} = \sigma_a^{-2} + \sigma_b^{-2},\qquad
              \mu = \sigma^2\,(\mu_a\sigma_a^{-2} + \mu_b\sigma_b^{-2})
    """
    prec_a, prec_b = scale_a.pow(-2), scale_b.pow(-2)
    var = 1.0 / (prec_a + prec_b)
    return diagonal_gaussian(var * (loc_a * prec_a + loc_b * prec_b), var.sqrt(), validate_args=False)


def hierarchical_elbo_terms(f: HierarchicalPass, inference: str) -> HierarchicalTerms:
    r"""The ELBO of one :class:`HierarchicalPass` as reconstruction − KL₁ − KL₂ (book equation ``eq-hvae-elbo``).

    Per coordinate j and averaged over the k samples:

    * top-down: :math:`\mathrm{KL}_2 = \mathrm{KL}(q(z_2|x)\,\|\,p(z_2))` and
      :math:`\mathrm{KL}_1 = \mathbb E_{z_2}\,\mathrm{KL}(q(z_1|z_2,x)\,\|\,p(z_1|z_2))`, closed form
      given each sampled :math:`z_2`;
    * bottom-up: :math:`\mathrm{KL}_2 = \mathbb E_{z_1}\,\mathrm{KL}(q(z_2|z_1)\,\|\,p(z_2))` in
      closed form given each sampled :math:`z_1`, and
      :math:`\mathrm{KL}_1 = \mathbb E[\log q(z_1|x) - \log p(z_1|z_2)]` by Monte Carlo
      (``eq-kl-mc``), since :math:`p(z_1|z_2)` depends on a :math:`z_2` drawn from :math:`z_1`.

    Their sum is an unbiased estimate of :math:`\mathrm{KL}(q(z_1,z_2|x)\,\|\,p(z_1,z_2))`. Top-down,
    each level's term is itself an (expected conditional) KL, hence ≥ 0. Bottom-up, only
    :math:`\mathrm{KL}_2` is; :math:`\mathrm{KL}_1` compares :math:`q(z_1|x)` with a prior evaluated
    at a :math:`z_2` inferred *from* :math:`z_1`, and can be negative.

    Parameters
    ----------
    f : HierarchicalPass
    inference : {"bottom-up", "top-down"}

    Returns
    -------
    HierarchicalTerms
    """
    if not isinstance(f, HierarchicalPass):
        raise TypeError(f"f: expected a HierarchicalPass, got {type(f).__name__}")
    inference = _check_choice("inference", inference, INFERENCES)
    reconstruction = check_finite("log_px_z", f.log_px_z).mean(0)
    if inference == "top-down":
        kl2_dims = kl_divergence(f.q2.base_dist, Normal(torch.zeros_like(f.q2.base_dist.loc), 1.0))  # [batch, d2]
        kl1_dims = kl_divergence(f.q1.base_dist, f.p1.base_dist).mean(0)  # [batch, d1]
    else:
        kl2_dims = kl_divergence(f.q2.base_dist, Normal(torch.zeros_like(f.q2.base_dist.loc), 1.0)).mean(0)
        kl1_dims = (f.q1.base_dist.log_prob(f.z1) - f.p1.base_dist.log_prob(f.z1)).mean(0)
    kl1, kl2 = kl1_dims.sum(-1), kl2_dims.sum(-1)
    return HierarchicalTerms(reconstruction, kl1, kl2, reconstruction - kl1 - kl2, kl1_dims, kl2_dims)


@torch.no_grad()
def active_units_per_level(model: HierarchicalVAE, x, k: int = 20, threshold: float = 0.01) -> tuple[int, int]:
    r"""Active units of each level: :math:`\#\{j : \operatorname{Cov}_x(\mathbb E_q[z_{\ell j}|x]) > \text{threshold}\}`.

    The criterion of :func:`vae_support.train.active_units` (Burda et al., 2016) applied to
    :math:`z_1` and :math:`z_2` separately. The posterior mean of the level that is sampled second
    (:math:`z_2` bottom-up, :math:`z_1` top-down) is a Monte Carlo average over ``k`` samples.

    Parameters
    ----------
    model : HierarchicalVAE
    x : Tensor [n ≥ 2, x_dim]
    k : int
    threshold : float

    Returns
    -------
    (int, int)
        Active units of :math:`z_1` and of :math:`z_2`.
    """
    if not isinstance(model, HierarchicalVAE):
        raise TypeError(f"model: expected a HierarchicalVAE, got {type(model).__name__}")
    x = model.check_x(getattr(x, "x", x))
    if x.shape[0] < 2:
        raise ValueError(f"x: expected at least 2 data points, got {x.shape[0]}")
    k = check_integer("k", k)
    threshold = check_nonnegative_scalar("threshold", threshold)
    was_training = model.training
    model.eval()
    f = model.forward_pass(x, k, check=False)
    model.train(was_training)
    m1 = f.q1.mean.expand(f.z1.shape).mean(0)
    m2 = f.q2.mean.expand(f.z2.shape).mean(0)
    return active_units(m1, threshold), active_units(m2, threshold)


def _free_bits_pair(free_bits) -> tuple[float, float]:
    if isinstance(free_bits, (int, float)) and not isinstance(free_bits, bool):
        free_bits = (free_bits, free_bits)
    try:
        lam1, lam2 = free_bits
    except (TypeError, ValueError) as err:
        raise ValueError(f"free_bits: expected a number or a pair (level 1, level 2), got {free_bits!r}") from err
    return check_nonnegative_scalar("free_bits", lam1), check_nonnegative_scalar("free_bits", lam2)


def fit_hierarchical(model: HierarchicalVAE, x, epochs: int = 30, batch_size: int = 100, lr: float = 3e-3,
                     free_bits=0.0, seed: int = 0) -> list[float]:
    r"""Train ``model`` with Adam on the (free-bits) ELBO; return the training objective per epoch.

    The objective per batch is (book equation ``eq-hvae-free-bits``)

    .. math:: \frac1B\sum_i \log p(x_i|z_1) - \sum_{\ell=1}^2\sum_j \max\Big(\lambda_\ell,\ \frac1B\sum_i\mathrm{KL}_{\ell j}(x_i)\Big),

    free bits per coordinate as in :func:`vae_support.train.fit`, with its own floor
    :math:`\lambda_\ell` per level (Kingma et al., 2016); with ``free_bits=0`` it is the ELBO.
    One reparameterized sample per point, shuffled mini-batches drawn from a generator seeded with
    ``seed``.

    Parameters
    ----------
    model : HierarchicalVAE
    x : Tensor [n, x_dim] or data.Split
    epochs, batch_size : int
    lr : float
    free_bits : float or (float, float)
        :math:`\lambda` for both levels, or :math:`(\lambda_1, \lambda_2)`, nats per coordinate.
    seed : int

    Returns
    -------
    list of float
        Mean objective (nats per image) of each epoch.
    """
    if not isinstance(model, HierarchicalVAE):
        raise TypeError(f"model: expected a HierarchicalVAE, got {type(model).__name__}")
    x = model.check_x(getattr(x, "x", x))
    epochs, batch_size = check_integer("epochs", epochs), check_integer("batch_size", batch_size)
    lr = float(check_positive("lr", as_tensor("lr", lr)))
    lam1, lam2 = _free_bits_pair(free_bits)
    g = torch.Generator().manual_seed(check_integer("seed", seed, minimum=0))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    model.train()
    for _ in range(epochs):
        total, n = 0.0, 0
        for idx in torch.randperm(x.shape[0], generator=g).split(batch_size):
            t = hierarchical_elbo_terms(model.forward_pass(x[idx], 1, check=False), model.inference)
            kl = t.kl1_dims.mean(0).clamp(min=lam1).sum() + t.kl2_dims.mean(0).clamp(min=lam2).sum()
            objective = t.reconstruction.mean() - kl
            if not torch.isfinite(objective):
                raise FloatingPointError(f"fit_hierarchical: non-finite objective at epoch {len(history) + 1}")
            opt.zero_grad()
            (-objective).backward()
            opt.step()
            total, n = total + float(objective.detach()) * len(idx), n + len(idx)
        history.append(total / n)
    model.eval()
    return history


def two_layer_toy(a: float, s: float, noise_std: float, inference: str = "top-down") -> HierarchicalVAE:
    r"""The book's exact two-layer model as a linear :class:`HierarchicalVAE` whose q is the exact posterior.

    :math:`z_2\sim\mathcal N(0,1)`, :math:`z_1|z_2\sim\mathcal N(a z_2, s^2)`,
    :math:`x|z_1\sim\mathcal N(z_1, \sigma^2)` (chapter ``elbo-open-questions``), float64. Both
    inference orders can hold the exact posterior of this model, so every log-weight equals
    :math:`\log p(x)` = :math:`\log\mathcal N(x; 0, a^2 + s^2 + \sigma^2)`:

    * top-down: :math:`q(z_2|x) = p(z_2|x) = \mathcal N\big(a x/v,\ (s^2+\sigma^2)/v\big)` with
      :math:`v = a^2+s^2+\sigma^2`, and the message :math:`\mathcal N(x, \sigma^2)` times
      :math:`p(z_1|z_2)` is :math:`p(z_1|z_2, x)`;
    * bottom-up: :math:`q(z_1|x) = p(z_1|x) = \mathcal N\big((a^2+s^2)x/v,\ (a^2+s^2)\sigma^2/v\big)`
      and :math:`q(z_2|z_1) = p(z_2|z_1) = \mathcal N\big(a z_1/(a^2+s^2),\ s^2/(a^2+s^2)\big)`
      (x is independent of :math:`z_2` given :math:`z_1`).
    """
    a = float(check_finite("a", as_tensor("a", a, dtype=torch.float64)))
    s = float(check_positive("s", as_tensor("s", s, dtype=torch.float64)))
    sigma = float(check_positive("noise_std", as_tensor("noise_std", noise_std, dtype=torch.float64)))
    model = HierarchicalVAE(x_dim=1, z1_dim=1, z2_dim=1, hidden=(), likelihood="gaussian",
                            inference=inference, obs_scale=sigma).double()
    v, m = a * a + s * s + sigma ** 2, a * a + s * s

    def put(layer, weights, biases):
        with torch.no_grad():
            layer.weight.copy_(torch.tensor(weights, dtype=torch.float64).reshape(layer.weight.shape))
            layer.bias.copy_(torch.tensor(biases, dtype=torch.float64))

    put(model.decoder[0], [1.0], [0.0])
    put(model.prior1[0], [a, 0.0], [0.0, math.log(s * s)])
    if inference == "top-down":
        put(model.encoder[0], [a / v, 0.0, 1.0, 0.0], [0.0, math.log((s * s + sigma ** 2) / v), 0.0, math.log(sigma ** 2)])
    else:
        put(model.encoder1[0], [m / v, 0.0], [0.0, math.log(m * sigma ** 2 / v)])
        put(model.encoder2[0], [a / m, 0.0], [0.0, math.log(s * s / m)])
    return model
