"""The buttons of the HR master workbook, run from VBA with ``RunPython``.

``macros/KPIButtons.bas`` has one Sub per button, e.g.
``RunPython "import kpi_workbook.excel.buttons as b; b.generate_report()"``. Each entry point
takes the calling workbook (``xw.Book.caller()``, or a book passed in), saves it, reads its
设置 and 名单 from the saved file, calls the functions of ``kpi_workbook.api`` that the CLI
commands call (the folders below are all a button adds), shows progress in
Excel's status bar and ends with a message box — a problem is one sentence, never a
traceback. The result is also written to 首页!B4 and returned.

Conventions (the work folder is the master's folder, or 设置 › 工作文件夹):

==================  ======================================================================
名单                 the master's 名单 sheet; if it lists nobody, 名单.xlsx or 名单.csv in the
                     work folder
<月份>/考核表/        scorecard workbooks: one per 设置 › 拆分方式 value (部门 by default), or
                     考核表.xlsx; existing ones are kept unless 设置 › 覆盖已有考核表 = 是
<月份>/数据/          data files to import (.csv/.xlsx, long or wide, as ``kpi-workbook fill``)
<月份>/数据/录入表.xlsx the month's entry grid (``kpi-workbook entry-sheet``), imported with them
<月份>/导入问题.csv    problems found while importing (only when there are any)
<月份>/检查结果.csv    what ``validate`` finds, by file, sheet and cell
<月份>/月度报表.xlsx   the monthly report (rewritten on every run)
历史.xlsx            one row per employee and month, for the streak warnings
<月份>/工资表.csv      the payroll export for finance (UTF-8 with BOM)
<月份>/绩效结果通知书.xlsx  one page per employee (and .pdf where LibreOffice is installed)
汇总/                the quarter's and the year's roll-up of the month in 设置
==================  ======================================================================

Of the calling book only ``fullname``, ``save()``, ``sheets[...]`` (to write 首页!B4),
``app.status_bar``, ``app.alert(...)`` and ``app.books.open(...)`` (校准 opens the report's
校准 sheet for HR to edit) are used.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import api
from ..diagnostics import Diagnostic, KpiError, error
from ..rules.loader import Catalog
from ..words import HOME_SHEET as HOME, ROSTER_SHEET as ROSTER, SETTINGS_SHEET as SETTINGS, STATUS_CELL
from .setup import missing_sheet_errors

SCORECARDS, DATA = "考核表", "数据"
REPORT, PAYROLL, HISTORY = "月度报表.xlsx", "工资表.csv", "历史.xlsx"
ENTRY_GRID = "录入表.xlsx"
FINDINGS, IMPORT_FINDINGS = "检查结果.csv", "导入问题.csv"
ROSTER_FILES = ("名单.xlsx", "名单.csv")
SHOWN = 5  # problems listed in a message box; all of them are in the CSV


@dataclass(frozen=True)
class Job:
    """What a button works on: the saved master, its settings and the month's folders."""

    master: Path
    settings: Any  # api.master_settings: month, split_by, folder, templates, overwrite
    catalog: Catalog

    @property
    def month(self) -> str:
        return self.settings.month

    @property
    def month_dir(self) -> Path:
        return self.settings.folder / self.month

    @property
    def scorecards(self) -> Path:
        return self.month_dir / SCORECARDS

    @property
    def data(self) -> Path:
        return self.month_dir / DATA

    @property
    def report(self) -> Path:
        return self.month_dir / REPORT

    @property
    def history(self) -> Path:
        return self.settings.folder / HISTORY


# ---------------------------------------------------------------------------------------
# Entry points (one per button).


def create_scorecards(book=None) -> str:
    book = book or _caller()
    return _run(book, "生成考核表", _create_scorecards)


def entry_sheet(book=None) -> str:
    book = book or _caller()
    return _run(book, "生成录入表", _entry_sheet)


def import_data(book=None) -> str:
    book = book or _caller()
    return _run(book, "导入数据", _import_data)


def validate(book=None) -> str:
    book = book or _caller()
    return _run(book, "检查", _validate)


def generate_report(book=None) -> str:
    book = book or _caller()
    return _run(book, "生成月度报表", _generate_report)


def export_payroll(book=None) -> str:
    book = book or _caller()
    return _run(book, "导出工资表", _export_payroll)


# The rest of the month (校准, 审批, 季度/年度汇总, 通知书): each a few lines over kpi_workbook.api.

ROLLUPS, NOTICES = "汇总", "绩效结果通知书.xlsx"


def calibrate(book=None) -> str:
    book = book or _caller()
    return _run(book, "校准", lambda job, progress: _calibrate(book, job, progress))


def approve(book=None) -> str:
    book = book or _caller()
    return _run(book, "审批", _approve)


def rollups(book=None) -> str:
    book = book or _caller()
    return _run(book, "季度/年度汇总", _rollups)


def notices(book=None) -> str:
    book = book or _caller()
    return _run(book, "通知书", _notices)


def _caller():
    import xlwings as xw

    return xw.Book.caller()


# ---------------------------------------------------------------------------------------
# The work behind each button: the same functions as the CLI commands.


def _create_scorecards(job: Job, progress) -> str:
    roster, source = _roster(job)
    split = job.settings.split_by
    try:
        made = api.new(job.month, roster=roster, roster_source=source, templates=job.catalog,
                       out=None if split else job.scorecards / f"{SCORECARDS}.xlsx", split_by=split,
                       out_dir=job.scorecards if split else None, force=job.settings.overwrite,
                       progress=lambda n=1, note="": progress(note))
    except KpiError as exc:  # checked before anything is written
        existing = [Path(d.source) for d in exc.diagnostics if d.code == "exists"]
        if not existing or len(existing) != len(exc.diagnostics):
            raise
        raise KpiError([error(
            "exists", f"{_rel(job, existing[0])} 等 {len(existing)} 个考核表已存在；如需重新生成，"
            f"请在“{SETTINGS}”中把“覆盖已有考核表”设为“是”（已填数据会丢失）",
            f"{len(existing)} scorecard workbook(s) exist; set 覆盖已有考核表 to 是 to rebuild them",
            source=str(existing[0]))]) from None
    people = sum(len(b.sheets) for b in made.books)
    return (f"{job.month}：已为 {people} 人生成 {len(made.books)} 个考核表工作簿，在 "
            f"{_rel(job, job.scorecards)}")


def _entry_sheet(job: Job, progress) -> str:
    books = _scorecard_books(job)
    out = job.data / ENTRY_GRID
    if out.exists():  # it may hold what supervisors typed and nobody imported yet
        raise KpiError([error(
            "exists", f"已有 {_rel(job, out)}：如果其中的数据还没导入，请先点“导入数据”；要重新生成，请先删除或改名",
            f"{out} exists: import it first if it holds new data; delete or rename it to make a new one",
            source=str(out))])
    progress(f"{len(books)} 个工作簿")
    out.parent.mkdir(parents=True, exist_ok=True)
    made = api.entry_sheet(books, out, templates=job.catalog)
    return (f"已生成 {_rel(job, out)}：{len(made.sheets)} 个岗位、{made.people} 人；填好后点“导入数据”" +
            _findings(job, made.diagnostics, None))


def _import_data(job: Job, progress) -> str:
    books = _scorecard_books(job)
    files = sorted(p for p in job.data.glob("*") if p.suffix.lower() in (".csv", ".xlsx")
                   and not p.name.startswith(("~$", "."))) if job.data.is_dir() else []
    if not files:
        raise KpiError([error("no-data", f"{_rel(job, job.data)} 中没有数据文件（.csv 或 .xlsx）",
                              f"no data files (.csv or .xlsx) in {job.data}", source=str(job.data))])
    written, problems = 0, []
    for k, path in enumerate(files, start=1):
        progress(f"{k}/{len(files)} {path.name}")
        result = api.fill(books, path, templates=job.catalog)
        written += result.written
        problems += result.diagnostics
    text = f"已从 {len(files)} 个文件导入 {written} 个输入单元格到 {len(books)} 个考核表"
    return text + _findings(job, problems, job.month_dir / IMPORT_FINDINGS)


def _validate(job: Job, progress) -> str:
    books = _scorecard_books(job)
    progress(f"{len(books)} 个工作簿")
    found = api.validate(books, templates=job.catalog).diagnostics
    _write_findings(job.month_dir / FINDINGS, found)  # also when empty: no stale list stays
    if not found:
        return f"{len(books)} 个考核表工作簿检查通过，没有问题"
    return f"检查了 {len(books)} 个考核表工作簿" + _findings(job, found, job.month_dir / FINDINGS,
                                                     written=True)


def _generate_report(job: Job, progress) -> str:
    _scorecard_books(job)
    progress("重算全部考核表 / recomputing every scorecard")
    result = api.report(job.scorecards, job.report, history=job.history, month=job.month, force=True,
                        templates=job.catalog)
    text = result.summary_line().split(" / ")[0].split("\t")[-1]
    return f"{_rel(job, job.report)}：{text}" + _findings(job, result.diagnostics, None)


def _export_payroll(job: Job, progress) -> str:
    if not job.report.is_file():
        raise KpiError([error("no-report", f"还没有 {_rel(job, job.report)}：请先点“生成月度报表”",
                              f"{job.report} does not exist yet: generate the monthly report first",
                              source=str(job.report))])
    out = job.month_dir / PAYROLL
    progress(out.name)
    # the clean rows are paid; every row left out is listed, never silently unpaid
    result = api.payroll(job.report, out, allow_incomplete=True, force=True, templates=job.catalog)
    left_out = [d for d in result.diagnostics if d.severity == "error"]  # 不参与 (info) is not left out
    return (f"已导出 {result.paid} 人的绩效工资到 {_rel(job, out)}" +
            (f"；{len(left_out)} 项未发放（未完成、错误或报表有误）" if left_out else "") +
            _findings(job, result.diagnostics, None))


def _calibrate(book, job: Job, progress) -> str:
    sheet = api.calibration_sheet(_month_report(job))  # the report has one (a current report)
    progress(f"打开 {job.report.name}")
    book.app.books.open(str(job.report)).sheets[sheet].activate()
    return (f"已打开 {_rel(job, job.report)} 的“{sheet}”表：选校准等级、写校准理由，保存并关闭后点“审批”")


def _approve(job: Job, progress) -> str:
    progress(_month_report(job).name)
    result = api.approve(job.report, job.history, by=job.settings.approver or None, templates=job.catalog)
    return result.summary_line().split(" / ")[0] + _findings(job, result.diagnostics, None)


def _rollups(job: Job, progress) -> str:
    if not job.history.is_file():
        raise KpiError([error("no-history", f"还没有 {_rel(job, job.history)}：请先点“生成月度报表”",
                              f"{job.history} does not exist yet: generate the monthly report first",
                              source=str(job.history))])
    year, month = job.month.split("-")
    quarter = f"{year}Q{(int(month) - 1) // 3 + 1}"
    folder = job.settings.folder / ROLLUPS
    written, found = [], []
    for out, q, y in ((folder / f"{quarter}季度汇总.xlsx", quarter, None),
                      (folder / f"{year}年度汇总.xlsx", None, year)):
        progress(out.name)
        result = api.rollup(job.history, out, quarter=q, year=y, force=True, templates=job.catalog)
        written.append(_rel(job, out))
        found += result.diagnostics
    return "已写出 " + "、".join(written) + _findings(job, found, None)


def _notices(job: Job, progress) -> str:
    out = job.month_dir / NOTICES
    progress(f"{_month_report(job).name} → {out.name}")
    result = api.notices(job.report, out, history=job.history if job.history.is_file() else None,
                         force=True, templates=job.catalog,
                         progress=lambda n=1, note="": progress(note) if note else None)
    pdf = f"（PDF：{_rel(job, result.pdf)}）" if result.pdf else ""
    return (f"已为 {len(result.employees)} 人写出绩效结果通知书 {_rel(job, out)}{pdf}" +
            _findings(job, [d for d in result.diagnostics if d.severity != "info"], None))


def _month_report(job: Job) -> Path:
    if not job.report.is_file():
        raise KpiError([error("no-report", f"还没有 {_rel(job, job.report)}：请先点“生成月度报表”",
                              f"{job.report} does not exist yet: generate the monthly report first",
                              source=str(job.report))])
    return job.report


def _roster(job: Job):
    """(roster, its name): the master's 名单 rows, else a roster file in the work folder."""
    raw = api.master_roster(job.master)
    if raw is not None:
        return raw, f"{job.master.name}[{ROSTER}]"
    for name in ROSTER_FILES:
        path = job.settings.folder / name
        if path.is_file():
            return path, str(path)
    raise KpiError([error("no-roster", f"“{ROSTER}”表中没有员工，文件夹中也没有 {' 或 '.join(ROSTER_FILES)}",
                          f"the {ROSTER} sheet lists nobody and there is no {' or '.join(ROSTER_FILES)}",
                          source=str(job.master))])


def _scorecard_books(job: Job) -> list[Path]:
    books = api.scorecard_books(job.scorecards)
    if not books:
        raise KpiError([error("no-books", f"{_rel(job, job.scorecards)} 中还没有考核表：请先点“生成考核表”",
                              f"no scorecard workbooks in {job.scorecards}: create them first",
                              source=str(job.scorecards))])
    return books


def _findings(job: Job, found: list[Diagnostic], csv_path: Path | None, written=False) -> str:
    """'；N 个问题' plus the first few, and where the full list is."""
    if not found:
        return ""
    if csv_path is not None and not written:
        _write_findings(csv_path, found)
    errors = sum(d.severity == "error" for d in found)
    lines = [f"；{len(found)} 个问题（{errors} 个错误）" + (f"，全部列在 {_rel(job, csv_path)}"
                                                       if csv_path else "，见报表的“问题”表")]
    lines += [f"· {_short(d)}" for d in found[:SHOWN]]
    if len(found) > SHOWN:
        lines.append(f"· ……另有 {len(found) - SHOWN} 个")
    return "\n".join(lines)


def _write_findings(path: Path, found: list[Diagnostic]) -> None:
    api.write_findings(path, found)


def _short(d: Diagnostic) -> str:
    where = f"[{d.sheet}]{'!' + d.cell if d.cell else ''} " if d.sheet else ""
    return where + d.message_zh


def _rel(job: Job, path: Path) -> str:
    try:
        return str(Path(path).relative_to(job.settings.folder))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------------------
# Running a button: status bar, one message box, never a traceback.


def _run(book, title: str, work) -> str:
    app = book.app

    def progress(text: str) -> None:
        app.status_bar = f"{title}：{text}"

    ok = False
    try:
        progress("保存本工作簿 / saving this workbook")
        job = _job(book)
        text = work(job, progress)
        ok = True
    except KpiError as exc:
        text = _failure(exc.diagnostics)
    except OSError as exc:
        name = Path(exc.filename).name if getattr(exc, "filename", None) else ""
        text = (f"无法读写文件 {name}：{exc.strerror or exc}（文件是否正在 Excel 中打开？请关闭后重试） / "
                f"cannot read or write {name or 'a file'}: {exc.strerror or exc} (is it open in "
                f"Excel? close it and try again)")
    except Exception as exc:  # a bug: still one sentence in a message box
        text = (f"内部错误：{type(exc).__name__}: {exc}（请把这句话发给维护人员） / internal error: "
                f"{type(exc).__name__}: {exc}")
    finally:
        app.status_bar = False  # give the status bar back to Excel
    _note(book, title, text)
    app.alert(text, title=f"KPI · {title}", mode="info" if ok else "critical")
    return text


def _job(book) -> Job:
    master = Path(str(book.fullname))
    if not master.is_absolute() or not master.parent.is_dir():
        raise KpiError([error("unsaved", "请先把本工作簿保存到一个文件夹中（文件 › 另存为）",
                              "save this workbook to a folder first (File › Save As)")])
    book.save()  # what HR typed in 名单 and 设置 reaches the file the readers open
    settings = api.master_settings(master)
    return Job(master, settings, api.load_templates(settings.templates))


def _failure(diagnostics: list[Diagnostic]) -> str:
    if not diagnostics:
        return "失败 / failed"
    first, rest = diagnostics[0], diagnostics[1:]
    lines = [first.message]
    lines += [f"· {_short(d)}" for d in rest[:SHOWN]]
    if len(rest) > SHOWN:
        lines.append(f"· ……另有 {len(rest) - SHOWN} 个")
    return "\n".join(lines)


def _note(book, title: str, text: str) -> None:
    """The last result on 首页, so it is still there after the message box is closed."""
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    try:
        home = book.sheets[HOME]
    except missing_sheet_errors():  # a book without 首页: the message box carries the result
        return
    home[STATUS_CELL].value = f"{stamp} {title}：{text.splitlines()[0]}"


__all__ = ["create_scorecards", "entry_sheet", "import_data", "validate", "generate_report", "export_payroll",
           "calibrate", "approve", "rollups", "notices"]
