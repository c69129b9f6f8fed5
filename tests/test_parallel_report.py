"""The report over a folder of department books reads them on every core, and the report is
the same as when they are read one by one (workbook/month/parallel.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from kpi_workbook import api
from kpi_workbook.sample import sample_inputs
from kpi_workbook.workbook.month import parallel
from kpi_workbook.workbook.month.report import build_report, read_one_book
from kpi_workbook.workbook.scorecard.roster import read_roster

MONTH = "2026-10"


@pytest.fixture(scope="module")
def department_books(tmp_path_factory, catalog):
    folder = tmp_path_factory.mktemp("departments")
    api.new(MONTH, split_by="部门", out_dir=folder / "books", templates=catalog)
    books = sorted((folder / "books").glob("*.xlsx"))
    roster = read_roster(catalog, None)  # the built-in sample: 47 people in 5 departments
    inputs = sample_inputs(catalog, roster, MONTH, incomplete={"E003"})
    api.fill(books, inputs, templates=catalog)
    return books


def test_the_sample_splits_into_enough_books_to_go_parallel(department_books, monkeypatch):
    monkeypatch.setenv("KPI_WORKBOOK_WORKERS", "2")
    assert len(department_books) >= parallel.MIN_BOOKS
    assert parallel.workers(len(department_books)) == 2
    assert parallel.workers(parallel.MIN_BOOKS - 1) == 1  # a few books: no processes
    monkeypatch.setenv("KPI_WORKBOOK_WORKERS", "1")
    assert parallel.workers(len(department_books)) == 1


def test_parallel_and_serial_reports_are_the_same(department_books, catalog, monkeypatch):
    monkeypatch.setenv("KPI_WORKBOOK_WORKERS", "1")
    serial = build_report(catalog, department_books)
    monkeypatch.setenv("KPI_WORKBOOK_WORKERS", "2")
    both = build_report(catalog, department_books)
    assert len(serial.summary) == 47
    public = [c for c in serial.summary.columns if not c.startswith("_")]
    pd.testing.assert_frame_equal(serial.summary[public].reset_index(drop=True),
                                  both.summary[public].reset_index(drop=True))
    assert [d.to_dict() for d in serial.findings] == [d.to_dict() for d in both.findings]


def test_cards_come_back_with_the_callers_catalog(department_books, catalog, monkeypatch):
    # the report scores cards that share one catalog object together: copies made by
    # pickling must not split them (one scoring per book instead of one per month)
    monkeypatch.setenv("KPI_WORKBOOK_WORKERS", "2")
    results = parallel.read_books(catalog, department_books, read_one_book)
    cards = [c for found, _ in results for c in found]
    assert len(cards) == 47 and all(c.catalog is catalog for c in cards)


def test_cards_come_back_slim(department_books, catalog, monkeypatch):
    # a worker sends the report what it scores with, not every cell of every sheet (at
    # 100,000 cards those were most of the report's memory), and the cells of a form once
    monkeypatch.setenv("KPI_WORKBOOK_WORKERS", "2")
    results = parallel.read_books(catalog, department_books, read_one_book)
    for found, _ in results:
        assert found and all(c.sheet_cells == {} and c.contents == {} and c.values for c in found)
        by_role: dict[str, list] = {}
        for c in found:
            by_role.setdefault(c.role_id, []).append(c)
        for group in by_role.values():  # one form: one map of its names and input cells
            assert len({id(c.names) for c in group}) == len({id(c.cells) for c in group}) == 1
            assert group[0].names["KPI_EMPLOYEE_ID"] and group[0].cells


def test_a_damaged_book_is_findings_in_a_worker_too(department_books, catalog, tmp_path, monkeypatch):
    broken = tmp_path / "坏.xlsx"
    broken.write_bytes(b"not a zip at all")
    monkeypatch.setenv("KPI_WORKBOOK_WORKERS", "2")
    results = parallel.read_books(catalog, [broken, *department_books], read_one_book)
    cards, diags = results[0]
    assert cards == [] and diags and all(d.severity == "error" for d in diags)
    assert "坏.xlsx" in diags[0].message_zh
    assert sum(len(found) for found, _ in results[1:]) == 47


# --- one big book: its sheets shared between processes (package.Book.sheets) -------------


@pytest.fixture
def shared_sheets(monkeypatch):
    """Book.sheets shares even a small batch: 5 sheets a share, 2 processes."""
    from kpi_workbook.workbook.xlsx import package

    monkeypatch.setattr(package, "SHEETS_PER_WORKER", 5)
    monkeypatch.setenv("KPI_WORKBOOK_WORKERS", "2")
    return package


def test_one_book_read_on_two_cores_gives_the_same_report(department_books, catalog, shared_sheets,
                                                          monkeypatch):
    book = max(department_books, key=lambda p: p.stat().st_size)
    with shared_sheets.Book.open(book) as opened:
        names = [n for n in opened.sheet_names if "KPI_ROLE" in opened.names.get(n, {})]
    assert len(names) >= 10 and shared_sheets.sheet_workers(len(names)) == 1
    both = build_report(catalog, [book])
    monkeypatch.setenv("KPI_WORKBOOK_WORKERS", "1")
    assert shared_sheets.sheet_workers(len(names)) == 0
    serial = build_report(catalog, [book])
    public = [c for c in serial.summary.columns if not c.startswith("_")]
    pd.testing.assert_frame_equal(serial.summary[public], both.summary[public])
    assert [d.to_dict() for d in serial.findings] == [d.to_dict() for d in both.findings]


def _break_sheet(path, sheet, tmp_path):
    """A copy of ``path`` whose ``sheet`` holds a number cell with text in it."""
    import re
    import zipfile

    from kpi_workbook.workbook.xlsx.package import Book

    with Book.open(path) as opened:
        part = opened.parts[sheet]
    out = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as w:
        for info in z.infolist():
            data = z.read(info)
            if info.filename == part:
                data = re.sub(rb'<c r="A6"([^>]*)><v>[^<]*</v></c>', rb'<c r="A6"\1><v>abc</v></c>', data, count=1)
            w.writestr(info.filename, data)
    return out


def test_a_damaged_sheet_read_by_a_worker_is_the_error_serial_reading_gives(
        department_books, shared_sheets, tmp_path, monkeypatch):
    from kpi_workbook.diagnostics import KpiError

    book = max(department_books, key=lambda p: p.stat().st_size)
    with shared_sheets.Book.open(book) as opened:
        names = [n for n in opened.sheet_names if "KPI_ROLE" in opened.names.get(n, {})]
    broken = _break_sheet(book, names[1], tmp_path)  # the 2nd sheet: the worker's share
    errors = []
    for workers in ("2", "1"):
        monkeypatch.setenv("KPI_WORKBOOK_WORKERS", workers)
        with shared_sheets.Book.open(broken) as opened, pytest.raises(KpiError) as caught:
            opened.sheets(names)
        errors.append(caught.value.diagnostics[0].to_dict())
    assert errors[0] == errors[1] and errors[0]["sheet"] == names[1] and errors[0]["cell"] == "A6"


def test_a_bug_in_a_worker_is_raised_as_that_bug(department_books, shared_sheets, monkeypatch):
    book = max(department_books, key=lambda p: p.stat().st_size)

    original = shared_sheets.translate_shared

    def broken(*args, **kwargs):
        if shared_sheets._WORKER_PROCESS["inside"]:  # in the worker only: it must come back
            raise ZeroDivisionError("a bug in the reader")
        return original(*args, **kwargs)

    monkeypatch.setattr(shared_sheets, "translate_shared", broken)  # inherited by the fork
    with shared_sheets.Book.open(book) as opened, pytest.raises(ZeroDivisionError):
        opened.sheets([n for n in opened.sheet_names if "KPI_ROLE" in opened.names.get(n, {})])


def test_sheets_are_shared_only_where_processes_fork(shared_sheets, monkeypatch):
    """Windows (where the Excel buttons run) has no fork: the sheets are read in-process."""
    assert shared_sheets.sheet_workers(100) == 1  # Linux, as in CI
    monkeypatch.setattr(shared_sheets, "_CAN_FORK", False)
    assert shared_sheets.sheet_workers(100) == 0
