"""Issue 20: a yes/no cell reads alike on the sheet and in the engine — 是/否, 有/无, Y/N, 1/0,
√/✓ and ×/✗ are answers; "x", a number, TRUE or a look-alike makes the card 错误 with the
cell named — and a team-pay cell of a scorecard shows 见月度报表, never a ¥0.

One book of qc_event_ledger cards (the flag 当月品质管控良好 is worth 20 points) and
taobao_cs_staff cards (全勤, the roster's yes/no field, pays 全勤奖 ¥50), each holding one
spelling, recalculated by LibreOffice, Gnumeric and ``formulas``; every card's status, total
and pay must be what the engine (the report) makes of it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kpi_workbook.rules.loader import builtin_catalog
from kpi_workbook.sample import sample_inputs
from kpi_workbook.workbook import recalc
from kpi_workbook.workbook.month.report import build_report
from kpi_workbook.workbook.scorecard.build import build_workbook
from kpi_workbook.workbook.scorecard.editable import OpenpyxlBook
from kpi_workbook.workbook.scorecard.fill import fill_workbooks
from kpi_workbook.workbook.scorecard.layout import sheet_layout

from . import background
from .engines import ENGINES, require_engines
from .helpers import emp

CATALOG = builtin_catalog()
MONTH = "2026-10"
ANSWERS = {"是": True, "有": True, "Y": True, "y": True, "1": True, "√": True, "✓": True,
           "否": False, "无": False, "N": False, "n": False, "0": False, "×": False, "✗": False}
WRONG = ["x", "X", "对", "是的", " 是", 1.0, True]  # look-alikes, a number, a logical
STATUS = {"完成": "已完成", "未完成": "未完成", "错误": "错误"}


def _spellings() -> list:
    return list(ANSWERS) + WRONG


def _build(root: Path) -> dict:
    spellings = _spellings()
    ledger = [emp(f"L{i:02d}", f"检{i}", "品质部", "qc_event_ledger") for i in range(len(spellings))]
    taobao = [emp(f"T{i:02d}", f"淘{i}", f"淘宝{i}部", "taobao_cs_staff") for i in range(len(spellings))]
    roster = pd.DataFrame(ledger + taobao)
    book = root / "flags.xlsx"
    build_workbook(CATALOG, roster, MONTH, book)
    sample = [r for r in sample_inputs(CATALOG, roster, MONTH).itertuples(index=False, name=None)
              if r[0] == "T00"]
    sample.append(("L00", "execution.points", None, 10))  # the ledger's one required input: 100 ± events
    rows = [(f"{r[0][0]}{i:02d}", *r[1:]) for r in sample for i in range(len(spellings))]  # alike
    assert [d for d in fill_workbooks(CATALOG, [book], rows).diagnostics if d.severity == "error"] == []
    edited = OpenpyxlBook(book)  # openpyxl: a logical is written as one (t="b")
    cells = {}
    for card in edited.scorecards():
        eid = card.employee_id
        name = (next(n for n in card.names if n.endswith("__good_month")) if eid.startswith("L")
                else "KPI_FULL_ATTENDANCE")
        cells[eid] = (card.sheet, card.names[name])
        edited.set(card.sheet, card.names[name], spellings[int(eid[1:])])
    edited.save(book)
    return {"book": book, "cells": cells, "names": recalc.defined_cells(book),
            "values": recalc.recalculate_all(book, root / "recalculated")}


background.job("yes-no")(_build)


@pytest.fixture(scope="module")
def flags(tmp_path_factory):
    require_engines()
    return background.result("yes-no", tmp_path_factory)


@pytest.fixture(scope="module")
def engine(flags):
    data = build_report(CATALOG, [flags["book"]])
    return {r["工号"]: r for r in data.summary.to_dict("records")}, data.findings


def test_the_engine_takes_every_answer_and_names_every_other_cell(flags, engine):
    rows, findings = engine
    spellings = _spellings()
    for eid, (sheet, ref) in flags["cells"].items():
        spelled = spellings[int(eid[1:])]
        named = [d for d in findings if d.sheet == sheet and d.cell == ref and d.severity == "error"]
        if isinstance(spelled, str) and spelled in ANSWERS:
            assert rows[eid]["状态"] == "已完成" and not named, (eid, spelled, named)
        else:
            assert rows[eid]["状态"] == "错误" and named, (eid, spelled)
            assert "√/✓" in named[0].message_zh
    # the flag's worth: 当月品质管控良好 +20 on the ledger, 全勤奖 ¥50 on the taobao card
    yes, no = spellings.index("有"), spellings.index("无")
    assert rows[f"L{yes:02d}"]["总分"] == rows[f"L{no:02d}"]["总分"] + 20
    assert (rows[f"T{yes:02d}"]["全勤奖"], rows[f"T{no:02d}"]["全勤奖"]) == (50, 0)


@pytest.mark.parametrize("name", ENGINES)
def test_every_engine_reads_the_cells_as_the_engine_does(flags, engine, name):
    rows, _ = engine
    values, names = flags["values"][name], flags["names"]
    wrong = []
    for eid, (sheet, _) in flags["cells"].items():
        shown = {k: recalc.lookup(values, sheet, names[sheet][k]) for k in ("KPI_STATUS", "KPI_TOTAL")}
        want = rows[eid]
        status = STATUS.get(str(shown["KPI_STATUS"]), shown["KPI_STATUS"])
        if status != want["状态"] or (status == "已完成" and shown["KPI_TOTAL"] != pytest.approx(want["总分"])):
            wrong.append((eid, shown, want["状态"], want["总分"]))
        if eid.startswith("T") and status == "已完成":
            layout = sheet_layout(CATALOG, CATALOG.roles["taobao_cs_staff"])
            award = recalc.lookup(values, sheet, layout.footer_cell("pay.award_full_attendance"))
            team = recalc.lookup(values, sheet, layout.footer_cell("pay.award_top_scorer"))
            if award != pytest.approx(want["全勤奖"]) or team != "见月度报表":
                wrong.append((eid, "pay", award, want["全勤奖"], team))
    assert not wrong, "\n".join(map(str, wrong))
