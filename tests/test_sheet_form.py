"""The sheet must match its template's form: names where the layout puts them, and no cell
the template does not know (issue 20 item 1, issue 23 item 3).

The attacks are made with openpyxl (an independent writer, as a person with Excel would)
or by editing the workbook part's XML. The roster: two cs_specialist cards, base salary
5000; pay is 基本工资 × 10 % × 总分 / 100 (pay.yaml pay_base_pct), each of five items scores
its input × 20 / 100:
  S1 types 100 on every item: 总分 100, pay 5000 × 0.10 × 100 / 100 = 500.00
  S2 types 90 on every item:  总分 90,  pay 5000 × 0.10 × 90 / 100 = 450.00
"""

from __future__ import annotations

import re
import zipfile

import openpyxl
import pandas as pd
import pytest

from kpi_workbook.rules.loader import builtin_catalog
from kpi_workbook.workbook.month.report import build_report
from kpi_workbook.workbook.scorecard.build import build_workbook
from kpi_workbook.workbook.scorecard.fill import fill_workbooks
from kpi_workbook.workbook.scorecard.validate import validate_books

from .helpers import emp, run

ITEMS = ("problem_resolution", "customer_satisfaction", "response_time", "complaint_handling",
         "quality_monitoring")
FORM_CODES = {"name-moved", "name-deleted", "name-added", "name-duplicated", "name-elsewhere",
              "unknown-formula", "unknown-cell", "cell-too-large", "more-cells"}


@pytest.fixture
def book(tmp_path, catalog):
    path = tmp_path / "book.xlsx"
    roster = pd.DataFrame([emp("S1", "甲", "客服部", "cs_specialist"), emp("S2", "乙", "客服部", "cs_specialist")])
    build_workbook(catalog, roster, "2026-10", path)
    rows = [("S1", item, None, 100) for item in ITEMS] + [("S2", item, None, 90) for item in ITEMS]
    assert fill_workbooks(catalog, [path], rows).diagnostics == []
    return path


def _sheet(wb, prefix):
    return next(ws for ws in wb.worksheets if ws.title.startswith(prefix))


def _names(ws) -> dict[str, str]:
    return {n: list(d.destinations)[0][1].replace("$", "") for n, d in ws.defined_names.items()}


def _edit(path, prefix, cells=None, names=None, drop=()):
    """Set cells and re-point or delete sheet-scoped names of one card, with openpyxl."""
    wb = openpyxl.load_workbook(path)
    ws = _sheet(wb, prefix)
    for ref, value in (cells or {}).items():
        ws[ref] = value
    for name, ref in (names or {}).items():
        target = f"'{ws.title}'!${re.match('[A-Z]+', ref).group()}${ref.lstrip('ABCDEFGHIJKLMNOPQRSTUVWXYZ')}"
        if name in ws.defined_names:
            ws.defined_names[name].attr_text = target
        else:
            ws.defined_names[name] = openpyxl.workbook.defined_name.DefinedName(name, attr_text=target)
    for name in drop:
        del ws.defined_names[name]
    title = ws.title
    wb.save(path)
    return title


def _workbook_xml(path, change):
    """Rewrite xl/workbook.xml of ``path`` with ``change(text) -> text``."""
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    text = parts["xl/workbook.xml"].decode("utf-8")
    changed = change(text)
    assert changed != text
    parts["xl/workbook.xml"] = changed.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def _form_findings(catalog, path):
    return [d for d in validate_books(catalog, [path]) if d.code in FORM_CODES]


def _summary(catalog, path):
    return build_report(catalog, [path]).summary.set_index("工号")


# --- names ---------------------------------------------------------------------------------

def test_a_base_salary_name_moved_to_a_hidden_cell_is_not_paid(catalog, book, tmp_path, capsys):
    """Issue 20's attack: KPI_BASE_SALARY re-pointed to the hidden J3 = 50000 while the sheet
    shows (and its formulas use) 5000 in D3. Before: validate 0 findings, the report paid
    5,000.00 where the sheet computes 500. Now: an error naming the name and both cells;
    the card is 错误 and not paid; S2 is paid as before."""
    wb = openpyxl.load_workbook(book)
    salary = _names(_sheet(wb, "S1"))["KPI_BASE_SALARY"]
    assert salary == "D3"
    sheet = _edit(book, "S1", cells={"J3": 50000}, names={"KPI_BASE_SALARY": "J3"})
    found = _form_findings(catalog, book)
    moved = [d for d in found if d.code == "name-moved"]
    assert [(d.sheet, d.cell) for d in moved] == [(sheet, "J3")]
    assert "KPI_BASE_SALARY" in moved[0].message_en and "J3" in moved[0].message_en \
        and "D3" in moved[0].message_en
    assert moved[0].severity == "error"
    summary = _summary(catalog, book)
    assert summary.loc["S1", "状态"] == "错误"
    assert pd.isna(summary.loc["S1", "应发绩效合计"]) or summary.loc["S1", "应发绩效合计"] in ("", None)
    assert summary.loc["S2", "应发绩效合计"] == 450.0
    report = tmp_path / "r.xlsx"
    code, _, _ = run(capsys, "report", book, "--out", report)
    assert code == 1
    code, _, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv", "--allow-incomplete")
    assert code == 0
    lines = (tmp_path / "p.csv").read_text(encoding="utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["S2"]
    assert "450.00" in lines[1]


def test_an_input_name_pointed_at_a_hidden_cell_is_an_error(catalog, book):
    """Issue 20's second attack: an input name pointed at a hidden J6 = 100 while the visible
    input is 0 (the sheet shows 72 and its pay; the engine read 100)."""
    wb = openpyxl.load_workbook(book)
    visible = _names(_sheet(wb, "S2"))["KPI_IN_problem_resolution__points"]
    sheet = _edit(book, "S2", cells={visible: 0, "J6": 100}, names={"KPI_IN_problem_resolution__points": "J6"})
    found = _form_findings(catalog, book)
    assert ("name-moved", sheet, "J6") in [(d.code, d.sheet, d.cell) for d in found]
    moved = next(d for d in found if d.code == "name-moved")
    assert "KPI_IN_problem_resolution__points" in moved.message_zh and visible in moved.message_zh
    assert _summary(catalog, book).loc["S2", "状态"] == "错误"


def test_a_deleted_name_is_an_error(catalog, book):
    sheet = _edit(book, "S1", drop=["KPI_PAY"])
    found = _form_findings(catalog, book)
    assert [(d.code, d.sheet, d.cell) for d in found] == [("name-deleted", sheet, "H15")]
    assert "KPI_PAY" in found[0].message_en
    assert _summary(catalog, book).loc["S1", "状态"] == "错误"


def test_an_added_name_is_an_error(catalog, book):
    sheet = _edit(book, "S1", names={"KPI_BONUS": "C20"})
    found = _form_findings(catalog, book)
    assert [(d.code, d.sheet, d.cell) for d in found] == [("name-added", sheet, "C20")]
    assert "KPI_BONUS" in found[0].message_en


def test_a_name_defined_twice_names_both_cells(catalog, book):
    """The same sheet-scoped name twice in the workbook part: Excel would take one of them;
    we cannot know which the engine would be given, so the card is in error."""
    def twice(text):
        found = re.search(r'<definedName name="KPI_BASE_SALARY" localSheetId="(\d+)">([^<]*)\$D\$3</definedName>',
                          text)
        extra = f'<definedName name="KPI_BASE_SALARY" localSheetId="{found.group(1)}">{found.group(2)}$J$3</definedName>'
        return text.replace(found.group(0), found.group(0) + extra)

    _workbook_xml(book, twice)
    found = _form_findings(catalog, book)
    assert [d.code for d in found] == ["name-duplicated"]
    assert "D3" in found[0].message_en and "J3" in found[0].message_en


def test_a_name_pointing_at_another_sheet_is_an_error(catalog, book):
    """KPI_BASE_SALARY of S1 pointed at S2's D3 (a sheet-scoped name may name any sheet):
    the reader took the cell D3 of its own sheet, unaware."""
    def elsewhere(text):
        s2 = re.search(r"'(S2 [^']*)'!\$D\$3", text).group(1)
        return re.sub(r"(<definedName name=\"KPI_BASE_SALARY\" localSheetId=\"\d+\">)'S1 [^']*'!\$D\$3",
                      lambda m: m.group(1) + f"'{s2}'!$D$3", text, count=1)

    _workbook_xml(book, elsewhere)
    found = _form_findings(catalog, book)
    assert [(d.code, d.cell) for d in found] == [("name-elsewhere", "D3")]
    assert "S2" in found[0].message_en


# --- cells the template does not know ----------------------------------------------------

def _note_cell(book) -> str:
    """The 备注 cell of the first item row of S1 (found by its header, row 5)."""
    ws = _sheet(openpyxl.load_workbook(book), "S1")
    column = next(c.column_letter for c in ws[5] if c.value == "备注/纪要")
    return f"{column}6"


def test_a_huge_formula_in_a_note_is_reported(catalog, book):
    """Issue 23: a 10 MB formula typed into a card's 备注 cell; validate reported nothing."""
    note = _note_cell(book)
    formula = "=" + "+".join(["1"] * (5 * 1024 * 1024))  # 10 MB of formula text
    sheet = _edit(book, "S1", cells={note: formula})
    found = _form_findings(catalog, book)
    assert [(d.code, d.sheet, d.cell) for d in found] == [("cell-too-large", sheet, note)]
    assert len(found[0].message) < 400  # the cell's content is not repeated
    assert _summary(catalog, book).loc["S1", "状态"] == "错误"


def test_a_formula_in_a_note_is_an_error_and_text_is_fine(catalog, book):
    note = _note_cell(book)
    _edit(book, "S2", cells={note: "本月表现稳定"})
    sheet = _edit(book, "S1", cells={note: "=H12*2"})
    found = _form_findings(catalog, book)
    assert [(d.code, d.sheet, d.cell, d.severity) for d in found] == [("unknown-formula", sheet, note, "error")]


def test_values_outside_the_form_are_listed_and_bounded(catalog, book):
    """A value where the template has no cell is a warning naming it (nothing reads it);
    a thousand of them are listed up to a bound, then counted in one line."""
    sheet = _edit(book, "S1", cells={"K30": "附加说明"})
    found = _form_findings(catalog, book)
    assert [(d.code, d.sheet, d.cell, d.severity) for d in found] == [("unknown-cell", sheet, "K30", "warning")]
    _edit(book, "S1", cells={f"M{r}": r for r in range(1, 1001)})
    found = _form_findings(catalog, book)
    assert [d.code for d in found].count("unknown-cell") == 20
    assert found[-1].code == "more-cells" and "981" in found[-1].message_en  # 1001 − 20
    assert _summary(catalog, book).loc["S1", "状态"] == "已完成"  # a warning: still paid


def test_every_role_as_built_matches_its_form(tmp_path):
    """Every cell `new` writes is one the form owns, for every role (a change to the builder
    that writes a new cell fails here until form.py knows it)."""
    from kpi_workbook.workbook.scorecard.form import sheet_form
    from kpi_workbook.workbook.xlsx.package import Book

    catalog = builtin_catalog()
    roster = pd.DataFrame([emp(f"E{i}", f"员工{i}", "部门", role) for i, role in enumerate(catalog.roles)])
    roster.loc[0, "q_amount"] = 800.0
    path = tmp_path / "all.xlsx"
    build_workbook(catalog, roster, "2026-10", path)
    assert [d for d in validate_books(catalog, [path]) if d.code in FORM_CODES] == []
    with Book.open(path) as package:
        for title in package.sheet_names[3:]:
            names = package.names[title]
            role = catalog.roles[package.sheet(title).contents[names["KPI_ROLE"]]]
            form = sheet_form(catalog, role)
            assert set(package.sheet(title).contents) <= set(form.cells), title
            assert names == dict(form.names), title


def test_fill_writes_nothing_through_a_moved_name(catalog, book, tmp_path):
    """fill writes through the names: an input name pointed at the hidden J6 would have put
    the value where the sheet does not read it (and the engine would). The card is named,
    nothing is written to it; the other card is filled as usual."""
    from kpi_workbook.workbook.scorecard.fill import fill_workbooks

    wb = openpyxl.load_workbook(book)
    visible = _names(_sheet(wb, "S1"))["KPI_IN_problem_resolution__points"]
    sheet = _edit(book, "S1", names={"KPI_IN_problem_resolution__points": "J6"})
    before = {ref: c.value for ref, c in ((r, _sheet(openpyxl.load_workbook(book), "S1")[r]) for r in (visible, "J6"))}
    done = fill_workbooks(catalog, [book], [("S1", "problem_resolution", None, 55),
                                            ("S2", "problem_resolution", None, 55)])
    moved = [d for d in done.diagnostics if d.code == "name-moved"]
    assert [(d.sheet, d.cell) for d in moved] == [(sheet, "J6")] and visible in moved[0].message_en
    assert done.written == 1
    after = openpyxl.load_workbook(book)
    assert {r: _sheet(after, "S1")[r].value for r in (visible, "J6")} == before
    s2 = _sheet(after, "S2")
    assert s2[_names(s2)["KPI_IN_problem_resolution__points"]].value == 55
