"""Hostile files and faults (issue 12): every attack gets one sentence, never a traceback.

Every file is generated here in tmp_path from a small book made by `new`; limits are
lowered through the environment so that the bombs stay small.
"""

from __future__ import annotations

import csv
import os
import resource
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kpi_workbook.cli import main
from kpi_workbook.workbook.xlsx.package import Book
from kpi_workbook.workbook.scorecard.reader import read_book
from kpi_workbook.workbook.scorecard.roster import sample_roster_path

from .readers import either_reader  # noqa: F401  (a fixture)

# the tests that read a book's sheets run both ways (the either_reader fixture): with the
# compiled scanner and with the Python code alone; the rest read no sheet XML
both_readers = pytest.mark.usefixtures("either_reader")

MONTH = "2026-10"
PEOPLE = {"E015", "E016", "E028"}


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "内部错误" not in err and "internal error" not in err, err
    return code, out, err


@pytest.fixture(scope="module")
def small_book(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    with open(sample_roster_path(), encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    roster = folder / "r.csv"
    with open(roster, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([rows[0]] + [r for r in rows[1:] if r[0] in PEOPLE])
    out = folder / "book.xlsx"
    assert main(["new", "--roster", str(roster), "--month", MONTH, "--out", str(out)]) == 0
    return out


@pytest.fixture
def book(small_book, tmp_path) -> Path:
    return Path(shutil.copy(small_book, tmp_path / "book.xlsx"))


def first_card(catalog, path: Path):
    cards, _ = read_book(catalog, path)
    return cards[0]


def replace_part(path: Path, part: str, change) -> None:
    """Rewrite one part of the package with ``change(bytes) -> bytes``."""
    with zipfile.ZipFile(path) as z:
        parts = [(i, z.read(i)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts:
            z.writestr(info.filename, change(data) if info.filename == part else data)


def sheet_part(path: Path, sheet: str) -> str:
    with Book.open(path) as b:
        return b.parts[sheet]


def set_raw_cell(path: Path, sheet: str, ref: str, xml: str) -> None:
    """Replace one cell's element with raw XML (what a hostile program could write)."""
    part = sheet_part(path, sheet)

    def change(data: bytes) -> bytes:
        text = data.decode("utf-8")
        start = text.index(f'<c r="{ref}"')
        head_end = text.index(">", start) + 1
        end = head_end if text[head_end - 2] == "/" else text.index("</c>", head_end) + 4
        return (text[:start] + xml + text[end:]).encode("utf-8")

    replace_part(path, part, change)


def input_cell(catalog, path: Path):
    """(sheet, ref, key) of the first numeric input of the first card."""
    card = first_card(catalog, path)
    for key, ref in card.cells.items():
        if key.endswith(".rate") or key.endswith(".count") or "count" in key:
            return card.sheet, ref, key
    key, ref = next(iter(card.cells.items()))
    return card.sheet, ref, key


# --- the reader: lxml, entities, linear scanning -----------------------------------------


def test_the_suite_runs_with_lxml_so_openpyxl_saves_through_it():
    assert openpyxl.xml.LXML is True  # lxml is in the test extras (setup.cfg)


@both_readers
def test_a_book_openpyxl_saved_through_lxml_reads_and_validates(capsys, book, catalog):
    before = first_card(catalog, book)
    wb = openpyxl.load_workbook(book)
    wb.save(book)  # formula cells come back as <c t="n"><f>…</f><v></v></c>, text as &#…;
    after = first_card(catalog, book)
    assert after.employee_id == before.employee_id and after.values.keys() == before.values.keys()
    code, _, err = run(capsys, "validate", book)
    assert "formula-changed" not in err and code in (0, 1)


@both_readers
def test_character_references_are_decoded(book, catalog):
    sheet, ref, key = input_cell(catalog, book)
    set_raw_cell(book, sheet, ref, f'<c r="{ref}" t="inlineStr"><is><t>&#57;0</t></is></c>')
    card = first_card(catalog, book)
    assert card.contents[ref] == "90"  # &#57; is "9"


@both_readers
def test_cell_markup_inside_a_comment_is_not_a_cell_and_is_scanned_once(book, catalog, monkeypatch):
    monkeypatch.setenv("KPI_WORKBOOK_MAX_RATIO", "100000")  # the comment compresses enormously
    card = first_card(catalog, book)
    part = sheet_part(book, card.sheet)
    junk = '<c r="A1"><v>666</v></c>' * 100_000  # 2.4 MB of cells that are not cells
    replace_part(book, part, lambda d: d.replace(b"<sheetData>", b"<sheetData><!--" + junk.encode() + b"-->", 1))
    again = first_card(catalog, book)
    assert again.sheet_cells.get("A1") == card.sheet_cells.get("A1") != 666
    assert again.values == card.values or all(
        (a != a and b != b) or a == b for a, b in zip(again.values.values(), card.values.values()))


@both_readers
def test_entity_declarations_are_refused(capsys, book, catalog):
    part = sheet_part(book, first_card(catalog, book).sheet)
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    replace_part(book, part, lambda d: bomb + d[d.index(b"<worksheet"):])
    code, _, err = run(capsys, "validate", book)
    assert code == 2 and "book.xlsx" in err and "DTD" in err


# --- bounded resources ---------------------------------------------------------------------


def test_a_highly_compressible_part_is_refused_as_a_zip_bomb(capsys, book):
    with zipfile.ZipFile(book, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/padding.bin", b"\0" * (3 << 20))  # 3 MB, ratio about 1000
    for command in (["validate", book], ["report", book, "--out", book.with_name("r.xlsx")]):
        code, _, err = run(capsys, *command)
        assert code in (1, 2) and "zip-bomb" in err and "padding.bin" in err
    code, _, err = run(capsys, "fill", book, "--inputs", _inputs(book.parent))
    assert code == 2 and "zip-bomb" in err


def test_a_part_stored_twice_is_refused(capsys, book):
    """Two members of one name: programs differ on which they read (ours took the last), so
    the book is refused as damaged, naming the part, before anything is read from it."""
    import warnings

    with zipfile.ZipFile(book) as z:
        styles = z.read("xl/styles.xml")
    with warnings.catch_warnings(), zipfile.ZipFile(book, "a", zipfile.ZIP_DEFLATED) as z:
        warnings.simplefilter("ignore")  # zipfile's "Duplicate name": the point of this test
        z.writestr("xl/styles.xml", styles)
    code, _, err = run(capsys, "validate", book)
    assert code == 2 and "damaged-xlsx" in err and "xl/styles.xml" in err and "Traceback" not in err


def test_a_part_larger_than_the_limit_is_refused_while_inflating(book):
    """The package layer checks while it inflates, not only the sizes the zip claims."""
    from kpi_workbook.diagnostics import KpiError
    from kpi_workbook.workbook.xlsx.limits import Limits

    with zipfile.ZipFile(book) as z:
        size = z.getinfo("xl/workbook.xml").file_size
    small = Limits(part_bytes=size // 2, ratio_floor=size // 2)
    with pytest.raises(KpiError) as caught:
        Book(book, small)
    assert caught.value.diagnostics[0].code == "zip-bomb"
    assert "xl/workbook.xml" in caught.value.diagnostics[0].message_en
    Book(book, Limits()).close()  # the same book within the default limits


def _flip_a_stored_byte(book: Path, part: str) -> None:
    """One bit changed in the middle of ``part``'s bytes as stored in ``book``, its zip
    directory (sizes, CRC) left as it was."""
    with zipfile.ZipFile(book) as z:
        info = z.getinfo(part)
        offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data = bytearray(book.read_bytes())
    data[offset + info.compress_size // 2] ^= 0x01
    book.write_bytes(bytes(data))


@pytest.mark.parametrize("inflate", ["isal", "zlib"])
def test_parts_are_inflated_within_the_limits_with_isal_or_zlib(book, monkeypatch, inflate):
    """A read inflates each part itself (isal's inflate, or zlib's where isal is missing:
    xlwings Lite): the same bytes as zipfile gives, stopped at the limits while inflating
    even when the directory understates a part, and a part whose bytes or sizes are not
    the directory's is a damaged book — a stored one too, which only its CRC shows."""
    import types
    import zlib

    from kpi_workbook.diagnostics import KpiError
    from kpi_workbook.workbook.xlsx import package
    from kpi_workbook.workbook.xlsx.limits import Limits

    inflaters = []
    module = package._zlib if inflate == "isal" else zlib
    if inflate == "isal":
        assert module.__name__.startswith("isal")

    def decompressobj(*args):
        inflaters.append(args)
        return module.decompressobj(*args)

    monkeypatch.setattr(package, "_zlib", types.SimpleNamespace(decompressobj=decompressobj))
    monkeypatch.setattr(package, "_crc32", module.crc32)
    _stored_otherwise(book)
    with zipfile.ZipFile(book) as z:
        expected = {info.filename: z.read(info) for info in z.infolist()}
    with Book.open(book) as b:
        assert {name: b.read(name) for name in expected} == expected
        assert len(inflaters) >= len(expected) - 1  # every deflated part (xl/styles.xml is stored)

    def refused(limits: Limits | None = None, **lie) -> KpiError:
        with Book.open(book) as b:
            info = b.zip.getinfo("xl/workbook.xml")
            for key, told in lie.items():
                setattr(info, key, told)
            if limits is not None:
                b.limits = limits
            with pytest.raises(KpiError) as caught:
                b.read("xl/workbook.xml")
            return caught.value

    size = len(expected["xl/workbook.xml"])
    small = Limits(part_bytes=size // 2, ratio_floor=size // 2)
    assert refused(small, file_size=10).diagnostics[0].code == "zip-bomb"  # seen while inflating
    assert refused(small).diagnostics[0].code == "zip-bomb"  # seen in the directory
    for lie in ({"file_size": size - 1}, {"file_size": size + 1}, {"CRC": 0}, {"compress_size": 20}):
        found = refused(**lie).diagnostics[0]
        assert found.code == "damaged-xlsx" and "xl/workbook.xml" in found.message_en, lie
    _flip_a_stored_byte(book, "xl/styles.xml")  # stored: only its CRC tells
    with Book.open(book) as b, pytest.raises(KpiError) as caught:
        b.read("xl/styles.xml")
    assert caught.value.diagnostics[0].code == "damaged-xlsx"


@both_readers
def test_bounds_on_cells_and_sheets(capsys, book, monkeypatch):
    monkeypatch.setenv("KPI_WORKBOOK_MAX_CELLS", "50")
    code, _, err = run(capsys, "validate", book)
    assert code == 2 and "too-large" in err and "50" in err
    monkeypatch.delenv("KPI_WORKBOOK_MAX_CELLS")
    monkeypatch.setenv("KPI_WORKBOOK_MAX_SHEETS", "2")
    code, _, err = run(capsys, "validate", book)
    assert code == 2 and "too-large" in err


# --- bad cells: one sentence with file, sheet and cell -------------------------------------


@both_readers
def test_text_in_a_number_cell_names_the_cell(capsys, book, catalog):
    sheet, ref, _ = input_cell(catalog, book)
    set_raw_cell(book, sheet, ref, f'<c r="{ref}"><v>abc</v></c>')
    for command in (["validate", book], ["fill", book, "--inputs", _inputs(book.parent)]):
        code, _, err = run(capsys, *command)
        assert code == 2 and "book.xlsx" in err and f"[{sheet}]!{ref}" in err and "abc" in err


@both_readers
def test_an_iso_date_cell_is_read(capsys, book, catalog):
    sheet, ref, key = input_cell(catalog, book)
    set_raw_cell(book, sheet, ref, f'<c r="{ref}" t="d"><v>2026-10-05T00:00:00</v></c>')
    code, _, err = run(capsys, "validate", book)
    assert code == 1 and f"[{sheet}]!{ref}" in err  # a date is not a number: a finding
    card = first_card(catalog, book)
    assert card.contents[ref].year == 2026


@pytest.mark.parametrize("month_xml", [
    '<c r="{ref}" s="{s}"><v>46296</v></c>',  # 2026-10-01 as Excel stores a date
    '<c r="{ref}" t="inlineStr"><is><t>2026/10</t></is></c>',
    '<c r="{ref}" t="d"><v>2026-10-01</v></c>',
])
@both_readers
def test_month_cells_as_dates_or_slashes_are_read(capsys, book, catalog, month_xml, tmp_path):
    for card in read_book(catalog, book)[0]:
        set_raw_cell(book, card.sheet, card.names["KPI_MONTH"],
                     month_xml.format(ref=card.names["KPI_MONTH"], s=0))
    assert {c.fields["month"] for c in read_book(catalog, book)[0]} == {"2026-10"}
    code, _, err = run(capsys, "report", book, "--out", tmp_path / "r.xlsx")
    assert "month-mismatch" not in err and "bad-field" not in err


def test_a_book_without_scorecards_is_a_finding(capsys, tmp_path):
    other = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "not a scorecard"
    wb.save(other)
    code, _, err = run(capsys, "report", other, "--out", tmp_path / "r.xlsx")
    assert code == 1 and "other.xlsx" in err and "no-scorecards" in err


def test_an_encrypted_workbook_is_named_as_password_protected(capsys, tmp_path):
    locked = tmp_path / "locked.xlsx"  # what Excel writes: a compound file holding the package
    locked.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500 + "EncryptedPackage".encode("utf-16-le"))
    code, _, err = run(capsys, "validate", locked)
    assert code == 2 and "locked.xlsx" in err and "password-protected" in err and "密码" in err


def test_a_self_symlink_in_a_report_folder_is_a_finding(capsys, book, tmp_path):
    loop = book.parent / "loop.xlsx"
    os.symlink(loop.name, loop)
    code, _, err = run(capsys, "report", book.parent, "--out", tmp_path / "out" / "r.xlsx")
    assert code == 1 and "loop.xlsx" in err


def test_payroll_with_a_wrong_content_types_part(capsys, book, tmp_path):
    report = tmp_path / "r.xlsx"
    run(capsys, "report", book, "--out", report)
    replace_part(report, "[Content_Types].xml", lambda d: b"<Types>garbage")
    code, _, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv", "--allow-incomplete")
    # the package layer finds the parts through workbook.xml and its relationships, so a
    # damaged content-types part does not stop finance from getting the payroll
    # (the fixture's cards are unfilled: payroll names each as not paid, from the report it read)
    assert code == 0 and "E015" in err and "未完成" in err
    assert (tmp_path / "p.csv").read_text(encoding="utf-8-sig").startswith("工号,姓名,部门,月份")


# --- files written through, not around ------------------------------------------------------


def _inputs(folder: Path) -> Path:
    path = folder / "in.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["工号", "输入", "值"], ["E015", "sales_completion.rate", "0.5"]])
    return path


def test_fill_leaves_the_cycle_collector_on_when_it_writes_and_when_it_refuses(capsys, book):
    """fill plans with Python's cycle collector off (fill.py): it is on again after, also
    when the data file is refused part-way through the planning."""
    import gc

    assert gc.isenabled()
    code, _, err = run(capsys, "fill", book, "--inputs", _inputs(book.parent))
    assert code in (0, 1), err
    assert gc.isenabled()
    other = book.parent / "other-month.csv"
    with open(other, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["工号", "月份", "输入", "值"], ["E015", "2026-09", "sales_completion.rate", "0.4"]])
    code, _, err = run(capsys, "fill", book, "--inputs", other)
    assert code == 2 and "month-mismatch" in err
    assert gc.isenabled()


def test_fill_through_a_symlink_writes_the_target_and_keeps_its_mode(capsys, book, catalog):
    os.chmod(book, 0o600)
    link = book.with_name("link.xlsx")
    os.symlink(book.name, link)
    before = book.read_bytes()
    code, _, err = run(capsys, "fill", link, "--inputs", _inputs(book.parent))
    assert code in (0, 1), err
    assert link.is_symlink() and book.read_bytes() != before
    assert stat.S_IMODE(os.stat(book).st_mode) == 0o600


def test_payroll_refuses_to_replace_its_own_report(capsys, book, tmp_path):
    report = tmp_path / "r.xlsx"
    run(capsys, "report", book, "--out", report)
    before = report.read_bytes()
    code, _, err = run(capsys, "payroll", report, "--out", report, "--force")
    assert code == 2 and "output-is-input" in err and report.read_bytes() == before


def test_new_refuses_to_replace_its_roster(capsys, tmp_path):
    roster = tmp_path / "r.xlsx"
    shutil.copy(sample_roster_path(), tmp_path / "r.csv")
    wb = openpyxl.Workbook()
    wb.active.append(["工号", "姓名", "部门", "岗位", "基本工资"])
    wb.active.append(["E1", "甲", "客服部", "cs_specialist", 5000])
    wb.save(roster)
    code, _, err = run(capsys, "new", "--roster", roster, "--month", MONTH, "--out", roster, "--force")
    assert code == 2 and "output-is-input" in err


def test_stale_temp_files_of_a_killed_run_are_removed(capsys, tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f".t_new.kpi-tmp-{dead}-abc123.xlsx"
    stale.write_bytes(b"half a workbook")
    clone = tmp_path / f".t_new.kpi-tmp-{dead}-def456.xlsx.clone"  # killed inside clone.py
    clone.write_bytes(b"half a package")
    unrelated = tmp_path / ".t_new.mine.xlsx"
    unrelated.write_bytes(b"not ours")
    code, _, _ = run(capsys, "new", "--month", MONTH, "--out", tmp_path / "t_new.xlsx")
    assert code == 0 and not stale.exists() and not clone.exists() and unrelated.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".t_new.mine.xlsx", "t_new.xlsx"]


def _limited(limit: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # writes past it fail: EFBIG
    return apply


@pytest.mark.parametrize("command", ["new", "fill", "report"])
def test_a_full_disk_is_one_sentence_and_leaves_no_temp_files(command, book, tmp_path):
    before = book.read_bytes()
    argv = {"new": ["new", "--month", MONTH, "--out", str(tmp_path / "n.xlsx")],
            "fill": ["fill", str(book), "--inputs", str(_inputs(tmp_path))],
            "report": ["report", str(book), "--out", str(tmp_path / "r.xlsx")]}[command]
    limit = {"new": 40_000, "fill": len(before) // 2, "report": 8_000}[command]
    done = subprocess.run([sys.executable, "-m", "kpi_workbook.cli", *argv], preexec_fn=_limited(limit),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "disk-full" in done.stderr and "Traceback" not in done.stderr
    assert book.read_bytes() == before
    # the lock folder of fill (.kpi-workbook-locks) stays on purpose: deleting a lock breaks locking
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".") and p.name != ".kpi-workbook-locks")
    assert left == []


# --- bad data that is not a file: rosters, numbers, score's JSON ---------------------------


def _roster_csv(path: Path, rows: list[list]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["工号", "姓名", "部门", "岗位", "基本工资"], *rows])
    return path


def test_a_control_character_in_a_roster_name_is_refused_with_its_row(capsys, tmp_path):
    roster = _roster_csv(tmp_path / "r.csv", [["E1", "甲", "客服部", "cs_specialist", "5000"],
                                               ["E2", "乙\x01", "客服部", "cs_specialist", "5000"]])
    code, _, err = run(capsys, "new", "--roster", roster, "--month", MONTH, "--out", tmp_path / "b.xlsx")
    assert code == 2 and "row 3" in err and "control character" in err
    assert not (tmp_path / "b.xlsx").exists()


def test_a_base_salary_of_1e309_is_refused_with_its_row(capsys, tmp_path):
    roster = _roster_csv(tmp_path / "r.csv", [["E1", "甲", "客服部", "cs_specialist", "1e309"]])
    code, _, err = run(capsys, "new", "--roster", roster, "--month", MONTH, "--out", tmp_path / "b.xlsx")
    assert code == 2 and "row 2" in err and "基本工资" in err


def test_a_lone_cr_inside_a_quoted_field_keeps_row_numbers(capsys, tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_bytes("工号,姓名,部门,岗位,基本工资\nE1,\"甲\r乙\",客服部,cs_specialist,5000\n"
                       "E2,丙,客服部,cs_specialist,abc\n".encode())
    code, _, err = run(capsys, "new", "--roster", roster, "--month", MONTH, "--out", tmp_path / "b.xlsx")
    assert code == 2 and "row 3" in err and "row 2" not in err  # E2 is the file's third row


@pytest.mark.parametrize("text, ok", [("9,5", None), ("1,2345", None), ("1,200", 1200.0),
                                      ("1,234,567.5", 1234567.5), ("12,5%", None)])
def test_a_comma_is_a_thousands_separator_only(text, ok):
    from kpi_workbook.numbers import ParseError, parse_number

    if ok is None:
        with pytest.raises(ParseError) as caught:
            parse_number(text)
        assert "ambiguous" in caught.value.en
    else:
        assert parse_number(text) == ok


@pytest.mark.parametrize("value, month", [("2026/10", "2026-10"), ("2026年10月", "2026-10"),
                                          ("2026.1", "2026-01"), (202610, "2026-10"),
                                          (46296, "2026-10"),  # 46296 days after 1899-12-30
                                          ("2026-10-01", "2026-10"), ("2026-10-01T00:00:00", "2026-10")])
def test_one_month_parser_reads_every_form(value, month):
    from kpi_workbook.numbers import parse_month

    assert parse_month(value) == month


@pytest.mark.parametrize("value", ["2026-13", "10/2026", "", None, True, float("inf"), "abc"])
def test_one_month_parser_refuses_what_is_not_a_month(value):
    from kpi_workbook.numbers import ParseError, parse_month

    with pytest.raises(ParseError):
        parse_month(value)


def test_cli_months_go_through_the_one_parser(capsys, tmp_path):
    code, _, _ = run(capsys, "new", "--month", "2026/10", "--out", tmp_path / "b.xlsx")
    assert code == 0
    code, _, err = run(capsys, "new", "--month", "2026-13", "--out", tmp_path / "c.xlsx")
    assert code == 2 and "YYYY-MM" in err


def test_score_refuses_an_employee_that_is_not_an_object(capsys, tmp_path):
    data = tmp_path / "s.json"
    data.write_text('{"employee": 5}', encoding="utf-8")
    code, _, err = run(capsys, "score", "cs_specialist", "--input", data)
    assert code == 2 and "employee must be an object" in err


def test_score_reads_utf16_json(capsys, tmp_path):
    data = tmp_path / "s.json"
    data.write_text('{"employee": {"base_salary": 5000}}', encoding="utf-16")  # with a BOM
    code, out, _ = run(capsys, "score", "cs_specialist", "--input", data)
    assert code == 0 and '"role": "cs_specialist"' in out


def test_score_refuses_nan_and_infinity_in_its_input(capsys, tmp_path):
    data = tmp_path / "s.json"
    data.write_text('{"inputs": {"problem_resolution.points": Infinity}}', encoding="utf-8")
    code, _, err = run(capsys, "score", "cs_specialist", "--input", data)
    assert code == 2 and "Infinity" in err


def test_score_never_prints_a_number_that_is_not_finite(capsys, tmp_path, monkeypatch):
    import json

    from kpi_workbook.engine import api

    real = api.card_result
    monkeypatch.setattr(api, "card_result", lambda *a: {**real(*a), "total": float("inf")})
    data = tmp_path / "s.json"
    data.write_text('{"employee": {"base_salary": 5000}}', encoding="utf-8")
    code, out, err = run(capsys, "score", "cs_specialist", "--input", data)
    assert code == 2 and "total" in err and "out of the range" in err and out == ""
    monkeypatch.setattr(api, "card_result", real)
    code, out, _ = run(capsys, "score", "cs_specialist", "--input", data)
    assert code == 0 and json.loads(out)["role"] == "cs_specialist"


# --- bugs stay bugs -------------------------------------------------------------------------


@both_readers
@pytest.mark.parametrize("command", ["report", "validate", "fill"])
def test_a_bug_while_reading_is_an_internal_error_not_a_damaged_file(capsys, book, tmp_path,
                                                                      monkeypatch, command):
    from kpi_workbook.workbook.xlsx import package

    def broken(self, *args, **kwargs):
        raise ZeroDivisionError("a bug in the reader")

    # both readers of a sheet (plain_scan's and expat's) end in translate_shared
    monkeypatch.setattr(package, "translate_shared", broken)
    argv = {"report": ["report", book, "--out", tmp_path / "r.xlsx"], "validate": ["validate", book],
            "fill": ["fill", book, "--inputs", _inputs(tmp_path)]}[command]
    code = main([str(a) for a in argv])
    _, err = capsys.readouterr()
    assert code == 3 and "internal error" in err and "ZeroDivisionError" in err
    assert "damaged" not in err and "corrupt" not in err and "Traceback" not in err
    with pytest.raises(ZeroDivisionError):
        main(["--debug", *map(str, argv)])


# --- one pass ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["report", "validate", "fill"])
def test_each_book_is_opened_once(capsys, book, tmp_path, monkeypatch, command):
    from kpi_workbook.workbook.xlsx import package

    opened: list[Path] = []
    real = package.Book.__init__

    def counting(self, path, limits=None):
        opened.append(Path(path).resolve())
        real(self, path, limits)

    monkeypatch.setattr(package.Book, "__init__", counting)
    argv = {"report": ["report", book, "--out", tmp_path / "r.xlsx"], "validate": ["validate", book],
            "fill": ["fill", book, "--inputs", _inputs(tmp_path)]}[command]
    code, _, err = run(capsys, *argv)
    assert code in (0, 1), err
    assert opened.count(book.resolve()) == 1


def test_fill_patches_only_the_cell_it_writes_and_keeps_the_rest_byte_for_byte(book, catalog, tmp_path):
    from kpi_workbook.workbook.xlsx.clone import cell_xml
    from kpi_workbook.workbook.xlsx.package import patch

    sheet, ref, _ = input_cell(catalog, book)
    out = tmp_path / "patched.xlsx"
    with Book.open(book) as b:
        assert patch(b, out, {sheet: {ref: 0.5}}, cell_xml) == []
        part = b.parts[sheet]
        before = b.read(part)
    with Book.open(out) as b:
        after = b.read(part)
        assert b.sheet(sheet).contents[ref] == 0.5
    # only the cell element and the cached formula results (<v> after <f>) differ
    import re

    def strip(d: bytes) -> bytes:
        return re.sub(rb"(</f>|<f[^>]*/>)<v>[^<]*</v>", rb"\1", d)

    def element_end(d: bytes, i: int) -> int:
        head = d.index(b">", i) + 1
        return head if d[head - 2:head] == b"/>" else d.index(b"</c>", head) + 4

    sb, sa = strip(before), strip(after)
    i = sb.index(f'<c r="{ref}"'.encode())
    assert sa[:i] == sb[:i]
    eb, ea = element_end(sb, i), element_end(sa, i)
    assert sa[ea:] == sb[eb:] and b"<v>0.5</v>" in sa[i:ea] and b"<v>0.5</v>" not in sb[i:eb]


def _stored_members(path: Path) -> dict[str, tuple[int, int, bytes]]:
    """Each member's (compression, CRC, bytes as stored), read from its local header."""
    import struct

    found = {}
    with zipfile.ZipFile(path) as z, open(path, "rb") as f:
        for info in z.infolist():
            f.seek(info.header_offset)
            fields = struct.unpack("<4s2B4HL2L2H", f.read(30))
            f.seek(fields[10] + fields[11], os.SEEK_CUR)
            found[info.filename] = (info.compress_type, info.CRC, f.read(info.compress_size))
    return found


def _stored_otherwise(book: Path) -> None:
    """The book as another program might store it: deflated at level 9 (not fill's level),
    xl/styles.xml not compressed at all."""
    with zipfile.ZipFile(book) as z:
        members = [(info, z.read(info)) for info in z.infolist()]
    with zipfile.ZipFile(book, "w") as z:
        for info, data in members:
            stored = info.filename == "xl/styles.xml"
            z.writestr(info, data, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED,
                       None if stored else 9)


@pytest.mark.parametrize("deflate", ["isal", "zlib"])
def test_a_patched_book_copies_its_unchanged_parts_as_they_are_stored(book, catalog, tmp_path, monkeypatch,
                                                                    deflate):
    """Only the patched sheet is deflated again: every other part is copied compressed as it
    was (its CRC kept), and the book reads as the parts it was written from (with either
    deflate: isal's, or zlib's where isal is missing)."""
    import zlib

    from kpi_workbook.workbook.xlsx import package
    from kpi_workbook.workbook.xlsx.clone import cell_xml

    if deflate == "zlib":
        monkeypatch.setattr(package, "_zlib", zlib)
        monkeypatch.setattr(package, "_crc32", zlib.crc32)
    _stored_otherwise(book)
    sheet, ref, _ = input_cell(catalog, book)
    out = tmp_path / "patched.xlsx"
    with Book.open(book) as b:
        assert package.patch(b, out, {sheet: {ref: 0.5}}, cell_xml) == []
        part = b.parts[sheet]
        parts = {info.filename: b.read(info.filename) for info in b.zip.infolist()}
    before, after = _stored_members(book), _stored_members(out)
    assert list(after) == list(before)
    changed = [name for name in before if after[name] != before[name]]
    assert changed == [part] and after["xl/styles.xml"][0] == zipfile.ZIP_STORED
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        assert {n: z.read(n) for n in z.namelist() if n != part} == {n: d for n, d in parts.items() if n != part}
    with Book.open(out) as b:
        assert b.sheet(sheet).contents[ref] == 0.5


def test_a_damaged_part_is_refused_by_the_patch_not_copied(book, catalog, tmp_path):
    """A part the patch copies as it is stored is checked first as a read checks it: a byte
    changed in it is a damaged book (here a stored part, which only its CRC shows)."""
    from kpi_workbook.diagnostics import KpiError
    from kpi_workbook.workbook.xlsx.clone import cell_xml
    from kpi_workbook.workbook.xlsx.package import patch

    _stored_otherwise(book)
    sheet, ref, _ = input_cell(catalog, book)
    _flip_a_stored_byte(book, "xl/styles.xml")  # stored: only its CRC tells
    out = tmp_path / "patched.xlsx"
    with Book.open(book) as b, pytest.raises(KpiError) as refused:
        patch(b, out, {sheet: {ref: 0.5}}, cell_xml)
    assert "xl/styles.xml" in refused.value.diagnostics[0].message_en
    assert refused.value.diagnostics[0].code == "damaged-xlsx"


def test_new_killed_mid_way_leaves_temp_files_the_next_run_removes(capsys, tmp_path):
    out = tmp_path / "t_new.xlsx"
    script = ("import os, signal, sys\n"
              "from kpi_workbook.workbook.scorecard import build\n"
              "def die(*a, **k):\n"
              "    os.kill(os.getpid(), signal.SIGKILL)  # killed inside the write, like kill -9\n"
              "build.clone_sheets = die\n"
              "from kpi_workbook.cli import main\n"
              f"sys.exit(main(['new', '--month', '{MONTH}', '--out', {str(out)!r}]))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == -9
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".t_new.kpi-tmp-") and not out.exists()
    code, _, _ = run(capsys, "new", "--month", MONTH, "--out", out)
    assert code == 0 and [p.name for p in tmp_path.iterdir()] == ["t_new.xlsx"]


def test_score_refuses_an_amount_that_would_overflow_in_one_sentence(capsys, tmp_path):
    data = tmp_path / "s.json"  # 1.7e308 × a percentage is beyond the largest double
    data.write_text('{"employee": {"base_salary": 1.7e308}, "inputs": {"problem_resolution.points": 100}}',
                    encoding="utf-8")
    code, out, err = run(capsys, "score", "cs_specialist", "--input", data)
    assert code == 2 and out == "" and "too large" in err and "Warning" not in err
    assert len(err.strip().splitlines()) == 1


@both_readers
def test_a_scorecard_with_an_absurd_base_salary_is_a_finding_not_infinite_pay(capsys, book, catalog, tmp_path):
    for card in read_book(catalog, book)[0]:
        ref = card.names["KPI_BASE_SALARY"]
        set_raw_cell(book, card.sheet, ref, f'<c r="{ref}"><v>1.7e308</v></c>')
    code, _, err = run(capsys, "report", book, "--out", tmp_path / "r.xlsx")
    assert code == 1 and "bad-field" in err and "inf" not in err.lower().replace("info", "")


def test_text_written_into_a_cell_loses_xml_illegal_characters():
    from kpi_workbook.workbook.xlsx.clone import cell_xml

    xml = cell_xml("B2", "3", "熟\x01悉\x0b")
    assert "熟悉" in xml and "\x01" not in xml and "\x0b" not in xml


def test_validate_names_a_book_without_scorecards(capsys, tmp_path):
    other = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "名单"
    wb.save(other)
    code, _, err = run(capsys, "validate", other)
    assert code == 1 and "other.xlsx" in err and "no scorecard" in err
