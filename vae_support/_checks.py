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
    if t.is_complex():
        raise TypeError(f"{name}: expected real numbers, got dtype {t.dtype}")
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


def check_real(name: str, value, minimum: float | None = None, maximum: float | None = None,
               inclusive: bool = True) -> float:
    """Return ``value`` as a finite ``float`` in [minimum, maximum] (open bounds if not ``inclusive``).

    Raises ``TypeError`` for a non-number (a string, a bool, a tensor of several entries) and
    ``ValueError`` for NaN, ±inf or a value out of range, naming ``name`` each time.
    """
    if isinstance(value, bool) or isinstance(value, torch.Tensor) and value.numel() != 1:
        raise TypeError(f"{name}: expected a real number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__} {value!r}") from err
    low = "[" if inclusive else "("
    high = "]" if inclusive else ")"
    where = f"{low}{'-inf' if minimum is None else minimum}, {'inf' if maximum is None else maximum}{high}"
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError(f"{name}: expected a finite number in {where}, got {value!r}")
    below = minimum is not None and (v < minimum if inclusive else v <= minimum)
    above = maximum is not None and (v > maximum if inclusive else v >= maximum)
    if below or above:
        raise ValueError(f"{name}: expected a number in {where}, got {value!r}")
    return v


def check_no_nan(**tensors: torch.Tensor) -> None:
    """Raise ``ValueError`` naming the first keyword tensor that holds NaN (one check for all of them)."""
    if not any(bool(torch.isnan(t).any()) for t in tensors.values()):
        return
    name = next(n for n, t in tensors.items() if torch.isnan(t).any())
    raise ValueError(f"{name}: expected numbers, found {int(torch.isnan(tensors[name]).sum())} NaN entries")


def check_not_empty(name: str, t: torch.Tensor, dim: int, meaning: str) -> torch.Tensor:
    """Raise ``ValueError`` if dimension ``dim`` of ``t`` (described by ``meaning``) has size 0."""
    if t.shape[dim] == 0:
        raise ValueError(f"{name}: expected at least one {meaning}, got shape {tuple(t.shape)}")
    return t


def check_labels(name: str, labels) -> torch.Tensor:
    """Return integer class labels as an int64 tensor; floats must be whole numbers (no NaN, no 1.7)."""
    try:
        t = torch.as_tensor(labels)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{name}: expected integer class labels, got {type(labels).__name__}") from err
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{name}: expected integer class labels, got dtype {t.dtype}")
    if t.is_floating_point():
        if not torch.isfinite(t).all() or (t != t.round()).any():
            raise ValueError(f"{name}: expected whole-number class labels, got non-integer or NaN values")
    return t.to(torch.int64)


def cholesky(name: str, cov: torch.Tensor) -> torch.Tensor:
    """Cholesky factor of ``cov``, or ``ValueError`` if it is not a finite symmetric positive definite matrix."""
    check_finite(name, cov)
    if cov.dim() < 2 or cov.shape[-1] != cov.shape[-2]:
        raise ValueError(f"{name}: expected square matrices [..., d, d], got shape {tuple(cov.shape)}")
    if not torch.allclose(cov, cov.transpose(-1, -2), rtol=1e-5, atol=1e-8):
        raise ValueError(f"{name}: expected a symmetric covariance matrix")
    factor, info = torch.linalg.cholesky_ex(cov)
    if (info != 0).any():
        raise ValueError(f"{name}: expected a positive definite covariance matrix")
    return factor
