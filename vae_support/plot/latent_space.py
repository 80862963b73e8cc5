r"""Figures of Part II's last chapters (``geometry-in-practice`` and ``geometry-limits``).

Drawing functions take ``ax=None`` and ``lang="pt"|"en"`` and return the axes. The
computations these figures show (interpolation, class arithmetic, quantile grids, total
correlation) are in :mod:`vae_support.latent`.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import torch
from matplotlib.patches import Ellipse
from torch.distributions import Distribution

from .._checks import check_integer
from ._style import COLORS, FOREGROUND, as_array, check_lang, digit_colors, get_ax, tr
from .elbo import digit_montage
from .training import _check_runs

__all__ = [
    "plot_decoded_grid", "plot_digit_rows", "plot_path_norms",
    "plot_anomaly_scores", "plot_roc", "plot_prior_density", "plot_norm_concentration",
    "plot_kl_vs_dimension", "plot_posterior_ellipses_2d", "plot_diagonal_gap", "plot_diagonal_fit",
    "draw_beta_state",
]

#: Row names that the figures translate (any other name is drawn as given).
ROW_NAMES = {
    "linear": ("linear", "linear"),
    "slerp": ("esférica (slerp)", "spherical (slerp)"),
    "original": ("original", "original"),
    "heldout": ("classe retida", "held-out class"),
    "normal": ("classes de treino", "training classes"),
    "standard": ("prior N(0, I)", "prior N(0, I)"),
    "mog": ("prior de mistura", "mixture prior"),
    "diagonal": ("q diagonal", "diagonal q"),
    "full": ("q completa", "full q"),
    "posterior": ("posterior exata", "exact posterior"),
}


def _name(lang: str, key: str) -> str:
    pair = ROW_NAMES.get(key)
    return key if pair is None else tr(lang, *pair)


# -- figures of geometry-in-practice ----------------------------------------------------------
def plot_decoded_grid(images, coords, ax=None, lang: str = "pt", vmax: float = 16.0):
    """Decoded digits tiled at their place in the latent plane.

    Parameters
    ----------
    images : array [n, n, 64]
        ``images[i, j]`` is decoded from :math:`z = (coords[j], coords[i])` (row i: z₂, column
        j: z₁), pixel values 0..``vmax``.
    coords : array [n]
        The grid's coordinates, increasing (e.g. :func:`gaussian_quantile_grid`).

    Returns
    -------
    Axes; ``ax.images[0]`` holds the montage, with z₂ increasing upward.
    """
    check_lang(lang)
    coords = as_array("coords", coords)
    images = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images, dtype=float)
    n = coords.shape[0]
    if images.shape != (n, n, 64):
        raise ValueError(f"images: expected shape ({n}, {n}, 64) to match coords, got {images.shape}")
    montage = digit_montage(images[::-1].reshape(n * n, 64), ncols=n)
    ax = get_ax(ax, figsize=(6, 6), lang=lang)
    ax.imshow(montage, cmap="gray_r", vmin=0.0, vmax=vmax, interpolation="nearest", extent=(0, n, 0, n))
    ticks = np.arange(n) + 0.5
    labels = [f"{c:.2g}" for c in coords]
    ax.set_xticks(ticks, labels, fontsize=7)
    ax.set_yticks(ticks, labels, fontsize=7)
    ax.set_xlabel("z₁")
    ax.set_ylabel("z₂")
    ax.set_title(tr(lang, "médias de p(x|z) numa grade do plano latente", "means of p(x|z) on a grid of the latent plane"))
    return ax


def plot_digit_rows(rows: Mapping[str, object], ax=None, lang: str = "pt", vmax: float = 16.0):
    """Rows of 8×8 digits, one row per entry, labelled on the left.

    Parameters
    ----------
    rows : mapping name → array [m, 64]
        Every row has the same number m of images. Names in :data:`ROW_NAMES` (``"linear"``,
        ``"slerp"``, ``"original"``, …) are translated; others are drawn as given.

    Returns
    -------
    Axes; ``ax.images[0]`` holds the montage, rows in the mapping's order.
    """
    check_lang(lang)
    _check_runs("rows", rows)
    arrays = [as_array(f"rows[{k!r}]", v, ndim=2) for k, v in rows.items()]
    if len({a.shape for a in arrays}) != 1 or arrays[0].shape[1] != 64:
        raise ValueError(f"rows: expected arrays of one shape [m, 64], got {[a.shape for a in arrays]}")
    m = arrays[0].shape[0]
    montage = digit_montage(np.concatenate(arrays), ncols=m)
    ax = get_ax(ax, figsize=(0.6 * m + 1.5, 0.6 * len(arrays) + 0.3), lang=lang)
    ax.imshow(montage, cmap="gray_r", vmin=0.0, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks(np.arange(len(arrays)) * 8 + 3.5, [_name(lang, k) for k in rows])
    for side in ax.spines.values():
        side.set_visible(False)
    return ax


def plot_path_norms(t, norms: Mapping[str, object], typical: float, ax=None, lang: str = "pt"):
    r"""Norm :math:`\lVert z(t)\rVert` along interpolation paths, against the prior's typical norm.

    Parameters
    ----------
    t : array [T]
        Interpolation times.
    norms : mapping method → array [T, n]
        Norms along n paths for each method (``"linear"``, ``"slerp"``); the mean over paths is
        drawn as a line and the central 90 % as a band.
    typical : float
        The typical norm of a prior sample (for :math:`\mathcal N(0, I_d)`, about :math:`\sqrt d`),
        drawn as a dashed line.

    Returns
    -------
    Axes; ``ax.lines[i]`` is method i's mean in the mapping's order, the last line the typical norm.
    """
    check_lang(lang)
    _check_runs("norms", norms)
    t = as_array("t", t)
    palette = [COLORS["q"], COLORS["q_alt"], COLORS["posterior"]]
    ax = get_ax(ax, figsize=(5, 3.5), lang=lang)
    for i, (name, values) in enumerate(norms.items()):
        values = as_array(f"norms[{name!r}]", values, ndim=2)
        if values.shape[0] != t.shape[0]:
            raise ValueError(f"norms[{name!r}]: expected {t.shape[0]} rows to match t, got {values.shape}")
        color = palette[i % len(palette)]
        ax.plot(t, values.mean(1), color=color, lw=2, label=_name(lang, name))
        lo, hi = np.quantile(values, [0.05, 0.95], axis=1)
        ax.fill_between(t, lo, hi, color=color, alpha=0.2)
    ax.axhline(float(typical), color=COLORS["prior"], ls="--", label=tr(lang, "norma típica sob a prior", "typical norm under the prior"))
    ax.set_xlabel("t")
    ax.set_ylabel("‖z(t)‖")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_anomaly_scores(scores, is_anomaly, ax=None, lang: str = "pt", bins: int = 30):
    """Histograms of an anomaly score for the training classes and the held-out class.

    Parameters
    ----------
    scores : array [n]
        The score of each test point (here −ELBO, nats: higher = more anomalous).
    is_anomaly : array [n] of bool
        True for the points of the held-out class.

    Returns
    -------
    Axes; ``ax.patches`` hold the bars, the training classes' first.
    """
    check_lang(lang)
    scores = as_array("scores", scores)
    flags = np.asarray(is_anomaly, dtype=bool)
    if flags.shape != scores.shape or flags.all() or not flags.any():
        raise ValueError("is_anomaly: expected one flag per score, with both classes present")
    edges = np.histogram_bin_edges(scores, bins=bins)
    ax = get_ax(ax, figsize=(5, 3.5), lang=lang)
    ax.hist(scores[~flags], bins=edges, density=True, alpha=0.6, color=COLORS["posterior"], label=_name(lang, "normal"))
    ax.hist(scores[flags], bins=edges, density=True, alpha=0.6, color=COLORS["data"], label=_name(lang, "heldout"))
    ax.set_xlabel(tr(lang, "escore −ELBO (nats)", "score −ELBO (nats)"))
    ax.set_ylabel(tr(lang, "densidade", "density"))
    ax.legend(frameon=False)
    return ax


def plot_roc(curves: Mapping[str, tuple], ax=None, lang: str = "pt"):
    """ROC curves of anomaly scores, with each AUC in the legend.

    Parameters
    ----------
    curves : mapping name → (scores [n], is_anomaly [n])
        Higher score = more anomalous.

    Returns
    -------
    Axes; ``ax.lines[i]`` is curve i (false-positive rate, true-positive rate); the last line is
    the diagonal of a random score.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    check_lang(lang)
    _check_runs("curves", curves)
    ax = get_ax(ax, figsize=(4.2, 4), lang=lang)
    palette = [COLORS["data"], COLORS["q"], COLORS["q_alt"], COLORS["posterior"]]
    for i, (name, (scores, flags)) in enumerate(curves.items()):
        scores = as_array(f"curves[{name!r}] scores", scores)
        flags = np.asarray(flags, dtype=bool)
        fpr, tpr, _ = roc_curve(flags, scores)
        auc = roc_auc_score(flags, scores)
        ax.plot(fpr, tpr, color=palette[i % len(palette)], lw=2, label=f"{_name(lang, name)} (AUC = {auc:.3f})")
    ax.plot([0, 1], [0, 1], color=COLORS["prior"], ls=":")
    ax.set_xlabel(tr(lang, "taxa de falsos positivos", "false positive rate"))
    ax.set_ylabel(tr(lang, "taxa de verdadeiros positivos", "true positive rate"))
    ax.set_aspect("equal")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return ax


def plot_prior_density(prior: Distribution, extent: float = 3.5, ax=None, lang: str = "pt", n: int = 120):
    """Filled contours of a 2-D prior density p(z), drawn beneath whatever the axes hold.

    Parameters
    ----------
    prior : Distribution, event shape [2]
        E.g. ``model.prior_distribution()``.
    extent : float
        The plane [−extent, extent]².
    n : int
        Grid points per axis.

    Returns
    -------
    Axes; ``ax.collections[0]`` holds the contours of p(z) evaluated on the grid.
    """
    check_lang(lang)
    if not isinstance(prior, Distribution) or tuple(prior.event_shape) != (2,):
        raise ValueError("prior: expected a torch Distribution with event shape [2]")
    n = check_integer("n", n, minimum=2)
    xs = torch.linspace(-float(extent), float(extent), n)
    Z1, Z2 = torch.meshgrid(xs, xs, indexing="xy")
    with torch.no_grad():
        density = prior.log_prob(torch.stack([Z1, Z2], -1)).exp()
    ax = get_ax(ax, figsize=(5, 5), lang=lang)
    ax.contourf(Z1.numpy(), Z2.numpy(), density.numpy(), levels=12, cmap="Greys", alpha=0.5, zorder=0)
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_title(tr(lang, "densidade da prior p(z) (cinza)", "prior density p(z) (grey)"), fontsize=9)
    return ax


# -- figures of geometry-limits ---------------------------------------------------------------
def plot_norm_concentration(norms: Mapping[int, object], ax=None, lang: str = "pt", bins: int = 40):
    r"""Histograms of :math:`\lVert z\rVert/\sqrt d` for samples :math:`z\sim\mathcal N(0, I_d)`, one per d.

    Parameters
    ----------
    norms : mapping d → array [n]
        Norms of n samples in dimension d (divided by :math:`\sqrt d` here).

    Returns
    -------
    Axes; ``ax.patches`` hold the histograms in the mapping's order.
    """
    check_lang(lang)
    _check_runs("norms", norms)
    ax = get_ax(ax, figsize=(6, 3.5), lang=lang)
    cmap = __import__("matplotlib").colormaps["viridis"]
    for i, (d, values) in enumerate(norms.items()):
        scaled = as_array(f"norms[{d!r}]", values) / math.sqrt(check_integer("d", d))
        ax.hist(scaled, bins=bins, range=(0, 2.5), density=True, histtype="stepfilled", alpha=0.45,
                color=cmap(i / max(len(norms) - 1, 1)), label=f"d = {d}")
    ax.axvline(1.0, color=FOREGROUND, ls=":", lw=1)
    ax.set_xlabel("‖z‖ / √d")
    ax.set_ylabel(tr(lang, "densidade", "density"))
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_kl_vs_dimension(dims, exact, estimate=None, stderr=None, ax=None, lang: str = "pt"):
    """KL between two d-dimensional Gaussians against d: closed form, and a Monte Carlo estimate.

    Parameters
    ----------
    dims : array [m]
    exact : array [m]
        Closed-form KL (nats) at each d.
    estimate, stderr : array [m], optional
        Monte Carlo estimates and their standard errors, drawn as error bars (±2 SE).

    Returns
    -------
    Axes; ``ax.lines[0]`` is the closed form.
    """
    check_lang(lang)
    dims, exact = as_array("dims", dims), as_array("exact", exact)
    if dims.shape != exact.shape:
        raise ValueError(f"dims, exact: expected equal shapes, got {dims.shape} and {exact.shape}")
    ax = get_ax(ax, figsize=(5, 3.5), lang=lang)
    ax.plot(dims, exact, color=COLORS["posterior"], lw=2, marker="o", label=tr(lang, "forma fechada", "closed form"))
    if estimate is not None:
        estimate = as_array("estimate", estimate)
        stderr = as_array("stderr", stderr)
        if estimate.shape != dims.shape or stderr.shape != dims.shape:
            raise ValueError("estimate, stderr: expected one value per dimension in dims")
        ax.errorbar(dims, estimate, yerr=2 * stderr, fmt="none", color=COLORS["q"], capsize=3,
                    label=tr(lang, "Monte Carlo (±2 EP)", "Monte Carlo (±2 SE)"))
    ax.set_xscale("log", base=2)
    ax.set_xlabel(tr(lang, "dimensão d", "dimension d"))
    ax.set_ylabel("KL (nats)")
    ax.legend(frameon=False)
    return ax


def _ellipse(ax, mean, cov, color, n_std: float = 1.0, **kw) -> Ellipse:
    """Add the ``n_std`` contour of N(mean, cov) (2-D) to ``ax`` as an unfilled ellipse."""
    vals, vecs = np.linalg.eigh(np.asarray(cov, dtype=float))
    angle = math.degrees(math.atan2(vecs[1, 1], vecs[0, 1]))
    patch = Ellipse(tuple(np.asarray(mean, dtype=float)), 2 * n_std * math.sqrt(vals[1]),
                    2 * n_std * math.sqrt(vals[0]), angle=angle, fill=False, edgecolor=color, **kw)
    ax.add_patch(patch)
    return patch


def plot_posterior_ellipses_2d(means, covs, labels=None, names: Sequence[str] = ("z_j", "z_k"), ax=None,
                               lang: str = "pt", extent: float = 3.5):
    """One-standard-deviation ellipses of 2-D Gaussians (posteriors q(z|x) or any others), with the prior's circle.

    Parameters
    ----------
    means : array [n, 2]
    covs : array [n, 2, 2]
    labels : array [n], optional
        Integer class of each ellipse (colour); default one colour.
    names : (str, str)
        Axis names (the two coordinates shown).

    Returns
    -------
    Axes; ``ax.patches[:n]`` are the ellipses in order, ``ax.patches[n]`` the unit circle of
    :math:`\\mathcal N(0, I)`.
    """
    check_lang(lang)
    means = as_array("means", means, ndim=2)
    covs = np.asarray(covs.detach().cpu() if hasattr(covs, "detach") else covs, dtype=float)
    if means.shape[1] != 2 or covs.shape != (means.shape[0], 2, 2):
        raise ValueError(f"means, covs: expected [n, 2] and [n, 2, 2], got {means.shape} and {covs.shape}")
    ax = get_ax(ax, figsize=(4.5, 4.5), lang=lang)
    colors = [COLORS["q"]] * means.shape[0] if labels is None else digit_colors(labels)
    for mean, cov, color in zip(means, covs, colors):
        _ellipse(ax, mean, cov, color, lw=0.8, alpha=0.8)
    _ellipse(ax, (0.0, 0.0), np.eye(2), FOREGROUND, ls="--", lw=1.5,
             label=tr(lang, "prior N(0, I), 1 desvio", "prior N(0, I), 1 std"))
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    return ax


def plot_diagonal_gap(rho, kl, measured=None, ax=None, lang: str = "pt"):
    r"""The least KL a diagonal Gaussian can reach to a correlated one, against the correlation ρ.

    Parameters
    ----------
    rho : array [m]
        Correlations of the target (a 2-D Gaussian).
    kl : array [m]
        Minimal :math:`\mathrm{KL}(q_{\rm diag}\,\|\,p)` in nats (closed form).
    measured : (array [r], array [r]), optional
        Points (ρ, KL) measured elsewhere (e.g. on a model), drawn as markers.

    Returns
    -------
    Axes; ``ax.lines[0]`` is the curve.
    """
    check_lang(lang)
    rho, kl = as_array("rho", rho), as_array("kl", kl)
    if rho.shape != kl.shape:
        raise ValueError(f"rho, kl: expected equal shapes, got {rho.shape} and {kl.shape}")
    ax = get_ax(ax, figsize=(5, 3.5), lang=lang)
    ax.plot(rho, kl, color=COLORS["q"], lw=2, label=tr(lang, "melhor q diagonal", "best diagonal q"))
    if measured is not None:
        r, k = (as_array("measured", m) for m in measured)
        ax.plot(r, k, "o", color=COLORS["data"], label=tr(lang, "medido", "measured"))
    ax.set_xlabel(tr(lang, "correlação ρ da posterior", "posterior correlation ρ"))
    ax.set_ylabel(tr(lang, "KL mínima (nats)", "least KL (nats)"))
    ax.legend(frameon=False)
    return ax


def plot_diagonal_fit(mean, cov_posterior, cov_q, ax=None, lang: str = "pt"):
    """A 2-D Gaussian posterior and a (diagonal) approximation q with the same mean: 1 and 2 std ellipses.

    Parameters
    ----------
    mean : array [2]
    cov_posterior, cov_q : array [2, 2]
        Covariances of the exact posterior and of q.

    Returns
    -------
    Axes; ``ax.patches`` are the posterior's ellipses (1 then 2 std), then q's.
    """
    check_lang(lang)
    mean = as_array("mean", mean)
    covs = [np.asarray(c.detach().cpu() if hasattr(c, "detach") else c, dtype=float) for c in (cov_posterior, cov_q)]
    if mean.shape != (2,) or any(c.shape != (2, 2) for c in covs):
        raise ValueError("mean, cov_posterior, cov_q: expected shapes [2], [2, 2], [2, 2]")
    ax = get_ax(ax, figsize=(4.5, 4.5), lang=lang)
    for cov, key, color in zip(covs, ("posterior", "diagonal"), (COLORS["posterior"], COLORS["q"])):
        for n_std in (1.0, 2.0):
            _ellipse(ax, mean, cov, color, n_std=n_std, lw=2, label=_name(lang, key) if n_std == 1.0 else None)
    radius = 2.4 * math.sqrt(max(float(np.linalg.eigvalsh(c).max()) for c in covs))
    ax.set_xlim(mean[0] - radius, mean[0] + radius)
    ax.set_ylim(mean[1] - radius, mean[1] + radius)
    ax.set_aspect("equal")
    ax.set_xlabel("z₁")
    ax.set_ylabel("z₂")
    ax.legend(frameon=False, fontsize=8)
    return ax


def draw_beta_state(states: Sequence, index: int, axes=None, lang: str = "pt", extent: float = 3.5):
    r"""The β explorer's picture: the rate–distortion plane and the latent scatter of one model.

    Left: every model's point :math:`(R, D)` (rate :math:`R` = mean KL to the prior, distortion
    :math:`D` = mean −reconstruction, nats), labelled with its β; the chosen one ``states[index]``
    highlighted, with its level line of the β-objective :math:`D + \beta R = \text{const}`
    (book equation ``eq-beta-elbo``). Right: the chosen model's encoder means of the test images,
    coloured by class with the explorers' colour-blind-safe palette.

    Parameters
    ----------
    states : sequence of :class:`vae_support.widgets.BetaState`
    index : int
        The chosen model.
    axes : pair of Axes, optional

    Returns
    -------
    (Axes, Axes); ``axes[0].lines[0]`` joins the points in order of β, ``axes[0].lines[1]`` is the
    highlighted point, ``axes[0].lines[2]`` its level line; ``axes[1].collections[0]`` the scatter.
    """

    check_lang(lang)
    states = list(states)
    if not states:
        raise ValueError("states: expected at least one BetaState")
    index = check_integer("index", index, minimum=0)
    if index >= len(states):
        raise ValueError(f"index: expected 0..{len(states) - 1}, got {index}")
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=(8, 3.6))
    ax_rd, ax_z = axes
    for ax in (ax_rd, ax_z):
        ax.clear()
        get_ax(ax, lang=lang)
    rate = np.array([s.rate for s in states])
    dist = np.array([s.distortion for s in states])
    cur = states[index]
    ax_rd.plot(rate, dist, "o-", color=COLORS["prior"], ms=5, lw=1)
    ax_rd.plot([cur.rate], [cur.distortion], "o", color=COLORS["q"], ms=11)
    r_line = np.linspace(0.0, rate.max() * 1.1 + 1e-9, 50)
    ax_rd.plot(r_line, cur.distortion + cur.beta * (cur.rate - r_line), "--", color=COLORS["q"], lw=1,
               label=tr(lang, "D + βR constante", "constant D + βR"))
    for s in states:
        ax_rd.annotate(f"β={s.beta:g}", (s.rate, s.distortion), textcoords="offset points", xytext=(5, 5), fontsize=8)
    pad = 0.1 * np.ptp(dist) + 1
    ax_rd.set_ylim(dist.min() - pad, dist.max() + pad)
    ax_rd.set_xlabel(tr(lang, "taxa R = KL (nats)", "rate R = KL (nats)"))
    ax_rd.set_ylabel(tr(lang, "distorção D (nats)", "distortion D (nats)"))
    ax_rd.legend(frameon=False, fontsize=8)
    means = np.asarray(cur.means, dtype=float)
    colors = COLORS["q"] if cur.labels is None else digit_colors(cur.labels)
    ax_z.scatter(means[:, 0], means[:, 1], c=colors, s=6, alpha=0.8)
    ax_z.set_xlim(-extent, extent)
    ax_z.set_ylim(-extent, extent)
    ax_z.set_aspect("equal")
    ax_z.set_xlabel("z₁")
    ax_z.set_ylabel("z₂")
    ax_z.set_title(f"β = {cur.beta:g}", fontsize=10)
    return ax_rd, ax_z
