"""Fast readers of the two big parts of a book — each sheet, and the workbook part with its
defined names — in the plain dialect every spreadsheet program writes.

:class:`package.Book` reads a sheet with expat, which is exact for any XML but calls
Python once per element start and end (about 600,000 calls for 1,000 scorecards: most of
a report's time). The ``<sheetData>`` of a sheet written by XlsxWriter, Excel, WPS,
LibreOffice or openpyxl is a plain run of ``<row>`` and ``<c>`` elements, and this module
recognises exactly that subset with one regular expression, in C, calling Python once per
cell that holds something (empty styled cells are skipped inside the expression).

The expression is built so that it cannot backtrack across cells: every repetition is
possessive, every piece is anchored on a tag's own text, and the last alternative takes
the rest of the part at once when the next piece is not in the subset. So the scan is
linear in the part, whatever it holds. Anything outside the subset — a comment or CDATA
(``<!`` anywhere, which also means no DTD), a namespace prefix, a cell without ``r``,
rich inline text, an entity in an attribute, a character reference that is not a legal
XML character, a carriage return, a part that is not UTF-8 — makes :func:`scan_sheet` return
None, and the caller reads the part with expat as before. The tests hold the two readers
equal on every book they make.

Only ``<sheetData>`` is interpreted; the rest of the part (columns, merged cells,
validations) is neither read nor checked here.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
from collections.abc import Iterable
from typing import Any, Protocol

from ...limits import BY_NAME as LIMITS

# Two jobs below — a row read for the first time, and the defined names — are done in C for
# their common form when the optional extension (plain_scan.c, the top-level module
# kpi_workbook_scan) was built at install; it says None for anything else and the Python
# code here reads it, as it reads everything without the extension (no compiler at install,
# xlwings Lite). KPI_WORKBOOK_PURE_PYTHON=1 leaves it out (the tests run both ways).
compiled: Any = None
if not os.environ.get("KPI_WORKBOOK_PURE_PYTHON"):
    try:
        compiled = importlib.import_module("kpi_workbook_scan")
    except ImportError:
        compiled = None
    if getattr(compiled, "VERSION", None) != 2:
        compiled = None  # built from another version of plain_scan.c

_ILLEGAL = r"\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff"  # not XML characters, and CR (see above)
_TEXT = (rf"[^<&{_ILLEGAL}]*+(?:&(?:lt|gt|amp|quot|apos|#[0-9]{{1,7}}|#x[0-9a-fA-F]{{1,6}});"
         rf"[^<&{_ILLEGAL}]*+)*+")
_NAME = r"[A-Za-z_][A-Za-z0-9_.:-]*+"
_ATTR = rf' {_NAME}="[^"<&\t\n{_ILLEGAL}]*+"'  # one attribute, double-quoted, no reference
_WS = r"[ \t\n]*+"
_REF = r"[A-Z]{1,3}[1-9][0-9]{0,6}"
# what may come between two cells that hold something: whitespace, row tags, empty cells
# (an empty cell may carry a style and a type only, so that no attribute can be repeated;
# row tags are checked on their own by _ROWS)
_GAP = (rf"(?:{_WS}(?:<row(?:{_ATTR})*+{_WS}/?>|</row>|"
        rf"<c r=\"{_REF}\"(?: s=\"[0-9]{{1,9}}\")?(?: t=\"[a-zA-Z]{{1,9}}\")?{_WS}/>))*+{_WS}")
_CELL = (rf"{_GAP}<c r=\"({_REF})\"((?:{_ATTR})*+){_WS}>{_WS}"
         rf"(<f(?:{_ATTR})*+{_WS}(?:/>|>{_TEXT}</f>))?{_WS}"
         rf"(<v>{_TEXT}</v>|<v/>)?{_WS}"
         rf"(?:(<is>){_WS}<t(?: xml:space=\"preserve\")?(?:/>|>({_TEXT})</t>){_WS}</is>)?{_WS}</c>")
# a cell that holds something | what follows the last one | the rest, when it is not plain
_SCAN = re.compile(rf"{_CELL}|({_GAP})\Z|([\s\S]+)")
_ROWS = re.compile(rf"<row(?: r=\"([0-9]{{1,7}})\")?((?:{_ATTR})*+){_WS}(/?)>|</row>|<row")
_ATTR_PAIR = re.compile(rf' ({_NAME})="([^"]*)"')
_F_PARTS = re.compile(rf"<f((?:{_ATTR})*+){_WS}(?:/>|>({_TEXT})</f>)")
_REFERENCE = re.compile(r"&(lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_DECLARATION = re.compile(rb"""<\?xml[^?>]*?encoding=["']([^"'?>]*)["']""")


def _has_markup(part: bytes) -> bool:
    """Whether ``part`` holds "<!" (a comment, CDATA or DTD) or "]]>" (never in text).

    Looked for a character first: a search for one byte is a memchr, many times faster than
    one for two, whose first byte "<" is every few bytes of XML; a sheet seldom holds "!"
    (a formula on another sheet) and hardly ever "]"."""
    return (b"!" in part and b"<!" in part) or (b"]" in part and b"]]>" in part)


class NotPlain(Exception):
    """The part is outside the plain subset: read it with expat instead."""


def _char(code: int) -> str:
    if code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or \
            0x10000 <= code <= 0x10FFFF:
        return chr(code)
    raise NotPlain()  # expat refuses it: let it say so


def _reference(match: re.Match) -> str:
    name = match.group(1)
    if name in _NAMED:
        return _NAMED[name]
    return _char(int(name[2:], 16) if name[1] == "x" else int(name[1:]))


def unescape(text: str) -> str:
    return _REFERENCE.sub(_reference, text) if "&" in text else text


def _attributes(text: str) -> dict[str, str]:
    pairs = _ATTR_PAIR.findall(text)
    found = dict(pairs)
    if len(found) != len(pairs):
        raise NotPlain()  # a repeated attribute is not XML: expat says so
    return found


def scan_sheet(part: bytes, sink: Sink, max_row: int) -> bool:
    """Read a sheet part into ``sink``; False (nothing read) when the part is not plain.

    ``sink.count(n)`` is told how many cells the part has (for the book's limit) before
    any is read; ``max_row`` is the highest row number allowed: a row beyond it (or row 0)
    is left to expat's reader, which refuses it with its sentence.
    """
    if _has_markup(part):
        return False  # comments, CDATA, a DTD; "]]>" may not appear in text
    head = part[:200]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    declared = _DECLARATION.match(head)
    if (declared and declared.group(1).lower() != b"utf-8") or head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return False
    start = part.find(b"<sheetData>")
    if start < 0:
        if b"<sheetData/>" in part and b"<sheetData" not in part.replace(b"<sheetData/>", b"", 1):
            sink.count(0)
            return True
        return False
    end = part.find(b"</sheetData>", start)
    if end < 0 or b"<sheetData" in part[end:] or b"<sheetData" in part[:start]:
        return False
    memo = sink.rows_memo
    if memo is not None:
        return _rows_memoised(part[start + 11:end], sink, memo, max_row)
    try:
        body = part[start + 11:end].decode("utf-8")
    except UnicodeDecodeError:
        return False
    if not _rows_plain(body, max_row):
        return False
    if len(body) > LONG_TEXT:
        sink.long_text = True
    cells = body.count("<c ")
    sink.count(cells)  # the book's limit, before anything is built
    try:
        _cells(body, sink)
    except NotPlain:
        sink.count(-cells)  # expat reads and counts them again (and the sink is dropped)
        return False
    return True


def scan_sheet_chunks(chunks: Iterable[bytes], sink: Sink, max_row: int, hold: int) -> bool:
    """:func:`scan_sheet` for a part too big to hold whole, read as it is inflated: the
    ``<sheetData>`` is cut after each ``</row>`` and read a run of whole rows at a time, never
    holding more than ``hold`` bytes of it (a longer row, or anything :func:`scan_sheet` would
    not read, returns False; expat reads the part then). Every chunk is read to the end, so
    that what comes after the cells is checked as scan_sheet checks it.

    The cuts change nothing: a cell's match ends at its ``</c>``, the gap between two cells
    may be cut between its row tags (each side is a gap), rows open and close within a run,
    and UTF-8 decodes the same on either side of an ASCII tag. The cells are counted for the
    book's limit a run at a time, before the run is read, as expat counts them as it goes."""
    counted = 0
    try:
        for run in _runs(chunks, hold):
            if run is None:
                sink.count(-counted)
                return False
            body = run.decode("utf-8")
            if not _rows_plain(body, max_row):
                raise NotPlain()
            cells = body.count("<c ")
            sink.count(cells)
            counted += cells
            _cells(body, sink)
    except (NotPlain, UnicodeDecodeError):
        sink.count(-counted)
        return False
    sink.long_text = True  # too big to say: its cells' sizes are looked at, as expat's are
    return True


def _runs(chunks: Iterable[bytes], hold: int):
    """The ``<sheetData>`` of a part in runs of whole rows, then None if the part is not one
    scan_sheet would read (a comment, another encoding, no or two ``<sheetData>``, a row
    longer than ``hold``)."""
    head = b""  # the part's first bytes, up to its <sheetData>
    state = "head"
    body = b""
    last = b""  # the end of the chunk before, for a tag or "<!" cut between two chunks
    for chunk in chunks:
        seen = last + chunk
        if _has_markup(seen):
            yield None
            return
        last = seen[-9:]  # shorter than "<sheetData": never a whole tag of its own
        if state == "head":
            head += chunk
            at = head.find(b"<sheetData")
            if at < 0 or len(head) < at + 11:
                if len(head) > hold:
                    yield None
                    return
                continue
            top = head[:200].removeprefix(b"\xef\xbb\xbf")
            declared = _DECLARATION.match(top)
            if (declared and declared.group(1).lower() != b"utf-8") or top[:2] in (b"\xff\xfe", b"\xfe\xff") \
                    or head[at:at + 11] != b"<sheetData>":
                yield None  # another encoding; an empty or odd <sheetData: expat reads it
                return
            chunk, head, state = head[at + 11:], b"", "body"
        if state == "body":
            body += chunk
            end = body.find(b"</sheetData>")
            if end >= 0:
                rest = body[end + 12:]
                if body[:end]:
                    yield body[:end]
                body, state = b"", "after"
                if b"<sheetData" in rest:
                    yield None
                    return
                continue
            cut = body.rfind(b"</row>")
            if cut >= 0:
                run, body = body[:cut + 6], body[cut + 6:]
                yield run
            if len(body) > hold:
                yield None  # one row longer than may be held
                return
        elif b"<sheetData" in seen:  # after </sheetData>: no second one
            yield None
            return
    if state != "after":
        yield None  # no <sheetData>, or no end to it


class _Recorder:
    """A sink that keeps what one row's cells put into a sheet, to be put again."""

    def __init__(self, sink: Sink):
        self.sink = sink
        self.contents: dict[str, object] = {}
        self.cached: dict[str, object] = {}

    def strings(self) -> list[str]:
        return self.sink.strings()

    def cell(self, ref: str, kind: str, raw: str | None) -> object:
        return self.sink.cell(ref, kind, raw)

    def formula(self, ref: str, text: str, attrs: dict[str, str], value: object) -> None:
        if attrs:  # never here: a row with "<f " is not recorded (a shared formula's
            raise NotPlain()  # cells depend on other rows); should one come, expat reads it
        self.cached[ref] = value
        self.contents[ref] = "=" + text if text else "="


ROWS_MEMO_LIMIT = 50_000  # distinct rows kept per book
# A row whose text is longer than the longest formula Excel allows may hold a cell larger
# than Excel allows (text or formula): the sheet is marked (``long_text``), and its readers
# look at its cells' sizes; no other sheet costs them a look (the table of limits).
LONG_TEXT = int(LIMITS["formula_chars"].value or 0)


def _rows_memoised(data: bytes, sink: Sink, memo: dict, max_row: int) -> bool:
    """The cells of a sheet's ``<sheetData>`` (``data``, its bytes) row by row, each distinct
    row read once per book; False (nothing counted) when it is not plain.

    The scorecards of one role are copies of one prototype: most of their rows (labels,
    weights, formulas without a cached result) are the same text in every sheet, and what a
    row's text holds depends on that text alone (and the book's shared strings) — but for a
    shared formula, whose cells take their text from another row: a row with an ``<f``
    element that has attributes is read as before, every time. Each piece of ``data`` up to
    a ``</row>`` is checked as :func:`_rows_plain` checks the whole (one open row, closed
    by that end tag), so the whole is what it would accept; what follows the last
    ``</row>`` is checked as the end of the whole, and never kept (the same text, followed
    by ``</row>`` in another part, is not the same piece). The pieces are looked up as
    bytes: a piece seen before is neither decoded nor read again (it was valid UTF-8 then;
    a cut before the ASCII "</row>" never splits a character), and the cells of the whole
    are counted for the book's limit, as the memo knows them, before any is built."""
    if compiled is not None and compiled.scan_rows(data, memo, sink, max_row, LONG_TEXT, ROWS_MEMO_LIMIT):
        return True  # every row from the memo or read in C (the usual sheet), as below
    pieces = data.split(b"</row>")
    tail = pieces.pop()  # what follows the last row: checked on its own, never kept
    known = [memo.get(piece) for piece in pieces]  # a piece read before, then too followed by "</row>"
    fresh: set[int] = set()  # new pieces read in C: kept in the memo once counted
    if compiled is not None:  # a new row in the common form is read in C into its memo entry
        scan_row = compiled.scan_row  # (None: the code below reads it)
        for k, piece in enumerate(pieces):
            if known[k] is None and b"<f " not in piece:
                known[k] = scan_row(piece, sink, max_row, LONG_TEXT)
                if known[k] is not None:
                    fresh.add(k)
    try:  # what is new is decoded first: text that is not UTF-8 steps aside before any count
        texts = [piece.decode("utf-8") if found is None else None for piece, found in zip(pieces, known)]
        end = tail.decode("utf-8")
    except UnicodeDecodeError:
        return False
    cells = end.count("<c ")
    for text, found in zip(texts, known):
        cells += text.count("<c ") if found is None else found[2]  # type: ignore[union-attr]
    sink.count(cells)  # the book's limit, before anything is built
    contents, cached = sink.contents, sink.cached
    try:
        for k, (piece, text, found) in enumerate(zip(pieces, texts, known)):
            if found is not None:
                contents.update(found[0])
                if found[1]:
                    cached.update(found[1])
                if fresh and k in fresh and len(memo) < ROWS_MEMO_LIMIT:
                    memo[piece] = found
                continue
            assert text is not None  # decoded above
            if not _rows_plain(text + "</row>", max_row):
                raise NotPlain()
            long_text = len(text) > LONG_TEXT  # may hold a cell larger than Excel allows:
            if long_text:  # said for this sheet, so never taken from the memo for another
                sink.long_text = True
            if "<f " in text:
                _cells(text, sink)
                continue
            record = _Recorder(sink)
            _cells(text, record)  # type: ignore[arg-type]  # the part of a sink _cells uses
            contents.update(record.contents)
            cached.update(record.cached)
            if len(memo) < ROWS_MEMO_LIMIT and not long_text:
                memo[piece] = (record.contents, record.cached, text.count("<c "))
        if not _rows_plain(end, max_row):
            raise NotPlain()
        if len(end) > LONG_TEXT:
            sink.long_text = True
        _cells(end, sink)
    except NotPlain:
        sink.count(-cells)  # expat reads and counts them again (and the sink is dropped)
        return False
    return True


def _rows_plain(body: str, max_row: int) -> bool:
    """Every row tag has a number in 1…max_row and no repeated attribute, and rows open and
    close in turn (a scorecard has a few dozen rows: this is a small second pass)."""
    open_row = False
    try:
        for match in _ROWS.finditer(body):
            number, attrs, empty = match.groups()
            text = match.group(0)
            if text == "</row>":
                if not open_row:
                    return False
                open_row = False
                continue
            if open_row or not number or not 1 <= int(number) <= max_row or text == "<row":
                return False
            if attrs and attrs not in _ROW_ATTRS:
                if "r" in _attributes(attrs):
                    return False
                if len(_ROW_ATTRS) < _CACHE_LIMIT:
                    _ROW_ATTRS.add(attrs)
            open_row = not empty
    except NotPlain:
        return False
    return not open_row


_ROW_ATTRS: set[str] = set()  # a row's attributes (after r) known to hold no repeat
_KINDS: dict[str, str] = {}  # a cell's attributes → its type, checked once per distinct text
_FORMULAS: dict[str, tuple[str, dict[str, str]]] = {}  # an <f> element → (text, attributes)
_CACHE_LIMIT = 100_000  # distinct texts kept; a hostile part cannot grow the caches further


def _kind(attrs: str) -> str:
    kind = _KINDS.get(attrs)
    if kind is None:
        found = _attributes(attrs)
        if "r" in found:
            raise NotPlain()
        kind = found.get("t", "n")
        if len(_KINDS) < _CACHE_LIMIT:
            _KINDS[attrs] = kind
    return kind


def _formula(element: str) -> tuple[str, dict[str, str]]:
    known = _FORMULAS.get(element)
    if known is None:
        match = _F_PARTS.fullmatch(element)
        if match is None:
            raise NotPlain()
        known = (unescape(match.group(2) or ""), _attributes(match.group(1)))
        if len(_FORMULAS) < _CACHE_LIMIT:
            _FORMULAS[element] = known
    return known


class Sink(Protocol):
    """Where :func:`scan_sheet` puts what it reads (``package._PlainSheet``)."""

    contents: dict[str, object]
    cached: dict[str, object]  # a formula's cached result (what ``formula`` puts there)
    rows_memo: dict | None  # the book's rows read so far (:func:`_rows_memoised`), or None
    long_text: bool  # set when a row's text is longer than LONG_TEXT

    def count(self, cells: int) -> None: ...
    def strings(self) -> list[str]: ...
    def cell(self, ref: str, kind: str, raw: str | None) -> object: ...
    def formula(self, ref: str, text: str, attrs: dict[str, str], value: object) -> None: ...


def _cells(body: str, sink: Sink) -> None:
    """Each cell that holds something, into ``sink``: what it holds, its formula (``sink.
    formula``), and its value. Numbers and shared strings, nearly every cell, are converted
    here; every other type, and anything that is not as expected, by ``sink.cell``."""
    strings: list[str] | None = None
    contents = sink.contents
    kinds = _KINDS
    for ref, attrs, f, v, inline, inline_text, _tail, rest in _SCAN.findall(body):
        if rest:
            raise NotPlain()
        if not ref:
            continue  # the tail after the last cell that holds something
        kind = (kinds.get(attrs) or _kind(attrs)) if attrs else "n"
        value: object = None
        if kind == "inlineStr":
            if inline:
                value = unescape(inline_text)
        elif v:
            raw = "" if v == "<v/>" else v[3:-4]
            if "&" in raw:
                raw = unescape(raw)
            if kind == "n" and raw:
                try:
                    number = float(raw)
                except ValueError:
                    value = sink.cell(ref, kind, raw)  # says what is wrong
                else:
                    value = int(number) if number.is_integer() and abs(number) < 2**53 else \
                        number if number - number == 0 else sink.cell(ref, kind, raw)
            elif kind == "s" and raw.isascii() and raw.isdigit():
                if strings is None:
                    strings = sink.strings()
                index = int(raw)
                value = strings[index] if index < len(strings) else sink.cell(ref, kind, raw)
            else:
                value = sink.cell(ref, kind, raw)
        if f:
            text, f_attrs = _formula(f)
            sink.formula(ref, text, f_attrs, value)
        elif value is not None:
            contents[ref] = value


# --- the workbook part: sheets and defined names ------------------------------------------

_VALUE_CHARS = rf'[^"<&\t\n{_ILLEGAL}]*+'
_QUOTED = rf'"{_VALUE_CHARS}(?:&(?:lt|gt|amp|quot|apos|#[0-9]{{1,7}}|#x[0-9a-fA-F]{{1,6}});{_VALUE_CHARS})*+"'
_ATTR_REFS = rf" {_NAME}={_QUOTED}"  # an attribute whose value may hold references
_SHEET = re.compile(rf"<sheet((?:{_ATTR_REFS})*+){_WS}/>")
# the usual form, name first and localSheetId next, is taken apart by the expression itself
# and a name that is one cell ('Sheet'!$A$1, nearly every name) gives its column and row
_ONE_CELL = (r"(?:'[^'!<&]*+'|[^'!\s<&][^'!<&]*+)!\$?([A-Z]{1,3})\$?([1-9][0-9]{0,6})"
             r"(?=</definedName>)")
_NAMES = re.compile(rf"{_WS}<definedName name=({_QUOTED})(?: localSheetId=\"([0-9]{{1,9}})\")?"
                    rf"((?:{_ATTR_REFS})*+){_WS}>({_ONE_CELL}|{_TEXT})</definedName>|{_WS}\Z|([\s\S]+)")
_PAIR_REFS = re.compile(rf' ({_NAME})=({_QUOTED})')


def _attributes_refs(text: str) -> dict[str, str]:
    pairs = _PAIR_REFS.findall(text)
    found = {name: unescape(value[1:-1]) for name, value in pairs}
    if len(found) != len(pairs):
        raise NotPlain()
    return found


WorkbookScan = tuple[list[tuple[str, str]], list[tuple[str, int | None, str]], list[str | None]]


def scan_workbook(part: bytes) -> WorkbookScan | None:
    """(sheets as (name, relationship id), defined names as (name, localSheetId, text), and
    for each name its cell ("A1") when it is one cell in the plain form, else None) of the
    workbook part, or None when it is not plain (then expat reads it)."""
    if _has_markup(part) or b":sheet" in part or b":definedName" in part:
        return None  # comments, CDATA, a DTD; a namespace prefix on the elements read here
    try:
        text = part.decode("utf-8")
    except UnicodeDecodeError:
        return None
    declared = _DECLARATION.match(part[:200].removeprefix(b"\xef\xbb\xbf"))
    if declared and declared.group(1).lower() != b"utf-8":
        return None
    start = text.find("<definedNames>")
    end = text.find("</definedNames>", start) if start >= 0 else -1
    if start >= 0 and end < 0:
        return None
    # The part but the body of <definedNames> (3 MB in a book of 1,000 cards), where the
    # elements below are looked for and counted: the body is read whole below (or the part
    # is not read here), and a name's text holds no "<", so there is no other element in it.
    outside = text if start < 0 else text[:start] + text[end:]
    try:
        sheets = []
        for attrs in _SHEET.findall(outside):
            found = _attributes_refs(attrs)
            rid = next((v for k, v in found.items() if ":" in k and k.split(":", 1)[1] == "id"), "")
            sheets.append((found.get("name", ""), rid))
        if len(sheets) != outside.count("<sheet ") + outside.count("<sheet>") + outside.count("<sheet/"):
            return None
        names: list[tuple[str, int | None, str]] = []
        cells: list[str | None] = []
        if start >= 0:
            body = text[start + 14:end]
            fast = compiled.scan_names(body) if compiled is not None and "&" not in body else None
            matches = _NAMES.findall(body) if fast is None else []
            if fast is not None:  # the usual form, read in C
                names, cells = fast
            while matches and not matches[-1][0]:  # the whitespace at the end, or the rest from
                if matches.pop()[6]:  # where it is not plain: only ever the last matches
                    return None
            if matches and "&" not in body:  # the usual form: no reference to decode, in one pass; the
                # few names with another attribute than name and localSheetId (hidden="1" on
                # Excel's filter range) put right after it
                scope_of = {local: int(local) if local.isdigit() else None for local in {f[1] for f in matches}}
                names = [(name[1:-1], scope_of[local], value) for name, local, _, value, _, _, _ in matches]
                cells = [column + row if column else None for _, _, _, _, column, row, _ in matches]
                for k in [k for k, f in enumerate(matches) if f[2]]:
                    name, local, attrs = matches[k][:3]
                    given = _attributes_refs(attrs)
                    if "name" in given or (local and "localSheetId" in given):
                        return None  # a repeated attribute: expat refuses it
                    local = given.get("localSheetId", local)
                    names[k] = (names[k][0], int(local) if local.isdigit() else None, names[k][2])
                matches = []
            append, append_cell = names.append, cells.append
            scopes: dict[str, int | None] = {}  # localSheetId → its number (a book has tens of thousands of names)
            for name, local, attrs, value, column, row, _rest in matches:
                if attrs:
                    given = _attributes_refs(attrs)
                    if "name" in given or (local and "localSheetId" in given):
                        return None  # a repeated attribute: expat refuses it
                    local = given.get("localSheetId", local)
                scope = scopes.get(local, -1)
                if scope == -1:
                    scope = scopes[local] = int(local) if local.isdigit() else None
                name = name[1:-1]
                append((unescape(name) if "&" in name else name, scope,
                        unescape(value) if "&" in value else value))
                append_cell(column + row if column else None)
            if "<definedName " in outside or "<definedName>" in outside:
                return None  # a name outside <definedNames>
        elif b"<definedName" in part:
            return None
    except NotPlain:
        return None
    return sheets, names, cells


# --- patching: where cells are, and formulas' cached results ----------------------------
# These work on a sheet part that has been read already (so it is well-formed XML) and has
# no "<!" (no comment or CDATA that could hide markup): there, every '<c r="' in the sheet
# data starts a cell element, and a cell's element ends at its first "</c>" or at "/>"
# (text and attribute values cannot hold "<"), as long as no element inside it starts with
# "<c" (a cell nested in a formula is well-formed XML, though no sheet): anything else is
# None, and package.py finds them with expat.

_CELL_START = re.compile(rb'<c r="([A-Z]{1,3}[1-9][0-9]{0,6})"')
# an attribute value with whitespace other than a space or with a reference is one expat
# normalises (a tab, newline or CR reads as a space, &#49; as 1): then expat says what it is
_TAG_END = re.compile(rb'(?: [A-Za-z_][A-Za-z0-9_.:-]*+="[^"<&\t\n\r]*+")*+[ \t\n]*+(/?)>')
_STYLE = re.compile(rb' s="([^"]*)"')
FEW_COLUMNS = 8
_DIGITS = b"0123456789"


@functools.lru_cache(maxsize=64)
def _cells_in_columns(columns: frozenset[bytes]) -> re.Pattern[bytes]:
    """The start tags of the cells in these columns (fill writes a card's inputs, one
    column of every card of a role, a different set of rows on nearly every card: an
    expression naming the cells themselves was compiled again for nearly every sheet)."""
    letters = b"|".join(re.escape(c) for c in sorted(columns))
    return re.compile(rb'<c r="((?:' + letters + rb')[1-9][0-9]{0,6})"')


def cell_spans(data: bytes, refs) -> dict[str, tuple[int, int, str]] | None:
    """(start, end, style) of the elements of the cells ``refs``; None when the part is not
    plain enough to say (package.cell_elements then asks expat)."""
    if b"!" in data and b"<!" in data:
        return None
    start = data.find(b"<sheetData>")
    end = data.find(b"</sheetData>", start)
    if start < 0 or end < 0:
        return None
    wanted = {r.encode() for r in refs}
    found: dict[str, tuple[int, int, str]] = {}
    columns = frozenset(r.rstrip(_DIGITS) for r in wanted)
    # what fill edits: the cells of a few columns, each one test; else every cell, one test each
    cells = _cells_in_columns(columns) if len(columns) <= FEW_COLUMNS else _CELL_START
    matches = [m for m in cells.finditer(data, start, end) if m.group(1) in wanted]
    if len({m.group(1) for m in matches}) != len(matches):
        return None  # a cell twice: expat says which one counts
    for match in matches:
        ref = match.group(1)
        tag = _TAG_END.match(data, match.end())
        if tag is None:
            return None
        head = tag.end()
        close = head if tag.group(1) else data.find(b"</c>", head, end)
        if close < 0 or data.find(b"<c", head, close) >= 0:
            return None  # no end, or an element inside the cell that may be a cell: expat
        style = _STYLE.search(data, match.end(), head)
        found[ref.decode()] = (match.start(), close if tag.group(1) else close + 4,
                               style.group(1).decode() if style else "")
    return found if len(found) == len(wanted) else None


_CACHED = re.compile(rb'(<f(?: [A-Za-z_][A-Za-z0-9_.:-]*+="[^"]*+")*+[ \t\n]*+(?:/>|>[^<]*+</f>))'
                     rb'([ \t\n]*+)(?:<v>[^<]*+</v>|<v/>)')


def drop_cached(data: bytes) -> bytes | None:
    """The part without the <v> that follows each formula; None when the part is not plain
    enough to say (a <v> with attributes, a comment)."""
    if b"!" in data and b"<!" in data:
        return None
    out = _CACHED.sub(rb"\1\2", data)
    if re.search(rb"</f>[ \t\n]*<v|<f[^<>]*/>[ \t\n]*<v", out):
        return None  # a cached result left behind: not in the plain form
    return out
