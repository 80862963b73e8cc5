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


def plot_ancestral_samples(z, x, z_curve, mean_curve, ax=None, lang: str = "pt"):
    r"""Samples of a generative model with one latent and one observed coordinate, drawn in two steps.

    Each point is one ancestral sample: :math:`z_s \sim p(z)`, then :math:`x_s \sim p(x\mid z_s)`
    (book equation ``eq-log-marginal`` read from right to left). The curve is the decoder's mean
    :math:`f(z)`, around which the observation noise scatters the points.

    Parameters
    ----------
    z, x : sequence [n]
        The latent and the observed coordinate of each sample.
    z_curve, mean_curve : sequence [m]
        Points of the curve :math:`(z, f(z))`.
    ax : matplotlib Axes, optional
    lang : {"pt", "en"}

    Returns
    -------
    matplotlib Axes
    """
    check_lang(lang)
    z, x = as_array("z", z), as_array("x", x)
    z_curve, mean_curve = as_array("z_curve", z_curve), as_array("mean_curve", mean_curve)
    _check_same_length(z=z, x=x)
    _check_same_length(z_curve=z_curve, mean_curve=mean_curve)
    ax = get_ax(ax, lang=lang)
    ax.scatter(z, x, s=8, alpha=0.35, color=COLORS["posterior"], linewidths=0,
               label=tr(lang, "amostras $(z_s, x_s)$", "samples $(z_s, x_s)$"))
    ax.plot(z_curve, mean_curve, color=COLORS["q"], linewidth=2,
            label=tr(lang, "média do decodificador $f(z)$", "decoder mean $f(z)$"))
    ax.set_xlabel(tr(lang, "latente $z \\sim p(z)$", "latent $z \\sim p(z)$"))
    ax.set_ylabel(tr(lang, "observação $x \\sim p(x\\mid z)$", "observation $x \\sim p(x\\mid z)$"))
    ax.set_title(tr(lang, "Amostragem ancestral", "Ancestral sampling"))
    ax.legend(fontsize=9, loc="upper left")
    return ax


def plot_marginal_mixture(x_grid, components, marginal, samples=None, ax=None, lang: str = "pt"):
    r"""The marginal :math:`p(x) = \int p(x\mid z)\,p(z)\,dz` as a sum of weighted bumps.

    On a grid of latent points :math:`z_i` with spacing :math:`\Delta`, the integral is the sum of
    the components :math:`p(z_i)\,\Delta\; p(x\mid z_i)` — a mixture of the likelihood's densities
    with weights :math:`p(z_i)\Delta` (book equation ``eq-log-marginal``). Draws each component
    (thin), their sum (thick) and, optionally, a density histogram of samples of :math:`x`.

    Parameters
    ----------
    x_grid : sequence [n]
        Points of the observed axis.
    components : array [k, n]
        Density of each weighted component at ``x_grid`` (non-negative).
    marginal : sequence [n]
        The marginal density at ``x_grid`` (non-negative), e.g. the sum of the components.
    samples : sequence [m], optional
        Samples of :math:`x` drawn from the model, shown as a histogram.
    ax : matplotlib Axes, optional
    lang : {"pt", "en"}

    Returns
    -------
    matplotlib Axes
    """
    check_lang(lang)
    x_grid = as_array("x_grid", x_grid)
    components = as_array("components", components, ndim=2)
    marginal = as_array("marginal", marginal)
    if components.shape[1] != x_grid.size:
        raise ValueError(f"components: expected shape [k, {x_grid.size}], got {components.shape}")
    _check_same_length(x_grid=x_grid, marginal=marginal)
    if (components < 0).any() or (marginal < 0).any():
        raise ValueError("components, marginal: expected non-negative densities")
    ax = get_ax(ax, lang=lang)
    if samples is not None:
        samples = as_array("samples", samples)
        ax.hist(samples, bins=60, density=True, color=COLORS["prior"], alpha=0.35,
                label=tr(lang, "histograma de amostras de $x$", "histogram of samples of $x$"))
    for i, density in enumerate(components):
        ax.plot(x_grid, density, color=COLORS["q_alt"], linewidth=0.8, alpha=0.8,
                label=tr(lang, "componentes $p(z_i)\\,\\Delta\\,p(x\\mid z_i)$",
                         "components $p(z_i)\\,\\Delta\\,p(x\\mid z_i)$") if i == 0 else None)
    ax.plot(x_grid, marginal, color=COLORS["posterior"], linewidth=2.5,
            label=tr(lang, "soma: $p(x)$", "sum: $p(x)$"))
    ax.set_xlabel("$x$")
    ax.set_ylabel(tr(lang, "densidade", "density"))
    ax.set_title(tr(lang, "A marginal é uma mistura", "The marginal is a mixture"))
    ax.legend(fontsize=9, loc="upper left")
    return ax


def plot_log_weights(log_w, elbo, log_px, ax=None, lang: str = "pt"):
    r"""Histogram of log importance weights with the ELBO (their mean) and :math:`\log p(x)`.

    For samples :math:`z_s \sim q(z\mid x)`, the mean of :math:`\log w(z_s)` estimates the ELBO
    (book equation ``eq-elbo-def``) and the log of the mean of :math:`w(z_s)` estimates
    :math:`\log p(x)` (``eq-log-marginal-q``); Jensen's inequality puts the first left of the
    second. Draws the histogram and the two vertical lines.

    Parameters
    ----------
    log_w : sequence [S]
        Log importance weights, in nats.
    elbo : float
        The ELBO (e.g. the mean of ``log_w``), in nats.
    log_px : float
        :math:`\log p(x)`, in nats.
    ax : matplotlib Axes, optional
    lang : {"pt", "en"}

    Returns
    -------
    matplotlib Axes
    """
    check_lang(lang)
    log_w = as_array("log_w", log_w)
    elbo, log_px = float(elbo), float(log_px)
    if not (np.isfinite(elbo) and np.isfinite(log_px)):
        raise ValueError(f"elbo, log_px: expected finite numbers, got {elbo} and {log_px}")
    ax = get_ax(ax, lang=lang)
    ax.hist(log_w, bins=80, density=True, color=COLORS["prior"], alpha=0.5,
            label=tr(lang, "$\\log w(z_s)$, $z_s \\sim q$", "$\\log w(z_s)$, $z_s \\sim q$"))
    ax.axvline(elbo, color=COLORS["q"], linewidth=2,
               label=tr(lang, "média: ELBO $= \\mathbb{E}_q[\\log w]$", "mean: ELBO $= \\mathbb{E}_q[\\log w]$"))
    ax.axvline(log_px, color=COLORS["posterior"], linewidth=2, linestyle="--",
               label="$\\log p(x) = \\log \\mathbb{E}_q[w]$")
    ax.set_xlabel(tr(lang, "$\\log w$ (nats)", "$\\log w$ (nats)"))
    ax.set_ylabel(tr(lang, "densidade", "density"))
    ax.set_title(tr(lang, "Pesos de importância sob $q$", "Importance weights under $q$"))
    ax.legend(fontsize=9, loc="upper left")
    return ax


def plot_generalization_gap(betas, gap, reconstruction_gap=None, ax=None, lang: str = "pt"):
    r"""Train minus test ELBO of models trained with KL weight β, one point per seed, mean ± sd.

    ``gap[i, j]`` is the training-set ELBO minus the test-set ELBO (nats per image) of the model
    trained with seed i and :math:`\beta_j` (book equation ``eq-beta-elbo``; both ELBOs are the
    true ELBO, β = 1). Draws every seed's value, the mean with an error bar of one sample
    standard deviation (n − 1), and optionally the mean of the reconstruction term's share of
    the gap.

    Parameters
    ----------
    betas : sequence [k]
        The KL weights (non-negative).
    gap : array [seeds, k]
        Train − test ELBO per seed and β, in nats (at least two seeds).
    reconstruction_gap : array [seeds, k], optional
        Train − test reconstruction term, same layout.
    ax : matplotlib Axes, optional
    lang : {"pt", "en"}

    Returns
    -------
    matplotlib Axes
    """
    check_lang(lang)
    betas = as_array("betas", betas)
    if (betas < 0).any():
        raise ValueError("betas: expected non-negative KL weights")
    gap = as_array("gap", gap, ndim=2)
    if gap.shape[1] != betas.size or gap.shape[0] < 2:
        raise ValueError(f"gap: expected shape [seeds >= 2, {betas.size}], got {gap.shape}")
    ax = get_ax(ax, lang=lang)
    for i, row in enumerate(gap):
        ax.plot(betas, row, "o", color=COLORS["prior"], markersize=4, alpha=0.7,
                label=tr(lang, "cada semente", "each seed") if i == 0 else None)
    ax.errorbar(betas, gap.mean(axis=0), yerr=gap.std(axis=0, ddof=1), color=COLORS["q"], marker="s",
                capsize=4, linewidth=2,
                label=tr(lang, "ELBO treino $-$ teste (média ± dp)", "train $-$ test ELBO (mean ± sd)"))
    if reconstruction_gap is not None:
        reconstruction_gap = as_array("reconstruction_gap", reconstruction_gap, ndim=2)
        if reconstruction_gap.shape != gap.shape:
            raise ValueError(f"reconstruction_gap: expected shape {gap.shape}, got {reconstruction_gap.shape}")
        ax.plot(betas, reconstruction_gap.mean(axis=0), "--", color=COLORS["posterior"], linewidth=1.5,
                label=tr(lang, "só a reconstrução (média)", "reconstruction only (mean)"))
    ax.set_ylim(bottom=0)
    ax.set_xticks(betas)
    ax.set_xlabel(tr(lang, "peso $\\beta$ da KL no treino", "KL weight $\\beta$ in training"))
    ax.set_ylabel(tr(lang, "lacuna de generalização (nats)", "generalization gap (nats)"))
    ax.set_title(tr(lang, "ELBO no treino menos no teste", "Training minus test ELBO"))
    ax.legend(fontsize=9, loc="best")
    return ax


def plot_grid_log_joint(axis, log_joint, mass=0.99, underflow=None, floor=50.0, ax=None, lang: str = "pt"):
    r"""The integrand :math:`\log p(x, z_i)` of a grid quadrature over a 2-D latent space, as a heat map.

    Each cell is one grid point :math:`z_i` of book equation ``eq-grid-quadrature``; its colour
    is :math:`\log p(x, z_i)` in nats, clipped ``floor`` nats below the largest term (every cell
    below that contributes less than :math:`e^{-\text{floor}}` of it). Dots mark the fewest grid
    points whose terms add up to the fraction ``mass`` of the sum. With ``underflow``, the level
    below which :math:`e^{\log p(x, z_i)}` rounds to zero in floating point is drawn as a contour.

    Parameters
    ----------
    axis : sequence [n]
        The points of the grid along each latent axis (the grid is ``axis`` × ``axis``).
    log_joint : array [n, n]
        :math:`\log p(x, z)` at ``(axis[i], axis[j])`` in entry ``[i, j]``, in nats.
    mass : float
        Fraction of the sum, in (0, 1], whose grid points are marked.
    underflow : float, optional
        The log of the smallest positive float, in nats.
    floor : float
        Colour range below the largest term, in nats (positive).
    ax : matplotlib Axes, optional
    lang : {"pt", "en"}

    Returns
    -------
    matplotlib Axes
    """
    check_lang(lang)
    axis = as_array("axis", axis)
    log_joint = as_array("log_joint", log_joint, ndim=2)
    if log_joint.shape != (axis.size, axis.size):
        raise ValueError(f"log_joint: expected shape ({axis.size}, {axis.size}), got {log_joint.shape}")
    if not 0 < float(mass) <= 1:
        raise ValueError(f"mass: expected a fraction in (0, 1], got {mass!r}")
    if not float(floor) > 0:
        raise ValueError(f"floor: expected a positive number of nats, got {floor!r}")
    ax = get_ax(ax, figsize=(5.5, 4.5), lang=lang)
    top = log_joint.max()
    mesh = ax.pcolormesh(axis, axis, log_joint.T, shading="nearest", cmap="viridis", vmin=top - floor, vmax=top)
    bar = ax.figure.colorbar(mesh, ax=ax, extend="min")
    bar.set_label("$\\log p(x, z_i)$ (nats)")
    share = np.exp(log_joint - top)
    share = share / share.sum()
    order = np.argsort(share, axis=None)[::-1]
    count = int(np.searchsorted(np.cumsum(share.ravel()[order]), float(mass))) + 1
    ii, jj = np.unravel_index(order[:min(count, share.size)], share.shape)
    count = min(count, share.size)
    percent = f"{100 * float(mass):.4g}".replace(".", "," if lang == "pt" else ".")
    ax.plot(axis[ii], axis[jj], ".", color=COLORS["data"], markersize=5,
            label=tr(lang, f"{count} pontos: {percent} % da soma", f"{count} points: {percent} % of the sum"))
    if underflow is not None:
        underflow = float(underflow)
        if not np.isfinite(underflow):
            raise ValueError(f"underflow: expected a finite number, got {underflow}")
        if log_joint.min() < underflow < log_joint.max():
            ax.contour(axis, axis, log_joint.T, levels=[underflow], colors=[COLORS["q"]], linewidths=1.5,
                       linestyles="solid")
            ax.plot([], [], color=COLORS["q"],
                    label=tr(lang, "além dela, $p(x, z_i)$ vira 0", "beyond it, $p(x, z_i)$ becomes 0"))
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_aspect("equal")
    ax.set_title(tr(lang, "O integrando na grade", "The integrand on the grid"))
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False)
    return ax
