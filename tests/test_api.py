"""The public API (kpi_workbook.api): each function, its result against the CLI's --json,
diagnostics as data, one rule for what is raised, and the README's example run as written.

Expected scores are worked out by hand from templates/roles/qc_inspector.yaml (S5):
错漏检 1 次 = 20, 3 次 = 10; the six event items start full (20 + 15 + 10 + 10 + 15 + 10 = 80),
擅自离岗 costs 3 each. Grades A ≥ 96, B ≥ 80.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import kpi_workbook as kpi
from kpi_workbook.diagnostics import Diagnostic, KpiError, Refused, UsageError

from .helpers import run

ROOT = Path(__file__).resolve().parents[1]
MONTH = "2026-10"
ROSTER = [("Q1", "甲", "品质部", "qc_inspector", "5000"), ("Q2", "乙", "品质部", "qc_inspector", "5000"),
          ("Q3", "丙", "品质部", "qc_inspector", "5000")]
DATA = pd.DataFrame({"工号": ["Q1", "Q2"], "miss_detection.misses": [1, 3],
                     "discipline.left_post": [None, 2]})
# Q1: 20 + 80 = 100 (A); Q2: 10 + 80 − 2 × 3 = 84 (B); Q3: nothing filled in (未完成)
TOTALS = {"Q1": 100.0, "Q2": 84.0}
GRADES = {"Q1": "A", "Q2": "B"}


def plain(data):
    """What JSON makes of a result (tuples become lists): the CLI's side of the comparison."""
    return json.loads(json.dumps(data, ensure_ascii=False))


def renamed(data, old, new):
    """``data`` with every occurrence of the path ``old`` in its texts written as ``new``."""
    return json.loads(json.dumps(data, ensure_ascii=False).replace(str(old), str(new)))


def json_of(capsys, *argv) -> tuple[int, object]:
    code, out, _ = run(capsys, *argv, "--json")
    return code, json.loads(out)


@pytest.fixture(scope="module")
def roster(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("roster") / "名单.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["工号", "姓名", "部门", "岗位", "基本工资"])
        w.writerows(ROSTER)
    return path


@pytest.fixture(scope="module")
def filled(tmp_path_factory, roster) -> Path:
    """A book of the three, Q1 and Q2 filled in through the API from a DataFrame."""
    book = tmp_path_factory.mktemp("filled") / "考核表.xlsx"
    kpi.new(MONTH, roster=roster, out=book)
    kpi.fill(book, DATA)
    return book


def test_the_front_door_is_importable_and_cheap():
    for name in ("new", "fill", "validate", "report", "payroll", "approve", "rollup", "score",
                 "score_frame"):
        assert callable(getattr(kpi, name)) and name in kpi.__all__
    code = ("import sys, kpi_workbook as k\n"
            "assert 'pandas' not in sys.modules, 'pandas imported by import kpi_workbook'\n"
            "assert k.new is k.api.new\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with pytest.raises(AttributeError):
        kpi.no_such_function  # noqa: B018


def test_new_equals_new_json(tmp_path, roster, capsys):
    made = kpi.new(MONTH, roster=roster, out=tmp_path / "a.xlsx")
    assert [len(b.sheets) for b in made.books] == [3] and made.diagnostics == []
    assert made.books[0].path == tmp_path / "a.xlsx" and (tmp_path / "a.xlsx").is_file()
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.month = "2026-11"  # type: ignore[misc]
    code, printed = json_of(capsys, "new", "--roster", roster, "--month", MONTH, "--out", tmp_path / "b.xlsx")
    assert code == 0
    assert printed == renamed(made.to_dict(), tmp_path / "a.xlsx", tmp_path / "b.xlsx")


def test_new_split_refuses_before_writing_any(tmp_path, roster):
    two = tmp_path / "two.csv"
    rows = [("工号", "姓名", "部门", "岗位", "基本工资"), ROSTER[0], ("Q9", "丁", "质检二部", "qc_inspector", "5000")]
    with open(two, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    out = tmp_path / "各部门"
    out.mkdir()
    (out / "质检二部.xlsx").write_bytes(b"kept")
    with pytest.raises(KpiError) as caught:
        kpi.new(MONTH, roster=two, split_by="部门", out_dir=out)
    assert [d.code for d in caught.value.diagnostics] == ["exists"]
    assert not (out / "品质部.xlsx").exists() and (out / "质检二部.xlsx").read_bytes() == b"kept"
    made = kpi.new(MONTH, roster=two, split_by="部门", out_dir=out, force=True)
    assert sorted(b.path.name for b in made.books) == ["品质部.xlsx", "质检二部.xlsx"]


def test_new_takes_a_roster_table(tmp_path):
    table = pd.DataFrame(ROSTER[:2], columns=["工号", "姓名", "部门", "岗位", "基本工资"])
    made = kpi.new(MONTH, roster=table, out=tmp_path / "t.xlsx")
    assert len(made.books[0].sheets) == 2
    table.loc[1, "基本工资"] = "-5"
    with pytest.raises(KpiError) as caught:
        kpi.new(MONTH, roster=table, roster_source="HR 表", out=tmp_path / "u.xlsx")
    assert all(d.source.startswith("HR 表") for d in caught.value.diagnostics)
    assert not (tmp_path / "u.xlsx").exists()


def test_fill_from_a_frame_equals_fill_json(tmp_path, roster, capsys):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    kpi.new(MONTH, roster=roster, out=a)
    shutil.copy(a, b)
    result = kpi.fill(a, DATA)
    assert result.written == 3 and result.diagnostics == []  # Q1: 1 cell, Q2: 2 cells
    inputs = tmp_path / "data.csv"
    DATA.to_csv(inputs, index=False, encoding="utf-8-sig")
    code, printed = json_of(capsys, "fill", b, "--inputs", inputs)
    assert code == 0 and printed == plain(result.to_dict())
    unknown = kpi.fill(a, pd.DataFrame({"工号": ["Q7"], "miss_detection.misses": [1]}))
    assert unknown.written == 0 and [d.code for d in unknown.diagnostics] == ["unknown-employee"]
    assert isinstance(unknown.diagnostics[0], Diagnostic) and "Q7" in unknown.diagnostics[0].message_zh


def test_validate_diagnostics_are_data_and_equal_validate_json(filled, capsys):
    result = kpi.validate(filled)
    empty = [d for d in result.diagnostics if d.code == "empty-input"]
    assert len(result.diagnostics) == len(empty) == 1  # Q3's 错漏检次数, nothing else
    d = empty[0]
    assert d.source == str(filled) and d.sheet and re.fullmatch(r"[A-Z]+[0-9]+", d.cell)
    assert "必填项为空" in d.message_zh and "required input is empty" in d.message_en
    assert d.to_dict()["message_en"] == d.message_en
    code, printed = json_of(capsys, "validate", filled)
    assert code == 1 and printed == plain(result.to_dict())


def test_report_equals_report_json(filled, tmp_path, capsys):
    result = kpi.report(filled, tmp_path / "r1.xlsx")
    rows = result.summary.set_index("工号")
    assert dict(rows["总分"].loc[["Q1", "Q2"]]) == TOTALS
    assert dict(rows["等级"].loc[["Q1", "Q2"]]) == GRADES
    assert rows.loc["Q3", "状态"] == "未完成" and result.month == MONTH
    code, printed = json_of(capsys, "report", filled, "--out", tmp_path / "r2.xlsx")
    assert code == (1 if any(d.severity == "error" for d in result.diagnostics) else 0)
    assert printed == renamed(result.to_dict(), tmp_path / "r1.xlsx", tmp_path / "r2.xlsx")


def test_payroll_refuses_an_unclean_month_as_data(filled, tmp_path, capsys):
    report = kpi.report(filled, tmp_path / "r.xlsx").out
    refused = kpi.payroll(report, tmp_path / "p.csv")
    assert not refused.exported and refused.out is None and not (tmp_path / "p.csv").exists()
    assert [e[0] for e in refused.excluded] == ["Q3"]
    assert "Q3" in refused.diagnostics[0].message_zh and refused.diagnostics[0].code == "payroll-excluded"
    code, printed = json_of(capsys, "payroll", report, "--out", tmp_path / "p.csv")
    assert code == 1 and printed == plain(refused.to_dict())
    paid = kpi.payroll(report, tmp_path / "p.csv", allow_incomplete=True)
    assert paid.exported and paid.paid == 2 and (tmp_path / "p.csv").is_file()
    code, printed = json_of(capsys, "payroll", report, "--out", tmp_path / "q.csv", "--allow-incomplete")
    assert code == 0 and printed == renamed(paid.to_dict(), tmp_path / "p.csv", tmp_path / "q.csv")
    with pytest.raises(UsageError):
        kpi.payroll(report, tmp_path / "x.csv", require_approved=True)  # needs a history


def test_approve_rollup_and_the_refused_rerun(filled, tmp_path, capsys):
    history = tmp_path / "历史.xlsx"
    report = kpi.report(filled, tmp_path / "r.xlsx", history=history).out
    copy = tmp_path / "历史2.xlsx"
    shutil.copy(history, copy)
    approved = kpi.approve(report, history, by="王经理")
    assert (approved.month, approved.rows, approved.by, approved.not_payable) == (MONTH, 3, "王经理", 1)
    code, printed = json_of(capsys, "approve", report, "--history", copy, "--by", "王经理")
    assert code == 0
    mine = renamed(approved.to_dict(), history, copy)
    assert {k: v for k, v in printed.items() if k != "when"} == {k: v for k, v in mine.items() if k != "when"}

    with pytest.raises(Refused) as caught:  # the data says no: an approved month
        kpi.report(filled, tmp_path / "again.xlsx", history=history)
    assert caught.value.diagnostics and not (tmp_path / "again.xlsx").exists()
    with pytest.raises(UsageError):
        kpi.report(filled, tmp_path / "again.xlsx", history=history, reopen=True)  # no reason

    rolled = kpi.rollup(history, tmp_path / "q1.xlsx", quarter="2026Q4")
    assert rolled.period == "2026Q4"
    code, printed = json_of(capsys, "rollup", "--history", history, "--quarter", "2026Q4",
                            "--out", tmp_path / "q2.xlsx")
    assert code == (1 if any(d.severity == "error" for d in rolled.diagnostics) else 0)
    assert printed == renamed(rolled.to_dict(), tmp_path / "q1.xlsx", tmp_path / "q2.xlsx")


def test_score_equals_score_and_bad_input_is_a_kpi_error(tmp_path, capsys):
    card = {"month": MONTH, "inputs": {"miss_detection.misses": 3, "discipline.left_post": 2}}
    result = kpi.score("qc_inspector", card)
    assert (result.total, result.grade, result.status) == (84.0, "B", "complete")
    path = tmp_path / "card.json"
    path.write_text(json.dumps(card), encoding="utf-8")
    code, out, _ = run(capsys, "score", "qc_inspector", "--input", path)
    assert code == 0 and json.loads(out) == plain(result.to_dict())
    with pytest.raises(KpiError) as caught:
        kpi.score("qc_inspector", {"inputs": {"miss_detection.misses": -1, "no_such": 1}})
    paths = sorted(d.path for d in caught.value.diagnostics)
    assert paths == [("miss_detection.misses",), ("no_such",)]
    assert all(d.message_zh and d.message_en for d in caught.value.diagnostics)


def test_score_frame_one_row_per_employee(tmp_path):
    frame = pd.DataFrame({"工号": ["Q1", "Q2", "Q3", "Q4"], "miss_detection.misses": [1, 3, "三", None],
                          "discipline.left_post": [None, 2, None, None]}, index=[10, 11, 12, 13])
    result = kpi.score_frame("qc_inspector", frame)
    out = result.frame
    assert list(out.index) == [10, 11, 12, 13] and list(out["工号"]) == ["Q1", "Q2", "Q3", "Q4"]
    assert list(out["status"]) == ["complete", "complete", "error", "incomplete"]
    assert list(out["total"].iloc[:2]) == [100.0, 84.0] and list(out["grade"].iloc[:2]) == ["A", "B"]
    assert out.loc[11, "points.discipline"] == 9.0  # 15 − 2 × 3
    assert [d.path[0] for d in result.diagnostics] == [12]  # the bad row, by the frame's index
    assert "三" in result.diagnostics[0].message_zh
    assert json.loads(json.dumps(result.to_dict(), ensure_ascii=False, allow_nan=False))["role"] == "qc_inspector"


def test_what_is_raised(tmp_path, roster, filled, monkeypatch):
    with pytest.raises(UsageError) as usage:
        kpi.new(MONTH, roster=roster)  # neither out nor split_by
    assert isinstance(usage.value, ValueError) and usage.value.zh and usage.value.en
    with pytest.raises(KpiError) as month:
        kpi.new("2026-13", roster=roster, out=tmp_path / "x.xlsx")
    assert [d.code for d in month.value.diagnostics] == ["bad-month"]
    with pytest.raises(KpiError) as role:
        kpi.score("no_such_role", {})
    assert role.value.diagnostics

    from kpi_workbook.workbook.month import report as report_module

    def bug(*args, **kwargs):
        raise ZeroDivisionError("a bug in the reader")

    monkeypatch.setattr(report_module, "read_workbook", bug)
    with pytest.raises(ZeroDivisionError):  # a bug is no damaged file and no finding
        kpi.report(filled, tmp_path / "bug.xlsx")
    assert not (tmp_path / "bug.xlsx").exists()


def test_the_cli_wrappers_hold_no_helpers():
    """cli_commands goes through the API (tests/test_layering.py reads every front end's
    imports); it keeps no helpers or catalogs of its own."""
    text = (ROOT / "kpi_workbook" / "excel" / "cli_commands.py").read_text(encoding="utf-8")
    assert "helpers" not in text and "._catalog" not in text


def test_readme_example_runs(tmp_path, monkeypatch, capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## 在 Python 中使用 / Python API"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    with open(ROOT / "kpi_workbook" / "data" / "sample_roster.csv", encoding="utf-8-sig") as f:
        people = sum(1 for _ in csv.DictReader(f))  # 47, counted without the package
    assert f"考核表.xlsx {people}\n" in out
    assert "100.0 A\n" in out  # 错漏检 1 次: 20 + 80
    assert "[((2, 'miss_detection.misses')" in out  # Q3's "三" is named by its row
    assert (tmp_path / "月度报表.xlsx").is_file()


def empty_or(value):
    """A frame's empty cell (NaN) as the None of a card's result."""
    return None if isinstance(value, float) and value != value else value


def test_score_frame_equals_score_card_by_card(catalog):
    """Every role of the sample month, scored as a frame (one pass) and card by card."""
    from kpi_workbook.sample import sample_inputs
    from kpi_workbook.workbook.scorecard.roster import read_roster

    roster = read_roster(catalog)
    long = sample_inputs(catalog, roster, MONTH, weak={"E006"}, incomplete={"E003"})
    people = ["employee_id", "name", "department", "base_salary", "q_amount", "full_attendance",
              "supervisor", "months_absent"]
    compared = complete = 0
    for role, group in roster.groupby("role"):
        mine = long[long["工号"].isin(group["employee_id"])]
        keys = mine["输入"] + mine["评分人"].map(lambda r: f".{r}" if r else "")
        wide = mine.assign(key=keys).pivot(index="工号", columns="key", values="值")
        frame = group[people].set_index("employee_id", drop=False).join(wide).reset_index(drop=True)
        scored = kpi.score_frame(role, frame).frame
        for row, record in zip(scored.to_dict("records"), frame.to_dict("records"), strict=True):
            card = {"employee": {k: record[k] for k in people if not pd.isna(record[k])},
                    "inputs": {k: record[k] for k in frame.columns if k not in people and not pd.isna(record[k])}}
            try:
                alone = kpi.score(role, card)
            except KpiError:
                assert row["status"] == "error", (role, record["employee_id"])
                continue
            who = (role, record["employee_id"])
            assert row["status"] == alone.status and row["total"] == alone.total, who
            assert empty_or(row["grade"]) == alone.grade, who
            assert empty_or(row["pay.total"]) == alone.result["pay"]["total"], who
            compared += 1
            complete += alone.status == "complete"
    assert compared == len(roster) and complete > len(roster) // 2  # not a comparison of empty cards
