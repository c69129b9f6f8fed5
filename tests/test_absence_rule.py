"""S9's absence rule, as data in the template (`exclude_if`): a roster 缺岗月数 above 2 makes
the card 不参与 — not graded or paid by the role's rules, no top-scorer award, no fail
penalty, left out of ranks and of the lowest-in-department and streak counts, listed in the
report as 不参与 with the reason. Checked in a department with a top-scorer award (S9 ¥200)."""

from __future__ import annotations

import re

import openpyxl
import pandas as pd

from kpi_workbook.cli import main
from kpi_workbook.workbook.scorecard.build import build_workbook
from kpi_workbook.workbook.scorecard.fill import fill_workbooks
from kpi_workbook.workbook.libreoffice import read_defined_values, recalculate
from kpi_workbook.workbook.scorecard.validate import validate_books

from .helpers import emp
from .lo_fixtures import soffice  # noqa: F401

ROLE = "taobao_cs_staff"
RATED = ("assigned_tasks", "discipline", "problem_handling", "coordination", "passion")

# (sales rate, tasks points, discipline, problem handling, coordination, passion), the same
# for 自评 and 主管, so each item is its level's points (0.4 x + 0.6 x = x)
CARDS = {
    # 30 + 20 + 10 + 20 + 10 + 10 = 100 → 卓越: would win the ¥200, but is absent 3 months
    "T3": (1.0, 20, "无违纪", "独立处事", "通报表扬", "激情感染"),
    # 27 + 16 + 6 + 15 + 8 + 8 = 80 → 良好: the top of those taking part → ¥200
    "T1": (0.9, 16, "迟到早退1-3次", "一般", "主管表扬", "良好"),
    # 15 + 12 + 3 + 10 + 6 + 5 = 51 → 不及格 (−¥200); absent exactly 2 months: takes part
    "T4": (0.5, 12, "口头批评", "较差", "积极合作", "一般"),
    # 9 + 10 + 0 + 5 + 4 + 5 = 33 → 不及格: the lowest of those taking part
    "T2": (0.3, 10, "通报批评", "差", "必要合作", "一般"),
    # 3 + 0 + 0 + 0 + 0 + 0 = 3 → would be 不及格 and the lowest, but is absent 4 months
    "T5": (0.1, 0, "通报批评", "很差", "拒绝帮助", "缺乏激情"),
}
ABSENT = {"T3": 3, "T4": 2, "T5": 4}


def roster() -> pd.DataFrame:
    people = []
    for eid in CARDS:
        e = emp(eid, f"员工{eid}", "电商部", ROLE)
        e["months_absent"] = ABSENT.get(eid, float("nan"))
        people.append(e)
    people.append({**emp("T6", "员工T6", "电商部", ROLE), "months_absent": 5})  # absent, empty card
    return pd.DataFrame(people)


def rows() -> list[tuple]:
    out = []
    for eid, (rate, tasks, *levels) in CARDS.items():
        out.append((eid, "sales_completion.rate", None, rate))
        for rater in ("self", "supervisor"):
            out.append((eid, "assigned_tasks.points", rater, tasks))
            for item, level in zip(RATED[1:], levels):
                out.append((eid, f"{item}.level", rater, level))
    return out


def month_book(catalog, folder, month: str):
    book = folder / f"{month}.xlsx"
    build_workbook(catalog, roster(), month, book)
    result = fill_workbooks(catalog, [book], rows())
    assert [d for d in result.diagnostics if d.severity == "error"] == []
    return book


def summary(path) -> dict[str, dict]:
    sheet = list(openpyxl.load_workbook(path)["月度汇总"].iter_rows(values_only=True))
    return {r[0]: dict(zip(sheet[0], r)) for r in sheet[1:] if r[0] is not None}


def test_absent_staff_take_no_part(catalog, tmp_path, capsys):
    history = tmp_path / "history.xlsx"
    for month in ("2026-09", "2026-10"):
        out = tmp_path / f"report-{month}.xlsx"
        code = main(["report", str(month_book(catalog, tmp_path, month)), "--out", str(out),
                     "--history", str(history)])
        assert code in (0, 1)
    # 6 people: T1, T4, T2 complete; T3, T5, T6 不参与; nobody 未完成
    assert "6 人，已完成 3，未完成 0，错误 0，不参与 3" in capsys.readouterr().out
    s = summary(out)
    assert [s[e]["总分"] for e in CARDS] == [100.0, 80.0, 51.0, 33.0, 3.0]
    for eid in ("T3", "T5", "T6"):
        assert s[eid]["状态"] == "不参与", eid
        assert s[eid]["等级"] is None and s[eid]["应发绩效合计"] is None
        assert s[eid]["部门排名"] is None and s[eid]["全员排名"] is None
        assert s[eid]["部门第一奖励"] is None and s[eid]["不及格罚款"] is None
        assert s[eid]["全勤奖"] is None
        assert "不参与：缺岗月数" in s[eid]["说明"] and "未到岗累计超过2个月" in s[eid]["说明"]
        assert "months absent" in s[eid]["说明"]
        # no lowest-score or 不及格 streak: 预警 shows (on paper too) only why it takes no part
        assert re.fullmatch(r"不参与：缺岗月数 \d+ > 2", s[eid]["预警"])
    assert "缺岗月数 3 > 2" in s["T3"]["说明"]
    # T1 (80, 良好) is the top of those taking part: ¥200 + 全勤 ¥50 = ¥250
    assert s["T1"]["状态"] == "已完成" and s["T1"]["等级"] == "良好"
    assert s["T1"]["部门第一奖励"] == 200.0 and s["T1"]["应发绩效合计"] == 250.0
    # T4 absent exactly 2 months takes part: 不及格 → −¥200 + ¥50 = −¥150
    assert s["T4"]["状态"] == "已完成" and s["T4"]["应发绩效合计"] == -150.0
    # ranks over T1, T4, T2 only
    assert [s[e]["部门排名"] for e in ("T1", "T4", "T2")] == [1, 2, 3]
    # T2 is the department's lowest two months running (T5's 3 does not count)
    assert "连续2个月部门最低分" in s["T2"]["预警"]
    assert "连续2个月部门最低分" not in (s["T4"]["预警"] or "")
    # 不参与 is not 未完成
    pending = list(openpyxl.load_workbook(out)["未完成"].iter_rows(values_only=True))[1:]
    assert [r[0] for r in pending if r[0]] == []
    wb = openpyxl.load_workbook(history)  # 历史 is kept one sheet per month: 历史 2026-09, 历史 2026-10
    sheets = [list(wb[name].iter_rows(values_only=True)) for name in wb.sheetnames if name.startswith("历史 ")]
    header = sheets[0][0]
    hist = [header] + [r for rows in sheets for r in rows[1:]]
    lowest = {(r[0], r[4]): r[header.index("部门最低")] for r in hist[1:]}
    assert lowest[("T5", "2026-10")] is False and lowest[("T2", "2026-10")] is True


def test_validate_asks_nothing_of_an_absent_card(catalog, tmp_path):
    book = month_book(catalog, tmp_path, "2026-10")
    found = validate_books(catalog, [book])
    assert not [d for d in found if "T6" in (d.sheet or "")], found


def test_the_sheet_itself_shows_not_taking_part(catalog, tmp_path, soffice):  # noqa: F811
    (recalculated,) = recalculate([month_book(catalog, tmp_path, "2026-10")], tmp_path / "lo")
    names = {v["KPI_EMPLOYEE_ID"]: v for v in read_defined_values(recalculated).values()
             if "KPI_EMPLOYEE_ID" in v}
    for eid in ("T3", "T5", "T6"):
        assert names[eid]["KPI_STATUS"] == "不参与", eid
        assert names[eid]["KPI_GRADE"] in (None, "") and names[eid]["KPI_PAY"] in (None, "")
    assert names["T3"]["KPI_MONTHS_ABSENT"] == 3
    assert names["T4"]["KPI_STATUS"] == "完成" and names["T4"]["KPI_GRADE"] == "不及格"
    # on the sheet the top-scorer award is the report's (0): 全勤 50 − 罚款 200 = −150
    assert names["T4"]["KPI_PAY"] == -150.0


def test_one_card_through_the_api(score):
    inputs = {"sales_completion": 1.0, "assigned_tasks": {"self": 20, "supervisor": 20}}
    r = score(ROLE, inputs, {"缺岗月数": 3})
    assert r["status"] == "excluded" and r["grade"] is None and r["pay"]["total"] is None
    assert r["missing"] == []  # nothing is required of it
    assert any("缺岗月数 3 > 2" in w for w in r["warnings"])
    assert score(ROLE, inputs, {"缺岗月数": 2})["status"] == "incomplete"  # 2 is not above 2


def test_the_roster_column(catalog, tmp_path):
    from kpi_workbook.diagnostics import KpiError
    from kpi_workbook.workbook.scorecard.roster import read_roster

    sample = read_roster(catalog)
    assert sample.set_index("employee_id").loc["E013", "months_absent"] == 3.0
    path = tmp_path / "roster.csv"
    path.write_text("工号,姓名,部门,岗位,基本工资,months_absent\nA1,甲,电商部,taobao_cs_staff,4000,三\n",
                    encoding="utf-8")
    try:
        read_roster(catalog, path)
    except KpiError as exc:
        text = str(exc)
    else:
        raise AssertionError("a months_absent that is not a number must be refused")
    assert "第 2 行" in text and "缺岗月数" in text


def test_worksheet_function_shows_not_taking_part():
    from kpi_workbook.excel import functions as F

    keys = [["缺岗月数", "sales_completion.rate", "assigned_tasks.points.self",
             "assigned_tasks.points.supervisor"]]
    got = F.kpi_score(ROLE, keys, [[3, 1.0, 20, 20], [None, 1.0, 20, 20]])
    assert got[0][3] == "不参与" and got[0][1] is None and got[0][2] is None
    assert got[1][3] == "未完成"  # not absent: the rated items are still empty
    text = F.kpi_explain(ROLE, keys, [[3, 1.0, 20, 20]])[0][0]
    assert "不参与" in text


def test_rank_items_leave_out_who_does_not_take_part(tmp_path):
    """With an exclude_if on a role with a rank item (S10's 销售额占团队比, in a copied
    catalog), `fill` and the engine both rank the department without the absent card."""
    import shutil

    from kpi_workbook.engine.month import derive_ranks
    from kpi_workbook.rules.loader import builtin_templates_dir, load_catalog
    from kpi_workbook.workbook.scorecard.editable import open_editable

    root = tmp_path / "templates"
    shutil.copytree(builtin_templates_dir(), root)
    path = root / "roles" / "ecommerce_presales_cs.yaml"
    path.write_text(path.read_text(encoding="utf-8") + (
        "exclude_if:\n  - {field: months_absent, above: 2, reason: 缺岗超过2个月}\n"),
        encoding="utf-8")
    catalog = load_catalog(root)
    role = catalog.roles["ecommerce_presales_cs"]
    people = [{**emp(e, e, "电商部", role.id), "months_absent": m}
              for e, m in (("R1", 3), ("R2", float("nan")), ("R3", 0))]
    book = tmp_path / "book.xlsx"
    build_workbook(catalog, pd.DataFrame(people), "2026-10", book)
    # R1 has the best share but is absent: R2 (0.3) is first of two, R3 (0.2) second
    fill_workbooks(catalog, [book], [("R1", "sales_share.share", None, 0.5),
                                     ("R2", "sales_share.share", None, 0.3),
                                     ("R3", "sales_share.share", None, 0.2)])
    opened = open_editable(book)
    written = {}
    for card in opened.scorecards():
        ranks = [opened.get(card.sheet, card.names[f"KPI_IN_sales_share__{i}"])
                 for i in ("rank", "team_size")]
        written[card.employee_id] = ranks
    assert written["R2"] == [1, 2] and written["R3"] == [2, 2]
    values = derive_ranks(catalog, role, pd.DataFrame(people),
                          {"sales_share.share": [0.5, 0.3, 0.2]})
    assert list(values["sales_share.rank"][1:]) == [1, 2]
    assert list(values["sales_share.team_size"][1:]) == [2, 2]
