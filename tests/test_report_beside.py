"""Issue 24: `report --history` of a big month writes the report in a forked child while the
history's work (the engine digest, the month sheets) goes on; what is written is what the
serial order writes, and the history still takes its name only once the report has.

The threshold (monthly.BESIDE_ROWS) is lowered so that a two-card book takes the forked path;
each test says which path it took."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from kpi_workbook.diagnostics import KpiError, error
from kpi_workbook.workbook.month import monthly
from kpi_workbook.workbook.month.history import REPORT_DIGEST, read_history_book
from kpi_workbook.workbook.month.verify import report_digest

from .helpers import run
from .test_payroll_trust import CS_ROSTER, cs
from .test_report import make_book


@pytest.fixture
def book(tmp_path, catalog):
    return make_book(catalog, tmp_path / "cs.xlsx", CS_ROSTER, cs("S1") + cs("S2"))


@pytest.fixture
def forked(monkeypatch) -> list[int]:
    """The forked path offered for any month; the ids of the children started (0: none)."""
    monkeypatch.setattr(monthly, "BESIDE_ROWS", 0)
    started: list[int] = []
    real = monthly._Beside.start

    def start(work):
        beside = real(work)
        started.append(beside.pid if beside is not None else 0)
        return beside
    monkeypatch.setattr(monthly._Beside, "start", staticmethod(start))
    return started


def parts(path: Path) -> dict[str, bytes]:
    """The report's parts, but its time of writing."""
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def test_the_report_written_beside_is_the_report_written_in_turn(tmp_path, book, forked, monkeypatch, capsys):
    serial, beside = tmp_path / "serial", tmp_path / "beside"
    monkeypatch.setenv("KPI_WORKBOOK_WORKERS", "1")  # one process: the serial order
    assert run(capsys, "report", book, "--out", serial / "r.xlsx", "--history", serial / "h.xlsx")[0] == 0
    assert forked == [0]  # not forked
    monkeypatch.delenv("KPI_WORKBOOK_WORKERS")
    assert run(capsys, "report", book, "--out", beside / "r.xlsx", "--history", beside / "h.xlsx")[0] == 0
    assert len(forked) == 2 and forked[1] > 0  # forked
    assert parts(serial / "r.xlsx") == parts(beside / "r.xlsx")
    one, two = (read_history_book(p / "h.xlsx") for p in (serial, beside))
    assert one.rows.equals(two.rows)
    assert one.computed.drop(columns=["时间", REPORT_DIGEST]).equals(two.computed.drop(columns=["时间", REPORT_DIGEST]))
    for where, book_read in ((serial, one), (beside, two)):  # the file digest of the report as written
        assert book_read.computed[REPORT_DIGEST].tolist() == [report_digest(where / "r.xlsx")]
    assert run(capsys, "approve", beside / "r.xlsx", "--history", beside / "h.xlsx", "--by", "王经理")[0] == 0


def test_a_report_that_fails_beside_leaves_the_history_alone_and_is_named(tmp_path, book, forked,
                                                                          monkeypatch, capsys):
    report, hist = tmp_path / "r.xlsx", tmp_path / "h.xlsx"
    assert run(capsys, "report", book, "--out", report, "--history", hist)[0] == 0
    before = hist.read_bytes()

    def fails(*_, **__):  # in the child (inherited by the fork): the history is done meanwhile
        raise KpiError([error("cannot-write", "无法写入报表 r2.xlsx", "cannot write the report r2.xlsx")])
    monkeypatch.setattr(monthly, "write_report", fails)
    code, _, err = run(capsys, "report", book, "--out", tmp_path / "r2.xlsx", "--history", hist, "--force")
    assert code == 2 and "cannot write the report r2.xlsx" in err and forked[1] > 0
    assert hist.read_bytes() == before  # the history waited for the report, which failed
    assert not (tmp_path / "r2.xlsx").exists()
    assert not [p for p in tmp_path.iterdir() if p.is_file() and p.name.startswith(".")]  # no temporary file


def test_a_history_that_fails_beside_still_gets_its_report(tmp_path, book, forked, monkeypatch, capsys):
    report, hist = tmp_path / "r.xlsx", tmp_path / "h.xlsx"

    def fails(*_, **__):
        raise KpiError([error("cannot-write", "无法写入历史 h.xlsx", "cannot write the history h.xlsx")])
    monkeypatch.setattr(monthly, "write_history", fails)
    code, _, err = run(capsys, "report", book, "--out", report, "--history", hist)
    assert code == 2 and "cannot write the history h.xlsx" in err and forked[0] > 0
    assert report.exists() and not hist.exists()  # the report was written first, as in turn
