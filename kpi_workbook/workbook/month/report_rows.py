"""The report's rows in one compact part, for approve and payroll of a report as written.

At 100,000 people the report's 月度汇总 is 100 MB of sheet XML: reading it back, even in one
regular-expression pass, takes seconds. So the report writer also puts into the same file,
as the zip member :data:`PART`, the rows of 月度汇总 exactly as :func:`sheet_rows.read_written`
reads them from the sheet (header first), and each complete card's 岗位ID as
:func:`calibration.card_roles` reads it from the 校准 sheet — one JSON text each.

The part is a view, never a source: it is read only where the report is byte for byte the
file the history's 计算记录 names (``approval.as_recorded``: the file digest covers every
member, this one too), where the sheet itself would be taken unchecked; anywhere else the
sheets are read as before. An ``.xml`` member is typed by the package's Default content
type and, referenced by no relationship, ignored by Excel, WPS and LibreOffice.

Reading is bounded and takes one form only: the part within the package's limits, its
bytes exactly the head, two JSON texts holding no ``<`` or ``&`` (so no element, entity or
declaration — no XML parser runs) and the tail; the rows a list of at most the limit's rows
of flat lists of numbers (finite; whole ones below 2**53 as ints, as read_written gives
them), texts, booleans and None, the roles an object of texts (no NaN or
Infinity constants, no nesting). Anything else, and the caller reads the sheets.
"""

from __future__ import annotations

import itertools
import json
import operator
import re

PART = "customXml/kpi-rows.xml"
VERSION = "1"
_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         f'<kpiRows xmlns="urn:kpi-workbook:report-rows" version="{VERSION}"><rows>').encode()
_MIDDLE = b"</rows><roles>"
_TAIL = b"</roles></kpiRows>"
_SCALARS = frozenset((int, float, str, bool, type(None)))
_WHOLE = 2**53  # read_written: a whole number below it is an int


def _json(value) -> bytes:
    """``value`` as JSON text without ``<``, ``>`` or ``&``: in JSON they occur only inside
    strings, where a \\u escape says the same."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e").encode("utf-8")


def compact_part(rows: list[list[object]], roles: dict[str, str]) -> bytes:
    """The part holding ``rows`` (月度汇总 as read back) and ``roles`` (工号 → 岗位ID)."""
    return b"".join((_HEAD, _json(rows), _MIDDLE, _json(roles), _TAIL))


def _refuse_constant(name: str):
    raise ValueError(name)


def _numbers_as_read(cells: list[object], kinds: list[type]) -> bool:
    """Whether every number of ``cells`` (of types ``kinds``) is one read_written gives: a
    whole one an int below 2**53, any other a finite float that is not whole below 2**53
    (1e400 is infinite, 300.0 would have read as 300). Each cell visited by C loops (chain,
    map, compress), the numbers checked together: max/min of the ints, numpy of the floats."""
    import numpy as np

    ints: list[int] = list(itertools.compress(cells, map(operator.is_, kinds, itertools.repeat(int))))  # type: ignore[arg-type]
    if ints and (max(ints) >= _WHOLE or min(ints) <= -_WHOLE):
        return False
    floats = np.fromiter(itertools.compress(cells, map(operator.is_, kinds, itertools.repeat(float))), dtype=np.float64)
    return bool(np.isfinite(floats).all()) and not bool(((floats == np.trunc(floats)) & (abs(floats) < _WHOLE)).any())


# a decimal point counted as a digit: 99999999.000000001 is one run of 18, a float that
# rounds to a whole number (refused) however its digits are split by the point
_NINES = bytes.maketrans(b"0123456789.", b"9" * 11)
_WHOLE_FRACTION = re.compile(rb"\.0+(?![0-9])")


def _no_number_to_check(text: bytes) -> bool:
    """Whether the JSON ``text`` plainly holds no number read_written would not give, from its
    bytes alone: no run of 16 digits and points (every int is below 10**15 < 2**53; a decimal
    of 16 significant digits may round to a whole float), no digit followed by
    an exponent, and no fraction of zeros only (so every float is finite and not whole). A
    string holding such characters only makes the numbers be checked one by one."""
    digits = text.translate(_NINES)
    return not (b"9" * 16 in digits or b"9e" in digits or b"9E" in digits or
                (b".0" in text and _WHOLE_FRACTION.search(text)))


def parse_part(data: bytes, max_rows: int) -> tuple[list[list[object]], dict[str, str]] | None:
    """(rows, roles) of a part of exactly the form :func:`compact_part` writes; None for
    anything else. The JSON texts parsed by the C decoder as they are (a number of more digits
    than Python converts is an error; NaN and Infinity constants refused), their numbers
    checked after (_numbers_as_read) unless the text plainly holds none to check."""
    if not (data.startswith(_HEAD) and data.endswith(_TAIL)):
        return None
    body = data[len(_HEAD):len(data) - len(_TAIL)]
    if body.count(_MIDDLE) != 1 or b"<" in body.replace(_MIDDLE, b"", 1) or b"&" in body:
        return None
    rows_text, roles_text = body.split(_MIDDLE)
    if not rows_text.startswith(b"[") or not roles_text.startswith(b"{"):
        return None
    try:
        rows = json.loads(rows_text, parse_constant=_refuse_constant)
        roles = json.loads(roles_text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):  # RecursionError: nested past the interpreter's depth
        return None
    if type(rows) is not list or len(rows) > max_rows or type(roles) is not dict:
        return None
    if not {list}.issuperset(map(type, rows)):
        return None
    cells = list(itertools.chain.from_iterable(rows))
    kinds = list(map(type, cells))
    if not _SCALARS.issuperset(kinds):
        return None  # a nested list or object: not of this form
    if not _no_number_to_check(rows_text) and not _numbers_as_read(cells, kinds):
        return None
    if not all(type(v) is str for v in roles.values()):
        return None
    return rows, roles


def read_part(package) -> tuple[list[list[object]], dict[str, str]] | None:
    """(rows, roles) from the opened report ``package`` (xlsx.package.Book), read within its
    limits; None when it has no such part or one of another form."""
    if not package.has(PART):
        return None
    return parse_part(package.read(PART), package.limits.rows)
