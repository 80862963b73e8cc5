r"""Figures of Part II's last chapters (``geometry-in-practice`` and ``geometry-limits``).

Drawing functions take ``ax=None`` and ``lang="pt"|"en"`` and return the axes. A few small
computations the chapters need live here too, named for what they compute, until they find a
home in the package module of their concept (they are tested against known answers in
``tests/test_plot_latent_space.py``):

* :func:`lerp` and :func:`slerp` — linear and spherical interpolation between latent codes
  (White, 2016; Shoemake, 1985);
* :func:`gaussian_quantile_grid` — a grid of the latent plane at equally spaced quantiles of
  :math:`\mathcal N(0, 1)` (the grid of Kingma & Welling, 2014, Fig. 4);
* :func:`class_means` and :func:`transfer_codes` — latent arithmetic with class-mean vectors;
* :func:`gaussian_total_correlation` — the total correlation of a Gaussian, in nats.

Every value is per data point and in nats.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import torch
from matplotlib.patches import Ellipse
from torch.distributions import Distribution

from .._checks import as_tensor, check_finite, check_integer
from ._style import COLORS, check_lang, get_ax, tr
from .elbo import digit_montage
from .training import _as_array, _check_runs

__all__ = [
    "lerp", "slerp", "gaussian_quantile_grid", "class_means", "transfer_codes",
    "gaussian_total_correlation", "plot_decoded_grid", "plot_digit_rows", "plot_path_norms",
    "plot_anomaly_scores", "plot_roc", "plot_prior_density", "plot_norm_concentration",
    "plot_kl_vs_dimension", "plot_posterior_ellipses_2d", "plot_diagonal_gap", "plot_diagonal_fit",
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


# -- computations ----------------------------------------------------------------------------
def _check_pair(z0, z1, t) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    z0 = check_finite("z0", as_tensor("z0", z0))
    z1 = check_finite("z1", as_tensor("z1", z1, dtype=z0.dtype)).to(z0.dtype)
    t = check_finite("t", as_tensor("t", t, dtype=z0.dtype)).to(z0.dtype)
    if z0.dim() < 1 or z0.shape != z1.shape:
        raise ValueError(f"z0, z1: expected equal shapes [..., d], got {tuple(z0.shape)} and {tuple(z1.shape)}")
    if t.dim() != 1:
        raise ValueError(f"t: expected a 1-D tensor of interpolation times, got shape {tuple(t.shape)}")
    return z0, z1, t.reshape(-1, *([1] * z0.dim()))


def lerp(z0, z1, t) -> torch.Tensor:
    r"""Linear interpolation :math:`z(t) = (1-t)\,z_0 + t\,z_1`.

    Parameters
    ----------
    z0, z1 : Tensor [..., d]
        End points (t = 0 and t = 1).
    t : Tensor [T]
        Interpolation times (usually in [0, 1]).

    Returns
    -------
    Tensor [T, ..., d]
    """
    z0, z1, t = _check_pair(z0, z1, t)
    return (1 - t) * z0 + t * z1


def slerp(z0, z1, t) -> torch.Tensor:
    r"""Spherical linear interpolation (White, 2016; Shoemake, 1985).

    .. math::
        z(t) = \frac{\sin((1-t)\,\omega)}{\sin\omega}\,z_0 + \frac{\sin(t\,\omega)}{\sin\omega}\,z_1,
        \qquad \cos\omega = \frac{z_0^\top z_1}{\lVert z_0\rVert\,\lVert z_1\rVert}.

    It follows the great circle from :math:`z_0` to :math:`z_1`: when the end points have the
    same norm, every point of the path keeps that norm (the linear path cuts inside the sphere,
    where a high-dimensional Gaussian prior has almost no mass). Where the end points are
    (anti)parallel, :math:`\sin\omega \approx 0` and the linear path is returned.

    Parameters
    ----------
    z0, z1 : Tensor [..., d]
    t : Tensor [T]

    Returns
    -------
    Tensor [T, ..., d]
    """
    z0, z1, t = _check_pair(z0, z1, t)
    norms = z0.norm(dim=-1, keepdim=True) * z1.norm(dim=-1, keepdim=True)
    if (norms == 0).any():
        raise ValueError("z0, z1: expected non-zero vectors (the angle between them must be defined)")
    cos = ((z0 * z1).sum(-1, keepdim=True) / norms).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    parallel = sin.abs() < 1e-6
    safe = torch.where(parallel, torch.ones_like(sin), sin)
    spherical = torch.sin((1 - t) * omega) / safe * z0 + torch.sin(t * omega) / safe * z1
    return torch.where(parallel, (1 - t) * z0 + t * z1, spherical)


def gaussian_quantile_grid(n: int, eps: float = 0.05) -> torch.Tensor:
    r"""Coordinates of an n × n grid of the latent plane at quantiles of :math:`\mathcal N(0,1)`.

    .. math:: z_i = \Phi^{-1}\Big(\varepsilon + (1-2\varepsilon)\frac{i}{n-1}\Big),\quad i = 0,\dots,n-1

    Equal steps in probability, not in z: each cell of the grid holds the same prior mass per
    axis, so the grid covers where the standard normal prior puts its samples (Kingma &
    Welling, 2014, Fig. 4).

    Parameters
    ----------
    n : int
        Points per axis, ≥ 2.
    eps : float
        Probability left out at each end, in (0, 0.5).

    Returns
    -------
    Tensor [n]
        The coordinates (the same on both axes), increasing.
    """
    n = check_integer("n", n, minimum=2)
    if not 0 < float(eps) < 0.5:
        raise ValueError(f"eps: expected a probability in (0, 0.5), got {eps!r}")
    probs = torch.linspace(float(eps), 1 - float(eps), n, dtype=torch.float64)
    return torch.distributions.Normal(0.0, 1.0).icdf(probs).to(torch.get_default_dtype())


def class_means(z, labels) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Mean latent code of each class, :math:`\bar z_c = \frac{1}{n_c}\sum_{i:y_i=c} z_i`.

    Parameters
    ----------
    z : Tensor [n, d]
        Codes, e.g. the means of :math:`q_\phi(z|x_i)`.
    labels : Tensor [n]
        Integer class of each code.

    Returns
    -------
    (classes [c], means [c, d])
        The sorted distinct classes and their mean codes.
    """
    z = check_finite("z", as_tensor("z", z))
    labels = torch.as_tensor(labels)
    if z.dim() != 2 or labels.shape != z.shape[:1]:
        raise ValueError(f"z, labels: expected z [n, d] and labels [n], got {tuple(z.shape)} and {tuple(labels.shape)}")
    classes = torch.unique(labels)
    means = torch.stack([z[labels == c].mean(0) for c in classes])
    return classes, means


def transfer_codes(z, labels, classes, means, target) -> torch.Tensor:
    r"""Move codes to another class, keeping their offset from their own class mean ("style").

    .. math:: z' = z - \bar z_{y} + \bar z_{\text{target}}

    The offset :math:`z - \bar z_y` is what distinguishes this example from the average example
    of its class (slant, thickness…); adding it to another class's mean asks the decoder for
    *that* example's style in the target class.

    Parameters
    ----------
    z : Tensor [n, d]
    labels : Tensor [n]
        Class of each code (each must be among ``classes``).
    classes, means : Tensor [c], Tensor [c, d]
        As returned by :func:`class_means`.
    target : int
        The class to move to (one of ``classes``).

    Returns
    -------
    Tensor [n, d]
    """
    z = check_finite("z", as_tensor("z", z))
    means = check_finite("means", as_tensor("means", means))
    classes, labels = torch.as_tensor(classes), torch.as_tensor(labels)
    if int(target) not in classes.tolist():
        raise ValueError(f"target: expected one of the classes {classes.tolist()}, got {target!r}")
    index = {int(c): i for i, c in enumerate(classes)}
    unknown = sorted({int(c) for c in labels} - set(index))
    if unknown:
        raise ValueError(f"labels: classes {unknown} have no mean in means")
    own = means[torch.as_tensor([index[int(c)] for c in labels])]
    return z - own + means[index[int(target)]]


def gaussian_total_correlation(cov) -> torch.Tensor:
    r"""Total correlation of a Gaussian, :math:`\mathrm{KL}(\mathcal N(\mu,\Sigma)\,\|\,\prod_j\mathcal N(\mu_j,\Sigma_{jj}))`.

    .. math:: \mathrm{TC} = \frac12\Big(\sum_{j}\log\Sigma_{jj} - \log\det\Sigma\Big)

    Zero exactly when Σ is diagonal; for two coordinates with correlation ρ it is
    :math:`-\tfrac12\log(1-\rho^2)`. The term that β-TCVAE penalizes (Chen et al., 2018),
    here for a Gaussian.

    Parameters
    ----------
    cov : Tensor [..., d, d]
        Symmetric positive definite covariances.

    Returns
    -------
    Tensor [...], nats.
    """
    cov = check_finite("cov", as_tensor("cov", cov))
    if cov.dim() < 2 or cov.shape[-1] != cov.shape[-2]:
        raise ValueError(f"cov: expected square matrices [..., d, d], got shape {tuple(cov.shape)}")
    chol, info = torch.linalg.cholesky_ex(cov)
    if (info != 0).any():
        raise ValueError("cov: expected a positive definite covariance matrix")
    logdet = 2 * torch.diagonal(chol, dim1=-2, dim2=-1).log().sum(-1)
    return 0.5 * (torch.diagonal(cov, dim1=-2, dim2=-1).log().sum(-1) - logdet)


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
    coords = _as_array("coords", coords)
    images = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images, dtype=float)
    n = coords.shape[0]
    if images.shape != (n, n, 64):
        raise ValueError(f"images: expected shape ({n}, {n}, 64) to match coords, got {images.shape}")
    montage = digit_montage(images[::-1].reshape(n * n, 64), ncols=n)
    ax = get_ax(ax, figsize=(6, 6))
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
    arrays = [_as_array(f"rows[{k!r}]", v, ndim=2) for k, v in rows.items()]
    if len({a.shape for a in arrays}) != 1 or arrays[0].shape[1] != 64:
        raise ValueError(f"rows: expected arrays of one shape [m, 64], got {[a.shape for a in arrays]}")
    m = arrays[0].shape[0]
    montage = digit_montage(np.concatenate(arrays), ncols=m)
    ax = get_ax(ax, figsize=(0.6 * m + 1.5, 0.6 * len(arrays) + 0.3))
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
    t = _as_array("t", t)
    palette = [COLORS["q"], COLORS["q_alt"], COLORS["posterior"]]
    ax = get_ax(ax, figsize=(5, 3.5))
    for i, (name, values) in enumerate(norms.items()):
        values = _as_array(f"norms[{name!r}]", values, ndim=2)
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
    scores = _as_array("scores", scores)
    flags = np.asarray(is_anomaly, dtype=bool)
    if flags.shape != scores.shape or flags.all() or not flags.any():
        raise ValueError("is_anomaly: expected one flag per score, with both classes present")
    edges = np.histogram_bin_edges(scores, bins=bins)
    ax = get_ax(ax, figsize=(5, 3.5))
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
    ax = get_ax(ax, figsize=(4.2, 4))
    palette = [COLORS["data"], COLORS["q"], COLORS["q_alt"], COLORS["posterior"]]
    for i, (name, (scores, flags)) in enumerate(curves.items()):
        scores = _as_array(f"curves[{name!r}] scores", scores)
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
    ax = get_ax(ax, figsize=(5, 5))
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
    ax = get_ax(ax, figsize=(6, 3.5))
    cmap = __import__("matplotlib").colormaps["viridis"]
    for i, (d, values) in enumerate(norms.items()):
        scaled = _as_array(f"norms[{d!r}]", values) / math.sqrt(check_integer("d", d))
        ax.hist(scaled, bins=bins, range=(0, 2.5), density=True, histtype="stepfilled", alpha=0.45,
                color=cmap(i / max(len(norms) - 1, 1)), label=f"d = {d}")
    ax.axvline(1.0, color="black", ls=":", lw=1)
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
    dims, exact = _as_array("dims", dims), _as_array("exact", exact)
    if dims.shape != exact.shape:
        raise ValueError(f"dims, exact: expected equal shapes, got {dims.shape} and {exact.shape}")
    ax = get_ax(ax, figsize=(5, 3.5))
    ax.plot(dims, exact, color=COLORS["posterior"], lw=2, marker="o", label=tr(lang, "forma fechada", "closed form"))
    if estimate is not None:
        estimate = _as_array("estimate", estimate)
        stderr = _as_array("stderr", stderr)
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
    means = _as_array("means", means, ndim=2)
    covs = np.asarray(covs.detach().cpu() if hasattr(covs, "detach") else covs, dtype=float)
    if means.shape[1] != 2 or covs.shape != (means.shape[0], 2, 2):
        raise ValueError(f"means, covs: expected [n, 2] and [n, 2, 2], got {means.shape} and {covs.shape}")
    cmap = __import__("matplotlib").colormaps["tab10"]
    ax = get_ax(ax, figsize=(4.5, 4.5))
    for i in range(means.shape[0]):
        color = COLORS["q"] if labels is None else cmap(int(labels[i]) % 10)
        _ellipse(ax, means[i], covs[i], color, lw=0.8, alpha=0.8)
    _ellipse(ax, (0.0, 0.0), np.eye(2), "black", ls="--", lw=1.5,
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
    rho, kl = _as_array("rho", rho), _as_array("kl", kl)
    if rho.shape != kl.shape:
        raise ValueError(f"rho, kl: expected equal shapes, got {rho.shape} and {kl.shape}")
    ax = get_ax(ax, figsize=(5, 3.5))
    ax.plot(rho, kl, color=COLORS["q"], lw=2, label=tr(lang, "melhor q diagonal", "best diagonal q"))
    if measured is not None:
        r, k = (_as_array("measured", m) for m in measured)
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
    mean = _as_array("mean", mean)
    covs = [np.asarray(c.detach().cpu() if hasattr(c, "detach") else c, dtype=float) for c in (cov_posterior, cov_q)]
    if mean.shape != (2,) or any(c.shape != (2, 2) for c in covs):
        raise ValueError("mean, cov_posterior, cov_q: expected shapes [2], [2, 2], [2, 2]")
    ax = get_ax(ax, figsize=(4.5, 4.5))
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
