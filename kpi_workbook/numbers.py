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
from typing import TYPE_CHECKING

from .diagnostics import Bilingual
from .limits import BY_NAME as LIMITS

if TYPE_CHECKING:  # numpy is imported where an array is rounded: `roles` starts without it
    import numpy as np

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
    """ROUND(ROUND(value, 9), digits): the form every score and amount uses.

    A float below FAST_LIMIT whose 9th decimal is not near a half is rounded in integer
    steps as :func:`clean_round_array` does (the same arithmetic, so the same double), its
    sign kept as the exact path keeps it (-0.001 to 2 decimals is -0.0); any other value
    takes the exact path through Decimal."""
    if type(value) is float and digits < NOISE_DIGITS:
        size = abs(value)
        if size < FAST_LIMIT:
            y = size * 1e9
            if abs(y - math.floor(y) - 0.5) > 0.1:
                k = float(math.floor(y + 0.5))  # ROUND(|x|, 9) × 1e9, an exact integer
                step = 10.0 ** (NOISE_DIGITS - digits)
                m = float(math.floor(k / step))
                m += 2 * (k - m * step) >= step  # half away from zero
                return math.copysign(m / 10.0 ** digits, value)
    return excel_round(excel_round(value, NOISE_DIGITS), digits)


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
    import numpy as np

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
        out[slow] = np.frompyfunc(clean_round, 2, 1)(values[slow], digits).astype(float)
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
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?%?$")  # 1,200 and 1,234,567.5
# Characters XML 1.0 cannot hold (a workbook with one cannot be opened by anyone).
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_escape(text: str, entities: dict[str, str] | None = None) -> str:
    """``xml.sax.saxutils.escape``: &, > and < (then ``entities``) as XML wants them, without
    importing saxutils (it imports urllib.request and http.client: 10-15 ms of every report)."""
    text = text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
    for key, value in (entities or {}).items():
        text = text.replace(key, value)
    return text


def xml_unescape(text: str, entities: dict[str, str] | None = None) -> str:
    """``xml.sax.saxutils.unescape``: the reverse of :func:`xml_escape`, &amp; last."""
    text = text.replace("&lt;", "<").replace("&gt;", ">")
    for key, value in (entities or {}).items():
        text = text.replace(key, value)
    return text.replace("&amp;", "&")
# A yes/no answer in a data file, a roster or JSON: what a scorecard's yes/no cell accepts
# (是/否, 有/无, Y/N, 1/0, √/✓, ×/✗; kinds.base.YES_TEXTS) and the unambiguous English words a
# program writes (yes/no, true/false). "x" and other look-alikes are refused, never guessed.
YES_WORDS = frozenset({"是", "有", "y", "1", "√", "✓", "yes", "true"})
NO_WORDS = frozenset({"否", "无", "n", "0", "×", "✗", "no", "false"})


class ParseError(Bilingual):
    """A typed value that is not of the expected form; the message says what was expected."""


def normalise_text(text: str) -> str:
    """Full-width digits, signs and spaces to ASCII (NFKC), trimmed."""
    if text.isascii():  # NFKC leaves ASCII as it is
        return text.strip()
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
        if isinstance(value, int) and abs(value) > 10**300 or not math.isfinite(float(value)):
            raise ParseError("需要有限的数字", "expected a finite number")
        return float(value)
    if not isinstance(value, str):
        raise ParseError(f"需要数字，得到 {type(value).__name__}", f"expected a number, got {type(value).__name__}")
    text = normalise_text(value).replace(" ", "")
    if "," in text:
        if not _GROUPED.match(text):  # "9,5": a decimal comma, or a typo of 95?
            raise ParseError(f"“{value}”有歧义：小数点请用“.”，千位分隔符“,”须每三位一组",
                             f"'{value}' is ambiguous: use '.' for decimals, and ',' only between "
                             "groups of three digits")
        text = text.replace(",", "")
    scale = 1.0
    if text.endswith("%"):
        text, scale = text[:-1], 0.01
    if len(text) > 400 or not _NUMBER.match(text):
        raise ParseError(f"“{value}”不是数字", f"'{value}' is not a number")
    number = float(Decimal(text) * Decimal(str(scale)))
    if not math.isfinite(number):
        raise ParseError(f"“{value}”超出数字范围", f"'{value}' is out of the range of numbers")
    return number


# A monthly amount (base salary, bonus base Q) above this is a typo or an attack: a trillion
# yuan is far beyond any salary, and far below where products of amounts overflow (the
# table of limits, limits.py).
MAX_MONEY = float(LIMITS["money"].value or 0)


def parse_money(value: object) -> float:
    """A money amount: a number (as :func:`parse_number`) of at most MAX_MONEY in size."""
    number = parse_number(value)
    if abs(number) > MAX_MONEY:
        raise ParseError(f"金额 {value} 过大（上限 {MAX_MONEY:,.0f}）",
                         f"the amount {value} is too large (at most {MAX_MONEY:,.0f})")
    return number


def parse_flag(value: object) -> bool:
    """A yes/no answer: 是/否, 有/无, Y/N, 1/0, √/✓, ×/✗ (and yes/no, true/false)."""
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
    raise ParseError(f"“{value}”不是 是/否（可用 是/否、有/无、Y/N、1/0、√/✓、×/✗）",
                     f"'{value}' is not yes/no (是/否, 有/无, Y/N, 1/0, √/✓ or ×/✗)")


def is_blank(value: object) -> bool:
    """An empty cell: None, NaN or whitespace-only text."""
    if value is None:
        return True
    if type(value) is float:  # the common case first: a number read from a cell
        return value != value
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not normalise_text(value)


# ---------------------------------------------------------------------------------------
# The one month parser: every command, cell and file reads a month through parse_month.

_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?(?:\s*[-/.]\s*\d{1,2}\s*日?)?"
                    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_COMPACT_MONTH = re.compile(r"(\d{4})(\d{2})")
EXCEL_EPOCH = (1899, 12, 30)  # serial 1 is 1900-01-01 (Excel's 1900 leap-year bug aside)


def parse_month(value: object) -> str:
    """"YYYY-MM" from 2026-10, 2026/10, 2026.10, 2026年10月, 202610, a date or datetime, a
    date text (2026-10-01) or an Excel date serial (46296 is 2026-10-01); ParseError else."""
    import datetime as dt

    if isinstance(value, (dt.date, dt.datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, bool):
        raise ParseError(f"月份须为 YYYY-MM，得到 “{value}”", f"month must be YYYY-MM, got '{value}'")
    if isinstance(value, (int, float)):
        number = float(value) if not isinstance(value, int) or abs(value) < 10**300 else math.inf
        if math.isfinite(number) and number.is_integer() and 190001 <= number <= 299912 \
                and 1 <= int(number) % 100 <= 12:
            return f"{int(number) // 100:04d}-{int(number) % 100:02d}"
        if math.isfinite(number) and 1 <= number < 2958466:  # Excel's dates: 1900 … 9999
            day = dt.date(*EXCEL_EPOCH) + dt.timedelta(days=int(number))
            return f"{day.year:04d}-{day.month:02d}"
        raise ParseError(f"月份须为 YYYY-MM，得到 {value!r}", f"month must be YYYY-MM, got {value!r}")
    text = normalise_text(str(value if value is not None else ""))[:40]
    match = _MONTH.fullmatch(text) or _COMPACT_MONTH.fullmatch(text)
    if match and 1 <= int(match.group(2)) <= 12:
        return f"{int(match.group(1)):04d}-{int(match.group(2)):02d}"
    raise ParseError(f"月份须为 YYYY-MM，得到 “{text}”", f"month must be YYYY-MM, got '{text}'")
