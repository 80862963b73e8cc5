r"""The q explorer (kind ``"q"``): a Gaussian :math:`q=\mathcal N(\mu,\sigma^2)` against a grid posterior.

Sliders set :math:`\mu` and :math:`\sigma`; the site draws q over :math:`p(z|x)` and shows
:math:`\mathrm{KL}(q\,\|\,p(z|x))`, the ELBO, :math:`\log p(x)` and the gap
:math:`\log p(x)-\mathcal L(q)`, with a waterfall bar in which ELBO + KL always ends on
:math:`\log p(x)` (book equation ``eq-elbo-gap``); a switch adds the forward
:math:`\mathrm{KL}(p(z|x)\,\|\,q)`. The browser computes every number from the grid the payload
carries (:math:`\log p(x, z_i)` on the grid of :class:`~vae_support.toy.Grid1D` and
:math:`\log p(x)`), by the same rule as :meth:`Grid1D.kl`, :meth:`Grid1D.elbo` and
:meth:`Grid1D.forward_kl`: :math:`\sum_i f(z_i)\,g(z_i)\,\Delta z` over the points where the
weighting density :math:`f` is not zero. So its numbers are those of
:func:`vae_support.widgets.q_explorer_state` to the printed precision (the payload's ``checks``
are package values the tests compare with). The live twin is :func:`vae_support.widgets.q_explorer`.
"""
from __future__ import annotations

import math

import torch
from torch.distributions import Normal

from ..plot._style import check_lang, tr
from ..toy import Q_MASS_TOLERANCE, Grid1D
from . import Explorer

__all__ = ["q_explorer", "q_payload", "CHECK_POINTS"]

#: Slider ranges (min, max, step) on the chapter's grid: every q they reach is resolved by it.
MEAN_RANGE = (-5.0, 8.0, 0.05)
STD_RANGE = (0.1, 3.0, 0.01)

#: Positions (mean, std) at which the payload carries the package's own numbers for the tests.
CHECK_POINTS = ((-4.0, 0.87), (2.0, 1.41), (1.5, 0.8), (0.0, 2.5))

#: Significant digits of the payload: the browser's integrals then agree with the package's to ~1e-10.
DIGITS = 12


def _normal(mean: float, std: float) -> Normal:
    return Normal(torch.tensor(float(mean), dtype=torch.float64), torch.tensor(float(std), dtype=torch.float64))


def q_payload(grid: Grid1D, mean: float, std: float, checks=CHECK_POINTS,
              mean_range=MEAN_RANGE, std_range=STD_RANGE) -> dict:
    """The explorer's data: the grid (ends and size), :math:`\\log p(x, z_i)`, :math:`\\log p(x)`,
    the slider ranges and start, the view, and package values at the ``checks`` positions."""
    from ..widgets import q_explorer_state

    if not isinstance(grid, Grid1D):
        raise TypeError(f"grid: expected a Grid1D, got {type(grid).__name__}")
    for name, (lo, hi, step) in (("mean_range", mean_range), ("std_range", std_range)):
        if not (lo < hi and step > 0):
            raise ValueError(f"{name}: expected (min, max, step) with min < max and step > 0, got {(lo, hi, step)}")
    for m in (mean_range[0], mean_range[1]):  # the corners of the sliders must be resolved by the grid
        grid.check_q(_normal(m, std_range[1]), "mean_range, std_range")
        grid.check_q(_normal(m, std_range[0]), "mean_range, std_range")
    start = q_explorer_state(grid, mean, std)  # validates the start
    post = grid.posterior_density()
    rows = []
    for m, s in checks:
        state = q_explorer_state(grid, m, s)
        rows.append({"mean": m, "std": s, "kl": state.kl, "elbo": state.elbo, "log_px": state.log_px,
                     "gap": state.gap, "forward_kl": float(grid.forward_kl(_normal(m, s)))})
    z = grid.z
    mode = float(z[int(torch.argmax(post))])
    return {
        "z_min": float(z[0]), "z_max": float(z[-1]), "n": int(z.numel()),
        "log_joint": grid.log_joint(z).tolist(),
        "log_px": float(grid.log_marginal()),
        "mass_tolerance": Q_MASS_TOLERANCE,
        "mean": start.mean, "std": start.std,
        "mean_range": list(mean_range), "std_range": list(std_range),
        "view": [max(float(z[0]), math.floor(mode - 10.0)), min(float(z[-1]), math.ceil(mode + 8.0))],
        "y_max": 1.05 * max(float(post.max()), 0.6),
        "checks": rows,
    }


def q_explorer(grid: Grid1D | None = None, mean: float = -1.0, std: float = 1.0, lang: str = "pt") -> Explorer:
    r"""The q explorer of chapter ``kl-geometry``: static on the site, the live widget in a kernel.

    Parameters
    ----------
    grid : Grid1D, optional
        Default :meth:`Grid1D.skewed` (the chapter's posterior).
    mean, std : float
        Starting q (standard deviation, not variance); shown at the sliders' nearest steps
        (mean step 0.05, std step 0.01).
    lang : {"pt", "en"}

    Returns
    -------
    Explorer
        Display it (last expression of a cell).
    """
    check_lang(lang)
    grid = Grid1D.skewed() if grid is None else grid
    mean = round(float(mean) / MEAN_RANGE[2]) * MEAN_RANGE[2]
    std = round(float(std) / STD_RANGE[2]) * STD_RANGE[2]
    mean, std = float(f"{mean:.10g}"), float(f"{std:.10g}")
    data = q_payload(grid, mean, std)

    def live():
        from ..widgets import q_explorer as widget

        return widget(grid, mean, std, lang)

    title = tr(lang, "Explorador de q: média e desvio padrão de q contra a posterior p(z|x)",
               "q explorer: mean and standard deviation of q against the posterior p(z|x)")
    return Explorer("q", data, lang=lang, title=title, live=live, digits=DIGITS)
