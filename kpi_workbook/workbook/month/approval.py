"""Approving a month, and what an approved month allows afterwards.

`kpi-workbook approve REPORT.xlsx --history HISTORY.xlsx --by NAME` records in the history
file who approved the month, when, and a hash of every approved row (审批, 审批版本). A later
`report --history` of that month is refused unless it is reopened with a reason; the re-run
then writes every changed value to the history's 审计 sheet. Nothing is ever deleted: each
approval keeps its version of every row.

Calibration (绩效校准): the grades HR calibrated in the report's 校准 sheet are taken in by
``approve`` (calibration.calibrate_report): the calibrated card's grade and the pay its
grade-dependent rules give, worked out again by the engine. The approved rows (and their
hash) are the calibrated ones; the history's 历史 rows take the calibrated grade and pay
(streak warnings and roll-ups follow it); every changed value is one 审计 row with who, when
and the reason. ``payroll`` applies the same calibration of the same report and compares
each row's hash with the approval, so it pays what was approved. Approving the same
calibrated report again changes nothing.
"""

from __future__ import annotations

import gc
import getpass
import hashlib
import itertools
import json
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from ...diagnostics import KpiError, Refused, error
from .history import (APPROVED, AUDIT_COLUMNS, HISTORY_DIGEST, REOPENED, REPORT_DIGEST, SHEET, ROW_FIELDS, HistoryBook, hash_text as _text,
                      each_distinct, row_hash_column,
                      month_digest as hashes_of_month, month_sheet, read_history_book, streak_months,
                      write_history)
from ..locks import locked
from .tables import SUMMARY  # the report's sheet, read by column names
from .verify import Stamp, report_cells
ID_FIELDS = ["工号", "姓名", "部门", "月份"]
NOT_MONEY = {"工号", "姓名", "部门", "岗位", "岗位ID", "月份", "总分", "等级", "部门排名", "全员排名",
             "应发绩效合计", "状态", "预警", "问题"}


def now_text() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def who(name: str | None) -> str:
    return (name or "").strip() or getpass.getuser()


def read_summary(report: Path) -> pd.DataFrame:
    """A report's 月度汇总 as a frame, by its header names (never by position)."""
    header, cells = report_cells(report)
    missing = [c for c in ID_FIELDS + ["应发绩效合计", "状态"] if c not in header]
    if missing:
        raise KpiError([error("not-a-report", f"{Path(report).name} 的“{SUMMARY}”缺少列：{'、'.join(missing)}",
                              f"{SUMMARY} of {Path(report).name} lacks columns: {', '.join(missing)}",
                              source=str(report), sheet=SUMMARY)])
    keep = [j for j, c in enumerate(header) if c]
    frame = pd.DataFrame([[r[j] if j < len(r) else None for j in keep] for _, r in cells],
                         columns=[header[j] for j in keep])
    # rows without a 工号 are not cards: the 合计 row and the signature line under the table
    frame = frame.loc[frame["工号"].map(lambda v: not pd.isna(v) and str(v).strip() != "").astype(bool)]
    frame["工号"] = frame["工号"].map(lambda v: str(v).strip())
    frame["月份"] = frame["月份"].map(lambda v: "" if v is None else str(v).strip())
    return frame.reset_index(drop=True)


def money_columns_of(summary: pd.DataFrame) -> list[str]:
    return [c for c in summary.columns if c not in NOT_MONEY and not str(c).startswith("_")]


_MADE: list[tuple[pd.DataFrame, tuple, pd.DataFrame]] = []  # the last approval_rows: (its input, money, rows)


def approval_rows(summary: pd.DataFrame, money: list[str] | None = None) -> pd.DataFrame:
    """The rows to approve (or to compare with an approval): the fields that decide pay,
    money per column as JSON, and a SHA-256 of them all (history.row_hash).

    approve and payroll ask for them of the same month's rows several times (the record's
    check, the calibrated rows, the report's): rows equal in every field they are made of
    (DataFrame.equals) give the rows made last time, not hashed again."""
    money = money_columns_of(summary) if money is None else money
    used = [c for c in dict.fromkeys(["工号", "月份", *ROW_FIELDS, *money]) if c in summary.columns]
    key = tuple(money)
    for source, made_of, rows in _MADE:
        if made_of == key and list(source.columns) == used and source.equals(summary[used]):
            return rows.copy()
    # column by column (tests/test_approval_rows.py keeps the row-by-row form as the
    # reference): each distinct amount's text made once, the same canonical JSON texts
    n = len(summary)
    employees = [str(v) for v in summary["工号"].tolist()]
    months = [str(v) for v in summary["月份"].tolist()]
    quote = json.encoder.encode_basestring
    pairs = []  # per money column (sorted, as CANONICAL sorts them), '"列": "1.00"' or None

    def pair(label: str, value) -> str | None:
        text = _text(value)
        return label + quote(text) if text != "" else None
    for c in sorted(set(money)):
        if c in summary.columns:  # no such column: its text is "", left out
            label = quote(c) + ": "
            pairs.append(each_distinct(summary[c], lambda v, label=label: pair(label, v)))
    # a pair is None or a text never empty: filter(None) leaves out the Nones
    amounts = ["{" + ", ".join(filter(None, row)) + "}" for row in zip(*pairs)] if pairs else ["{}"] * n
    fields = {c: summary[c] for c in ROW_FIELDS if c in summary.columns}
    columns = ["工号", "月份", *ROW_FIELDS, "金额明细", "行哈希"]
    if n:  # each field's values as Python scalars, as to_dict("records") gave them
        made = pd.DataFrame({"工号": employees, "月份": months,
                             **{c: fields[c].tolist() if c in fields else [None] * n for c in ROW_FIELDS},
                             "金额明细": amounts, "行哈希": row_hash_column(employees, months, fields, amounts)},
                            columns=columns)
    else:
        made = pd.DataFrame([], columns=columns)
    _MADE[:] = [(summary[used].copy(), key, made.copy())]
    return made


def month_hash(rows: pd.DataFrame) -> str:
    return hashes_of_month(rows["行哈希"].astype(str).tolist())


@dataclass
class ApproveResult:
    month: str
    rows: int
    version: int
    digest: str
    by: str
    when: str
    not_payable: int = 0  # rows approved as they are, which payroll will not pay (未完成, 错误, 待定)
    calibrated: int = 0  # cards whose grade HR calibrated
    unchanged: bool = False  # the month was already approved with these very rows: nothing done
    diagnostics: list = field(default_factory=list)  # warnings of the 校准 sheet

    def summary_line(self) -> str:
        if self.unchanged:
            return (f"{self.month} 已由 {self.by} 于 {self.when} 审批，行与哈希相同，无改动 / {self.month} was "
                    f"already approved by {self.by} at {self.when} with the same rows: nothing changed")
        calibrated = (f"，校准 {self.calibrated} 人", f", {self.calibrated} calibrated") if self.calibrated else ("", "")
        return (f"{self.month} 已审批：{self.rows} 行（其中 {self.not_payable} 行未完成、错误或待定，不发放），版本 "
                f"{self.version}，审批人 {self.by}，{self.when}{calibrated[0]}，哈希 {self.digest[:12]} / {self.month} "
                f"approved: {self.rows} rows ({self.not_payable} incomplete, in error or waiting, not paid){calibrated[1]}, "
                f"version {self.version}, by {self.by}")


def approve(report: Path, history: Path, by: str | None = None, timeout: float | None = None,
            catalog=None) -> ApproveResult:
    """Approve the month of ``report`` in ``history``, with the grades calibrated in its 校准
    sheet (refused, exit 1, if an entry is wrong).

    Nothing is taken from the report's cells: its books are scored again (verify.recompute,
    refusing a book changed since), the 校准 choices applied to that, and every cell of
    月度汇总 that shows pay compared with it (verify.check_cells): the approved rows are the
    engine's."""
    from ...rules.loader import builtin_catalog

    catalog = catalog or builtin_catalog()
    with _collected_after(), locked(Path(history), timeout):
        book = read_history_book(history, months=())  # the month's sheets read below
        fresh, calibrated = derive(catalog, Path(report), book, need_roles=False)
        if getattr(fresh, "fast", False) and calibrated.changes:
            # the calibrated report is written again whole (its 月度汇总, 部门统计, 校准): from
            # the books scored again, as without a record
            fresh, calibrated = derive(catalog, Path(report))
        money = list(fresh.data.money_columns)
        rows = approval_rows(calibrated.summary, money)
        # the month's 历史 (and, for the streak warnings of a report written again — calibrated,
        # or scored again without a record — the months before); its earlier versions, if
        # any, are read when the new ones are written
        again = calibrated.changes or not getattr(fresh, "fast", False)
        # a report as recorded whose month's 历史 is byte for byte the one sealed with it: its
        # rows are the report's, neither read nor compared (history_as_reported)
        as_reported = not again and history_as_reported(book, fresh.data.month, getattr(fresh, "written", ""))
        if not as_reported:
            book.load(streak_months(catalog, fresh.data.month) if again else [fresh.data.month], ("历史",))
        # the report's rows before calibration: the very rows when nothing was calibrated (a
        # report as recorded), not made and compared again
        reported = rows if calibrated.summary is fresh.data.summary else approval_rows(fresh.data.summary, money)
        result = approve_rows(book, rows, who(by), now_text(), report=Path(report), history=Path(history),
                              reported=reported, changes=calibrated.changes, as_reported=as_reported)
        stamp = Stamp(result.by, result.when, result.version, result.digest)
        restamp = fresh.record.stamp != stamp  # one truth on paper: the report shows what was approved
        if restamp and getattr(fresh, "written", "") and not result.unchanged:
            # the report as the engine wrote it, stamped: the history written once the stamped
            # file is (before it takes the report's name), with its digest in 计算记录 — payroll
            # and a later approve find it as recorded
            _stamp_report(Path(report), fresh.record, stamp,
                          lambda stamped: _write_stamped(history, book, fresh.data.month, stamped, result.when))
        elif restamp and getattr(fresh, "fast", False):
            # nothing else of the report changes; the history written once the stamped file is
            # whole (a report that cannot be stamped, a part of it damaged, leaves the month
            # unapproved)
            _stamp_report(Path(report), fresh.record, stamp,
                          None if result.unchanged else lambda _stamped: write_history(history, book))
        else:
            if not result.unchanged:
                write_history(history, book)
            if restamp:
                _rewrite_report(catalog, Path(report), fresh, calibrated, book, stamp)
    result.diagnostics = calibrated.diagnostics
    return result


@contextmanager
def _collected_after():
    """The cyclic garbage collector paused while approve works: a month of 100,000 rows makes
    millions of objects that live until the end (rows read, texts, hashes), which each
    collection traversed again (about 8 % of approve's CPU). Reference counting frees what is
    done with as ever; cycles are left for the collector once it runs again."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def history_as_reported(book: HistoryBook, month: str, written: str) -> bool:
    """Whether the month's 历史 rows are those of the report whose file digest is ``written``
    (approval.as_recorded: "" when the report is not the file the record names), without
    reading them: the month's last 计算记录 row records that report and the 历史 month's zip
    member as the same ``report --history`` sealed it (历史摘要), and the member is that one
    byte for byte (its compressed bytes' digest, signed by the seal: not read, book.unread).
    Not for a month approved before (a reopening), nor for rows of the month read already."""
    computed = book.computation(month) if written else None
    name = month_sheet(SHEET, month)
    if computed is None or name not in book.unread or name not in book.stored or book.approval(month) is not None:
        return False
    if len(book.rows) and (book.rows["月份"].astype(str) == month).any():
        return False
    linked = _text(computed.get(HISTORY_DIGEST))
    return bool(linked) and _text(computed.get(REPORT_DIGEST)) == written and linked == book.stored[name].raw


def _write_stamped(history: Path, book: HistoryBook, month: str, stamped: Path, when: str) -> None:
    """The history with the approval, and a 计算记录 row for the stamped report: the engine's
    record of the month as it was, with the stamped file's digest."""
    from .verify import report_digest

    computed = book.computation(month)
    if computed is not None:
        row = {**computed, REPORT_DIGEST: report_digest(stamped), "时间": when}
        book.computed = pd.concat([book.computed, pd.DataFrame([row], columns=book.computed.columns)],
                                  ignore_index=True)
    write_history(history, book)


def _stamp_report(report: Path, record, stamp, before=None) -> None:
    """The approval stamp put on a report whose cells approve did not change (no calibration):
    its 来源 record and every printed page's header (已审批) and footer, the rest of the
    package copied as it is — the same report _rewrite_report would write, without scoring
    its books again to write it."""
    from .report_writer import stamp_report
    from .verify import Record

    stamp_report(report, Record(record.month, record.books, record.company, stamp), before=before)


def _rewrite_report(catalog, report: Path, fresh, calibrated, book: HistoryBook, stamp) -> None:
    """The report again, as approved: 月度汇总 (and 部门统计, and their print) with the
    calibrated grades and pay, the 校准 sheet with HR's entries and the engine's grades, and
    the approval stamp (who, when, version, month hash) on every printed page and in 来源."""
    import dataclasses

    from .history import streak_warnings
    from .report_writer import write_report
    from .verify import Record

    data = fresh.data
    summary = calibrated.summary.copy()
    if len(summary):
        warnings = streak_warnings(catalog, book.rows, data.month)
        summary["预警"] = summary["工号"].map(lambda e: "；".join(warnings.get(str(e), [])))
    entries = {c.employee_id: (c.calibrated_grade, c.reason) for c in calibrated.entries}
    approved = dataclasses.replace(data, summary=summary, graded=data.summary, calibrations=entries)
    record = Record(fresh.record.month, fresh.record.books, fresh.record.company, stamp)
    write_report(catalog, approved, report, force=True, company=fresh.record.company, record=record)


def derive(catalog, report: Path, book: HistoryBook | None = None, findings: bool = False,
           need_roles: bool | Callable[[pd.DataFrame], bool] = True):
    """(verify.Recomputed, calibration.Calibrated): the month of ``report`` as the engine
    scores its books, with the report's 校准 choices applied; refused when a cell of the
    report's 月度汇总 differs from it (the calibrated view for a report ``approve`` wrote,
    the engine's own for one ``report`` wrote).

    With the history ``book`` holding what the engine computed for the month (``report
    --history``: its 计算记录), the report is checked against that record instead
    (:func:`checked_against_record`), and its books are not scored again; whenever that check
    does not pass, the books are scored and compared cell by cell, which names the cell.
    ``findings``: the caller needs the month's error findings (payroll): a month with any
    that no row carries is scored again to list them."""
    from .calibration import Calibrated, calibrate_report
    from .verify import check_cells, check_sums, recompute

    if book is not None:
        fast = checked_against_record(catalog, Path(report), book, findings, need_roles)
        if fast is not None:
            return fast
    fresh = recompute(catalog, report)
    summary = fresh.data.summary
    money = list(fresh.data.money_columns)
    roles = dict(zip(summary["工号"].astype(str), summary["岗位ID"])) if len(summary) else {}
    if len(summary):
        calibrated = calibrate_report(report, summary, catalog, roles)
    else:  # no card read: nothing to calibrate
        calibrated = Calibrated(summary, [], [], [])
    check_sums(summary, money, report)
    check_sums(calibrated.summary, money, report)
    stamped = fresh.record.stamp is not None
    check_cells(report, calibrated.summary if stamped else summary, money, calibrated=stamped)
    return fresh, calibrated


# --- the report against what the engine computed (issue 24) -------------------------------------

ENGINE_TEXT = ("问题", "说明")  # read from 月度汇总 beside the approved fields; in each row's hash
FIXED = {"工号", "姓名", "部门", "岗位", "岗位ID", "月份", "总分", "等级", "部门排名", "全员排名", "应发绩效合计",
         "状态", "预警", "问题", "说明"}  # the columns of 月度汇总 that are not money


def engine_hashes(summary: pd.DataFrame, money: list[str], roles: dict[str, str] | None = None) -> list[str]:
    """Per row of a month's 月度汇总: SHA-256 of its approval hash (history.row_hash: 工号, 月份,
    姓名, 部门, 总分, 等级, 状态, every money column and 应发绩效合计), its role (the 校准
    sheet's hidden 岗位ID of a complete card; ``roles``, else the 岗位ID column) and its
    问题 and 说明 texts."""
    if not len(summary):
        return []
    hashed = approval_rows(summary, money)["行哈希"].tolist()
    ids = summary["工号"].map(lambda v: _text(v)).tolist()
    if roles is None:
        role_ids = [_text(v) for v in summary["岗位ID"]]
    else:
        role_ids = [roles.get(e, "") for e in ids]
    done = [_text(v) == "已完成" for v in summary["状态"]]
    texts = [summary[c].tolist() if c in summary else [None] * len(summary) for c in ENGINE_TEXT]
    out = []
    for k, h in enumerate(hashed):
        values = [h, role_ids[k] if done[k] else "", *(_text(t[k]) for t in texts)]
        out.append(hashlib.sha256(json.dumps(values, ensure_ascii=False).encode("utf-8")).hexdigest())
    return out


def engine_digest(summary: pd.DataFrame, money: list[str], roles: dict[str, str] | None = None) -> str:
    """The month hash of ``engine_hashes`` (sorted: the rows' order does not matter)."""
    return hashes_of_month(engine_hashes(summary, money, roles))


def books_digest(sha256s) -> str:
    """SHA-256 of the books' SHA-256 (sorted): which book contents a month was scored from."""
    return hashlib.sha256("\n".join(sorted(str(h).lower() for h in sha256s)).encode("utf-8")).hexdigest()


def computation_row(data, sources, other_errors: int, when: str, report: Path | None = None) -> dict:
    """The 计算记录 row of a month the engine just scored (``report --history``); ``report``:
    the report just written from it, whose file digest (verify.report_digest) is recorded
    unless it holds calibrations (kept by a reopening: its rows are then not the engine's)."""
    from .verify import report_digest

    money = list(data.money_columns)
    written = report_digest(report) if report is not None and not getattr(data, "calibrations", None) else ""
    return {"月份": data.month, "行数": len(data.summary), "月度哈希": engine_digest(data.summary, money),
            "考核表哈希": books_digest(s.sha256 for s in sources),
            "金额列": json.dumps(money, ensure_ascii=False), "其他错误": other_errors, "时间": when,
            REPORT_DIGEST: written, HISTORY_DIGEST: ""}  # 历史摘要: put in by write_history (linked)


def as_recorded(report: Path, computed: dict | None) -> str:
    """The report's file digest when it is the one the month's 计算记录 row records (the
    report as ``report --history`` wrote it, or as ``approve`` stamped it), else ""."""
    recorded = _text((computed or {}).get(REPORT_DIGEST))
    if not recorded:
        return ""
    from .verify import report_digest

    digest = report_digest(report)
    return digest if digest == recorded else ""


def checked_against_record(catalog, report: Path, book: HistoryBook, findings: bool = False,
                           need_roles: bool | Callable[[pd.DataFrame], bool] = True):
    """The report's 月度汇总 read once as a table and checked against what the engine computed
    for its month (the history's 计算记录, chained and sealed): the books it names are those
    the engine read (their SHA-256 now, as recorded), and every row's hash of what decides pay
    is the engine's. Then (Recomputed, Calibrated) with the report's own rows — the engine's —
    and its 校准 choices applied by the engine's pay rules; None when there is no record or
    anything differs (the caller then scores the books, naming what differs).

    A report that is byte for byte the file the record names (its 报表摘要: as_recorded) is
    the engine's as written: only its 月度汇总 is read, for the rows, and the 校准 sheet only
    for the cards' roles when ``need_roles`` (payroll's rules need them; approve does not) —
    a callable: when it says the rows read need them."""
    from .calibration import SHEET as CALIBRATION, Calibrated, calibrate_report, card_roles
    from .report import ReportData
    from .verify import CHECKED_TEXT, Recomputed, _refuse_changed, locate, read_record, report_cells

    try:
        month = read_record(report).month
    except KpiError:
        month = ""  # named below, in the order of the full reading
    # the report byte for byte the file the record names: what the engine wrote (its 校准
    # without an entry), so neither its row hashes nor its sums are worked out again
    written = as_recorded(report, book.computation(month) if month else None)
    lazy = written and callable(need_roles)  # the 校准 sheet read only if the rows need their roles
    # as written, the report's rows and roles from its compact part (report_rows.py): in the
    # file the record names, so the writer's own, as the 月度汇总 and 校准 sheets are
    compact = _compact_rows(report) if written else None
    if compact is not None:
        tables: dict[str, list[list] | None] = {SUMMARY: compact[0]}
    else:
        tables = _sheet_tables(report, [SUMMARY] if written and (lazy or not need_roles) else [SUMMARY, CALIBRATION])
    if not tables[SUMMARY]:
        report_cells(report)  # not a report: named as such
        return None
    values = tables[SUMMARY] or []
    header = [str(c).strip() if c is not None else "" for c in values[0]]
    record = read_record(report)
    computed = book.computation(record.month) if record.month else None
    if computed is None:
        return None
    books = [locate(report, s) for s in record.books]
    _refuse_changed(report, record, books)  # a book changed since the report: refused, named
    if books_digest(s.sha256 for s in record.books) != _text(computed["考核表哈希"]):
        return None  # made from other books than the month's last report --history
    try:
        money = json.loads(_text(computed["金额列"]) or "[]")
        errors = int(float(computed["其他错误"] or 0))
        count = int(float(computed["行数"] or 0))
    except (TypeError, ValueError):
        return None
    if findings and errors:
        return None  # payroll lists the month's error findings: the engine's, scored again
    col = {name: j for j, name in reversed(list(enumerate(header))) if name}
    if any(c not in col for c in ("工号", *CHECKED_TEXT, "总分", *money, "应发绩效合计", *ENGINE_TEXT)):
        return None
    known = FIXED | set(money)
    employees: list[list] = []
    totals_row: list | None = None
    at = col["工号"]
    for row in itertools.islice(values, 1, None):  # the rows as read (lists, not changed here)
        e = row[at] if at < len(row) else None
        if (type(e) is str and e.strip()) or not _blank(e):  # a text 工号, quickly
            employees.append(row)
            continue
        if totals_row is None and _cell(row, col, "部门") == "合计":
            totals_row = row
        elif any(_is_number(v) for v in row):
            return None  # a number outside the cards' rows
    for name, j in col.items():  # a column the engine did not compute, holding numbers
        if name not in known and not name.startswith("_") and any(
                j < len(r) and _is_number(r[j]) for r in employees):
            return None
    width = len(header)
    table = pd.DataFrame([r if len(r) == width else list(r[:width]) + [None] * (width - len(r)) for r in employees],
                         columns=header)
    table = table.loc[:, [bool(c) for c in table.columns]]
    table = table.loc[:, ~table.columns.duplicated()]
    table["工号"] = _stripped(table["工号"].tolist())
    table["月份"] = _stripped(table["月份"].tolist(), none="")
    if len(table) != count or table["工号"].duplicated().any():
        return None  # one card twice (and another missing) is not the engine's month: scored again
    wants_roles = need_roles(table) if lazy else bool(need_roles)  # type: ignore[operator]
    if lazy and wants_roles and compact is None:
        tables.update(_sheet_tables(report, [CALIBRATION]))
    calibration = tables.get(CALIBRATION)
    if written and as_recorded(report, computed) != written:
        return None  # changed while it was read (its 月度汇总, its 校准 read after it)
    if compact is not None:
        card_role = compact[1] if wants_roles else {}
    else:
        card_role = card_roles(calibration) if calibration else {}
    if not written:
        if engine_digest(table, money, card_role) != _text(computed["月度哈希"]):
            return None
        if totals_row is not None:
            for name in (*money, "应发绩效合计"):
                if _cents_of(totals_row[col[name]] if col[name] < len(totals_row) else None) != _column_cents(
                        table[name]):
                    return None
    # 岗位ID: of each complete card, from the 校准 sheet (not read when not ``need_roles``: "")
    table["岗位ID"] = [card_role.get(e, "") for e in table["工号"].tolist()] if card_role else ""
    data = ReportData(record.month, table, money, books=books)
    fresh = Recomputed(record, data, books)
    fresh.fast = True  # type: ignore[attr-defined]
    fresh.written = written  # type: ignore[attr-defined]
    if written:  # the 校准 sheet as the engine wrote it: no entry, nothing calibrated
        return fresh, Calibrated(table, [], [], [])
    calibrated = calibrate_report(report, table, catalog, card_role, rows=calibration)
    return fresh, calibrated


def _compact_rows(report: Path) -> tuple[list[list], dict[str, str]] | None:
    """The rows of 月度汇总 and the cards' roles from the report's compact part (None: no
    such part, or one of another form — then the sheets are read)."""
    from ..scorecard.reader import open_package
    from .report_rows import read_part

    with open_package(Path(report)) as package:
        return read_part(package)


def _sheet_tables(report: Path, names: list[str]) -> dict[str, list[list] | None]:
    """The values of the report's sheets ``names`` from one opening of the file (None: no such
    sheet): each read in one pass when its cells are of the forms the report writer writes
    (sheet_rows.read_written), else by the package reader."""
    from ..scorecard.reader import _rows, open_package
    from ..xlsx.sheet_rows import read_written

    out: dict[str, list[list] | None] = {}
    with open_package(Path(report)) as package:
        for name in names:
            part = package.parts.get(name, "") if name in package.sheet_names else ""
            if not part:
                out[name] = None
                continue
            rows = read_written(package.read(part), package.limits.rows)
            if rows is None:
                data = package.sheet(name)
                rows = _rows({**data.contents, **data.cached})
            out[name] = rows
    return out


def _stripped(values: list, none: str | None = None) -> list[str]:
    """``str(v).strip()`` of each value (``none`` for None, when given)."""
    return [v.strip() if type(v) is str else none if v is None and none is not None else str(v).strip()
            for v in values]


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or (
        isinstance(value, str) and not value.strip())


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _cell(row: list, col: dict[str, int], name: str) -> str:
    j = col.get(name)
    return _text(row[j]) if j is not None and j < len(row) else ""


def _cents_of(value) -> int | None:
    """Whole cents of a cell, as verify.check_cells counts them."""
    from .verify import _cents

    return _cents(value)


def _column_cents(values: pd.Series) -> int:
    """A money column's sum in whole cents, empty and 待定 cells counting 0 (as its 合计 row);
    each distinct amount worked out once (a column repeats its few amounts)."""
    memo: dict = {}
    total = 0
    for v in values.tolist():
        key = (type(v), v)
        if key in memo:
            cents = memo[key]
        else:
            cents = memo[key] = _cents_of(v)
        if cents is not None:
            total += cents
    return total


def approve_rows(book: HistoryBook, rows: pd.DataFrame, by: str, when: str, report: Path,
                 history: Path, reported: pd.DataFrame | None = None, changes=(),
                 as_reported: bool = False) -> ApproveResult:
    """Record the approval of ``rows`` (one month) in ``book`` (changed in place).

    ``reported`` are the report's rows before calibration (default ``rows``): they are what
    ``report --history`` wrote to the history, and what the history is checked against —
    unless ``as_reported`` (history_as_reported: the month's 历史 is, sealed, the one written
    with the report; its rows not read).
    ``changes`` (calibration.Change) are written to 审计, and the month's 历史 rows take the
    calibrated grade and pay. The month already approved with these very rows is a no-op."""
    months = sorted(set(rows["月份"].tolist()))
    if len(months) != 1:
        raise Refused([error("approve-months", f"{report.name} 须恰好是一个月的报表，却有：{'、'.join(months) or '（无）'}",
                             f"{report.name} must hold exactly one month, it holds: {', '.join(months) or '(none)'}",
                             source=str(report))])
    month = months[0]
    record = book.approval(month)
    if record is not None and record["状态"] == APPROVED and str(record["哈希"]) == month_hash(rows):
        return ApproveResult(month, len(rows), int(record["版本"]), str(record["哈希"]), str(record["审批人"]),
                             str(record["审批时间"]), _not_payable(rows),
                             len({c.employee_id for c in changes}), unchanged=True)
    if record is not None and record["状态"] == APPROVED:
        raise Refused([error("already-approved",
                             f"{month} 已由 {record['审批人']} 于 {record['审批时间']} 审批；要改动须先 report --reopen --reason",
                             f"{month} was already approved by {record['审批人']} at {record['审批时间']}; "
                             "reopen it with report --reopen --reason first", source=str(history))])
    have = book.rows[book.rows["月份"].astype(str) == month]
    reported = rows if reported is None else reported
    stale = [] if as_reported and not changes else _stale(have, reported)
    if stale:
        raise Refused([error("report-not-history",
                             f"{report.name} 与历史 {history.name} 中 {month} 的记录不一致（{'、'.join(stale[:10])}）："
                             "请先用 report --history 重新生成报表再审批",
                             f"{report.name} does not match {month} in {history.name} ({', '.join(stale[:10])}): "
                             "run report --history again, then approve", source=str(report))])
    earlier = book.approvals[book.approvals["月份"].astype(str) == month]
    version = int(earlier["版本"].max()) + 1 if len(earlier) else 1
    digest = month_hash(rows)
    record = {"月份": month, "版本": version, "状态": APPROVED, "审批人": by, "审批时间": when,
              "行数": len(rows), "哈希": digest}
    book.approvals = pd.concat([book.approvals, pd.DataFrame([record])], ignore_index=True)
    card = dict(zip(reported["工号"].astype(str).tolist(), reported["行哈希"].tolist()))
    graded = {c.employee_id: (c.before, c.reason) for c in changes if c.field == "等级"}
    ids = [str(e) for e in rows["工号"].tolist()]
    before = [graded.get(e, ("", "")) for e in ids] if graded else None
    versions = rows.assign(版本=version, 卡片哈希=[card.get(e, "") for e in ids],
                           校准前等级=[b[0] for b in before] if before else "",
                           校准理由=[b[1] for b in before] if before else "")
    versions = versions.reindex(columns=book.versions.columns)
    book.versions = pd.concat([p for p in (book.versions, versions) if len(p)], ignore_index=True)
    if changes:
        _record_calibration(book, month, rows, list(changes), by, when)
    not_payable = _not_payable(rows)
    return ApproveResult(month, len(rows), version, digest, by, when, not_payable,
                         len({c.employee_id for c in changes}))


def _stale(have: pd.DataFrame, reported: pd.DataFrame) -> list[str]:
    """The 工号 of ``reported`` whose month rows in 历史 (``have``) are missing, extra, or
    differ in a field an approved row's hash covers (历史 must be what is approved: the
    roll-up reads it): those in one and not the other sorted, then those that differ in
    ``reported``'s order. Compared column by column, each distinct value's text made once
    (tests/test_approval_rows.py keeps the row-by-row form as the reference)."""
    mine = {str(e): k for k, e in enumerate(have["工号"].tolist())}  # a 工号 twice: its last row
    stale = sorted(set(reported["工号"]) ^ set(mine))
    ids = [str(e) for e in reported["工号"].tolist()]
    at = [mine.get(e) for e in ids]
    differs = [False] * len(ids)
    for c in ROW_FIELDS:
        decimals = 1 if c == "总分" else None
        theirs = each_distinct(have[c], lambda v, d=decimals: _text(v, d))
        ours = each_distinct(reported[c], lambda v, d=decimals: _text(v, d))
        differs = [gone or (j is not None and theirs[j] != t) for gone, j, t in zip(differs, at, ours)]
    return stale + [e for e, gone in zip(ids, differs) if gone]


def _not_payable(rows: pd.DataFrame) -> int:
    """Rows approved as they are that payroll will not pay: not 已完成, or team pay 待定."""
    from ...words import PENDING

    return int(((rows["状态"].astype(str) != "已完成") | (rows["应发绩效合计"].astype(str) == PENDING)).sum())


def _record_calibration(book: HistoryBook, month: str, rows: pd.DataFrame, changes: list, by: str,
                        when: str) -> None:
    """The calibrated values into the month's 历史 rows, and one 审计 row per changed value."""
    history = book.rows.copy()
    approved = {str(r["工号"]): r for r in rows.to_dict("records")}
    for employee in dict.fromkeys(c.employee_id for c in changes):
        at = history.index[(history["月份"].astype(str) == month) & (history["工号"].astype(str) == employee)]
        history.loc[at, "等级"] = approved[employee]["等级"]
        history.loc[at, "应发绩效合计"] = approved[employee]["应发绩效合计"]
    book.rows = history
    frame = pd.DataFrame([{"月份": month, "工号": c.employee_id, "字段": c.field, "之前": c.before,
                           "之后": c.after, "操作人": by, "时间": when, "原因": c.reason}
                          for c in changes], columns=AUDIT_COLUMNS)
    book.audit = pd.concat([p for p in (book.audit, frame) if len(p)], ignore_index=True)


def refuse_approved(book: HistoryBook, month: str, history: Path, reopen: bool,
                    reason: str | None) -> dict | None:
    """The approval a re-run of ``month`` would change, or None; refused unless reopened."""
    record = book.approval(month)
    if record is None or record["状态"] != APPROVED:
        return None
    if not reopen:
        raise Refused([error("month-approved",
                             f"{month} 已由 {record['审批人']} 于 {record['审批时间']} 审批，拒绝重算；"
                             "确需改动请加 --reopen --reason 原因",
                             f"{month} was approved by {record['审批人']} at {record['审批时间']}: re-run refused; "
                             "to change it add --reopen --reason TEXT", source=str(history))])
    if not (reason or "").strip():
        raise KpiError([error("reopen-reason", "--reopen 需要 --reason 原因", "--reopen needs --reason TEXT")])
    return record


def carry_calibrations(catalog, book: HistoryBook, record: dict, data) -> tuple[
        dict[str, tuple[str, str]], dict[str, str], pd.DataFrame, list[str]]:
    """What a reopening keeps of the approval's calibrations: a calibrated card whose card
    did not change (the engine gives the same row as when it was approved) keeps its
    calibrated grade and reason, the others are dropped. Returns (kept: employee →
    (grade, reason), dropped: employee → the old reason, the month's rows with the kept
    calibrations applied, one line per calibration for the person who reopened)."""
    from .calibration import Calibration, apply_calibration

    month = str(record["月份"])
    money = list(data.money_columns)
    engine = {str(r["工号"]): r for r in approval_rows(data.summary, money).to_dict("records")}
    summary = data.summary
    roles = dict(zip(summary["工号"].astype(str), summary["岗位ID"])) if len(summary) else {}
    grades = dict(zip(summary["工号"].astype(str), summary["等级"])) if len(summary) else {}
    kept: dict[str, tuple[str, str]] = {}
    dropped: dict[str, str] = {}
    entries, notes = [], []
    for v in book.approved_rows(month).to_dict("records"):
        reason = _text(v.get("校准理由"))
        if not reason:
            continue
        eid, before, after = str(v["工号"]), _text(v.get("校准前等级")), _text(v.get("等级"))
        now = engine.get(eid)
        if now is not None and _text(v.get("卡片哈希")) and now["行哈希"] == _text(v.get("卡片哈希")):
            kept[eid] = (after, reason)
            role = catalog.roles.get(roles.get(eid, ""))
            scheme = role.grade_scheme if role is not None else ""
            entries.append(Calibration(eid, month, _text(grades.get(eid)), after, reason, scheme, "", roles.get(eid, "")))
            notes.append(f"保留校准：{eid} {before} → {after}（{reason}），考核表未改动 / calibration kept: "
                         f"{eid} {before} → {after}, the card did not change")
        else:
            dropped[eid] = reason
            notes.append(f"撤销校准：{eid} 的考核表已改动，校准 {before} → {after}（{reason}）不再适用，请重新校准 / "
                         f"calibration dropped: {eid}'s card changed, {before} → {after} no longer applies")
    rows = approval_rows(summary, money)
    if entries:
        done, errors = apply_calibration(catalog, summary, entries, Path(""), roles)
        if errors:  # a kept calibration the rules no longer take: dropped, each said
            for c in entries:
                dropped[c.employee_id] = c.reason
                kept.pop(c.employee_id, None)
            notes.append("校准无法重新套用，已全部撤销，请重新校准 / the calibrations cannot be applied again: "
                         "dropped, calibrate again")
        else:
            rows = approval_rows(done.summary, money)
    return kept, dropped, rows, notes


def reopen(book: HistoryBook, record: dict, new_rows: pd.DataFrame, by: str, when: str,
           reason: str, dropped: dict[str, str] | None = None) -> int:
    """Mark the approval reopened and audit every value that differs from it: one 审计 row per
    employee and field (before, after, who, when, why). ``new_rows`` are the month's rows with
    the calibrations that still hold; a value a dropped calibration had set carries that in
    its reason. Returns the number of audit rows."""
    month = record["月份"]
    dropped = dropped or {}
    old = {str(r["工号"]): r for r in book.approved_rows(month).to_dict("records")}
    new = {str(r["工号"]): r for r in new_rows.to_dict("records")}
    audit = []

    def fields(r) -> dict[str, str]:
        if r is None:
            return {}
        out = {c: _text(r.get(c), 1 if c == "总分" else None) for c in ROW_FIELDS}
        out.update(json.loads(r.get("金额明细") or "{}"))
        return out

    for employee in sorted(set(old) | set(new)):
        before, after = fields(old.get(employee)), fields(new.get(employee))
        why = (f"{reason}（考核表改动，原校准“{dropped[employee]}”撤销）" if employee in dropped else reason)
        if employee not in old or employee not in new:
            audit.append({"字段": "（整行）", "之前": "有" if employee in old else "",
                          "之后": "有" if employee in new else "", "工号": employee, "原因": why})
        for name in dict.fromkeys([*before, *after]):
            if before.get(name, "") != after.get(name, ""):
                audit.append({"工号": employee, "字段": name, "之前": before.get(name, ""),
                              "之后": after.get(name, ""), "原因": why})
    if not audit:  # the reopening itself is on record, even when no value changed
        audit.append({"工号": "", "字段": "（重开）", "之前": APPROVED, "之后": REOPENED, "原因": reason})
    frame = pd.DataFrame([{**a, "月份": month, "操作人": by, "时间": when} for a in audit],
                         columns=AUDIT_COLUMNS)
    book.audit = pd.concat([p for p in (book.audit, frame) if len(p)], ignore_index=True)
    approvals = book.approvals.copy()
    at = approvals.index[(approvals["月份"].astype(str) == month) & (approvals["版本"] == record["版本"])]
    approvals.loc[at, ["状态", "重开人", "重开时间", "重开原因"]] = [REOPENED, by, when, reason]
    book.approvals = approvals
    return len(frame)


def stamped_states(book: HistoryBook, fresh, count: int) -> list[str] | None:
    """Every row's approval state without a row hashed or an approved version read, or None:
    the report is byte for byte the report ``approve`` stamped (its digest the month's last
    计算记录 row, written with that approval: derive's ``written``), and the approval its
    stamp names still stands — the approval of exactly this report's rows."""
    stamp = fresh.record.stamp
    if not getattr(fresh, "written", "") or stamp is None:
        return None
    record = book.approval(fresh.data.month)
    try:
        same = (record is not None and record["状态"] == APPROVED and int(record["版本"]) == stamp.version
                and str(record["哈希"]) == stamp.digest and int(float(record["行数"])) == count)
    except (TypeError, ValueError):
        same = False
    if not same:
        return None
    assert record is not None
    return [f"{APPROVED} {str(record['审批时间'])[:10]} {record['审批人']}"] * count  # as approval_states


def approval_states(book: HistoryBook, rows: pd.DataFrame) -> list[str]:
    """Per row: 已审批 2026-11-05 王经理 (the day and who), 与审批不符, 已重开，待重新审批 or 未审批."""
    out = []
    cache: dict[str, tuple[dict | None, dict[str, str]]] = {}
    for r in rows.itertuples(index=False):
        month = str(r.月份)
        if month not in cache:
            record = book.approval(month)
            hashes = {str(v["工号"]): str(v["行哈希"]) for v in book.approved_rows(month).to_dict("records")}
            cache[month] = (record, hashes)
        record, hashes = cache[month]
        if record is None:
            out.append("未审批")
        elif record["状态"] == REOPENED:
            out.append("已重开，待重新审批")
        elif hashes.get(str(r.工号)) == str(r.行哈希):
            out.append(f"{APPROVED} {str(record['审批时间'])[:10]} {record['审批人']}")  # the day, as on paper
        else:
            out.append("与审批不符")
    return out


# --- checking and signing the history (kpi-workbook history) ----------------------------------


@dataclass
class HistoryCheck:
    """What `kpi-workbook history` found: the history verified, and what --sign did."""
    path: Path
    rows: int
    months: list[str]
    approved: list[str]
    reopened: list[str]
    sealed: bool
    mode: str
    key_id: str
    signed: str = ""  # what --sign changed ("" when nothing)

    def summary_line(self) -> str:
        how = {"": "未封存（没有哈希链）/ not sealed", "SHA-256": "SHA-256（无密钥）/ SHA-256, no key"}.get(
            self.mode, f"HMAC-SHA256（密钥指纹 {self.key_id}）/ HMAC-SHA256, key {self.key_id}")
        months = "、".join(self.months) or "（无）"
        done = f"；{self.signed}" if self.signed else ""
        return (f"{self.path}\t核对无误：{self.rows} 行，月份 {months}，已审批 {len(self.approved)} 个月"
                f"{'，已重开 ' + str(len(self.reopened)) + ' 个月' if self.reopened else ''}；{how}{done} / "
                f"intact: {self.rows} rows, {len(self.months)} months, {len(self.approved)} approved")

    def to_dict(self) -> dict:
        return {"history": str(self.path), "rows": self.rows, "months": self.months, "approved": self.approved,
                "reopened": self.reopened, "sealed": self.sealed, "mode": self.mode, "key_id": self.key_id,
                "signed": self.signed}


def check_history(path: Path, sign: bool = False, by: str | None = None,
                  timeout: float | None = None) -> HistoryCheck:
    """Verify the history (chain, seal, approvals); with ``sign``, seal a history that has no
    chain yet, or sign a plain one with this machine's key, after verifying all it has — an
    audit row records who did it."""
    from .chain import Signer, signer_for
    from ...diagnostics import Refused as _Refused

    path = Path(path)
    if not path.exists():
        raise KpiError([error("no-history", f"找不到历史文件 {path}", f"history file {path} not found",
                              source=str(path))])
    if not sign:
        return _check_of(path, read_history_book(path, full=True))  # every row hashed again
    with locked(path, timeout):
        signer = signer_for(path)
        try:
            book = read_history_book(path, signer, full=True)
            if book.sealed:
                return _check_of(path, book)
        except _Refused:
            book = read_history_book(path, Signer(), unsealed_ok=True)  # a real break still refuses
        before = book.mode or "无哈希链 / no chain"
        after = f"{signer.mode} {signer.key_id}".strip()
        row = {"月份": "", "工号": "", "字段": "（签名）", "之前": before, "之后": after, "操作人": who(by),
               "时间": now_text(), "原因": "核对无误后签名 / signed after checking"}
        book.audit = pd.concat([p for p in (book.audit, pd.DataFrame([row], columns=AUDIT_COLUMNS)) if len(p)],
                               ignore_index=True)
        write_history(path, book, signer)
        done = read_history_book(path, signer)
    result = _check_of(path, done)
    result.signed = f"已签名：{before} → {after} / signed: {before} → {after}"
    return result


def _check_of(path: Path, book: HistoryBook) -> HistoryCheck:
    months = sorted({str(m) for m in book.rows["月份"]})
    states = {m: book.approval(m) for m in sorted({str(m) for m in book.approvals["月份"]})}
    return HistoryCheck(path, len(book.rows), months,
                        [m for m, r in states.items() if r is not None and r["状态"] == APPROVED],
                        [m for m, r in states.items() if r is not None and r["状态"] == REOPENED],
                        book.sealed, book.mode, book.key_id)
