r"""Figures of comparisons over seeds: the per-seed values behind a mean ± sd.

A comparison of trained models that the book interprets runs over several seeds
(:func:`vae_support.train.over_seeds`, :func:`vae_support.train.paired_difference`). These
figures show what the summary hides: every seed's value, which seed is which across
configurations, and where the mean ± sd of the paired differences sits against zero.

* :func:`plot_seed_values` — one column per configuration, one point per seed, the same seed
  joined across columns; mean ± sd beside each column.
* :func:`plot_paired_differences` — the per-seed differences a − b of one metric, their
  mean ± sd, and zero: a band that straddles zero is a difference within noise.

Both take ``ax=None`` and ``lang="pt"|"en"`` and return the axes.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from ._style import COLORS, FOREGROUND, as_array, check_lang, get_ax, tr

__all__ = ["plot_seed_values", "plot_paired_differences", "CONFIG_NAMES"]

#: Configuration names the figures translate (any other name is drawn as given).
CONFIG_NAMES = {
    "diagonal": ("q diagonal", "diagonal q"),
    "full": ("q completa", "full q"),
}

_SEED_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def _config_name(lang: str, key: str) -> str:
    pair = CONFIG_NAMES.get(key)
    return key if pair is None else tr(lang, *pair)


def _per_seed(name: str, summary, metric: str) -> tuple[tuple, np.ndarray]:
    """(seeds, values) of ``metric`` in a :class:`~vae_support.train.SeedSummary`."""
    values = getattr(summary, "values", None)
    seeds = getattr(summary, "seeds", None)
    if not isinstance(values, Mapping) or seeds is None:
        raise TypeError(f"{name}: expected a SeedSummary (from over_seeds), got {type(summary).__name__}")
    if metric not in values:
        raise ValueError(f"metric: {metric!r} is not a metric of {name} (it has {sorted(values)})")
    return tuple(seeds), as_array(f"{name}.values[{metric!r}]", values[metric])


def _seed_legend(ax, seeds, lang: str) -> None:
    handles = [ax.plot([], [], ls="none", marker=_SEED_MARKERS[i % len(_SEED_MARKERS)], color=FOREGROUND,
                       label=tr(lang, f"semente {s}", f"seed {s}"))[0] for i, s in enumerate(seeds)]
    ax.legend(handles=handles, frameon=False, fontsize=8, loc="best")


def plot_seed_values(summaries: Mapping[str, object], metric: str, ylabel: str | None = None, ax=None,
                     lang: str = "pt"):
    """Per-seed values of ``metric`` for several configurations trained on the same seeds.

    Parameters
    ----------
    summaries : mapping configuration name → SeedSummary
        From :func:`vae_support.train.over_seeds`; every summary has the same seeds, in the same
        order. Names in :data:`CONFIG_NAMES` are translated.
    metric : str
        A metric of every summary (e.g. ``"elbo"``).
    ylabel : str, optional
        Axis label (already in the reader's language); default: the metric's name.

    Returns
    -------
    Axes; ``ax.lines`` holds, first, one line per seed joining its values across the
    configurations (x = 0, 1, …), then the mean ± sd error bars.
    """
    check_lang(lang)
    if not isinstance(summaries, Mapping) or not summaries:
        raise ValueError("summaries: expected a non-empty mapping from configuration name to SeedSummary")
    if not isinstance(metric, str):
        raise TypeError(f"metric: expected a metric name (str), got {type(metric).__name__}")
    per_config = {name: _per_seed(f"summaries[{name!r}]", s, metric) for name, s in summaries.items()}
    seed_sets = {seeds for seeds, _ in per_config.values()}
    if len(seed_sets) != 1:
        raise ValueError(f"summaries: expected the same seeds in every configuration, got {sorted(seed_sets)}")
    seeds = next(iter(seed_sets))
    table = np.stack([values for _, values in per_config.values()])  # [configurations, seeds]
    x = np.arange(len(per_config))
    ax = get_ax(ax, figsize=(4.5, 3.5), lang=lang)
    for i, _ in enumerate(seeds):
        ax.plot(x, table[:, i], color=FOREGROUND, lw=0.8, alpha=0.7,
                marker=_SEED_MARKERS[i % len(_SEED_MARKERS)], markersize=6,
                markerfacecolor=COLORS["q"], markeredgecolor=COLORS["q"])
    means = table.mean(1)
    sds = table.std(1, ddof=1) if len(seeds) > 1 else np.zeros(len(x))
    ax.errorbar(x + 0.12, means, yerr=sds, fmt="_", color=COLORS["posterior"], capsize=4, markersize=12,
                lw=1.5, label=tr(lang, "média ± dp", "mean ± sd"))
    ax.set_xticks(x)
    ax.set_xticklabels([_config_name(lang, name) for name in per_config])
    ax.set_xlim(-0.5, len(x) - 0.5)
    ax.set_ylabel(metric if ylabel is None else ylabel)
    _seed_legend(ax, seeds, lang)
    return ax


def plot_paired_differences(difference, ylabel: str | None = None, ax=None, lang: str = "pt"):
    r"""The per-seed differences a − b of a :class:`~vae_support.train.PairedDifference`.

    Each seed is a point; the mean :math:`\bar d` is a horizontal line with a band of
    :math:`\pm s_d` (the sample sd of the differences), and zero is dotted. The band
    contains zero exactly when the difference is within noise (``difference.within_noise``).

    Parameters
    ----------
    difference : PairedDifference
        From :func:`vae_support.train.paired_difference`.
    ylabel : str, optional
        Axis label (already in the reader's language); default: ``"a − b"`` and the metric.

    Returns
    -------
    Axes; ``ax.patches[0]`` is the ±sd band, ``ax.lines[0]`` the mean, ``ax.lines[1]`` zero,
    then one line per seed.
    """
    check_lang(lang)
    diffs = getattr(difference, "differences", None)
    if diffs is None or not hasattr(difference, "within_noise"):
        raise TypeError(f"difference: expected a PairedDifference, got {type(difference).__name__}")
    diffs = as_array("difference.differences", diffs)
    seeds = tuple(difference.seeds)
    mean, sd = float(difference.mean), float(difference.sd)
    x = np.arange(len(diffs))
    ax = get_ax(ax, figsize=(4.5, 3.5), lang=lang)
    ax.axhspan(mean - sd, mean + sd, color=COLORS["posterior"], alpha=0.2, lw=0,
               label=tr(lang, "média ± dp", "mean ± sd"))
    ax.axhline(mean, color=COLORS["posterior"], lw=1.5)
    ax.axhline(0.0, color=FOREGROUND, ls=":", lw=1)
    for i, d in enumerate(diffs):
        ax.plot([x[i]], [d], ls="none", marker=_SEED_MARKERS[i % len(_SEED_MARKERS)], markersize=7,
                color=COLORS["q"])
    ax.set_xticks(x)
    ax.set_xticklabels([tr(lang, f"semente {s}", f"seed {s}") for s in seeds])
    ax.set_xlim(-0.5, len(x) - 0.5)
    verdict = tr(lang, "dentro do ruído", "within noise") if difference.within_noise \
        else tr(lang, "além do ruído entre sementes", "beyond the seed spread")
    ax.set_title(verdict, fontsize=9)
    ax.set_ylabel(f"a − b: {difference.metric}" if ylabel is None else ylabel)
    low = min(float(diffs.min()), mean - sd, 0.0)
    high = max(float(diffs.max()), mean + sd, 0.0)
    pad = 0.15 * (high - low) if high > low else 1.0
    ax.set_ylim(low - pad, high + pad)
    ax.legend(frameon=False, fontsize=8, loc="best")
    return ax
