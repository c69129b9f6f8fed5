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
from kpi_workbook.workbook import package, plain_scan
from kpi_workbook.workbook.package import Book, SheetData, _PlainSheet, _SheetReader


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
    for refs in (every[::3], every[1:6]):  # many cells (one pass), a few (a find each)
        spans, dropped = plain_scan.cell_spans(data, refs), plain_scan.drop_cached(data)
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


def test_a_book_saved_by_openpyxl_through_lxml_reads_the_same_both_ways(small_book, tmp_path):
    path = tmp_path / "saved.xlsx"
    openpyxl.load_workbook(small_book).save(path)
    assert assert_same_both_ways(path) >= 40


def test_the_workbook_part_reads_the_same_both_ways(small_book, monkeypatch):
    with Book.open(small_book) as fast:
        assert plain_scan.scan_workbook(fast.read("xl/workbook.xml")) is not None  # read by the scan
    monkeypatch.setattr(package, "scan_workbook", lambda part: None)  # now by expat
    with Book.open(small_book) as slow:
        assert (fast.sheet_names, fast.parts, fast.defined, fast.names, fast.broken) == \
            (slow.sheet_names, slow.parts, slow.defined, slow.names, slow.broken)
    assert sum(n.startswith("KPI_") for n, _, _ in fast.defined) > 40 * 5


# --- mutations: the scan accepts only what expat reads the same --------------------------

TOKENS = ['<c r="A1">', '<c r="B2" s="1"/>', "</c>", "<v>", "</v>", "<v/>", "<f>", "</f>",
          '<f t="shared" si="0"/>', "<row>", '<row r="3">', "</row>", '<row r="0"/>', "<is>",
          "<t>", "</t>", "</is>", "&amp;", "&#0;", "&#57;", "&bogus;", "&", "<", ">", '"',
          " r=\"C3\"", ' t="s"', ' t="b"', ' t="str"', ' s="1" s="2"', "\r", "\x01", "\t",
          "<!-- -->", "<![CDATA[x]]>", "]]>", "x", "1.5", "1e400", "-1", "中"]


@pytest.fixture(scope="module")
def one_sheet(small_book) -> tuple[Book, str, bytes]:
    """The book opened once for all the examples (opening its 47 sheets' names cost more
    than an example): each example passes its mutated part's bytes, the book gives only
    its shared strings and limits, far from reached (20 million cells)."""
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
        "from kpi_workbook.workbook import plain_scan\n"
        "class Sink:\n"
        "    contents = {}\n"
        "    def count(self, n): pass\n"
        "body = '<row r=\"1\">' + '<c r=\"A1\" s=\"1\"/>' * 1_000_000 + '<c r=\"A1\"><x/></c></row>'\n"
        "part = ('<worksheet><sheetData>' + body + '</sheetData></worksheet>').encode()\n"
        "assert plain_scan.scan_sheet(part, Sink(), 1_048_576) is False\n"
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

        def count(self, n):
            pass

    assert plain_scan.scan_sheet(part, Sink(), 1_048_576) is False
    plain = part.replace(b"windows-1252", b"UTF-8")
    assert plain_scan.scan_sheet(plain, Sink(), 1_048_576) is True
    assert Sink.contents == {"A1": "\u00e9"}
