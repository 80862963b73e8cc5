r"""The β explorer for the static site (explorer kind ``"beta"``).

A slider runs over β-VAEs trained with different weights β of the KL term (book equation
``eq-beta-elbo``). For the chosen model the page shows its point on the rate–distortion plane
(rate :math:`R` = mean KL to the prior, distortion :math:`D` = mean −reconstruction, nats per test
image; every model drawn, the chosen one highlighted with its level line
:math:`D + \beta R = \text{const}`), the latent scatter of its test means coloured by class, and the
numbers β, R, D and ELBO :math:`= -(R + D)`, all computed by :func:`vae_support.widgets.beta_states`
(:func:`vae_support.train.evaluate`). The live twin is :func:`vae_support.widgets.beta_slider`.
"""
from __future__ import annotations

import numpy as np

from ..plot._style import check_lang, tr
from . import Explorer
from .latent import DIGIT_COLORS

__all__ = ["beta_explorer"]


def beta_explorer(models=None, x=None, labels=None, k: int = 10, seed: int = 0, lang: str = "pt",
                  states=None, extent: float = 3.5) -> Explorer:
    """The β explorer of trained β-VAEs with 2-D latents.

    Parameters
    ----------
    models : mapping of float to VAE
        ``{beta: trained model}``.
    x : Tensor [n, x_dim] or data.Split
        Test images.
    labels : Tensor [n]
        Their classes 0–9.
    k, seed
        As in :func:`vae_support.widgets.beta_states`.
    lang : {"pt", "en"}
    states : list of BetaState, optional
        Precomputed :func:`vae_support.widgets.beta_states` (then models, x, k, seed are not used).
    extent : float
        The scatter shows [−extent, extent]².

    Returns
    -------
    Explorer
        Kind ``"beta"``; the payload's ``checks`` hold every model's numbers at full precision.
    """
    from ..widgets import beta_states

    check_lang(lang)
    states = beta_states(models, x, labels, k, seed) if states is None else list(states)
    if not states:
        raise ValueError("states: expected at least one model")
    if any(s.labels is None for s in states):
        raise ValueError("labels: expected the classes of the test images (colours of the scatter)")
    data = {
        "betas": [s.beta for s in states],
        "rate": [s.rate for s in states],
        "distortion": [s.distortion for s in states],
        "elbo": [s.elbo for s in states],
        "means": [np.round(s.means, 2) for s in states],
        "labels": states[0].labels.tolist(), "colors": list(DIGIT_COLORS), "extent": float(extent),
        "checks": [{"index": i, "beta": s.beta, "rate": s.rate, "distortion": s.distortion, "elbo": s.elbo}
                   for i, s in enumerate(states)],
    }

    def live():
        from ..widgets import beta_slider

        return beta_slider(states=states, lang=lang, extent=extent)

    title = tr(lang, "Explorador de β: taxa, distorção e plano latente de cada modelo treinado",
               "β explorer: rate, distortion and latent plane of each trained model")
    return Explorer("beta", data, lang=lang, title=title, live=live, digits=7)
