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
from itertools import repeat
import time
import zipfile
from pathlib import Path

import numpy as np
from xlsxwriter.utility import xl_col_to_name

from ...numbers import XML_ILLEGAL, xml_escape as escape
from .package import crc32, fast_deflater, put_stored

_EMPTY_DATA = "<sheetData/>"
_MISSING = object()
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
    space = ' xml:space="preserve"' if value and (value[0].isspace() or value[-1].isspace()) else ""
    if not value.isprintable():  # a control character, maybe (a tab or line break is kept)
        value = XML_ILLEGAL.sub('', value)
    if "&" in value or "<" in value or ">" in value:
        value = escape(value)
    return f"<is><t{space}>{value}</t></is>"


def _inline_kept(value: str) -> str:
    """:func:`_inline` of a text, kept in ``_TEXTS`` for the next cell that holds it (a short
    text, while the memo has room)."""
    inline = _inline(value)
    if len(value) <= _TEXT_CHARS and len(_TEXTS) < _TEXTS_LIMIT:
        _TEXTS[value] = inline
    return inline


def cell(ref: str, style: str, value) -> str:
    """One ``<c>`` element as XlsxWriter's write_blank/number/string would give it."""
    kind = type(value)
    if kind is str:
        inline = _TEXTS.get(value) or _inline_kept(value)
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


def read_back(value) -> object:
    """What :func:`read_written` gives for the cell :func:`cell` writes of ``value``: the
    text as written (a control character dropped, cut at Excel's limit), a number through
    its ``%.16G`` text (whole where it is, within 2**53), NaN or None an empty cell (None),
    infinity the error ``#NUM!``, anything else its ``str``."""
    kind = type(value)
    if kind is str:
        if len(value) > CELL_TEXT_LIMIT // 2:
            value = _truncated(value)
        return value if value.isprintable() else XML_ILLEGAL.sub('', value)
    if kind is float or kind is int or (isinstance(value, (int, float, np.integer, np.floating))
                                        and kind is not bool and not isinstance(value, np.bool_)):
        number = float(value)
        if number != number:
            return None
        if math.isinf(number):
            return "#NUM!"
        text = f"{number:.16G}"
        if text.isdigit() and len(text) < 16:
            return int(text)
        number = float(text)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if value is None:
        return None
    return read_back(str(value))


def _truncated(text: str) -> str:
    """At most Excel's 32,767 UTF-16 units in a cell, as XlsxWriter cuts a longer string."""
    if max(text, default="") <= "\uffff":  # one unit a character (no character beyond the BMP)
        return text[:CELL_TEXT_LIMIT]
    # counted in C (a loop over the characters took 7 ms a long cell, seconds a history)

    def units(n: int) -> int:  # of text[:n] (a lone surrogate: 1, an astral character: 2)
        return len(text[:n].encode("utf-16-le", "surrogatepass")) // 2

    if units(len(text)) <= CELL_TEXT_LIMIT:
        return text
    low, high = 0, CELL_TEXT_LIMIT  # the longest prefix within the limit: units(low) fits, units(high + 1) not
    while low < high:
        middle = (low + high + 1) // 2
        if units(middle) <= CELL_TEXT_LIMIT:
            low = middle
        else:
            high = middle - 1
    return text[:low]


class SheetRows:
    """The cells and row heights of one worksheet (0-based rows and columns, as XlsxWriter)."""

    def __init__(self, worksheet, keep: bool | frozenset[int] = False) -> None:
        """``keep``: also keep each cell's value as :func:`read_written` will read it back
        (:meth:`values_read`) — of every column, or of these columns only."""
        self.worksheet = worksheet
        self.rows: dict[int, dict[int, str]] = {}
        self.heights: dict[int, float] = {}
        self._columns: list[str] = []
        self.written: tuple[str, str] | None = None  # sheet_data() when taken already (not again)
        self.kept: dict[int, list] | None = {} if keep else None  # row → its values read back
        self._keep_only = keep if isinstance(keep, frozenset) else None
        self._memo: dict[type, dict] = {str: {}, float: {}, int: {}}  # value → read back, of the common kinds

    def _keep(self, row: int, cells) -> None:
        """Keep ``cells`` ((column, value) pairs) of ``row`` as read back."""
        assert self.kept is not None
        mine = self.kept.get(row)
        if mine is None:
            mine = self.kept[row] = []
        only = self._keep_only
        kept = [(col, value) for col, value in cells if only is None or col in only]
        for (col, _), read in zip(kept, self._read_column([value for _, value in kept])):
            if col < len(mine):
                mine[col] = read
            else:
                if col > len(mine):
                    mine.extend([None] * (col - len(mine)))
                mine.append(read)

    def values_read(self) -> list[list[object]]:
        """The kept values as :func:`read_written` reads the sheet back: a row per row up to
        the last with a cell, each as wide as the widest (None where no cell is)."""
        assert self.kept is not None
        if not self.kept:
            return []
        width = max(map(len, self.kept.values()))
        out: list[list[object]] = []
        for r in range(max(self.kept) + 1):
            mine = self.kept.get(r)
            out.append(mine + [None] * (width - len(mine)) if mine is not None else [None] * width)
        return out

    def _name(self, col: int) -> str:
        while len(self._columns) <= col:
            self._columns.append(xl_col_to_name(len(self._columns)))
        return self._columns[col]

    def write(self, row: int, col: int, value, fmt=None) -> None:
        self.rows.setdefault(row, {})[col] = cell(f"{self._name(col)}{row + 1}", _style(fmt), value)
        if self.kept is not None:
            self._keep(row, ((col, value),))

    def write_row(self, row: int, col: int, values, fmt=None) -> None:
        style = _style(fmt)
        cells = self.rows.setdefault(row, {})
        for j, value in enumerate(values, start=col):
            cells[j] = cell(f"{self._name(j)}{row + 1}", style, value)
        if self.kept is not None:
            self._keep(row, enumerate(values, start=col))

    def write_table_row(self, row: int, styled: list[tuple[int, str]], values) -> None:
        """One row of a table: ``styled`` is (column, style attribute) per value."""
        number = row + 1
        cells = self.rows.setdefault(row, {})
        names = self._columns
        if styled:
            widest = max(styled)[0]
            if len(names) <= widest:
                self._name(widest)
        texts = _TEXTS
        for (col, style), value in zip(styled, values):
            kind = type(value)  # the common kinds here, as cell() writes them (a call fewer)
            if kind is str:
                inline = texts.get(value) or _inline_kept(value)
                cells[col] = f'<c r="{names[col]}{number}"{style} t="inlineStr">{inline}</c>'
            elif kind is float and value - value == 0.0:  # finite
                cells[col] = f'<c r="{names[col]}{number}"{style}><v>{value:.16G}</v></c>'
            elif value is None or (kind is float and value != value):  # NaN: an empty cell
                cells[col] = f'<c r="{names[col]}{number}"{style}/>'
            else:
                cells[col] = cell(f"{names[col]}{number}", style, value)
        if self.kept is not None:
            self._keep(row, zip((col for col, _ in styled), values))

    def write_table_rows(self, row: int, styled: list[tuple[int, str]], columns: list[list]) -> None:
        """Rows ``row``, ``row + 1``, … of a table given column by column (``columns[j]``
        the values of ``styled[j]``'s column, all of one length): the cells, and the values
        kept, that :meth:`write_table_row` makes of each row — each column's cells made in
        one loop, each row's put in place at once."""
        if not styled or not columns:
            return
        n = len(columns[0])
        names = self._columns
        if len(names) <= max(styled)[0]:
            self._name(max(styled)[0])
        numbers = range(row + 1, row + 1 + n)
        made = [_column_cells(names[col], style, values, numbers) for (col, style), values in zip(styled, columns)]
        places = [col for col, _ in styled]
        rows = self.rows
        for r, cells in zip(range(row, row + n), zip(*made)):
            mine = rows.get(r)
            if mine is None:
                rows[r] = dict(zip(places, cells))
            else:
                mine.update(zip(places, cells))
        if self.kept is None:
            return
        kept, only = self.kept, self._keep_only
        if places != list(range(len(places))) or any(r in kept for r in range(row, row + n)):
            for r, values in zip(range(row, row + n), zip(*columns)):  # the general case
                self._keep(r, zip(places, values))
            return
        # new rows of a table from column A (the usual): each row's values read back as
        # _keep would keep them (a column not kept None, none after the last kept)
        chosen = [j for j in places if only is None or j in only]
        reads = [self._read_column(columns[j]) if only is None or j in only else repeat(None)
                 for j in range(chosen[-1] + 1)] if chosen else []
        for r, values in zip(range(row, row + n), zip(*reads) if reads else repeat(())):
            kept[r] = list(values)

    def _read_column(self, values: list) -> list:
        """Each of ``values`` as :meth:`_keep` keeps it (read back, through the same memo)."""
        memo = self._memo
        out: list = []
        append = out.append
        for value in values:
            known = memo.get(type(value))
            if known is None:
                read = read_back(value)
            elif value != value:  # NaN (never a key: it is not equal to itself)
                read = None
            else:
                read = known.get(value, _MISSING)
                if read is _MISSING:
                    read = known[value] = read_back(value)
            append(read)
        return out

    def styles(self, formats: list) -> list[str]:
        return [_style(fmt) for fmt in formats]

    def set_row(self, row: int, height: float) -> None:
        """A row's height in points, in whole pixels (¾ pt) as XlsxWriter's set_row."""
        self.heights[row] = 0.75 * int(height * 4.0 / 3.0 + 0.5)

    def sheet_data(self) -> tuple[str, str]:
        """(the dimension's range, the ``<sheetData>`` element)."""
        dimension, pieces = self._sheet_data()
        return dimension, "".join(pieces)

    def _sheet_data(self, batch: int = 0):
        """(the dimension's range, the ``<sheetData>`` element as pieces of text: of about
        ``batch`` rows each, or one piece per row part when ``batch`` is 0)."""
        numbers = sorted(self.rows.keys() | self.heights.keys())
        if not numbers:
            return "A1", iter((_EMPTY_DATA,))
        first_col = min((min(cells) for cells in self.rows.values() if cells), default=None)
        top, bottom = numbers[0] + 1, numbers[-1] + 1
        if first_col is None:
            dimension = f"A{top}:A{bottom}" if top != bottom else f"A{top}"
        else:
            last_col = max(max(cells) for cells in self.rows.values() if cells)
            first = f"{self._name(first_col)}{top}"
            last = f"{self._name(last_col)}{bottom}"
            dimension = first if first == last else f"{first}:{last}"
        return dimension, self._pieces(numbers, batch)

    def _pieces(self, numbers: list[int], batch: int):
        out = ["<sheetData>"]
        heights, rows = self.heights, self.rows
        for k, r in enumerate(numbers, start=1):
            height = heights.get(r)
            attrs = f' ht="{height:.16G}" customHeight="1"' if height is not None else ""
            cells = rows.get(r)
            if not cells:
                out.append(f'<row r="{r + 1}"{attrs}/>')
            else:
                out.append(f'<row r="{r + 1}"{attrs}>')
                out.extend(map(cells.__getitem__, sorted(cells)))
                out.append("</row>")
            if batch and k % batch == 0:
                yield "".join(out)
                out = []
        out.append("</sheetData>")
        if batch:
            yield "".join(out)
        else:
            yield from out


def _column_cells(letters: str, style: str, values: list, numbers: range) -> list[str]:
    """The cells of one column of a table, ``values`` in the rows ``numbers`` (1-based), as
    :meth:`SheetRows.write_table_row` writes each."""
    texts = _TEXTS
    out: list[str] = []
    append = out.append
    for value, number in zip(values, numbers):
        kind = type(value)
        if kind is str:
            inline = texts.get(value) or _inline_kept(value)
            append(f'<c r="{letters}{number}"{style} t="inlineStr">{inline}</c>')
        elif kind is float and value - value == 0.0:  # finite
            append(f'<c r="{letters}{number}"{style}><v>{value:.16G}</v></c>')
        elif value is None or (kind is float and value != value):  # NaN: an empty cell
            append(f'<c r="{letters}{number}"{style}/>')
        else:
            append(cell(f"{letters}{number}", style, value))
    return out


def _with_rows(part: bytes, rows: SheetRows) -> bytes:
    return b"".join(_rows_in(part, rows))


ROWS_A_PIECE = 2_000  # rows encoded and compressed at a time: the sheet is never one string


def _rows_in(part: bytes, rows: SheetRows):
    """The part's bytes with ``rows`` in place of its empty ``<sheetData/>``, piece by piece."""
    xml = part.decode("utf-8")
    if xml.count(_EMPTY_DATA) != 1:
        raise AssertionError(f"sheet {rows.worksheet.name!r} has cells written past SheetRows")
    if rows.written is not None:
        dimension, pieces = rows.written[0], iter((rows.written[1],))
    else:
        dimension, pieces = rows._sheet_data(ROWS_A_PIECE)
    head, tail = xml.split(_EMPTY_DATA)
    head, found = _DIMENSION.subn(f'<dimension ref="{dimension}"/>', head, count=1)
    if not found:
        raise AssertionError(f"sheet {rows.worksheet.name!r} has no dimension element")
    yield head.encode("utf-8")
    for piece in pieces:
        yield piece.encode("utf-8")
    yield tail.encode("utf-8")


def save(written: io.BytesIO, sheets: list[SheetRows], target: Path,
         extra: dict[str, bytes] | None = None) -> None:
    """The package XlsxWriter wrote into ``written``, with each of ``sheets``' rows in place,
    and the parts ``extra`` (name → bytes) after its own, as the file ``target`` (a
    temporary file of ``atomic_output``). A sheet's rows are deflated as they are made into
    text, a few thousand at a time, so the sheet is never one string; every part at the
    fastest level, by isal where installed (``package.fast_deflater``): ten times the speed
    of zlib's default for about a quarter more bytes — still deflate, as every reader reads."""
    by_part = {f"xl/worksheets/sheet{s.worksheet.index + 1}.xml": s for s in sheets}
    written.seek(0)
    now = time.localtime()[:6]
    with zipfile.ZipFile(written) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            rows = by_part.pop(info.filename, None)
            _put_deflated(out, info.filename, now, (data,) if rows is None else _rows_in(data, rows))
        for name, data in (extra or {}).items():
            if name in source.NameToInfo:
                raise AssertionError(f"part {name} written twice")
            _put_deflated(out, name, now, (data,))
    if by_part:
        raise AssertionError(f"parts not in the package: {sorted(by_part)}")


def _put_deflated(out: zipfile.ZipFile, name: str, now: tuple, pieces) -> None:
    """One member of ``out`` made of ``pieces`` (bytes), deflated as they come: only the
    deflated bytes are held (a tenth of a big sheet's text)."""
    packer, crc, size, packed = fast_deflater(), 0, 0, []
    for piece in pieces:
        crc = crc32(piece, crc)
        size += len(piece)
        packed.append(packer.compress(piece))
    packed.append(packer.flush())
    put_stored(out, name, now, zipfile.ZIP_DEFLATED, crc, size, sum(map(len, packed)), packed)


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
