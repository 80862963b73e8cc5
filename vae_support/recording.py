"""Record values and figures for the book's text, with or without the site builder.

The book's prose never types a number: a code cell records it under a name, and the page
inserts it with ``{glue:text}`name:.4g` `` (myst-nb's *glue*). Recording goes through this
module so that a chapter runs with the package alone:

* where myst-nb is installed (the course's pinned environment, which builds the site), each
  value is stored with ``myst_nb.glue(name, value, display=False)``: an invisible output that
  the site reads;
* elsewhere (Colab, Binder without the book extra, a plain venv) nothing is stored and nothing
  is shown, except figures, which are displayed so that the reader still sees them.

One call records several values::

    record(kl_pq=kl_pq, kl_qr=kl_qr)
    record({"fig-jensen": fig})          # names that are not Python identifiers

Values are recorded in the order given (keyword order is preserved).
"""
from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import Any

__all__ = ["record", "rounded", "glue_available"]


def glue_available() -> bool:
    """True when myst-nb is importable, i.e. the recorded values will reach the site."""
    return importlib.util.find_spec("myst_nb") is not None


def rounded(value: Any, digits: int = 4) -> float:
    """``value`` as a float rounded to ``digits`` significant digits (what the text prints).

    ``rounded(0.65461)`` is ``0.6546``. Accepts Python numbers, NumPy scalars and one-element
    tensors.
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits: expected a positive integer, got {digits!r}")
    try:
        number = float(value)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"value: expected a number or a one-element tensor, got {type(value).__name__}") from err
    return float(f"{number:.{digits}g}")


def _is_figure(value: Any) -> bool:
    return type(value).__name__ == "Figure" and hasattr(value, "savefig")


def _store(name: str, value: Any) -> None:
    from myst_nb import glue

    glue(name, value, display=False)


def _show(value: Any) -> None:
    from IPython.display import display

    display(value)


def record(values: Mapping[str, Any] | None = None, /, **named: Any) -> None:
    """Record each value under its name for the text; show figures where the site cannot.

    Parameters
    ----------
    values : mapping of str to object, optional
        Names that are not Python identifiers (``"fig-kl-geometry"``), recorded first.
    **named : object
        ``name=value`` pairs: numbers, strings, matplotlib figures, anything IPython can display.

    Raises
    ------
    TypeError
        If ``values`` is not a mapping, or a name is not a string.
    ValueError
        If a name is empty or given twice, or nothing is given.
    """
    if values is not None and not isinstance(values, Mapping):
        raise TypeError(f"values: expected a mapping of names to values, got {type(values).__name__}")
    items = list((values or {}).items())
    for name in named:
        if any(name == seen for seen, _ in items):
            raise ValueError(f"name {name!r} given twice")
    items += list(named.items())
    if not items:
        raise ValueError("record: expected at least one name=value pair")
    for name, _ in items:
        if not isinstance(name, str):
            raise TypeError(f"names: expected strings, got {type(name).__name__}")
        if not name.strip():
            raise ValueError("names: expected non-empty strings, got an empty name")
    store = glue_available()
    for name, value in items:
        if store:
            _store(name, value)
        elif _is_figure(value):
            _show(value)
