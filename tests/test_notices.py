"""`kpi-workbook notices`: what each 绩效结果通知书 says, where it comes from, when there is none.

The numbers are worked out here by hand from the templates (qc_inspector, S5: 错漏检 20 points,
22 with no miss at all, so 102 and 100 for no miss and one; A ≥ 96 → ¥400, B ≥ 80 → ¥300
等级奖金), never read back from the code under test. The pages themselves are rendered in tests/test_render.py.
"""

from __future__ import annotations

import shutil

import openpyxl
import pandas as pd
import pytest

from kpi_workbook import api
from kpi_workbook.diagnostics import KpiError
from kpi_workbook.workbook.month.notices import build_notices, source_books
from kpi_workbook.workbook.scorecard.build import build_workbook
from kpi_workbook.workbook.scorecard.fill import fill_workbooks

from .helpers import emp, run

MONTHS = ("2026-09", "2026-10")


def qc(eid: str, misses: int) -> list:
    return [(eid, "miss_detection.misses", None, misses)]


@pytest.fixture()
def month(tmp_path, catalog):
    """Two months of three QC inspectors with a history: Q1 never misses, Q2 misses once a
    month (both A), Q3 is left incomplete in the second month."""
    roster = pd.DataFrame([emp("Q1", "甲", "品质部", "qc_inspector"), emp("Q2", "乙", "品质部", "qc_inspector"),
                           emp("Q3", "丙", "品质部", "qc_inspector")])
    history = tmp_path / "历史.xlsx"
    for k, m in enumerate(MONTHS):
        folder = tmp_path / m / "考核表"
        folder.mkdir(parents=True)
        book = folder / "品质部.xlsx"
        build_workbook(catalog, roster, m, book)
        rows = qc("Q1", 0) + qc("Q2", 1) + (qc("Q3", 2) if k == 0 else [])
        fill_workbooks(catalog, [book], rows)
        api.report(book.parent, tmp_path / m / "月度报表.xlsx", history=history)
    return {"folder": tmp_path, "history": history, "report": tmp_path / MONTHS[-1] / "月度报表.xlsx",
            "book": tmp_path / MONTHS[-1] / "考核表" / "品质部.xlsx"}


def test_each_complete_card_gets_its_notice_with_the_engines_sentences(month, catalog):
    data = build_notices(catalog, month["report"], month["history"])
    assert [n.employee_id for n in data.notices] == ["Q1", "Q2"]  # Q3 is incomplete: none
    assert any(d.code == "notice-not-complete" and "Q3" in d.message_zh for d in data.diagnostics)
    q1, q2 = data.notices
    role = catalog.roles["qc_inspector"]
    assert [i.label for i in q1.items] == [i.label + ("（加减分）" if i.adjustment else "") for _, i in role.items()]
    assert (q1.total, q1.grade, q1.pay) == (102.0, "A", 400.0)  # no miss: 22 of 20 points
    assert (q2.total, q2.grade, q2.pay) == (100.0, "A", 400.0)  # one miss: 20
    miss = [next(i for i in n.items if i.label.startswith("错漏检")) for n in (q1, q2)]
    assert (miss[0].points, miss[1].points) == (22.0, 20.0) == (miss[0].max + 2, miss[1].max)
    assert "错漏检次数 0" in miss[0].explain and "得 22 分" in miss[0].explain
    assert "错漏检次数 1" in miss[1].explain and "得 20 分" in miss[1].explain
    assert q2.rank == "2 / 2" and q1.rank == "1 / 2"
    assert q1.trend[-2:] == [("2026-09", 102.0, "A"), ("2026-10", 102.0, "A")]  # from the history
    assert [m for m, _, _ in q1.trend] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert q1.trend[0] == ("2026-05", None, "")  # no card then: a gap, not a 0
    assert q1.approval == "未审批"


def test_the_report_records_its_books(month):
    books = source_books(month["report"])
    assert [b.resolve() for b in books] == [month["book"].resolve()]
    moved = month["folder"] / "moved"  # a month folder moved elsewhere: found relative to the report
    shutil.copytree(month["folder"] / MONTHS[-1], moved)
    assert [b.resolve() for b in source_books(moved / "月度报表.xlsx")] == [(moved / "考核表" / "品质部.xlsx").resolve()]


def test_a_stale_report_gives_no_notice_for_the_changed_card(month, catalog):
    fill_workbooks(catalog, [month["book"]], qc("Q1", 3))  # after the report: Q1 now misses 3
    data = build_notices(catalog, month["report"], month["history"])
    assert [n.employee_id for n in data.notices] == ["Q2"]
    stale = [d for d in data.diagnostics if d.code == "notice-stale"]
    assert len(stale) == 1 and "Q1" in stale[0].message_zh and "重新生成月度报表" in stale[0].message_zh


def test_calibration_and_approval_are_on_the_notice(month, catalog, capsys):
    wb = openpyxl.load_workbook(month["report"])
    ws = wb["校准"]
    header_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "工号")
    header = [c.value for c in ws[header_row]]
    row = next(r for r in range(header_row + 1, ws.max_row + 1) if ws.cell(r, 1).value == "Q2")
    ws.cell(row, header.index("校准等级") + 1, "B")
    ws.cell(row, header.index("校准理由") + 1, "两次客诉")
    wb.save(month["report"])
    code, _, _ = run(capsys, "approve", month["report"], "--history", month["history"], "--by", "王经理")
    assert code == 0
    q2 = next(n for n in build_notices(catalog, month["report"], month["history"]).notices if n.employee_id == "Q2")
    assert (q2.grade, q2.pay) == ("B", 300.0)  # the calibrated grade and the pay it gives (S5: B ¥300)
    assert q2.calibrated == "A → B（两次客诉）" and q2.approval.startswith("已审批 ") and q2.approval.endswith(" 王经理")


def test_cli_writes_one_sheet_per_notice(month, capsys, tmp_path):
    out = tmp_path / "通知书.xlsx"
    code, stdout, err = run(capsys, "notices", month["report"], "--history", month["history"], "--out", out,
                            "--no-pdf", "--company", "琦星电子")
    assert code == 0 and "2 份" in stdout and "Q3" in err
    wb = openpyxl.load_workbook(out)
    assert [ws.title for ws in wb.worksheets] == ["Q1 甲", "Q2 乙"]
    texts = [str(c.value) for row in wb["Q1 甲"].iter_rows() for c in row if c.value is not None]
    assert "琦星电子" in texts and "2026 年 10 月 绩效结果通知书（面谈表）" in texts
    assert not out.with_suffix(".pdf").exists()
    code, _, err = run(capsys, "notices", month["report"], "--out", out, "--no-pdf")
    assert code == 2 and "--force" in err  # never overwrites without --force
    code, _, err = run(capsys, "notices", month["report"], "--out", tmp_path / "x.csv")
    assert code == 2 and ".xlsx" in err


def test_books_that_cannot_be_found_are_named(month, catalog, tmp_path):
    lonely = tmp_path / "alone" / "月度报表.xlsx"
    lonely.parent.mkdir()
    shutil.copy(month["report"], lonely)
    shutil.rmtree(month["folder"] / MONTHS[-1] / "考核表")
    with pytest.raises(KpiError) as raised:
        build_notices(catalog, lonely, month["history"])
    assert "--books" in str(raised.value.diagnostics[0].message_zh)
