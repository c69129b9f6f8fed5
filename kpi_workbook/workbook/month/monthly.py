"""Generate monthly report": read, recompute, add history warnings, write — one call.

The function behind `kpi-workbook report` and the Excel button alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import collector
from ...diagnostics import Diagnostic, KpiError, error
from ...limits import check_table
from ...rules.loader import Catalog
from ..files import refuse_existing
from .approval import (approval_rows, carry_calibrations, now_text, refuse_approved,
                       reopen as reopen_month, who)
from .history import REPORT_DIGEST, merge_month, month_rows, read_history_book, streak_rows, streak_warnings, write_history
from ..locks import locked
from .report import ReportData, _resolved, build_report, collect_books
from .report_writer import write_report
from .verify import Record, sources_of


@dataclass
class ReportResult:
    data: ReportData
    out: Path
    history: Path | None
    notes: list[str] = field(default_factory=list)  # what was done to the history, and why not

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
                "summary": rows, "notes": list(self.notes),
                "diagnostics": [d.to_dict() for d in self.findings]}

    def summary_line(self) -> str:
        s = self.data.summary
        n = len(s)
        done = int((s["状态"] == "已完成").sum()) if n else 0
        wrong = int((s["状态"] == "错误").sum()) if n else 0
        payout = float(pd.to_numeric(s["应发绩效合计"], errors="coerce").fillna(0).sum()) if n else 0.0  # 待定: 0
        out = int((s["状态"] == "不参与").sum()) if n else 0  # S9's absence rule
        apart, apart_en = (f"，不参与 {out}", f", {out} not taking part") if out else ("", "")
        return (f"{self.out}\t{self.data.month}：{n} 人，已完成 {done}，未完成 {n - done - wrong - out}，错误 "
                f"{wrong}{apart}，问题 {len(self.findings)}，应发合计 ¥{payout:,.2f} / {n} employees, {done} "
                f"complete, {n - done - wrong - out} incomplete, {wrong} in error{apart_en}, "
                f"{len(self.findings)} findings")


@collector.batch()
def run_report(catalog: Catalog, inputs: list[Path], out: Path, history: Path | None = None,
               month: str | None = None, force: bool = False, reopen: bool = False,
               reason: str | None = None, by: str | None = None,
               lock_timeout: float | None = None, company: str = "", step=None) -> ReportResult:
    """The report; with ``history``, the history file is locked from its read to its write,
    so two runs at once never lose a month."""
    out = Path(out)
    refuse_existing(out, force)
    _refuse_overwriting_inputs(inputs, out, history)
    if reopen and not (reason or "").strip():
        raise KpiError([error("reopen-reason", "--reopen 需要 --reason 原因", "--reopen needs --reason TEXT")])
    if history is None:
        return _run(catalog, inputs, out, None, month, force, reopen, reason, by, company, step)
    with locked(Path(history), lock_timeout):
        return _run(catalog, inputs, out, Path(history), month, force, reopen, reason, by, company, step)


def _run(catalog, inputs, out, history, month, force, reopen, reason, by, company="",
         step=None) -> ReportResult:
    # a file that is not a history is refused before any work; its months read below
    past = read_history_book(history, months=())
    books = collect_books(inputs, exclude=[out, history])
    if not books:
        raise KpiError([error("no-books", "没有找到考核表工作簿（.xlsx）", "no scorecard workbooks (.xlsx) found")])
    if step is not None:  # a progress bar's callback (cli): one step per book read
        step(0, f"读取 {len(books)} 个工作簿 / reading {len(books)} workbooks")
    sources = sources_of(books, out)  # what the report is made from: checked by approve, payroll
    data = build_report(catalog, books, month, step=step)
    if data.month:
        past.load([data.month], ("历史",))  # the month; of those its warnings need, four columns (streak_rows)
    if sources_of(books, out) != sources:
        raise KpiError([error("book-changed-while-read",
                              "报表读取期间有考核表被改动（另一个程序在写入？）：请稍后重新运行 report",
                              "a scorecard book changed while the report read it (another program "
                              "writing?): run report again")])
    notes: list[str] = []
    record = None
    if history is not None and len(data.summary):
        record = refuse_approved(past, data.month, history, reopen, reason)  # before any write
        if reopen and record is None:
            notes.append(f"--reopen 无需：{data.month} 在 {history} 中没有有效的审批 / --reopen not needed: "
                         f"{data.month} has no standing approval in {history}")
    _refuse_too_big(data, out)
    if step is not None:
        step(1, f"写报表 / writing {out.name}")
    merged = None
    carried = None
    if record is not None and len(data.summary):  # reopening: keep the calibrations that hold
        carried = carry_calibrations(catalog, past, record, data)
        data.calibrations = carried[0]
        notes += carried[3]
    if len(data.summary):
        merged = merge_month(past.rows, month_rows(catalog, data.summary, data.month), data.month)
        if history is not None:
            mine = int((merged["月份"].astype(str) == data.month).sum())  # one sheet per month
            check_table(mine + 1, (mine + 1) * 40, f"历史 {history.name} 的“历史 {data.month}”表",
                        f"the 历史 {data.month} sheet of {history.name}",
                        ("请另起一个历史文件（如每年一个）", "start another history file (e.g. one a year)"),
                        source=str(history))
        earlier = streak_rows(catalog, past, data.month)
        warnings = streak_warnings(catalog, pd.concat([merged, earlier], ignore_index=True) if len(earlier)
                                   else merged, data.month)
        data.summary["预警"] = data.summary["工号"].map(lambda e: "；".join(warnings.get(str(e), [])))
    elif history is not None:
        notes.append(f"历史 {history} 未更新：{data.month or '该月'} 没有可计入的考核表 / history {history} "
                     f"not updated: no scorecards of {data.month or 'the month'} to record")
    def report() -> None:
        write_report(catalog, data, out, force=force, company=company,
                     record=Record(data.month, sources, company))

    # the report is written first, the history after it (a failed report leaves the history
    # alone); a big month writes the report in a forked child meanwhile the history's work
    # is done here, and the history takes its name only once the report has (_Beside)
    beside = _Beside.start(report) if history is not None and merged is not None and \
        len(data.summary) >= BESIDE_ROWS else None
    if beside is None:
        report()
    try:
        _write_history(catalog, data, history, merged, past, record, carried, sources, out, by, reason,
                       notes, beside)
    except BaseException:
        if beside is not None:
            beside.wait()  # the report's own error first, as when it was written first
        raise
    return ReportResult(data, out, history, notes)


def _write_history(catalog, data, history, merged, past, record, carried, sources, out, by, reason,
                   notes, beside) -> None:
    if history is not None and merged is not None:
        past.rows = merged
        if record is not None:
            rows = carried[2] if carried is not None else approval_rows(data.summary, data.money_columns)
            n = reopen_month(past, record, rows, who(by), now_text(), reason.strip(),
                             dropped=carried[1] if carried is not None else None)
            notes.append(f"{data.month} 已重开（原审批：{record['审批人']} {record['审批时间']}），"
                         f"审计记录 {n} 条写入 {history}[审计]，须重新审批 / {data.month} reopened: "
                         f"{n} audit rows written to {history}, approve it again")
        row = _computation(data, sources, out, written=beside is None)
        if beside is not None:  # the report whole (or its error raised): its file digest recorded
            beside.wait()  # as computation_row records it (not of a report that keeps calibrations)
            if not getattr(data, "calibrations", None):
                from .verify import report_digest

                row[REPORT_DIGEST] = report_digest(out)
        past.computed = pd.concat([p for p in (past.computed, pd.DataFrame([row]))
                                   if len(p)], ignore_index=True)  # approve and payroll check against it
        if row[REPORT_DIGEST]:  # the report's rows are the month's 历史 rows written now: sealed together
            past.linked.add(data.month)
        # after the report: a failed report leaves history alone
        write_history(history, past, ready=None if beside is None else beside.wait)
        notes.append(f"历史 {history}：已写入 {data.month} 的 {len(data.summary)} 行 / history {history}: "
                     f"{len(data.summary)} rows of {data.month} written")


BESIDE_ROWS = 5_000  # below this many rows a forked writer costs more than it saves


class _Beside:
    """``work()`` (writing the report) in a forked child process while this one goes on;
    :meth:`wait` waits for it and raises what it raised (a KpiError as it is; Ctrl-C in the
    child removes the file it was writing, as every worker does). Only where a fork is safe
    (Linux) and more than one process is allowed (``KPI_WORKBOOK_WORKERS``)."""

    def __init__(self, pid: int, reader: int):
        self.pid, self.reader = pid, reader
        self.payload = b""
        self.outcome: BaseException | None | bool = False  # False: not waited for yet

    @classmethod
    def start(cls, work) -> _Beside | None:
        import os

        from ...limits import value
        from ..xlsx import package

        if not package._CAN_FORK or package._WORKER_PROCESS["inside"] or \
                (value("workers") or os.cpu_count() or 1) < 2:
            return None
        reader, writer = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 1
            try:
                import pickle
                import signal

                from .. import files

                def interrupted(*_) -> None:
                    files.remove_unfinished()
                    os._exit(130)

                signal.signal(signal.SIGINT, interrupted)
                package.end_with_parent(parent)
                os.close(reader)
                try:
                    work()
                    outcome: BaseException | None = None
                    code = 0
                except Exception as exc:  # given back as it is
                    outcome = exc
                try:
                    payload = pickle.dumps(outcome)
                except Exception:  # an exception that does not pickle: a bug, named
                    payload = pickle.dumps(RuntimeError(f"writing the report failed: {outcome!r}"))
                with os.fdopen(writer, "wb") as pipe:
                    pipe.write(payload)
            finally:
                os._exit(code)
        os.close(writer)
        return cls(pid, reader)

    def wait(self) -> None:
        import os
        import pickle

        if self.outcome is False:  # (a Ctrl-C while waiting: waited for again after it)
            if self.reader >= 0:
                with os.fdopen(self.reader, "rb", closefd=False) as pipe:
                    self.payload = pipe.read()
                os.close(self.reader)
                self.reader = -1
            _, status = os.waitpid(self.pid, 0)
            payload = self.payload
            if payload:
                self.outcome = pickle.loads(payload)
            else:  # ended without a word: killed (Ctrl-C, out of memory)
                code = os.waitstatus_to_exitcode(status)
                self.outcome = KeyboardInterrupt() if code in (130, -2) else RuntimeError(
                    f"the process writing the report ended with {code}")
        if isinstance(self.outcome, BaseException):
            raise self.outcome


def _computation(data: ReportData, sources, out: Path, written: bool = True) -> dict:
    """The history's 计算记录 row for this month: what the engine computed (approval.computation_row)."""
    from .approval import computation_row
    from .payroll import _month_problems

    return computation_row(data, sources, len(_month_problems(out, data.summary, data.findings)), now_text(),
                           report=out if written else None)  # not written yet: its digest put in after


def _refuse_too_big(data: ReportData, out: Path) -> None:
    """A report the readers (payroll, approve) would refuse is not written: its biggest sheet
    (月度汇总 or 问题) and its cells, counted before anything is written."""
    n, found = len(data.summary), len(data.findings)
    columns = len(data.summary.columns) + 20  # 月度汇总, and 校准 and 未完成 beside it
    check_table(max(n, found) + 10, n * columns + found * 8 + 10_000, f"报表 {out.name}",
                f"the report {out.name}", source=str(out))


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
