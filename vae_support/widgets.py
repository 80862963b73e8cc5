r"""Live explorers for readers with a kernel (Binder, Colab, local), built on ipywidgets.

Each explorer is a thin shell around a plain function that computes what it shows, tested
without a display:

* :func:`q_explorer` — sliders move the mean and the standard deviation of
  :math:`q=\mathcal N(m, s^2)` against the posterior :math:`p(z|x)` of a
  :class:`~vae_support.toy.Grid1D`; the KL, the ELBO and the gap :math:`\log p(x)-\mathcal L`
  update live (computed by :func:`q_explorer_state`).
* :func:`path_walker` — a step slider walks the path of a diagonal Gaussian q during ELBO ascent
  in a 2-D linear-Gaussian model (computed by :func:`path_state`).
* :func:`latent_walker` — sliders walk the latent plane of a trained 2-D VAE and show the
  decoded digit (computed by :func:`decode_latent`).

On the static site the same explorers are :mod:`vae_support.explorers` (plain JS/SVG showing
the same numbers: :func:`~vae_support.explorers.q.q_explorer`,
:func:`~vae_support.explorers.path.path_explorer`, :func:`~vae_support.explorers.latent.latent_explorer`,
:func:`~vae_support.explorers.beta.beta_explorer`).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from ._checks import as_tensor, check_finite, check_integer, check_positive
from .distributions import pixel_mean
from .inference import QPath
from .toy import Grid1D

__all__ = ["QState", "q_explorer_state", "q_explorer", "PathState", "path_gradients", "path_state", "path_walker",
           "decode_latent", "latent_walker"]


class QState(NamedTuple):
    r"""What the q explorer shows for one position of the sliders (values in nats).

    ``z`` is the grid [n]; ``posterior`` and ``q`` the two densities on it [n];
    ``kl`` = :math:`\mathrm{KL}(q\,\|\,p(z|x))`, ``elbo`` = :math:`\mathcal L(q)`, ``log_px`` =
    :math:`\log p(x)` and ``gap`` = :math:`\log p(x) - \mathcal L(q)`, which equals ``kl``
    (book equation ``eq-elbo-gap``) up to the grid's rounding.
    """

    z: np.ndarray
    posterior: np.ndarray
    q: np.ndarray
    mean: float
    std: float
    kl: float
    elbo: float
    log_px: float
    gap: float


def q_explorer_state(grid: Grid1D, mean: float, std: float) -> QState:
    r"""KL, ELBO and gap of :math:`q=\mathcal N(\text{mean}, \text{std}^2)` against a grid posterior.

    .. math::
        \mathrm{KL}(q\,\|\,p(z|x)) = \int q\log\frac{q}{p(z|x)}\,dz,\qquad
        \mathcal L(q) = \int q\log\frac{p(x,z)}{q}\,dz,\qquad
        \log p(x) - \mathcal L(q) = \mathrm{KL}(q\,\|\,p(z|x))

    (book equations ``eq-kl-def``, ``eq-elbo-def``, ``eq-elbo-gap``), the KL and the ELBO each
    computed by its own grid integral so that the identity is a check, not a definition.

    Parameters
    ----------
    grid : Grid1D
    mean : float
        Mean of q.
    std : float
        Standard deviation of q (> 0; not the variance).

    Returns
    -------
    QState
    """
    if not isinstance(grid, Grid1D):
        raise TypeError(f"grid: expected a Grid1D, got {type(grid).__name__}")
    mean = float(check_finite("mean", as_tensor("mean", mean, dtype=torch.float64)))
    std = float(check_positive("std", as_tensor("std", std, dtype=torch.float64)))
    q = Normal(torch.tensor(mean, dtype=torch.float64), torch.tensor(std, dtype=torch.float64))
    grid.check_q(q, "mean, std")
    kl = float(grid.kl(q))
    elbo = float(grid.elbo(q))
    log_px = float(grid.log_marginal())
    return QState(grid.z.numpy(), grid.posterior_density().numpy(), q.log_prob(grid.z).exp().numpy(),
                  mean, std, kl, elbo, log_px, log_px - elbo)


def _require_ipywidgets():
    try:
        import ipywidgets
    except ImportError as err:  # pragma: no cover - ipywidgets is a dependency of the course
        raise ImportError("ipywidgets is needed for the live explorers: pip install ipywidgets") from err
    return ipywidgets


def _wire(sliders, out, fig, redraw) -> None:
    """Run ``redraw()`` and show ``fig`` in the Output widget ``out`` now and whenever a slider moves.

    The figure is set as the widget's ``outputs`` (no display message from the cell): a notebook
    runner without a widget front end (nbval) then stores nothing but the widget itself.
    """

    def refresh(_=None):
        redraw()
        out.outputs = ()
        out.append_display_data(fig)

    for slider in sliders:
        slider.observe(refresh, names="value")
    refresh()


def q_explorer(grid: Grid1D | None = None, mean: float = -1.0, std: float = 1.0, lang: str = "pt"):
    """An ipywidgets explorer: sliders for q's mean and standard deviation against p(z|x).

    Parameters
    ----------
    grid : Grid1D, optional
        The model; default :meth:`Grid1D.skewed` (the chapter's posterior).
    mean, std : float
        Initial position of the sliders.
    lang : {"pt", "en"}

    Returns
    -------
    ipywidgets.VBox
        Two sliders and a forward-KL switch (``children[0]``), a line of values (``children[1]``,
        an HTML widget; with the switch on it adds KL(p(z|x)‖q)) and the figure (an
        Output widget; ``.figure`` is the matplotlib figure). Display it in a notebook with a
        live kernel.
    """
    import matplotlib.pyplot as plt

    from .plot._style import check_lang, tr
    from .plot.kl_geometry import draw_q_explorer

    check_lang(lang)
    widgets = _require_ipywidgets()
    grid = Grid1D.skewed() if grid is None else grid
    q_explorer_state(grid, mean, std)  # validates the starting point
    from .explorers.q import MEAN_RANGE, STD_RANGE, _normal  # the static explorer's ranges: the same q's reachable

    lo, hi = float(grid.z[0]), float(grid.z[-1])
    mean_slider = widgets.FloatSlider(value=mean, min=max(lo, MEAN_RANGE[0]), max=min(hi, MEAN_RANGE[1]),
                                      step=MEAN_RANGE[2], description=tr(lang, "média", "mean"), continuous_update=True)
    std_slider = widgets.FloatSlider(value=std, min=STD_RANGE[0], max=STD_RANGE[1], step=STD_RANGE[2],
                                     description=tr(lang, "desvio", "std"), continuous_update=True)
    forward = widgets.Checkbox(value=False, description=tr(lang, "mostrar a KL direta", "show the forward KL"))
    values = widgets.HTML()
    out = widgets.Output()
    with out:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        plt.close(fig)

    def redraw():
        state = q_explorer_state(grid, mean_slider.value, std_slider.value)
        values.value = (f"KL(q‖p(z|x)) = {state.kl:.4g} &nbsp; ELBO = {state.elbo:.4g} &nbsp; "
                        f"log p(x) = {state.log_px:.4g} &nbsp; " + tr(lang, "lacuna", "gap") + f" = {state.gap:.4g}")
        if forward.value:  # the static explorer's switch: KL(p(z|x) || q) by Grid1D.forward_kl
            forward_kl = float(grid.forward_kl(_normal(state.mean, state.std)))
            values.value += " &nbsp; " + tr(lang, "KL direta", "forward KL") + f" KL(p(z|x)‖q) = {forward_kl:.4g}"
        draw_q_explorer(state, ax=ax, lang=lang)
        fig.tight_layout()

    _wire((mean_slider, std_slider, forward), out, fig, redraw)
    box = widgets.VBox([widgets.HBox([mean_slider, std_slider, forward]), values, out])
    box.figure = fig
    return box


class PathState(NamedTuple):
    r"""What the path walker shows at one step of an ELBO ascent (values in nats).

    ``mean`` and ``std`` [d] are q's parameters, ``elbo`` and ``kl`` =
    :math:`\mathrm{KL}(q\,\|\,p(z|x))` its values, ``log_px`` their constant sum, and
    ``grad_mean``, ``grad_log_std`` [d] the gradient of the ELBO in :math:`(\mu, \log\sigma)` there
    (a step of size :math:`\eta` moves the parameters by :math:`\eta` times it).
    """

    step: int
    mean: np.ndarray
    std: np.ndarray
    elbo: float
    kl: float
    log_px: float
    grad_mean: np.ndarray
    grad_log_std: np.ndarray


def _check_path(posterior, path) -> None:
    if not isinstance(posterior, MultivariateNormal) or posterior.event_shape != (2,) or posterior.batch_shape != ():
        raise ValueError("posterior: expected a 2-D MultivariateNormal without batch shape")
    if not isinstance(path, QPath):
        raise TypeError(f"path: expected a QPath (vae_support.inference.ascend_elbo_path), got {type(path).__name__}")
    if path.mean.dim() != 2 or path.mean.shape[1] != 2 or path.std.shape != path.mean.shape:
        raise ValueError(f"path: expected means and stds of shape [T, 2], got {tuple(path.mean.shape)}, {tuple(path.std.shape)}")


def path_gradients(posterior: MultivariateNormal, path: QPath) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The ELBO's gradient in q's mean and log standard deviations at every step of ``path`` [T, d] each.

    With :math:`\theta` fixed, :math:`\mathcal L(q) = \log p(x) - \mathrm{KL}(q\,\|\,p(z|x))`
    (``eq-elbo-gap``), so :math:`\nabla\mathcal L = -\nabla\mathrm{KL}`: automatic differentiation of
    torch's closed-form KL between q = N(mean, diag std²) and the exact ``posterior``.
    """
    _check_path(posterior, path)
    dtype = posterior.mean.dtype
    mean = path.mean.detach().to(dtype).clone().requires_grad_(True)
    log_std = path.std.detach().to(dtype).log().clone().requires_grad_(True)
    q = MultivariateNormal(mean, covariance_matrix=torch.diag_embed(torch.exp(2 * log_std)))
    kl = kl_divergence(q, posterior)
    g_mean, g_log_std = torch.autograd.grad(kl.sum(), (mean, log_std))
    return -g_mean, -g_log_std


def path_state(posterior: MultivariateNormal, path: QPath, step: int) -> PathState:
    """What the path walker (and the static path explorer) shows at ``step`` (0 … T−1) of ``path``."""
    _check_path(posterior, path)
    step = check_integer("step", step, minimum=0)
    if step >= len(path.elbo):
        raise ValueError(f"step: expected 0 … {len(path.elbo) - 1}, got {step}")
    g_mean, g_log_std = path_gradients(posterior, path)
    return PathState(step, path.mean[step].double().numpy(), path.std[step].double().numpy(), float(path.elbo[step]),
                     float(path.kl[step]), float(path.log_px), g_mean[step].numpy(), g_log_std[step].numpy())


def path_walker(posterior: MultivariateNormal, path: QPath, lang: str = "pt", lr: float | None = None, step: int = 0):
    """An ipywidgets explorer: a step slider walks q along an ELBO-ascent ``path`` over p(z|x).

    Parameters
    ----------
    posterior : MultivariateNormal
        The exact 2-D posterior (contours at 1 and 2 standard deviations).
    path : QPath
        From :func:`vae_support.inference.ascend_elbo_path`.
    lang : {"pt", "en"}
    lr : float, optional
        The ascent's step size: the arrows then show each step (lr × gradient); without it they
        show the gradient's direction at a readable length.
    step : int
        Initial step.

    Returns
    -------
    ipywidgets.VBox
        The slider (``children[0]``), a line of values (``children[1]``, HTML) and the figure
        (``.figure``), drawn by :func:`vae_support.plot.kl_geometry.draw_q_path`.
    """
    import matplotlib.pyplot as plt

    from .plot._style import check_lang, tr
    from .plot.kl_geometry import draw_q_path

    check_lang(lang)
    widgets = _require_ipywidgets()
    path_state(posterior, path, step)  # validates
    slider = widgets.IntSlider(value=step, min=0, max=len(path.elbo) - 1, step=1,
                               description=tr(lang, "passo", "step"), continuous_update=True)
    values = widgets.HTML()
    out = widgets.Output()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.8), gridspec_kw={"width_ratios": [1, 1.2]})
    plt.close(fig)

    def redraw():
        s = path_state(posterior, path, slider.value)
        values.value = (tr(lang, "passo", "step") + f" {s.step}: ELBO = {s.elbo:.4g} &nbsp; KL(q‖p(z|x)) = {s.kl:.4g} "
                        f"&nbsp; ELBO + KL = {s.elbo + s.kl:.4g} &nbsp; log p(x) = {s.log_px:.4g}")
        draw_q_path(posterior, path, slider.value, axes=axes, lang=lang, lr=lr)
        fig.tight_layout()

    _wire((slider,), out, fig, redraw)
    box = widgets.VBox([slider, values, out])
    box.figure = fig
    return box


def decode_latent(model, z) -> torch.Tensor:
    r"""The mean image :math:`\mathbb E_{p(x|z)}[x]` decoded from latent points.

    Parameters
    ----------
    model
        A trained VAE with ``decode(z)`` returning a pixel likelihood (``vae_support.models.VAE``).
    z : Tensor [..., z_dim]

    Returns
    -------
    Tensor [..., side, side]
        Pixel means (for Digits: 8×8, values in 0..16), via
        :func:`vae_support.distributions.pixel_mean`.
    """
    if not callable(getattr(model, "decode", None)):
        raise TypeError(f"model: expected a model with decode(z) (vae_support.models.VAE), got {type(model).__name__}")
    z = check_finite("z", as_tensor("z", z))
    if z.dim() < 1:
        raise ValueError(f"z: expected shape [..., z_dim], got {tuple(z.shape)}")
    with torch.no_grad():
        image = pixel_mean(model.decode(z))
    side = int(round(image.shape[-1] ** 0.5))
    if side * side != image.shape[-1]:
        raise ValueError(f"model: decoded images have {image.shape[-1]} pixels, not a square")
    return image.reshape(*image.shape[:-1], side, side)


def latent_walker(model, means=None, labels=None, extent: float = 3.0, lang: str = "pt"):
    """An ipywidgets explorer: two sliders walk a 2-D latent plane; the decoded digit follows.

    Parameters
    ----------
    model
        A trained VAE with a 2-D latent.
    means : Tensor [n, 2], optional
        Encoded means of data points, drawn behind the moving point.
    labels : Tensor [n], optional
        Their classes (colours).
    extent : float
        The sliders span [−extent, extent].
    lang : {"pt", "en"}

    Returns
    -------
    ipywidgets.VBox
        Two sliders and the figure (an Output widget); ``.figure`` is the matplotlib figure
        (left: the latent plane and the point, right: the decoded digit).
    """
    import matplotlib.pyplot as plt

    from .plot._style import check_lang
    from .plot.kl_geometry import draw_digit, _latent_backdrop

    check_lang(lang)
    widgets = _require_ipywidgets()
    extent = float(check_positive("extent", as_tensor("extent", extent)))
    z1 = widgets.FloatSlider(value=0.0, min=-extent, max=extent, step=0.05, description="z₁")
    z2 = widgets.FloatSlider(value=0.0, min=-extent, max=extent, step=0.05, description="z₂")
    out = widgets.Output()
    fig, (ax_z, ax_x) = plt.subplots(1, 2, figsize=(7, 3.5))
    plt.close(fig)
    _latent_backdrop(ax_z, means, labels, extent, lang)
    (marker,) = ax_z.plot([0.0], [0.0], "k*", ms=14)

    def redraw():
        z = torch.tensor([[z1.value, z2.value]], dtype=torch.float32)
        marker.set_data([z1.value], [z2.value])
        draw_digit(decode_latent(model, z)[0], ax=ax_x, lang=lang)

    _wire((z1, z2), out, fig, redraw)
    box = widgets.VBox([widgets.HBox([z1, z2]), out])
    box.figure = fig
    return box


# ---------------------------------------------------------------------------------------------
# β explorer (issue 15): the rate–distortion point and the latent scatter of β-VAEs
# ---------------------------------------------------------------------------------------------
__all__ += ["BetaState", "beta_states", "beta_slider"]


class BetaState(NamedTuple):
    r"""What the β explorer shows for one trained model (values in nats per test image).

    ``rate`` :math:`R = \mathbb E_x\,\mathrm{KL}(q(z|x)\,\|\,p(z))`, ``distortion``
    :math:`D = -\mathbb E_x\,\mathbb E_q[\log p(x|z)]` and ``elbo`` :math:`= -(R + D)`, from
    :func:`vae_support.train.evaluate`; ``means`` [n, 2] are the encoder means of the test images
    and ``labels`` [n] their classes.
    """

    beta: float
    rate: float
    distortion: float
    elbo: float
    means: np.ndarray
    labels: np.ndarray | None


def beta_states(models, x, labels=None, k: int = 10, seed: int = 0) -> list[BetaState]:
    r"""Rate, distortion, ELBO and test-set encodings of β-VAEs, in increasing β.

    Parameters
    ----------
    models : mapping of float to VAE
        ``{beta: model trained with that beta}`` (models with a 2-D latent for the scatter).
    x : Tensor [n, x_dim] or data.Split
        The evaluation images (the test set).
    labels : Tensor [n], optional
        Their classes.
    k : int
        Draws of z per image for the reconstruction term (:func:`vae_support.train.evaluate`).
    seed : int
        Seed of those draws, set in a forked random state: the caller's random stream is untouched
        and the same call gives the same numbers.

    Returns
    -------
    list of BetaState
    """
    from ._checks import check_integer
    from .train import evaluate

    if not hasattr(models, "items") or not len(models):
        raise ValueError("models: expected a non-empty mapping {beta: trained model}")
    seed = check_integer("seed", seed, minimum=0)
    states = []
    for beta, model in sorted(models.items(), key=lambda item: float(item[0])):
        beta = float(check_positive("beta", as_tensor("beta", beta, dtype=torch.float64)))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            ev = evaluate(model, x, k=k)
        with torch.no_grad():
            means = model.encode(getattr(x, "x", x)).mean
        if means.shape[-1] != 2:
            raise ValueError(f"models: expected a 2-D latent, got z_dim = {means.shape[-1]} for beta = {beta:g}")
        states.append(BetaState(beta, float(ev.kl), float(-ev.reconstruction), float(ev.elbo),
                                means.numpy().astype(float),
                                None if labels is None else np.asarray(as_tensor("labels", labels)).astype(int)))
    return states


def beta_slider(models=None, x=None, labels=None, k: int = 10, seed: int = 0, lang: str = "pt",
                states: list[BetaState] | None = None, extent: float = 3.5):
    """An ipywidgets explorer: a slider over the trained β values; the rate–distortion plane
    (all models, the chosen one highlighted) and the chosen model's latent scatter follow.

    Parameters
    ----------
    models, x, labels, k, seed
        As in :func:`beta_states` (ignored when ``states`` is given).
    lang : {"pt", "en"}
    states : list of BetaState, optional
        Precomputed :func:`beta_states`.
    extent : float
        The scatter shows [−extent, extent]².

    Returns
    -------
    ipywidgets.VBox
        The slider, a line of values (``children[1]``, an HTML widget) and the figure (an Output
        widget; ``.figure`` is the matplotlib figure).
    """
    import matplotlib.pyplot as plt

    from .plot._style import check_lang, tr
    from .plot.latent_space import draw_beta_state

    check_lang(lang)
    widgets = _require_ipywidgets()
    states = beta_states(models, x, labels, k, seed) if states is None else list(states)
    slider = widgets.SelectionSlider(options=[(f"{s.beta:g}", i) for i, s in enumerate(states)], value=0,
                                     description="β", continuous_update=True)
    values = widgets.HTML()
    out = widgets.Output()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
    plt.close(fig)

    def redraw():
        s = states[slider.value]
        values.value = (f"β = {s.beta:g} &nbsp; " + tr(lang, "taxa", "rate") + f" R = {s.rate:.4g} &nbsp; "
                        + tr(lang, "distorção", "distortion") + f" D = {s.distortion:.4g} &nbsp; "
                        f"ELBO = {s.elbo:.4g} nats")
        draw_beta_state(states, slider.value, axes=axes, lang=lang, extent=extent)
        fig.tight_layout()

    _wire((slider,), out, fig, redraw)
    box = widgets.VBox([slider, values, out])
    box.figure = fig
    return box
