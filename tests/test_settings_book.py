"""设置 is the month's rule book: validate, report and payroll score each workbook with the
thresholds and pay parameters its own 设置 holds, as its sheets do.

cs_specialist is used because its total is plain arithmetic: five items scored 0–100 by the
supervisor, 20 points each, so a card scored 82 on all five totals 82.0; its pay is
基本工资 × pct × total ÷ 100 when total ≥ min_total (pay_base_pct). Every expected grade and
amount below is worked out by hand from those rules, and the sheets' own results come from
three spreadsheet engines recalculating the edited workbook.
"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kpi_workbook.rules.loader import builtin_catalog
from kpi_workbook.workbook import recalc
from kpi_workbook.workbook.scorecard.build import build_workbook
from kpi_workbook.workbook.scorecard.fill import fill_workbooks
from kpi_workbook.workbook.scorecard.reader import read_workbook
from kpi_workbook.workbook.month.report import build_report
from kpi_workbook.workbook.scorecard.validate import validate_books
from kpi_workbook.workbook.scorecard.versions import fingerprint

from . import background
from .engines import ENGINES, require_engines
from .helpers import edited_settings, emp, run, settings_cells

CATALOG = builtin_catalog()
MONTH = "2026-10"
ITEMS = ("problem_resolution", "customer_satisfaction", "response_time", "complaint_handling",
         "quality_monitoring")
# employee → the score of all five items = the total (5 × score × 20 / 100)
SCORES = {"S1": 82, "S2": 90, "S3": 75}
SALARY = 5000.0


def _book(path, ids=SCORES, prefix=""):
    roster = pd.DataFrame([emp(prefix + e, f"员工{e}", "客服部", "cs_specialist", SALARY) for e in ids])
    build_workbook(CATALOG, roster, MONTH, path, force=True)
    rows = [(prefix + e, f"{item}.points", None, score) for e, score in ids.items() for item in ITEMS]
    assert [d for d in fill_workbooks(CATALOG, [path], rows).diagnostics if d.severity == "error"] == []
    return path


EDITS = {"GRADE_grade_a_e_MIN_2": 85, "PAY_pay_base_pct_PCT": 0.12, "PAY_pay_base_pct_MIN_TOTAL": 70}
# with B ≥ 85, pay 12 % from a total of 70 (C ≥ 70 and the other thresholds as in the template):
#   S1 82 → C, 5000 × 0.12 × 82 / 100 = 492.00
#   S2 90 → B, 5000 × 0.12 × 90 / 100 = 540.00
#   S3 75 → C, 5000 × 0.12 × 75 / 100 = 450.00
# with the template's settings (B ≥ 80, 10 % from 80): S1 B 410.00, S2 B 450.00, S3 C 0.00
EXPECTED = {"S1": ("C", 492.0), "S2": ("B", 540.0), "S3": ("C", 450.0)}


@background.job("settings")
def _edited_book(root: Path) -> dict:
    """The book with EDITS, recalculated by every engine (in the session's background process)."""
    book = edited_settings(_book(root / "built.xlsx"), root / "edited.xlsx", EDITS)
    values = recalc.recalculate_all(book, root / "recalculated")
    return {"root": root, "book": book, "values": values, "names": recalc.defined_cells(book),
            "lo": root / "recalculated" / "libreoffice" / "edited.xlsx"}


@pytest.fixture(scope="module")
def edited(tmp_path_factory):
    require_engines()
    return background.result("settings", tmp_path_factory)


def _sheet_of(names: dict, values: dict) -> dict[str, str]:
    """employee id → sheet title, from one engine's values."""
    out = {}
    for sheet, cells in names.items():
        if sheet and "KPI_EMPLOYEE_ID" in cells:
            out[str(recalc.lookup(values, sheet, cells["KPI_EMPLOYEE_ID"]))] = sheet
    return out


@pytest.mark.parametrize("engine", ENGINES)
def test_each_engine_grades_and_pays_by_the_edited_settings(edited, engine):
    values = edited["values"][engine]
    named = recalc.by_name(values, edited["names"])
    sheets = _sheet_of(edited["names"], values)
    for employee, (grade, pay) in EXPECTED.items():
        shown = named[sheets[employee]]
        assert shown["KPI_TOTAL"] == pytest.approx(SCORES[employee]), (engine, employee)
        assert (shown["KPI_GRADE"], shown["KPI_PAY"]) == (grade, pytest.approx(pay)), (engine, employee, shown)


def test_report_grade_and_pay_equal_each_engine(edited):
    data = build_report(CATALOG, [edited["lo"]])  # recalculated: its cached values are compared
    summary = data.summary.set_index("工号")
    for employee, (grade, pay) in EXPECTED.items():
        row = summary.loc[employee]
        assert (row["等级"], row["应发绩效合计"], row["状态"]) == (grade, pytest.approx(pay), "已完成"), employee
        for engine in ENGINES:  # the report says what each engine's sheet shows
            values = edited["values"][engine]
            shown = recalc.by_name(values, edited["names"])[_sheet_of(edited["names"], values)[employee]]
            assert (shown["KPI_GRADE"], shown["KPI_PAY"]) == (row["等级"], pytest.approx(row["应发绩效合计"]))
    assert not [d for d in data.findings if d.code == "cached-mismatch"]  # not "tampered or stale"
    # the template version survives LibreOffice saving the book
    cards = read_workbook(CATALOG, edited["lo"]).cards
    assert {c.template for c in cards} == {fingerprint(CATALOG, CATALOG.roles["cs_specialist"])}
    assert not [d for d in data.findings if d.severity == "error"]
    changed = sorted(d.message for d in data.findings if d.code == "settings-changed")
    assert "本月设置与模板不同：B 档下限 80 → 85 / 设置 differs from the template: the minimum of B from 80 to 85" \
        in changed
    assert any("比例 0.1 → 0.12" in m and "pct from 0.1 to 0.12" in m for m in changed)
    assert any("最低总分 80 → 70" in m for m in changed)
    assert len(changed) == 3
    cells = settings_cells(edited["book"])
    assert {d.cell for d in data.findings if d.code == "settings-changed"} == {cells[n] for n in EDITS}


def test_validate_lists_the_changes_as_info_only(edited):
    found = validate_books(CATALOG, [edited["book"]])
    assert sorted(d.code for d in found) == ["settings-changed"] * 3
    assert {d.severity for d in found} == {"info"} and {d.sheet for d in found} == {"设置"}


def test_validate_command_exits_0_on_notes_only(edited, capsys):
    code, _, err = run(capsys, "validate", edited["book"])
    assert code == 0 and "B 档下限 80 → 85" in err


def test_payroll_pays_by_the_edited_settings(edited, capsys):
    report, out = edited["root"] / "report.xlsx", edited["root"] / "pay.csv"
    code, _, err = run(capsys, "report", edited["lo"], "--out", report)
    assert code == 0, err
    code, _, err = run(capsys, "payroll", report, "--out", out)
    assert code == 0, err
    with open(out, encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    paid = {r["工号"]: float(r["应发绩效合计"]) for r in rows}
    assert paid == {e: pay for e, (_, pay) in EXPECTED.items()}  # 492 + 540 + 450


def test_unedited_book_reads_the_template_settings(tmp_path):
    data = build_report(CATALOG, [_book(tmp_path / "plain.xlsx")])
    summary = data.summary.set_index("工号")
    # template: B ≥ 80, 10 % from 80 — S1 82 B 410.00, S2 90 B 450.00, S3 75 C 0.00
    assert [(summary.loc[e, "等级"], summary.loc[e, "应发绩效合计"]) for e in SCORES] == \
        [("B", 410.0), ("B", 450.0), ("C", 0.0)]
    assert not data.findings


# --- a missing or broken 设置: errors naming the cell, and nobody of that book is paid ------


def _in_error_everywhere(data, prefix=""):
    summary = data.summary.set_index("工号")
    for e in SCORES:
        row = summary.loc[prefix + e]
        assert row["状态"] == "错误" and pd.isna(row["等级"]) and pd.isna(row["应发绩效合计"]), row.to_dict()
        assert "设置" in row["问题"]


def _report_with_a_good_book(tmp_path, broken):
    """The broken book and a good one of other employees: only the broken one is in error."""
    good = _book(tmp_path / "good.xlsx", prefix="G")
    data = build_report(CATALOG, [broken, good])
    _in_error_everywhere(data)
    summary = data.summary.set_index("工号")
    assert summary.loc["GS1", "应发绩效合计"] == 410.0 and summary.loc["GS1", "状态"] == "已完成"
    return data


def test_deleted_settings_sheet(tmp_path):
    path = _book(tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(path)
    wb.remove(wb["设置"])
    wb.save(path)
    found = validate_books(CATALOG, [path])
    missing = [d for d in found if d.code == "settings-missing"]
    assert len(missing) == 1 and missing[0].severity == "error" and missing[0].sheet == "设置"
    assert "缺少“设置”工作表" in missing[0].message_zh and "no 设置 sheet" in missing[0].message_en
    _report_with_a_good_book(tmp_path, path)


def test_deleted_settings_sheet_fails_validate_and_payroll(tmp_path, capsys):
    path = _book(tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(path)
    wb.remove(wb["设置"])
    wb.save(path)
    code, _, err = run(capsys, "validate", path)
    assert code == 1 and "设置" in err
    report, out = tmp_path / "report.xlsx", tmp_path / "pay.csv"
    run(capsys, "report", path, "--out", report)
    code, _, err = run(capsys, "payroll", report, "--out", out)
    assert code != 0 and not out.exists()  # a month with cards in error is refused


def test_deleted_settings_name(tmp_path):
    path = _book(tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(path)
    del wb.defined_names["PAY_pay_base_pct_PCT"]
    wb.save(path)
    found = [d for d in validate_books(CATALOG, [path]) if d.severity == "error"]
    assert [d.code for d in found] == ["settings-missing"]
    assert "PAY_pay_base_pct_PCT" in found[0].message_zh and "比例" in found[0].message_zh
    _report_with_a_good_book(tmp_path, path)


@pytest.mark.parametrize("value, zh, en", [
    ("0.12", "是文本“0.12”，请输入数字", "holds the text '0.12': type it as a number"),
    ("#REF!", "是错误值 #REF!", "holds the error value #REF!"),
    (None, "为空", "is empty"),
    ("=0.12", "是公式 =0.12，尚未计算", "never calculated"),
])
def test_text_or_error_value_in_a_parameter(tmp_path, value, zh, en):
    src = _book(tmp_path / "built.xlsx")
    cell = settings_cells(src)["PAY_pay_base_pct_PCT"]
    path = tmp_path / "book.xlsx"
    if value == "#REF!":
        _error_value(src, path, cell)
    elif value == "=0.12":  # a formula typed by a tool that does not calculate (openpyxl)
        wb = openpyxl.load_workbook(src)
        wb["设置"][cell] = value
        wb.save(path)
    else:
        edited_settings(src, path, {"PAY_pay_base_pct_PCT": value})
    found = [d for d in validate_books(CATALOG, [path]) if d.severity == "error"]
    assert [(d.code, d.sheet, d.cell) for d in found] == [("settings-broken", "设置", cell)]
    assert f"设置 {cell}（绩效工资：比例）{zh}" in found[0].message_zh, found[0].message_zh
    assert en in found[0].message_en
    _report_with_a_good_book(tmp_path, path)


def _error_value(src, path, cell):
    """``src`` with the 设置 cell holding the formula =#REF! and its saved result #REF!, as
    a spreadsheet leaves it when the cell it referred to is deleted."""
    import re

    from kpi_workbook.workbook.xlsx.package import read_parts, write_parts

    edited_settings(src, path, {"PAY_pay_base_pct_PCT": "PLACEHOLDER"})
    parts = read_parts(path)
    hits = 0
    for name, data in parts.items():
        if name.startswith("xl/worksheets/") and b"PLACEHOLDER" in data:
            xml, n = re.subn(rf'<c r="{cell}"( s="\d+")? t="inlineStr"><is><t[^>]*>PLACEHOLDER</t></is></c>',
                             rf'<c r="{cell}"\1 t="e"><f>#REF!</f><v>#REF!</v></c>', data.decode("utf-8"))
            parts[name] = xml.encode("utf-8")
            hits += n
    assert hits == 1
    write_parts(path, parts)


def test_thresholds_out_of_order(tmp_path):
    src = _book(tmp_path / "built.xlsx")
    cells = settings_cells(src)
    path = edited_settings(src, tmp_path / "book.xlsx", {"GRADE_grade_a_e_MIN_3": 85})  # C ≥ 85 above B ≥ 80
    found = [d for d in validate_books(CATALOG, [path]) if d.severity == "error"]
    assert [(d.code, d.cell) for d in found] == [("settings-broken", cells["GRADE_grade_a_e_MIN_3"])]
    assert "C 档下限 85 不低于 B 档下限 80" in found[0].message_zh
    _report_with_a_good_book(tmp_path, path)


def test_renamed_grade_is_an_error(tmp_path):
    src = _book(tmp_path / "built.xlsx")
    cells = settings_cells(src)
    path = edited_settings(src, tmp_path / "book.xlsx", {"GRADE_grade_a_e_NAME_2": "良好"})
    found = [d for d in validate_books(CATALOG, [path]) if d.severity == "error"]
    assert [(d.code, d.cell) for d in found] == [("settings-broken", cells["GRADE_grade_a_e_NAME_2"])]
    _report_with_a_good_book(tmp_path, path)


# --- pay parameters of every form: a rule's own row, a role's override -------------------


def test_apply_changes_a_new_catalog_only():
    from kpi_workbook.workbook.scorecard.settings import apply

    role = CATALOG.roles["ecommerce_presales_cs"]
    new = apply(CATALOG, {("pay", role.id, "award_top_scorer", "amounts", "卓越"): 300.0,
                          ("pay", "", "pay_grade_amount", "amounts", "C"): 250.0,
                          ("min", "grade_a_e", 1): 85.0})
    award = next(r for r in new.role_pay_rules(new.roles[role.id]) if r.id == "award_top_scorer")
    assert award.amounts["卓越"] == 300.0 and award.amounts["优秀"] == 100.0  # the other stays
    assert new.pay_rules["pay_grade_amount"].amounts == {"A": 400, "B": 300, "C": 250.0, "D": 100, "E": 0}
    assert new.grade_schemes["grade_a_e"].tiers[1].min == 85.0
    # the template's catalog is untouched
    old_award = next(r for r in CATALOG.role_pay_rules(role) if r.id == "award_top_scorer")
    assert old_award.amounts["卓越"] == 200.0 and CATALOG.pay_rules["pay_grade_amount"].amounts["C"] == 200
    assert CATALOG.grade_schemes["grade_a_e"].tiers[1].min == 80


def test_grade_amounts_edited_are_paid(tmp_path):
    from kpi_workbook.sample import sample_inputs

    roster = pd.DataFrame([emp(f"Q{k}", f"品质{k}", "品质部", "qc_inspector") for k in range(1, 9)])
    path = tmp_path / "qc.xlsx"
    build_workbook(CATALOG, roster, MONTH, path)
    rows = list(sample_inputs(CATALOG, roster, MONTH, weak={"Q2", "Q5"}).itertuples(index=False, name=None))
    fill_workbooks(CATALOG, [path], rows)
    before = build_report(CATALOG, [path]).summary.set_index("工号")
    # every amount 7 more than the template's (A 400, B 300, C 200, D 100, E 0)
    amounts = {"A": 407, "B": 307, "C": 207, "D": 107, "E": 7}
    edited = edited_settings(path, tmp_path / "edited.xlsx",
                     {f"PAY_pay_grade_amount_AMOUNT_{k}": v for k, v in enumerate(amounts.values(), start=1)})
    data = build_report(CATALOG, [edited])
    after = data.summary.set_index("工号")
    done = before[before["状态"] == "已完成"].index
    assert len(done) >= 2
    for e in done:
        grade = before.loc[e, "等级"]
        assert after.loc[e, "等级"] == grade and after.loc[e, "应发绩效合计"] == amounts[grade], e
    assert len([d for d in data.findings if d.code == "settings-changed"]) == 5


def test_books_with_the_same_edits_share_one_catalog(edited, tmp_path):
    """Each department's book edited alike is scored by one catalog, not one per book."""
    import shutil

    from kpi_workbook.workbook.scorecard.reader import read_workbook as read

    copy = tmp_path / "copy.xlsx"
    shutil.copy(edited["book"], copy)
    first, second = read(CATALOG, edited["book"]).cards, read(CATALOG, copy).cards
    assert first[0].catalog is second[0].catalog is not CATALOG
