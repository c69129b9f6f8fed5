"""The compiled scanner (kpi_workbook/workbook/xlsx/plain_scan.c, module ``kpi_workbook_scan``)
reads what the Python code of plain_scan.py reads, or steps aside.

It does two jobs for the common plain form: a sheet row read for the first time (its rows
memo entry) and the defined names of the workbook part. On rows and names drawn at random
— plain and awkward — it either says None (the Python code then reads them) or gives
exactly the Python code's result, types included; on random bytes and big inputs it never
reads outside its input and stays linear; and whole books read identically with it and
without it (``plain_scan.compiled`` set to None: the Python code, which is what xlwings Lite
and an install without a compiler run).

plain_scan uses only a module built from the plain_scan.c beside it (the digest setup.py
compiles in): when there is none (a checkout tested in place, or another checkout's build
installed), the tests build one from the source into a temporary folder (tests/readers.py);
.ci/test sets KPI_WORKBOOK_COMPILED=1, and then the one imported by plain_scan must be there
(CI cannot silently lose it, nor test a stale one). The refusals come in the Python code's
order (a cell's error, the book's cell limit, then the shared strings), and nothing is built
before the cells are counted.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kpi_workbook.workbook.xlsx import package, plain_scan
from kpi_workbook.workbook.xlsx.package import Book

from . import readers
from .readers import SOURCE, build

built_scanner, either_reader = readers.built_scanner, readers.either_reader  # fixtures used here

ROOT = Path(__file__).resolve().parent.parent
LONG = plain_scan.LONG_TEXT


@pytest.fixture(scope="module")
def compiled(built_scanner):
    """The compiled module: the one plain_scan imported (built from this source: its digest
    says so), or one built from the source now."""
    module, _ = built_scanner
    assert module.VERSION == 2 and module.SOURCE_SHA256 == hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    return module


def test_the_extension_is_imported_where_it_was_built():
    """.ci/test builds it (pip install .) and says so: then plain_scan uses it."""
    if os.environ.get("KPI_WORKBOOK_COMPILED"):
        assert plain_scan.compiled is not None, "kpi_workbook_scan was not built or does not import"
        assert Path(plain_scan.compiled.__file__).name.startswith("kpi_workbook_scan")


def _spy(compiled, calls: list[str]):
    """The compiled module with each of its functions noting its call in ``calls``."""
    def noted(name: str, short: str):
        def call(*args):
            calls.append(short)
            return getattr(compiled, name)(*args)
        return staticmethod(call)

    return type("Spy", (), {"VERSION": compiled.VERSION, "scan_rows": noted("scan_rows", "rows"),
                            "scan_row": noted("scan_row", "row"), "scan_names": noted("scan_names", "names")})


def test_the_python_code_is_used_without_the_extension(monkeypatch, compiled):
    """With the handle None nothing calls the compiled code; with it, it is called."""
    calls: list[str] = []
    Spy = _spy(compiled, calls)
    part = (b'<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>')
    book = (b'<workbook><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets><definedNames>'
            b'<definedName name="A">S!$A$1</definedName></definedNames></workbook>')
    for handle, expected in ((None, []), (Spy, ["rows", "names"])):
        monkeypatch.setattr(plain_scan, "compiled", handle)
        sink = Sink({})
        assert plain_scan.scan_sheet(part, sink, 9) and sink.contents == {"A1": 1}
        assert plain_scan.scan_workbook(book) == ([("S", "rId1")], [("A", None, "S!$A$1")], ["A1"])
        assert calls == expected


# --- one row: compiled against the Python code ----------------------------------------------

STRINGS = ["甲", "", "b c", "x" * 3]


class Bad(Exception):
    pass


class Sink:
    """What plain_scan._cells and scan_row need of a sheet's sink."""

    def __init__(self, memo=None, strings=STRINGS):
        self.contents: dict = {}
        self.cached: dict = {}
        self.rows_memo, self.long_text, self._strings = memo, False, strings
        self.asked = 0

    def count(self, n):
        pass

    def strings(self):
        self.asked += 1
        return self._strings

    def formula(self, ref, text, attrs, value):  # a shared formula's row (not kept in the memo)
        self.contents[ref], self.cached[ref] = ("=" + text, sorted(attrs.items())), value

    def cell(self, ref, kind, raw):
        def bad(zh, en):
            return Bad(en)
        return None if raw is None else package.cell_value(self, kind, raw, bad)  # type: ignore[arg-type]


def by_python(piece: bytes, max_row: int):
    """The memo entry the Python code makes of a new row (``_rows_memoised``), or why not."""
    try:
        text = piece.decode("utf-8")
    except UnicodeDecodeError:
        return "not utf-8"
    if not plain_scan._rows_plain(text + "</row>", max_row):
        return "rows"
    if len(text) > LONG:
        return "long"
    record = plain_scan._Recorder(Sink())  # type: ignore[arg-type]
    try:
        plain_scan._cells(text, record)  # type: ignore[arg-type]
    except plain_scan.NotPlain:
        return "not plain"
    except Bad as bad:
        return f"bad: {bad}"
    return record.contents, record.cached, text.count("<c ")


def typed(entry):
    """A memo entry with each value's type and repr (1 is not 1.0 nor True, -0.0 not 0.0)."""
    if not isinstance(entry, tuple):
        return entry
    contents, cached, count = entry
    return ([(k, type(v).__name__, repr(v)) for k, v in contents.items()],
            [(k, type(v).__name__, repr(v)) for k, v in cached.items()], count)


def assert_agrees(compiled, piece: bytes, max_row: int = 1000) -> bool:
    """The compiled reading of ``piece`` is None or the Python code's; whether it read it."""
    fast = compiled.scan_row(piece, Sink(), max_row, LONG)
    if fast is None:
        return False
    slow = by_python(piece, max_row)
    assert typed(fast) == typed(slow), piece
    return True


NUMBERS = ["0", "1", "-0", "-0.0", "0.5", "12.25", "1e3", "1E-3", "-1.5e+2", "1e22", "1e400", "-1e400",
           "1e-400", "9007199254740992", "9007199254740993", "-9007199254740991", "4503599627370496.5",
           "123456789012345678901234567890", "0.1000000000000000055511151231257827021181583404541015625",
           "1_0", " 1", "1 ", "nan", "inf", "-inf", "0x10", "١", "1.", ".5", "+1", "--1", "1e", "",
           "&#49;", "1&#48;", "1" * 120]
TEXTS = ["", "a", "中文", "a&amp;b", "&lt;&gt;&quot;&apos;", "&#13;", "&#9;&#10;", "&#1;", "&#x10FFFF;",
         "&#x110000;", "&#xD800;", "&#55296;", "&#65534;", "&#0000065;", "&#00000065;", "&#x0000041;",
         "&bogus;", "&amp", "a\rb", "a\tb\nc", "\x01", "\ufffe", "\uffff", "]]>", "'\"", "&#x1F600;😀",
         "  spaced  ", "=SUM(A1:A2)", "S!A1"]
INDICES = ["0", "1", "3", "4", "007", "99999999999999999999", " 1", "-1", "1.0", "١", ""]
BOOLS = ["0", "1", "true", "false", "2", " 1", "TRUE"]
KINDS = [None, "n", "s", "str", "e", "b", "inlineStr", "d", "x", "", "S"]


@st.composite
def cells(draw) -> str:
    column = draw(st.sampled_from(["A", "B", "Z", "AB", "XFD", "AAAA", "a"]))
    row = draw(st.sampled_from(["1", "12", "1048576", "0", "01", "12345678"]))
    attrs = []
    style = draw(st.sampled_from([None, "0", "15", "123456789", "1234567890", "", "x"]))
    kind = draw(st.sampled_from(KINDS))
    if style is not None:
        attrs.append(f' s="{style}"')
    if kind is not None:
        attrs.append(f' t="{kind}"')
    if draw(st.booleans()):
        attrs.reverse()
    attrs.extend(draw(st.lists(st.sampled_from([' s="1"', ' t="s"', ' r="A1"', ' cm="1"', ' s="1\t"']),
                               max_size=1)))
    ws = st.sampled_from(["", "", " ", "\n", "\t", "\r", "\n  "])
    head = f'<c r="{column}{row}"{"".join(attrs)}{draw(ws)}'
    if draw(st.integers(0, 5)) == 0:
        return head + "/>"
    raw = st.sampled_from(NUMBERS + TEXTS + INDICES + BOOLS)
    f = draw(st.sampled_from([None, None, "text", "empty", "shared", "shared-empty"]))
    inner = [draw(ws)]
    if f == "text":
        inner.append(f"<f>{draw(st.sampled_from(TEXTS))}</f>")
    elif f == "empty":
        inner.append("<f/>")
    elif f == "shared":
        inner.append('<f t="shared" ref="A1:A2" si="0">A1</f>')
    elif f == "shared-empty":
        inner.append('<f t="shared" si="0"/>')
    inner.append(draw(ws))
    v = draw(st.sampled_from([None, "text", "text", "text", "empty", "open"]))
    if v == "text":
        inner.append(f"<v>{draw(raw)}</v>")
    elif v == "empty":
        inner.append("<v/>")
    elif v == "open":
        inner.append("<v></v>")
    inner.append(draw(ws))
    inline = draw(st.sampled_from([None, None, "t", "preserve", "empty"]))
    if inline == "t":
        inner.append(f"<is>{draw(ws)}<t>{draw(st.sampled_from(TEXTS))}</t>{draw(ws)}</is>")
    elif inline == "preserve":
        inner.append(f'<is><t xml:space="preserve">{draw(st.sampled_from(TEXTS))}</t></is>')
    elif inline == "empty":
        inner.append("<is><t/></is>")
    inner.append(draw(ws))
    return head + ">" + "".join(inner) + "</c>"


ROW_ATTRS = ["", ' spans="1:3"', ' ht="20.25" customHeight="1"', ' x14ac:dyDescent="0.25"', ' r="2"',
             ' ht="1" ht="2"', ' ht="a\tb"', ' s="1" customFormat="1"', ' hidden="1"', " ", ' a="中"',
             ' ht=\'1\'', ' 1a="1"']


@st.composite
def rows(draw) -> bytes:
    number = draw(st.sampled_from(["1", "2", "1000", "1001", "0", "01", "1234567", "12345678", ""]))
    tag = f'<row r="{number}"' if number else "<row"
    before = ""
    if draw(st.integers(0, 6)) == 0:
        before = f'<row r="{draw(st.sampled_from(["3", "0"]))}"{draw(st.sampled_from(ROW_ATTRS))}/>\n'
    body = draw(st.lists(cells(), max_size=6))
    ws = st.sampled_from(["", " ", "\n", "\r\n"])
    text = (draw(ws) + before + tag + draw(st.sampled_from(ROW_ATTRS)) + draw(st.sampled_from(["", " "])) + ">"
            + draw(ws).join(body) + draw(ws))
    data = text.encode("utf-8")
    cut = draw(st.sampled_from(["none"] * 6 + ["truncate", "byte", "drop"]))
    if cut == "truncate" and data:
        data = data[:draw(st.integers(0, len(data) - 1))]
    elif cut == "byte" and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\xe4", b"<", b"&", b'"', b">", b"\x00", b"/"])) + \
            data[at + 1:]
    elif cut == "drop" and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + data[at + 1:]
    return data


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(piece=rows(), max_row=st.sampled_from([1000, 1, 1_048_576]))
def test_a_row_reads_as_the_python_code_reads_it_or_is_left_to_it(compiled, piece, max_row):
    assert_agrees(compiled, piece, max_row)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.tuples(st.sampled_from([None, "n", "s", "str", "b", "inlineStr"]),
                                 st.sampled_from(["0", "1", "2", "-0", "2.5", "1e3", "true", "中&amp;"])),
                       max_size=8),
       formula=st.booleans(), style=st.booleans())
def test_a_plain_row_is_read_by_the_compiled_code(compiled, values, formula, style):
    """The common form is read in C, not left to the Python code (else the first test
    would hold for a module that reads nothing)."""
    body = []
    for k, (kind, raw) in enumerate(values):
        ok = {"n": raw[0].isdigit() or raw[0] == "-", None: raw[0].isdigit() or raw[0] == "-",
              "s": raw in ("0", "1", "2"), "b": raw in ("0", "1", "true"), "str": True,
              "inlineStr": True}[kind]
        assume(ok)
        t = f' t="{kind}"' if kind else ""
        s = ' s="3"' if style else ""
        f = "<f>A1+1</f>" if formula and kind != "inlineStr" else ""
        inner = f"<is><t>{raw}</t></is>" if kind == "inlineStr" else f"<v>{raw}</v>"
        body.append(f'<c r="{"ABCDEFGH"[k]}7"{s}{t}>{f}{inner}</c><c r="Z{k + 1}" s="1"/>')
    piece = ('\n<row r="7" spans="1:9" ht="18" customHeight="1">' + "".join(body)).encode()
    assert assert_agrees(compiled, piece)


def test_awkward_values_read_exactly_as_the_python_code_reads_them(compiled):
    """By hand, each value against its own expectation (not only against the Python code)."""
    def row(*cells: str) -> bytes:
        return ('<row r="1">' + "".join(cells)).encode()

    def entry(*cells: str):
        return compiled.scan_row(row(*cells), Sink(), 10, LONG)

    got = entry('<c r="A1"><v>-0</v></c>', '<c r="B1"><v>2.5</v></c>', '<c r="C1"><v>1e3</v></c>',
                '<c r="D1"><v>9007199254740993</v></c>', '<c r="E1" t="b"><v>1</v></c>',
                '<c r="F1" t="s"><v>003</v></c>', '<c r="G1" t="inlineStr"><is><t>a&amp;&#x4E2D;&#13;</t></is></c>',
                '<c r="H1" t="str"><f>"x"&amp;"y"</f><v></v></c>', '<c r="I1"><f/></c>', '<c r="J1" s="2"/>')
    assert got is not None
    contents, cached, count = got
    assert [(k, type(v), v) for k, v in contents.items()] == [
        ("A1", int, 0), ("B1", float, 2.5), ("C1", int, 1000), ("D1", float, 9007199254740992.0),
        ("E1", bool, True), ("F1", str, "x" * 3), ("G1", str, "a&中\r"), ("H1", str, '="x"&"y"'),
        ("I1", str, "=")]
    assert cached == {"H1": "", "I1": None} and count == 10
    for odd in ("1e400", "nan", "1_0", " 1", "0x10", "١", "inf"):  # the Python code says what is wrong
        assert entry(f'<c r="A1"><v>{odd}</v></c>') is None
    for cell in ('<c r="A1" t="s"><v>4</v></c>', '<c r="A1" t="s"><v>99999999999999999999999</v></c>',
                 '<c r="A1"><v>&#1;</v></c>', '<c r="A1" t="str"><v>&#xD800;</v></c>',
                 '<c r="A1"><f t="shared" si="0"/><v>1</v></c>', '<c r="A1" t="b"><v>2</v></c>',
                 '<c r="A1" s="1" s="1"><v>1</v></c>', '<c r="A1" r="A1"><v>1</v></c>', '<c r="A1"><v>1</v>'):
        assert entry(cell) is None, cell
    for start in ('<row r="0">', '<row r="11">', '<row r="1" r="2">', '<row r="1" ht="1" ht="1">',
                  '<row r="1"><row r="2">', '<row>'):
        assert compiled.scan_row(start.encode(), Sink(), 10, LONG) is None, start
    assert compiled.scan_row(b'<row r="1">' + b"\xe4\xb8", Sink(), 10, LONG) is None  # cut in a character


def test_the_shared_strings_are_asked_for_once_and_only_when_a_cell_needs_them(compiled):
    sink = Sink()
    assert compiled.scan_row(b'<row r="1"><c r="A1"><v>1</v></c><c r="B1" t="s"/></row>'[:-6], sink, 9, LONG)
    assert sink.asked == 0
    piece = b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>2</v></c>'
    assert compiled.scan_row(piece, sink, 9, LONG)[0] == {"A1": "甲", "B1": "b c"} and sink.asked == 1

    class Broken(Sink):
        def strings(self):
            raise Bad("the shared strings part is damaged")
    with pytest.raises(Bad):  # its error goes up, as from the Python code
        compiled.scan_row(piece, Broken(), 9, LONG)


def test_a_long_row_is_left_to_the_python_code_which_marks_the_sheet(compiled):
    cell = '<c r="A1" t="inlineStr"><is><t>' + "长" * 3000 + "</t></is></c>"  # 9,000 bytes, 3,000 characters
    piece = ('<row r="1">' + cell).encode()
    assert compiled.scan_row(piece, Sink(), 9, LONG) is None  # longer than LONG_TEXT bytes
    assert compiled.scan_row(piece, Sink(), 9, len(piece)) is not None


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300) | st.builds(lambda a, b: a + b, rows(), st.binary(max_size=20)))
def test_bytes_at_random_are_refused_or_read_as_the_python_code_reads_them(compiled, data):
    assert_agrees(compiled, data)
    assert_agrees(compiled, b'<row r="1">' + data)


def test_every_cut_of_a_plain_row_is_refused_or_read_as_the_python_code_reads_it(compiled):
    piece = ('\n<row r="5" spans="1:4"><c r="A5" s="1" t="s"><v>1</v></c><c r="B5" s="2"/>'
             '<c r="C5"><f>SUM(A1:A4)&amp;"中"</f><v>-1.5e-3</v></c>'
             '<c r="D5" t="inlineStr"><is><t xml:space="preserve"> 甲 &#x4E59; </t></is></c>').encode()
    assert assert_agrees(compiled, piece)
    read = sum(assert_agrees(compiled, piece[:k]) for k in range(len(piece)))
    assert read >= 4  # the cuts after a whole cell


def test_big_rows_are_read_in_one_pass(compiled):
    """A million cells (empty, and each holding a number), and the same with one bad cell at
    the end: read, or refused, in one pass (a quadratic reader would not end)."""
    empty = b'<row r="1">' + b'<c r="A1" s="1"/>' * 1_000_000
    full = b'<row r="1">' + b'<c r="B1"><v>1.5</v></c>' * 500_000
    for piece in (empty, full):
        got = compiled.scan_row(piece, Sink(), 9, len(piece))
        assert got is not None and got[2] == piece.count(b"<c ")
        assert compiled.scan_row(piece + b'<c r="A1"><x/></c>', Sink(), 9, len(piece) + 99) is None
        assert compiled.scan_row(piece, Sink(), 9, LONG) is None  # too long: the Python code marks it


# --- the defined names ------------------------------------------------------------------

def names_by_python(body: str):
    """(names, cells) plain_scan.scan_workbook gives in Python for this <definedNames> body."""
    part = ('<workbook><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>'
            f"<definedNames>{body}</definedNames></workbook>").encode()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plain_scan, "compiled", None)
        got = plain_scan.scan_workbook(part)
    return None if got is None else (got[1], got[2])


SHEET = st.text(alphabet="'!$ABZ019 中&;<>\"\t\u3000\x85\x01", max_size=8)
REF = st.sampled_from(["$A$1", "A1", "$XFD$1048576", "XFD1048577", "$A$0", "AAAA1", "$B$2:$C$3", "#REF!",
                       "A$1", "$A1", "A12345678", ""])


@st.composite
def name_entries(draw) -> str:
    name = draw(st.sampled_from(["KPI_总分", "_xlnm._FilterDatabase", "a.b", "名", "x y", "", 'q"']))
    sheet = draw(SHEET)
    quoted = draw(st.sampled_from(["plain", "quoted", "doubled"]))
    if quoted == "quoted":
        sheet = f"'{sheet}'"
    elif quoted == "doubled":
        sheet = "'" + sheet.replace("'", "''") + "'"
    text = draw(st.sampled_from([f"{sheet}!{draw(REF)}", draw(REF), "1+2", "", f"SUM({sheet}!A1)"]))
    local = draw(st.sampled_from(["", ' localSheetId="0"', ' localSheetId="12"', ' localSheetId="0007"',
                                  ' localSheetId="1234567890"', ' localSheetId=""']))
    hidden = draw(st.sampled_from(["", ' hidden="1"', ' hidden="0"', ' comment="x"']))
    order = draw(st.booleans())
    ws = st.sampled_from(["", " ", "\n", "\t", "\r"])
    attrs = local + hidden if order else hidden + local
    return f'{draw(ws)}<definedName name="{name}"{attrs}{draw(ws)}>{text}</definedName>{draw(ws)}'


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(name_entries(), max_size=6), cut=st.integers(0, 3))
def test_the_defined_names_read_as_the_python_code_reads_them_or_are_left_to_it(compiled, entries, cut):
    body = "".join(entries)
    if cut == 1 and body:
        body = body[:len(body) // 2]
    fast = compiled.scan_names(body)
    slow = names_by_python(body)
    if fast is not None:
        assert fast == slow, body
        assert [type(s) for _, s, _ in fast[0]] == [type(s) for _, s, _ in slow[0]]  # type: ignore[index]


def test_the_usual_names_are_read_by_the_compiled_code(compiled):
    body = "".join(f'<definedName name="KPI_{k}" localSheetId="{k % 3}">\'张 {k}\'!$B${k + 1}</definedName>'
                   for k in range(50)) + \
        '<definedName name="_xlnm._FilterDatabase" localSheetId="1" hidden="1">S!$A$1:$B$2</definedName>' + \
        "<definedName name=\"B\">'it''s'!$A$1</definedName><definedName name=\"C\">'a!b'!$A$1</definedName>" + \
        '<definedName name="D">中!A1</definedName><definedName name="E">\u3000S!A1</definedName>\n'
    fast = compiled.scan_names(body)
    assert fast is not None and fast == names_by_python(body)
    names, cells = fast
    assert names[7] == ("KPI_7", 1, "'张 7'!$B$8") and cells[7] == "B8"
    assert cells[50:] == [None, None, None, "A1", None]  # a range, '' or ! inside quotes, a space first
    for odd in ('<definedName name="A" comment="x">S!A1</definedName>', '<definedName name="A">S&amp;T</definedName>',
                '<definedName name="A">S!A1</definedName><!-- -->', '<definedName name="A">\x01</definedName>',
                '<definedName name="A" localSheetId="1234567890">S!A1</definedName>', '<definedName name="A">S!A1'):
        assert compiled.scan_names(odd) is None, odd


# --- whole books, with and without the extension ----------------------------------------------

def read_all(path: Path) -> tuple:
    """Everything a report reads of a book: each sheet's contents and cached results with
    their types, and the defined names as the book keeps them."""
    with Book.open(path) as book:
        sheets = {}
        for name in book.sheet_names:
            data = book.sheet(name)
            sheets[name] = ([(k, type(v).__name__, repr(v)) for k, v in data.contents.items()],
                            [(k, type(v).__name__, repr(v)) for k, v in data.cached.items()], data.long_text)
        return (sheets, book.sheet_names, book.parts, book.defined, book.names, book.broken, book.repeated,
                book.elsewhere)


def assert_same_with_and_without(path: Path, compiled, monkeypatch) -> None:
    calls = {"rows": 0, "row": 0, "names": 0}

    class Counting:
        VERSION = 2

        @staticmethod
        def scan_rows(*args):
            got = compiled.scan_rows(*args)
            calls["rows"] += got is not None
            return got

        @staticmethod
        def scan_row(*args):
            got = compiled.scan_row(*args)
            calls["row"] += got is not None
            return got

        @staticmethod
        def scan_names(body):
            got = compiled.scan_names(body)
            calls["names"] += got is not None
            return got

    monkeypatch.setattr(plain_scan, "compiled", Counting)
    fast = read_all(path)
    monkeypatch.setattr(plain_scan, "compiled", None)
    assert read_all(path) == fast, path
    assert calls["rows"] > 0 and calls["names"] == 1, calls  # the compiled code did read them


def test_the_books_of_the_demo_read_the_same_with_and_without_the_extension(demo_run, compiled, monkeypatch):
    code, _, _, out = demo_run  # the session's demo (conftest)
    assert code == 0
    for path in (out / "2026-10" / "scorecards.xlsx", out / "2026-10" / "report.xlsx", out / "history.xlsx"):
        assert_same_with_and_without(path, compiled, monkeypatch)


def test_the_benchs_book_of_1000_cards_reads_the_same_with_and_without_the_extension(tmp_path, compiled,
                                                                                      monkeypatch):
    for step in ("new", "fill"):  # the bench's own book: 1,000 scorecards, filled
        done = subprocess.run([sys.executable, "-m", "bench.steps", step, str(tmp_path), "1000"], cwd=ROOT,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
    assert_same_with_and_without(tmp_path / "one.xlsx", compiled, monkeypatch)


def test_a_row_read_in_c_is_kept_in_the_memo_as_the_python_code_keeps_it(compiled, monkeypatch):
    part = (b'<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><f>A1</f><v>2</v></c></row>'
            b'<row r="2"><c r="A2"><f t="shared" ref="A2:A3" si="0">B1</f><v>1</v></c></row>'
            b'</sheetData></worksheet>')
    memos = []
    for handle in (compiled, None):
        monkeypatch.setattr(plain_scan, "compiled", handle)
        sink = Sink({})
        assert plain_scan.scan_sheet(part, sink, 9)
        memos.append({k: typed(v) for k, v in sink.rows_memo.items()})
    assert memos[0] == memos[1] and len(memos[0]) == 1  # the shared formula's row is never kept


# --- a whole <sheetData>, its rows looked up in the memo ------------------------------------

class CountingSink(Sink):
    def __init__(self, memo):
        super().__init__(memo)
        self.counted: list[int] = []

    def count(self, n):
        self.counted.append(n)


def by_rows(data: bytes, memo: dict, handle) -> tuple:
    """What plain_scan._rows_memoised does with ``data`` (the Python code alone when
    ``handle`` is None): its answer, the sink's contents, results and counts, and the memo."""
    sink = CountingSink(memo)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plain_scan, "compiled", handle)
        try:
            done: object = plain_scan._rows_memoised(data, sink, memo, 1000)  # type: ignore[arg-type]
        except Bad as bad:
            done = f"bad: {bad}"
    return (done, typed((sink.contents, sink.cached, 0)), sum(sink.counted), sink.long_text,
            {k: typed(v) for k, v in memo.items()})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sheets=st.lists(st.lists(rows(), max_size=4), min_size=1, max_size=3),
       tail=st.sampled_from([b"", b"\n", b" \t\n", b"x", b'<row r="9">', b"\r"]))
def test_the_rows_of_sheets_read_with_the_memo_as_the_python_code_reads_them(compiled, sheets, tail):
    """Sheets sharing one memo (rows read before are taken from it): scan_rows reads a whole
    <sheetData> as _rows_memoised does, or returns None with nothing counted or changed."""
    memo_c: dict = {}
    memo_py: dict = {}
    for pieces in sheets:
        data = b"</row>".join(pieces) + (b"</row>" if pieces else b"") + tail
        before = {k: typed(v) for k, v in memo_c.items()}
        sink = CountingSink(memo_c)
        try:
            fast = compiled.scan_rows(data, memo_c, sink, 1000, LONG, plain_scan.ROWS_MEMO_LIMIT)
        except Bad:
            fast = "bad"
        if fast is None:  # nothing put or kept, the count taken back: the Python code reads it
            assert (sum(sink.counted), sink.contents, sink.cached) == (0, {}, {})
            assert {k: typed(v) for k, v in memo_c.items()} == before
            by_rows(data, memo_c, None)  # as plain_scan then does
        elif fast == "bad":
            assert by_rows(data, memo_py, None)[0].startswith("bad")
            memo_c.clear()
            memo_py.clear()
            continue
        else:
            assert fast is True
            got = (True, typed((sink.contents, sink.cached, 0)), sum(sink.counted), sink.long_text,
                   {k: typed(v) for k, v in memo_c.items()})
            assert got == by_rows(data, memo_py, None)
            continue
        by_rows(data, memo_py, None)
        assert {k: typed(v) for k, v in memo_c.items()} == {k: typed(v) for k, v in memo_py.items()}


def test_a_sheet_of_known_and_new_rows_is_read_in_c_and_what_is_not_plain_left_to_python(compiled):
    plain = b'<row r="1"><c r="A1"><v>1</v></c><c r="B1" s="1"/></row>\n<row r="2"><c r="A2" t="s"><v>0</v></c></row>'
    memo: dict = {}
    sink = CountingSink(memo)
    assert compiled.scan_rows(plain + b"\n", memo, sink, 9, LONG, 10) is True
    assert (sink.contents, sink.counted, len(memo)) == ({"A1": 1, "A2": "甲"}, [3], 2)
    again = CountingSink(memo)
    assert compiled.scan_rows(plain, memo, again, 9, LONG, 10) is True and again.counted == [3]
    assert compiled.scan_rows(plain, {}, CountingSink({}), 9, LONG, 1) is True  # the memo's limit
    kept: dict = {}
    compiled.scan_rows(plain, kept, CountingSink(kept), 9, LONG, 1)
    assert len(kept) == 1
    shared = plain + b'<row r="3"><c r="A3"><f t="shared" si="0"/><v>1</v></c></row>'
    for odd in (shared, plain + b"x", plain + b'<row r="3">', plain.replace(b'r="2"', b'r="0"'), plain + b"\r"):
        memo = {}
        sink = CountingSink(memo)
        assert compiled.scan_rows(odd, memo, sink, 9, LONG, 10) is None, odd
        assert (sum(sink.counted), sink.contents, memo) == (0, {}, {})  # any count taken back

    class Full(CountingSink):
        def count(self, n):
            raise Bad("too many cells")
    memo = {}
    with pytest.raises(Bad):  # the book's limit, before anything is put or kept
        compiled.scan_rows(plain, memo, Full(memo), 9, LONG, 10)
    assert memo == {}


@pytest.mark.usefixtures("either_reader")
def test_a_name_or_sheet_outside_the_usual_places_leaves_the_workbook_part_to_expat():
    """Names and sheets are counted outside <definedNames> only (its body is read whole, and a
    name's text holds no "<"): one found there — or a sheet or name element in the body —
    leaves the part to expat."""
    def part(before: str = "", body: str = "", after: str = "") -> bytes:
        return ('<workbook><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>' + before +
                '<definedNames><definedName name="A">S!$A$1</definedName>' + body + "</definedNames>" + after +
                "</workbook>").encode()

    assert plain_scan.scan_workbook(part()) == ([("S", "rId1")], [("A", None, "S!$A$1")], ["A1"])
    for odd in (part(after='<definedName name="B">S!$A$2</definedName>'), part(before="<definedName>S!A1</definedName>"),
                part(body='<sheet name="T" sheetId="2"/>'),
                part(body="<definedName>S!A1</definedName>")):
        assert plain_scan.scan_workbook(odd) is None, odd


# --- which module is used; what comes first; what is built before the count ----------------

def test_a_module_built_from_another_source_is_never_used(monkeypatch):
    """plain_scan uses the module only when its SOURCE_SHA256 is the digest of the
    plain_scan.c beside plain_scan.py (another checkout's build, installed, is not)."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    monkeypatch.delenv("KPI_WORKBOOK_PURE_PYTHON", raising=False)
    for theirs, used in (("0" * 64, False), ("", False), (None, False), (digest.upper(), False), (digest, True)):
        fake = types.ModuleType("kpi_workbook_scan")
        fake.VERSION = 2  # type: ignore[attr-defined]
        if theirs is not None:
            fake.SOURCE_SHA256 = theirs  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "kpi_workbook_scan", fake)
        assert (plain_scan.load_compiled() is fake) == used, theirs


def test_a_stale_build_first_on_the_path_is_not_used_by_a_source_tree(tmp_path, built_scanner):
    """A module built from other source (here: this source, said to be another) first on the
    path is left aside; the one built from this source is used — in a new process, as a source
    tree run with PYTHONPATH=$PWD imports them."""
    (tmp_path / "stale").mkdir()
    stale = build(tmp_path / "stale", digest="0" * 64)
    _, fresh = built_scanner
    probe = "from kpi_workbook.workbook.xlsx import plain_scan as p; print(p.compiled and p.compiled.__file__)"
    for folder, expected in ((stale.parent, "None"), (fresh, str(fresh))):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(ROOT)])}
        env.pop("KPI_WORKBOOK_PURE_PYTHON", None)
        done = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().startswith(expected), (folder, done.stdout)


def test_the_either_reader_fixture_reads_each_way_here_and_in_the_processes_started(either_reader):
    """Its compiled way is never the Python code in disguise (no module imported: one is built)."""
    compiled_way = either_reader == "compiled"
    assert (plain_scan.compiled is not None) == compiled_way
    probe = "from kpi_workbook.workbook.xlsx import plain_scan as p; print(p.compiled is not None)"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(compiled_way)


_CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
       'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
       'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
       'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
       'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType='
       '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
         '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WB = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
       '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
       '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://'
            'schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"'
            '/></Relationships>')
_DAMAGED_STRINGS = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
                    'spreadsheetml/2006/main"><si><t>a</t></si')  # not XML: an error when read


def _book_with_damaged_strings(path: Path, sheet_data: str) -> Path:
    import zipfile
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        z.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://'
                   'schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' + sheet_data +
                   "</sheetData></worksheet>")
        z.writestr("xl/sharedStrings.xml", _DAMAGED_STRINGS)
    return path


@pytest.mark.parametrize("shared_formula", [False, True], ids=["whole-sheet", "row-by-row"])
def test_an_earlier_rows_error_and_the_cell_limit_come_before_the_shared_strings(tmp_path, compiled, monkeypatch,
                                                                               shared_formula):
    """The compiled reader refuses what the Python code refuses, with its sentence: a bad cell
    in row 1 before the (damaged) shared strings a cell of row 2 needs; the book's cell limit
    before either. Both through scan_rows and through the row-by-row loop (a shared formula's
    row in the sheet sends the sheet there)."""
    last = '<row r="3"><c r="A3"><f t="shared" ref="A3" si="0">1</f><v>1</v></c></row>' if shared_formula else ""
    bad_bool = _book_with_damaged_strings(tmp_path / "bool.xlsx", '<row r="1"><c r="A1" t="b"><v>x</v></c></row>'
                                          '<row r="2"><c r="A2" t="s"><v>0</v></c></row>' + last)
    many = _book_with_damaged_strings(tmp_path / "many.xlsx", '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v>'
                                      '</c><c r="C1" t="s"><v>0</v></c></row>' + last)

    def refusal(path: Path, handle) -> str:
        monkeypatch.setattr(plain_scan, "compiled", handle)
        with pytest.raises(Exception) as refused:
            Book(str(path)).sheet("S")
        return str(refused.value)

    python = refusal(bad_bool, None)
    assert "A1" in python and "'x'" in python and "sharedStrings" not in python
    assert refusal(bad_bool, compiled) == python
    monkeypatch.setenv("KPI_WORKBOOK_MAX_CELLS", "2")
    python = refusal(many, None)
    assert "2" in python and "sharedStrings" not in python and "too-large" in python
    assert refusal(many, compiled) == python


def test_no_cell_is_built_nor_the_shared_strings_asked_for_before_the_book_s_cell_limit(compiled):
    """scan_rows counts the cells (sink.count) before it builds one: a sheet over the limit
    costs about its own size in memory (its rows' bytes, the memo's keys), not its cells'."""
    import tracemalloc
    rows = b"".join(b'<row r="%d">' % r + b"".join(b'<c r="%s%d" t="s"><v>%d</v></c>' % (col, r, r)
                                                   for col in (b"A", b"B", b"C", b"D", b"E", b"F", b"G", b"H"))
                    + b"</row>" for r in range(1, 4001))

    class Full(Sink):
        def count(self, n):
            raise Bad(f"{n} cells: too many")

    sink = Full({}, strings=[str(k) for k in range(4001)])
    tracemalloc.start()
    try:
        with pytest.raises(Bad, match="32000 cells"):
            compiled.scan_rows(rows, sink.rows_memo, sink, 10_000, LONG, plain_scan.ROWS_MEMO_LIMIT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.asked == 0 and sink.contents == {} and sink.rows_memo == {}
    assert peak < 1.5 * len(rows), (peak, len(rows))  # the cells built would take several times more


def test_a_sheet_with_a_shared_formula_costs_scan_rows_nothing_and_its_rows_are_read_in_c_once(compiled,
                                                                                                 monkeypatch):
    """Rows with "<f " never enter the memo: scan_rows gives up at one before it builds a row
    (nor asks for the shared strings, nor counts), and the row-by-row loop reads each new
    plain row in C once."""
    data = (b'<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2"><v>2</v></c></row>'
            b'<row r="3"><c r="A3"><f t="shared" ref="A3" si="0">A1</f><v>1</v></c></row>')
    sink = CountingSink({})
    assert compiled.scan_rows(data, sink.rows_memo, sink, 9, LONG, plain_scan.ROWS_MEMO_LIMIT) is None
    assert (sink.asked, sink.counted, sink.contents, sink.rows_memo) == (0, [], {}, {})
    calls: list[str] = []
    monkeypatch.setattr(plain_scan, "compiled", _spy(compiled, calls))
    assert plain_scan._rows_memoised(data, sink, sink.rows_memo, 9)  # type: ignore[arg-type]
    assert calls == ["rows", "row", "row"] and sink.counted == [3] and sink.asked == 1
    assert (sink.contents["A1"], sink.contents["A2"], len(sink.rows_memo)) == ("甲", 2, 2)


def test_a_row_the_python_code_refuses_for_its_row_tags_never_asks_for_the_shared_strings(compiled):
    """plain_scan._rows_plain refuses a piece with a second row tag before any cell is read:
    the compiled reading steps aside before it asks for the strings (which may be damaged)."""
    class Damaged(Sink):
        def strings(self):
            self.asked += 1
            raise Bad("damaged shared strings")

    for piece in (b'<row r="1"><c r="A1" t="s"><v>0</v></c></cow><row r="2"><c r="A2" t="s"><v>1</v></c>',
                  b'<row r="1"><c r="A1" t="s"><v>0</v></c><row r="2">', b'<row r="1"><c r="A1" t="s"><v>0</v></c><row'):
        assert by_python(piece, 9) == "rows"
        sink = Damaged()
        assert compiled.scan_row(piece, sink, 9, LONG) is None and sink.asked == 0, piece
        memo: dict = {}
        data = piece + b"</row>"
        assert compiled.scan_rows(data, memo, CountingSink(memo), 9, LONG, 10) is None
