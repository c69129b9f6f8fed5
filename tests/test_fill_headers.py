"""`fill` reads data headed as on the card (issue 21, item 3) and checks whose data it writes
(issue 20, item 8).

Headers: the card's 输入项 label, the 考核项目 label, 考核项目/输入项 or the key, resolved per
row through that employee's role, so one department file serves the three QC forms; an
ambiguous header names its candidates, an unknown one is one line with the closest labels.
Checks: a 月份 of another month refuses the row (every row: the file), a 姓名 that is not the
roster's refuses the row, two rows giving one cell different values write neither.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pytest

from .helpers import run

MONTH = "2026-10"
QC_ROSTER = [
    ["Q1", "赵敏", "品质部", "qc_inspector", "5000"],
    ["Q2", "钱进", "品质部", "来料检验员", "5000"],
    ["Q3", "孙力", "品质部", "qc_iqc_oqc", "5000"],
    ["Q4", "李想", "品质部", "过程检验员", "5000"],
    ["P1", "周全", "售前部", "presales_dept_staff", "6000"],
]


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def cell(book: Path, employee: str, name: str):
    wb = openpyxl.load_workbook(book)
    for ws in wb.worksheets:
        names = {n: list(d.destinations)[0][1].replace("$", "") for n, d in ws.defined_names.items()}
        if "KPI_EMPLOYEE_ID" in names and ws[names["KPI_EMPLOYEE_ID"]].value == employee:
            return ws[names[name]].value
    raise KeyError(employee)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("qc")
    roster = write_csv(folder / "名单.csv", ["工号", "姓名", "部门", "岗位", "基本工资"], QC_ROSTER)
    from kpi_workbook.cli import main

    assert main(["new", "--roster", str(roster), "--month", MONTH, "--out", str(folder / "book.xlsx")]) == 0
    return folder / "book.xlsx"


@pytest.fixture
def book(made, tmp_path) -> Path:
    return Path(shutil.copy(made, tmp_path / "book.xlsx"))


# --- headers as on the card ---------------------------------------------------------------


def test_one_department_file_headed_with_the_cards_labels_fills_three_qc_forms(capsys, tmp_path, book):
    data = write_csv(tmp_path / "品质部.csv",
                     ["工号", "姓名", "错漏检次数", "虚假记录", "工作态度消极", "样品/图纸等资料遗失",
                      "错漏检情况", "efficiency.task_late", "日常检验/检验不及时"],
                     [["Q1", "赵敏", "2", "1", "1", "", "", "", ""],
                      ["Q2", "钱进", "0", "2", "", "1", "", "1", ""],
                      ["Q3", "孙力", "", "3", "", "", "4", "", ""],
                      ["Q4", "李想", "1", "", "2", "1", "", "", ""]])
    code, out, err = run(capsys, "fill", book, "--inputs", data)
    assert code == 0, err
    assert "已写入 12 个" in out
    assert cell(book, "Q1", "KPI_IN_miss_detection__misses") == 2
    assert cell(book, "Q1", "KPI_IN_daily_inspection__false_record") == 1
    assert cell(book, "Q1", "KPI_IN_discipline__negative_attitude") == 1
    assert cell(book, "Q2", "KPI_IN_daily_inspection__false_record") == 2
    assert cell(book, "Q2", "KPI_IN_daily_inspection__sample_lost") == 1
    assert cell(book, "Q2", "KPI_IN_efficiency__task_late") == 1
    assert cell(book, "Q3", "KPI_IN_daily_inspection__false_record") == 3
    assert cell(book, "Q3", "KPI_IN_miss_detection__misses") == 4  # 考核项目 label alone
    assert cell(book, "Q4", "KPI_IN_discipline__negative_attitude") == 2
    assert cell(book, "Q4", "KPI_IN_daily_inspection__sample_lost") == 1


def test_a_header_one_role_lacks_is_reported_for_that_role_only(capsys, tmp_path, book):
    # 工作态度消极 is on three of the four QC forms, not on S19 (qc_iqc_oqc)
    data = write_csv(tmp_path / "d.csv", ["工号", "工作态度消极"], [["Q1", "1"], ["Q3", "2"]])
    code, _, err = run(capsys, "fill", book, "--inputs", data)
    assert code == 1
    lines = [ln for ln in err.splitlines() if "工作态度消极" in ln]
    assert len(lines) == 1 and "qc_iqc_oqc" in lines[0] and "第 3 行" in lines[0]
    assert "qc_inspector" in lines[0]  # the role that has it is named too
    assert cell(book, "Q1", "KPI_IN_discipline__negative_attitude") == 1


def test_an_ambiguous_header_names_its_candidates(capsys, tmp_path, book):
    data = write_csv(tmp_path / "d.csv", ["工号", "得分", "日常检验工作"], [["P1", "20", ""], ["Q2", "", "1"]])
    code, _, err = run(capsys, "fill", book, "--inputs", data)
    assert code == 1
    score = [ln for ln in err.splitlines() if "“得分”" in ln]
    assert len(score) == 1 and "work_results.points（工作业绩/得分）" in score[0]
    assert "cost_awareness.points" in score[0] and "考核项目/输入项" in score[0]
    item = [ln for ln in err.splitlines() if "“日常检验工作”" in ln]
    assert len(item) == 1 and "daily_inspection.false_record（日常检验工作/虚假记录）" in item[0]
    assert cell(book, "P1", "KPI_IN_work_results__points__supervisor") is None


def test_an_unknown_header_is_one_short_line_with_the_closest_labels(capsys, tmp_path, book):
    data = write_csv(tmp_path / "d.csv", ["工号", "错漏减次数", "心情指数"],
                     [["Q1", "1", "5"], ["Q2", "2", "5"], ["P1", "", "5"]])
    code, _, err = run(capsys, "fill", book, "--inputs", data)
    assert code == 1
    typo = [ln for ln in err.splitlines() if "错漏减次数" in ln]
    assert len(typo) == 1 and "最接近：miss_detection.misses（错漏检" in typo[0]
    mood = [ln for ln in err.splitlines() if "心情指数" in ln]
    assert len(mood) == 1 and "presales_dept_staff" in mood[0] and "qc_iqc" in mood[0]
    assert all(len(ln) < 400 for ln in err.splitlines())  # no walls of text


# --- whose data: month, name, one value per cell ------------------------------------------


def test_a_row_of_another_month_is_refused(capsys, tmp_path, book):
    data = write_csv(tmp_path / "d.csv", ["工号", "月份", "错漏检次数"],
                     [["Q1", "2026-10", "1"], ["Q2", "2026-09", "3"], ["Q4", "2026年10月", "2"]])
    code, _, err = run(capsys, "fill", book, "--inputs", data)
    assert code == 1
    line = next(ln for ln in err.splitlines() if "2026-09" in ln)
    assert "第 3 行" in line and "2026-10" in line and "未写入" in line
    assert cell(book, "Q1", "KPI_IN_miss_detection__misses") == 1
    assert cell(book, "Q2", "KPI_IN_miss_detection__misses") is None
    assert cell(book, "Q4", "KPI_IN_miss_detection__misses") == 2


def test_a_file_of_another_month_is_refused_whole(capsys, tmp_path, book):
    before = book.read_bytes()
    data = write_csv(tmp_path / "d.csv", ["工号", "月份", "错漏检次数"],
                     [["Q1", "2026-09", "1"], ["Q2", "2026-09", "3"]])
    code, _, err = run(capsys, "fill", book, "--inputs", data)
    assert code == 2 and "2026-09" in err and "整个文件未导入" in err and "nothing was imported" in err
    assert book.read_bytes() == before


def test_a_name_that_is_not_the_rosters_refuses_the_row(capsys, tmp_path, book):
    data = write_csv(tmp_path / "d.csv", ["工号", "姓名", "错漏检次数", "虚假记录"],
                     [["Q1", "周杰", "1", "1"], ["Q2", "钱 进", "2", ""]])
    code, _, err = run(capsys, "fill", book, "--inputs", data)
    assert code == 1
    line = next(ln for ln in err.splitlines() if "周杰" in ln)
    assert "第 2 行" in line and "赵敏" in line and "未写入" in line
    assert cell(book, "Q1", "KPI_IN_miss_detection__misses") is None
    assert cell(book, "Q1", "KPI_IN_daily_inspection__false_record") is None
    assert cell(book, "Q2", "KPI_IN_miss_detection__misses") == 2  # a space is no other name


def test_two_rows_giving_one_cell_different_values_write_neither(capsys, tmp_path, book):
    data = write_csv(tmp_path / "d.csv", ["工号", "输入", "值"],
                     [["Q1", "miss_detection.misses", "95"], ["Q2", "错漏检次数", "1"],
                      ["Q1", "错漏检次数", "5"], ["Q2", "miss_detection.misses", "1"]])
    code, _, err = run(capsys, "fill", book, "--inputs", data)
    assert code == 1
    line = next(ln for ln in err.splitlines() if "不一致" in ln)
    assert "Q1" in line and "第 2 行" in line and "第 4 行" in line and "95" in line and "5" in line
    assert cell(book, "Q1", "KPI_IN_miss_detection__misses") is None
    assert cell(book, "Q2", "KPI_IN_miss_detection__misses") == 1  # the same value twice is fine


def test_two_columns_of_one_row_naming_one_cell(capsys, tmp_path, book):
    data = write_csv(tmp_path / "d.csv", ["工号", "错漏检次数", "miss_detection.misses"], [["Q2", "1", "2"]])
    code, _, err = run(capsys, "fill", book, "--inputs", data)
    assert code == 1
    line = next(ln for ln in err.splitlines() if "不一致" in ln)
    assert "“错漏检次数”" in line and "“miss_detection.misses”" in line
    assert cell(book, "Q2", "KPI_IN_miss_detection__misses") is None
