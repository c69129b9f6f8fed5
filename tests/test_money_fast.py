"""Issue 24: approve and payroll check a report against what the engine computed for its
month (the history's chained 计算记录, written by ``report --history``) instead of scoring
its books again — and give exactly what the re-scoring path gives.

Each test runs real files; "scored again" is seen by making the engine's month
(verify.build_report) raise: the fast path never calls it, the fallback always does."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kpi_workbook.workbook.month import approval, verify
from kpi_workbook.workbook.month.history import HistoryBook

from .helpers import run
from .test_money_signoff import cs_month, edit_report  # noqa: F401  (a fixture)
from .test_payroll_trust import set_cell

WHEN = "2026-11-05T10:00:00+08:00"


class Scored(Exception):
    """The books were scored again."""


def no_scoring(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise Scored()
    monkeypatch.setattr(verify, "build_report", refuse)


def no_record(monkeypatch) -> None:
    """The re-scoring path: as if the history held no 计算记录."""
    monkeypatch.setattr(HistoryBook, "computation", lambda self, month: None)


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def copies(tmp_path: Path, report: Path, hist: Path, name: str) -> tuple[Path, Path]:
    folder = tmp_path / name
    folder.mkdir()
    return Path(shutil.copy(report, folder / report.name)), Path(shutil.copy(hist, folder / hist.name))


def book_values(path: Path) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


def page_texts(path: Path) -> list[str]:
    """Every sheet's page header and footer as stored (with the print date)."""
    with zipfile.ZipFile(path) as z:
        return sorted(m for n in z.namelist() if n.startswith("xl/worksheets/sheet")
                      for m in re.findall(r"<headerFooter>.*?</headerFooter>", z.read(n).decode("utf-8"), re.S))


def test_report_history_records_what_the_engine_computed(cs_month):  # noqa: F811
    book, report, hist = cs_month
    wb = openpyxl.load_workbook(hist)
    ws = wb["计算记录"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert len(rows) == 1 and rows[0]["月份"] == "2026-10" and rows[0]["行数"] == 2
    # the books' hashes: SHA-256 of the sorted SHA-256 of each book read (one here)
    assert rows[0]["考核表哈希"] == hashlib.sha256(sha(book).encode()).hexdigest()
    assert json.loads(rows[0]["金额列"]) == ["绩效工资"] and rows[0]["其他错误"] == 0
    assert header[-1] == "链哈希" and "计算记录" in [r[0] for r in wb["校验"].iter_rows(values_only=True)]


def test_approve_and_payroll_with_the_record_score_no_card_and_match_the_rescoring_path(
        tmp_path, cs_month, capsys, monkeypatch):  # noqa: F811
    _, report, hist = cs_month
    monkeypatch.setattr(approval, "now_text", lambda: WHEN)
    out = {}
    for name in ("fast", "slow"):
        r, h = copies(tmp_path, report, hist, name)
        with monkeypatch.context() as m:
            (no_scoring if name == "fast" else no_record)(m)
            code, stdout, err = run(capsys, "approve", r, "--history", h, "--by", "王经理")
            assert code == 0, err
            csv = r.parent / "p.csv"
            code, _, err = run(capsys, "payroll", r, "--out", csv, "--history", h, "--require-approved")
            assert code == 0, err
        out[name] = (r, h, csv, stdout)
    (fr, fh, fcsv, fout), (sr, sh, scsv, sout) = out["fast"], out["slow"]
    assert fout.replace(str(fh), "H") == sout.replace(str(sh), "H") and "已审批" in fout
    assert fcsv.read_bytes() == scsv.read_bytes()  # the same payroll, byte for byte
    assert book_values(fr) == book_values(sr)  # the approved report: every cell, 来源's stamp too
    assert page_texts(fr) == page_texts(sr) and "（已审批）" in page_texts(fr)[0]
    assert "审批：王经理" in page_texts(fr)[0]
    fast_history, slow_history = book_values(fh), book_values(sh)
    assert fast_history.keys() == slow_history.keys()
    for sheet in fast_history:  # 历史 and 审批版本 of the month, 审批
        if sheet.split(" ")[0] in ("历史", "审批", "审批版本"):
            assert fast_history[sheet] == slow_history[sheet], sheet
    # and a second approve of the stamped report: unchanged, still without scoring
    with monkeypatch.context() as m:
        no_scoring(m)
        code, stdout, err = run(capsys, "approve", fr, "--history", fh, "--by", "王经理")
    assert code == 0 and "无改动" in stdout, err


@pytest.mark.parametrize("edit", [
    {"绩效工资": 9435, "应发绩效合计": 9435},  # raised pay, adding up
    {"等级": "A"},
    {"姓名": "孙二"},
    {"说明": "本岗位无绩效薪酬规则"},  # what payroll reads to leave money empty: the engine's, not typed
    {"问题": None, "状态": "未完成"},
])
def test_a_report_edited_after_report_history_is_not_taken_by_the_fast_path(
        tmp_path, cs_month, capsys, monkeypatch, edit):  # noqa: F811
    """The report's table is the engine's only if its rows hash as recorded: an edited one
    is scored again (which names the cell), never approved or paid from the record."""
    _, report, hist = cs_month
    edit_report(report, "S1", edit)
    no_scoring(monkeypatch)
    with pytest.raises(Scored):
        approval.approve(report, hist, by="王经理")
    from kpi_workbook.workbook.month.payroll import prepare_payroll

    with pytest.raises(Scored):
        prepare_payroll(report, history=hist, unapproved=True)
    monkeypatch.undo()
    code, _, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
    assert code == (0 if "说明" in edit else 1) and ("月度汇总" in err or code == 0)


def test_an_added_column_of_numbers_or_a_typed_over_total_is_not_taken(tmp_path, cs_month, monkeypatch):  # noqa: F811
    _, report, hist = cs_month
    wb = openpyxl.load_workbook(report)
    ws = wb["月度汇总"]
    ws.cell(1, ws.max_column + 1, "补发")
    ws.cell(2, ws.max_column, 500)
    wb.save(report)
    no_scoring(monkeypatch)
    with pytest.raises(Scored):
        approval.approve(report, hist, by="王经理")


def test_a_changed_book_is_refused_by_the_fast_path_itself(tmp_path, cs_month, capsys, monkeypatch):  # noqa: F811
    book, report, hist = cs_month
    set_cell(book, "S1", "KPI_BASE_SALARY", 9000)
    no_scoring(monkeypatch)
    code, _, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
    assert code == 1 and book.name in err and "改动" in err


def test_a_record_edited_in_the_history_is_refused_by_the_chain(tmp_path, cs_month, capsys):  # noqa: F811
    _, report, hist = cs_month
    wb = openpyxl.load_workbook(hist)
    ws = wb["计算记录"]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index("月度哈希") + 1, "0" * 64)
    wb.save(hist)
    for argv in (("approve", report, "--history", hist, "--by", "王经理"),
                 ("payroll", report, "--out", tmp_path / "p.csv", "--history", hist)):
        code, _, err = run(capsys, *argv)
        assert code == 1 and "计算记录第 2 行" in err, err


def test_a_report_of_other_books_falls_back_to_scoring(tmp_path, cs_month, capsys, monkeypatch):  # noqa: F811
    """A report made (without --history) after a book changed: the record is of other books."""
    book, report, hist = cs_month
    set_cell(book, "S1", "KPI_BASE_SALARY", 6000)
    again = tmp_path / "again.xlsx"
    assert run(capsys, "report", book, "--out", again)[0] == 0
    with monkeypatch.context() as m:
        no_scoring(m)
        with pytest.raises(Scored):
            approval.approve(again, hist, by="王经理")


# --- the report checked by its file digest (issue 24: approve and payroll of 100,000 rows) -------

def computed_rows(hist: Path) -> list[dict]:
    ws = openpyxl.load_workbook(hist)["计算记录"]
    header = [c.value for c in ws[1]]
    return [dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)]


def no_row_hashing(monkeypatch) -> None:
    """Neither the report's rows hashed against the record nor its 校准 sheet read: the
    report was taken as the file the record names."""
    def refuse(*args, **kwargs):
        raise Scored()
    monkeypatch.setattr(approval, "engine_digest", refuse)
    monkeypatch.setattr("kpi_workbook.workbook.month.calibration.calibrate_report", refuse)


def test_a_report_as_written_is_taken_by_its_file_digest_and_payroll_by_the_stamped_one(
        tmp_path, cs_month, capsys, monkeypatch):  # noqa: F811
    _, report, hist = cs_month
    written = verify.report_digest(report)
    assert len(written) == 64 and computed_rows(hist)[-1]["报表摘要"] == written
    with monkeypatch.context() as m:
        no_scoring(m)
        no_row_hashing(m)
        code, stdout, err = run(capsys, "approve", report, "--history", hist, "--by", "王经理")
        assert code == 0 and "已审批" in stdout, err
        stamped = verify.report_digest(report)
        rows = computed_rows(hist)
        # the stamped report recorded too: the engine's record of the month, the new file's digest
        assert len(rows) == 2 and stamped not in ("", written) and rows[-1]["报表摘要"] == stamped
        assert {k: v for k, v in rows[-1].items() if k not in ("报表摘要", "时间", "链哈希")} == {
            k: v for k, v in rows[0].items() if k not in ("报表摘要", "时间", "链哈希")}
        out = tmp_path / "p.csv"
        code, _, err = run(capsys, "payroll", report, "--out", out, "--history", hist, "--require-approved")
        assert code == 0, err
    # the same payroll as the path that hashes every row
    slow = tmp_path / "slow.csv"
    monkeypatch.setattr(approval, "as_recorded", lambda report, computed: "")
    code, _, err = run(capsys, "payroll", report, "--out", slow, "--history", hist, "--require-approved")
    assert code == 0 and slow.read_bytes() == out.read_bytes(), err


def test_a_report_not_byte_for_byte_as_recorded_has_its_rows_hashed(tmp_path, cs_month, monkeypatch):  # noqa: F811
    """Saved again unchanged (by openpyxl here, by a spreadsheet in life): the digest differs,
    so the report is read and its rows checked as before — and still approved."""
    _, report, hist = cs_month
    written = verify.report_digest(report)
    wb = openpyxl.load_workbook(report)
    wb.save(report)
    assert verify.report_digest(report) not in ("", written)
    with monkeypatch.context() as m:
        no_row_hashing(m)
        with pytest.raises(Scored):
            approval.approve(report, hist, by="王经理")
    no_scoring(monkeypatch)  # the rows hash as the engine's: no card scored again
    assert approval.approve(report, hist, by="王经理").rows == 2


def test_the_report_digest_covers_every_member_byte_for_byte(tmp_path, cs_month):  # noqa: F811
    _, report, _ = cs_month
    copy = Path(shutil.copy(report, tmp_path / "copy.xlsx"))
    assert verify.report_digest(copy) == verify.report_digest(report) != ""
    with zipfile.ZipFile(report) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    for change in ("a part's bytes", "a part added", "a part renamed"):
        other = tmp_path / f"{change}.xlsx"
        with zipfile.ZipFile(other, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in parts.items():
                if change == "a part's bytes" and name.endswith("sheet1.xml"):
                    data = data.replace(b"435", b"436", 1)
                z.writestr(name + ("x" if change == "a part renamed" and name.endswith("sheet1.xml") else ""), data)
            if change == "a part added":
                z.writestr("extra.xml", b"<x/>")
        same = tmp_path / f"{change}-again.xlsx"
        shutil.copy(other, same)
        assert verify.report_digest(other) == verify.report_digest(same) != verify.report_digest(report), change
    (tmp_path / "not.xlsx").write_bytes(b"not a zip")
    assert verify.report_digest(tmp_path / "not.xlsx") == ""


def test_a_record_written_before_the_report_digest_is_still_read_and_used(tmp_path, cs_month, monkeypatch):  # noqa: F811
    """A history whose 计算记录 has no 报表摘要 column (chained without it) reads as it did,
    and approve checks the report's rows against its 月度哈希 as before."""
    from kpi_workbook.workbook.month import history as history_module

    _, report, hist = cs_month
    book = history_module.read_history_book(hist)
    old = history_module.COMPUTED_COLUMNS[:history_module.COMPUTED_COLUMNS.index("报表摘要")]
    book.computed = book.computed[old]
    with monkeypatch.context() as m:
        m.setattr(history_module, "COMPUTED_COLUMNS", old)
        m.setattr(history_module, "CHAINED", {**history_module.CHAINED, history_module.COMPUTED: old})
        history_module.write_history(hist, book)
    assert "报表摘要" not in computed_rows(hist)[0]
    history_module.read_history_book(hist, full=True)  # every row's chain hashed again
    assert history_module.read_history_book(hist).computation("2026-10")["报表摘要"] is None
    no_scoring(monkeypatch)
    assert approval.approve(report, hist, by="王经理").rows == 2
    assert computed_rows(hist)[-1]["报表摘要"] in (None, "")  # written again with the column


def no_states(monkeypatch) -> None:
    """No row hashed against the approved versions (approval_states)."""
    def refuse(*args, **kwargs):
        raise Scored()
    monkeypatch.setattr("kpi_workbook.workbook.month.payroll.approval_states", refuse)


def test_payroll_of_the_stamped_report_pays_a_role_without_pay_rule_as_empty(tmp_path, catalog, capsys,
                                                                            monkeypatch):
    """The approved report as stamped: no row hashed, no version read, and the 校准 sheet read
    for the roles only because a row needs its role (a role with no pay rule: money empty)."""
    import pandas as pd
    from kpi_workbook.sample import sample_inputs

    from .test_money_signoff import MONTH, emp, make_book, read_csv
    from .test_report import qc

    roster = pd.DataFrame([emp("D1", "邓一", "客服部", "cs_department"), emp("Q2", "秦二", "品质部", "qc_inspector")])
    rows = [r for r in sample_inputs(catalog, roster, MONTH).itertuples(index=False, name=None) if r[0] == "D1"]
    book = make_book(catalog, tmp_path / "b.xlsx", roster, rows + qc("Q2", True))
    report, hist = tmp_path / "r.xlsx", tmp_path / "h.xlsx"
    assert run(capsys, "report", book, "--out", report, "--history", hist)[0] == 0
    no_scoring(monkeypatch)
    no_row_hashing(monkeypatch)
    no_states(monkeypatch)
    assert run(capsys, "approve", report, "--history", hist, "--by", "王经理")[0] == 0
    code, _, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv", "--history", hist,
                       "--require-approved")
    assert code == 0, err
    paid = {r["工号"]: r for r in read_csv(tmp_path / "p.csv")[1]}
    assert paid["D1"]["应发绩效合计"] == "" and paid["D1"]["说明"] == "本岗位无绩效薪酬规则"
    assert paid["Q2"]["应发绩效合计"] == "0.00"


def test_a_stamped_report_of_a_reopened_month_is_not_taken_as_approved(tmp_path, cs_month, capsys):  # noqa: F811
    book, report, hist = cs_month
    assert run(capsys, "approve", report, "--history", hist, "--by", "王经理")[0] == 0
    stamped = Path(shutil.copy(report, tmp_path / "stamped.xlsx"))
    code, _, err = run(capsys, "report", book, "--out", tmp_path / "again.xlsx", "--history", hist,
                       "--reopen", "--reason", "复核")
    assert code == 0, err
    code, _, err = run(capsys, "payroll", stamped, "--out", tmp_path / "p.csv", "--history", hist,
                       "--require-approved")
    assert code == 1 and not (tmp_path / "p.csv").exists(), err
    code, _, err = run(capsys, "payroll", stamped, "--out", tmp_path / "p.csv", "--history", hist)
    assert "已重开" in err and not (tmp_path / "p.csv").exists() or "已重开" in (tmp_path / "p.csv").read_text(
        encoding="utf-8-sig"), err


def test_a_stamped_report_pays_as_approved_only_while_its_approval_stands(cs_month, capsys):  # noqa: F811
    """stamped_states: the stamped report's rows take the approval's state without a row hashed
    only while the approval its stamp names stands; the same file against that approval
    reopened (no command reaches this: a reopening records a new 计算记录 row, so the stamped
    file is no longer the recorded one) is left to the row-by-row states."""
    from kpi_workbook.rules.loader import builtin_catalog
    from kpi_workbook.workbook.month.history import REOPENED, read_history_book

    _, report, hist = cs_month
    assert run(capsys, "approve", report, "--history", hist, "--by", "王经理")[0] == 0
    book = read_history_book(hist, months=())
    fresh, _ = approval.derive(builtin_catalog(), report, book, findings=True)
    count = len(fresh.data.summary)
    states = approval.stamped_states(book, fresh, count)
    assert states is not None and len(states) == count and all(s.startswith("已审批 ") for s in states)
    book.approvals.loc[book.approvals.index[-1], "状态"] = REOPENED
    assert approval.stamped_states(book, fresh, count) is None
