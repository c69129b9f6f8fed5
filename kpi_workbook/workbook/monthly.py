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
from .report import ReportData, _resolved, build_report, collect_books
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
    out = Path(out)
    refuse_existing(out, force)
    _refuse_overwriting_inputs(inputs, out, history)
    past = read_history(history)  # a file that is not a history is refused before any work
    books = collect_books(inputs, exclude=[out, history])
    if not books:
        raise KpiError([error("no-books", "没有找到考核表工作簿（.xlsx）", "no scorecard workbooks (.xlsx) found")])
    data = build_report(catalog, books, month)
    merged = None
    if len(data.summary):
        merged = merge_month(past, month_rows(catalog, data.summary, data.month), data.month)
        warnings = streak_warnings(catalog, merged, data.month)
        data.summary["预警"] = data.summary["工号"].map(lambda e: "；".join(warnings.get(str(e), [])))
    write_report(catalog, data, out, force=force)
    if history is not None and merged is not None:
        write_history(history, merged)  # after the report: a failed report leaves history alone
    return ReportResult(data, out, history)


def _refuse_overwriting_inputs(inputs: list[Path], out: Path, history: Path | None) -> None:
    """The report and the history never replace a scorecard workbook named as input."""
    named = {_resolved(Path(p)) for p in inputs if not Path(p).is_dir()}
    for target, what in ((out, "报表 / report"), (history, "历史 / history")):
        if target is not None and _resolved(Path(target)) in named:
            raise KpiError([error("output-is-input", f"{what} 输出文件 {target} 同时是输入的考核表，拒绝覆盖",
                                  f"the {what.split(' / ')[1]} output {target} is also an input scorecard "
                                  "workbook: refused", source=str(target))])
    if out is not None and history is not None and _resolved(Path(out)) == _resolved(Path(history)):
        raise KpiError([error("output-is-history", f"--out 与 --history 是同一个文件：{out}",
                              f"--out and --history are the same file: {out}", source=str(out))])
