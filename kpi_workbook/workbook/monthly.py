"""Generate monthly report": read, recompute, add history warnings, write — one call.

The function behind `kpi-workbook report` and the Excel button alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import Diagnostic, KpiError, error
from ..rules.loader import Catalog
from .files import refuse_existing
from .history import merge_month, month_rows, read_history, streak_warnings, write_history
from .report import ReportData, build_report, collect_books
from .report_writer import write_report


@dataclass
class ReportResult:
    data: ReportData
    out: Path
    history: Path | None

    @property
    def findings(self) -> list[Diagnostic]:
        return self.data.findings

    def summary_line(self) -> str:
        s = self.data.summary
        n = len(s)
        done = int((s["状态"] == "已完成").sum()) if n else 0
        payout = float(s["应发绩效合计"].fillna(0).sum()) if n else 0.0
        return (f"{self.out}\t{self.data.month}：{n} 人，已完成 {done}，未完成 {n - done}，问题 "
                f"{len(self.findings)}，应发合计 ¥{payout:,.2f} / {n} employees, {done} complete, "
                f"{len(self.findings)} findings")


def run_report(catalog: Catalog, inputs: list[Path], out: Path, history: Path | None = None,
               month: str | None = None, force: bool = False) -> ReportResult:
    refuse_existing(out, force)
    books = collect_books(inputs, exclude=[out, history])
    if not books:
        raise KpiError([error("no-books", "没有找到考核表工作簿（.xlsx）", "no scorecard workbooks (.xlsx) found")])
    data = build_report(catalog, books, month)
    if len(data.summary):
        past = read_history(history)
        merged = merge_month(past, month_rows(catalog, data.summary))
        warnings = streak_warnings(catalog, merged, data.month)
        data.summary["预警"] = data.summary["工号"].map(lambda e: "；".join(warnings.get(str(e), [])))
        if history is not None:
            write_history(history, merged)
    write_report(catalog, data, out, force=force)
    return ReportResult(data, out, history)
