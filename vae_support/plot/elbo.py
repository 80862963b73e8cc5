r"""Figures of the chapters on interpreting and optimizing the ELBO (book chapters 3 and 4).

Drawing functions take ``ax=None`` and ``lang="pt"|"en"`` and return the axes. They draw values
computed by the package: the ELBO paths of :func:`vae_support.inference.fit_gaussian_q`, the
mean-field optimum :func:`vae_support.inference.optimal_diagonal_gaussian`, gradient variances
of :mod:`vae_support.gradients`.
"""
from __future__ import annotations

import textwrap
from typing import Sequence

import numpy as np

from .._checks import check_integer
from ..inference import FAMILIES
from ._style import COLORS, FOREGROUND, as_array, get_ax, tr

ESTIMATORS = ("reparam", "score", "score_baseline")


# -- figures ---------------------------------------------------------------------------------
def plot_elbo_gap_bars(names: Sequence[str], elbo, log_px: float, ax=None, lang: str = "pt"):
    r"""log p(x) split into ELBO + KL(q‖p(z|x)) for several q, as stacked bars.

    Each bar rises from a common floor to the ELBO of one q (solid) and from there to
    :math:`\log p(x)` (hatched): the hatched part is the gap, :math:`\mathrm{KL}(q\|p(z|x))`
    (book equation ``eq-elbo-gap``). Numbers are written on the bars.

    Parameters
    ----------
    names : sequence of str
        One label per q (already in the reader's language).
    elbo : array [n]
        ELBO of each q, nats.
    log_px : float
        :math:`\log p(x)`, nats; must be ≥ every ELBO (up to 1e-6).
    """
    elbo = as_array("elbo", elbo, ndim=None).reshape(-1)
    log_px = float(as_array("log_px", log_px, ndim=None))
    if len(names) != elbo.size:
        raise ValueError(f"names: expected {elbo.size} labels (one per ELBO), got {len(names)}")
    if (elbo > log_px + 1e-6).any():
        raise ValueError("elbo: an ELBO exceeds log_px; the bound must hold")
    ax = get_ax(ax, figsize=(7, 4), lang=lang)
    gap = log_px - elbo
    span = max(float(gap.max()), 1e-3)
    floor = float(elbo.min()) - 0.6 * span
    pos = np.arange(elbo.size)
    ax.bar(pos, elbo - floor, bottom=floor, color=COLORS["q"], label="ELBO")
    ax.bar(pos, gap, bottom=elbo, color="none", edgecolor=COLORS["posterior"], hatch="//",
           label=r"$\mathrm{KL}(q\,\|\,p(z|x))$")
    ax.axhline(log_px, color=COLORS["posterior"], ls="--", lw=1.5, label=r"$\log p(x)$")
    for i, (e, g) in enumerate(zip(elbo, gap)):
        ax.text(i, e - 0.04 * span, f"{e:.3g}", ha="center", va="top", fontsize=8, color="white")
        ax.text(i, log_px + 0.04 * span, f"KL={g if g > 1e-9 else 0.0:.3g}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(pos, [textwrap.fill(name, 12) for name in names], fontsize=9)
    ax.set_ylim(floor, log_px + 0.25 * span)
    ax.set_ylabel(tr(lang, "nats", "nats"))
    ax.set_title(tr(lang, "log p(x) = ELBO + KL(q‖p(z|x)) para cada q", "log p(x) = ELBO + KL(q‖p(z|x)) for each q"))
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_elbo_gap_path(paths: dict, log_px: float, ax=None, lang: str = "pt", floor_gap: float | None = None):
    r"""The ELBO along optimization paths of q, under the line :math:`\log p(x)`.

    The shaded band between a path and :math:`\log p(x)` is the gap
    :math:`\mathrm{KL}(q_t\|p(z|x))` at each step (book equation ``eq-elbo-gap``).

    Parameters
    ----------
    paths : dict {"full" | "diagonal": array [steps + 1]}
        ELBO after each step for each variational family (e.g. :func:`vae_support.inference.fit_gaussian_q`).
    log_px : float
        :math:`\log p(x)`, nats.
    floor_gap : float, optional
        The smallest gap the diagonal family can reach; drawn as a dotted line at
        :math:`\log p(x) - ` ``floor_gap``.
    """
    log_px = float(as_array("log_px", log_px, ndim=None))
    names = {"full": tr(lang, "covariância completa", "full covariance"),
             "diagonal": tr(lang, "covariância diagonal", "diagonal covariance")}
    colors = {"full": COLORS["q"], "diagonal": COLORS["q_alt"]}
    ax = get_ax(ax, figsize=(7, 4), lang=lang)
    for family, values in paths.items():
        if family not in FAMILIES:
            raise ValueError(f"paths: expected keys among {FAMILIES}, got {family!r}")
        values = as_array(f"paths[{family!r}]", values, ndim=None).reshape(-1)
        steps = np.arange(values.size)
        ax.plot(steps, values, color=colors[family], lw=2, label=f"ELBO, {names[family]}")
        ax.fill_between(steps, values, log_px, color=colors[family], alpha=0.15)
    ax.axhline(log_px, color=COLORS["posterior"], ls="--", lw=1.5, label=r"$\log p(x)$")
    if floor_gap is not None:
        ax.axhline(log_px - float(floor_gap), color=COLORS["q_alt"], ls=":", lw=1.5,
                   label=tr(lang, "ótimo da família diagonal", "optimum of the diagonal family"))
    ax.set_xlabel(tr(lang, "passo de otimização de q", "optimization step of q"))
    ax.set_ylabel(tr(lang, "nats", "nats"))
    ax.set_title(tr(lang, "A lacuna (área sombreada) é KL(q‖p(z|x))", "The gap (shaded) is KL(q‖p(z|x))"))
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_gradient_variance(n_samples, variances: dict, ax=None, lang: str = "pt"):
    r"""Variance of gradient estimators of the ELBO against the number of samples L (log–log).

    Parameters
    ----------
    n_samples : array [m]
        Numbers of samples L per estimate.
    variances : dict {"reparam" | "score" | "score_baseline": array [m]}
        Total variance (trace of the covariance) of each estimator at each L.
    """
    n = as_array("n_samples", n_samples, ndim=None).reshape(-1)
    names = {"reparam": tr(lang, "reparametrização", "reparameterization"),
             "score": tr(lang, "função escore", "score function"),
             "score_baseline": tr(lang, "função escore + linha de base", "score function + baseline")}
    colors = {"reparam": COLORS["q"], "score": COLORS["data"], "score_baseline": COLORS["q_alt"]}
    ax = get_ax(ax, figsize=(6, 4), lang=lang)
    for key, values in variances.items():
        if key not in ESTIMATORS:
            raise ValueError(f"variances: expected keys among {ESTIMATORS}, got {key!r}")
        values = as_array(f"variances[{key!r}]", values, ndim=None).reshape(-1)
        if values.size != n.size:
            raise ValueError(f"variances[{key!r}]: expected {n.size} values (one per L), got {values.size}")
        ax.loglog(n, values, "o-", color=colors[key], label=names[key])
    ax.set_xlabel(tr(lang, "amostras por estimativa, L", "samples per estimate, L"))
    ax.set_ylabel(tr(lang, "variância do gradiente", "gradient variance"))
    ax.set_title(tr(lang, "Variância ∝ 1/L; a constante é o que muda", "Variance ∝ 1/L; the constant is what differs"))
    ax.legend(fontsize=8)
    return ax


def digit_montage(images, ncols: int = 10, side: int = 8, gap: int = 0) -> np.ndarray:
    """Tile images [n, side*side] into one array, ``ncols`` per row, ``gap`` blank pixels between
    tiles: shape [rows*(side+gap) - gap, ncols*(side+gap) - gap] (blank cells and gaps are NaN,
    which imshow leaves transparent)."""
    images = as_array("images", images, ndim=None)
    ncols = check_integer("ncols", ncols)
    side = check_integer("side", side)
    gap = check_integer("gap", gap, minimum=0)
    if images.ndim != 2 or images.shape[1] != side * side:
        raise ValueError(f"images: expected shape [n, {side * side}], got {images.shape}")
    n = images.shape[0]
    rows = -(-n // ncols)
    step = side + gap
    tiles = np.full((rows * ncols, step, step), np.nan)
    tiles[:n, :side, :side] = images.reshape(n, side, side)
    grid = tiles.reshape(rows, ncols, step, step).transpose(0, 2, 1, 3).reshape(rows * step, ncols * step)
    return grid[:rows * step - gap, :ncols * step - gap]


def plot_digits(images, kind: str = "data", ax=None, lang: str = "pt", ncols: int = 10, vmax: float = 16.0):
    """A grid of 8×8 Digits images [n, 64] (values 0..``vmax``), titled by ``kind``.

    ``kind`` is one of ``"data"``, ``"reconstruction"``, ``"sample"``, ``"mean"``.
    """
    titles = {"data": tr(lang, "dados", "data"),
              "reconstruction": tr(lang, "reconstruções", "reconstructions"),
              "sample": tr(lang, "amostras do modelo", "samples from the model"),
              "mean": tr(lang, "médias de p(x|z), z ~ p(z)", "means of p(x|z), z ~ p(z)")}
    if kind not in titles:
        raise ValueError(f"kind: expected one of {tuple(titles)}, got {kind!r}")
    montage = digit_montage(images, ncols=ncols)
    ax = get_ax(ax, figsize=(ncols * 0.6, montage.shape[0] / 8 * 0.6 + 0.4), lang=lang)
    ax.imshow(montage, cmap="gray_r", vmin=0.0, vmax=vmax, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(titles[kind])
    return ax
