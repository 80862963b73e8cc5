r"""Figures of Part II (chapters ``kl-geometry`` and ``latent-geometry``): q moving toward p(z|x).

Drawing functions take ``ax=None`` and ``lang="pt"|"en"`` and return the axes (the static
site's interactive versions are :mod:`vae_support.explorers`). What they draw is computed by the package: the KL's gradient in q's
mean (:func:`vae_support.kl.kl_mean_gradient`), the paths and fits of q on the toy models
(:func:`vae_support.inference.ascend_elbo_path`, :func:`~vae_support.inference.fit_normal`), the
encoder's gradient split into reconstruction and regularization parts and the
reparameterization map (:mod:`vae_support.gradients`).

Every value is per data point and in nats.
"""
from __future__ import annotations

import math
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch.distributions import MultivariateNormal, Normal

from .._checks import as_tensor, check_integer
from ..inference import QPath
from ..kl import _check_mvn, kl_mean_gradient
from ..toy import Grid1D
from ._style import COLORS, FOREGROUND, check_lang, digit_colors, get_ax, localize, tr
from .latent_space import _ellipse

__all__ = [
    "plot_candidates",
    "plot_kl_gradient_field", "plot_elbo_path", "draw_q_path", "plot_forward_reverse",
    "draw_q_explorer", "plot_gradient_fields", "plot_regularization_field",
    "plot_reparameterization", "draw_digit",
]


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
    ax = get_ax(ax, lang=lang)
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

    The arrows (computed by :func:`vae_support.kl.kl_mean_gradient`) sit at a grid of candidate means of q:
    each shows where gradient descent would move q's mean from there. They cross the posterior's
    contours at right angles (the gradient of a quadratic form), not toward its centre.
    """
    check_lang(lang)
    ax = get_ax(ax, figsize=(5, 5), lang=lang)
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
    ax = get_ax(ax, lang=lang)
    steps = np.arange(len(path.elbo))
    ax.plot(steps, path.elbo.numpy(), color=COLORS["q"], label="ELBO")
    ax.plot(steps, path.kl.numpy(), color=COLORS["data"], label="KL(q ‖ p(z|x))")
    ax.plot(steps, (path.elbo + path.kl).numpy(), color=COLORS["posterior"], lw=3, alpha=0.6, label="ELBO + KL")
    ax.axhline(float(path.log_px), color=FOREGROUND, ls=":", label="log p(x)")
    ax.set_xlabel(tr(lang, "passo de otimização", "optimization step"))
    ax.set_ylabel("nats")
    ax.legend(fontsize=8)
    return ax


def draw_q_path(posterior: MultivariateNormal, path: QPath, step: int, axes=None, lang: str = "pt",
                lr: float | None = None, lim=None):
    r"""One step of an ELBO ascent in 2-D: q's path over p(z|x) (left) and the ELBO and KL along it (right).

    Left: the posterior's ellipses at 1 and 2 standard deviations (blue), q's 2-σ ellipse (orange)
    with its trail of means, and the step's arrows: :math:`\eta\nabla_\mu\mathcal L` from q's mean
    (red) and, at the ellipse's axis ends, the change of its radii :math:`2\sigma_j` that
    :math:`\eta\nabla_{\log\sigma_j}\mathcal L` makes (gradients by
    :func:`vae_support.widgets.path_gradients`; with ``lr=None`` the mean arrow is scaled to a
    readable length). Right: ELBO, KL and log p(x) over the steps, with the current step marked.
    The live :func:`vae_support.widgets.path_walker` draws through this function; the static site
    draws the same picture in SVG (:mod:`vae_support.explorers.path`).

    Returns
    -------
    (ax_path, ax_values)
    """
    from ..widgets import path_state

    check_lang(lang)
    state = path_state(posterior, path, step)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8, 3.8))
    ax, ax_v = axes
    localize([ax, ax_v], lang)
    ax.clear()
    ax_v.clear()
    lim = _path_limits(posterior, path) if lim is None else lim
    mean_p, cov_p = posterior.mean.numpy(), posterior.covariance_matrix.numpy()
    for k, ls in ((1.0, "-"), (2.0, ":")):
        _ellipse(ax, mean_p, cov_p, COLORS["posterior"], n_std=k, lw=1.5, ls=ls)
    ax.plot(*mean_p, "o", color=COLORS["posterior"], ms=4)
    m, s = state.mean, state.std
    _ellipse(ax, m, np.diag(s**2), COLORS["q"], n_std=2.0, lw=2)
    ax.plot(path.mean[: step + 1, 0].numpy(), path.mean[: step + 1, 1].numpy(), "-", color=COLORS["q"], lw=1)
    scale = lr if lr is not None else _arrow_scale(posterior, path, lim)
    ax.annotate("", xy=tuple(m + scale * state.grad_mean), xytext=tuple(m),
                arrowprops=dict(arrowstyle="->", color=COLORS["data"], lw=2))
    if lr is not None:
        for j in range(2):
            e = np.eye(2)[j]
            tip = m + 2 * s[j] * e
            ax.annotate("", xy=tuple(tip + 2 * s[j] * np.expm1(lr * state.grad_log_std[j]) * e), xytext=tuple(tip),
                        arrowprops=dict(arrowstyle="->", color=COLORS["data"], lw=1))
    ax.set_xlim(lim[0], lim[1])
    ax.set_ylim(lim[2], lim[3])
    ax.set_aspect("equal")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_title(tr(lang, "passo", "step") + f" {step}", fontsize=9)
    steps = np.arange(len(path.elbo))
    ax_v.plot(steps, path.elbo.numpy(), color=COLORS["q"], label="ELBO")
    ax_v.plot(steps, path.kl.numpy(), color=COLORS["data"], label="KL(q ‖ p(z|x))")
    ax_v.axhline(state.log_px, color=FOREGROUND, ls=":", label="log p(x)")
    ax_v.axvline(step, color=FOREGROUND, lw=1, alpha=0.5)
    ax_v.plot([step, step], [state.elbo, state.kl], "o", color=FOREGROUND, ms=4)
    ax_v.set_xlabel(tr(lang, "passo de otimização", "optimization step"))
    ax_v.set_ylabel("nats")
    ax_v.legend(fontsize=8)
    return ax, ax_v


def _path_limits(posterior: MultivariateNormal, path: QPath) -> tuple[float, float, float, float]:
    """A square view holding the posterior's 2-σ ellipse and every 2-σ box of q along the path (whole units)."""
    sd_p = posterior.covariance_matrix.diagonal().sqrt()
    lo = torch.minimum((posterior.mean - 2 * sd_p).double(), (path.mean - 2 * path.std).min(0).values.double())
    hi = torch.maximum((posterior.mean + 2 * sd_p).double(), (path.mean + 2 * path.std).max(0).values.double())
    center = (lo + hi) / 2
    half = float((hi - lo).max()) / 2 + 0.25
    x0, x1 = math.floor(float(center[0]) - half), math.ceil(float(center[0]) + half)
    y0, y1 = math.floor(float(center[1]) - half), math.ceil(float(center[1]) + half)
    side = max(x1 - x0, y1 - y0)
    return float(x0), float(x0 + side), float(y0), float(y0 + side)


def _arrow_scale(posterior: MultivariateNormal, path: QPath, lim) -> float:
    """Without a step size: the longest mean arrow of the path is a quarter of the view."""
    from ..widgets import path_gradients

    g_mean, _ = path_gradients(posterior, path)
    longest = float(g_mean.norm(dim=-1).max())
    return 0.25 * (lim[1] - lim[0]) / longest if longest > 0 else 1.0


def plot_forward_reverse(grid: Grid1D, fits: dict, ax=None, lang: str = "pt"):
    """A bimodal posterior with Normals fitted by forward and reverse KL.

    ``fits`` maps a legend label to a :class:`vae_support.inference.NormalFit`; the legend adds each fit's mean and
    standard deviation.
    """
    check_lang(lang)
    ax = get_ax(ax, lang=lang)
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
    :func:`vae_support.widgets.q_explorer_state`); the live widget draws through this function (the
    static site's twin is :mod:`vae_support.explorers.q`).
    """
    check_lang(lang)
    ax = get_ax(ax, lang=lang)
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


# ---------------------------------------------------------------------------------------------
# chapter latent-geometry: figures
# ---------------------------------------------------------------------------------------------
def plot_gradient_fields(centers, recon_grad, reg_grad, recon_value=None, axes=None, lang: str = "pt", target=None):
    r"""The encoder's gradient split in two fields over a grid of means, in three panels.

    Left: the reconstruction part :math:`\nabla_\mu\mathbb E_q[\log p(x|z)]` (expansion toward the
    region that decodes to x), over the value of the reconstruction term when given. Middle: the
    regularization part :math:`-\nabla_\mu\mathrm{KL}(q\,\|\,p(z))` (contraction toward the
    prior). Right: their sum, :math:`\nabla_\mu` of the ELBO. Arrows are unit length (direction
    only). Compute the fields with :func:`vae_support.gradients.reconstruction_gradient` and
    :func:`~vae_support.gradients.regularization_gradient`.

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
    localize(axes, lang)
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
    prior's component means (crosses) when given. Compute it with :func:`vae_support.gradients.regularization_gradient`.

    Parameters
    ----------
    centers, field : Tensor [G, 2]
    components : Tensor [K, 2], optional
    """
    check_lang(lang)
    ax = get_ax(ax, figsize=(5, 5), lang=lang)
    c, f = np.asarray(centers, dtype=float), np.asarray(field, dtype=float)
    if c.shape != f.shape or c.ndim != 2 or c.shape[1] != 2:
        raise ValueError(f"centers, field: expected equal shapes [G, 2], got {c.shape} and {f.shape}")
    u = f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)
    ax.quiver(c[:, 0], c[:, 1], u[:, 0], u[:, 1], color=COLORS["prior"], angles="xy", scale_units="xy", scale=4.0,
              width=0.004, label=tr(lang, "regularização (−∇KL)", "regularization (−∇KL)"))
    if components is not None:
        m = np.asarray(components, dtype=float)
        ax.scatter(m[:, 0], m[:, 1], marker="x", s=90, color=FOREGROUND,
                   label=tr(lang, "médias das componentes da priori", "means of the prior's components"))
    ax.set_aspect("equal")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.legend(fontsize=7, loc="lower left")
    return ax


def plot_reparameterization(eps_lines, z_lines, axes=None, lang: str = "pt"):
    r"""Two panels: a grid in ε-space and its image in z-space under :math:`z=\mu+L\varepsilon`.

    ``eps_lines``, ``z_lines`` come from :func:`vae_support.gradients.reparameterize_grid`; the unit circle of ε and
    its image (the 1-σ ellipse of q) are drawn in red. Returns the two axes.
    """
    check_lang(lang)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8, 4))
    localize(axes, lang)
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
    ax = get_ax(ax, figsize=(2.5, 2.5), lang=lang)
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
        colors = digit_colors(labels) if labels is not None else COLORS["prior"]
        ax.scatter(means[:, 0], means[:, 1], c=colors, s=5, alpha=0.6)
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_title(tr(lang, "plano latente", "latent plane"), fontsize=9)
    return ax
