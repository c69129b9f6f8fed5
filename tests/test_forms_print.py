"""Forms fit to sign: 岗位 shows the job title, 考核标准 only the criteria, the notes on a
说明 sheet and in `roles show`."""

from __future__ import annotations

import openpyxl
import pandas as pd

from kpi_workbook.workbook.scorecard.build import build_workbook, form_criteria
from kpi_workbook.workbook.scorecard.layout import sheet_layout
from kpi_workbook.workbook.scorecard.roster import check_roster

from .helpers import run


def test_form_criteria_drop_the_assumption_asides():
    assert form_criteria("完成率 ≥90% 20分；≥85% 10分；<80% 0分（80%–85% 种子未给，假设 0分）") == \
        "完成率 ≥90% 20分；≥85% 10分；<80% 0分"
    assert form_criteria("较差 0（达不到“一般”，假设档）；其他（见制度）") == "较差 0；其他（见制度）"


def test_job_title_criteria_and_notes(tmp_path, catalog):
    raw = pd.DataFrame([["E1", "张三", "电商部", "taobao_cs_staff", "5000", "淘宝售后客服"],
                        ["E2", "李四", "电商部", "taobao_cs_staff", "5000", ""],
                        ["E3", "王五", "客服部", "cs_manager_monthly", "6000", ""]],
                       columns=["工号", "姓名", "部门", "岗位", "基本工资", "岗位名称"])
    roster = check_roster(catalog, raw, "r.csv")
    out = tmp_path / "b.xlsx"
    build_workbook(catalog, roster, "2026-10", out)
    wb = openpyxl.load_workbook(out)
    by_id = {}
    for ws in wb.worksheets:
        if "KPI_EMPLOYEE_ID" in ws.defined_names:
            ref = list(ws.defined_names["KPI_EMPLOYEE_ID"].destinations)[0][1].replace("$", "")
            by_id[ws[ref].value] = ws
    taobao = sheet_layout(catalog, catalog.roles["taobao_cs_staff"]).fields["role_name"].replace("$", "")
    manager = sheet_layout(catalog, catalog.roles["cs_manager_monthly"]).fields["role_name"].replace("$", "")
    assert by_id["E1"][taobao].value == "淘宝售后客服"  # the roster's 岗位名称
    assert by_id["E2"][taobao].value == "淘宝客服人员"  # else the role's short name
    assert by_id["E3"][manager].value == "客服部经理"
    texts = [c.value for row in by_id["E3"].iter_rows() for c in row if isinstance(c.value, str)]
    assert not any("假设" in t or "种子" in t or "assum" in t.lower() for t in texts), \
        [t for t in texts if "假设" in t or "种子" in t]
    texts = [c.value for row in by_id["E1"].iter_rows() for c in row if isinstance(c.value, str)]
    assert not any("【假设】" in t or "garbled" in t for t in texts)
    notes = [c.value for row in wb["说明"].iter_rows() for c in row if isinstance(c.value, str)]
    role = catalog.roles["taobao_cs_staff"]
    item_notes = [item.note for _, item in role.items() if item.note]
    assert item_notes and all(any(n in t for t in notes) for n in item_notes)
    assert any("80%–85% 种子未给" in t for t in notes)  # the aside taken off the form is kept here


def test_roles_show_prints_the_notes(capsys, catalog):
    code, out, _ = run(capsys, "roles", "show", "taobao_cs_staff")
    role = catalog.roles["taobao_cs_staff"]
    assert code == 0 and role.note in out
    assert all(item.note in out for _, item in role.items() if item.note)


def test_job_titles_of_the_quality_forms(catalog):
    from kpi_workbook.engine.describe import job_title

    # the part in brackets names the job: a title ending in 员, or the station's code
    assert job_title(catalog.roles["qc_ipqc_patrol"]) == "过程检验员"  # （过程检验员·巡检）
    assert job_title(catalog.roles["qc_iqc_oqc"]) == "IQC/OQC"  # （IQC/OQC）
    assert job_title(catalog.roles["qc_iqc"]) == "来料检验员"
