r"""The path explorer (kind ``"path"``): q's path during ELBO ascent in 2-D, scrubbed step by step.

A slider (keyboard: arrows, Page Up/Down, Home/End) and a play button walk the steps of
:func:`vae_support.inference.ascend_elbo_path`. The site draws, as vectors, the posterior's
ellipses at 1 and 2 standard deviations (from its mean and covariance), q's 2-σ ellipse with its
trail, the step's arrows (:math:`\eta\nabla_\mu\mathcal L` from q's mean and the change of q's
radii made by :math:`\eta\nabla_{\log\sigma}\mathcal L`), and a small chart of the ELBO and
:math:`\mathrm{KL}(q\,\|\,p(z|x))` over the steps with the current one marked. The numbers shown
are the package's (the payload carries them; :func:`vae_support.widgets.path_state` computes
them). The live twin is :func:`vae_support.widgets.path_walker`.
"""
from __future__ import annotations

from torch.distributions import MultivariateNormal

from ..inference import QPath
from ..plot._style import check_lang, tr
from . import Explorer

__all__ = ["path_explorer", "path_payload"]

#: Significant digits of the payload (the browser prints 4; no double rounding).
DIGITS = 10


def path_payload(posterior: MultivariateNormal, path: QPath, lr: float | None = None, lim=None,
                 checks=None) -> dict:
    """The explorer's data: the posterior's mean and covariance, q's mean and std, the ELBO, the KL
    and the ELBO's gradient at every step, log p(x), the arrow scale, the view, and package values
    (:func:`vae_support.widgets.path_state`) at a few ``checks`` steps for the tests."""
    from ..plot.kl_geometry import _arrow_scale, _path_limits
    from ..widgets import path_gradients, path_state

    g_mean, g_log_std = path_gradients(posterior, path)  # validates posterior and path
    if lr is not None and not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"lr: expected a positive step size or None, got {lr!r}")
    lim = list(_path_limits(posterior, path) if lim is None else lim)
    last = len(path.elbo) - 1
    checks = sorted({0, min(1, last), min(5, last), last // 2, last}) if checks is None else list(checks)
    rows = []
    for step in checks:
        s = path_state(posterior, path, step)
        rows.append({"step": s.step, "elbo": s.elbo, "kl": s.kl, "sum": s.elbo + s.kl, "log_px": s.log_px,
                     "mean": s.mean.tolist(), "std": s.std.tolist()})
    return {
        "post_mean": posterior.mean.tolist(), "post_cov": posterior.covariance_matrix.tolist(),
        "mean": path.mean.tolist(), "std": path.std.tolist(),
        "elbo": path.elbo.tolist(), "kl": path.kl.tolist(), "log_px": float(path.log_px),
        "grad_mean": g_mean.tolist(), "grad_log_std": g_log_std.tolist(),
        "lr": lr, "arrow_scale": float(lr) if lr is not None else _arrow_scale(posterior, path, lim),
        "lim": lim, "checks": rows,
    }


def path_explorer(posterior: MultivariateNormal, path: QPath, lang: str = "pt", lr: float | None = None,
                  lim=None) -> Explorer:
    r"""The path of q during ELBO ascent, as an explorer: static on the site, the live widget in a kernel.

    Parameters
    ----------
    posterior : MultivariateNormal
        The exact 2-D posterior p(z|x).
    path : QPath
        From :func:`vae_support.inference.ascend_elbo_path`.
    lang : {"pt", "en"}
    lr : float, optional
        The ascent's step size: the arrows are then the steps themselves (lr × gradient).
    lim : (x0, x1, y0, y1), optional
        The view; default a square holding the posterior and q along the path.

    Returns
    -------
    Explorer
    """
    check_lang(lang)
    data = path_payload(posterior, path, lr=lr, lim=lim)

    def live():
        from ..widgets import path_walker

        return path_walker(posterior, path, lang=lang, lr=lr)

    title = tr(lang, "Caminho de q na subida do ELBO: passo a passo sobre as curvas de nível de p(z|x)",
               "Path of q during ELBO ascent: step by step over the contours of p(z|x)")
    return Explorer("path", data, lang=lang, title=title, live=live, digits=DIGITS)
