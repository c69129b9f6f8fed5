"""Excel-compatible rounding and the parsing of numbers people type.

Excel's ROUND is half away from zero on the value first taken to 15 significant digits, so
ROUND(2.675, 2) is 2.68 although the binary double is 2.67499999999999982236431605997495353221893310546875.
Python's round() is banker's rounding on the exact binary value: it gives 2.67. Every
rounding in this project goes through :func:`excel_round`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np

from .diagnostics import Bilingual

# Scores and money carry only a few real decimals; rounding to 9 first removes the binary
# noise on which spreadsheet engines disagree (0.285*100 = 28.499999999999996): see the
# digest, general semantics 6. The generated formulas do exactly the same.
NOISE_DIGITS = 9
TOTAL_DIGITS = 1
MONEY_DIGITS = 2


def excel_round(value: float, digits: int = 0) -> float:
    """ROUND(value, digits) as Excel computes it.

    NaN and infinities pass through unchanged (an empty or broken cell stays so).
    """
    if value is None:
        return math.nan
    value = float(value)
    if not math.isfinite(value):
        return value
    # '%.15g' is the 15-significant-digit value Excel works with.
    exact = Decimal(format(value, ".15g"))
    quantum = Decimal(1).scaleb(-digits)
    with localcontext() as ctx:
        ctx.prec = 400  # room for any double at any number of decimals (default 28 is not)
        return float(exact.quantize(quantum, rounding=ROUND_HALF_UP))


def clean_round(value: float, digits: int) -> float:
    """ROUND(ROUND(value, 9), digits): the form every score and amount uses."""
    return excel_round(excel_round(value, NOISE_DIGITS), digits)


_vector_clean_round = np.frompyfunc(clean_round, 2, 1)
# The vectorised path is exact below this magnitude: Excel's first step (15 significant
# digits) then moves x by at most 5e-11, i.e. 0.05 in units of the 9th decimal.
FAST_LIMIT = 1e5


def clean_round_array(values: np.ndarray, digits: int) -> np.ndarray:
    """:func:`clean_round` over an array (totals and money: one per employee), exactly.

    k = ROUND(|x|·1e9) is an integer below 2**53, so it is computed exactly wherever the 9th
    decimal of x is not near a half (where the 15-digit step could decide differently);
    rounding k to a multiple of 10**(9 - digits) is integer arithmetic, and the final
    division gives the double nearest the decimal, as float(Decimal) does. Values near such
    a half, large values and digits ≥ 9 take the exact scalar path.
    """
    values = np.asarray(values, dtype=float)
    out = np.full(values.shape, np.nan)
    y = np.abs(values) * 1e9
    fraction = y - np.floor(y)
    fast = (np.abs(values) < FAST_LIMIT) & (np.abs(fraction - 0.5) > 0.1) & (digits < 9)
    k = np.floor(y[fast] + 0.5)  # ROUND(|x|, 9) × 1e9, an exact integer
    step = 10.0 ** (9 - digits)
    m = np.floor(k / step)
    rest = k - m * step  # exact: both terms are integers below 2**53
    m = m + (2 * rest >= step)  # half away from zero
    out[fast] = np.sign(values[fast]) * m / 10.0 ** digits
    slow = ~fast & ~np.isnan(values)
    if slow.any():
        out[slow] = _vector_clean_round(values[slow], digits).astype(float)
    return out + 0.0  # no negative zeros


def round_total(value: float) -> float:
    return clean_round(value, TOTAL_DIGITS)


def round_money(value: float) -> float:
    return clean_round(value, MONEY_DIGITS)


def number_text(value: float) -> str:
    """The shortest text that reads back as exactly this number (20, 0.38, 1e-05): what
    formulas and messages show. ``repr`` of a float round-trips exactly."""
    value = float(value)
    return repr(value).removesuffix(".0") if value.is_integer() else repr(value)


# ---------------------------------------------------------------------------------------
# Parsing what people type: "38%", "38.5 %", full-width "３８％", "1,200", "是"/"否".

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
YES_WORDS = frozenset({"是", "有", "yes", "y", "true", "1", "√", "✓", "x", "对"})
NO_WORDS = frozenset({"否", "无", "no", "n", "false", "0", "×", "", "不"})


class ParseError(Bilingual):
    """A typed value that is not of the expected form; the message says what was expected."""


def normalise_text(text: str) -> str:
    """Full-width digits, signs and spaces to ASCII (NFKC), trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_number(value: object, *, percent: bool = False) -> float:
    """A number from a cell or JSON value.

    Bare numbers are taken literally (a percent cell holds 0.38 for 38%). Text may carry a
    trailing ``%`` (then divided by 100), thousands separators and full-width characters.
    ``percent`` only documents intent: a bare 38 for a percent input stays 38, and the
    declared range of the input is what catches it.
    """
    del percent  # the rule is the same either way; see the docstring
    if isinstance(value, bool):
        raise ParseError("需要数字，而不是是/否", "expected a number, not a yes/no")
    if isinstance(value, (int, float)):
        if not math.isfinite(float(value)):
            raise ParseError("需要有限的数字", "expected a finite number")
        return float(value)
    if not isinstance(value, str):
        raise ParseError(f"需要数字，得到 {type(value).__name__}", f"expected a number, got {type(value).__name__}")
    text = normalise_text(value).replace(",", "").replace(" ", "")
    scale = 1.0
    if text.endswith("%"):
        text, scale = text[:-1], 0.01
    if not _NUMBER.match(text):
        raise ParseError(f"“{value}”不是数字", f"'{value}' is not a number")
    return float(Decimal(text) * Decimal(str(scale)))


def parse_flag(value: object) -> bool:
    """A yes/no answer: 是/否, yes/no, 1/0, true/false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = normalise_text(value).lower()
        if word in YES_WORDS:
            return True
        if word in NO_WORDS:
            return False
    raise ParseError(f"“{value}”不是 是/否", f"'{value}' is not yes/no (是/否)")


def is_blank(value: object) -> bool:
    """An empty cell: None, NaN or whitespace-only text."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not normalise_text(value)
