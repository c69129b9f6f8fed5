"""`kpi-workbook payroll`: the bonus columns for finance, from a report's 月度汇总.

CSV is UTF-8 with a BOM so that Excel in China opens it correctly, and any text that a
spreadsheet would take as a formula (starting with =, +, -, @, tab or carriage return) is
neutralised with a leading apostrophe (formula injection).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from ..diagnostics import KpiError, error
from .files import atomic_output
from .reader import sheet_values
from .report_writer import SUMMARY, SUMMARY_HEAD, SUMMARY_TAIL

ID_COLUMNS = ["工号", "姓名", "部门", "月份"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Text that a spreadsheet would run as a formula, made inert."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def read_payroll(report: Path) -> pd.DataFrame:
    rows = sheet_values(Path(report), SUMMARY)
    if rows is None:
        raise KpiError([error("not-a-report", f"{Path(report).name} 没有“{SUMMARY}”工作表，不是月度报表",
                              f"{Path(report).name} has no {SUMMARY} sheet: not a monthly report",
                              source=str(report))])
    header = [str(c).strip() if c is not None else "" for c in rows[0]] if rows else []
    missing = [c for c in ID_COLUMNS + ["应发绩效合计"] if c not in header]
    if missing:
        raise KpiError([error("not-a-report", f"{Path(report).name} 的“{SUMMARY}”缺少列：{'、'.join(missing)}",
                              f"{SUMMARY} of {Path(report).name} lacks columns: {', '.join(missing)}",
                              source=str(report), sheet=SUMMARY)])
    frame = pd.DataFrame(rows[1:], columns=header)
    keep = frame["工号"].map(lambda v: v is not None and str(v).strip() != "").astype(bool)
    frame = frame.loc[keep]
    money = [c for c in header if c and c not in SUMMARY_HEAD and c not in SUMMARY_TAIL] + ["应发绩效合计"]
    out = frame[ID_COLUMNS + money].copy()
    for c in ID_COLUMNS:
        out[c] = out[c].map(lambda v: "" if v is None else str(v))
    for c in money:
        out[c] = pd.to_numeric(out[c], errors="coerce").fillna(0.0).round(2)
    out["状态"] = frame["状态"] if "状态" in frame else ""
    return out.reset_index(drop=True)


def write_payroll(frame: pd.DataFrame, out: Path, force: bool = False) -> None:
    out = Path(out)
    kind = out.suffix.lower()
    if kind not in (".csv", ".xlsx"):
        raise KpiError([error("bad-format", f"输出须为 .csv 或 .xlsx：{out}",
                              f"output must be .csv or .xlsx: {out}", source=str(out))])
    safe = frame.map(neutralise)
    safe.columns = [neutralise(c) for c in safe.columns]
    with atomic_output(out, force=force) as tmp:
        if kind == ".csv":
            # CRLF rows, as Excel writes them: a CR or LF inside a field is then quoted and
            # cannot break a row apart
            safe.to_csv(tmp, index=False, encoding="utf-8-sig", quoting=csv.QUOTE_MINIMAL,
                        lineterminator="\r\n")
        else:
            # every text cell is written as a string, never a formula or a link; the
            # apostrophe keeps both exports identical.
            with pd.ExcelWriter(tmp, engine="xlsxwriter",
                                engine_kwargs={"options": {"strings_to_formulas": False,
                                                           "strings_to_urls": False,
                                                           "strings_to_numbers": False}}) as writer:
                safe.to_excel(writer, index=False, sheet_name="工资表")
