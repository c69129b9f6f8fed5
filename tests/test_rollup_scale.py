"""The roll-up on a generated history of a few hundred people over several months (issue
24: it groups once instead of filtering per employee), compared with an independent
computation in plain Python: every employee's months, average, lowest, grade counts, pay,
rank in the department and period rating, and every department's row."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from kpi_workbook.rules.loader import builtin_catalog
from kpi_workbook.workbook.month.history import COLUMNS, write_history
from kpi_workbook.workbook.month.rollup import build_rollup, parse_period

ROLES = {"qc_inspector": "grade_a_e", "taobao_cs_staff": "grade_5_level", "tech_support_lead": "grade_4_level"}


def _history(rng: random.Random, people: int, months: list[str]) -> list[dict]:
    catalog = builtin_catalog()
    rows = []
    staff = [(f"E{k:04d}", rng.choice(list(ROLES)), f"部门{rng.randrange(7)}") for k in range(people)]
    for month in months:
        for eid, role, dept in staff:
            if rng.random() < 0.1:
                continue  # not on the books that month
            grades = catalog.grade_schemes[ROLES[role]].grades()
            done = rng.random() < 0.85
            total = round(rng.uniform(30, 100), 1)
            rows.append({"工号": eid, "姓名": f"名{eid}", "部门": dept if rng.random() < 0.95 else "部门X",
                         "岗位ID": role, "月份": month, "总分": total,
                         "等级": rng.choice(grades) if done else None, "状态": "已完成" if done else "未完成",
                         "部门最低": False,
                         "应发绩效合计": round(rng.uniform(0, 900), 2) if done and rng.random() < 0.9 else None})
    return rows


def _round(value, places: int) -> float:
    """Half away from zero on the exact decimal value (the totals and pay are decimals)."""
    return float(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _sum(values) -> Decimal:
    return sum((Decimal(repr(v)) for v in values), Decimal(0))


def _expected(rows: list[dict], months: tuple[str, ...]):
    catalog = builtin_catalog()
    last: dict[tuple[str, str], dict] = {}
    for r in rows:  # the last row of an employee-month counts
        last[(r["工号"], r["月份"])] = r
    mine = [r for r in sorted(last.values(), key=lambda r: (r["月份"], rows.index(r))) if r["月份"] in months]
    people: dict[str, dict[str, list]] = {}
    for r in mine:
        people.setdefault(ROLES[r["岗位ID"]], {}).setdefault(r["工号"], []).append(r)
    out = {}
    for scheme_id, staff in people.items():
        scheme = catalog.grade_schemes[scheme_id]
        table = {}
        for eid, its in staff.items():
            ok = [r for r in its if r["状态"] == "已完成"]
            totals = [r["总分"] for r in ok]
            grades = [r["等级"] for r in ok]
            average = _round(_sum(totals) / len(totals), 1) if totals else None
            rating = None
            if totals:
                rating = next(t.grade for t in scheme.tiers if t.min is None or average >= t.min)
                for d in scheme.period_rating.demote:
                    if grades.count(d.grade) >= d.months:
                        rating = d.to
            pays = [r["应发绩效合计"] for r in ok if r["应发绩效合计"] is not None]
            table[eid] = {"部门": its[-1]["部门"], "月数": len(ok), "平均分": average,
                          "最低分": min(totals) if totals else None,
                          **{g: grades.count(g) for g in scheme.grades()},
                          "应发合计": _round(_sum(pays), 2) if pays else None, "评定": rating}
        for eid, row in table.items():  # rank in the department by average, ties share the lowest
            if row["平均分"] is None:
                row["部门排名"] = None
                continue
            row["部门排名"] = 1 + sum(1 for o in table.values() if o["部门"] == row["部门"]
                                   and o["平均分"] is not None and o["平均分"] > row["平均分"])
        depts = {}
        for r in staff.values():
            for x in r:
                d = depts.setdefault(x["部门"], {"people": set(), "ok": []})
                d["people"].add(x["工号"])
                if x["状态"] == "已完成":
                    d["ok"].append(x)
        out[scheme_id] = (table, {k: {"人数": len(v["people"]), "人月": len(v["ok"]),
                                      "应发合计": _round(_sum(x["应发绩效合计"] for x in v["ok"]
                                                          if x["应发绩效合计"] is not None), 2)
                                      if any(x["应发绩效合计"] is not None for x in v["ok"]) else None,
                                      "最低分": min((x["总分"] for x in v["ok"]), default=None)}
                                  for k, v in depts.items()})
    return out


def test_rollup_of_a_generated_history_matches_an_independent_count(tmp_path):
    rng = random.Random(24)
    rows = _history(rng, 300, ["2026-09", "2026-10", "2026-11", "2026-12"])
    rows += [dict(r, 总分=99.0, 等级="A", 应发绩效合计=123.45) for r in rows[:40]
             if r["岗位ID"] == "qc_inspector" and r["状态"] == "已完成"]  # a second version: it counts
    path = tmp_path / "history.xlsx"
    write_history(path, pd.DataFrame(rows, columns=COLUMNS))
    period = parse_period(quarter="2026Q4")
    data = build_rollup(builtin_catalog(), path, period)
    expected = _expected(rows, period.months)
    assert set(data.employees) == set(expected)
    for scheme_id, (table, depts) in expected.items():
        got = data.employees[scheme_id].set_index("工号")
        assert set(got.index) == set(table)
        for eid, want in table.items():
            row = got.loc[eid]
            for column, value in want.items():
                have = row[period.rating_column if column == "评定" else column]
                if value is None:
                    assert have is None or pd.isna(have), (eid, column, have)
                else:
                    assert have == value, (eid, column, have, value)
        got_depts = data.departments[scheme_id].set_index("部门")
        assert set(got_depts.index) == set(depts)
        for dept, want in depts.items():
            for column, value in want.items():
                have = got_depts.loc[dept, column]
                assert (pd.isna(have) if value is None else have == value), (dept, column, have, value)
