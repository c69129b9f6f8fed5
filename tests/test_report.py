"""`kpi-workbook report` (and the demo) on real workbooks in tmp_path, the CLI run in-process.

Workbooks are built with ``build_workbook`` and filled with ``fill_workbooks``; every number
of the report is checked against the engine (``score_card`` per card, the team award and
the ranks recomputed here from the digest's rules), never against the report's own code.
"""

from __future__ import annotations

import hashlib
import math
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kpi_workbook.cli import main
from kpi_workbook.rules.loader import builtin_catalog
from kpi_workbook.engine.api import score_card
from kpi_workbook.kinds.inputs import input_specs
from kpi_workbook.numbers import clean_round
from kpi_workbook.engine.describe import job_title
from kpi_workbook.sample import sample_inputs
from kpi_workbook.workbook.scorecard.build import build_workbook, quote
from kpi_workbook.workbook.scorecard.fill import fill_workbooks

from .helpers import emp, run

MONTH = "2026-10"
HEAD = ["工号", "姓名", "部门", "岗位", "月份", "总分", "等级", "部门排名", "全员排名"]
TAIL = ["应发绩效合计", "状态", "预警", "问题", "说明"]
CELL = re.compile(r"\b[A-Z]{1,3}[0-9]+\b")


# --- helpers ------------------------------------------------------------------------------




def make_book(catalog, path: Path, roster: pd.DataFrame, rows, month: str = MONTH) -> Path:
    build_workbook(catalog, roster, month, path, force=True)
    result = fill_workbooks(catalog, [path], list(rows))
    assert [d for d in result.diagnostics if d.severity == "error"] == []
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def sheet_rows(path: Path, sheet: str) -> list[dict]:
    """The rows of ``sheet`` (a history's 历史 or 审批版本: of each month's sheet, in order)."""
    wb = openpyxl.load_workbook(path)
    out = []
    for name in month_sheets(wb, sheet):
        rows = list(wb[name].iter_rows(values_only=True))
        header = list(rows[0])
        # rows of a table: the 合计 row and the signature line under 月度汇总 have no 工号
        out += [dict(zip(header, r)) for r in rows[1:] if r[0] is not None]
    return out


def month_sheets(wb, sheet: str) -> list[str]:
    """``sheet``, or the sheets a history keeps it in by month (历史 2026-10, 历史 2026-11, …)."""
    return [name for name in wb.sheetnames if name == sheet or (
        name.startswith(sheet + " ") and name[len(sheet) + 1:len(sheet) + 5].isdigit())]


def header_of(path: Path, sheet: str) -> list:
    wb = openpyxl.load_workbook(path)
    return [c.value for c in next(wb[sheet].iter_rows(max_row=1))]


def expected_cards(catalog, roster: pd.DataFrame, rows, month: str = MONTH) -> dict[str, dict]:
    """score_card for every employee on the same inputs; rank items ranked here (G9)."""
    inputs: dict[str, dict] = {e: {} for e in roster["employee_id"]}
    for eid, key, rater, value in rows:
        if rater:
            inputs[eid].setdefault(key, {})[rater] = value
        else:
            inputs[eid][key] = value
    for role_id, part in roster.groupby("role"):
        for _, item in catalog.roles[role_id].items():
            if item.rule.kind != "rank":
                continue
            metric = f"{item.id}.{item.rule.metric.id}"
            for _, team in part.groupby("department"):
                known = {e: float(inputs[e][metric]) for e in team["employee_id"] if metric in inputs[e]}
                ranks = pd.Series(known, dtype=float).rank(method="min",
                                                          ascending=not item.rule.higher_is_better)
                for e, r in ranks.items():
                    inputs[e][f"{item.id}.rank"] = int(r)
                    inputs[e][f"{item.id}.team_size"] = len(known)
    out = {}
    for e in roster.itertuples(index=False):
        employee = {"id": e.employee_id, "name": e.name, "department": e.department,
                    "base_salary": e.base_salary, "full_attendance": bool(e.full_attendance)}
        result = score_card(catalog, e.role, {"month": month, "employee": employee,
                                              "inputs": inputs[e.employee_id]})
        out[e.employee_id] = {**result, "employee": e}
    return out


def expected_summary(catalog, cards: dict[str, dict]) -> dict[str, dict]:
    """The 月度汇总 row of every employee, from the engine's per-card results."""
    award_rule = {}  # role → its top scorer rule
    for r in {c["role"] for c in cards.values()}:
        for rule in catalog.role_pay_rules(catalog.roles[r]):
            if rule.kind == "top_scorer_award":
                award_rule[r] = rule
    best: dict[tuple[str, str], float] = {}  # (department, role): awards compare one scorecard
    for c in cards.values():
        if c["status"] == "complete" and c["role"] in award_rule:
            key = (c["employee"].department, c["role"])
            best[key] = max(best.get(key, -math.inf), c["total"])
    # issue 20: a department (of one scorecard) with a card that takes part and is not
    # complete has no top scorer yet: every award of it waits (待定), and so does the pay total
    waiting = {(c["employee"].department, c["role"]) for c in cards.values()
               if c["status"] not in ("complete", "excluded") and c["role"] in award_rule}
    rows = {}
    for eid, c in cards.items():
        e, complete, role = c["employee"], c["status"] == "complete", catalog.roles[c["role"]]
        money: dict[str, float | str | None] = {}
        for rule in catalog.role_pay_rules(role):
            value: float | str | None
            if not complete:
                value = None
            elif rule.kind == "top_scorer_award" and (e.department, c["role"]) in waiting:
                value = "待定"
            elif rule.kind == "top_scorer_award":
                top = c["total"] == best.get((e.department, c["role"]))
                value = float(rule.amounts.get(c["grade"], 0.0)) if top else 0.0
            else:
                value = c["pay"][rule.id]
            if isinstance(value, str):
                money[rule.label] = value
            elif value is not None:
                money[rule.label] = (money.get(rule.label) or 0.0) + value
            else:
                money.setdefault(rule.label, None)
        total_pay: float | str | None = clean_round(sum(v for v in money.values() if isinstance(v, float)), 2) \
            if complete else None
        if complete and "待定" in money.values():
            total_pay = "待定"
        rows[eid] = {"工号": eid, "姓名": e.name, "部门": e.department, "岗位": job_title(role), "月份": MONTH,
                     "总分": c["total"], "等级": c["grade"] if complete else None, "money": money,
                     "应发绩效合计": total_pay, "状态": "已完成" if complete else "未完成",
                     "missing": c["missing"], "role": role.id}
    done = {k: v for k, v in rows.items() if v["状态"] == "已完成"}
    for eid, r in rows.items():
        if eid not in done:
            r["部门排名"] = r["全员排名"] = None
            continue
        r["全员排名"] = 1 + sum(o["总分"] > r["总分"] for o in done.values())
        r["部门排名"] = 1 + sum(o["总分"] > r["总分"] for o in done.values() if o["部门"] == r["部门"])
    return rows


def set_rater(rows: list, eid: str, key: str, value) -> None:
    rows += [(eid, key, "self", value), (eid, key, "supervisor", value)]


def taobao(eid: str, rate: float, tasks: float, discipline: str, problem: str, coordination: str,
           passion: str) -> list:
    rows = [(eid, "sales_completion.rate", None, rate)]
    set_rater(rows, eid, "assigned_tasks.points", tasks)
    set_rater(rows, eid, "discipline.level", discipline)
    set_rater(rows, eid, "problem_handling.level", problem)
    set_rater(rows, eid, "coordination.level", coordination)
    set_rater(rows, eid, "passion.level", passion)
    return rows


# 100 卓越 / 81 良好 / 74 及格 / 20 不及格 (grade_5_level: 95 / 85 / 75 / 60)
def tb_excellent(eid):
    return taobao(eid, 1.0, 20, "无违纪", "独立处事", "通报表扬", "激情感染")


def tb_good(eid):
    return taobao(eid, 1.0, 20, "无违纪", "一般", "积极合作", "缺乏激情")


def tb_pass(eid):
    return taobao(eid, 1.0, 20, "无违纪", "较差", "必要合作", "缺乏激情")


def tb_fail(eid):
    return taobao(eid, 0.5, 5, "通报批评", "很差", "拒绝帮助", "缺乏激情")


def ecommerce(eid: str, rate: float, share: float) -> list:
    values = {"sales_completion.rate": rate, "sales_share.share": share, "closed_orders.count": 10,
              "packing_errors.errors": 0, "same_day_payment.rate": 0.95, "refunds.count": 5,
              "order_value.amount": 100, "inquiry_conversion.rate": 0.7,
              "product_knowledge.level": "熟悉", "response_time.seconds": 10, "reply_rate.rate": 0.999,
              "service_satisfaction.level": "非常满意", "conversation_quality.points": 2,
              "standard_phrases.points": 2, "duty.points": 1, "review_invitation.rate": 0.8,
              "cooperation.points": 1}
    return [(eid, k, None, v) for k, v in values.items()]


def qc(eid: str, weak: bool) -> list:
    """qc_inspector: 45 (E) when weak, else 102 (A)."""
    if not weak:
        return [(eid, "miss_detection.misses", None, 0)]
    return [(eid, "miss_detection.misses", None, 4), (eid, "efficiency.task_late", None, 2),
            (eid, "teamwork.no_cooperation", None, 2), (eid, "communication.not_reported", None, 3)]


# --- a month of scorecards ------------------------------------------------------------------

ROSTER = pd.DataFrame([
    emp("T1", "唐一", "电商部", "taobao_cs_staff"),
    emp("T2", "唐二", "电商部", "taobao_cs_staff", attendance=False),
    emp("T3", "唐三", "电商部", "taobao_cs_staff"),
    emp("T4", "唐四", "电商部", "taobao_cs_staff"),
    emp("C1", "陈一", "电商部", "ecommerce_presales_cs"),
    emp("C2", "陈二", "电商部", "ecommerce_presales_cs", attendance=False),
    emp("C3", "陈三", "电商部", "ecommerce_presales_cs"),
    emp("Q1", "秦一", "品质部", "qc_inspector"),
    emp("Q2", "秦二", "品质部", "qc_inspector"),
    emp("Q3", "秦三", "品质部", "qc_inspector"),
    emp("Q4", "秦四", "品质部", "qc_inspector"),
    emp("S1", "孙一", "客服部", "cs_specialist", 4700),
    emp("S2", "孙二", "客服部", "cs_specialist", 5200),
    emp("S3", "孙三", "客服部", "cs_specialist", 4800),
])
INCOMPLETE = {"T4", "Q4", "S3"}


@pytest.fixture(scope="module")
def month(tmp_path_factory, catalog):
    folder = tmp_path_factory.mktemp("month")
    rows = list(sample_inputs(catalog, ROSTER, MONTH, weak={"T3", "Q2"},
                              incomplete=INCOMPLETE).itertuples(index=False, name=None))
    book = make_book(catalog, folder / "scorecards.xlsx", ROSTER, rows)
    before = digest(book)
    out = folder / "report.xlsx"
    code = main(["report", str(book), "--out", str(out)])
    return {"book": book, "out": out, "code": code, "rows": rows, "before": before,
            "expected": expected_summary(catalog, expected_cards(catalog, ROSTER, rows))}


def test_report_runs_clean_and_never_writes_the_scorecards(month):
    assert month["code"] == 0
    assert month["out"].exists()
    assert digest(month["book"]) == month["before"]


def test_every_summary_column_matches_the_engine(catalog, month):
    expected = month["expected"]
    money = list(dict.fromkeys(label for r in expected.values() for label in r["money"]))
    header = header_of(month["out"], "月度汇总")
    assert header[:len(HEAD)] == HEAD and header[-len(TAIL):] == TAIL
    assert sorted(header[len(HEAD):-len(TAIL)]) == sorted(money)
    got = {r["工号"]: r for r in sheet_rows(month["out"], "月度汇总")}
    assert set(got) == set(expected)
    for eid, want in expected.items():
        row = got[eid]
        for column in ("工号", "姓名", "部门", "岗位", "月份", "等级", "状态"):
            assert row[column] == want[column], (eid, column)
        assert row["总分"] == pytest.approx(want["总分"], abs=1e-9), eid
        for column in ("部门排名", "全员排名"):
            assert row[column] == want[column], (eid, column, row[column])
        for label in money:  # blank where the rule is not the role's, or the card incomplete
            w = want["money"].get(label)
            assert (row[label] is None) if w is None else row[label] == (
                w if isinstance(w, str) else pytest.approx(w, abs=1e-9)), (eid, label, row[label], w)
        w = want["应发绩效合计"]
        assert (row["应发绩效合计"] is None) if w is None else row["应发绩效合计"] == (
            w if isinstance(w, str) else pytest.approx(w)), eid
        assert row["预警"] in (None, ""), eid


def test_scenario_has_what_the_checks_need(month):
    """The sample data really covers the cases: incomplete cards, several grades, an award."""
    expected = month["expected"]
    assert {e for e, r in expected.items() if r["状态"] == "未完成"} == INCOMPLETE
    assert {r["role"] for r in expected.values()} >= {"taobao_cs_staff", "ecommerce_presales_cs",
                                                      "qc_inspector"}
    awards = [r["money"]["部门第一奖励"] for r in expected.values() if "部门第一奖励" in r["money"]]
    assert any(a for a in awards)
    grades = {r["等级"] for r in expected.values() if r["等级"]}
    assert len(grades) >= 4


def test_ties_share_the_better_rank(tmp_path, catalog):
    roster = pd.DataFrame([emp("A", "甲", "品质部", "qc_inspector"),
                           emp("B", "乙", "品质部", "qc_inspector"),
                           emp("C", "丙", "品质部", "qc_inspector"),
                           emp("D", "丁", "售后部", "qc_inspector"),
                           emp("E", "戊", "售后部", "qc_inspector")])
    rows = qc("A", False) + qc("B", False) + qc("C", True) + qc("D", True)  # E incomplete
    book = make_book(catalog, tmp_path / "b.xlsx", roster, rows)
    out = tmp_path / "r.xlsx"
    assert main(["report", str(book), "--out", str(out)]) == 0
    got = {r["工号"]: (r["部门排名"], r["全员排名"]) for r in sheet_rows(out, "月度汇总")}
    assert got == {"A": (1, 1), "B": (1, 1), "C": (3, 3), "D": (1, 3), "E": (None, None)}


def stats_blocks(path: Path) -> dict[str, tuple[list, dict[str, dict]]]:
    """部门统计's tables, one per grade scheme: scheme id → (header, department → row)."""
    rows = list(openpyxl.load_workbook(path)["部门统计"].iter_rows(values_only=True))
    blocks, scheme, header = {}, None, None
    for r in rows:
        first = r[0] if r else None
        if isinstance(first, str) and first.startswith("等级方案："):  # its label, as printed
            label = first.removeprefix("等级方案：").strip()
            scheme = next(s.id for s in builtin_catalog().grade_schemes.values() if s.label == label)
            header = None
        elif first == "合计":  # the scheme's 合计 row
            blocks[scheme][1][first] = dict(zip(header, r))
        elif first == "部门":
            header = [c for c in r if c is not None]
            blocks[scheme] = (header, {})
        elif header and first:
            blocks[scheme][1][first] = dict(zip(header, r))
        else:
            header = None
    return blocks


def test_department_statistics_and_native_chart(catalog, month):
    expected = month["expected"]
    blocks = stats_blocks(month["out"])
    scheme_of = {eid: catalog.roles[r["role"]].grade_scheme for eid, r in expected.items()}
    assert set(blocks) == set(scheme_of.values())
    for scheme_id, (header, stats) in blocks.items():
        grades = [g for g in header if f"{g}占比" in header]
        assert grades == catalog.grade_schemes[scheme_id].grades()  # one scale per table
        mine = {e: r for e, r in expected.items() if scheme_of[e] == scheme_id}
        assert set(stats) == {r["部门"] for r in mine.values()} | {"合计"}  # and the scheme's 合计 row
        for dept, got in stats.items():
            part = [r for r in mine.values() if dept in ("合计", r["部门"])]
            done = [r for r in part if r["状态"] == "已完成"]
            totals = [r["总分"] for r in done]
            assert got["人数"] == len(part) and got["已完成"] == len(done)
            if not done:
                continue
            assert got["平均分"] == pytest.approx(clean_round(sum(totals) / len(totals), 1))
            assert got["最高分"] == pytest.approx(max(totals)) and got["最低分"] == pytest.approx(min(totals))
            for g in grades:
                n = sum(r["等级"] == g for r in done)
                assert got[g] == n, (dept, g)
                assert got[f"{g}占比"] == pytest.approx(n / len(done)), (dept, g)
            assert got["应发合计"] == pytest.approx(clean_round(sum(  # 待定 is no amount yet
                r["应发绩效合计"] for r in done if not isinstance(r["应发绩效合计"], str)), 2))
    with zipfile.ZipFile(month["out"]) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        assert len(charts) == len(blocks)
        for name in charts:
            chart = z.read(name).decode("utf-8")
            assert "<c:barChart>" in chart and "部门统计" in chart


def test_incomplete_cards_are_listed_with_what_is_missing(catalog, month):
    expected = month["expected"]
    listed = {r["工号"]: r for r in sheet_rows(month["out"], "未完成")}
    assert set(listed) == INCOMPLETE
    for eid, row in listed.items():
        role = catalog.roles[expected[eid]["role"]]
        specs = {s.key: s for s in input_specs(role, catalog.role_pay_rules(role))}
        entries = row["缺少或有误"].split("；")
        assert len(entries) == len(expected[eid]["missing"]) > 0
        for key, entry in zip(expected[eid]["missing"], entries):
            assert entry.startswith(specs[key].label_path()) and CELL.search(entry), entry
        assert row["工作表"].startswith(eid) and row["文件"].endswith("scorecards.xlsx")
    summary = {r["工号"]: r for r in sheet_rows(month["out"], "月度汇总")}
    for eid in INCOMPLETE:  # no pay, no grade, no rank
        assert summary[eid]["应发绩效合计"] is None and summary[eid]["等级"] is None
        assert summary[eid]["部门排名"] is None


# --- awards --------------------------------------------------------------------------------


def test_awards_follow_the_grade_rules(tmp_path, catalog):
    roster = pd.DataFrame([
        emp("A1", "甲一", "淘宝一部", "taobao_cs_staff", attendance=True),   # 100 卓越, top
        emp("A2", "甲二", "淘宝一部", "taobao_cs_staff", attendance=False),  # 81 良好
        emp("A3", "甲三", "淘宝一部", "taobao_cs_staff", attendance=True),   # 20 不及格
        emp("A4", "甲四", "淘宝一部", "taobao_cs_staff", attendance=True),   # incomplete
        emp("B1", "乙一", "淘宝二部", "taobao_cs_staff", attendance=False),  # 74 及格, top: no award
        emp("B2", "乙二", "淘宝二部", "taobao_cs_staff", attendance=False),  # 20 不及格
        emp("D1", "丁一", "淘宝三部", "taobao_cs_staff", attendance=False),  # 81 良好, top: ¥200
        emp("D2", "丁二", "淘宝三部", "taobao_cs_staff", attendance=False),  # 74 及格
        emp("E1", "戊一", "电商二部", "ecommerce_presales_cs"),             # 93 优秀, top: ¥100
        emp("E2", "戊二", "电商二部", "ecommerce_presales_cs"),             # 62 及格
        emp("F1", "己一", "电商三部", "ecommerce_presales_cs"),             # 100 卓越, tie: ¥200
        emp("F2", "己二", "电商三部", "ecommerce_presales_cs"),             # 100 卓越, tie: ¥200
    ])
    rows = (tb_excellent("A1") + tb_good("A2") + tb_fail("A3") + tb_excellent("A4")[:3]
            + tb_pass("B1") + tb_fail("B2") + tb_good("D1") + tb_pass("D2")
            + ecommerce("E1", 0.9, 0.6) + ecommerce("E2", 0.5, 0.4)
            + ecommerce("F1", 1.0, 0.5) + ecommerce("F2", 1.0, 0.5))
    book = make_book(catalog, tmp_path / "awards.xlsx", roster, rows)
    out = tmp_path / "awards-report.xlsx"
    assert main(["report", str(book), "--out", str(out)]) == 0
    got = {r["工号"]: r for r in sheet_rows(out, "月度汇总")}

    def line(eid):
        r = got[eid]
        return (r["总分"], r["等级"], r["部门第一奖励"], r["全勤奖"], r["不及格罚款"], r["应发绩效合计"])

    # 淘宝一部 waits for A4 (未完成): no top scorer yet, the award and the totals are 待定
    assert line("A1") == (100, "卓越", "待定", 50, 0, "待定")    # 全勤 ¥50 is settled
    assert line("A2") == (81, "良好", "待定", 0, 0, "待定")
    assert line("A3") == (20, "不及格", "待定", 50, -200, "待定")  # 不及格 → −¥200
    assert all("甲四（A4，未完成）" in got[e]["说明"] for e in ("A1", "A2", "A3"))
    assert got["A4"]["状态"] == "未完成" and got["A4"]["应发绩效合计"] is None
    assert got["A4"]["部门第一奖励"] is None and got["A4"]["全勤奖"] is None
    assert line("B1") == (74, "及格", 0, 0, 0, 0)              # top, but only 及格: no award
    assert line("B2") == (20, "不及格", 0, 0, -200, -200)
    assert line("D1") == (81, "良好", 200, 0, 0, 200)          # 良好 qualifies in S9
    assert line("D2") == (74, "及格", 0, 0, 0, 0)
    assert (got["E1"]["总分"], got["E1"]["等级"], got["E1"]["部门第一奖励"]) == (93, "优秀", 100)  # S10
    assert (got["E2"]["等级"], got["E2"]["部门第一奖励"]) == ("及格", 0)
    assert [got[e]["部门第一奖励"] for e in ("F1", "F2")] == [200, 200]  # S10 卓越, ties share
    for eid in ("E1", "E2", "F1"):  # ecommerce_presales_cs has no attendance or fail rule
        assert got[eid]["全勤奖"] is None and got[eid]["不及格罚款"] is None


# --- history and streak warnings -------------------------------------------------------------

HISTORY_ROSTER = pd.DataFrame([
    emp("QA", "秦甲", "品质部", "qc_inspector"),
    emp("QB", "秦乙", "品质部", "qc_inspector"),
    emp("QC", "秦丙", "品质部", "qc_inspector"),
    emp("TA", "唐甲", "淘宝部", "taobao_cs_staff"),
    emp("TB", "唐乙", "淘宝部", "taobao_cs_staff"),
    emp("TD", "唐丁", "淘宝二部", "taobao_cs_staff"),
    emp("TE", "唐戊", "淘宝二部", "taobao_cs_staff"),
    emp("TS", "唐单", "淘宝三部", "taobao_cs_staff"),  # alone: never "lowest of the department"
])
# three months: January, February, then April (March is missing: no streak across it)
HISTORY_PLAN = {
    "2026-01": {"QA": "E", "QB": "E", "QC": "E", "TA": "fail", "TB": "good", "TD": "pass",
                "TE": "top", "TS": "pass"},
    "2026-02": {"QA": "E", "QB": "E", "QC": "ok", "TA": "fail", "TB": "good", "TD": "pass",
                "TE": "top", "TS": "pass"},
    "2026-04": {"QA": "ok", "QB": "E", "QC": "E", "TA": "good", "TB": "top", "TD": "pass",
                "TE": "top", "TS": "pass"},
}


def history_rows(plan: dict[str, str]) -> list:
    make = {"E": lambda e: qc(e, True), "ok": lambda e: qc(e, False), "fail": tb_fail,
            "good": tb_good, "pass": tb_pass, "top": tb_excellent}
    return [row for eid, what in plan.items() for row in make[what](eid)]


@pytest.fixture(scope="module")
def history(tmp_path_factory, catalog):
    folder = tmp_path_factory.mktemp("history")
    hist = folder / "history.xlsx"
    reports = {}
    for m, plan in HISTORY_PLAN.items():
        book = make_book(catalog, folder / f"{m}.xlsx", HISTORY_ROSTER, history_rows(plan), month=m)
        out = folder / f"report-{m}.xlsx"
        assert main(["report", str(book), "--out", str(out), "--history", str(hist)]) == 0
        reports[m] = out
    return {"folder": folder, "history": hist, "reports": reports}


def warnings_of(report: Path) -> dict[str, str]:
    return {r["工号"]: r["预警"] or "" for r in sheet_rows(report, "月度汇总")}


def test_first_month_has_no_warnings(history):
    assert set(warnings_of(history["reports"]["2026-01"]).values()) == {""}


def test_streaks_two_months_running(history):
    w = warnings_of(history["reports"]["2026-02"])
    assert "连续2个月E" in w["QA"] and "调岗/辞退" in w["QA"]      # S5: E two months in a row
    assert "连续2个月E" in w["QB"]
    assert w["QC"] == ""                                           # E, then a good month
    assert "连续2个月不及格" in w["TA"]                              # S9/S10: 不及格 twice
    assert "连续2个月部门最低分" in w["TA"]                          # lowest of 淘宝部 twice
    assert "连续2个月部门最低分" in w["TD"] and "不及格" not in w["TD"]  # lowest of 淘宝二部, 及格
    assert w["TB"] == "" and w["TE"] == "" and w["TS"] == ""


def test_e_in_three_months_of_the_year(history):
    w = warnings_of(history["reports"]["2026-04"])
    assert "连续" not in w["QB"]                      # March is missing: no streak
    assert "本年3个月为E" in w["QB"] and "调岗/辞退" in w["QB"]
    assert w["QC"] == ""                               # E in two months only
    assert w["QA"] == "" and w["TA"] == ""
    assert "部门最低" not in w["TD"]                    # March missing breaks the streak


def test_history_has_one_row_per_employee_and_month(history):
    rows = sheet_rows(history["history"], "历史")
    assert len(rows) == 3 * len(HISTORY_ROSTER)
    assert {(r["工号"], r["月份"]) for r in rows} == {
        (e, m) for e in HISTORY_ROSTER["employee_id"] for m in HISTORY_PLAN}


def test_rerunning_a_month_replaces_it_in_history(history, catalog, capsys):
    hist, folder = history["history"], history["folder"]
    before = sheet_rows(hist, "历史")
    book = folder / "2026-02.xlsx"
    out = history["reports"]["2026-02"]
    code, _, err = run(capsys, "report", book, "--out", out, "--history", hist)  # no --force
    assert code == 2 and "--force" in err
    for _ in range(2):  # idempotent
        assert main(["report", str(book), "--out", str(out), "--history", str(hist), "--force"]) == 0
        assert sheet_rows(hist, "历史") == before
    # the month's cards change: its rows are replaced, never added
    changed = {**HISTORY_PLAN["2026-02"], "QC": "E"}
    book2 = make_book(catalog, folder / "2026-02-fixed.xlsx", HISTORY_ROSTER, history_rows(changed),
                      month="2026-02")
    out2 = folder / "report-2026-02-fixed.xlsx"
    assert main(["report", str(book2), "--out", str(out2), "--history", str(hist)]) == 0
    after = sheet_rows(hist, "历史")
    assert len(after) == len(before)
    assert next(r for r in after if (r["工号"], r["月份"]) == ("QC", "2026-02"))["等级"] == "E"
    assert "连续2个月E" in warnings_of(out2)["QC"]
    # put February back as it was, for the other tests of this module
    assert main(["report", str(book), "--out", str(out), "--history", str(hist), "--force"]) == 0
    assert sheet_rows(hist, "历史") == before


def test_a_card_of_another_month_does_not_touch_that_months_history(history, catalog, tmp_path):
    hist = tmp_path / "h.xlsx"
    shutil.copy(history["history"], hist)
    before = sheet_rows(hist, "历史")
    stray = make_book(catalog, tmp_path / "stray.xlsx",
                      pd.DataFrame([emp("QZ", "秦子", "品质部", "qc_inspector")]), qc("QZ", False),
                      month="2026-01")
    book = history["folder"] / "2026-04.xlsx"
    out = tmp_path / "r.xlsx"
    code = main(["report", str(book), str(stray), "--out", str(out), "--history", str(hist),
                 "--force"])
    assert code == 1 and not out.exists()  # two months and no --month: refused
    assert sheet_rows(hist, "历史") == before
    code = main(["report", str(book), str(stray), "--out", str(out), "--history", str(hist),
                 "--month", "2026-04", "--force"])
    assert code == 1  # the month mismatch is an error finding
    assert "QZ" not in {r["工号"] for r in sheet_rows(out, "月度汇总")}  # left out
    assert sheet_rows(hist, "历史") == before  # January untouched, April re-run the same


def test_a_file_that_is_not_a_history_is_refused(history, tmp_path, capsys):
    book = history["folder"] / "2026-01.xlsx"
    not_history = tmp_path / "other.xlsx"
    shutil.copy(book, not_history)
    before = digest(not_history)
    code, _, err = run(capsys, "report", book, "--out", tmp_path / "r.xlsx", "--history", not_history)
    assert code == 2 and "not-history" in err
    assert digest(not_history) == before and not (tmp_path / "r.xlsx").exists()


# --- bad input ------------------------------------------------------------------------------

BAD_ROSTER = pd.DataFrame([
    emp("Q1", "秦一", "品质部", "qc_inspector"),
    emp("Q2", "秦二", "品质部", "qc_inspector"),
    emp("T1", "唐一", "电商部", "taobao_cs_staff"),
    emp("T2", "唐二", "电商部", "taobao_cs_staff"),
    emp("S1", "孙一", "客服部", "cs_specialist"),
])


@pytest.fixture(scope="module")
def good_book(tmp_path_factory, catalog):
    folder = tmp_path_factory.mktemp("good")
    rows = list(sample_inputs(catalog, BAD_ROSTER, MONTH).itertuples(index=False, name=None))
    book = make_book(catalog, folder / "good.xlsx", BAD_ROSTER, rows)
    out = folder / "good-report.xlsx"
    assert main(["report", str(book), "--out", str(out)]) == 0
    return {"book": book, "totals": {r["工号"]: r["总分"] for r in sheet_rows(out, "月度汇总")}}


def copy_book(good_book, tmp_path: Path, name: str = "book.xlsx") -> Path:
    path = tmp_path / name
    shutil.copy(good_book["book"], path)
    return path


def sheet_and_names(wb, eid: str):
    for ws in wb.worksheets:
        names = {n: list(d.destinations)[0][1].replace("$", "") for n, d in ws.defined_names.items()}
        if "KPI_EMPLOYEE_ID" in names and ws[names["KPI_EMPLOYEE_ID"]].value == eid:
            return ws, names
    raise KeyError(eid)


def report(capsys, tmp_path: Path, *inputs) -> tuple[int, str, dict, list[dict]]:
    """Run the report; (exit code, stderr, 月度汇总 by 工号, 问题 rows)."""
    out = tmp_path / "report.xlsx"
    code, _, err = run(capsys, "report", *inputs, "--out", out)
    assert out.exists(), err  # the report is produced for everyone else
    return code, err, {r["工号"]: r for r in sheet_rows(out, "月度汇总")}, sheet_rows(out, "问题")


def test_renamed_sheet_is_still_read(tmp_path, good_book, capsys):
    path = copy_book(good_book, tmp_path)
    wb = openpyxl.load_workbook(path)
    ws, _ = sheet_and_names(wb, "T1")
    old = ws.title
    ws.title = "改过名的表"
    for dn in ws.defined_names.values():  # what Excel does to the names on a rename
        dn.attr_text = dn.attr_text.replace(quote(old), quote(ws.title)).replace(f"{old}!", f"{ws.title}!")
    wb.save(path)
    code, err, summary, problems = report(capsys, tmp_path, path)
    assert code == 0, err
    assert summary["T1"]["总分"] == good_book["totals"]["T1"]
    assert summary["T1"]["状态"] == "已完成"
    assert [p for p in problems if p["级别"] == "错误"] == []


def test_deleted_sheet_is_a_finding_from_the_roster(tmp_path, good_book, capsys):
    path = copy_book(good_book, tmp_path)
    wb = openpyxl.load_workbook(path)
    ws, _ = sheet_and_names(wb, "Q2")
    del wb[ws.title]
    wb.save(path)
    code, err, summary, problems = report(capsys, tmp_path, path)
    assert code == 1
    assert set(summary) == set(BAD_ROSTER["employee_id"]) - {"Q2"}
    hit = [p for p in problems if p["代码"] == "missing-sheet"]
    assert len(hit) == 1 and hit[0]["文件"] == path.name and hit[0]["工作表"] == "名单"
    assert hit[0]["单元格"] == "A3" and "Q2" in hit[0]["说明"]
    assert f"{path} [名单]!A3: error:" in err


@pytest.mark.parametrize("broken", ["#REF!", "sheet!#REF!"])
def test_broken_name_is_a_finding(tmp_path, good_book, capsys, broken):
    path = copy_book(good_book, tmp_path)
    wb = openpyxl.load_workbook(path)
    ws, _ = sheet_and_names(wb, "Q1")
    dn = ws.defined_names["KPI_IN_miss_detection__misses"]
    dn.attr_text = "#REF!" if broken == "#REF!" else f"{quote(ws.title)}!#REF!"
    wb.save(path)
    code, err, summary, problems = report(capsys, tmp_path, path)
    assert code == 1
    hit = [p for p in problems if p["代码"] == "broken-name"]
    assert hit and hit[0]["文件"] == path.name and hit[0]["工作表"] == ws.title
    assert "KPI_IN_miss_detection__misses" in hit[0]["说明"]
    assert summary["Q1"]["状态"] == "错误" and summary["Q1"]["应发绩效合计"] is None
    assert "KPI_IN_miss_detection__misses" in summary["Q1"]["问题"]
    assert summary["Q2"]["总分"] == good_book["totals"]["Q2"]


@pytest.mark.parametrize("value", ["十二", "#DIV/0!"])
def test_bad_value_in_an_input_cell(tmp_path, good_book, capsys, value):
    path = copy_book(good_book, tmp_path)
    wb = openpyxl.load_workbook(path)
    ws, names = sheet_and_names(wb, "Q1")
    ref = names["KPI_IN_miss_detection__misses"]
    ws[ref] = value  # openpyxl stores "#DIV/0!" as an error value (t="e")
    wb.save(path)
    if value.startswith("#"):
        assert openpyxl.load_workbook(path)[ws.title][ref].data_type == "e"
    code, err, summary, problems = report(capsys, tmp_path, path)
    assert code == 1
    hit = [p for p in problems if p["代码"] == "bad-value"]
    assert [(p["文件"], p["工作表"], p["单元格"]) for p in hit] == [(path.name, ws.title, ref)]
    assert value in hit[0]["说明"]
    assert f"[{ws.title}]!{ref}: error:" in err
    assert summary["Q1"]["状态"] == "错误" and summary["Q1"]["等级"] is None
    assert summary["Q1"]["应发绩效合计"] is None and ref in summary["Q1"]["问题"]
    for eid in ("Q2", "T1", "T2", "S1"):
        assert summary[eid]["总分"] == good_book["totals"][eid]


def test_same_employee_in_two_workbooks(tmp_path, good_book, capsys, catalog):
    path = copy_book(good_book, tmp_path)
    other = make_book(catalog, tmp_path / "other.xlsx", BAD_ROSTER.iloc[[2]],  # T1 again
                      tb_fail("T1"))
    code, err, summary, problems = report(capsys, tmp_path, path, other)
    assert code == 1
    hit = [p for p in problems if p["代码"] == "duplicate-employee"]
    assert len(hit) == 2 and hit[0]["文件"] == "other.xlsx" and hit[0]["工作表"].startswith("T1")
    assert path.name in hit[0]["说明"] and hit[1]["文件"] == path.name and "other.xlsx" in hit[1]["说明"]
    assert summary["T1"]["总分"] == good_book["totals"]["T1"]  # counted once: the first one
    assert summary["T1"]["状态"] == "错误" and summary["T1"]["应发绩效合计"] is None  # not paid twice, nor once
    assert len(summary) == len(BAD_ROSTER)


def test_months_that_do_not_match(tmp_path, good_book, capsys, catalog):
    path = copy_book(good_book, tmp_path)
    other = make_book(catalog, tmp_path / "september.xlsx",
                      pd.DataFrame([emp("Q9", "秦九", "品质部", "qc_inspector")]), qc("Q9", False),
                      month="2026-09")
    code, _, err = run(capsys, "report", path, other, "--out", tmp_path / "report.xlsx")
    assert code == 1 and not (tmp_path / "report.xlsx").exists()  # no --month: stop, list them
    assert "mixed-months" in err and "2026-09" in err and MONTH in err
    code, err, summary, problems = report(capsys, tmp_path, path, other, "--month", MONTH)
    assert code == 1
    hit = [p for p in problems if p["代码"] == "month-mismatch"]
    assert len(hit) == 1 and hit[0]["文件"] == "september.xlsx" and hit[0]["工作表"].startswith("Q9")
    assert CELL.fullmatch(hit[0]["单元格"]) and "2026-09" in hit[0]["说明"] and MONTH in hit[0]["说明"]
    assert summary["Q1"]["月份"] == MONTH and set(summary) == set(BAD_ROSTER["employee_id"])


@pytest.mark.parametrize("junk", ["text", "zip", "truncated", "bad-xml"])
def test_corrupt_file_among_the_inputs(tmp_path, good_book, capsys, junk):
    folder = tmp_path / "in"
    folder.mkdir()
    copy_book(good_book, folder, "good.xlsx")
    bad = folder / "broken.xlsx"
    if junk == "text":
        bad.write_text("工号,姓名\nE1,张三\n", encoding="utf-8")
    elif junk == "zip":
        with zipfile.ZipFile(bad, "w") as z:
            z.writestr("hello.txt", "not a workbook")
    elif junk == "truncated":
        bad.write_bytes(good_book["book"].read_bytes()[:3000])
    else:
        with zipfile.ZipFile(good_book["book"]) as src, zipfile.ZipFile(bad, "w") as dst:
            for item in src.infolist():
                data = src.read(item)
                dst.writestr(item, b"<workbook><<<" if item.filename == "xl/workbook.xml" else data)
    code, err, summary, problems = report(capsys, tmp_path, folder)
    assert code == 1
    hit = [p for p in problems if p["文件"] == "broken.xlsx"]
    assert len(hit) == 1 and hit[0]["级别"] == "错误", problems
    assert "broken.xlsx" in err
    assert set(summary) == set(BAD_ROSTER["employee_id"])


def test_typed_over_total_is_flagged_and_the_engine_total_used(tmp_path, good_book, capsys):
    path = copy_book(good_book, tmp_path)
    wb = openpyxl.load_workbook(path)
    ws, names = sheet_and_names(wb, "T2")
    ws[names["KPI_TOTAL"]] = 99.5
    wb.save(path)
    code, err, summary, problems = report(capsys, tmp_path, path)
    assert code == 1  # the changed formula is an error
    where = (path.name, ws.title, names["KPI_TOTAL"])
    codes = {p["代码"] for p in problems if (p["文件"], p["工作表"], p["单元格"]) == where}
    assert codes == {"cached-mismatch", "formula-changed"}
    mismatch = next(p for p in problems if p["代码"] == "cached-mismatch")
    assert "99.5" in mismatch["说明"] and str(good_book["totals"]["T2"]) in mismatch["说明"]
    assert summary["T2"]["总分"] == good_book["totals"]["T2"] != 99.5
    assert len([p for p in problems if p["代码"] == "cached-mismatch"]) == 1  # nothing else flagged


def test_fresh_workbook_is_not_flagged_as_tampered(tmp_path, catalog, capsys):
    """A generated workbook never opened in a spreadsheet carries placeholder cached values."""
    book = tmp_path / "fresh.xlsx"
    build_workbook(catalog, BAD_ROSTER, MONTH, book)
    code, err, summary, problems = report(capsys, tmp_path, book)
    assert code == 0, err
    assert [p for p in problems if p["代码"] == "cached-mismatch"] == []
    assert {r["状态"] for r in summary.values()} == {"未完成"}


# --- output safety ---------------------------------------------------------------------------


def test_existing_report_needs_force(tmp_path, good_book, capsys):
    path = copy_book(good_book, tmp_path)
    before = digest(path)
    out = tmp_path / "report.xlsx"
    out.write_bytes(b"keep me")
    code, _, err = run(capsys, "report", path, "--out", out)
    assert code == 2 and "--force" in err and out.read_bytes() == b"keep me"
    code, _, err = run(capsys, "report", path, "--out", out, "--force")
    assert code == 0 and zipfile.is_zipfile(out)
    assert digest(path) == before


def test_report_never_replaces_a_scorecard_workbook(tmp_path, good_book, capsys):
    path = copy_book(good_book, tmp_path)
    before = digest(path)
    code, _, err = run(capsys, "report", path, "--out", path, "--force")
    assert code == 2 and "output-is-input" in err
    assert digest(path) == before
    code, _, err = run(capsys, "report", path, "--out", tmp_path / "r.xlsx", "--history", path)
    assert code == 2 and digest(path) == before


def test_report_of_a_folder_skips_its_own_output(tmp_path, good_book, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    path = copy_book(good_book, folder)
    before = digest(path)
    out = folder / "report.xlsx"
    for force in ([], ["--force"]):
        code, _, err = run(capsys, "report", folder, "--out", out, *force)
        assert code == 0, err
    assert digest(path) == before
    assert len(sheet_rows(out, "月度汇总")) == len(BAD_ROSTER)


# --- the demo -------------------------------------------------------------------------------


def test_demo_runs_and_writes_what_it_lists(demo_run, capsys):
    code, stdout, err, out = demo_run  # the session's demo run (conftest.py)
    assert code == 0, err
    listed = [Path(line.strip()) for line in stdout.split("files written:")[1].splitlines() if line.strip()]
    assert len(listed) >= 5
    for path in listed:
        assert path.is_file() and path.stat().st_size > 0, path
    assert any(p.name == "payroll.csv" for p in listed) and any(p.name == "history.xlsx" for p in listed)
    code, _, err = run(capsys, "demo", "--out", out)  # not empty: refused without --force
    assert code == 2 and "--force" in err
