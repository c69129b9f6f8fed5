"""The report over a folder of department books reads them on every core, and the report is
the same as when they are read one by one (workbook/parallel.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from kpi_workbook import api
from kpi_workbook.sample import sample_inputs
from kpi_workbook.workbook import parallel
from kpi_workbook.workbook.report import build_report, read_one_book
from kpi_workbook.workbook.roster import read_roster

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


def test_a_damaged_book_is_findings_in_a_worker_too(department_books, catalog, tmp_path, monkeypatch):
    broken = tmp_path / "坏.xlsx"
    broken.write_bytes(b"not a zip at all")
    monkeypatch.setenv("KPI_WORKBOOK_WORKERS", "2")
    results = parallel.read_books(catalog, [broken, *department_books], read_one_book)
    cards, diags = results[0]
    assert cards == [] and diags and all(d.severity == "error" for d in diags)
    assert "坏.xlsx" in diags[0].message_zh
    assert sum(len(found) for found, _ in results[1:]) == 47
