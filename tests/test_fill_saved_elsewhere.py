"""fill and report on a workbook that another spreadsheet program has saved.

Supervisors open the scorecards in Excel, WPS or LibreOffice and save them; the file that
comes back is serialised differently (shared strings, other attributes, cached values).
Here LibreOffice re-saves a built workbook, fill writes into it, LibreOffice recalculates,
and the totals are the engine's.
"""

import pandas as pd

from kpi_workbook.engine.api import score_card
from kpi_workbook.workbook.scorecard.build import build_workbook
from kpi_workbook.workbook.scorecard.fill import fill_workbooks
from kpi_workbook.workbook.libreoffice import read_defined_values, recalculate
from kpi_workbook.workbook.month.report import build_report

from .helpers import emp
from .lo_fixtures import soffice  # noqa: F401

INPUTS = {"Q1": {"miss_detection": 2, "daily_inspection.late": 3},
          "S1": {"inquiry_conversion": "36%", "payment_rate": 0.95, "refund_rate": 0.2,
                 "response_time": 25, "answer_ratio": 1, "reply_rate": 0.99, "work_skills": 80}}


def test_fill_and_report_on_a_book_libreoffice_saved(tmp_path, catalog, soffice):  # noqa: F811
    roster = pd.DataFrame([emp("Q1", "王芳", "品质部", "qc_inspector"),
                           emp("S1", "李强", "电商部", "presales_cs_weighted")])
    built = tmp_path / "built" / "book.xlsx"
    build_workbook(catalog, roster, "2026-10", built)
    (saved,) = recalculate([built], tmp_path / "saved")  # LibreOffice's own serialisation
    rows = [(e, k, None, v) for e, card in INPUTS.items() for k, v in card.items()]
    assert fill_workbooks(catalog, [saved], rows).diagnostics == []
    (after,) = recalculate([saved], tmp_path / "after")
    totals = {names["KPI_EMPLOYEE_ID"]: names["KPI_TOTAL"]
              for names in read_defined_values(after).values() if "KPI_EMPLOYEE_ID" in names}
    expected = {e: score_card(catalog, r, {"inputs": INPUTS[e]})["total"]
                for e, r in (("Q1", "qc_inspector"), ("S1", "presales_cs_weighted"))}
    assert totals == expected
    data = build_report(catalog, [after])
    assert dict(zip(data.summary["工号"], data.summary["总分"])) == expected
    assert [f for f in data.findings if f.severity == "error"] == []
