"""The report checked against the scorecard books it was made from: the report is a view,
never a source of money.

``report`` records in the report's hidden sheet 来源 which books it read — each book's path
(relative to the report's folder and absolute) and the SHA-256 of its content — and the
month; after ``approve`` also the approval stamp (who, when, version, month hash).
``approve`` and ``payroll`` then take no grade and no amount from the report's cells: they
find the recorded books (a book changed since is refused, naming it, never silently read
again), score them again with the engine (``report.build_report``), apply the report's 校准
choices, and compare every cell of 月度汇总 that a person reads as pay — 姓名, 部门, 月份, 总分,
等级, 状态, every money column and 应发绩效合计 — with that recomputation. Any difference
refuses the command, naming the cell; so does a row whose money columns do not add up to
its 应发绩效合计, a row added or deleted, or a column of numbers the engine did not compute.
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ...diagnostics import Diagnostic, KpiError, Refused, error
from ...numbers import clean_round
from ...rules.loader import Catalog
from ..scorecard.reader import sheet_values
from .report import ReportData, build_report
from ...words import PENDING
from .tables import SUMMARY

SOURCES = "来源"  # the report's hidden sheet: what it was made from
FORMAT = "kpi-workbook 月度报表 1"
HEAD = ["项目", "值", "SHA-256", "绝对路径"]
BOOK = "考核表"
CHECKED_TEXT = ("姓名", "部门", "月份", "等级", "状态")
TOTAL = "应发绩效合计"
TOTALS_LABEL = "合计"  # in the 部门 column of the printed row under 月度汇总's cards
SHOWN_LIMIT = 20  # differences named one by one; the rest counted


@dataclass(frozen=True)
class Source:
    relative: str  # from the report's folder ('' when it is on another drive)
    absolute: str
    sha256: str


@dataclass(frozen=True)
class Stamp:
    """The approval a report shows (``approve`` rewrites the report with it)."""
    by: str
    when: str
    version: int
    digest: str  # the month hash of the approval


@dataclass
class Record:
    month: str
    books: list[Source]
    company: str = ""
    stamp: Stamp | None = None


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def digests_of(paths: list[Path]) -> list[str]:
    """``_digest_or_empty`` of each path, on every core (hashlib lets go of the GIL while it
    hashes: the books of 100,000 people are 2 GB)."""
    if len(paths) < 2:
        return [_digest_or_empty(Path(p)) for p in paths]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, min(len(paths), os.cpu_count() or 1, 8))) as pool:
        return list(pool.map(lambda p: _digest_or_empty(Path(p)), paths))


REPORT_DIGEST = "kpi-workbook 报表摘要 1"


def report_digest(path: Path) -> str:
    """SHA-256 of a report file as written, without inflating it: per zip member in the
    directory's order its name, method, flags, CRC, sizes and compressed bytes. Two files
    with one digest hold the same parts byte for byte (what a reader of the package sees);
    "" when the file is not a zip this can read."""
    import struct
    import zipfile

    digest = hashlib.sha256(REPORT_DIGEST.encode("utf-8"))
    try:
        with open(path, "rb") as f, zipfile.ZipFile(f) as package:
            members = package.infolist()
            digest.update(f"|{len(members)}".encode("ascii"))
            for info in members:
                f.seek(info.header_offset)
                head = f.read(30)
                if len(head) != 30 or head[:4] != b"PK\x03\x04":
                    return ""
                name, extra = struct.unpack("<HH", head[26:30])
                f.seek(info.header_offset + 30 + name + extra)
                digest.update(b"\n" + info.filename.encode("utf-8", "surrogateescape") + f"|{info.compress_type}|"
                              f"{info.flag_bits}|{info.CRC:08x}|{info.file_size}|{info.compress_size}|".encode("ascii"))
                left = info.compress_size
                while left > 0:
                    chunk = f.read(min(left, 1 << 20))
                    if not chunk:
                        return ""
                    digest.update(chunk)
                    left -= len(chunk)
    except (OSError, zipfile.BadZipFile, ValueError, struct.error):
        return ""
    return digest.hexdigest()


def sources_of(books: list[Path], out: Path) -> list[Source]:
    """The record of ``books`` for a report written to ``out``."""
    folder = Path(os.path.abspath(Path(out).parent))
    found = []
    for book, sha256 in zip(books, digests_of(books)):
        absolute = os.path.abspath(book)
        try:
            relative = Path(os.path.relpath(absolute, folder)).as_posix()
        except ValueError:  # another drive (Windows)
            relative = ""
        found.append(Source(relative, absolute, sha256))
    return found


def _digest_or_empty(path: Path) -> str:
    try:
        return file_digest(path)
    except OSError:  # unreadable: the report has a finding for it; recorded as such
        return ""


def record_rows(record: Record) -> list[list[str]]:
    """The rows of the 来源 sheet (header first)."""
    rows = [HEAD, ["格式", FORMAT, "", ""], ["月份", record.month, "", ""],
            ["公司", record.company, "", ""]]
    if record.stamp is not None:
        s = record.stamp
        rows += [["审批人", s.by, "", ""], ["审批时间", s.when, "", ""], ["审批版本", str(s.version), "", ""],
                 ["月度哈希", s.digest, "", ""]]
    rows += [[BOOK, b.relative, b.sha256, b.absolute] for b in record.books]
    return rows


def read_record(report: Path) -> Record:
    """The 来源 record of ``report``; a report without one (written by hand, by an older
    kpi-workbook, or with the sheet deleted) is refused: nothing says what it was made from."""
    report = Path(report)
    rows = sheet_values(report, SOURCES)
    keys = {}
    books = []
    for row in (rows or [])[1:]:
        cells = [("" if v is None else str(v).strip()) for v in list(row) + [None] * 4][:4]
        if cells[0] == BOOK:
            books.append(Source(cells[1], cells[3], cells[2].lower()))
        elif cells[0]:
            keys[cells[0]] = cells[1]
    if rows is None or keys.get("格式") != FORMAT:
        raise KpiError([error(
            "report-no-sources",
            f"{report.name} 没有记录它由哪些考核表生成（缺“{SOURCES}”工作表：旧版报表或被改过）："
            "金额无从核对，请用 report 重新生成报表",
            f"{report.name} does not record which scorecard books it was made from (no {SOURCES} sheet: "
            "an older or edited report): its amounts cannot be checked; make it again with report",
            source=str(report))])
    stamp = None
    if keys.get("审批人"):
        try:
            version = int(keys.get("审批版本", "0"))
        except ValueError:
            version = 0
        stamp = Stamp(keys["审批人"], keys.get("审批时间", ""), version, keys.get("月度哈希", ""))
    return Record(keys.get("月份", ""), books, keys.get("公司", ""), stamp)


def locate(report: Path, source: Source) -> Path:
    """The book of ``source``: beside the report as recorded, else at its absolute path."""
    candidates = []
    if source.relative:
        candidates.append(Path(report).parent / source.relative)
    if source.absolute:
        candidates.append(Path(source.absolute))
    for path in candidates:
        if path.is_file():
            return path
    shown = source.relative or source.absolute
    raise KpiError([error("report-book-missing",
                          f"找不到生成 {Path(report).name} 的考核表 {shown}：把它放回原处，或重新生成报表",
                          f"the scorecard book {shown} that {Path(report).name} was made from is not "
                          "found: put it back, or make the report again", source=str(report))])


@dataclass
class Recomputed:
    """The month as the engine scores the report's books, and what the report recorded."""
    record: Record
    data: ReportData
    books: list[Path] = field(default_factory=list)


def recompute(catalog: Catalog, report: Path) -> Recomputed:
    """Score the books ``report`` was made from again; a book whose content changed since
    (or changes while it is read) is refused, naming it."""
    report = Path(report)
    report_cells(report)  # a book that is no report at all is named as such first
    record = read_record(report)
    books = [locate(report, s) for s in record.books]
    _refuse_changed(report, record, books)
    data = build_report(catalog, books, record.month or None)
    _refuse_changed(report, record, books)  # written to while it was read
    return Recomputed(record, data, books)


def _refuse_changed(report: Path, record: Record, books: list[Path]) -> None:
    changed = [(b, s) for b, s, now in zip(books, record.books, digests_of(books)) if now != s.sha256]
    if changed:
        raise Refused([error(
            "report-book-changed",
            f"考核表 {b.name} 在生成 {report.name} 之后被改动（内容哈希不同）：报表已过时，"
            "请重新运行 report 再审批或发放",
            f"the scorecard book {b.name} changed after {report.name} was made (its content hash "
            "differs): the report is stale; run report again before approving or paying",
            source=str(b)) for b, _ in changed][:SHOWN_LIMIT])


# --- the report's cells against the recomputation ------------------------------------------------


def _col_name(j: int) -> str:
    name = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        name = chr(65 + r) + name
    return name


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, str) and not value.strip())


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _cents(value) -> int | None:
    number = _number(value)
    return None if number is None else int(clean_round(number * 100, 0))


def _shown(value) -> str:
    if _blank(value):
        return "（空）"
    number = _number(value)
    if number is not None:
        return f"{number:,.2f}" if number != int(number) or abs(number) >= 1000 else f"{number:g}"
    return f"“{value}”"


def _same(column: str, got, want) -> bool:
    if _blank(want):
        return _blank(got)
    if isinstance(want, str):
        return isinstance(got, str) and got.strip() == want.strip()
    if column == "总分":
        g = _number(got)
        return g is not None and clean_round(g, 1) == clean_round(float(want), 1)
    return _cents(got) is not None and _cents(got) == _cents(want)


def report_cells(report: Path) -> tuple[list[str], list[tuple[int, list]]]:
    """月度汇总's header and its rows with their row numbers (2 for the first)."""
    rows = sheet_values(Path(report), SUMMARY)
    if rows is None:
        raise KpiError([error("not-a-report", f"{Path(report).name} 没有“{SUMMARY}”工作表，不是月度报表",
                              f"{Path(report).name} has no {SUMMARY} sheet: not a monthly report",
                              source=str(report))])
    header = [str(c).strip() if c is not None else "" for c in rows[0]] if rows else []
    return header, [(i, list(r)) for i, r in enumerate(rows[1:], start=2)]


def check_cells(report: Path, expected: pd.DataFrame, money_columns: list[str],
                calibrated: bool = False) -> None:
    """Refuse (exit 1) when a cell of ``report``'s 月度汇总 that decides or shows pay differs
    from ``expected`` (the recomputed summary), naming every such cell; also a row whose
    money columns do not add up to its 应发绩效合计, an added or a deleted row, and a column
    of numbers the engine did not compute."""
    header, rows = report_cells(report)
    where = " (含校准 / calibrated)" if calibrated else ""
    diags: list[Diagnostic] = []

    def refuse(cell: str, zh: str, en: str) -> None:
        diags.append(error("report-changed", f"{SUMMARY}!{cell} {zh}", f"{cell} of {SUMMARY}: {en}",
                           source=str(report), sheet=SUMMARY, cell=cell))

    col = {name: j for j, name in reversed(list(enumerate(header))) if name}
    if "工号" not in col:
        raise KpiError([error("not-a-report", f"{Path(report).name} 的“{SUMMARY}”缺少列：工号",
                              f"{SUMMARY} of {Path(report).name} lacks the column 工号",
                              source=str(report), sheet=SUMMARY)])
    checked = [c for c in ("工号", *CHECKED_TEXT, "总分", *money_columns, TOTAL)]
    known = set(expected.columns) | {"岗位", "部门排名", "全员排名", "预警", "问题", "说明"}
    for name in checked:
        if name not in col and name in expected.columns and expected[name].map(lambda v: not _blank(v)).any():
            diags.append(error("report-changed", f"{SUMMARY} 缺少列“{name}”：报表被改过",
                               f"{SUMMARY} lacks the column '{name}': the report was edited",
                               source=str(report), sheet=SUMMARY))
    for name, j in col.items():
        if name in known or name.startswith("_"):
            continue
        hit = next(((i, r) for i, r in rows if j < len(r) and _number(r[j]) is not None
                    and not _totals_row(r, col)), None)
        if hit is not None:
            refuse(f"{_col_name(j)}{hit[0]}", f"列“{name}”不是考核表算出的，却有数字：删除该列或重新生成报表",
                   f"column '{name}' was not computed from the scorecards but holds numbers: delete it "
                   "or make the report again")

    want = {str(r["工号"]): r for r in expected.to_dict("records")}
    seen: dict[str, int] = {}
    totals_row: int | None = None
    e = col["工号"]
    for i, row in rows:
        row = row + [None] * (len(header) - len(row))
        employee = "" if _blank(row[e]) else str(row[e]).strip()
        if not employee:
            if _totals_row(row, col) and totals_row is None:
                totals_row = i  # the printed 合计 row: a view of the rows, checked below
                for name in [c for c in (*money_columns, TOTAL) if c in col]:
                    got, sums = _cents(row[col[name]]), _column_cents(expected, name)
                    if got != sums:
                        refuse(f"{_col_name(col[name])}{i}",
                               f"（合计行的{name}）显示 {_shown(row[col[name]])}，按考核表重算应为 "
                               f"{sums / 100:,.2f}：报表在生成后被改动，拒绝",
                               f"(the 合计 row's {name}) shows {_shown(row[col[name]])} but the "
                               f"scorecards give {sums / 100:,.2f}: the report was changed; refused")
                continue
            stray = [j for j in range(len(row)) if _number(row[j]) is not None]
            if stray:
                refuse(f"{_col_name(stray[0])}{i}", "所在行没有工号却有数字：报表被改过",
                       "a row without 工号 holds numbers: the report was edited")
            continue
        if employee in seen:
            refuse(f"{_col_name(e)}{i}", f"工号 {employee} 重复（另见第 {seen[employee]} 行）",
                   f"employee {employee} appears twice (see row {seen[employee]})")
            continue
        seen[employee] = i
        target = want.get(employee)
        if target is None:
            refuse(f"{_col_name(e)}{i}", f"工号 {employee} 不在生成报表的考核表中：行是后加的",
                   f"employee {employee} is on no scorecard the report was made from: the row was added")
            continue
        # the row's own money adds up (on the report's cells, before comparing them)
        amounts = [_cents(row[col[c]]) for c in money_columns if c in col and not _blank(row[col[c]])]
        total = _cents(row[col[TOTAL]]) if TOTAL in col else None
        if total is not None and None not in amounts and sum(a for a in amounts if a is not None) != total:
            parts = sum(a for a in amounts if a is not None) / 100
            refuse(f"{_col_name(col[TOTAL])}{i}",
                   f"工号 {employee} 的各金额列之和 {parts:,.2f} 与应发绩效合计 {total / 100:,.2f} 不符",
                   f"employee {employee}: the money columns add up to {parts:,.2f}, not to the pay "
                   f"total {total / 100:,.2f}")
        for name in checked[1:]:
            if name not in col or name not in target:
                continue
            got = row[col[name]]
            if not _same(name, got, target[name]):
                refuse(f"{_col_name(col[name])}{i}",
                       f"（工号 {employee} 的{name}）显示 {_shown(got)}，按考核表重算{'（含校准）' if calibrated else ''}"
                       f"应为 {_shown(target[name])}：报表在生成后被改动，拒绝",
                       f"(employee {employee}, {name}) shows {_shown(got)} but the scorecards give "
                       f"{_shown(target[name])}{where}: the report was changed after it was made; refused")
    for employee in want:
        if employee not in seen:
            diags.append(error("report-changed",
                               f"{SUMMARY} 少了工号 {employee} 的行（考核表中有）：报表被改过",
                               f"{SUMMARY} lacks the row of employee {employee}, who has a scorecard: "
                               "the report was edited", source=str(report), sheet=SUMMARY))
    if diags:
        more = len(diags) - SHOWN_LIMIT
        shown = diags[:SHOWN_LIMIT]
        if more > 0:
            shown.append(error("report-changed", f"……另有 {more} 处不符", f"... and {more} more differences",
                               source=str(report), sheet=SUMMARY))
        raise Refused(shown)


def _totals_row(row: list, col: dict[str, int]) -> bool:
    """The printed 合计 row under 月度汇总's cards: no 工号, 合计 in the 部门 column."""
    def cell(name: str):
        return row[col[name]] if name in col and col[name] < len(row) else None

    label = cell("部门")
    return _blank(cell("工号")) and not _blank(label) and str(label).strip() == TOTALS_LABEL


def _column_cents(frame: pd.DataFrame, name: str) -> int:
    """The sum of a money column in whole cents, its empty and 待定 cells counting 0 (as the
    合计 row under 月度汇总 adds them)."""
    if name not in frame.columns:
        return 0
    return sum(c for c in (_cents(v) for v in frame[name]) if c is not None)


def check_sums(summary: pd.DataFrame, money_columns: list[str], report: Path) -> None:
    """The recomputed rows add up too (each amount is whole cents; a failure is a bug)."""
    for r in summary.to_dict("records"):
        total = _cents(r.get(TOTAL))
        if total is None:
            continue
        parts = [_cents(r.get(c)) for c in money_columns if not _blank(r.get(c))]
        if None in parts or sum(p for p in parts if p is not None) != total:
            raise KpiError([error("pay-does-not-add-up",
                                  f"工号 {r['工号']} 的金额列之和与应发绩效合计不符（程序错误，请报告）",
                                  f"employee {r['工号']}: the money columns do not add up to the pay total "
                                  "(a bug: please report it)", source=str(report))])


__all__ = ["PENDING", "Record", "Recomputed", "Source", "Stamp", "check_cells", "check_sums",
           "file_digest", "read_record", "recompute", "record_rows", "sources_of"]
