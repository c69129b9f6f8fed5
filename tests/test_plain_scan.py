"""The fast reader of sheet parts (plain_scan.py) reads what expat reads, or steps aside.

Every sheet of the books the suite makes — by `new`, by `fill`, saved by openpyxl through
lxml, recalculated and saved by LibreOffice and by Gnumeric (test_plain_scan_saved.py: they
need the session's month book) — is read both ways and the results compared value for
value and type for type; and on sheets mutated at random the fast reader never accepts what
expat refuses, nor reads anything differently.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_workbook.diagnostics import KpiError
from kpi_workbook.workbook.xlsx import package, plain_scan
from kpi_workbook.workbook.xlsx.package import Book, SheetData, _PlainSheet, _SheetReader

from .readers import either_reader  # noqa: F401  (a fixture)

# every test both ways: with the compiled scanner and with the Python code alone
pytestmark = pytest.mark.usefixtures("either_reader")


def by_expat(book: Book, name: str, raw: bytes | None = None) -> SheetData:
    """The sheet as expat reads it (``raw``: these bytes instead of the book's part)."""
    reader = _SheetReader(book, name)
    if raw is None:
        book._parse(book.parts[name], reader.start, reader.end, reader.text, sheet=name, holder=reader)
    else:
        reader.parser = package._parser(reader.start, reader.end, reader.text)
        reader.parser.Parse(raw, True)
    reader.finish()
    return reader.data


def by_scan(book: Book, name: str, raw: bytes | None = None) -> SheetData | None:
    sink = _PlainSheet(book, name)
    raw = book.read(book.parts[name]) if raw is None else raw
    return sink.finish() if plain_scan.scan_sheet(raw, sink, book.limits.rows) else None


def typed(data: SheetData) -> tuple[dict, dict]:
    """Contents and cached results with each value's type beside it (1 is not 1.0 nor True)."""
    return ({k: (type(v).__name__, v) for k, v in data.contents.items()},
            {k: (type(v).__name__, v) for k, v in data.cached.items()})


def expat_patching(data: bytes, refs) -> tuple[dict, bytes]:
    """Where ``refs`` are and the part without cached results, as expat finds them."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(package, "cell_spans", lambda data, refs: None)
        mp.setattr(package, "drop_cached", lambda data: None)
        return package.cell_elements(data, refs), package._drop_cached(data)


def assert_patching_agrees(data: bytes, plain: bool = True) -> None:
    """plain_scan's cell positions and dropped results equal expat's (or, for a part that
    is not ``plain``, they may step aside)."""
    every = sorted({m.decode() for m in re.findall(rb'<c r="([A-Z]+[0-9]+)"', data)})
    column = every[len(every) // 2].rstrip("0123456789") if every else ""
    one_column = [r for r in every if r.rstrip("0123456789") == column][::2]  # what fill writes
    for refs in (every[::3], every[1:6], one_column):  # many cells, a few, rows of one column
        spans, dropped = plain_scan.cell_spans(data, refs), plain_scan.drop_cached(data)
        with pytest.MonkeyPatch.context() as mp:  # every cell tested, not those of a few columns
            mp.setattr(plain_scan, "FEW_COLUMNS", 0)
            assert plain_scan.cell_spans(data, refs) == spans
        if plain:
            assert spans is not None and dropped is not None
        slow_spans, slow_dropped = expat_patching(data, refs)
        assert spans is None or spans == slow_spans
        assert dropped is None or dropped == slow_dropped


def assert_same_both_ways(path: Path, every: int = 1) -> int:
    """Every sheet (or every ``every``-th) of ``path`` read by the scan equals expat's
    reading, and so do the cells' positions and the part without cached results that fill's
    patch uses; the number of sheets the scan read (it must read them all: these are plain
    books)."""
    read = 0
    with Book.open(path) as book:
        for name in book.sheet_names[::every]:
            fast = by_scan(book, name)
            assert fast is not None, f"{path.name}[{name}] is plain but the scan stepped aside"
            assert typed(fast) == typed(by_expat(book, name)), f"{path.name}[{name}]"
            assert_patching_agrees(book.read(book.parts[name]))
            read += 1
    return read


@pytest.fixture(scope="module")
def demo(demo_run) -> Path:
    code, _, _, out = demo_run  # the session's demo (conftest): three months, nothing written into
    assert code == 0
    return out


@pytest.fixture(scope="module")
def small_book(demo) -> Path:
    return demo / "2026-10" / "scorecards.xlsx"  # filled: numbers, texts, formulas, results


def test_the_books_of_the_demo_read_the_same_both_ways(demo):
    assert assert_same_both_ways(demo / "2026-10" / "scorecards.xlsx") >= 40  # 47 people
    assert assert_same_both_ways(demo / "2026-10" / "report.xlsx") >= 4
    assert assert_same_both_ways(demo / "history.xlsx") >= 1


@pytest.fixture(scope="module")
def saved_by_openpyxl(small_book, tmp_path_factory) -> Path:
    """The demo's scorecards loaded and saved by openpyxl (through lxml): saved once, read by
    each reader (the save is most of the test's time)."""
    path = tmp_path_factory.mktemp("openpyxl") / "saved.xlsx"
    openpyxl.load_workbook(small_book).save(path)
    return path


def test_a_book_saved_by_openpyxl_through_lxml_reads_the_same_both_ways(saved_by_openpyxl):
    assert assert_same_both_ways(saved_by_openpyxl) >= 40


def test_the_workbook_part_reads_the_same_both_ways(small_book, monkeypatch):
    with Book.open(small_book) as fast:
        assert plain_scan.scan_workbook(fast.read("xl/workbook.xml")) is not None  # read by the scan
    monkeypatch.setattr(package, "scan_workbook", lambda part: None)  # now by expat
    with Book.open(small_book) as slow:
        assert (fast.sheet_names, fast.parts, fast.defined, fast.names, fast.broken) == \
            (slow.sheet_names, slow.parts, slow.defined, slow.names, slow.broken)
    assert sum(n.startswith("KPI_") for n, _, _ in fast.defined) > 40 * 5


def test_a_row_is_read_once_per_book_but_a_shared_formula_in_its_own_sheet(small_book):
    """The scan reads each distinct row of a book once (the scorecards of a role share
    most rows). A shared formula's cells take their text from the row of its first cell:
    two sheets whose second rows are the same text, under first rows that differ, each
    read their own — as expat reads them."""
    def part(master: str, value: str) -> bytes:
        return ('<worksheet><sheetData>'
                f'<row r="1"><c r="A1"><f t="shared" ref="A1:A2" si="0">{master}</f><v>1</v></c>'
                f'<c r="B1" t="inlineStr"><is><t>{value}</t></is></c></row>'
                '<row r="2"><c r="A2"><f t="shared" si="0"/><v>2</v></c><c r="B2"><v>7</v></c></row>'
                '<row r="3"><c r="A3"><f>B3*2</f><v>3</v></c><c r="B3" t="inlineStr"><is><t>同</t></is></c></row>'
                '</sheetData></worksheet>').encode()
    with Book.open(small_book) as book:
        name = book.sheet_names[0]
        first, second = part("B1+1", "甲"), part("C1*2", "乙")
        read = [by_scan(book, name, first), by_scan(book, name, second)]
        assert len(book.rows_memo) >= 1  # row 3 was read once, then taken from the memo
        assert read[0] is not None and read[1] is not None
        assert read[0].contents == {"A1": "=B1+1", "B1": "甲", "A2": "=B2+1", "B2": 7, "A3": "=B3*2", "B3": "同"}
        assert read[1].contents == {"A1": "=C1*2", "B1": "乙", "A2": "=C2*2", "B2": 7, "A3": "=B3*2", "B3": "同"}
        assert read[1].cached == {"A1": 1, "A2": 2, "A3": 3}
        for data, raw in zip(read, (first, second)):
            assert typed(data) == typed(by_expat(book, name, raw))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(alphabet="'!$ABZ019 中&;amp#<>\"", max_size=14) |
                      st.sampled_from(["'E1 员工1'!$B$2", "Sheet1!A1", "'It''s'!$C$3", "'a!b'!$A$1",
                                       "S!$A$1:$B$2", "#REF!", "'x'!#REF!", "S!$XFD$1048576",
                                       " S!A1", "S!A1 ", "'S'!$1:$5", "&amp;S!A1", "S!$A1"]),
                      min_size=1, max_size=6))
def test_the_cell_of_each_name_is_the_one_single_cell_reads(texts):
    """The workbook scan gives a name's cell when its text is one cell in the plain form
    (and None to leave it to ``single_cell``): never another cell than single_cell reads."""
    from xml.sax.saxutils import escape
    names = "".join(f'<definedName name="N{k}" localSheetId="0">{escape(t)}</definedName>'
                    for k, t in enumerate(texts))
    part = ('<workbook><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>'
            f"<definedNames>{names}</definedNames></workbook>").encode()
    scanned = plain_scan.scan_workbook(part)
    assert scanned is not None  # escaped texts are always plain
    _, defined, cells = scanned
    assert [text for _, _, text in defined] == texts
    for text, cell in zip(texts, cells):
        found = package.single_cell(text)
        assert cell is None or (found is not None and cell == found[1]), (text, cell, found)
    if "'E1 员工1'!$B$2" in texts:  # the usual form is read by the scan itself
        assert cells[texts.index("'E1 员工1'!$B$2")] == "B2"


def test_a_row_end_with_no_row_is_refused_though_the_same_text_ended_a_sheet_before(small_book):
    """What follows a sheet's last ``</row>`` (often nothing) is not a row: the same text
    before a ``</row>`` in another part — an end tag with no row open — must still make the
    scan step aside, as expat refuses it (found by the mutation property on a shared book)."""
    with Book.open(small_book) as book:
        name = next(n for n in book.sheet_names if "KPI_EMPLOYEE_ID" in book.names.get(n, {}))
        raw = book.read(book.parts[name])
        assert by_scan(book, name) is not None  # its rows, and its empty tail, read
        broken = raw.replace(b"<sheetData>", b"<sheetData></row>", 1)
        assert by_scan(book, name, broken) is None
        with pytest.raises(package.expat.ExpatError):
            by_expat(book, name, broken)


def test_a_cell_nested_in_a_formula_is_left_to_expat_which_closes_each_cell_on_its_own():
    """A cell element inside a formula's text is well-formed XML (though no sheet): the
    quick search for cells steps aside, and expat's search gives the outer cell its own
    end, not that of the cell inside it (found by the hypothesis test below)."""
    outer = '<c r="H16"><f>IF(<c r="B2" s="1"/>1)</f><v>3</v></c>'
    inner = '<c r="K9"><f>A<c r="Z1"><v>1</v></c></f></c>'
    part = ('<worksheet><sheetData><row r="16"><c r="A16"><v>1</v></c>' + outer + inner +
            '<c r="L16"><v>2</v></c></row></sheetData></worksheet>').encode()
    for refs in (["H16"], ["H16", "K9", "L16"], ["K9"]):
        assert plain_scan.cell_spans(part, refs) is None
    spans = package.cell_elements(part, ["H16", "K9", "L16"])
    start = part.index(b'<c r="H16"')
    assert spans["H16"][:2] == (start, start + len(outer))
    start = part.index(b'<c r="K9"')
    assert spans["K9"][:2] == (start, start + len(inner))
    assert part[slice(*spans["L16"][:2])] == b'<c r="L16"><v>2</v></c>'


@pytest.mark.parametrize("style", ["\r15", "\t15", "\n15", "1&#53;", "&amp;"])
def test_a_cell_style_that_expat_normalises_is_left_to_expat(style):
    """expat reads a tab, newline or CR in an attribute as a space and decodes references,
    so the quick search for the cells fill patches steps aside for such a style rather than
    give it as written (a CR in a style was found by the hypothesis test below)."""
    part = (f'<worksheet><sheetData><row r="2"><c r="F2" s="{style}" t="inlineStr"><is><t>x</t>'
            '</is></c><c r="G2" s="3"><v>1</v></c></row></sheetData></worksheet>').encode()
    assert plain_scan.cell_spans(part, ["F2", "G2"]) is None
    assert_patching_agrees(part, plain=False)
    plain = part.replace(f's="{style}"'.encode(), b's="15"')
    assert plain_scan.cell_spans(plain, ["F2", "G2"])["F2"][2] == "15"  # the plain form is read


# --- mutations: the scan accepts only what expat reads the same --------------------------

TOKENS = ['<c r="A1">', '<c r="B2" s="1"/>', "</c>", "<v>", "</v>", "<v/>", "<f>", "</f>",
          '<f t="shared" si="0"/>', "<row>", '<row r="3">', "</row>", '<row r="0"/>', "<is>",
          "<t>", "</t>", "</is>", "&amp;", "&#0;", "&#57;", "&bogus;", "&", "<", ">", '"',
          " r=\"C3\"", ' t="s"', ' t="b"', ' t="str"', ' s="1" s="2"', "\r", "\x01", "\t",
          "<!-- -->", "<![CDATA[x]]>", "]]>", "x", "1.5", "1e400", "-1", "中"]


@pytest.fixture(scope="module")
def one_sheet(small_book) -> tuple[Book, str, bytes]:
    """The book opened once for all the examples (opening its 47 sheets' names cost more
    than an example): each example passes its mutated part's bytes, the book gives its
    shared strings, its limits, far from reached (20 million cells), and the rows read so
    far (plain_scan reads a distinct row once per book): each example is read with the
    sheet's own rows and those of the examples before it known."""
    with Book.open(small_book) as book:
        name = next(n for n in book.sheet_names if "KPI_EMPLOYEE_ID" in book.names.get(n, {}))
        yield book, name, book.read(book.parts[name])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_mutated_sheet_is_read_as_expat_reads_it_or_left_to_expat(one_sheet, data):
    book, name, raw = one_sheet
    start, end = raw.index(b"<sheetData>") + 11, raw.index(b"</sheetData>")
    mutated = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(start, end))
        cut = data.draw(st.integers(0, 12))
        token = data.draw(st.sampled_from(TOKENS)).encode()
        mutated[at:at + cut] = token
        end += len(token) - cut
    assert by_scan(book, name) is not None  # the rows of the sheet as it was, known to the book
    fast_error: KpiError | None = None
    try:
        fast = by_scan(book, name, bytes(mutated))
    except KpiError as exc:  # a bad cell (a text in a number cell…): expat must say the same
        fast, fast_error = None, exc
    if fast is None and fast_error is None:  # stepped aside: expat reads it, whatever it is
        _patching_agrees_if_expat_reads(book, name, bytes(mutated))
        return
    try:
        slow = by_expat(book, name, bytes(mutated))
    except (package._Refused, package.expat.ExpatError) as exc:
        raise AssertionError(f"the scan read what expat refuses as XML: {exc}") from None
    except KpiError as exc:
        assert fast_error is not None, f"the scan read what expat refuses: {exc}"
        assert fast_error.diagnostics[0].cell == exc.diagnostics[0].cell
        return
    assert fast_error is None, f"the scan refused what expat reads: {fast_error}"
    assert fast is not None and typed(fast) == typed(slow)
    assert_patching_agrees(bytes(mutated), plain=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_cell_text_changed_at_random_reads_the_same_both_ways(one_sheet, data):
    """Values, formulas and types rewritten with text that is often still XML: the scan reads
    it as expat does, refuses the same cell, or steps aside."""
    book, name, raw = one_sheet
    text = raw.decode("utf-8")
    spots = [m.start(1) for m in re.finditer(r"<v>([^<]*)</v>", text)] + \
        [m.start(1) for m in re.finditer(r'<c r="[A-Z]+[0-9]+"( s="[0-9]+")', text)]
    at = data.draw(st.sampled_from(spots))
    stop = text.index("<" if text[at] != " " else ">", at)
    new = data.draw(st.text(alphabet='0123456789.-+eE &;#x<>"abc中\t\n\rts=', max_size=12) |
                    st.sampled_from([' t="s"', ' t="b"', ' t="str"', ' t="e"', ' t="d"', ' t="inlineStr"',
                                     "&#57;", "&lt;", "1e309", "-0", "99999", "TRUE"]))
    mutated = (text[:at] + new + text[stop:]).encode("utf-8")
    assert by_scan(book, name) is not None  # the rows of the sheet as it was, known to the book
    fast_error: KpiError | None = None
    try:
        fast = by_scan(book, name, mutated)
    except KpiError as exc:
        fast, fast_error = None, exc
    if fast is None and fast_error is None:
        _patching_agrees_if_expat_reads(book, name, mutated)
        return
    try:
        slow = by_expat(book, name, mutated)
    except (package._Refused, package.expat.ExpatError) as exc:
        raise AssertionError(f"the scan read what expat refuses as XML: {exc}") from None
    except KpiError as exc:
        assert fast_error is not None and fast_error.diagnostics[0].cell == exc.diagnostics[0].cell
        return
    assert fast_error is None, f"the scan refused what expat reads: {fast_error}"
    assert fast is not None and typed(fast) == typed(slow)
    assert_patching_agrees(mutated, plain=False)


def _patching_agrees_if_expat_reads(book: Book, name: str, data: bytes) -> None:
    """A part the scan left to expat can still be patched (fill reads it, then writes it):
    where the fast helpers answer, they answer as expat does."""
    try:
        by_expat(book, name, data)
    except (package._Refused, package.expat.ExpatError, KpiError):
        return  # not read, so never patched
    assert_patching_agrees(data, plain=False)


def test_the_scan_is_linear_on_a_part_built_to_make_expressions_backtrack(tmp_path):
    """A million empty cells, then one that is not plain: the scan steps aside after one
    pass over them. A backtracking expression would try each cell against all that follow
    (about 10¹² steps): run in a child process, that would not end within the time given,
    which is a hundred times what one pass takes here."""
    script = tmp_path / "attack.py"
    script.write_text(
        "from kpi_workbook.workbook.xlsx import plain_scan\n"
        "class Sink:\n"
        "    def __init__(self, memo): self.contents, self.cached, self.rows_memo = {}, {}, memo\n"
        "    def count(self, n): pass\n"
        "body = '<row r=\"1\">' + '<c r=\"A1\" s=\"1\"/>' * 1_000_000 + '<c r=\"A1\"><x/></c></row>'\n"
        "part = ('<worksheet><sheetData>' + body + '</sheetData></worksheet>').encode()\n"
        "for memo in (None, {}):  # the whole body at once, and row by row\n"
        "    assert plain_scan.scan_sheet(part, Sink(memo), 1_048_576) is False\n"
        "print('stepped aside')\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "stepped aside" in done.stdout, done.stderr


@pytest.mark.parametrize("declaration", ['<?xml version="1.0" encoding="windows-1252"?>',
                                         "<?xml version='1.0' encoding='windows-1252'?>"])
def test_a_part_in_another_encoding_is_left_to_expat(declaration):
    """"Ã©" in windows-1252 is the bytes C3 A9, which read as UTF-8 would be "é": only
    expat knows the declared encoding, so the scan steps aside however it is quoted."""
    part = (declaration + '<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
            "\u00c3\u00a9</t></is></c></row></sheetData></worksheet>").encode("cp1252")
    assert part.count(b"\xc3\xa9") == 1 and part.decode("utf-8")  # valid UTF-8 all the same

    class Sink:
        contents: dict = {}
        cached: dict = {}
        rows_memo: dict | None = {}

        def count(self, n):
            pass

    assert plain_scan.scan_sheet(part, Sink(), 1_048_576) is False
    plain = part.replace(b"windows-1252", b"UTF-8")
    assert plain_scan.scan_sheet(plain, Sink(), 1_048_576) is True
    assert Sink.contents == {"A1": "\u00e9"}


@pytest.mark.parametrize("inside", ["<!-- a comment -->", "<![CDATA[7]]>", "]]>"])
@pytest.mark.parametrize("where", ["cell", "after"])
def test_a_comment_cdata_or_cdata_end_leaves_the_part_to_expat(inside, where):
    """"<!" (a comment, CDATA, a DTD) or "]]>" anywhere in a part, even as the only "!" or
    "]" in it, sends the whole part to expat: the scan reads none of it, and the workbook
    scan neither."""
    cell = f'<c r="A1" t="inlineStr"><is><t>x{inside if where == "cell" else ""}</t></is></c>'
    part = (f'<worksheet><sheetData><row r="1">{cell}</row></sheetData>'
            f'{inside if where == "after" else ""}</worksheet>').encode()
    assert part.count(b"!") == part.count(b"<!") and part.count(b"]") == 2 * part.count(b"]]>")

    class Sink:
        contents: dict = {}
        cached: dict = {}
        rows_memo: dict | None = {}

        def count(self, n):
            pass

    assert plain_scan.scan_sheet(part, Sink(), 1_048_576) is False
    assert plain_scan.scan_sheet(part.replace(inside.encode(), b""), Sink(), 1_048_576) is True
    workbook = (f'<workbook><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>{inside}'
                '</workbook>').encode()
    assert plain_scan.scan_workbook(workbook) is None
    assert plain_scan.scan_workbook(workbook.replace(inside.encode(), b"")) is not None


# --- a part too big to hold: scanned a run of rows at a time ------------------------------

def by_chunks(book: Book, name: str, raw: bytes, size: int, hold: int = 1 << 30) -> SheetData | None:
    """The part scanned in chunks of ``size`` bytes (as Book.sheet scans a part over
    PLAIN_SCAN_BYTES), holding at most ``hold`` bytes of it."""
    sink = _PlainSheet(book, name)
    sink.rows_memo = None
    chunks = (raw[k:k + size] for k in range(0, len(raw), size))
    return sink.finish() if plain_scan.scan_sheet_chunks(chunks, sink, book.limits.rows, hold) else None


def test_a_big_part_reads_in_chunks_as_expat_reads_it(small_book, monkeypatch):
    """Every sheet of a book, each part "too big" (the limit put at 1 KB), is read by the
    chunked scan (no sheet goes to expat) and equals expat's reading, whatever the chunks."""
    calls = {"expat": 0}
    parse = Book._parse

    def counted(self, part, *args, **kwargs):
        calls["expat"] += part.startswith("xl/worksheets/")
        return parse(self, part, *args, **kwargs)

    with Book.open(small_book) as book:
        expected = {name: typed(by_expat(book, name)) for name in book.sheet_names}
        for size in (7, 100, 4096):
            for name in book.sheet_names[::5]:
                read = by_chunks(book, name, book.read(book.parts[name]), size)
                assert read is not None and typed(read) == expected[name], (name, size)
    monkeypatch.setattr(package, "PLAIN_SCAN_BYTES", 1024)
    monkeypatch.setattr(Book, "_parse", counted)
    with Book.open(small_book) as book:
        for name in book.sheet_names:
            assert typed(book.sheet(name)) == expected[name]
            assert book.sheet(name).long_text  # a big part's cells are looked at
    assert calls["expat"] == 0


def test_a_big_part_is_charged_once_to_the_book(small_book, monkeypatch):
    """The chunked pass is charged to the book's budget of inflated bytes once; when it steps
    aside, only expat's pass is (the part is not counted twice)."""
    with Book.open(small_book) as book:
        name = book.sheet_names[0]
        size = book.zip.getinfo(book.parts[name]).file_size
        before = book._budget[0]
        book.sheet(name)
        whole = before - book._budget[0]
    monkeypatch.setattr(package, "PLAIN_SCAN_BYTES", 1024)
    with Book.open(small_book) as book:
        before = book._budget[0]
        book.sheet(name)
        assert before - book._budget[0] == whole >= size
    monkeypatch.setattr(plain_scan, "_cells", lambda body, sink: (_ for _ in ()).throw(plain_scan.NotPlain()))
    with Book.open(small_book) as book:
        before = book._budget[0]
        read = book.sheet(name)  # the scan steps aside at its first run: expat reads it all
        assert before - book._budget[0] == whole and read.long_text


@pytest.mark.parametrize("size", [1, 3, 64, 1 << 20])
def test_a_big_part_steps_aside_where_the_whole_scan_does(one_sheet, size):
    """What makes scan_sheet step aside makes the chunked scan step aside too, wherever the
    chunks cut it: a comment or CDATA end, a second <sheetData>, another encoding, no end."""
    book, name, raw = one_sheet
    start = raw.index(b"<sheetData>")
    cases = [raw.replace(b"</sheetData>", b"<!-- x --></sheetData>"),
             raw.replace(b"</worksheet>", b"<x>]]></x></worksheet>"),
             raw.replace(b"</worksheet>", b"<sheetData></sheetData></worksheet>"),
             raw.replace(b"</sheetData>", b"</sheetData><sheetData/>"),
             raw[:start] + b"<sheetData/>" + raw[start:],
             raw.replace(b"</sheetData>", b""),
             b'<?xml version="1.0" encoding="windows-1252"?>' + raw[raw.index(b"<worksheet"):]]
    for case in cases:
        sink = _PlainSheet(book, name)
        assert plain_scan.scan_sheet(case, sink, book.limits.rows) is False
        assert by_chunks(book, name, case, size) is None


def test_a_row_longer_than_may_be_held_leaves_the_part_to_expat(one_sheet):
    book, name, raw = one_sheet
    rows = raw[raw.index(b"<sheetData>") + 11:raw.index(b"</sheetData>")].split(b"</row>")
    longest = max(len(r) for r in rows)
    assert longest > 200
    assert by_chunks(book, name, raw, 64, hold=longest + 64) is not None
    assert by_chunks(book, name, raw, 64, hold=longest // 2) is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_mutated_big_part_reads_as_the_whole_scan_reads_it(one_sheet, data):
    """Cut into chunks of any size, a mutated part reads as scan_sheet reads it whole (which
    the tests above hold to expat's reading), refuses the same cell, or steps aside."""
    book, name, raw = one_sheet
    start, end = raw.index(b"<sheetData>") + 11, raw.index(b"</sheetData>")
    mutated = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(start, end))
        cut = data.draw(st.integers(0, 12))
        token = data.draw(st.sampled_from(TOKENS)).encode()
        mutated[at:at + cut] = token
        end += len(token) - cut
    size = data.draw(st.integers(1, 300))
    outcomes = []
    for read in (lambda: by_scan(book, name, bytes(mutated)), lambda: by_chunks(book, name, bytes(mutated), size)):
        try:
            got = read()
            outcomes.append(("read", typed(got)) if got is not None else ("aside", None))
        except KpiError as exc:
            outcomes.append(("refused", exc.diagnostics[0].cell))
    whole, chunked = outcomes
    if whole[0] == "aside":
        return  # expat reads it; the chunked scan may still read a part the whole scan leaves
        # (it never holds the part to look for what it does not read)
    assert chunked == whole or chunked[0] == "aside"


def test_a_row_taken_from_the_memo_counts_its_cells_and_a_new_row_not_utf8_steps_aside():
    """Rows are looked up in the book's memo by their bytes, before anything is decoded: a
    sheet whose rows were all read before still counts each of its cells for the book's
    limit (before any is put in), and a row not seen before that is not UTF-8 makes the scan
    step aside with nothing counted, after rows taken from the memo as before them."""
    counted: list[int] = []

    class Sink:
        def __init__(self, memo):
            self.contents, self.cached, self.rows_memo, self.long_text = {}, {}, memo, False

        def count(self, n):
            counted.append(n)

        def strings(self):
            return ["甲"]

    def part(*rows: str) -> bytes:
        return ("<worksheet><sheetData>" + "".join(rows) + "</sheetData></worksheet>").encode()

    same = '<row r="1"><c r="A1"><v>1</v></c><c r="B1" s="2"/><c r="C1"><f>A1*2</f><v>2</v></c></row>'
    memo: dict = {}
    first, second = Sink(memo), Sink(memo)
    assert plain_scan.scan_sheet(part(same, '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'), first, 9)
    assert plain_scan.scan_sheet(part(same, '<row r="2"><c r="A2"><v>7</v></c></row>'), second, 9)
    assert counted == [4, 4]  # the first row's three cells, from the memo the second time
    assert second.contents == {"A1": 1, "C1": "=A1*2", "A2": 7} and second.cached == {"C1": 2}
    assert first.contents["A2"] == "甲"
    again = Sink(memo)  # every row read before: nothing decoded, all counted
    assert plain_scan.scan_sheet(part(same), again, 9) and counted[-1] == 3
    assert (again.contents, again.cached) == ({"A1": 1, "C1": "=A1*2"}, {"C1": 2})
    counted.clear()
    new_row = '<row r="3"><c r="A3" t="inlineStr"><is><t>乙</t></is></c></row>'
    assert plain_scan.scan_sheet(part(same, new_row), Sink({}), 9) and counted == [4]
    counted.clear()
    broken = part(same, new_row).replace("乙".encode(), b"\xff")  # not UTF-8
    assert plain_scan.scan_sheet(broken, Sink(memo), 9) is False and counted == []


def test_a_name_with_another_attribute_reads_as_expat_reads_it_among_the_usual_ones():
    """Excel's filter range carries hidden="1": the names around it are still read in one
    pass, and it (or a name whose localSheetId comes after another attribute) gets its own
    scope; a name attribute given twice leaves the part to expat, which refuses it."""
    def part(*names: str) -> bytes:
        return ('<workbook><sheets><sheet name="S" sheetId="1" r:id="rId1"/><sheet name="T" sheetId="2" '
                f'r:id="rId2"/></sheets><definedNames>{"".join(names)}</definedNames></workbook>').encode()

    scanned = plain_scan.scan_workbook(part(
        '<definedName name="_xlnm._FilterDatabase" localSheetId="1" hidden="1">T!$A$1:$B$2</definedName>',
        '<definedName name="A" localSheetId="0">S!$B$2</definedName>',
        '<definedName name="B" hidden="1" localSheetId="1">T!$C$3</definedName>',
        '<definedName name="C" comment="x">S!$D$4</definedName>'))
    assert scanned is not None
    _, defined, cells = scanned
    assert defined == [("_xlnm._FilterDatabase", 1, "T!$A$1:$B$2"), ("A", 0, "S!$B$2"), ("B", 1, "T!$C$3"),
                       ("C", None, "S!$D$4")]
    assert cells == [None, "B2", "C3", "D4"]
    for twice in ('<definedName name="B" hidden="1" name="C">T!$C$3</definedName>',
                  '<definedName name="B" localSheetId="0" hidden="1" localSheetId="1">T!$C$3</definedName>'):
        assert plain_scan.scan_workbook(part('<definedName name="A" localSheetId="0">S!$B$2</definedName>',
                                             twice)) is None
