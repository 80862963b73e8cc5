r"""Figures of the chapters on practice and extensions of the ELBO (chapters 5–7).

Every function takes ``ax=None`` (a new figure when None) and ``lang="pt"|"en"`` for every piece
of text it draws, and returns the axes. They draw values computed elsewhere (the inference gaps
of :mod:`vae_support.inference`, the history of :func:`vae_support.train.fit`, bounds of
:mod:`vae_support.bounds`).

* :func:`plot_inference_gaps` — per data point, the approximation gap and the amortization gap
  stacked (Cremer et al., 2018).
* :func:`plot_kl_per_dimension` — KL(q(z_j|x)‖p(z_j)) per latent dimension for several runs:
  posterior collapse shows as dimensions at zero.
* :func:`plot_curves` — a quantity of the training history over epochs, for several runs.
* :func:`plot_rate_distortion` — the β-VAE's rate–distortion points with lines of equal
  −ELBO = D + R (book equation ``eq-beta-elbo``).
* :func:`plot_bound_vs_k` — the IWAE bound against the number of samples K (``eq-iwae``).
* :func:`plot_gradient_variance` — the variance of gradient estimators against K, log–log.
* :func:`plot_latent_scatter` — encoder means in a 2-D latent space, coloured by label.
* :func:`plot_objective_curves` — objectives (ELBO, exact log p(x)) against a model parameter,
  with their maximizers marked.

The values come from the package: estimator variances from
:func:`vae_support.gradients.encoder_gradient_variance`, the IWAE bound for many K from one set
of samples from :func:`vae_support.bounds.iwae_bounds_by_k`.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.colors import ListedColormap

from ._style import COLORS, DIGIT_COLORS, FOREGROUND, as_array, check_lang, get_ax, tr

__all__ = [
    "plot_inference_gaps",
    "plot_kl_per_dimension",
    "plot_curves",
    "plot_rate_distortion",
    "plot_bound_vs_k",
    "plot_gradient_variance",
    "plot_latent_scatter",
    "plot_objective_curves",
    "QUANTITY_LABELS",
    "RUN_COLORS",
]

#: Axis labels of the training-history quantities drawn by :func:`plot_curves`, per language.
QUANTITY_LABELS = {
    "elbo": ("ELBO (nats)", "ELBO (nats)"),
    "reconstruction": ("reconstrução (nats)", "reconstruction (nats)"),
    "kl": ("KL (nats)", "KL (nats)"),
    "active_units": ("unidades ativas", "active units"),
    "log_px": ("log p(x) (nats)", "log p(x) (nats)"),
}


#: Colours of the runs drawn by :func:`plot_kl_per_dimension` and :func:`plot_curves`: run i of a
#: mapping gets ``RUN_COLORS[i]`` in both, so the two panels of one figure agree.
RUN_COLORS = (COLORS["data"], COLORS["q"], COLORS["q_alt"], COLORS["posterior"], COLORS["prior"])


def _run_color(i: int) -> str:
    return RUN_COLORS[i % len(RUN_COLORS)]


def _check_runs(name: str, runs: Mapping[str, object]) -> None:
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError(f"{name}: expected a non-empty mapping from run name to values")


def plot_inference_gaps(log_px, elbo_optimized, elbo_amortized, ax=None, lang: str = "pt"):
    r"""Stacked bars of the two parts of the inference gap, one bar per data point.

    .. math::
        \underbrace{\log p(x) - \mathcal L[q^*]}_{\text{approximation gap}}
        + \underbrace{\mathcal L[q^*] - \mathcal L[q_\phi]}_{\text{amortization gap}}
        = \log p(x) - \mathcal L[q_\phi]

    (Cremer et al., 2018; book equation ``eq-elbo-gap``). Points are sorted by the total gap.

    Parameters
    ----------
    log_px, elbo_optimized, elbo_amortized : array [n]
        Per data point, in nats: an estimate of :math:`\log p(x)` (importance sampling), the
        ELBO of the per-point optimized q* and the ELBO of the encoder's q_φ.

    Returns
    -------
    Axes; its first container holds the approximation-gap bars, the second the amortization-gap
    bars (stacked on the first).
    """
    check_lang(lang)
    log_px = as_array("log_px", log_px)
    opt = as_array("elbo_optimized", elbo_optimized)
    amo = as_array("elbo_amortized", elbo_amortized)
    if not (log_px.shape == opt.shape == amo.shape):
        raise ValueError(f"log_px, elbo_optimized, elbo_amortized: expected equal shapes, got "
                         f"{log_px.shape}, {opt.shape}, {amo.shape}")
    approx, amort = log_px - opt, opt - amo
    order = np.argsort(approx + amort)
    idx = np.arange(len(order))
    ax = get_ax(ax, figsize=(7, 3.5), lang=lang)
    ax.bar(idx, approx[order], color=COLORS["posterior"],
           label=tr(lang, "gap de aproximação", "approximation gap"))
    ax.bar(idx, amort[order], bottom=approx[order], color=COLORS["q"],
           label=tr(lang, "gap de amortização", "amortization gap"))
    ax.axhline(0.0, color=FOREGROUND, lw=0.8)
    ax.set_xlabel(tr(lang, "imagem de teste (ordenada pelo gap total)", "test image (sorted by total gap)"))
    ax.set_ylabel(tr(lang, "gap (nats)", "gap (nats)"))
    ax.legend(frameon=False)
    return ax


def plot_kl_per_dimension(kl_per_dim: Mapping[str, object], ax=None, lang: str = "pt"):
    r"""Grouped bars of :math:`\mathrm{KL}(q(z_j|x)\,\|\,p(z_j))` per latent dimension j, one group per run.

    Dimensions sit in the order given (they are not sorted). A collapsed dimension has KL ≈ 0:
    its posterior equals the prior whatever x is.

    Parameters
    ----------
    kl_per_dim : mapping run name → array [d]
        Average KL per latent dimension, in nats (all runs of the same d).

    Returns
    -------
    Axes; container i holds run i's bars in the mapping's order, coloured ``RUN_COLORS[i]``.
    """
    check_lang(lang)
    _check_runs("kl_per_dim", kl_per_dim)
    arrays = {name: as_array(f"kl_per_dim[{name!r}]", v) for name, v in kl_per_dim.items()}
    sizes = {a.shape for a in arrays.values()}
    if len(sizes) != 1:
        raise ValueError(f"kl_per_dim: expected every run to have the same number of dimensions, got {sorted(sizes)}")
    d = next(iter(sizes))[0]
    width = 0.8 / len(arrays)
    ax = get_ax(ax, figsize=(7, 3.5), lang=lang)
    for i, (name, values) in enumerate(arrays.items()):
        ax.bar(np.arange(d) + (i - (len(arrays) - 1) / 2) * width, values, width=width,
               color=_run_color(i), label=name)
    ax.set_xticks(np.arange(d))
    ax.set_xlabel(tr(lang, "dimensão latente j", "latent dimension j"))
    ax.set_ylabel(tr(lang, "KL por dimensão (nats)", "KL per dimension (nats)"))
    ax.legend(frameon=False)
    return ax


def plot_curves(curves: Mapping[str, object], quantity: str, ax=None, lang: str = "pt"):
    """Lines of one training-history quantity over epochs (1, 2, …), one line per run.

    Parameters
    ----------
    curves : mapping run name → array [epochs]
        The values per epoch (e.g. ``[h["kl"] for h in history]``).
    quantity : str
        A key of :data:`QUANTITY_LABELS` naming what is drawn (sets the y label).

    Returns
    -------
    Axes; line i holds run i, coloured ``RUN_COLORS[i]`` (as in :func:`plot_kl_per_dimension`).
    """
    check_lang(lang)
    _check_runs("curves", curves)
    if quantity not in QUANTITY_LABELS:
        raise ValueError(f"quantity: expected one of {sorted(QUANTITY_LABELS)}, got {quantity!r}")
    ax = get_ax(ax, lang=lang)
    for i, (name, values) in enumerate(curves.items()):
        y = as_array(f"curves[{name!r}]", values)
        ax.plot(np.arange(1, len(y) + 1), y, color=_run_color(i), label=name)
    ax.set_xlabel(tr(lang, "época", "epoch"))
    ax.set_ylabel(tr(lang, *QUANTITY_LABELS[quantity]))
    ax.legend(frameon=False)
    return ax


def plot_rate_distortion(rate, distortion, betas, ax=None, lang: str = "pt"):
    r"""The rate–distortion points of β-VAEs, with lines of equal −ELBO.

    Rate :math:`R = \mathbb E_x\,\mathrm{KL}(q(z|x)\|p(z))`, distortion
    :math:`D = -\mathbb E_x\,\mathbb E_q[\log p(x|z)]`, so :math:`-\mathrm{ELBO} = D + R`
    (Alemi et al., 2018; book equation ``eq-beta-elbo``). The dashed lines are
    :math:`D + R = \text{const}` through the best and the worst point.

    Parameters
    ----------
    rate, distortion : array [m]
        In nats per data point, one entry per trained model.
    betas : array [m]
        The β each model was trained with (annotated next to its point).

    Returns
    -------
    Axes; ``ax.lines[0]`` is the curve through the points in the given order.
    """
    check_lang(lang)
    rate = as_array("rate", rate)
    distortion = as_array("distortion", distortion)
    betas = as_array("betas", betas)
    if not (rate.shape == distortion.shape == betas.shape):
        raise ValueError(f"rate, distortion, betas: expected equal shapes, got {rate.shape}, {distortion.shape}, {betas.shape}")
    ax = get_ax(ax, lang=lang)
    ax.plot(rate, distortion, "o-", color=COLORS["q"], label=tr(lang, "modelos treinados", "trained models"))
    for r, d, b in zip(rate, distortion, betas):
        ax.annotate(f"β={b:g}", (r, d), textcoords="offset points", xytext=(5, 5), fontsize=8)
    total = rate + distortion
    r_line = np.linspace(0.0, rate.max() * 1.1 + 1e-9, 50)
    for k, c in enumerate((total.min(), total.max())):
        ax.plot(r_line, c - r_line, "--", color=COLORS["prior"], lw=0.8,
                label=tr(lang, "D + R constante (−ELBO)", "constant D + R (−ELBO)") if k == 0 else None)
    ax.set_ylim(distortion.min() - 0.1 * np.ptp(distortion) - 1, distortion.max() + 0.1 * np.ptp(distortion) + 1)
    ax.set_xlabel(tr(lang, "taxa R = KL (nats)", "rate R = KL (nats)"))
    ax.set_ylabel(tr(lang, "distorção D = −reconstrução (nats)", "distortion D = −reconstruction (nats)"))
    ax.legend(frameon=False)
    return ax


def plot_bound_vs_k(ks, bounds: Mapping[str, object], reference: Mapping[str, float] | None = None,
                    ax=None, lang: str = "pt"):
    r"""The importance-weighted bound :math:`\mathcal L_K` against K (log axis), one line per model.

    Parameters
    ----------
    ks : array [m]
        Numbers of samples, positive.
    bounds : mapping model name → array [m]
        Average :math:`\mathcal L_K` in nats at each K (book equation ``eq-iwae``).
    reference : mapping model name → float, optional
        A horizontal dashed line per model, e.g. its estimate of :math:`\log p(x)`.

    Returns
    -------
    Axes; lines in the order of ``bounds``, then the reference lines.
    """
    check_lang(lang)
    _check_runs("bounds", bounds)
    ks = as_array("ks", ks)
    if (ks <= 0).any():
        raise ValueError("ks: expected positive numbers of samples")
    ax = get_ax(ax, lang=lang)
    colors = {}
    for name, values in bounds.items():
        y = as_array(f"bounds[{name!r}]", values)
        if y.shape != ks.shape:
            raise ValueError(f"bounds[{name!r}]: expected shape {ks.shape} to match ks, got {y.shape}")
        (line,) = ax.plot(ks, y, "o-", ms=3, label=name)
        colors[name] = line.get_color()
    for name, value in (reference or {}).items():
        ax.axhline(float(value), ls="--", lw=0.8, color=colors.get(name, COLORS["prior"]),
                   label=f"{name}: log p(x)")
    ax.set_xscale("log")
    ax.set_xlabel(tr(lang, "número de amostras K", "number of samples K"))
    ax.set_ylabel(tr(lang, "limite IWAE L_K (nats)", "IWAE bound L_K (nats)"))
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_gradient_variance(ks, variances: Mapping[str, object], ax=None, lang: str = "pt"):
    """Variance of gradient estimators against the number of samples K, on log–log axes.

    Parameters
    ----------
    ks : array [m]
        Numbers of samples, positive.
    variances : mapping estimator name → array [m]
        Positive variances (e.g. the trace of the gradient's covariance) at each K.

    Returns
    -------
    Axes; line i holds estimator i.
    """
    check_lang(lang)
    _check_runs("variances", variances)
    ks = as_array("ks", ks)
    ax = get_ax(ax, lang=lang)
    for name, values in variances.items():
        y = as_array(f"variances[{name!r}]", values)
        if y.shape != ks.shape or (y <= 0).any():
            raise ValueError(f"variances[{name!r}]: expected positive values of shape {ks.shape}")
        ax.plot(ks, y, "o-", label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(tr(lang, "número de amostras K", "number of samples K"))
    ax.set_ylabel(tr(lang, "variância do gradiente", "gradient variance"))
    ax.legend(frameon=False)
    return ax


def plot_latent_scatter(z, labels, centers=None, ax=None, lang: str = "pt"):
    """Encoder means in a 2-D latent space coloured by class, with optional prior centres.

    Parameters
    ----------
    z : array [n, 2]
        Latent points (e.g. the means of q(z|x)).
    labels : array [n]
        Integer class of each point (the digit).
    centers : array [k, 2], optional
        Means of the prior's mixture components, drawn as black crosses.

    Returns
    -------
    Axes; ``ax.collections[0]`` holds the points.
    """
    check_lang(lang)
    z = as_array("z", z, ndim=2)
    labels = as_array("labels", labels)
    if z.shape[1] != 2 or labels.shape[0] != z.shape[0]:
        raise ValueError(f"z, labels: expected z [n, 2] and labels [n], got {z.shape} and {labels.shape}")
    ax = get_ax(ax, figsize=(5, 5), lang=lang)
    points = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap=ListedColormap(DIGIT_COLORS), s=8, vmin=-0.5, vmax=9.5)
    if centers is not None:
        centers = as_array("centers", centers, ndim=2)
        ax.scatter(centers[:, 0], centers[:, 1], marker="x", s=80, color=FOREGROUND,
                   label=tr(lang, "médias das componentes da prior", "means of the prior's components"))
        ax.legend(frameon=False, loc="upper right")
    ax.figure.colorbar(points, ax=ax, ticks=range(10), label=tr(lang, "dígito", "digit"))
    ax.set_xlabel("z₁")
    ax.set_ylabel("z₂")
    return ax


def plot_objective_curves(param, curves: Mapping[str, object], xlabel: Sequence[str], ax=None, lang: str = "pt"):
    """Objectives against one model parameter, each with its maximizer marked by a dotted line.

    Parameters
    ----------
    param : array [m]
        The parameter values (the x axis).
    curves : mapping objective name → array [m]
        Average objective in nats at each parameter value.
    xlabel : (str, str)
        The x label in Portuguese and in English.

    Returns
    -------
    Axes; ``ax.lines`` alternate curve, maximizer line, for each objective in order.
    """
    check_lang(lang)
    _check_runs("curves", curves)
    param = as_array("param", param)
    if len(xlabel) != 2:
        raise ValueError(f"xlabel: expected a pair (pt, en), got {xlabel!r}")
    ax = get_ax(ax, lang=lang)
    for name, values in curves.items():
        y = as_array(f"curves[{name!r}]", values)
        if y.shape != param.shape:
            raise ValueError(f"curves[{name!r}]: expected shape {param.shape} to match param, got {y.shape}")
        (line,) = ax.plot(param, y, label=name)
        ax.axvline(param[np.argmax(y)], ls=":", color=line.get_color())
    ax.set_xlabel(tr(lang, *xlabel))
    ax.set_ylabel(tr(lang, "nats por ponto", "nats per data point"))
    ax.legend(frameon=False)
    return ax
