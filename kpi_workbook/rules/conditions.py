"""Band conditions: ``>= 38%``, ``< 20``, ``== 0``, ``[20, 30)``, ``else``.

A condition is parsed once from the template text into a :class:`Condition`; the engine
evaluates it over arrays, the linter turns it into an interval, and the workbook layer
turns it into a formula. Percent signs in the text are accepted (``>= 38%`` is 0.38), as
percent metrics are stored as fractions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..numbers import ParseError, normalise_text, number_text, parse_number

if TYPE_CHECKING:  # numpy where a mask is made, portion where an interval is (lint): every
    import numpy as np  # command starts without them
    import portion as P

OPERATORS = (">=", "<=", "==", ">", "<")
_RANGE = re.compile(r"^([\[(])\s*([^,]+?)\s*,\s*([^\])]+?)\s*([\])])$")


@dataclass(frozen=True)
class Condition:
    op: str  # one of OPERATORS, "range" or "else"
    value: float | None = None  # for the comparison operators
    lo: float | None = None  # for "range"
    hi: float | None = None
    lo_closed: bool = True
    hi_closed: bool = False

    @classmethod
    def parse(cls, text: object) -> Condition:
        if isinstance(text, Condition):
            return text
        if not isinstance(text, str):
            raise ValueError(
                f"条件须为文本，如 '>= 38%' 或 '[20, 30)'，得到 {text!r} / "
                f"a condition must be text such as '>= 38%' or '[20, 30)', got {text!r}"
            )
        raw = normalise_text(text).replace("≥", ">=").replace("≤", "<=").replace("＝", "=")
        if raw.lower() in ("else", "其他", "其余"):
            return cls("else")
        for op in OPERATORS:
            if raw.startswith(op):
                return cls(op, value=_number(raw[len(op):], text))
        match = _RANGE.match(raw)
        if match:
            lo, hi = _number(match.group(2), text), _number(match.group(3), text)
            if lo > hi:
                raise ValueError(f"区间下限大于上限：{text} / range low end above high end: {text}")
            return cls("range", lo=lo, hi=hi, lo_closed=match.group(1) == "[",
                       hi_closed=match.group(4) == "]")
        raise ValueError(
            f"无法识别的条件 '{text}'；应为 >=、>、<=、<、== 加数值，区间 [lo, hi)，或 else / "
            f"unrecognised condition '{text}': expected >=, >, <=, <, == and a number, "
            f"a range [lo, hi), or else"
        )

    def __str__(self) -> str:
        if self.op == "else":
            return "else"
        if self.op == "range":
            return (f"{'[' if self.lo_closed else '('}{_bound(self.lo)}, "
                    f"{_bound(self.hi)}{']' if self.hi_closed else ')'}")
        return f"{self.op} {_bound(self.value)}"

    def matches(self, values: np.ndarray) -> np.ndarray:
        """Boolean mask of the values this condition matches (NaN never matches)."""
        import numpy as np

        v = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            if self.op == "else":
                return ~np.isnan(v)
            if self.op == ">=":
                return v >= self.value
            if self.op == ">":
                return v > self.value
            if self.op == "<=":
                return v <= self.value
            if self.op == "<":
                return v < self.value
            if self.op == "==":
                return v == self.value
            low = v >= self.lo if self.lo_closed else v > self.lo
            high = v <= self.hi if self.hi_closed else v < self.hi
            return low & high

    def interval(self) -> P.Interval:
        """The set of numbers matched, for gap and overlap analysis."""
        import portion as P

        if self.op == "else":
            return P.open(-P.inf, P.inf)
        if self.op == ">=":
            return P.closedopen(self.value, P.inf)
        if self.op == ">":
            return P.open(self.value, P.inf)
        if self.op == "<=":
            return P.openclosed(-P.inf, self.value)
        if self.op == "<":
            return P.open(-P.inf, self.value)
        if self.op == "==":
            return P.singleton(self.value)
        return P.Interval.from_atomic(P.CLOSED if self.lo_closed else P.OPEN, self.lo, self.hi,
                             P.CLOSED if self.hi_closed else P.OPEN)

    def formula(self, ref: str) -> str:
        """The spreadsheet test of ``ref`` (a cell reference) against this condition."""
        if self.op == "else":
            return "TRUE"
        if self.op == "range":
            low = f"{ref}{'>=' if self.lo_closed else '>'}{_bound(self.lo)}"
            high = f"{ref}{'<=' if self.hi_closed else '<'}{_bound(self.hi)}"
            return f"AND({low},{high})"
        op = "=" if self.op == "==" else self.op
        return f"{ref}{op}{_bound(self.value)}"


def _number(text: str, whole: str) -> float:
    try:
        return parse_number(text.strip())
    except ParseError as exc:
        raise ValueError(f"条件 '{whole}' 中的数值无效 / bad number in condition '{whole}'") from exc


def _bound(value: float | None) -> str:
    """A number of a condition as text; ``parse`` sets the ones its op needs."""
    if value is None:
        raise TypeError("a comparison or range condition without its number")
    return number_text(value)
