r"""Figures of Part II (chapters ``kl-geometry`` and ``latent-geometry``): q moving toward p(z|x).

Drawing functions take ``ax=None`` and ``lang="pt"|"en"`` and return the axes (animations
return a ``matplotlib.animation.FuncAnimation``; render it for the static site with
:func:`animation_html`). A few functions here *compute* what the figures draw — the gradient
of a Gaussian KL with respect to q's mean, the optimization paths of q, the encoder's gradient
split into reconstruction and regularization parts — and are named for what they compute;
they are tested against closed forms in ``tests/test_plot_kl_geometry.py``.

Every value is per data point and in nats.
"""
from __future__ import annotations

import hashlib
import math
import re
from contextlib import contextmanager
from typing import NamedTuple, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import animation
from torch.distributions import Distribution, MultivariateNormal, Normal, kl_divergence

from .._checks import as_tensor, check_finite, check_integer, check_positive
from ..kl import full_gaussian_kl
from ..toy import Grid1D, LinearGaussian
from ._style import COLORS, check_lang, get_ax, tr
from .latent_space import _ellipse

__all__ = [
    "QPath", "NormalFit", "kl_mean_gradient", "ascend_elbo_path", "fit_normal", "reconstruction_gradient",
    "regularization_gradient", "encoder_gradient_split", "reparameterize_grid", "animation_html", "plot_candidates",
    "plot_kl_gradient_field", "plot_elbo_path", "animate_q_path", "plot_forward_reverse",
    "draw_q_explorer", "animate_q_explorer", "plot_gradient_fields", "plot_regularization_field",
    "plot_reparameterization", "draw_digit", "animate_latent_walk",
]


# ---------------------------------------------------------------------------------------------
# computations behind the figures
# ---------------------------------------------------------------------------------------------
class QPath(NamedTuple):
    r"""The path of a diagonal Gaussian q while the ELBO is ascended (T recorded steps).

    ``mean`` and ``std`` are [T, d]; ``elbo`` and ``kl`` [T] in nats; ``log_px`` the constant
    :math:`\log p(x)` (book equation ``eq-elbo-gap``: ``elbo + kl == log_px`` at every step).
    """

    mean: torch.Tensor
    std: torch.Tensor
    elbo: torch.Tensor
    kl: torch.Tensor
    log_px: torch.Tensor


class NormalFit(NamedTuple):
    """A 1-D Normal fitted to a :class:`~vae_support.toy.Grid1D` posterior: mean, std, the divergence reached (nats)."""

    mean: float
    std: float
    divergence: float


@contextmanager
def _small_problem():
    """One thread and no argument validation inside: for the many tiny steps of an optimization.

    The distributions built inside are valid by construction, and problems of a few thousand
    numbers gain nothing from threads, which cost more than the step on a loaded machine (as in
    ``plot.elbo.fit_gaussian_q``). Both settings are restored on exit.
    """
    validate, threads = Distribution._validate_args, torch.get_num_threads()
    Distribution.set_default_validate_args(False)
    torch.set_num_threads(1)
    try:
        yield
    finally:
        Distribution.set_default_validate_args(validate)
        torch.set_num_threads(threads)


def _check_mvn(name: str, d) -> MultivariateNormal:
    if not isinstance(d, MultivariateNormal) or d.batch_shape != torch.Size():
        raise ValueError(f"{name}: expected a MultivariateNormal with no batch shape")
    return d


def kl_mean_gradient(mean, cov_q, posterior: MultivariateNormal) -> torch.Tensor:
    r"""Gradient of :math:`\mathrm{KL}(q\,\|\,p)` with respect to q's mean, for Gaussian q and p.

    .. math::
        \nabla_{\mu_q}\mathrm{KL}\big(\mathcal N(\mu_q, S)\,\|\,\mathcal N(\mu_p, \Sigma_p)\big)
        = \Sigma_p^{-1}(\mu_q - \mu_p)

    obtained by automatic differentiation of :func:`vae_support.kl.full_gaussian_kl` (book
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


def ascend_elbo_path(model: LinearGaussian, x, mean0, std0, steps: int = 60, lr: float = 0.1) -> QPath:
    r"""Gradient ascent on the exact ELBO of a diagonal Gaussian q in a linear-Gaussian model.

    q = :math:`\mathcal N(m, \operatorname{diag} s^2)` with parameters :math:`(m, \log s)`; each step
    :math:`\theta \leftarrow \theta + \eta\,\nabla_\theta\mathcal L`, with the closed-form ELBO of
    :meth:`~vae_support.toy.LinearGaussian.elbo` (book equation ``eq-elbo-decomposition``).
    At each recorded step the exact :math:`\mathrm{KL}(q\,\|\,p(z|x))` is computed too, so the
    path shows :math:`\mathcal L + \mathrm{KL} = \log p(x)` (``eq-elbo-gap``).

    Parameters
    ----------
    model : LinearGaussian
    x : Tensor [d_x]
        One observation.
    mean0, std0 : Tensor [d_z]
        Starting mean and standard deviations of q.
    steps : int
        Number of gradient steps (the path has ``steps + 1`` points).
    lr : float
        Step size :math:`\eta > 0`.

    Returns
    -------
    QPath
    """
    if not isinstance(model, LinearGaussian):
        raise TypeError(f"model: expected a LinearGaussian, got {type(model).__name__}")
    steps = check_integer("steps", steps, minimum=1)
    lr = float(check_positive("lr", as_tensor("lr", lr)))
    dtype = model.W.dtype
    x = model._check_x(x)
    if x.dim() != 1:
        raise ValueError(f"x: expected one observation of shape [{model.x_dim}], got {tuple(x.shape)}")
    mean = check_finite("mean0", as_tensor("mean0", mean0, dtype=dtype)).to(dtype).clone()
    log_std = check_positive("std0", as_tensor("std0", std0, dtype=dtype)).to(dtype).log().clone()
    for name, t in (("mean0", mean), ("std0", log_std)):
        if t.shape != (model.z_dim,):
            raise ValueError(f"{name}: expected shape ({model.z_dim},), got {tuple(t.shape)}")
    posterior = model.posterior(x)
    means, stds, elbos, kls = [], [], [], []
    with _small_problem():
        _ascend(model, x, posterior, mean, log_std, steps, lr, means, stds, elbos, kls)
    return QPath(torch.stack(means), torch.stack(stds), torch.stack(elbos), torch.stack(kls), model.log_marginal(x).detach())


def _ascend(model, x, posterior, mean, log_std, steps, lr, means, stds, elbos, kls) -> None:
    """The loop of :func:`ascend_elbo_path`: appends each step's q and values to the lists."""
    for step in range(steps + 1):
        mean.requires_grad_(True)
        log_std.requires_grad_(True)
        cov = torch.diag(torch.exp(2 * log_std))
        q = MultivariateNormal(mean, covariance_matrix=cov)
        elbo = model.elbo(x, q)
        means.append(mean.detach().clone())
        stds.append(log_std.detach().exp())
        elbos.append(elbo.detach())
        kls.append(kl_divergence(q, posterior).detach())
        if step == steps:
            break
        g_mean, g_log_std = torch.autograd.grad(elbo, (mean, log_std))
        mean = (mean + lr * g_mean).detach()
        log_std = (log_std + lr * g_log_std).detach()


def fit_normal(grid: Grid1D, divergence: str = "reverse", mean0: float = 0.0, std0: float = 1.0,
               steps: int = 300, lr: float = 0.05) -> NormalFit:
    r"""Fit :math:`q = \mathcal N(m, s^2)` to a grid posterior by minimizing a KL with Adam.

    ``divergence="reverse"`` minimizes :math:`\mathrm{KL}(q\,\|\,p(z|x))` (the ELBO's, mode-seeking:
    the answer depends on the start); ``"forward"`` minimizes :math:`\mathrm{KL}(p(z|x)\,\|\,q)`
    (mass-covering: its minimizer matches the posterior's mean and variance). Both are grid
    integrals (:meth:`Grid1D.kl`, :meth:`Grid1D.forward_kl`, book equation ``eq-kl-def``).

    Parameters
    ----------
    grid : Grid1D
    divergence : {"reverse", "forward"}
    mean0, std0 : float
        Starting point.
    steps : int
    lr : float
        Adam's step size.

    Returns
    -------
    NormalFit
        The fitted mean and standard deviation and the divergence at the fit, in nats.
    """
    if not isinstance(grid, Grid1D):
        raise TypeError(f"grid: expected a Grid1D, got {type(grid).__name__}")
    if divergence not in ("reverse", "forward"):
        raise ValueError(f"divergence: expected 'reverse' or 'forward', got {divergence!r}")
    objective = grid.kl if divergence == "reverse" else grid.forward_kl
    steps = check_integer("steps", steps, minimum=1)
    params = torch.tensor([float(check_finite("mean0", as_tensor("mean0", mean0))),
                           math.log(float(check_positive("std0", as_tensor("std0", std0))))],
                          dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([params], lr=float(check_positive("lr", as_tensor("lr", lr))))
    with _small_problem():
        for _ in range(steps):
            opt.zero_grad()
            objective(Normal(params[0], params[1].exp())).backward()
            opt.step()
    with torch.no_grad():
        value = objective(Normal(params[0], params[1].exp()))
    params = params.detach()
    return NormalFit(float(params[0]), float(params[1].exp()), float(value))


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
    try:
        kl = kl_divergence(f.q, f.prior)
    except NotImplementedError:
        kl = (f.log_qz_x - f.log_pz).mean(0)
    recon = f.log_px_z.mean(0)
    g_rec = torch.autograd.grad(recon.sum(), params, retain_graph=True)
    g_kl = torch.autograd.grad(kl.sum(), params)
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
    levels = torch.linspace(-lim, lim, check_integer("n_lines", n_lines, minimum=2), dtype=mean.dtype)
    t = torch.linspace(-lim, lim, check_integer("n_points", n_points, minimum=2), dtype=mean.dtype)
    a, b = torch.meshgrid(levels, t, indexing="ij")
    eps = torch.stack([torch.stack([b, a], -1), torch.stack([a, b], -1)])
    return eps, mean + eps @ L.T


def animation_html(anim: animation.Animation, name: str) -> str:
    """``anim.to_jshtml()`` with matplotlib's random element id replaced by one derived from ``name``.

    The same animation then gives the same HTML on every run, so a notebook's stored output is
    reproducible. Closes the animation's figure.
    """
    if not isinstance(anim, animation.Animation):
        raise TypeError(f"anim: expected a matplotlib Animation, got {type(anim).__name__}")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"name: expected letters, digits, '-' or '_', got {name!r}")
    html = anim.to_jshtml()
    plt.close(anim._fig)
    ids = set(re.findall(r'id="_anim_img([0-9a-f]{32})"', html))
    for uid in ids:
        html = html.replace(uid, hashlib.sha1(name.encode()).hexdigest()[:32])
    return html


# ---------------------------------------------------------------------------------------------
# chapter kl-geometry: figures
# ---------------------------------------------------------------------------------------------
def _normal(mean: float, std: float) -> Normal:
    return Normal(torch.tensor(float(mean), dtype=torch.float64), torch.tensor(float(std), dtype=torch.float64))


def plot_candidates(grid: Grid1D, candidates: Sequence[tuple[float, float]], ax=None, lang: str = "pt"):
    r"""The posterior :math:`p(z|x)` of a :class:`Grid1D` and candidate Normals q = N(mean, std²).

    Each candidate's legend shows its :math:`\mathrm{KL}(q\,\|\,p(z|x))` and ELBO (grid integrals,
    nats), so the figure reads as the notes' example made exact.

    Parameters
    ----------
    grid : Grid1D
    candidates : sequence of (mean, std)
        Standard deviations, not variances.
    """
    check_lang(lang)
    ax = get_ax(ax)
    z = grid.z.numpy()
    ax.fill_between(z, grid.posterior_density().numpy(), color=COLORS["posterior"], alpha=0.3)
    ax.plot(z, grid.posterior_density().numpy(), color=COLORS["posterior"], label=tr(lang, "posterior p(z|x)", "posterior p(z|x)"))
    colors = [COLORS["q"], COLORS["q_alt"], COLORS["prior"], COLORS["data"]]
    for (mean, std), color in zip(candidates, colors * len(candidates)):
        q = _normal(mean, std)
        label = f"N({mean:.3g}, {std:.3g}²): KL = {float(grid.kl(q)):.3g}, ELBO = {float(grid.elbo(q)):.3g}"
        ax.plot(z, q.log_prob(grid.z).exp().numpy(), color=color, lw=2, label=label)
    ax.set_xlabel("z")
    ax.set_ylabel(tr(lang, "densidade", "density"))
    ax.legend(fontsize=8)
    return ax


def _mvn_contours(ax, dist: MultivariateNormal, lim, color, n: int = 120, **kw):
    xs = torch.linspace(lim[0], lim[1], n, dtype=dist.mean.dtype)
    ys = torch.linspace(lim[2], lim[3], n, dtype=dist.mean.dtype)
    X, Y = torch.meshgrid(xs, ys, indexing="xy")
    dens = dist.log_prob(torch.stack([X, Y], -1)).exp()
    return ax.contour(X.numpy(), Y.numpy(), dens.numpy(), levels=5, colors=color, **kw)


def plot_kl_gradient_field(posterior: MultivariateNormal, q_mean, q_cov, lim=(-2.0, 4.0, -2.0, 4.0), n_arrows: int = 11,
                           ax=None, lang: str = "pt"):
    r"""Contours of p(z|x) and of q, with the field :math:`-\nabla_{\mu_q}\mathrm{KL}(q\,\|\,p(z|x))`.

    The arrows (computed by :func:`kl_mean_gradient`) sit at a grid of candidate means of q:
    each shows where gradient descent would move q's mean from there. They cross the posterior's
    contours at right angles (the gradient of a quadratic form), not toward its centre.
    """
    check_lang(lang)
    ax = get_ax(ax, figsize=(5, 5))
    _mvn_contours(ax, _check_mvn("posterior", posterior), lim, COLORS["posterior"])
    q = MultivariateNormal(as_tensor("q_mean", q_mean).to(posterior.mean.dtype), as_tensor("q_cov", q_cov).to(posterior.mean.dtype))
    _mvn_contours(ax, q, lim, COLORS["q"], linestyles="dashed")
    xs = torch.linspace(lim[0], lim[1], check_integer("n_arrows", n_arrows, minimum=2), dtype=posterior.mean.dtype)
    ys = torch.linspace(lim[2], lim[3], n_arrows, dtype=posterior.mean.dtype)
    X, Y = torch.meshgrid(xs, ys, indexing="xy")
    grad = kl_mean_gradient(torch.stack([X, Y], -1), q.covariance_matrix, posterior)
    ax.quiver(X.numpy(), Y.numpy(), -grad[..., 0].numpy(), -grad[..., 1].numpy(), color=COLORS["data"], alpha=0.8,
              angles="xy")
    ax.plot(*posterior.mean.numpy(), "o", color=COLORS["posterior"], label=tr(lang, "média de p(z|x)", "mean of p(z|x)"))
    ax.plot(*q.mean.numpy(), "s", color=COLORS["q"], label=tr(lang, "média de q", "mean of q"))
    ax.plot([], [], color=COLORS["data"], label=r"$-\nabla_{\mu}\,\mathrm{KL}(q\,\|\,p(z|x))$")
    ax.set_xlim(lim[0], lim[1])
    ax.set_ylim(lim[2], lim[3])
    ax.set_aspect("equal")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.legend(fontsize=8, loc="lower left")
    return ax


def plot_elbo_path(path: QPath, ax=None, lang: str = "pt"):
    r"""ELBO, KL(q‖p(z|x)) and their sum along an optimization path: the sum is :math:`\log p(x)` at every step."""
    check_lang(lang)
    ax = get_ax(ax)
    steps = np.arange(len(path.elbo))
    ax.plot(steps, path.elbo.numpy(), color=COLORS["q"], label="ELBO")
    ax.plot(steps, path.kl.numpy(), color=COLORS["data"], label="KL(q ‖ p(z|x))")
    ax.plot(steps, (path.elbo + path.kl).numpy(), color=COLORS["posterior"], lw=3, alpha=0.6, label="ELBO + KL")
    ax.axhline(float(path.log_px), color="k", ls=":", label="log p(x)")
    ax.set_xlabel(tr(lang, "passo de otimização", "optimization step"))
    ax.set_ylabel("nats")
    ax.legend(fontsize=8)
    return ax


def animate_q_path(posterior: MultivariateNormal, path: QPath, frames: int = 16, lim=(-2.0, 4.0, -2.0, 4.0),
                   lang: str = "pt", dpi: int = 60) -> animation.FuncAnimation:
    """Animation of a diagonal q (2-σ ellipse) moving along ``path`` over the contours of p(z|x).

    ``frames`` steps of the path are shown, spaced evenly in log(1 + step) so that the fast
    first steps are seen (the first and last steps always included); each frame titles the
    step, the ELBO and the KL. Render with :func:`animation_html`.
    """
    check_lang(lang)
    frames = check_integer("frames", frames, minimum=2)
    fig, ax = plt.subplots(figsize=(4, 4), dpi=dpi)
    _mvn_contours(ax, _check_mvn("posterior", posterior), lim, COLORS["posterior"])
    _ellipse(ax, posterior.mean.numpy(), posterior.covariance_matrix.numpy(), COLORS["posterior"], n_std=2.0, lw=1, ls=":")
    idx = np.unique(np.expm1(np.linspace(0.0, np.log(len(path.elbo)), frames)).round().astype(int))
    (trail,) = ax.plot([], [], "-", color=COLORS["q"], lw=1)
    patch = _ellipse(ax, path.mean[0].numpy(), np.diag(path.std[0].numpy() ** 2), COLORS["q"], n_std=2.0, lw=2)
    ax.set_xlim(lim[0], lim[1])
    ax.set_ylim(lim[2], lim[3])
    ax.set_aspect("equal")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    fig.tight_layout()

    def update(k):
        i = idx[k]
        m, s = path.mean[i].numpy(), path.std[i].numpy()
        patch.set_center(tuple(m))
        patch.set_width(4 * s[0])
        patch.set_height(4 * s[1])
        patch.set_angle(0.0)
        trail.set_data(path.mean[: i + 1, 0].numpy(), path.mean[: i + 1, 1].numpy())
        ax.set_title(tr(lang, "passo", "step") + f" {i}: ELBO = {float(path.elbo[i]):.3f}, KL = {float(path.kl[i]):.3f}",
                     fontsize=9)
        return patch, trail

    return animation.FuncAnimation(fig, update, frames=len(idx), interval=250, blit=False)


def plot_forward_reverse(grid: Grid1D, fits: dict, ax=None, lang: str = "pt"):
    """A bimodal posterior with Normals fitted by forward and reverse KL.

    ``fits`` maps a legend label to a :class:`NormalFit`; the legend adds each fit's mean and
    standard deviation.
    """
    check_lang(lang)
    ax = get_ax(ax)
    z = grid.z.numpy()
    post = grid.posterior_density().numpy()
    ax.fill_between(z, post, color=COLORS["posterior"], alpha=0.3, label="p(z|x)")
    styles = [(COLORS["q"], "-"), (COLORS["q_alt"], "--"), (COLORS["data"], "-.")]
    for (label, fit), (color, ls) in zip(fits.items(), styles * len(fits)):
        q = _normal(fit.mean, fit.std)
        ax.plot(z, q.log_prob(grid.z).exp().numpy(), color=color, ls=ls, lw=2,
                label=f"{label}: N({fit.mean:.2f}, {fit.std:.2f}²)")
    ax.set_xlim(-5, 5)
    ax.set_xlabel("z")
    ax.set_ylabel(tr(lang, "densidade", "density"))
    ax.legend(fontsize=8)
    return ax


def draw_q_explorer(state, ax=None, lang: str = "pt"):
    """One frame of the q explorer: p(z|x), q, and the KL, ELBO, log p(x) and gap in the title.

    ``state`` is a :class:`vae_support.widgets.QState` (computed by
    :func:`vae_support.widgets.q_explorer_state`); the live widget and the static animation both
    draw through this function.
    """
    check_lang(lang)
    ax = get_ax(ax)
    ax.clear()
    ax.fill_between(state.z, state.posterior, color=COLORS["posterior"], alpha=0.3, label="p(z|x)")
    ax.plot(state.z, state.q, color=COLORS["q"], lw=2, label=f"q = N({state.mean:.2f}, {state.std:.2f}²)")
    ax.set_ylim(0, 1.05 * max(float(np.max(state.posterior)), 0.6))
    ax.set_xlim(state.z[0], state.z[-1])
    ax.set_xlabel("z")
    ax.set_ylabel(tr(lang, "densidade", "density"))
    ax.set_title(f"KL = {state.kl:.3f}   ELBO = {state.elbo:.3f}   log p(x) = {state.log_px:.3f}\n"
                 + tr(lang, "lacuna log p(x) − ELBO", "gap log p(x) − ELBO") + f" = {state.gap:.3f}", fontsize=9)
    ax.legend(fontsize=8, loc="upper left")
    return ax


def animate_q_explorer(states: Sequence, lang: str = "pt", dpi: int = 60) -> animation.FuncAnimation:
    """The q explorer played as an animation (one :class:`~vae_support.widgets.QState` per frame)."""
    check_lang(lang)
    if len(states) < 2:
        raise ValueError(f"states: expected at least 2 frames, got {len(states)}")
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=dpi)
    fig.subplots_adjust(top=0.82, bottom=0.16)

    def update(k):
        draw_q_explorer(states[k], ax=ax, lang=lang)
        return ax.lines

    update(0)
    return animation.FuncAnimation(fig, update, frames=len(states), interval=250, blit=False)


# ---------------------------------------------------------------------------------------------
# chapter latent-geometry: figures
# ---------------------------------------------------------------------------------------------
def _digit_colors(labels) -> np.ndarray:
    return plt.get_cmap("tab10")(np.asarray(labels) % 10)


def plot_gradient_fields(centers, recon_grad, reg_grad, recon_value=None, axes=None, lang: str = "pt", target=None):
    r"""The encoder's gradient split in two fields over a grid of means, in three panels.

    Left: the reconstruction part :math:`\nabla_\mu\mathbb E_q[\log p(x|z)]` (expansion toward the
    region that decodes to x), over the value of the reconstruction term when given. Middle: the
    regularization part :math:`-\nabla_\mu\mathrm{KL}(q\,\|\,p(z))` (contraction toward the
    prior). Right: their sum, :math:`\nabla_\mu` of the ELBO. Arrows are unit length (direction
    only). Compute the fields with :func:`reconstruction_gradient` and
    :func:`regularization_gradient`.

    Parameters
    ----------
    centers : Tensor [G, 2]
        A square grid of means, as ``torch.meshgrid(..., indexing="xy")`` flattened.
    recon_grad, reg_grad : Tensor [G, 2]
    recon_value : Tensor [G], optional
        The reconstruction term at each mean (nats), drawn as a heat map.
    target : Tensor [2], optional
        The encoder's mean for x, marked with a star.

    Returns
    -------
    The three axes; ``axes[i].collections[0]`` is each panel's quiver.
    """
    check_lang(lang)
    c = np.asarray(centers, dtype=float)
    r, g = np.asarray(recon_grad, dtype=float), np.asarray(reg_grad, dtype=float)
    if not (c.shape == r.shape == g.shape) or c.ndim != 2 or c.shape[1] != 2:
        raise ValueError(f"centers, recon_grad, reg_grad: expected equal shapes [G, 2], got {c.shape}, {r.shape}, {g.shape}")
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(13, 4.2), layout="constrained")
    lo, hi = c.min(0), c.max(0)
    n = int(round(math.sqrt(len(c))))
    spacing = (hi[0] - lo[0]) / max(n - 1, 1)
    if recon_value is not None:
        v = np.asarray(recon_value, dtype=float)
        if v.shape != (len(c),) or n * n != len(c):
            raise ValueError(f"recon_value: expected shape [{len(c)}] on a square grid, got {v.shape}")
        image = axes[0].imshow(v.reshape(n, n), origin="lower", cmap="Reds", alpha=0.6, aspect="equal",
                               extent=(lo[0] - spacing / 2, hi[0] + spacing / 2, lo[1] - spacing / 2, hi[1] + spacing / 2))
        axes[0].figure.colorbar(image, ax=axes[0], fraction=0.046, label=tr(lang, "reconstrução (nats)", "reconstruction (nats)"))

    def unit(vec):
        return vec / np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12)

    kw = dict(angles="xy", scale_units="xy", scale=1.0 / (0.8 * spacing) if spacing > 0 else 1.0, width=0.006)
    panels = [(r, COLORS["data"], tr(lang, "reconstrução", "reconstruction")),
              (g, COLORS["prior"], tr(lang, "regularização (−∇KL)", "regularization (−∇KL)")),
              (r + g, COLORS["q"], tr(lang, "soma (∇ELBO)", "sum (∇ELBO)"))]
    for ax, (field, color, title) in zip(axes, panels):
        u = unit(field)
        ax.quiver(c[:, 0], c[:, 1], u[:, 0], u[:, 1], color=color, **kw)
        if target is not None:
            ax.plot(*np.asarray(target, dtype=float), "k*", ms=12)
        ax.plot(0, 0, "o", color=COLORS["prior"], ms=7)
        ax.set_xlim(lo[0] - spacing, hi[0] + spacing)
        ax.set_ylim(lo[1] - spacing, hi[1] + spacing)
        ax.set_aspect("equal")
        ax.set_xlabel("$z_1$")
        ax.set_ylabel("$z_2$")
        ax.set_title(title, fontsize=10)
    return axes


def plot_regularization_field(centers, field, components=None, ax=None, lang: str = "pt"):
    r"""One field :math:`-\nabla_\mu\mathrm{KL}(q\,\|\,p(z))` over a grid of means (unit arrows), with the
    prior's component means (crosses) when given. Compute it with :func:`regularization_gradient`.

    Parameters
    ----------
    centers, field : Tensor [G, 2]
    components : Tensor [K, 2], optional
    """
    check_lang(lang)
    ax = get_ax(ax, figsize=(5, 5))
    c, f = np.asarray(centers, dtype=float), np.asarray(field, dtype=float)
    if c.shape != f.shape or c.ndim != 2 or c.shape[1] != 2:
        raise ValueError(f"centers, field: expected equal shapes [G, 2], got {c.shape} and {f.shape}")
    u = f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)
    ax.quiver(c[:, 0], c[:, 1], u[:, 0], u[:, 1], color=COLORS["prior"], angles="xy", scale_units="xy", scale=4.0,
              width=0.004, label=tr(lang, "regularização (−∇KL)", "regularization (−∇KL)"))
    if components is not None:
        m = np.asarray(components, dtype=float)
        ax.scatter(m[:, 0], m[:, 1], marker="x", s=90, color="black",
                   label=tr(lang, "médias das componentes da priori", "means of the prior's components"))
    ax.set_aspect("equal")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.legend(fontsize=7, loc="lower left")
    return ax


def plot_reparameterization(eps_lines, z_lines, axes=None, lang: str = "pt"):
    r"""Two panels: a grid in ε-space and its image in z-space under :math:`z=\mu+L\varepsilon`.

    ``eps_lines``, ``z_lines`` come from :func:`reparameterize_grid`; the unit circle of ε and
    its image (the 1-σ ellipse of q) are drawn in red. Returns the two axes.
    """
    check_lang(lang)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8, 4))
    eps_lines, z_lines = np.asarray(eps_lines, dtype=float), np.asarray(z_lines, dtype=float)
    if eps_lines.shape != z_lines.shape or eps_lines.ndim != 4:
        raise ValueError(f"eps_lines, z_lines: expected equal shapes [2, lines, points, 2], got {eps_lines.shape}, {z_lines.shape}")
    for ax, lines, name in ((axes[0], eps_lines, "ε"), (axes[1], z_lines, "z")):
        for direction, color in zip(lines, (COLORS["posterior"], COLORS["q"])):
            for line in direction:
                ax.plot(line[:, 0], line[:, 1], color=color, lw=0.8)
        ax.set_aspect("equal")
        ax.set_xlabel(f"${name}_1$" if name == "z" else r"$\varepsilon_1$")
        ax.set_ylabel(f"${name}_2$" if name == "z" else r"$\varepsilon_2$")
    theta = np.linspace(0, 2 * np.pi, 100)
    circle = np.stack([np.cos(theta), np.sin(theta)], -1)
    # The image of the unit circle: affine map fitted from the grid's corners (exact for z = μ + Lε).
    e0, z0 = eps_lines[0, 0, 0], z_lines[0, 0, 0]
    e1, z1 = eps_lines[0, 0, -1], z_lines[0, 0, -1]
    e2, z2 = eps_lines[0, -1, 0], z_lines[0, -1, 0]
    A = np.linalg.solve(np.stack([e1 - e0, e2 - e0]), np.stack([z1 - z0, z2 - z0])).T
    mu = z0 - A @ e0
    axes[0].plot(circle[:, 0], circle[:, 1], color=COLORS["data"], lw=2)
    axes[1].plot(*(mu + circle @ A.T).T, color=COLORS["data"], lw=2)
    axes[1].plot(*mu, "k+", ms=10)
    axes[0].set_title(tr(lang, "espaço do ruído: ε ~ N(0, I)", "noise space: ε ~ N(0, I)"), fontsize=10)
    axes[1].set_title(tr(lang, "espaço latente: z = μ + Lε", "latent space: z = μ + Lε"), fontsize=10)
    return axes


def draw_digit(image, ax=None, lang: str = "pt", vmax: float = 16.0):
    """Show one decoded image [side, side] (pixel means, Digits: 0..16) in grey levels."""
    check_lang(lang)
    ax = get_ax(ax, figsize=(2.5, 2.5))
    image = np.asarray(image, dtype=float)
    if image.ndim != 2:
        raise ValueError(f"image: expected shape [side, side], got {image.shape}")
    ax.clear()
    ax.imshow(image, cmap="gray_r", vmin=0, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(tr(lang, "dígito decodificado", "decoded digit"), fontsize=9)
    return ax


def _latent_backdrop(ax, means, labels, extent: float, lang: str):
    if means is not None:
        means = np.asarray(means, dtype=float)
        colors = _digit_colors(labels) if labels is not None else COLORS["prior"]
        ax.scatter(means[:, 0], means[:, 1], c=colors, s=5, alpha=0.6)
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_title(tr(lang, "plano latente", "latent plane"), fontsize=9)
    return ax


def animate_latent_walk(path, images, means=None, labels=None, extent: float = 3.0, lang: str = "pt",
                        dpi: int = 60) -> animation.FuncAnimation:
    """The latent walker played as an animation: a point moves along ``path`` [T, 2] and
    ``images`` [T, side, side] (from :func:`vae_support.widgets.decode_latent`) show its decoding."""
    check_lang(lang)
    path, images = np.asarray(path, dtype=float), np.asarray(images, dtype=float)
    if path.ndim != 2 or path.shape[1] != 2 or images.ndim != 3 or len(images) != len(path):
        raise ValueError(f"path, images: expected shapes [T, 2] and [T, side, side], got {path.shape}, {images.shape}")
    fig, (ax_z, ax_x) = plt.subplots(1, 2, figsize=(6, 3), dpi=dpi)
    _latent_backdrop(ax_z, means, labels, extent, lang)
    ax_z.plot(path[:, 0], path[:, 1], "k:", lw=1)
    (marker,) = ax_z.plot(path[:1, 0], path[:1, 1], "k*", ms=14)
    fig.tight_layout()

    def update(k):
        marker.set_data(path[k : k + 1, 0], path[k : k + 1, 1])
        draw_digit(images[k], ax=ax_x, lang=lang)
        return (marker,)

    update(0)
    return animation.FuncAnimation(fig, update, frames=len(path), interval=200, blit=False)
