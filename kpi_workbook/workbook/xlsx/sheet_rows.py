"""The cells of a report's big tables written as sheet XML directly, beside XlsxWriter.

XlsxWriter takes a Python call per cell to store it and several more to write it out: for
the 月度汇总 and 校准 tables of 1,000 scorecards (about 40,000 cells) that was a third of a
report's time. Here a sheet's cells and row heights are kept as ready XML, one string per
cell; XlsxWriter still writes everything else of the sheet (columns, panes, filters,
conditional formats, validations, print setup), with an empty ``<sheetData/>``, into
memory, and :func:`save` puts the rows in its place and the true ``<dimension>``.

A sheet given to :class:`SheetRows` takes every cell from it: :func:`save` refuses (as a
bug) a sheet whose XlsxWriter part holds cells of its own, so no cell is silently lost.
The cells are what XlsxWriter writes (numbers as ``%.16G``, NaN as an empty cell, a string
cut at Excel's 32,767 characters) but for three things: strings are inline
(``t="inlineStr"``) instead of shared; a character XML cannot hold (a control character) is
dropped, as in the scorecards (``clone.cell_xml``), where XlsxWriter writes Excel's
``_xHHHH_`` escape, which openpyxl does not read back from an inline string; and infinity
is the error value ``#NUM!``, not a formula ``1/0``.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
from xlsxwriter.utility import xl_col_to_name

from ...numbers import XML_ILLEGAL

_EMPTY_DATA = "<sheetData/>"
_DIMENSION = re.compile(r'<dimension ref="[^"]*"/>')
_EDGE_SPACE = re.compile(r"^\s|\s$")
CELL_TEXT_LIMIT = 32_767  # UTF-16 units Excel holds in one cell


def _style(fmt) -> str:
    """A format's index in styles.xml. XlsxWriter gives one to the formats it sees used by a
    cell; this asks for it the same way, so that styles.xml lists the format."""
    return f' s="{fmt._get_xf_index()}"' if fmt is not None else ""


_TEXTS: dict[str, str] = {}  # a short string → its ``<is>`` element (a table repeats its
_TEXTS_LIMIT = 50_000  # departments, roles, grades and states on every row)
_TEXT_CHARS = 200  # a longer string is written each time, never kept


def _inline(value: str) -> str:
    if len(value) > CELL_TEXT_LIMIT // 2:
        value = _truncated(value)
    space = ' xml:space="preserve"' if _EDGE_SPACE.search(value) else ""
    return f"<is><t{space}>{escape(XML_ILLEGAL.sub('', value))}</t></is>"


def cell(ref: str, style: str, value) -> str:
    """One ``<c>`` element as XlsxWriter's write_blank/number/string would give it."""
    kind = type(value)
    if kind is str:
        inline = _TEXTS.get(value)
        if inline is None:
            inline = _inline(value)
            if len(value) <= _TEXT_CHARS and len(_TEXTS) < _TEXTS_LIMIT:
                _TEXTS[value] = inline
        return f'<c r="{ref}"{style} t="inlineStr">{inline}</c>'
    if kind is float or kind is int or (isinstance(value, (int, float, np.integer, np.floating))
                                        and kind is not bool and not isinstance(value, np.bool_)):
        number = float(value)
        if number != number:  # NaN: an empty cell
            return f'<c r="{ref}"{style}/>'
        if math.isinf(number):
            return f'<c r="{ref}"{style} t="e"><v>#NUM!</v></c>'
        return f'<c r="{ref}"{style}><v>{number:.16G}</v></c>'
    if value is None:
        return f'<c r="{ref}"{style}/>'
    return cell(ref, style, str(value))


def _truncated(text: str) -> str:
    """At most Excel's 32,767 UTF-16 units in a cell, as XlsxWriter cuts a longer string."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > CELL_TEXT_LIMIT:
            return text[:i]
    return text


class SheetRows:
    """The cells and row heights of one worksheet (0-based rows and columns, as XlsxWriter)."""

    def __init__(self, worksheet) -> None:
        self.worksheet = worksheet
        self.rows: dict[int, dict[int, str]] = {}
        self.heights: dict[int, float] = {}
        self._columns: list[str] = []
        self.written: tuple[str, str] | None = None  # sheet_data() when taken already (not again)

    def _name(self, col: int) -> str:
        while len(self._columns) <= col:
            self._columns.append(xl_col_to_name(len(self._columns)))
        return self._columns[col]

    def write(self, row: int, col: int, value, fmt=None) -> None:
        self.rows.setdefault(row, {})[col] = cell(f"{self._name(col)}{row + 1}", _style(fmt), value)

    def write_row(self, row: int, col: int, values, fmt=None) -> None:
        style = _style(fmt)
        cells = self.rows.setdefault(row, {})
        for j, value in enumerate(values, start=col):
            cells[j] = cell(f"{self._name(j)}{row + 1}", style, value)

    def write_table_row(self, row: int, styled: list[tuple[int, str]], values) -> None:
        """One row of a table: ``styled`` is (column, style attribute) per value."""
        number = row + 1
        cells = self.rows.setdefault(row, {})
        names = self._columns
        if styled and len(names) <= max(col for col, _ in styled):
            self._name(max(col for col, _ in styled))
        for (col, style), value in zip(styled, values):
            cells[col] = cell(f"{names[col]}{number}", style, value)

    def styles(self, formats: list) -> list[str]:
        return [_style(fmt) for fmt in formats]

    def set_row(self, row: int, height: float) -> None:
        """A row's height in points, in whole pixels (¾ pt) as XlsxWriter's set_row."""
        self.heights[row] = 0.75 * int(height * 4.0 / 3.0 + 0.5)

    def sheet_data(self) -> tuple[str, str]:
        """(the dimension's range, the ``<sheetData>`` element)."""
        numbers = sorted(self.rows.keys() | self.heights.keys())
        if not numbers:
            return "A1", _EMPTY_DATA
        out = ["<sheetData>"]
        first_col, last_col = None, 0
        for r in numbers:
            height = self.heights.get(r)
            attrs = f' ht="{height:.16G}" customHeight="1"' if height is not None else ""
            cells = self.rows.get(r)
            if not cells:
                out.append(f'<row r="{r + 1}"{attrs}/>')
                continue
            cols = sorted(cells)
            first_col = cols[0] if first_col is None else min(first_col, cols[0])
            last_col = max(last_col, cols[-1])
            out.append(f'<row r="{r + 1}"{attrs}>')
            out.extend(cells[c] for c in cols)
            out.append("</row>")
        out.append("</sheetData>")
        top, bottom = numbers[0] + 1, numbers[-1] + 1
        if first_col is None:
            return f"A{top}:A{bottom}" if top != bottom else f"A{top}", "".join(out)
        first = f"{self._name(first_col)}{top}"
        last = f"{self._name(last_col)}{bottom}"
        return (first if first == last else f"{first}:{last}"), "".join(out)


def _with_rows(part: bytes, rows: SheetRows) -> bytes:
    xml = part.decode("utf-8")
    if xml.count(_EMPTY_DATA) != 1:
        raise AssertionError(f"sheet {rows.worksheet.name!r} has cells written past SheetRows")
    dimension, data = rows.written or rows.sheet_data()
    xml = xml.replace(_EMPTY_DATA, data)
    xml, found = _DIMENSION.subn(f'<dimension ref="{dimension}"/>', xml, count=1)
    if not found:
        raise AssertionError(f"sheet {rows.worksheet.name!r} has no dimension element")
    return xml.encode("utf-8")


def save(written: io.BytesIO, sheets: list[SheetRows], target: Path) -> None:
    """The package XlsxWriter wrote into ``written``, with each of ``sheets``' rows in place,
    as the file ``target`` (a temporary file of ``atomic_output``)."""
    by_part = {f"xl/worksheets/sheet{s.worksheet.index + 1}.xml": s for s in sheets}
    written.seek(0)
    with zipfile.ZipFile(written) as source, \
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename in by_part:
                data = _with_rows(data, by_part.pop(info.filename))
            out.writestr(info.filename, data)
    if by_part:
        raise AssertionError(f"parts not in the package: {sorted(by_part)}")


# --- reading back what this module wrote --------------------------------------------------------

_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def _entity(match: re.Match) -> str:
    return _ENTITIES[match.group(1)]


_PIECE = re.compile(r'<c r="(?P<ref>[A-Z]{1,3})(?P<row>[0-9]{1,7})"(?: s="[0-9]{1,6}")?(?: t="(?P<kind>[a-zA-Z]{1,9})")?'
                    r'(?:/>|><v>(?P<num>[^<]*)</v></c>|><is><t(?: xml:space="preserve")?>(?P<str>[^<]*)</t></is></c>)'
                    r'|<row r="[0-9]{1,7}"(?: spans="[0-9:]{1,20}")?(?: ht="[0-9.E+-]{1,24}" customHeight="1")?'
                    r'(?:/>|>)|</row>|\s+')
_STRAY_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def read_written(part: bytes, max_rows: int = 1_048_576) -> list[list[object]] | None:
    """The rows of a sheet part whose cells are of the forms this module writes (a
    ``<sheetData>`` of ``<row>`` elements holding :func:`cell` elements and ``t="b"``
    booleans, nothing else), as the package reader gives them (A1 first, numbers whole where
    they are, an empty inline string ""), in one linear pass. None when anything in the
    sheet's data is of another form — a comment, another entity, rich text, a formula, a
    repeated cell, more than ``max_rows`` rows — and then the caller reads the part with the
    package reader, which holds every other form and its limits."""
    start, end = part.find(b"<sheetData"), part.rfind(b"</sheetData>")
    if start < 0:
        return None
    if end < start:
        return [] if part.find(b"<sheetData/>", start) == start else None
    opening = part.find(b">", start)
    if part[start:opening + 1] != b"<sheetData>":
        return None
    text = part[opening + 1:end].decode("utf-8", errors="replace")
    if _STRAY_ENTITY.search(text):
        return None  # an entity this module never writes
    rows: list[list[object]] = []
    position = 0
    width = 0
    columns: dict[str, int] = {}  # letters → column number, worked out once
    last, mine = "", []  # the row of the cell before (its number as written, its values)
    for m in _PIECE.finditer(text):
        start, end = m.span()
        if start != position:
            return None  # something beside rows of such cells: not ours to read
        position = end
        letters, number_of_row, kind, number, string = m.groups()
        if letters is None:
            continue  # a row tag or white space
        col = columns.get(letters)
        if col is None:
            col = 0
            for ch in letters:
                col = col * 26 + ord(ch) - 64
            columns[letters] = col
        value: object
        if kind is None and number is not None:
            if number.isdigit() and len(number) < 16:
                value = int(number)  # a whole number, as float() and then int() would give it
            else:
                try:
                    x = float(number)
                except ValueError:
                    return None
                if not math.isfinite(x):
                    return None
                value = int(x) if x.is_integer() and abs(x) < 2**53 else x
        elif kind == "inlineStr" and string is not None:
            value = _ENTITY.sub(_entity, string) if "&" in string else string
        elif kind == "b" and number in ("0", "1"):
            value = number == "1"
        elif kind == "e" and number is not None:
            value = number
        elif kind is None and number is None and string is None:
            value = None
        else:
            return None
        if number_of_row != last:
            row = int(number_of_row)
            if row > max_rows:
                return None  # past the limit: the package reader says so
            while len(rows) < row:
                rows.append([])
            mine, last = rows[row - 1], number_of_row
        if col <= len(mine):
            return None  # a cell twice, or out of order
        if col - 1 > len(mine):
            mine.extend([None] * (col - 1 - len(mine)))
        mine.append(value)
        if col > width:
            width = col
    if position != len(text):
        return None
    for mine in rows:
        mine.extend([None] * (width - len(mine)))
    return rows
