"""The front door: kpi-workbook as a library.

::

    import kpi_workbook as kpi

    made = kpi.new("2026-10", out="考核表.xlsx")          # the built-in sample roster
    kpi.fill("考核表.xlsx", "客服数据.csv")
    found = kpi.validate("考核表.xlsx").diagnostics
    month = kpi.report("考核表.xlsx", out="月度报表.xlsx", history="历史.xlsx")

Each function does what the ``kpi-workbook`` command of the same name does — the CLI, the
demo and the Excel buttons call these and nothing else — and returns a small frozen result:
``.diagnostics`` (a list of :class:`~kpi_workbook.diagnostics.Diagnostic`, messages in
Chinese and English as fields) and ``to_dict()``, the structure ``kpi-workbook COMMAND
--json`` prints. Arguments are keywords with defaults; ``templates`` is a template folder or
a loaded :class:`~kpi_workbook.rules.loader.Catalog` (default: the built-in templates).

What goes wrong, one rule for every function:

- **findings** about what is worked on — a cell, a card, a row, one book of several — are
  diagnostics in the result, and the work goes on (``validate``, ``fill``, ``report``,
  ``rollup``, ``payroll``'s excluded rows, ``score_frame``'s bad rows);
- **input that stops the work** — a file that is missing, damaged or not what it should be,
  an unknown role, a bad month, an output that exists without ``force``, the one card
  ``score`` was given with a bad value — raises :class:`~kpi_workbook.diagnostics.KpiError`
  carrying its diagnostics (the CLI exits 2);
- **the data says no** — a re-run of an approved month without ``reopen``, a payroll of an
  unapproved month with ``require_approved`` — raises :class:`~kpi_workbook.diagnostics.Refused`,
  a KpiError (the CLI exits 1);
- **arguments that do not go together** raise :class:`~kpi_workbook.diagnostics.UsageError`
  (a ValueError with both languages; the CLI exits 2);
- anything else is a bug and is raised as it is.
"""

from __future__ import annotations

import math
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union
from collections.abc import Callable, Iterable

from .diagnostics import Diagnostic, KpiError, UsageError, error
from .rules.loader import Catalog, builtin_catalog, load_catalog

if TYPE_CHECKING:  # pandas is imported by the work itself, not by importing the API
    import pandas as pd

PathLike = Union[str, "os.PathLike[str]"]
Templates = Union[PathLike, Catalog, None]

__all__ = ["new", "fill", "validate", "report", "payroll", "approve", "rollup", "notices",
           "check_history", "score", "score_frame", "load_templates", "master", "NewResult",
           "FillResult", "ValidateResult", "ReportResult", "PayrollResult", "ApproveResult",
           "RollupResult", "NoticesResult", "HistoryResult", "ScoreResult",
           "FrameResult", "MasterResult", "describe", "describe_text", "lint", "read_roster",
           # what the Excel front end (buttons, worksheet functions) reads and writes
           "master_settings", "master_roster", "master_buttons", "scorecard_books", "calibration_sheet",
           "write_findings", "add_ribbon", "settings_contents", "with_settings", "employee_field",
           "score_columns", "card_of", "grades", "score_pay"]


def load_templates(templates: Templates = None) -> Catalog:
    """A template folder loaded (every problem in it at once, as a KpiError), the built-in
    templates when ``templates`` is None, or a Catalog as it is."""
    if isinstance(templates, Catalog):
        return templates
    return load_catalog(Path(templates)) if templates else builtin_catalog()


def parse_month(text: object) -> str:
    """``YYYY-MM`` of a month in any of the forms the project reads; KpiError if it is none."""
    from .numbers import ParseError, parse_month as parse

    try:
        return parse(text)
    except ParseError as exc:
        raise KpiError([error("bad-month", exc.zh, exc.en, path=("month",))]) from None


def _paths(value: PathLike | Iterable[PathLike]) -> list[Path]:
    if isinstance(value, (str, os.PathLike)):
        return [Path(value)]
    return [Path(v) for v in value]


def _is_frame(value: object) -> bool:
    pandas = sys.modules.get("pandas")  # not imported yet: then it is no DataFrame
    return pandas is not None and isinstance(value, pandas.DataFrame)


def _optional(value: PathLike | None) -> Path | None:
    return None if value is None else Path(value)


Progress = Union[bool, Callable[..., None]]


@contextmanager
def _steps(show: Progress, total: int | None, desc: str, unit: str = "张"):
    """``progress=True``: a bar on stderr (when it is a terminal); a callable is called as
    ``step(n, note)`` at every step (Excel's status bar); False: nothing."""
    if callable(show):
        yield show
        return
    if not show:
        yield None
        return
    from .progress import progress

    with progress(total, desc, unit=unit) as step:
        yield step


def _dicts(diagnostics: Iterable[Diagnostic]) -> list[dict]:
    return [d.to_dict() for d in diagnostics]


# ---------------------------------------------------------------------------------------
# new


@dataclass(frozen=True)
class WrittenBook:
    path: Path
    sheets: tuple[str, ...]  # the scorecard sheets, one per employee


@dataclass(frozen=True)
class NewResult:
    month: str
    books: tuple[WrittenBook, ...]
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def lines(self) -> list[str]:
        """What ``kpi-workbook new`` prints: one line per book written."""
        return [f"{b.path}\t{len(b.sheets)} 张考核表 / scorecards" for b in self.books]

    def to_dict(self) -> dict:
        return {"month": self.month,
                "books": [{"path": str(b.path), "scorecards": len(b.sheets), "sheets": list(b.sheets)}
                          for b in self.books],
                "diagnostics": _dicts(self.diagnostics)}


def new(month: object, *, roster: PathLike | pd.DataFrame | None = None, out: PathLike | None = None,
        split_by: str | None = None, out_dir: PathLike | None = None, force: bool = False,
        templates: Templates = None, roster_source: str = "", progress: Progress = False) -> NewResult:
    """Scorecard workbooks for ``month``: one book at ``out``, or with ``split_by`` (部门,
    岗位, 直接上级) one book per value in ``out_dir``. ``roster`` is a .xlsx/.csv file or a
    table of its rows (named ``roster_source`` in messages); default: the built-in sample.
    Nothing is written if any output exists (without ``force``)."""
    from .workbook.scorecard.build import build_workbooks
    from .workbook.scorecard.form import refuse_big_books
    from .workbook.files import refuse_existing, refuse_inputs
    from .workbook.scorecard.roster import check_roster, read_roster, split_roster

    catalog = load_templates(templates)
    month = parse_month(month)
    if _is_frame(roster):
        table, sources = check_roster(catalog, roster, roster_source or "名单 / roster"), []
    else:
        path = None if roster is None else Path(roster)
        table, sources = read_roster(catalog, path), ([path] if path is not None else [])
    if split_by:
        if out_dir is None:
            raise UsageError("--split-by 需要 --out-dir / --split-by needs --out-dir")
        outputs = [(Path(out_dir) / f"{key}.xlsx", part) for key, part in split_roster(table, split_by)]
    else:
        if out is None:
            raise UsageError("需要 --out BOOK.xlsx（或 --split-by 与 --out-dir） / --out BOOK.xlsx "
                             "is required (or --split-by with --out-dir)")
        outputs = [(Path(out), table)]
    refuse_big_books(catalog, outputs, split_by)  # what the readers would refuse: before any work
    refused: list[Diagnostic] = []
    for path, _ in outputs:  # refuse before writing any, so nothing is half done
        try:
            refuse_existing(path, force)
        except KpiError as exc:
            refused += exc.diagnostics
        refuse_inputs(path, sources)
    if refused:
        raise KpiError(refused)
    books = []
    with _steps(progress, len(table), "生成考核表 / new") as step:
        for (path, _), sheets in zip(outputs, build_workbooks(catalog, outputs, month, force, step)):
            books.append(WrittenBook(path, tuple(sheets)))
    return NewResult(month, tuple(books))


# ---------------------------------------------------------------------------------------
# fill


@dataclass(frozen=True)
class FillResult:
    written: int
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def to_dict(self) -> dict:
        """What ``fill --json`` prints."""
        return {"written": self.written, "diagnostics": _dicts(self.diagnostics)}


def fill(books: PathLike | Iterable[PathLike], inputs: PathLike | pd.DataFrame, *,
         templates: Templates = None, lock_timeout: float | None = None, source: str = "",
         progress: Progress = False, profile: str | None = None,
         roster: PathLike | None = None) -> FillResult:
    """Write a long (工号, 输入, 评分人, 值) or wide table — a .csv/.xlsx file or a
    DataFrame — or the month's entry grid into the input cells of ``books``. Unknown
    employees, keys and bad values are diagnostics; each book is locked from its read to its
    write (``lock_timeout`` seconds). With ``profile`` (an import profile's name, e.g.
    ``chitu-presales``, or its file) ``inputs`` is that system's export, its people matched
    through the books' 名单 (or ``roster``)."""
    from .workbook.scorecard.fill import fill_workbooks, input_rows, read_inputs

    catalog = load_templates(templates)
    paths = _paths(books)
    found: list[Diagnostic] = []
    if profile is not None:
        if _is_frame(inputs):
            raise UsageError("--profile 需要导出文件，而不是表格 / --profile takes an export file, not a table")
        source = source or str(inputs)
        rows, found = _profile_rows(catalog, templates, paths, Path(inputs), profile, roster)
    elif _is_frame(inputs):
        source = source or "<DataFrame>"
        rows = input_rows(inputs, source)
    else:
        source = source or str(inputs)
        rows = None  # read while the books are scanned (below)
    with _steps(progress, None, "导入数据 / fill", unit="步") as step:
        def read_rows():
            found_rows = read_inputs(Path(inputs)) if rows is None else rows
            if step is not None:
                step(1, f"{len(found_rows)} 行 / rows")
            return found_rows

        done = fill_workbooks(catalog, paths, read_rows, source=source, lock_timeout=lock_timeout,
                              step=step)
    return FillResult(done.written, found + list(done.diagnostics))


# ---------------------------------------------------------------------------------------
# validate


@dataclass(frozen=True)
class ValidateResult:
    books: tuple[Path, ...]
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def summary_line(self) -> str:
        n = len(self.diagnostics)
        return f"{n} 个问题 / {n} findings"

    def to_dict(self) -> dict:
        """What ``validate --json`` prints."""
        return {"books": [str(b) for b in self.books], "diagnostics": _dicts(self.diagnostics)}


def validate(books: PathLike | Iterable[PathLike], *, templates: Templates = None) -> ValidateResult:
    """Everything wrong with the scorecards of ``books``, cell by cell: empty required
    inputs, bad or out-of-range values, formulas that are not the template's."""
    from .workbook.scorecard.validate import validate_books

    paths = tuple(_paths(books))
    return ValidateResult(paths, validate_books(load_templates(templates), list(paths)))


# ---------------------------------------------------------------------------------------
# report


def _check_company(company: str) -> None:
    """The company name goes into every printed page header (which Excel caps at 255
    characters): a longer one is refused before any work (the table of limits)."""
    from .limits import check_length

    check_length(company, "company_chars", "--company 公司名", "the company name (--company)")


@dataclass(frozen=True)
class ReportResult:
    out: Path
    history: Path | None
    month: str
    summary: pd.DataFrame = field(repr=False)  # 月度汇总, one row per employee
    money_columns: tuple[str, ...]
    notes: tuple[str, ...]  # what was done to the history, and why not
    diagnostics: list[Diagnostic] = field(default_factory=list)
    _done: Any = field(default=None, repr=False, compare=False)  # workbook.monthly.ReportResult

    def summary_line(self) -> str:
        return self._done.summary_line()

    def to_dict(self) -> dict:
        """What ``report --json`` prints."""
        return self._done.to_dict()


def report(inputs: PathLike | Iterable[PathLike], out: PathLike, *, history: PathLike | None = None,
           month: object = None, force: bool = False, reopen: bool = False, reason: str | None = None,
           by: str | None = None, lock_timeout: float | None = None, company: str = "",
           templates: Templates = None, progress: Progress = False) -> ReportResult:
    """The monthly report of the scorecard books (or folders of them) ``inputs``: every card
    recomputed by the engine; a damaged book or card is a finding, the others go on. With
    ``history`` the month is recorded there (locked from read to write); an approved month
    is refused (Refused) unless ``reopen`` with a ``reason``."""
    from .workbook.month.monthly import run_report

    if reopen and not (reason or "").strip():
        raise UsageError("--reopen 需要 --reason 原因 / --reopen needs --reason TEXT")
    _check_company(company)
    catalog = load_templates(templates)
    month = parse_month(month) if month is not None else None
    with _steps(progress, None, "月度报表 / report", unit="步") as step:
        done = run_report(catalog, _paths(inputs), Path(out), history=_optional(history), month=month,
                          force=force, reopen=reopen, reason=reason, by=by, lock_timeout=lock_timeout,
                          company=company, step=step)
    return ReportResult(done.out, done.history, done.data.month, done.data.summary,
                        tuple(done.data.money_columns), tuple(done.notes), list(done.findings), done)


# ---------------------------------------------------------------------------------------
# payroll


@dataclass(frozen=True)
class PayrollResult:
    out: Path | None  # None when nothing was exported
    month: str
    exported: bool
    frame: pd.DataFrame = field(repr=False)  # the rows paid, in payroll.yaml's columns
    total: float
    excluded: tuple[tuple[str, str, str, str], ...]  # (工号, 姓名, why zh, why en)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    _payroll: Any = field(default=None, repr=False, compare=False)  # workbook.payroll.Payroll

    @property
    def paid(self) -> int:
        return len(self.frame)

    def summary_line(self) -> str:
        return self._payroll.summary_line(exported=self.exported)

    def to_dict(self) -> dict:
        """What ``payroll --json`` prints."""
        return {"out": None if self.out is None else str(self.out), "month": self.month,
                "exported": self.exported, "paid": self.paid, "total": self.total,
                "excluded": [{"employee_id": e, "name": n, "reason_zh": zh, "reason_en": en}
                             for e, n, zh, en in self.excluded],
                "diagnostics": _dicts(self.diagnostics)}


def payroll(report: PathLike, out: PathLike, *, history: PathLike | None = None,
            allow_incomplete: bool = False, require_approved: bool = False, force: bool = False,
            unapproved: bool = False, templates: Templates = None, company: str = "") -> PayrollResult:
    """The money columns of ``report``'s month for finance, in the columns of ``payroll.yaml``
    (of ``templates`` if it has one), as .csv (UTF-8 with BOM) or .xlsx. Every amount comes
    from the engine scoring the books the report was made from (a changed book or report is
    refused). A month with incomplete, wrong, flagged or waiting rows is not exported
    (``exported`` False, every reason a diagnostic) unless ``allow_incomplete``, which exports
    the clean rows only. With ``history``, a row not approved as it is counts as unclean
    unless ``unapproved`` (each such row is then a warning). An .xlsx prints on A4 landscape
    with ``company`` in its title block, a 合计 row and the signature lines."""
    from .rules.payroll_layout import load_payroll_layout
    from .workbook.files import refuse_inputs
    from .workbook.month.payroll import check_output, prepare_payroll, write_payroll

    if require_approved and history is None:
        raise UsageError("--require-approved 需要 --history / --require-approved needs --history")
    _check_company(company)
    if unapproved and history is None:
        raise UsageError("--unapproved 需要 --history / --unapproved needs --history")
    if unapproved and require_approved:
        raise UsageError("--unapproved 与 --require-approved 不能同时使用 / --unapproved and "
                         "--require-approved do not go together")
    report, out = Path(report), Path(out)
    refuse_inputs(out, [report])  # never replace the report itself
    check_output(out, force)  # a bad output is refused before any work
    folder = templates.directory if isinstance(templates, Catalog) else templates
    layout = load_payroll_layout(None if folder is None else Path(folder))
    pay = prepare_payroll(report, layout, _optional(history), require_approved=require_approved,
                          catalog=load_templates(templates), unapproved=unapproved)
    exported = pay.clean or allow_incomplete
    if exported:
        write_payroll(pay.frame, out, force=force, money=pay.money, sheet=pay.sheet, month=pay.month,
                      company=company)  # company: the printed title block of an .xlsx
    return PayrollResult(out if exported else None, pay.month, exported, pay.frame, pay.total,
                         tuple(pay.excluded), pay.diagnostics(str(report)), pay)


# ---------------------------------------------------------------------------------------
# approve


@dataclass(frozen=True)
class ApproveResult:
    history: Path
    month: str
    rows: int
    version: int
    digest: str
    by: str
    when: str
    not_payable: int  # rows approved as they are that payroll will not pay (未完成, 错误)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    _done: Any = field(default=None, repr=False, compare=False)  # workbook.approval.ApproveResult

    def summary_line(self) -> str:
        return self._done.summary_line()

    def to_dict(self) -> dict:
        """What ``approve --json`` prints."""
        return {"history": str(self.history), "month": self.month, "rows": self.rows,
                "version": self.version, "digest": self.digest, "by": self.by, "when": self.when,
                "not_payable": self.not_payable, "diagnostics": _dicts(self.diagnostics)}


def approve(report: PathLike, history: PathLike, *, by: str | None = None,
            lock_timeout: float | None = None, templates: Templates = None) -> ApproveResult:
    """Record in ``history`` that the month of ``report`` is approved by ``by`` (default: the
    login name), with a SHA-256 of every row; the history is locked while it is written.
    HR's calibrated grades on the report's 校准 sheet are taken in first: grade-dependent pay
    follows them, and every change is an 审计 row with its reason."""
    from .workbook.month.approval import approve as approve_month

    if by is not None and not by.strip():
        raise UsageError("--by 不能为空 / --by must name who approves")
    done = approve_month(Path(report), Path(history), by=by, timeout=lock_timeout,
                         catalog=load_templates(templates))
    return ApproveResult(Path(history), done.month, done.rows, done.version, done.digest, done.by,
                         done.when, done.not_payable, list(done.diagnostics), done)


# ---------------------------------------------------------------------------------------
# history (check, sign)


@dataclass(frozen=True)
class HistoryResult:
    history: Path
    rows: int
    months: tuple[str, ...]
    approved: tuple[str, ...]  # months whose latest approval stands
    sealed: bool  # the history has a hash chain (verified)
    mode: str  # "SHA-256", "HMAC-SHA256", or "" when not sealed
    signed: str  # what sign=True changed ("" when nothing)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    _done: Any = field(default=None, repr=False, compare=False)  # approval.HistoryCheck

    def summary_line(self) -> str:
        return self._done.summary_line()

    def to_dict(self) -> dict:
        """What ``history --json`` prints."""
        return {**self._done.to_dict(), "diagnostics": _dicts(self.diagnostics)}


def check_history(history: PathLike, *, sign: bool = False, by: str | None = None,
                  lock_timeout: float | None = None) -> HistoryResult:
    """Verify the history file (hash chain, seal, approvals): a break raises Refused naming the
    sheet and row. With ``sign``, seal a history without a chain, or sign a plain one with this
    machine's key (``KPI_WORKBOOK_SIGNING_KEY`` or its key file), after verifying it."""
    from .workbook.month.approval import check_history as check

    if by is not None and not by.strip():
        raise UsageError("--by 不能为空 / --by must name who signs")
    done = check(Path(history), sign=sign, by=by, timeout=lock_timeout)
    return HistoryResult(done.path, done.rows, tuple(done.months), tuple(done.approved), done.sealed,
                         done.mode, done.signed, [], done)


# ---------------------------------------------------------------------------------------
# rollup


@dataclass(frozen=True)
class RollupResult:
    out: Path
    period: str
    employees: dict[str, pd.DataFrame] = field(repr=False)  # grade scheme id → one row per employee
    departments: dict[str, pd.DataFrame] = field(repr=False)  # grade scheme id → one row per department
    diagnostics: list[Diagnostic] = field(default_factory=list)
    _done: Any = field(default=None, repr=False, compare=False)  # workbook.rollup.RollupResult

    def summary_line(self) -> str:
        return self._done.summary_line()

    def to_dict(self) -> dict:
        """What ``rollup --json`` prints."""
        return self._done.to_dict()


def rollup(history: PathLike, out: PathLike, *, quarter: str | None = None, year: str | int | None = None,
           force: bool = False, company: str = "", require_approved: bool = False,
           templates: Templates = None) -> RollupResult:
    """季度汇总 (``quarter="2026Q4"``) or 年度汇总 (``year=2026``) of the month history (which
    verifies itself first). A month of the period not approved is an error finding, or
    refuses the roll-up (Refused) with ``require_approved``."""
    from .workbook.month.rollup import run_rollup

    if (quarter is None) == (year is None):
        raise UsageError("须给出 --quarter 或 --year 之一 / give one of --quarter or --year")
    _check_company(company)
    done = run_rollup(load_templates(templates), Path(history), Path(out), quarter=quarter,
                      year=None if year is None else str(year), force=force, company=company,
                      require_approved=require_approved)
    return RollupResult(done.out, done.data.period.text, done.data.employees, done.data.departments,
                        list(done.diagnostics), done)


# ---------------------------------------------------------------------------------------
# notices (绩效结果通知书 / 面谈表)


@dataclass(frozen=True)
class NoticesResult:
    out: Path
    pdf: Path | None  # printed beside it by LibreOffice, where it is installed
    month: str
    employees: tuple[str, ...]  # one notice (one A4 page) each
    notes: tuple[str, ...]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    _done: Any = field(default=None, repr=False, compare=False)  # workbook.month.notices.NoticesResult

    def summary_line(self) -> str:
        return self._done.summary_line()

    def to_dict(self) -> dict:
        """What ``notices --json`` prints."""
        return self._done.to_dict()


def notices(report: PathLike, out: PathLike, *, history: PathLike | None = None,
            books: PathLike | Iterable[PathLike] | None = None, company: str = "", force: bool = False,
            pdf: bool = True, templates: Templates = None, progress: Progress = False) -> NoticesResult:
    """绩效结果通知书 / 面谈表 of the month of ``report``: one A4 page per complete card (grade,
    total, pay, every item with its points and how they came about, the last six months, boxes
    for the talk, signature lines), scored again from the books the report was made of (or
    ``books``) with the report's 校准 applied; with ``history`` the trend and the approval.
    A PDF beside ``out`` where LibreOffice is present (``pdf``)."""
    from .workbook.month.notices import run_notices

    _check_company(company)
    with _steps(progress, None, "通知书 / notices", unit="份") as step:
        done = run_notices(load_templates(templates), Path(report), Path(out), history=_optional(history),
                           books=None if books is None else _paths(books), force=force, company=company,
                           pdf=pdf, step=step)
    return NoticesResult(done.out, done.pdf, done.data.month,
                         tuple(n.employee_id for n in done.data.notices), tuple(done.notes),
                         list(done.diagnostics), done)


# ---------------------------------------------------------------------------------------
# score, score_frame


@dataclass(frozen=True)
class ScoreResult:
    role: str
    status: str  # complete, incomplete, excluded (不参与)
    total: float
    grade: str | None
    result: dict = field(repr=False)  # the whole result: pay, items and their explanations, ...
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def to_dict(self) -> dict:
        """What ``score`` prints."""
        return self.result


def score(role: str, card: dict, *, templates: Templates = None, source: str = "") -> ScoreResult:
    """Score one scorecard given as data: ``{"month", "employee": {...}, "inputs": {KEY:
    VALUE or {RATER: VALUE}}}``. A bad value in the card raises KpiError naming every one."""
    from .engine.api import score_card

    result = score_card(load_templates(templates), role, card, source=source)
    return ScoreResult(result["role"], result["status"], result["total"], result["grade"], result)


@dataclass(frozen=True)
class FrameResult:
    role: str
    frame: pd.DataFrame = field(repr=False)  # one row per employee in, in the same order
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def to_dict(self) -> dict:
        rows = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
                for r in self.frame.to_dict("records")]
        return {"role": self.role, "rows": rows, "diagnostics": _dicts(self.diagnostics)}


def score_frame(role: str, frame: pd.DataFrame, *, month: object = None,
                templates: Templates = None) -> FrameResult:
    """Score one row per employee of ``role``: employee columns (工号 or id, 姓名, 部门,
    基本工资, 绩效基数Q, 全勤, ...) and one column per input key (as ``score`` takes them;
    an empty cell is an empty input). Out: the same rows with ``status``, ``total``,
    ``grade``, ``pay.<rule>``, ``pay.total`` and ``points.<item>``. A row with a bad value
    has status ``error`` and its diagnostics name the row (``path[0]``, the frame's index)."""
    import pandas as pd

    from .engine.api import EMPLOYEE_ALIASES, score_cards
    from .engine.score import EMPLOYEE_FIELDS
    from .numbers import is_blank

    catalog = load_templates(templates)
    chosen = catalog.role(role)
    month = parse_month(month) if month is not None else None
    person = [c for c in frame.columns if EMPLOYEE_ALIASES.get(str(c), str(c)) in EMPLOYEE_FIELDS]
    skip = {"role", "岗位"}
    keys = [c for c in frame.columns if c not in person and str(c) not in skip]
    cards = []
    for record in frame.to_dict("records"):
        card: dict[str, Any] = {"employee": {str(c): record[c] for c in person if not is_blank(record[c])},
                                "inputs": {str(c): record[c] for c in keys if not is_blank(record[c])}}
        if month is not None:
            card["month"] = month
        cards.append(card)
    rows, diagnostics = [], []
    outcomes = score_cards(catalog, chosen.id, cards)  # one pass of the engine for the lot
    for index, record, result in zip(frame.index, frame.to_dict("records"), outcomes, strict=True):
        out = {str(c): record[c] for c in person}
        if isinstance(result, KpiError):
            row = index.item() if hasattr(index, "item") else index  # a plain int for JSON
            diagnostics += [replace(d, path=(row, *d.path)) for d in result.diagnostics]
            rows.append({**out, "status": "error", "total": math.nan, "grade": None})
            continue
        out.update({"status": result["status"], "total": result["total"], "grade": result["grade"]})
        out.update({f"pay.{k}": math.nan if v is None else v for k, v in result["pay"].items()})
        out.update({f"points.{i['id']}": math.nan if i["points"] is None else i["points"]
                    for i in result["items"]})
        out["missing"], out["warnings"] = result["missing"], result["warnings"]
        rows.append(out)
    return FrameResult(chosen.id, pd.DataFrame(rows, index=frame.index), diagnostics)


# ---------------------------------------------------------------------------------------
# roles, lint, the roster: what the templates hold and what a roster says


def describe(role: str, *, templates: Templates = None) -> dict:
    """What ``kpi-workbook roles show ROLE --json`` prints: the role's sections, items,
    inputs (keys, labels, types, ranges), grade scheme and pay rules."""
    from .engine.describe import describe_role

    catalog = load_templates(templates)
    return describe_role(catalog, catalog.role(role))


def describe_text(info: dict) -> str:
    """:func:`describe`'s result as ``roles show`` prints it, in Chinese and English."""
    from .engine.describe import role_text

    return role_text(info)


def lint(templates: PathLike | None = None) -> list[Diagnostic]:
    """Every problem of a template folder (default: the built-in templates), all at once."""
    from .rules.lint import lint as lint_templates

    return lint_templates(None if templates is None else Path(templates))


def read_roster(roster: PathLike | None = None, *, templates: Templates = None) -> pd.DataFrame:
    """A roster file checked as ``new`` checks it (default: the built-in sample of 47
    people): canonical columns, a ``role`` of role ids; KpiError naming every bad row."""
    from .workbook.scorecard.roster import read_roster as read

    return read(load_templates(templates), None if roster is None else Path(roster))


# ---------------------------------------------------------------------------------------
# master, and what the Excel front end reads: the HR master workbook, the month's folder


@dataclass(frozen=True)
class MasterResult:
    path: Path
    people: int  # on its 名单 (0: headers only)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"path": str(self.path), "people": self.people, "diagnostics": _dicts(self.diagnostics)}


def master(out: PathLike, *, month: object = None, roster: PathLike | pd.DataFrame | None = None,
           templates: Templates = None, force: bool = False) -> MasterResult:
    """Write the HR master workbook (首页 with the buttons, 名单, 设置, xlwings.conf) for
    ``month`` (default: this month), its 名单 filled from ``roster`` (a file or a table,
    checked as ``new`` checks it) or left with headers only."""
    import datetime as dt

    from .workbook.files import refuse_inputs
    from .workbook.month.master import write_master
    from .workbook.scorecard.roster import check_roster, read_roster

    catalog = load_templates(templates)
    month = parse_month(month) if month is not None else dt.date.today().strftime("%Y-%m")
    out = Path(out)
    people: pd.DataFrame | None = None
    if _is_frame(roster):
        people = check_roster(catalog, roster, "名单 / roster")
    elif roster is not None:
        refuse_inputs(out, [Path(roster)])
        people = read_roster(catalog, Path(roster))
    if people is not None:  # what the readers would refuse, before any work
        from .limits import check_table

        check_table(len(people) + 1, (len(people) + 1) * 12 + 2_000, f"{out.name} 的名单",
                    f"the 名单 of {out.name}", source=str(out))
    written = write_master(catalog, out, month, people, force=force)
    return MasterResult(written, 0 if people is None else len(people))


def master_settings(path: PathLike):
    """The 设置 of a saved master workbook: month, split_by, folder, templates, overwrite
    (folders resolved against the workbook's own)."""
    from .workbook.month.master import read_settings

    return read_settings(Path(path))


def master_roster(path: PathLike) -> pd.DataFrame | None:
    """The master workbook's 名单 as text (blank rows dropped), or None when it lists nobody."""
    from .workbook.month.master import read_master_roster

    return read_master_roster(Path(path))


def calibration_sheet(report: PathLike) -> str:
    """The name of ``report``'s 校准 sheet (the 校准 button opens it); KpiError when the
    report has none (not a current monthly report)."""
    from .workbook.month.calibration import SHEET
    from .workbook.scorecard.reader import sheet_values

    if sheet_values(Path(report), SHEET) is None:
        raise KpiError([error("no-calibration", f"{Path(report).name} 没有“{SHEET}”工作表：请重新生成月度报表",
                              f"{Path(report).name} has no {SHEET} sheet: generate the monthly report again",
                              source=str(report))])
    return SHEET


def master_buttons() -> tuple:
    """The buttons of the master's 首页: (VBA macro, caption, what it does, reads, writes)."""
    from .workbook.month.master import BUTTONS

    return BUTTONS


def scorecard_books(*folders: PathLike) -> list[Path]:
    """The scorecard workbooks ``report`` would read in these folders (.xlsx and .xlsm, not
    Excel's ``~$`` lock files), in name order."""
    from .workbook.month.report import collect_books

    return collect_books([Path(f) for f in folders if Path(f).is_dir()], exclude=[])


def write_findings(path: PathLike, diagnostics: Iterable[Diagnostic]) -> Path:
    """A CSV of findings (级别, 文件, 工作表, 单元格, 问题, 代码), UTF-8 with BOM for Excel,
    written atomically over any earlier list."""
    import csv

    from .workbook.files import atomic_output

    path = Path(path)
    with atomic_output(path, force=True) as tmp:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as out:
            w = csv.writer(out)
            w.writerow(["级别", "文件", "工作表", "单元格", "问题", "代码"])
            for d in diagnostics:
                w.writerow([d.severity, Path(d.source).name if d.source else "", d.sheet, d.cell,
                            d.message, d.code])
    return path


def add_ribbon(book: PathLike, xml: bytes) -> Path:
    """Put a ribbon (customUI14 XML) into a workbook file, replacing any earlier one; the
    file is rewritten atomically and must not be open in Excel."""
    from .workbook.xlsx.ribbon import add_custom_ui

    return add_custom_ui(Path(book), xml)


# ---------------------------------------------------------------------------------------
# Cells: the worksheet functions (excel/functions.py) work on ranges, a column of inputs at
# a time, graded and paid by a book's 设置. They come through this door too, so that a
# function in a cell and a command give one result by one code path.


def settings_contents(rows, origin: tuple[int, int] = (1, 1)) -> tuple[dict[str, object], bool]:
    """The cells ``{"C12": value}`` of a 设置 range's values (a list of rows whose top-left
    cell is ``origin``, row and column from 1), and whether they are a scorecard book's 设置
    (it has a grade scheme's heading; the HR master workbook's 设置 has none)."""
    from .workbook.scorecard.settings import contents_of, holds_settings

    contents = contents_of(rows, origin)
    return contents, holds_settings(contents)


def with_settings(catalog: Catalog, contents: dict[str, object], *, roles: Iterable = (),
                  schemes: Iterable = ()) -> tuple[Catalog, list[Diagnostic]]:
    """``catalog`` with the grade thresholds and pay parameters that a 设置's cells (see
    :func:`settings_contents`) give ``roles`` and grade ``schemes``, as ``report`` reads a
    book's 设置; a broken or missing value is an error diagnostic naming its cell."""
    from .workbook.scorecard.settings import read_settings_values

    return read_settings_values(catalog, contents, list(roles), tuple(schemes))


def employee_field(header: str) -> str | None:
    """The employee field a column header names (工号 or employee_id, 基本工资, 全勤, …), or
    None when it names none."""
    from .engine.api import EMPLOYEE_ALIASES
    from .engine.score import EMPLOYEE_FIELDS

    field_name = EMPLOYEE_ALIASES.get(header, header)
    return field_name if field_name in EMPLOYEE_FIELDS else None


def score_columns(catalog: Catalog, role, employees: pd.DataFrame, values: dict):
    """Score every employee of ``role`` at once: ``employees`` has one row each (columns by
    :func:`employee_field` name), ``values`` one array of parsed values per canonical input key
    (NaN for empty). The engine's scores: ``.frame`` (total, grade, status, complete, pay.*,
    points.*), and per employee ``.errors`` (values no rule accepts), ``.missing``, ``.warnings``."""
    import numpy as np

    from .engine.score import score_role

    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is the card's error
        return score_role(catalog, role, employees, values)


def card_of(catalog: Catalog, scores, i: int) -> dict:
    """Employee ``i`` of :func:`score_columns` as ``score`` gives a card: total, grade, pay,
    each item with its points and explanation, missing inputs, warnings."""
    from .engine.api import card_result

    return card_result(catalog, scores, i)


def grades(scheme, totals):
    """The grade of each total under a grade scheme (None for an empty total)."""
    from .engine.score import grade_of

    return grade_of(scheme, totals)


def score_pay(catalog: Catalog, role, totals, employees: pd.DataFrame):
    """Each employee's performance pay from their total alone, under every pay rule of
    ``role``: what depends on the score, the grade and the employee fields. Item deductions
    count 0 and commission inputs are empty (the whole card is :func:`score_columns`'s)."""
    import numpy as np

    from .engine.score import compute_pay, grade_of

    totals = np.asarray(totals, dtype=float)
    zero = np.zeros(len(totals))
    with np.errstate(over="ignore", invalid="ignore"):
        return compute_pay(catalog.role_pay_rules(role), employees, totals,
                           grade_of(catalog.grade_scheme(role), totals), zero, zero,
                           lambda key: np.full(len(totals), np.nan))["total"]


# ---------------------------------------------------------------------------------------
# interruption


def remove_unfinished() -> None:
    """Remove the temporary files of the outputs being written right now (the CLI calls it
    on Ctrl-C, before it exits): the outputs are either whole or not there, as before."""
    from .workbook.files import remove_unfinished as remove
    from .workbook.scorecard.pool import remove_helpers_unfinished

    remove()
    remove_helpers_unfinished()  # those of the worker processes writing books (new, fill)


# ---------------------------------------------------------------------------------------
# A company's own scorecards and data: the month's entry grid, import profiles (see fill),
# template workbooks


@dataclass(frozen=True)
class EntrySheetResult:
    path: Path
    month: str
    sheets: tuple[tuple[str, str, int], ...]  # (sheet, role id, employees)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def people(self) -> int:
        return sum(n for _, _, n in self.sheets)

    def summary_line(self) -> str:
        return (f"{self.path}\t{self.month} 录入表：{len(self.sheets)} 个岗位，{self.people} 人 / entry grid: "
                f"{len(self.sheets)} roles, {self.people} people")

    def to_dict(self) -> dict:
        return {"path": str(self.path), "month": self.month,
                "sheets": [{"sheet": s, "role": r, "employees": n} for s, r, n in self.sheets],
                "diagnostics": _dicts(self.diagnostics)}


def entry_sheet(books: PathLike | Iterable[PathLike], out: PathLike, *, force: bool = False,
                templates: Templates = None) -> EntrySheetResult:
    """The month's entry grid of the scorecards in ``books``: per role one sheet, one row per
    employee, one column per input headed as on the card (考核项目 over 输入项), the card's
    data validation, the inputs already on the cards filled in. ``fill`` reads it back."""
    from .workbook.files import refuse_inputs
    from .workbook.scorecard.entry import write_entry_grid

    paths, out = _paths(books), Path(out)
    refuse_inputs(out, paths)
    done = write_entry_grid(load_templates(templates), paths, out, force=force)
    return EntrySheetResult(done.path, done.month, done.sheets, list(done.diagnostics))


__all__ += ["entry_sheet", "EntrySheetResult"]


def _profile_rows(catalog: Catalog, templates: Templates, books: list[Path], export: Path, profile: str,
                  roster: PathLike | None):
    """(the rows an import profile makes of ``export``, its findings)."""
    from .workbook.scorecard.profile import apply_profile, book_roster, load_profile
    from .workbook.scorecard.roster import read_roster as read

    folder = None if templates is None or isinstance(templates, Catalog) else Path(templates)
    if folder is None and isinstance(templates, Catalog):
        folder = templates.directory
    chosen = load_profile(profile, catalog, folder)
    people, month = book_roster(books)
    if roster is not None:
        people = read(catalog, Path(roster))
    done = apply_profile(catalog, chosen, export, people, month)
    return done.rows, done.diagnostics


@dataclass(frozen=True)
class TemplateResult:
    path: Path  # the workbook written, or the role file imported
    role: str
    files: tuple[Path, ...] = ()  # import: every file written
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"path": str(self.path), "role": self.role, "files": [str(f) for f in self.files],
                "diagnostics": _dicts(self.diagnostics)}


def template_export(role: str, out: PathLike, *, force: bool = False, templates: Templates = None) -> TemplateResult:
    """``role`` (any name of it) as a template workbook HR can edit: the role, its items and
    rules, grade schemes and pay rules, with dropdowns in Chinese throughout."""
    from .workbook.template.export import export_role

    catalog = load_templates(templates)
    chosen = catalog.role(role)
    return TemplateResult(export_role(catalog, chosen, Path(out), force=force), chosen.id)


def template_new(out: PathLike, *, force: bool = False) -> TemplateResult:
    """A template workbook with a short worked example (a 仓库管理员 form) to change into
    one's own role."""
    from .workbook.template.blank import example_role, new_template

    return TemplateResult(new_template(Path(out), force=force), example_role().id)


def template_import(workbook: PathLike, out: PathLike, *, force: bool = False, with_builtin: bool = False,
                    templates: Templates = None) -> TemplateResult:
    """Read a template workbook into the templates folder ``out`` (``roles/<id>.yaml``, with
    the grade schemes and pay rules it uses added to ``grades.yaml`` and ``pay.yaml``) after
    checking and linting it: every problem is one sentence naming the sheet and cell, all of
    them in the KpiError, and nothing is written while there is one. ``with_builtin`` first
    puts the built-in templates in a folder that has no roles yet."""
    from .workbook.template.importer import import_template

    done = import_template(Path(workbook), Path(out), load_templates(templates), force=force,
                           with_builtin=with_builtin)
    role_file = next(p for p in done.written if p.parent.name == "roles")
    return TemplateResult(role_file, done.role.id, tuple(done.written), done.diagnostics)


__all__ += ["template_export", "template_new", "template_import", "TemplateResult"]
