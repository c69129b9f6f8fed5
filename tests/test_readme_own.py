"""The README's commands for a company's own data and scorecards run as written: the blocks of
"导入数据 / Importing data" and "做自己的考核表 / Your own scorecard", each line through the CLI
in a folder holding the files they name (a roster with 旺旺, a department file headed with the
card's labels, a 赤兔 export)."""

from __future__ import annotations

import csv
import re
import shlex
from pathlib import Path

import openpyxl
import pytest

from .helpers import run
from .test_import_profiles import COLUMNS, EXPORT

README = Path(__file__).resolve().parents[1] / "README.md"


def commands(section: str) -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    body = text[text.index(f"## {section}"):]
    body = body[: body.index("\n## ", 4)]
    block = re.search(r"```bash\n(.*?)```", body, re.S).group(1)
    lines = [ln.split("#")[0].strip() for ln in block.splitlines()]
    return [shlex.split(ln)[1:] for ln in lines if ln.startswith("kpi-workbook ")]


def write_xlsx(path: Path, rows: list[list]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def test_the_importing_data_commands_run(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_xlsx(tmp_path / "名单.xlsx", [
        ["工号", "姓名", "部门", "岗位", "基本工资", "旺旺"],
        ["Q1", "赵敏", "品质部", "品质部员工绩效考核表", 5000, ""],
        ["Q2", "钱进", "品质部", "来料检验员", 5000, ""],
        ["P1", "小美", "售前部", "售前客服", 4000, "某某旗舰店:小美"],
        ["P2", "小丽", "售前部", "售前客服", 4000, "某某旗舰店:小丽"],
        ["E1", "阿强", "电商一部", "电商客服", 4600, "某某旗舰店:阿强"],
        ["E2", "阿丽", "电商一部", "电商客服", 4600, "某某旗舰店:阿丽"],
        ["E3", "阿华", "电商二部", "电商客服", 4600, "某某专营店:阿华"],
    ])
    assert run(capsys, "new", "--roster", "名单.xlsx", "--month", "2026-10", "--out", "考核表.xlsx")[0] == 0
    with open(tmp_path / "品质部.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["工号", "姓名", "错漏检次数", "虚假记录"], ["Q1", "赵敏", "1", "2"],
                                 ["Q2", "钱进", "0", "1"]])
    export = [r for r in EXPORT if "路人" not in r[0]]
    wb = openpyxl.Workbook()
    wb.active.append(COLUMNS[:-1] + ["退款笔数"])
    for row in export:
        wb.active.append(row[:-1] + ["2"])
    wb.save(tmp_path / "售前明细.xlsx")
    found = commands("导入数据 / Importing data")
    assert [c[0] for c in found] == ["fill", "entry-sheet", "fill", "fill"]
    for argv in found:
        code, out, err = run(capsys, *argv)
        assert code == 0, (argv, err)
    assert "已写入" in out and (tmp_path / "录入表.xlsx").is_file()


def test_the_own_scorecard_commands_run(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_xlsx(tmp_path / "名单.xlsx", [["工号", "姓名", "部门", "岗位", "基本工资"],
                                        ["W1", "孙库", "仓储部", "仓库管理员", 4200],
                                        ["W2", "周管", "仓储部", "仓管员", 4200]])
    found = commands("做自己的考核表 / Your own scorecard")
    assert [c[0] for c in found] == ["template", "template", "template", "--templates", "--templates"]
    outputs = []
    for argv in found:
        code, out, err = run(capsys, *argv)
        assert code == 0, (argv, err)
        outputs.append(out)
    assert "仓库管理员绩效考核表" in outputs[3]
    book = openpyxl.load_workbook(tmp_path / "考核表.xlsx")
    assert len([ws for ws in book.worksheets if "KPI_EMPLOYEE_ID" in ws.defined_names]) == 2
    assert (tmp_path / "来料检验员.xlsx").is_file()


@pytest.mark.parametrize("section", ["导入数据 / Importing data", "做自己的考核表 / Your own scorecard"])
def test_the_sections_are_in_the_readme(section):
    assert f"## {section}" in README.read_text(encoding="utf-8")


def test_the_late_settling_rates_are_documented():
    text = README.read_text(encoding="utf-8")
    assert "4 days after the month ends" in text and "export after the 5th of the next month" in text
