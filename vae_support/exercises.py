r"""Numeric answers of the book's exercises, computed by the package and checked against the reader's.

Every chapter has at least one exercise whose answer is a number. Right after the exercise, a
code cell tagged ``hide-cell`` (collapsed on the site: the reader opens it after trying)
computes the answer with the package and calls :func:`numeric_answer`, which prints it rounded::

    answer = numeric_answer("ex-kl-two-gaussians", kl_normal(...), tolerance=5e-3, unit="nats", lang=LANG)

A reader with a kernel checks a value of their own with :func:`check_answer`::

    check_answer(answer, 0.443)   # prints whether it is within the tolerance, returns True/False

The answer is never typed: it is what the package computes, so the printed value is checked by
nbval like any other output.
"""
from __future__ import annotations

import math
from typing import NamedTuple

from .plot._style import check_lang, tr

__all__ = ["NumericAnswer", "numeric_answer", "check_answer", "format_number"]


class NumericAnswer(NamedTuple):
    """The answer of exercise ``label``: ``value`` ± ``tolerance`` (absolute), in ``unit``."""

    label: str
    value: float
    tolerance: float
    unit: str
    lang: str


def format_number(value: float, digits: int, lang: str) -> str:
    """``value`` with ``digits`` significant digits, with a decimal comma in Portuguese (``0,4431``)."""
    check_lang(lang)
    text = f"{value:.{digits}g}"
    return text.replace(".", ",") if lang == "pt" else text


def _digits_for(tolerance: float, value: float) -> int:
    """Significant digits that show ``value`` one decimal place finer than ``tolerance``."""
    if value == 0:
        return 2
    magnitude = math.floor(math.log10(abs(value)))
    finest = math.floor(math.log10(tolerance)) - 1
    return max(2, min(8, magnitude - finest + 1))


def numeric_answer(label: str, value, *, tolerance: float, unit: str = "", lang: str = "pt",
                   show: bool = True) -> NumericAnswer:
    """Record (and print) the answer of exercise ``label``.

    Parameters
    ----------
    label : str
        The exercise's label (``ex-...``), as in ``:label:`` of the ``{exercise}`` directive.
    value : float or one-element tensor
        The answer, computed by the package.
    tolerance : float
        Absolute tolerance a reader's answer may be off by (> 0): the rounding the exercise asks
        for, or the Monte Carlo error of an estimate.
    unit : str
        Printed after the value ("nats", "bits", ""...).
    lang : {"pt", "en"}
    show : bool
        Print ``"Resposta de ex-...: 0,4431 nats (tolerância ±0,005)"``.

    Returns
    -------
    NumericAnswer
    """
    check_lang(lang)
    if not isinstance(label, str) or not label.startswith("ex-"):
        raise ValueError(f"label: expected an exercise label starting with 'ex-', got {label!r}")
    try:
        number = float(value)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"value: expected a number or a one-element tensor, got {type(value).__name__}") from err
    if not math.isfinite(number):
        raise ValueError(f"value: expected a finite number, got {number}")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not tolerance > 0 \
            or not math.isfinite(tolerance):
        raise ValueError(f"tolerance: expected a positive finite number, got {tolerance!r}")
    answer = NumericAnswer(label, number, float(tolerance), unit, lang)
    if show:
        digits = _digits_for(answer.tolerance, number)
        shown = format_number(number, digits, lang)
        tol = format_number(answer.tolerance, 2, lang)
        suffix = f" {unit}" if unit else ""
        print(tr(lang, f"Resposta de {label}: {shown}{suffix} (tolerância ±{tol})",
                 f"Answer of {label}: {shown}{suffix} (tolerance ±{tol})"))
    return answer


def check_answer(answer: NumericAnswer, yours) -> bool:
    """Print whether ``yours`` is within ``answer.tolerance`` of ``answer.value``; return it.

    The printed verdict does not reveal the answer when the reader is off: it says by how much
    and in which direction.
    """
    if not isinstance(answer, NumericAnswer):
        raise TypeError(f"answer: expected the NumericAnswer of numeric_answer(), got {type(answer).__name__}")
    try:
        mine = float(yours)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"yours: expected a number, got {type(yours).__name__}") from err
    lang = answer.lang
    if not math.isfinite(mine):
        print(tr(lang, "Sua resposta não é um número finito.", "Your answer is not a finite number."))
        return False
    off = mine - answer.value
    if abs(off) <= answer.tolerance:
        print(tr(lang, f"Certo: {answer.label} dentro da tolerância.", f"Right: {answer.label} within tolerance."))
        return True
    direction = tr(lang, "acima", "above") if off > 0 else tr(lang, "abaixo", "below")
    times = format_number(abs(off) / answer.tolerance, 2, lang)
    print(tr(lang, f"Ainda não: {times}× a tolerância {direction} da resposta de {answer.label}.",
             f"Not yet: {times}× the tolerance {direction} the answer of {answer.label}."))
    return False
