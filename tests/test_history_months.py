"""The history kept by month (issue 24): one sheet of 历史 and of 审批版本 per month, a closed
month's sheets copied as stored (their zip members' compressed bytes) when the history is
written again, and each command reading only the months it needs — while every read still
verifies what it reads, `kpi-workbook history` still hashes every row, and a history of the
one-sheet layout (what kpi-workbook wrote before) is read and converted on its next write."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kpi_workbook.workbook.month import history as H

from .helpers import emp, run
from .test_history_digest import part_of, rewrite
from .test_report import make_book, qc, sheet_rows

OLD = Path(__file__).parent / "fixtures" / "history-one-sheet.xlsx"  # written by kpi-workbook before
# issue 24: 2026-10 of Q1 (102, A, ¥400) and Q2 (45, E, ¥0) reported and approved by 王经理


def roster() -> pd.DataFrame:
    return pd.DataFrame([emp("Q1", "秦一", "品质部", "qc_inspector"), emp("Q2", "秦二", "品质部", "qc_inspector")])


def month_of(tmp_path, catalog, capsys, hist: Path, month: str, approve: bool = True) -> Path:
    """``month`` reported (Q1 strong, Q2 weak) into ``hist``, and approved."""
    folder = tmp_path / month
    folder.mkdir()
    book = make_book(catalog, folder / "qc.xlsx", roster(), qc("Q1", False) + qc("Q2", True), month=month)
    report = folder / "r.xlsx"
    code, _, err = run(capsys, "report", book, "--out", report, "--history", hist)
    assert code == 0, err
    if approve:
        code, _, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
        assert code == 0, err
    return report


@pytest.fixture
def generated(monkeypatch):
    """The month sheets write_history generates (not copied as stored), in order."""
    made: list[str] = []
    real = H._month_part

    def spy(scratch, signer, name, *args, **kwargs):
        made.append(name)
        return real(scratch, signer, name, *args, **kwargs)

    monkeypatch.setattr(H, "_month_part", spy)
    return made


@pytest.fixture
def read(monkeypatch):
    """The month sheets each read of the history read (not left as stored)."""
    seen: list[set[str]] = []
    real = H._read_sheets

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        seen.append({n for n, v in out[0].items() if v is not None and H._family_of(n) is not None})
        return out

    monkeypatch.setattr(H, "_read_sheets", spy)
    return seen


def members(path: Path) -> dict[str, tuple[int, int]]:
    """Sheet → (CRC, compressed size) of its zip member."""
    with zipfile.ZipFile(path) as z:
        return {name: (z.getinfo(part_of(path, name)).CRC, z.getinfo(part_of(path, name)).compress_size)
                for name in openpyxl.load_workbook(path, read_only=True).sheetnames}


def test_each_month_has_its_sheets_and_a_closed_month_is_copied_as_stored(tmp_path, catalog, capsys, generated):
    hist = tmp_path / "h.xlsx"
    month_of(tmp_path, catalog, capsys, hist, "2026-10")
    # report makes October's 历史; approve its versions, and copies 历史 as it is (no calibration)
    assert generated == ["历史 2026-10", "审批版本 2026-10"]
    before = members(hist)
    with zipfile.ZipFile(hist) as z:
        closed = {n: z.read(part_of(hist, n)) for n in ("历史 2026-10", "审批版本 2026-10")}
    generated.clear()
    month_of(tmp_path, catalog, capsys, hist, "2026-11")
    # only November's sheets were made: October's were copied, byte for byte
    assert generated == ["历史 2026-11", "审批版本 2026-11"]
    wb = openpyxl.load_workbook(hist)
    assert wb.sheetnames == ["历史 2026-10", "历史 2026-11", "审批", "审批版本 2026-10", "审批版本 2026-11",
                             "计算记录", "校验"]
    after = members(hist)
    for name, data in closed.items():
        assert after[name] == before[name]
        with zipfile.ZipFile(hist) as z:
            assert z.read(part_of(hist, name)) == data
    assert {r["月份"] for r in sheet_rows(hist, "历史 2026-11")} == {"2026-11"}
    code, out, _ = run(capsys, "history", hist)
    assert code == 0 and "已审批 2 个月" in out and "4 行" in out


def test_commands_read_only_the_months_they_need(tmp_path, catalog, capsys, read):
    hist = tmp_path / "h.xlsx"
    month_of(tmp_path, catalog, capsys, hist, "2026-10")
    report = month_of(tmp_path, catalog, capsys, hist, "2026-11", approve=False)
    read.clear()
    assert run(capsys, "approve", report, "--history", hist, "--by", "王经理")[0] == 0
    # nothing of October; nor November's 历史: the one sealed with the report (历史摘要)
    assert set().union(*read) == set()
    read.clear()
    code, _, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv", "--history", hist)
    assert code == 0, err
    assert set().union(*read) == set()  # the report as approve stamped it: its rows are the approved ones
    import openpyxl

    saved = tmp_path / "saved.xlsx"  # the same report saved again: its rows hashed against the approved ones
    openpyxl.load_workbook(report).save(saved)
    read.clear()
    code, _, err = run(capsys, "payroll", saved, "--out", tmp_path / "p2.csv", "--history", hist)
    assert code == 0, err
    assert set().union(*read) == {"审批版本 2026-11"}  # the approved rows it pays, only
    assert (tmp_path / "p2.csv").read_bytes() == (tmp_path / "p.csv").read_bytes()
    read.clear()
    code, _, err = run(capsys, "rollup", "--history", hist, "--quarter", "2026Q4", "--out", tmp_path / "q.xlsx")
    assert code == 0, err
    assert set().union(*read) == {"历史 2026-10", "历史 2026-11"}
    read.clear()
    assert run(capsys, "history", hist)[0] == 0
    assert set().union(*read) == {"历史 2026-10", "历史 2026-11", "审批版本 2026-10", "审批版本 2026-11"}


def test_a_month_not_needed_is_still_verified(tmp_path, catalog, capsys):
    """An amount edited in October's sheet (its bytes, no spreadsheet program): approving
    November does not need October, yet its member is no longer the sealed one: it is read,
    hashed row by row, and the edit refuses the command, naming the row."""
    hist = tmp_path / "h.xlsx"
    month_of(tmp_path, catalog, capsys, hist, "2026-10")
    report = month_of(tmp_path, catalog, capsys, hist, "2026-11", approve=False)
    rewrite(hist, part_of(hist, "历史 2026-10"), lambda b: b.replace(b"<v>400</v>", b"<v>900</v>", 1))
    code, _, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
    assert code == 1 and "历史 2026-10第 2 行" in err, err
    code, _, err = run(capsys, "history", hist)
    assert code == 1 and "历史 2026-10第 2 行" in err, err


def test_a_month_sheet_deleted_is_refused(tmp_path, catalog, capsys):
    hist = tmp_path / "h.xlsx"
    month_of(tmp_path, catalog, capsys, hist, "2026-10")
    report = month_of(tmp_path, catalog, capsys, hist, "2026-11", approve=False)
    wb = openpyxl.load_workbook(hist)
    del wb["历史 2026-10"]
    wb.save(hist)
    code, _, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
    assert code == 1 and "历史 2026-10" in err and "删除" in err, err


def test_a_history_of_one_sheet_is_read_and_converted_on_the_next_write(tmp_path, catalog, capsys):
    hist = tmp_path / "h.xlsx"
    shutil.copy(OLD, hist)
    old = openpyxl.load_workbook(hist)
    assert "历史" in old.sheetnames and "审批版本" in old.sheetnames  # the layout before issue 24
    october = sheet_rows(hist, "历史")
    versions = sheet_rows(hist, "审批版本")
    code, out, err = run(capsys, "history", hist)
    assert code == 0 and "已审批 1 个月" in out, err
    month_of(tmp_path, catalog, capsys, hist, "2026-11")
    wb = openpyxl.load_workbook(hist)
    assert wb.sheetnames == ["历史 2026-10", "历史 2026-11", "审批", "审批版本 2026-10", "审批版本 2026-11",
                             "计算记录", "校验"]
    def cells(rows: list[dict]) -> list[dict]:  # a 链哈希 starts from its sheet's name: made again
        return [{k: v for k, v in r.items() if k != "链哈希"} for r in rows]

    assert cells(sheet_rows(hist, "历史 2026-10")) == cells(october)
    assert cells(sheet_rows(hist, "审批版本 2026-10")) == cells(versions)
    code, out, err = run(capsys, "history", hist)
    assert code == 0 and "已审批 2 个月" in out, err


def test_a_history_of_one_sheet_edited_is_still_refused(tmp_path, capsys):
    hist = tmp_path / "h.xlsx"
    shutil.copy(OLD, hist)
    wb = openpyxl.load_workbook(hist)
    ws = wb["历史"]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index("应发绩效合计") + 1, 9485)
    wb.save(hist)
    code, _, err = run(capsys, "history", hist)
    assert code == 1 and "历史第 2 行" in err, err


def test_months_of_no_month_text_stay_in_one_sheet(tmp_path):
    """A row whose 月份 is no month (an old history edited by hand, then sealed) cannot name
    a sheet: it stays in the one-sheet 历史, beside the month sheets, and reads back."""
    rows = pd.DataFrame([{"工号": "E1", "姓名": "甲", "月份": "2026-10", "总分": 90.0, "等级": "A", "状态": "已完成",
                          "部门最低": False}, {"工号": "E2", "姓名": "乙", "月份": "十月", "总分": 80.0, "等级": "B",
                                              "状态": "已完成", "部门最低": False}], columns=H.COLUMNS)
    path = tmp_path / "h.xlsx"
    H.write_history(path, H.HistoryBook(rows))
    assert openpyxl.load_workbook(path).sheetnames == ["历史", "历史 2026-10", "校验"]
    book = H.read_history_book(path)
    assert sorted(book.rows["工号"]) == ["E1", "E2"] and book.months() == ["2026-10", "十月"]


def _report_column(report: Path, column: str) -> dict:
    rows = list(openpyxl.load_workbook(report, read_only=True)["月度汇总"].iter_rows(values_only=True))
    head = list(rows[0])
    return {r[head.index("工号")]: r[head.index(column)] for r in rows[1:] if r[0] is not None}


def test_a_report_scored_again_at_approval_keeps_its_streak_warnings(tmp_path, catalog, capsys):
    """approve of a report made without --history after a book changed writes the report
    again from the books: its warnings look back at the months before, so they are read."""
    from .test_payroll_trust import set_cell

    hist = tmp_path / "h.xlsx"
    month_of(tmp_path, catalog, capsys, hist, "2026-10")  # Q2 graded E
    month_of(tmp_path, catalog, capsys, hist, "2026-11", approve=False)  # and again
    book = tmp_path / "2026-11" / "qc.xlsx"
    set_cell(book, "Q1", "KPI_BASE_SALARY", 6000)  # the books are no longer as recorded
    again = tmp_path / "again.xlsx"
    assert run(capsys, "report", book, "--out", again)[0] == 0  # (no history: no warnings)
    code, _, err = run(capsys, "approve", again, "--history", hist, "--by", "王经理")
    assert code == 0, err
    assert "连续2个月E" in _report_column(again, "预警")["Q2"]


def test_a_report_whose_pay_is_not_the_historys_is_not_approved(tmp_path, catalog, capsys):
    """历史 is what the roll-up reads: a report whose pay (or name, department) differs from
    the month's 历史 rows is sent back to report --history, as one whose grade differs."""
    from .test_money_signoff import CS_ROSTER, cs
    from .test_payroll_trust import set_cell

    book = make_book(catalog, tmp_path / "cs.xlsx", CS_ROSTER, cs("S1") + cs("S2"))
    hist, again = tmp_path / "h.xlsx", tmp_path / "again.xlsx"
    assert run(capsys, "report", book, "--out", tmp_path / "r.xlsx", "--history", hist)[0] == 0
    set_cell(book, "S1", "KPI_BASE_SALARY", 6000)  # S1's pay changes, the score does not
    assert run(capsys, "report", book, "--out", again)[0] == 0
    code, _, err = run(capsys, "approve", again, "--history", hist, "--by", "王经理")
    assert code == 1 and "report --history" in err and "S1" in err


def test_a_month_whose_zip_directory_lies_is_not_copied_on(tmp_path, catalog, capsys):
    """The sealed 压缩摘要 covers a month member's CRC and sizes with its bytes: a wrong CRC
    in the zip directory is refused when the history is read, not copied into the next
    history to fail every full read after."""
    import struct

    hist = tmp_path / "h.xlsx"
    month_of(tmp_path, catalog, capsys, hist, "2026-10")
    november = month_of(tmp_path, catalog, capsys, hist, "2026-11", approve=False)
    member = part_of(hist, "历史 2026-10")
    data = bytearray(hist.read_bytes())
    with zipfile.ZipFile(hist) as z:
        info = z.getinfo(member)
    central = 0
    while True:
        central = data.find(b"PK\x01\x02", central)
        n = struct.unpack("<H", data[central + 28:central + 30])[0]
        if bytes(data[central + 46:central + 46 + n]) == member.encode():
            break
        central += 4
    wrong = struct.pack("<I", info.CRC ^ 0x5A5A5A5A)
    data[central + 16:central + 20] = wrong
    data[info.header_offset + 14:info.header_offset + 18] = wrong
    hist.write_bytes(bytes(data))
    code, _, err = run(capsys, "approve", november, "--history", hist, "--by", "王经理")
    assert code == 2 and "h.xlsx" in err, err


def test_months_read_later_come_from_the_file_read_first(tmp_path, catalog, capsys):
    """payroll and rollup read the history without its lock, a month at a time: when the
    file is written in between, the second read is refused (run again), never paired with
    the first."""
    from kpi_workbook.diagnostics import Refused

    hist = tmp_path / "h.xlsx"
    month_of(tmp_path, catalog, capsys, hist, "2026-10")
    month_of(tmp_path, catalog, capsys, hist, "2026-11")
    book = H.read_history_book(hist, months=("2026-10",))
    month_of(tmp_path, catalog, capsys, hist, "2026-12", approve=False)  # the history written meanwhile
    with pytest.raises(Refused, match="run the command again"):
        book.load(["2026-11"])
    H.read_history_book(hist, months=("2026-10",)).load(["2026-11"])  # read afresh: fine


def test_a_big_month_sheet_deflated_fast_reads_copies_and_verifies_as_any(tmp_path, catalog, capsys, monkeypatch):
    """Month sheets over history.BIG_PART of cells are deflated fast (here every one):
    read, copied as stored by the next write, and hashed row by row by `history`, as any."""
    import zlib

    from kpi_workbook.workbook.xlsx.package import fast_deflater

    monkeypatch.setattr(H, "BIG_PART", 0)
    hist = tmp_path / "h.xlsx"
    month_of(tmp_path, catalog, capsys, hist, "2026-10")
    month_of(tmp_path, catalog, capsys, hist, "2026-11")  # October copied as stored
    member = part_of(hist, "历史 2026-10")
    with zipfile.ZipFile(hist) as z:
        assert z.testzip() is None
        info, data = z.getinfo(member), z.read(member)
    fast = fast_deflater()  # the fastest level, by isal where installed
    slow = zlib.compressobj(6, zlib.DEFLATED, -15)
    assert info.compress_size == len(fast.compress(data) + fast.flush()) != len(slow.compress(data) + slow.flush())
    code, out, err = run(capsys, "history", hist)
    assert code == 0 and "已审批 2 个月" in out, err
