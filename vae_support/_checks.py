"""Input validation shared by every module: one clear ``ValueError`` per kind of bad input.

Every public function of ``vae_support`` validates its arguments through these helpers so that
bad input fails at once with a message naming the argument and what was expected, never with a
silent NaN further down.
"""
from __future__ import annotations

import torch


def as_tensor(name: str, value, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Return ``value`` as a floating tensor, or raise ``TypeError`` naming ``name``."""
    if isinstance(value, torch.Tensor):
        t = value
    else:
        try:
            t = torch.as_tensor(value, dtype=dtype or torch.get_default_dtype())
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"{name}: expected a tensor or array of numbers, got {type(value).__name__}") from err
    if not t.is_floating_point():
        t = t.to(dtype or torch.get_default_dtype())
    return t


def check_finite(name: str, t: torch.Tensor) -> torch.Tensor:
    """Raise ``ValueError`` if ``t`` holds NaN or infinite entries."""
    if not torch.isfinite(t).all():
        bad = int((~torch.isfinite(t)).sum())
        raise ValueError(f"{name}: expected finite values, found {bad} NaN/inf entries")
    return t


def check_positive(name: str, t: torch.Tensor) -> torch.Tensor:
    """Raise ``ValueError`` unless every entry of ``t`` is finite and strictly positive."""
    check_finite(name, t)
    if not (t > 0).all():
        raise ValueError(f"{name}: expected strictly positive values, found min {float(t.min()):.4g}")
    return t


def check_min_dim(name: str, t: torch.Tensor, ndim: int, meaning: str) -> torch.Tensor:
    """Raise ``ValueError`` if ``t`` has fewer than ``ndim`` dimensions; ``meaning`` names them."""
    if t.dim() < ndim:
        raise ValueError(f"{name}: expected at least {ndim} dimension(s) {meaning}, got shape {tuple(t.shape)}")
    return t


def check_same_shape(**tensors: torch.Tensor) -> None:
    """Raise ``ValueError`` unless all keyword tensors have the same shape, naming each."""
    shapes = {name: tuple(t.shape) for name, t in tensors.items()}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"{n} {s}" for n, s in shapes.items())
        raise ValueError(f"expected equal shapes, got {listed}")


def check_broadcastable(**tensors: torch.Tensor) -> torch.Size:
    """Return the broadcast shape of the keyword tensors, or raise ``ValueError`` naming them."""
    try:
        return torch.broadcast_shapes(*(t.shape for t in tensors.values()))
    except RuntimeError as err:
        listed = ", ".join(f"{n} {tuple(t.shape)}" for n, t in tensors.items())
        raise ValueError(f"shapes cannot be broadcast together: {listed}") from err


def check_integer(name: str, value, minimum: int = 1) -> int:
    """Return ``value`` as ``int``, or raise ``ValueError`` unless it is an integer ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) and not (isinstance(value, torch.Tensor) and value.dim() == 0 and not value.is_floating_point()):
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
    return value


def check_nonnegative_scalar(name: str, value) -> float:
    """Return ``value`` as ``float``, or raise ``ValueError`` unless it is finite and ``>= 0``."""
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}: expected a non-negative number, got {value!r}") from err
    if not (v >= 0 and v < float("inf")):
        raise ValueError(f"{name}: expected a finite non-negative number, got {value!r}")
    return v
