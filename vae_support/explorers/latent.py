r"""The latent walker for the static site (explorer kind ``"latent"``).

Move a point over the 2-D latent plane of a trained VAE and see the decoded digit
:math:`\mathbb E_{p_\theta(x\mid z)}[x]`. The site cannot run the decoder, so the notebook decodes
a square grid of latent points once (:func:`latent_grid`, with
:func:`vae_support.widgets.decode_latent`) and the page interpolates **bilinearly** between the
four grid decodings around the point (at a grid point it shows that point's decoding exactly, to
the stored precision of 0.1 grey level). The encoded test means are drawn behind, coloured by
class with :data:`DIGIT_COLORS`. The live twin is :func:`vae_support.widgets.latent_walker`.
"""
from __future__ import annotations

import numpy as np
import torch

from .._checks import as_tensor, check_integer, check_positive
from ..plot._style import DIGIT_COLORS, check_lang, tr
from . import Explorer

__all__ = ["DIGIT_COLORS", "latent_grid", "encode_pixels", "latent_explorer"]

#: Stored pixel precision: grey levels (0..16) are kept in tenths (integers 0..160).
PIXEL_STEP = 0.1


def latent_grid(model, extent: float = 3.0, n: int = 21) -> tuple[np.ndarray, np.ndarray]:
    """Decode an ``n`` × ``n`` grid of latent points spanning [−extent, extent]².

    Returns
    -------
    side : ndarray [n]
        The grid coordinates (the same for z₁ and z₂).
    images : ndarray [n, n, h, w]
        ``images[i, j]`` is the decoded image at ``z = (side[j], side[i])`` (row i: z₂, column j: z₁),
        from :func:`vae_support.widgets.decode_latent`.
    """
    from ..widgets import decode_latent

    extent = float(check_positive("extent", as_tensor("extent", extent, dtype=torch.float64)))
    n = check_integer("n", n)
    if n < 2:
        raise ValueError(f"n: expected at least 2 grid points per axis, got {n}")
    side = np.round(np.linspace(-extent, extent, n), 12) + 0.0  # exact 0 in the middle, no -0
    grid = torch.tensor(side, dtype=torch.float32)
    z2, z1 = torch.meshgrid(grid, grid, indexing="ij")
    z = torch.stack([z1, z2], -1).reshape(-1, 2)
    images = decode_latent(model, z)
    return side, images.reshape(n, n, *images.shape[-2:]).numpy().astype(float)


def encode_pixels(image) -> str:
    """One image's pixels (grey levels 0..16), row by row, in tenths as two hex digits each."""
    tenths = np.rint(np.clip(np.asarray(image, dtype=float), 0.0, 25.5) / PIXEL_STEP).astype(int)
    return "".join(f"{v:02x}" for v in tenths.ravel())


def latent_explorer(model, means, labels, extent: float = 3.0, lang: str = "pt", n: int = 21,
                    vmax: float = 16.0, checks=((0, 0), (10, 10), (20, 5))) -> Explorer:
    """The latent walker: a point on the latent plane (drag, arrow keys or two sliders) and its decoding.

    Parameters
    ----------
    model
        A trained VAE with a 2-D latent (``decode(z)``).
    means : Tensor [m, 2]
        Encoded means of test points, drawn behind (rounded to 0.01).
    labels : Tensor [m]
        Their classes 0–9 (colours of :data:`DIGIT_COLORS`).
    extent : float
        The plane shown is [−extent, extent]².
    lang : {"pt", "en"}
    n : int
        Grid points per axis (21 → steps of 0.3 on [−3, 3]).
    vmax : float
        Grey level drawn black.
    checks : sequence of (row, column)
        Grid points whose decodings the payload repeats at full precision (``checks``) for tests.

    Returns
    -------
    Explorer
        Kind ``"latent"``; live twin :func:`vae_support.widgets.latent_walker`.
    """
    check_lang(lang)
    means = as_tensor("means", means, dtype=torch.float64)
    labels = as_tensor("labels", labels, dtype=torch.int64)
    if means.dim() != 2 or means.shape[1] != 2 or labels.shape != means.shape[:1]:
        raise ValueError(f"means, labels: expected shapes [m, 2] and [m], got {tuple(means.shape)}, {tuple(labels.shape)}")
    if labels.numel() and (labels.min() < 0 or labels.max() >= len(DIGIT_COLORS)):
        raise ValueError("labels: expected classes 0..9")
    side, images = latent_grid(model, extent, n)
    data = {
        "extent": float(extent), "n": n, "side": side, "vmax": float(vmax), "step": PIXEL_STEP,
        "shape": list(images.shape[-2:]),
        "images": [encode_pixels(images[i, j]) for i in range(n) for j in range(n)],
        "means": np.round(means.numpy(), 2), "labels": labels.tolist(), "colors": list(DIGIT_COLORS),
        "checks": [{"z": [float(side[j]), float(side[i])], "image": images[i, j].ravel()} for i, j in checks],
    }

    def live():
        from ..widgets import latent_walker

        return latent_walker(model, means=means, labels=labels, extent=extent, lang=lang)

    title = tr(lang, "Passeio pelo plano latente: o dígito decodificado em cada ponto",
               "Walk on the latent plane: the decoded digit at each point")
    return Explorer("latent", data, lang=lang, title=title, live=live, digits=5)
