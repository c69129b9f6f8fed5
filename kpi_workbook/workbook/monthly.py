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

    def to_dict(self) -> dict:
        """What `report --json` prints: the summary rows (public columns), the findings."""
        import math

        s = self.data.summary
        rows = []
        for r in (s.to_dict("records") if len(s) else []):
            rows.append({k: (None if isinstance(v, float) and math.isnan(v) else v)
                         for k, v in r.items() if not str(k).startswith("_")})
        return {"out": str(self.out), "history": str(self.history) if self.history else None,
                "month": self.data.month, "money_columns": list(self.data.money_columns),
                "summary": rows, "diagnostics": [d.to_dict() for d in self.findings]}

    def summary_line(self) -> str:
        s = self.data.summary
        n = len(s)
        done = int((s["状态"] == "已完成").sum()) if n else 0
        payout = float(s["应发绩效合计"].fillna(0).sum()) if n else 0.0
        return (f"{self.out}\t{self.data.month}：{n} 人，已完成 {done}，未完成 {n - done}，问题 "
                f"{len(self.findings)}，应发合计 ¥{payout:,.2f} / {n} employees, {done} complete, "
                f"{len(self.findings)} findings")


def run_report(catalog: Catalog, inputs: list[Path], out: Path, history: Path | None = None,
               month: str | None = None, force: bool = False, company: str = "",
               step=None) -> ReportResult:
    out = Path(out)
    refuse_existing(out, force)
    _refuse_overwriting_inputs(inputs, out, history)
    past = read_history(history)  # a file that is not a history is refused before any work
    books = collect_books(inputs, exclude=[out, history])
    if not books:
        raise KpiError([error("no-books", "没有找到考核表工作簿（.xlsx）", "no scorecard workbooks (.xlsx) found")])
    if step is not None:  # a progress bar's callback (cli)
        step(1, f"读取 {len(books)} 个工作簿 / reading {len(books)} workbooks")
    data = build_report(catalog, books, month)
    if step is not None:
        step(1, f"写报表 / writing {out.name}")
    merged = None
    if len(data.summary):
        merged = merge_month(past, month_rows(catalog, data.summary, data.month), data.month)
        warnings = streak_warnings(catalog, merged, data.month)
        data.summary["预警"] = data.summary["工号"].map(lambda e: "；".join(warnings.get(str(e), [])))
    write_report(catalog, data, out, force=force, company=company)
    if history is not None and merged is not None:
        write_history(history, merged)  # after the report: a failed report leaves history alone
    return ReportResult(data, out, history)


def _refuse_overwriting_inputs(inputs: list[Path], out: Path, history: Path | None) -> None:
    """The report and the history never replace a scorecard workbook named as input."""
    named = {Path(p).resolve() for p in inputs if not Path(p).is_dir()}
    for target, what in ((out, "报表 / report"), (history, "历史 / history")):
        if target is not None and Path(target).resolve() in named:
            raise KpiError([error("output-is-input", f"{what} 输出文件 {target} 同时是输入的考核表，拒绝覆盖",
                                  f"the {what.split(' / ')[1]} output {target} is also an input scorecard "
                                  "workbook: refused", source=str(target))])
    if out is not None and history is not None and Path(out).resolve() == Path(history).resolve():
        raise KpiError([error("output-is-history", f"--out 与 --history 是同一个文件：{out}",
                              f"--out and --history are the same file: {out}", source=str(out))])
