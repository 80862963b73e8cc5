r"""Figures of chapters 1 and 2: why :math:`\log p(x)` is hard, Jensen's inequality, the ELBO's parts.

Each function draws values computed elsewhere (by ``vae_support.toy``, ``bounds``, ``kl`` or the
notebook's experiment) and computes nothing of the model itself; every text it draws is in
``lang``. All take ``ax=None`` (a new figure when None) and return the axes.
"""
from __future__ import annotations

import numpy as np

from ._style import COLORS, FOREGROUND, as_array, check_lang, get_ax, tr


def _check_same_length(**arrays: np.ndarray) -> None:
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{n} {k}" for n, k in lengths.items())
        raise ValueError(f"expected sequences of equal length, got {listed}")


def plot_quadrature_cost(dims, n_points, seconds, ax=None, lang: str = "pt"):
    """Bars of the number of grid points a quadrature of :math:`\\log p(x)` evaluates, per latent dimension.

    A grid with ``n`` points per axis has :math:`n^d` points in :math:`d` dimensions (book
    equation ``eq-log-marginal`` evaluated by quadrature); the y axis is logarithmic, so
    exponential growth shows as a straight line. Each bar is annotated with its measured time.

    Parameters
    ----------
    dims : sequence of int [k]
        Latent dimensions d.
    n_points : sequence [k]
        Grid points evaluated for each d (positive).
    seconds : sequence [k]
        Measured wall-clock time of each quadrature, in seconds (positive).
    ax : matplotlib Axes, optional
    lang : {"pt", "en"}

    Returns
    -------
    matplotlib Axes
    """
    check_lang(lang)
    dims = as_array("dims", dims)
    n_points = as_array("n_points", n_points, positive=True)
    seconds = as_array("seconds", seconds, positive=True)
    _check_same_length(dims=dims, n_points=n_points, seconds=seconds)
    ax = get_ax(ax, lang=lang)
    bars = ax.bar(dims, n_points, color=COLORS["prior"], width=0.6)
    ax.set_yscale("log")
    for bar, sec in zip(bars, seconds):
        ax.annotate(f"{sec:.2g} s", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=9)
    ax.set_xticks(dims)
    ax.set_xlabel(tr(lang, "dimensão latente $d$", "latent dimension $d$"))
    ax.set_ylabel(tr(lang, "pontos da grade", "grid points"))
    ax.set_title(tr(lang, "Quadratura em grade: custo", "Grid quadrature: cost"))
    ax.set_ylim(top=n_points.max() * 20)
    return ax


def plot_naive_mc_error(n_samples, errors, ax=None, lang: str = "pt"):
    """Error of the naive Monte Carlo estimate of :math:`\\log p(x)` against the number of samples.

    For each latent dimension d, ``errors[d]`` holds, for repeated runs, the estimate
    :math:`\\log\\frac1S\\sum_s p(x\\mid z_s)`, :math:`z_s\\sim p(z)`, minus the exact
    :math:`\\log p(x)` (nats). The median is drawn as a line and the 10–90 % range of the runs as
    a band; the exact value is the zero line. The y axis is symmetric-logarithmic (linear within
    ±0.1 nats), so that errors of hundredths and of tens of nats are both readable.

    Parameters
    ----------
    n_samples : sequence of int [k]
        Sample sizes S (positive), drawn on a log axis.
    errors : dict {d: array [runs, k]}
        Estimate minus exact log p(x), in nats, for each latent dimension d.
    ax : matplotlib Axes, optional
    lang : {"pt", "en"}

    Returns
    -------
    matplotlib Axes
    """
    check_lang(lang)
    n_samples = as_array("n_samples", n_samples, positive=True)
    if not isinstance(errors, dict) or not errors:
        raise ValueError("errors: expected a non-empty dict {dimension: array [runs, len(n_samples)]}")
    ax = get_ax(ax, lang=lang)
    palette = [COLORS["posterior"], COLORS["q"], COLORS["q_alt"], COLORS["data"], COLORS["prior"]]
    for i, (d, err) in enumerate(errors.items()):
        err = np.asarray(err, dtype=float)
        if err.ndim != 2 or err.shape[1] != len(n_samples) or not np.isfinite(err).all():
            raise ValueError(f"errors[{d}]: expected finite values of shape [runs, {len(n_samples)}], got {err.shape}")
        color = palette[i % len(palette)]
        low, mid, high = np.percentile(err, [10, 50, 90], axis=0)
        ax.fill_between(n_samples, low, high, color=color, alpha=0.2, linewidth=0)
        ax.plot(n_samples, mid, "o-", color=color, label=f"$d = {d}$")
    ax.axhline(0.0, color=FOREGROUND, linewidth=1, linestyle="--",
               label=tr(lang, "$\\log p(x)$ exato", "exact $\\log p(x)$"))
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=0.1)
    ax.set_xlabel(tr(lang, "amostras $S$ da priori", "samples $S$ from the prior"))
    ax.set_ylabel(tr(lang, "estimativa $-$ exato (nats)", "estimate $-$ exact (nats)"))
    ax.set_title(tr(lang, "Monte Carlo ingênuo", "Naive Monte Carlo"))
    ax.legend(fontsize=9)
    return ax


def plot_jensen(w, probs=None, ax=None, lang: str = "pt"):
    """Jensen's inequality for the concave log: :math:`\\mathbb E[\\log w] \\le \\log \\mathbb E[w]`.

    Draws :math:`\\log` on an interval around the values ``w``, the points
    :math:`(w_i, \\log w_i)`, the chord (the polygon) joining them, and at :math:`\\bar w =
    \\sum_i p_i w_i` the two values :math:`\\log\\bar w` (on the curve) and
    :math:`\\sum_i p_i\\log w_i` (on the chord, below it); the vertical segment between them is the
    Jensen gap (book equation ``eq-elbo-jensen`` with :math:`w = p(x,z)/q(z\\mid x)`).

    Parameters
    ----------
    w : sequence [k]
        Positive values (k ≥ 2), e.g. importance weights.
    probs : sequence [k], optional
        Their probabilities (non-negative, summing to 1); uniform by default.
    ax : matplotlib Axes, optional
    lang : {"pt", "en"}

    Returns
    -------
    matplotlib Axes
    """
    check_lang(lang)
    w = as_array("w", w, positive=True)
    if w.size < 2:
        raise ValueError(f"w: expected at least 2 values, got {w.size}")
    probs = np.full(w.size, 1.0 / w.size) if probs is None else as_array("probs", probs)
    _check_same_length(w=w, probs=probs)
    if (probs < 0).any() or not np.isclose(probs.sum(), 1.0):
        raise ValueError("probs: expected non-negative values summing to 1")
    order = np.argsort(w)
    w, probs = w[order], probs[order]
    mean_w = float(probs @ w)
    mean_log = float(probs @ np.log(w))
    ax = get_ax(ax, lang=lang)
    grid = np.linspace(0.6 * w.min(), 1.15 * w.max(), 400)
    ax.plot(grid, np.log(grid), color=COLORS["posterior"], label="$\\log w$")
    ax.plot(w, np.log(w), "-", color=COLORS["prior"], marker="o",
            label=tr(lang, "corda entre os pontos $(w_i, \\log w_i)$", "chord through the points $(w_i, \\log w_i)$"))
    ax.plot([mean_w], [np.log(mean_w)], "s", color=COLORS["posterior"], markersize=8,
            label=tr(lang, "$\\log \\mathbb{E}[w]$ (curva)", "$\\log \\mathbb{E}[w]$ (curve)"))
    ax.plot([mean_w], [mean_log], "D", color=COLORS["q"], markersize=8,
            label=tr(lang, "$\\mathbb{E}[\\log w]$ (corda)", "$\\mathbb{E}[\\log w]$ (chord)"))
    ax.vlines(mean_w, mean_log, np.log(mean_w), color=COLORS["data"], linewidth=2,
              label=tr(lang, "lacuna de Jensen", "Jensen gap"))
    ax.set_xlabel("$w$")
    ax.set_ylabel("$\\log w$")
    ax.set_title(tr(lang, "Desigualdade de Jensen (log é côncavo)", "Jensen's inequality (log is concave)"))
    ax.legend(fontsize=9, loc="lower right")
    return ax


def plot_elbo_terms(scales, reconstruction, kl, log_px, ax=None, lang: str = "pt"):
    """Reconstruction, −KL and the ELBO of a family of q against a scale, with :math:`\\log p(x)`.

    Draws :math:`\\mathbb E_q[\\log p(x\\mid z)]`, :math:`-\\mathrm{KL}(q\\,\\|\\,p(z))` and their
    sum, the ELBO (book equation ``eq-elbo-decomposition``), for each q of a one-parameter family
    indexed by ``scales`` (log x axis), and the horizontal line :math:`\\log p(x)` that the ELBO
    never crosses.

    Parameters
    ----------
    scales : sequence [k]
        The family's parameter (positive), e.g. a factor on the posterior's covariance.
    reconstruction, kl : sequence [k]
        The two terms of the ELBO at each scale, in nats.
    log_px : float
        Exact :math:`\\log p(x)`, in nats.
    ax : matplotlib Axes, optional
    lang : {"pt", "en"}

    Returns
    -------
    matplotlib Axes
    """
    check_lang(lang)
    scales = as_array("scales", scales, positive=True)
    reconstruction = as_array("reconstruction", reconstruction)
    kl = as_array("kl", kl)
    _check_same_length(scales=scales, reconstruction=reconstruction, kl=kl)
    log_px = float(log_px)
    if not np.isfinite(log_px):
        raise ValueError(f"log_px: expected a finite number, got {log_px}")
    ax = get_ax(ax, lang=lang)
    ax.plot(scales, reconstruction, color=COLORS["posterior"],
            label=tr(lang, "reconstrução $\\mathbb{E}_q[\\log p(x|z)]$", "reconstruction $\\mathbb{E}_q[\\log p(x|z)]$"))
    ax.plot(scales, -kl, color=COLORS["prior"], label="$-\\mathrm{KL}(q\\,\\|\\,p(z))$")
    ax.plot(scales, reconstruction - kl, color=COLORS["q"], linewidth=2.5, label="ELBO")
    ax.axhline(log_px, color=FOREGROUND, linestyle="--", linewidth=1, label="$\\log p(x)$")
    ax.set_xscale("log")
    ax.set_xlabel(tr(lang, "escala $s$ da covariância de $q$", "scale $s$ of the covariance of $q$"))
    ax.set_ylabel("nats")
    ax.set_title(tr(lang, "ELBO = reconstrução $-$ KL", "ELBO = reconstruction $-$ KL"))
    ax.legend(fontsize=9, loc="best")
    return ax
