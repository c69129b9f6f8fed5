"""Templates authored in a workbook (issue 21, item 1).

* Round trip: `template export` then `template import` of every one of the 18 shipped roles
  gives the same templates: the same models, the same template version, the same workbook —
  every formula byte for byte — and the same scores on each role's edge cases.
* A role made from scratch: the blank template of `template new`, typed into through
  openpyxl as HR would, imported, then `new`, `fill` (card labels, the short name and an
  alias in the roster), `validate`, `report` and `payroll --templates DIR` with hand-computed
  totals, grades and pay; the master workbook's 模板目录 pointing at the folder.
* Every problem of a template workbook is one sentence naming the sheet and cell; nothing is
  written while there is one. Chinese dropdowns throughout.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kpi_workbook.diagnostics import KpiError
from kpi_workbook.rules.loader import builtin_catalog, load_catalog
from kpi_workbook.workbook.scorecard.build import build_workbook
from kpi_workbook.workbook.scorecard.roster import read_roster
from kpi_workbook.workbook.scorecard.versions import fingerprint
from kpi_workbook.workbook.template import sheets as S
from kpi_workbook.workbook.template.export import export_role
from kpi_workbook.workbook.template.importer import import_template

from .helpers import run
from .workbook_cases import edge_cases, employee_for, engine_results

ROLES = sorted(builtin_catalog().roles)
MONTH = "2026-10"


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    """Every shipped role exported, then imported into one templates folder."""
    folder = tmp_path_factory.mktemp("round")
    catalog = builtin_catalog()
    for role_id in ROLES:
        book = export_role(catalog, catalog.roles[role_id], folder / f"{role_id}.xlsx")
        import_template(book, folder / "templates", catalog)
    return catalog, load_catalog(folder / "templates"), folder


@pytest.mark.parametrize("role_id", ROLES)
def test_export_then_import_gives_the_same_templates(round_trip, role_id):
    before, after, _ = round_trip
    role = before.roles[role_id]
    assert after.roles[role_id] == role
    assert after.role_pay_rules(after.roles[role_id]) == before.role_pay_rules(role)
    assert after.grade_scheme(after.roles[role_id]) == before.grade_scheme(role)
    assert fingerprint(after, after.roles[role_id]) == fingerprint(before, role)


@pytest.mark.parametrize("role_id", ROLES)
def test_the_imported_role_scores_its_edge_cases_the_same(round_trip, role_id):
    before, after, _ = round_trip
    cards = edge_cases(before, before.roles[role_id])
    people = [employee_for(before.roles[role_id], k) for k in range(len(cards))]
    ours = engine_results(before, before.roles[role_id], people, cards)
    theirs = engine_results(after, after.roles[role_id], people, cards)
    pd.testing.assert_frame_equal(ours, theirs)


def test_the_imported_templates_build_the_same_workbook_formula_for_formula(round_trip):
    """The sample roster covers all 18 roles: both catalogs write the same book, every cell
    (formulas as text) and every defined name."""
    before, after, folder = round_trip
    roster = read_roster(before)
    books = []
    for name, catalog in (("before", before), ("after", after)):
        path = folder / f"{name}.xlsx"
        build_workbook(catalog, roster, MONTH, path)
        # read-only: every cell as stored (a covered cell of a merged range too), a third of
        # the CPU of openpyxl's full load, which also copies the merged ranges' borders
        books.append(openpyxl.load_workbook(path, read_only=True))
    assert set(roster["role"]) == set(ROLES)
    a, b = books
    assert a.sheetnames == b.sheetnames
    formulas = 0
    for ws in a.worksheets:
        other = b[ws.title]
        ws.reset_dimensions()  # every row, whatever the sheet's <dimension> says
        other.reset_dimensions()
        cells = {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None}
        assert cells == {c.coordinate: c.value for row in other.iter_rows() for c in row if c.value is not None}
        formulas += sum(isinstance(v, str) and v.startswith("=") for v in cells.values())
        assert {n: str(d.attr_text) for n, d in ws.defined_names.items()} == {
            n: str(d.attr_text) for n, d in other.defined_names.items()}
    for book in books:
        book.close()
    assert formulas > 1000


def test_pay_rules_a_role_pays_differently_stay_overrides(round_trip):
    before, after, folder = round_trip
    ref = after.roles["ecommerce_presales_cs"].pay_rules[0]
    assert ref.id == "award_top_scorer" and ref.with_ == {"amounts": {"卓越": 200, "优秀": 100}}
    assert after.pay_rules["award_top_scorer"] == before.pay_rules["award_top_scorer"]  # the base rule
    text = (folder / "templates" / "roles" / "qc_iqc.yaml").read_text(encoding="utf-8")
    assert "max: 20\n" in text and "when: == 0" in text or "when: '== 0'" in text


def test_template_workbooks_use_chinese_dropdowns_throughout(tmp_path, catalog):
    book = export_role(catalog, catalog.roles["qc_iqc"], tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == [S.GUIDE, S.ROLE, *S.TABLES]

    def lists(sheet: str) -> dict[str, str]:
        ws = wb[sheet]
        heads = {c.column_letter: c.value for c in ws[1]}
        out = {}
        for dv in ws.data_validations.dataValidation:
            if dv.type == "list":
                column = str(dv.sqref).split(":")[0].rstrip("0123456789")
                out[heads.get(column, column)] = dv.formula1
        return out

    items = lists(S.ITEMS)
    assert items["规则类型"] == '"分档,比例,扣加分事件,直接打分,等级,排名"'
    assert items["类型"] == '"数值,百分比,次数,分数,等级,是否"'
    assert items["维度"].startswith("'维度'!$B$2")
    assert lists(S.BANDS)["比较"].startswith('"≥,>,≤,<,=,介于')
    assert lists(S.EVENTS)["记录方式"] == '"次数,是否,分数"'
    assert lists(S.PAY)["类型"].startswith('"基本工资比例,等级金额,每分金额')
    role_sheet = wb[S.ROLE]
    kinds = {role_sheet.cell(int(str(dv.sqref)[1:].split(":")[0]), 1).value: dv.formula1
             for dv in role_sheet.data_validations.dataValidation if dv.type == "list"}
    assert kinds["类别"] == '"客服,售前,品质,管理,其他"' and kinds["评分人方式"] == '"无,加权,逐级审核"'
    ws = wb[S.ITEMS]
    assert [c.value for c in ws[2]][:7] == ["检验质量", "miss_detection", "错漏检情况", "missed or wrong detections",
                                           20, None, "分档"]


# ---------------------------------------------------------------------------------------
# A role made from scratch, as HR types it.


def type_merchandiser(path: Path) -> None:
    """Clear the worked example of `template new` and type a 跟单员 form: own grade scheme,
    own pay rule, the built-in 全勤奖 at another amount, ids left empty (numbered)."""
    wb = openpyxl.load_workbook(path)
    for name in S.TABLES:
        ws = wb[name]
        for row in ws.iter_rows(min_row=2):
            for c in row:
                c.value = None
    role = wb[S.ROLE]
    rows = {role.cell(r, 1).value: r for r in range(1, role.max_row + 1)}
    for r in range(2, role.max_row + 1):
        for c in range(2, 2 + S.LIST_CELLS):
            role.cell(r, c).value = None
    typed = {"岗位ID": "merchandiser", "名称": "跟单员绩效考核表", "类别": "其他", "配分方式": "分值",
             "等级方案": "merch_grades", "评分人方式": "无", "总分起点": 0, "总分折算百分制": "否", "总分下限": 0}
    for label, value in typed.items():
        role.cell(rows[label], 2).value = value
    role.cell(rows["别名"], 2).value = "跟单"
    for k, text in enumerate(["跟单员签字", "主管签字", "日期"]):
        role.cell(rows["签字"], 2 + k).value = text

    def table(name: str, records: list[dict]) -> None:
        ws = wb[name]
        heads = {c.value: c.column for c in ws[1]}
        for r, record in enumerate(records, start=2):
            for head, value in record.items():
                ws.cell(r, heads[head]).value = value

    table(S.SECTIONS, [{"维度": "工作业绩"}, {"维度": "协作"}])
    table(S.ITEMS, [
        {"维度": "工作业绩", "考核项目": "订单准时交付", "配分": 40, "规则类型": "分档", "输入项": "准时交付率",
         "类型": "百分比", "范围下限": 0, "范围上限": 1, "考核标准": "≥98% 40分；95%–98% 30分；其余 0 分",
         "单调性": "越高越好"},
        {"维度": "工作业绩", "考核项目": "客户投诉", "配分": 30, "规则类型": "扣加分事件",
         "考核标准": "每次客户投诉扣10分，扣完为止"},
        {"维度": "协作", "考核项目": "跟单配合", "配分": 20, "规则类型": "等级", "考核标准": "主管评定"},
        {"维度": "协作", "考核项目": "样品登记", "配分": 10, "规则类型": "直接打分", "考核标准": "主管 0–10 打分"},
    ])
    table(S.BANDS, [
        {"考核项目": "订单准时交付", "比较": "≥", "数值": "98%", "得分": 40},
        {"考核项目": "订单准时交付", "比较": "介于（含下限）", "数值": 0.95, "上限": 0.98, "得分": 30},
        {"考核项目": "订单准时交付", "比较": "其他", "得分": 0},
    ])
    table(S.EVENTS, [{"考核项目": "客户投诉", "事件": "客户投诉", "每次分值": -10}])
    table(S.LEVELS, [{"考核项目": "跟单配合", "等级": "好", "得分": 20},
                     {"考核项目": "跟单配合", "等级": "中", "得分": 10},
                     {"考核项目": "跟单配合", "等级": "差", "得分": 0}])
    table(S.SCHEMES, [{"方案ID": "merch_grades", "方案名称": "三级", "等级": "优秀", "下限": 90},
                      {"等级": "合格", "下限": 70},
                      {"等级": "待改进"}])
    table(S.PAY, [{"规则ID": "merch_bonus", "名称": "跟单奖金", "类型": "等级金额",
                   "各等级金额": "优秀=500、合格=200、待改进=0"},
                  {"规则ID": "award_full_attendance", "名称": "全勤奖", "类型": "全勤奖", "金额": 100}])
    wb.save(path)


@pytest.fixture(scope="module")
def merchandiser(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scratch")
    from kpi_workbook.cli import main

    assert main(["template", "new", "--out", str(folder / "模板.xlsx")]) == 0
    type_merchandiser(folder / "模板.xlsx")
    return folder


def test_a_role_typed_from_scratch_runs_the_whole_month(capsys, merchandiser, tmp_path):
    folder = Path(shutil.copytree(merchandiser, tmp_path / "w"))
    templates = folder / "我的模板"
    code, out, err = run(capsys, "template", "import", folder / "模板.xlsx", "--out", templates)
    assert code == 0, err
    assert "merchandiser" in out and (templates / "roles" / "merchandiser.yaml").is_file()
    role = load_catalog(templates).roles["merchandiser"]
    assert [it.id for _, it in role.items()] == ["item1", "item2", "item3", "item4"]  # numbered
    assert role.pay_rules[1].with_ == {"amount": 100}  # the built-in 全勤奖, at this company's amount

    roster = folder / "名单.csv"
    with open(roster, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["工号", "姓名", "部门", "岗位", "基本工资", "全勤"],
                                 ["M1", "韩梅", "跟单部", "跟单员", "4500", "是"],    # the short name
                                 ["M2", "李雷", "跟单部", "跟单", "4500", "否"]])     # the alias
    book = folder / "考核表.xlsx"
    assert run(capsys, "--templates", templates, "new", "--roster", roster, "--month", MONTH, "--out", book)[0] == 0
    data = folder / "数据.csv"
    with open(data, "w", newline="", encoding="utf-8") as f:  # headed with the card's own labels
        csv.writer(f).writerows([["工号", "姓名", "准时交付率", "客户投诉", "跟单配合", "样品登记"],
                                 ["M1", "韩梅", "98.5%", "1", "好", "8"],
                                 ["M2", "李雷", "99%", "0", "好", "9.5"]])
    code, out, err = run(capsys, "--templates", templates, "fill", book, "--inputs", data)
    assert code == 0 and "已写入 8 个" in out, err
    code, out, err = run(capsys, "--templates", templates, "validate", book)
    assert code == 0, err
    report = folder / "月度报表.xlsx"
    code, out, err = run(capsys, "--templates", templates, "report", book, "--out", report)
    assert code == 0, err
    summary = pd.read_excel(report, sheet_name="月度汇总", dtype={"工号": str}, engine="openpyxl").set_index("工号")
    # M1: 40 (98.5% ≥ 98%) + 20 (30 − 10) + 20 (好) + 8 = 88 → 合格; M2: 40 + 30 + 20 + 9.5 = 99.5 → 优秀
    assert summary.loc["M1", "总分"] == 88 and summary.loc["M1", "等级"] == "合格"
    assert summary.loc["M2", "总分"] == 99.5 and summary.loc["M2", "等级"] == "优秀"
    payroll = folder / "工资表.csv"
    code, out, err = run(capsys, "--templates", templates, "payroll", report, "--out", payroll)
    assert code == 0, err
    paid = pd.read_csv(payroll, dtype={"工号": str}, encoding="utf-8-sig").set_index("工号")
    # M1: 合格 200 + 全勤 100 (this company's amount); M2: 优秀 500, not full attendance
    assert paid.loc["M1", "应发绩效合计"] == 300 and paid.loc["M2", "应发绩效合计"] == 500
    assert "300.00" in payroll.read_text(encoding="utf-8-sig")


def test_the_master_workbooks_templates_folder_can_point_at_it(capsys, merchandiser, tmp_path):
    from kpi_workbook.excel import buttons
    from kpi_workbook.workbook.month.master import write_master

    from .test_excel_buttons import StandInBook, run_ok

    folder = Path(shutil.copytree(merchandiser, tmp_path / "w"))
    templates = folder / "模板"
    assert run(capsys, "template", "import", folder / "模板.xlsx", "--out", templates, "--with-builtin")[0] == 0
    catalog = load_catalog(templates)
    assert "qc_iqc" in catalog.roles and "merchandiser" in catalog.roles  # the built-in ones beside it
    roster = pd.DataFrame([["M1", "韩梅", "跟单部", "跟单员", "4500"], ["Q1", "赵敏", "品质部", "来料检验员", "5000"]],
                          columns=["工号", "姓名", "部门", "岗位", "基本工资"])
    master = write_master(catalog, folder / "绩效管理.xlsx", MONTH, read_roster(catalog, _csv(folder, roster)))
    ws = openpyxl.load_workbook(master)["设置"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "模板目录")
    book = StandInBook(master, typed={("设置", f"B{row}"): "模板"})  # relative to the master's folder
    text = run_ok(buttons.create_scorecards, book)
    assert "2 人" in text
    made = openpyxl.load_workbook(folder / MONTH / "考核表" / "跟单部.xlsx")
    assert any(ws["A1"].value and "跟单员绩效考核表" in str(ws["A1"].value) for ws in made.worksheets)


def _csv(folder: Path, frame: pd.DataFrame) -> Path:
    path = folder / "名单.csv"
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    return path


# ---------------------------------------------------------------------------------------
# Problems: one sentence each, naming the sheet and cell.


def test_every_problem_names_its_sheet_and_cell_and_nothing_is_written(capsys, tmp_path, catalog):
    book = export_role(catalog, catalog.roles["qc_iqc"], tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(book)
    wb[S.ROLE]["B2"] = "QC IQC"                     # 岗位ID: not an id
    items = wb[S.ITEMS]
    items["E3"] = "二十"                             # 配分 of 日常检验工作: not a number
    items["G4"] = "分当"                             # 规则类型: not in the list
    wb[S.BANDS]["A3"] = "错漏减情况"                  # an item that does not exist
    wb[S.EVENTS]["E4"] = None                       # 每次分值 missing
    wb[S.ROLE]["B9"] = "no_such_scheme"             # 等级方案 that does not exist
    wb[S.PAY]["J2"] = "A四百"                        # not a number (pay_point_value has none: ignored)
    wb.save(book)
    out = tmp_path / "out"
    code, _, err = run(capsys, "template", "import", book, "--out", out)
    assert code == 2 and not out.exists()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    expected = {"岗位!B2": "岗位ID", "考核项目!E3": "二十", "考核项目!G4": "分当", "分档!A3": "错漏减情况",
                "事件!E4": "每次分值"}
    for where, what in expected.items():
        hits = [ln for ln in lines if f"{where} " in ln and what in ln]
        assert len(hits) == 1, (where, lines)
        assert "/" in hits[0]  # Chinese and English, in one line
    assert any("分档!A3" in ln and "是不是：错漏检情况" in ln for ln in lines)
    # fix the cells: the scheme is now the only problem, named by its cell
    wb = openpyxl.load_workbook(book)
    wb[S.ROLE]["B2"] = "qc_iqc"
    wb[S.ITEMS]["E3"] = 20
    wb[S.ITEMS]["G4"] = "扣加分事件"
    wb[S.BANDS]["A3"] = "错漏检情况"
    wb[S.EVENTS]["E4"] = -5
    wb.save(book)
    code, _, err = run(capsys, "template", "import", book, "--out", out)
    assert code == 2 and "岗位!B9" in err and "no_such_scheme" in err and not out.exists()


def test_lint_findings_name_cells_too(tmp_path, catalog):
    book = export_role(catalog, catalog.roles["qc_iqc"], tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(book)
    wb[S.ITEMS]["E2"] = 25  # 错漏检情况 配分 20 → 25: the maxima no longer add up to 100
    wb.save(book)
    with pytest.raises(KpiError) as caught:
        import_template(book, tmp_path / "out", catalog)
    found = [d for d in caught.value.diagnostics if d.code == "total-max"]
    assert len(found) == 1 and found[0].sheet == S.ROLE and "105" in found[0].message_zh


def test_import_refuses_to_replace_a_role_or_a_different_scheme(capsys, tmp_path, catalog):
    book = export_role(catalog, catalog.roles["qc_iqc"], tmp_path / "t.xlsx")
    out = tmp_path / "out"
    assert run(capsys, "template", "import", book, "--out", out)[0] == 0
    code, _, err = run(capsys, "template", "import", book, "--out", out)
    assert code == 2 and "--force" in err
    wb = openpyxl.load_workbook(book)
    ws = wb[S.SCHEMES]
    heads = {c.value: c.column for c in ws[1]}
    ws.cell(3, heads["下限"]).value = 85  # B from 80 to 85 under the same scheme id
    wb.save(book)
    code, _, err = run(capsys, "template", "import", book, "--out", out, "--force")
    assert code == 0
    assert load_catalog(out).grade_schemes["grade_a_e"].tiers[1].min == 85


def test_a_pinned_band_overlap_stays_a_note(tmp_path, catalog):
    """S12's overlap at exactly 80 % is pinned in the template: importing it says so as a
    note naming the band's cell, not as a warning."""
    book = export_role(catalog, catalog.roles["presales_cs_weighted"], tmp_path / "t.xlsx")
    done = import_template(book, tmp_path / "out", catalog)
    assert [(d.severity, d.code, d.sheet) for d in done.diagnostics] == [("info", "band-overlap", S.BANDS)]
