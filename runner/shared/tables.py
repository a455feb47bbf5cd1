"""Plain-text tables for the terminal (no dependency: the runner must start fast)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def number(value: float | int | None, digits: int = 3, suffix: str = "", none: str = "-") -> str:
    """A number for people: thousands separators, never exponent notation.

    Integers and values of 10**digits or more print whole (`100,000,000`, `8,894`); smaller
    ones keep `digits` significant digits without trailing zeros (`0.25`, `1.23`, `0.000012`).
    """
    if value is None:
        return none
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{value}{suffix}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value}{suffix}"
    if isinstance(value, int) or value.is_integer() or abs(value) >= 10 ** digits:
        return f"{value:,.0f}{suffix}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}{suffix}"


def truncate(text: str, width: int = 80) -> str:
    """One table cell at most `width` characters: longer text ends in an ellipsis (the whole
    text stays in the run log and result.json)."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
