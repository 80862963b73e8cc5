r"""Models with exact answers, against which every estimator of the course is checked.

* :class:`LinearGaussian` — probabilistic PCA: :math:`z\sim\mathcal N(0,I)`,
  :math:`x\mid z\sim\mathcal N(Wz+b,\sigma^2 I)`. Its evidence, posterior and the ELBO of any
  Gaussian q are available in closed form.
* :class:`Grid1D` — a one-dimensional latent with any prior and likelihood (so a skewed or
  bimodal posterior), whose evidence, posterior, KLs and ELBOs are integrals on a fine grid.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch.distributions import (
    Distribution,
    Independent,
    MultivariateNormal,
    Normal,
    Exponential,
    kl_divergence,
)

from ._checks import as_tensor, check_finite, check_integer, check_positive, check_real


def gaussian_mean_cov(q: Distribution) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean [..., d] and covariance [..., d, d] of a Gaussian ``MultivariateNormal`` or ``Independent(Normal)``."""
    if isinstance(q, MultivariateNormal):
        return q.mean, q.covariance_matrix
    if isinstance(q, Independent) and isinstance(q.base_dist, Normal) and q.reinterpreted_batch_ndims == 1:
        return q.mean, torch.diag_embed(q.variance)
    raise TypeError(f"q: expected a MultivariateNormal or Independent(Normal, 1), got {type(q).__name__}")


class LinearGaussian:
    r"""The linear-Gaussian latent variable model (probabilistic PCA).

    .. math::
        p(z) = \mathcal N(0, I_{d_z}),\qquad p(x\mid z) = \mathcal N(Wz + b,\ \sigma^2 I_{d_x})

    Exact answers (book equations ``eq-lg-marginal`` and ``eq-lg-posterior``):

    .. math::
        p(x) = \mathcal N(b,\ WW^\top + \sigma^2 I),\qquad
        p(z\mid x) = \mathcal N\big(\Sigma W^\top (x-b)/\sigma^2,\ \Sigma\big),\quad
        \Sigma = (I + W^\top W/\sigma^2)^{-1}.

    Parameters
    ----------
    W : Tensor [d_x, d_z]
        Loading matrix.
    b : Tensor [d_x]
        Offset.
    noise_std : float
        :math:`\sigma > 0`.

    References
    ----------
    Tipping & Bishop (1999); Bishop (2006), §12.2.
    """

    def __init__(self, W, b, noise_std: float):
        W = check_finite("W", as_tensor("W", W))
        if W.dim() != 2:
            raise ValueError(f"W: expected a matrix [d_x, d_z], got shape {tuple(W.shape)}")
        b = check_finite("b", as_tensor("b", b, dtype=W.dtype)).to(W.dtype)
        if b.shape != (W.shape[0],):
            raise ValueError(f"b: expected shape ({W.shape[0]},) to match W's rows, got {tuple(b.shape)}")
        sigma = check_positive("noise_std", as_tensor("noise_std", noise_std, dtype=W.dtype).to(W.dtype))
        if sigma.dim() != 0:
            raise ValueError(f"noise_std: expected a scalar, got shape {tuple(sigma.shape)}")
        self.W, self.b, self.noise_std = W, b, sigma
        self.x_dim, self.z_dim = W.shape

    @classmethod
    def random(cls, x_dim: int = 5, z_dim: int = 2, noise_std: float = 0.5, seed: int = 0, dtype=torch.float64) -> "LinearGaussian":
        """A model with standard-normal W and b drawn from a generator seeded with ``seed``."""
        g = torch.Generator().manual_seed(check_integer("seed", seed, minimum=0))
        W = torch.randn(check_integer("x_dim", x_dim), check_integer("z_dim", z_dim), generator=g, dtype=dtype)
        b = torch.randn(x_dim, generator=g, dtype=dtype)
        return cls(W, b, noise_std)

    # -- the generative model -------------------------------------------------------------
    def prior(self) -> Independent:
        """:math:`p(z) = \\mathcal N(0, I)`, event shape [d_z]."""
        zeros = torch.zeros(self.z_dim, dtype=self.W.dtype)
        return Independent(Normal(zeros, torch.ones_like(zeros)), 1)

    def likelihood(self, z) -> Independent:
        """:math:`p(x\\mid z) = \\mathcal N(Wz + b, \\sigma^2 I)` for z [..., d_z]."""
        z = self._check_z(z)
        return Independent(Normal(z @ self.W.T + self.b, self.noise_std), 1)

    def log_joint(self, x, z) -> torch.Tensor:
        """:math:`\\log p(x, z) = \\log p(x|z) + \\log p(z)`; z [S, B, d_z] with x [B, d_x] gives [S, B]."""
        x = self._check_x(x)
        z = self._check_z(z)
        return self.likelihood(z).log_prob(x) + self.prior().log_prob(z)

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``n`` pairs: returns ``(x [n, d_x], z [n, d_z])``."""
        n = check_integer("n", n)
        z = torch.randn(n, self.z_dim, generator=generator, dtype=self.W.dtype)
        eps = torch.randn(n, self.x_dim, generator=generator, dtype=self.W.dtype)
        return z @ self.W.T + self.b + self.noise_std * eps, z

    # -- exact answers --------------------------------------------------------------------
    def marginal(self) -> MultivariateNormal:
        """:math:`p(x) = \\mathcal N(b, WW^\\top + \\sigma^2 I)` (book equation ``eq-lg-marginal``)."""
        cov = self.W @ self.W.T + self.noise_std**2 * torch.eye(self.x_dim, dtype=self.W.dtype)
        return MultivariateNormal(self.b, covariance_matrix=cov)

    def log_marginal(self, x) -> torch.Tensor:
        """Exact :math:`\\log p(x)` in nats for x [..., d_x]; returns [...]."""
        return self.marginal().log_prob(self._check_x(x))

    def posterior(self, x) -> MultivariateNormal:
        """Exact :math:`p(z\\mid x)` (book equation ``eq-lg-posterior``), batch shape x's batch."""
        x = self._check_x(x)
        precision = torch.eye(self.z_dim, dtype=self.W.dtype) + self.W.T @ self.W / self.noise_std**2
        cov = torch.linalg.inv(precision)
        cov = 0.5 * (cov + cov.T)
        mean = (x - self.b) @ self.W @ cov / self.noise_std**2
        return MultivariateNormal(mean, covariance_matrix=cov.expand(*mean.shape[:-1], self.z_dim, self.z_dim))

    def expected_log_likelihood(self, x, q: Distribution) -> torch.Tensor:
        r"""Closed-form reconstruction term :math:`\mathbb E_{q}[\log p(x|z)]` for Gaussian q.

        .. math::
            -\frac{d_x}{2}\log(2\pi\sigma^2)
            - \frac{1}{2\sigma^2}\Big(\lVert x - Wm - b\rVert^2 + \operatorname{tr}(W S W^\top)\Big)

        for :math:`q = \mathcal N(m, S)` (book equation ``eq-lg-reconstruction``).
        """
        x = self._check_x(x)
        m, S = gaussian_mean_cov(q)
        resid = x - m @ self.W.T - self.b
        trace = torch.einsum("ij,...jk,ik->...", self.W, S, self.W)
        var = self.noise_std**2
        return -0.5 * self.x_dim * torch.log(2 * math.pi * var) - 0.5 * (resid.pow(2).sum(-1) + trace) / var

    def elbo(self, x, q: Distribution) -> torch.Tensor:
        r"""Closed-form ELBO of a Gaussian q: :math:`\mathbb E_q[\log p(x|z)] - \mathrm{KL}(q\|p(z))`.

        Book equation ``eq-elbo-decomposition`` with both terms exact. q may be a
        ``MultivariateNormal`` or ``Independent(Normal, 1)`` with batch shape matching x.
        Returns [batch], nats.
        """
        m, S = gaussian_mean_cov(q)
        prior = MultivariateNormal(torch.zeros(self.z_dim, dtype=self.W.dtype), torch.eye(self.z_dim, dtype=self.W.dtype))
        return self.expected_log_likelihood(x, q) - kl_divergence(MultivariateNormal(m, S), prior)

    # -- validation -----------------------------------------------------------------------
    def _check_x(self, x) -> torch.Tensor:
        x = check_finite("x", as_tensor("x", x, dtype=self.W.dtype))
        if x.dim() < 1 or x.shape[-1] != self.x_dim:
            raise ValueError(f"x: expected shape [..., {self.x_dim}], got {tuple(x.shape)}")
        return x.to(self.W.dtype)

    def _check_z(self, z) -> torch.Tensor:
        z = check_finite("z", as_tensor("z", z, dtype=self.W.dtype))
        if z.dim() < 1 or z.shape[-1] != self.z_dim:
            raise ValueError(f"z: expected shape [..., {self.z_dim}], got {tuple(z.shape)}")
        return z.to(self.W.dtype)


Q_MASS_TOLERANCE = 1e-3
"""How far from 1 a candidate q's probability summed on a :class:`Grid1D` may be (a q outside the grid,
or narrower than its spacing, would make every grid integral 0)."""


def _interval_end(name: str, value) -> float:
    """An interval's end: a real number or ±inf, never NaN."""
    if isinstance(value, bool):
        raise TypeError(f"{name}: expected a real number or ±inf, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name}: expected a real number or ±inf, got {type(value).__name__}") from err
    if math.isnan(v):
        raise ValueError(f"{name}: expected a real number or ±inf, got NaN")
    return v


class Grid1D:
    r"""A one-dimensional latent model for one observation x, solved on a fine grid.

    .. math::
        \log p(x) = \log\int p(x\mid z)\,p(z)\,dz \approx
        \operatorname{logsumexp}_i\big[\log p(x, z_i)\big] + \log\Delta z

    With :math:`\log p(x)` known, the posterior density is exact at every point,
    :math:`\log p(z|x) = \log p(x,z) - \log p(x)`, and KLs and ELBOs of any q are grid integrals
    (book equations ``eq-kl-def`` and ``eq-elbo-gap``).

    Parameters
    ----------
    prior : Distribution
        Scalar distribution :math:`p(z)` (event shape ``()``).
    likelihood : callable
        ``likelihood(z)`` returns the distribution :math:`p(x\mid z)` for a tensor z.
    x : float
        The observation.
    z_min, z_max : float
        Grid range; it must hold essentially all the posterior mass (checked).
    n : int
        Number of grid points (odd ≥ 101).
    """

    def __init__(self, prior: Distribution, likelihood: Callable[[torch.Tensor], Distribution], x: float,
                 z_min: float = -10.0, z_max: float = 10.0, n: int = 4001):
        if not isinstance(prior, Distribution) or prior.event_shape != torch.Size() or prior.batch_shape != torch.Size():
            raise ValueError("prior: expected a scalar torch.distributions.Distribution (no batch or event shape)")
        if not callable(likelihood):
            raise TypeError("likelihood: expected a callable z -> Distribution")
        z_min, z_max = check_real("z_min", z_min), check_real("z_max", z_max)
        if not z_min < z_max:
            raise ValueError(f"z_min, z_max: expected finite numbers with z_min < z_max, got {z_min}, {z_max}")
        n = check_integer("n", n, minimum=101)
        self.prior, self._likelihood = prior, likelihood
        self.x = check_finite("x", as_tensor("x", x, dtype=torch.float64))
        self.z = torch.linspace(z_min, z_max, n, dtype=torch.float64)
        self.dz = float(self.z[1] - self.z[0])
        try:
            log_joint = self.log_joint(self.z)
        except (ValueError, TypeError, RuntimeError) as err:  # e.g. torch's support check: x impossible at some z
            raise ValueError(f"likelihood: log p(x|z) failed on the grid [{z_min:g}, {z_max:g}] "
                             f"({type(err).__name__}: {str(err).splitlines()[0][:120]}); p(x|z) must be defined, "
                             f"possibly 0, at every z") from err
        if torch.isnan(log_joint).any() or (log_joint == math.inf).any():
            raise ValueError("likelihood: log p(x|z) + log p(z) is NaN or +inf on the grid; expected densities")
        self._log_marginal = torch.logsumexp(log_joint, 0) + math.log(self.dz)
        if not torch.isfinite(self._log_marginal):
            raise ValueError(f"likelihood: p(x|z) p(z) is 0 at every grid point, so log p(x) = -inf and the posterior "
                             f"is undefined; x = {float(self.x):.4g} is impossible under the model on [{z_min:g}, {z_max:g}]")
        edge = torch.exp(log_joint[[0, -1]] - self._log_marginal).max()
        if edge > 1e-6:
            raise ValueError(f"z_min, z_max: the posterior density is {float(edge):.2g} at the grid's edge; widen the grid")

    # -- named examples -------------------------------------------------------------------
    @classmethod
    def skewed(cls) -> "Grid1D":
        r"""A skewed posterior: :math:`z\sim\mathcal N(0, 3^2)`, :math:`x\mid z\sim\mathrm{Exponential}(\text{rate}=e^{-z})`, x = 6.

        The posterior is a Gumbel-like bump with mean ≈ 2, variance ≈ 1, a steep left flank and a
        long right tail — the book's picture in which :math:`\mathcal N(2, 2)` approximates it
        far better than :math:`\mathcal N(-4, 0.75)`.
        """
        return cls(Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(3.0, dtype=torch.float64)),
                   lambda z: Exponential(torch.exp(-z)), x=6.0, z_min=-15.0, z_max=20.0)

    @classmethod
    def bimodal(cls) -> "Grid1D":
        r"""A bimodal posterior: :math:`z\sim\mathcal N(0.3, 1.5^2)`, :math:`x\mid z\sim\mathcal N(z^2, 0.8^2)`, x = 4.

        Modes near :math:`z=\pm 2` of unequal mass: the stage for forward against reverse KL.
        """
        return cls(Normal(torch.tensor(0.3, dtype=torch.float64), torch.tensor(1.5, dtype=torch.float64)),
                   lambda z: Normal(z.pow(2), 0.8), x=4.0, z_min=-8.0, z_max=8.0)

    # -- densities ------------------------------------------------------------------------
    def log_joint(self, z) -> torch.Tensor:
        """:math:`\\log p(x, z)` at any tensor of latent values z (same shape out)."""
        z = as_tensor("z", z, dtype=torch.float64).to(torch.float64)
        return self._likelihood(z).log_prob(self.x) + self.prior.log_prob(z)

    def log_marginal(self) -> torch.Tensor:
        """:math:`\\log p(x)` in nats (scalar tensor)."""
        return self._log_marginal

    def log_posterior(self, z) -> torch.Tensor:
        """Exact :math:`\\log p(z\\mid x) = \\log p(x,z) - \\log p(x)` at any z."""
        return self.log_joint(z) - self._log_marginal

    def posterior_density(self) -> torch.Tensor:
        """:math:`p(z\\mid x)` on the grid ``self.z``."""
        return self.log_posterior(self.z).exp()

    def posterior_probability(self, lower: float = -math.inf, upper: float = math.inf) -> torch.Tensor:
        r""":math:`P(\text{lower} < z < \text{upper} \mid x)`, the posterior mass of an interval (grid sum)."""
        lower, upper = _interval_end("lower", lower), _interval_end("upper", upper)
        if lower > upper:
            raise ValueError(f"lower, upper: expected lower <= upper, got {lower:g} > {upper:g}")
        inside = ((self.z > lower) & (self.z < upper)).to(torch.float64)
        return self._integrate(self.log_posterior(self.z), inside)

    # -- divergences and bounds of a candidate q -----------------------------------------
    def _log_q(self, q: Distribution, name: str = "q") -> torch.Tensor:
        if not isinstance(q, Distribution) or q.event_shape != torch.Size():
            raise ValueError(f"{name}: expected a scalar torch.distributions.Distribution (event shape ())")
        z = self.z.reshape(-1, *([1] * len(q.batch_shape)))
        return q.log_prob(z.to(q.mean.dtype)).to(torch.float64)

    def _resolved_log_q(self, q: Distribution, name: str = "q") -> torch.Tensor:
        r""":math:`\log q` on the grid, checked to carry q's whole mass (integrals weighted by q need it)."""
        log_q = self._log_q(q, name)
        mass = (torch.logsumexp(log_q.detach(), 0) + math.log(self.dz)).exp()
        worst = float((mass - 1).abs().max()) if mass.numel() else 0.0
        if not worst <= Q_MASS_TOLERANCE:
            raise ValueError(
                f"{name}: q's probability on the grid [{float(self.z[0]):g}, {float(self.z[-1]):g}] (spacing {self.dz:.3g}) "
                f"sums to {float(mass.flatten()[(mass - 1).abs().flatten().nan_to_num(math.inf).argmax()]):.4g}, not 1: "
                f"q must lie inside the grid and be wider than its spacing")
        return log_q

    def check_q(self, q: Distribution, name: str = "q") -> None:
        """Raise ``ValueError`` naming ``name`` unless the grid resolves q (its mass on the grid is 1 ± :data:`Q_MASS_TOLERANCE`).

        Integrals weighted by q (:meth:`kl`, :meth:`elbo`) need it: a q outside the grid, or
        narrower than its spacing, would make them 0.
        """
        self._resolved_log_q(q, name)

    def _integrate(self, log_density: torch.Tensor, integrand: torch.Tensor) -> torch.Tensor:
        """:math:`\\int f(z)\\,g(z)\\,dz` on the grid, counting zero where the density f is zero."""
        weight = log_density.exp()
        return torch.where(weight > 0, weight * integrand, torch.zeros_like(integrand)).sum(0) * self.dz

    def kl(self, q: Distribution) -> torch.Tensor:
        """Reverse (exclusive) KL :math:`\\mathrm{KL}(q\\,\\|\\,p(z|x))`, the one the ELBO minimizes (``eq-kl-def``)."""
        log_q = self._resolved_log_q(q)
        log_post = self.log_posterior(self.z).reshape(log_q.shape[:1] + (1,) * (log_q.dim() - 1))
        return self._integrate(log_q, log_q - log_post)

    def forward_kl(self, q: Distribution) -> torch.Tensor:
        """Forward (inclusive) KL :math:`\\mathrm{KL}(p(z|x)\\,\\|\\,q)`."""
        log_q = self._log_q(q)
        log_post = self.log_posterior(self.z).reshape(log_q.shape[:1] + (1,) * (log_q.dim() - 1))
        return self._integrate(log_post.expand_as(log_q), log_post - log_q)

    def elbo(self, q: Distribution) -> torch.Tensor:
        """:math:`\\mathbb E_q[\\log p(x,z) - \\log q(z)]` on the grid; equals ``log_marginal() - kl(q)``."""
        log_q = self._resolved_log_q(q)
        log_joint = self.log_joint(self.z).reshape(log_q.shape[:1] + (1,) * (log_q.dim() - 1))
        return self._integrate(log_q, log_joint - log_q)
