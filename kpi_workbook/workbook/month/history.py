"""Month history for streak warnings: one row per employee and month.

Re-running a month replaces that month's rows (idempotent), never duplicates them. The
warnings of the digest are read from the grade schemes: a grade in consecutive months or in
enough months of the year (S5: E; S9/S10: 不及格), and the department's lowest total
several months running (S9/S10).

The history is tamper-evident (chain.py): every row of 历史, 审批, 审批版本, 审计 and 计算记录
is chained, the chains sealed in 校验, and every read verifies all of it before anything is
used — and then that each approval's month hash is that of its approved rows, each approved
row's 行哈希 that of its content, and each 历史 row of an approved month what was approved.
The first break refuses the command, naming the sheet and the row. Sheets still byte for
byte as the program wrote and sealed them (their signed data digests) were verified before
they were written and are not hashed row by row again. The cells are written as sheet XML
directly (xlsx.sheet_rows), not cell by cell through XlsxWriter.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path

import numpy as np
import pandas as pd
from xlsxwriter.utility import xl_col_to_name

from ...diagnostics import KpiError, Refused, error
from ...numbers import XML_ILLEGAL, ParseError, parse_month
from ...rules.loader import Catalog
from ..files import atomic_output
from ..xlsx.package import put_stored
from ..xlsx.sheet_rows import CELL_TEXT_LIMIT, _truncated
from .chain import CHAIN, SEAL, Sheet, Signer, data_digest, seal_rows, signer_for, verify

SHEET = "历史"
COLUMNS = ["工号", "姓名", "部门", "岗位ID", "月份", "总分", "等级", "状态", "部门最低", "应发绩效合计"]

# Approval and audit (issue 9): who approved which month, every approved version of every
# row (nothing is ever deleted), and every value a reopened month changed.
APPROVALS, VERSIONS, AUDIT = "审批", "审批版本", "审计"
APPROVAL_COLUMNS = ["月份", "版本", "状态", "审批人", "审批时间", "行数", "哈希",
                    "重开人", "重开时间", "重开原因"]
VERSION_COLUMNS = ["月份", "版本", "工号", "姓名", "部门", "总分", "等级", "状态", "应发绩效合计",
                   "金额明细", "行哈希",
                   # the card as the engine scored it (its row's hash before calibration), and
                   # the calibration approved with it: a reopening keeps what still holds
                   "卡片哈希", "校准前等级", "校准理由"]
AUDIT_COLUMNS = ["月份", "工号", "字段", "之前", "之后", "操作人", "时间", "原因"]
APPROVED, REOPENED = "已审批", "已重开"
ROW_FIELDS = ["姓名", "部门", "总分", "等级", "状态", "应发绩效合计"]  # what an approved row's hash covers
# What the engine computed for a month (issue 24), one row per `report --history` (the last
# of a month counts): the month hash of its 月度汇总 rows as the engine scored them
# (approval.engine_digest), of the books it read (approval.books_digest),
# the money columns in order, and how many error findings no row carries. approve and
# payroll check a report against it instead of scoring its books again.
# 报表摘要 (verify.report_digest): the report file as written (and as approve stamped it,
# recorded in a row of its own), so a report byte for byte that file is not read cell by
# cell again; "" when the report holds something its 月度哈希 does not cover (calibrations
# a reopening kept). A 计算记录 written before it has no such column and is read as it was.
# 历史摘要: the month's 历史 sheet as the same write stored it (its zip member's sealed digest,
# chain.RAW_ROW), put in by write_history for a month ``report --history`` recorded
# (HistoryBook.linked): while that member is byte for byte the one sealed, its rows are the
# report's, and approve of the report as recorded neither reads nor compares them. A 计算记录
# written before it has no such column, and its month's 历史 is read and compared as ever.
COMPUTED = "计算记录"
REPORT_DIGEST = "报表摘要"
HISTORY_DIGEST = "历史摘要"
COMPUTED_COLUMNS = ["月份", "行数", "月度哈希", "考核表哈希", "金额列", "其他错误", "时间", REPORT_DIGEST,
                    HISTORY_DIGEST]
CHAINED = {SHEET: COLUMNS, APPROVALS: APPROVAL_COLUMNS, VERSIONS: VERSION_COLUMNS, AUDIT: AUDIT_COLUMNS,
           COMPUTED: COMPUTED_COLUMNS}
# chained sheets a history may not have: sealed only once they have rows (计算记录: an older
# history's; 历史 and 审批版本 of no month: a history kept by month has none)
OPTIONAL = {COMPUTED, SHEET, VERSIONS}


def hash_text(value, decimals: int | None = None) -> str:
    """One value in the canonical form an approved row's hash is taken of."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{float(value):.{decimals if decimals is not None else 2}f}"
    return str(value).strip()


# json.dumps(value, ensure_ascii=False, sort_keys=True), its encoder made once (a month hashes
# 100,000 rows: json.dumps with options makes an encoder per call)
CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


def row_hash(employee: str, month: str, fields: dict, amounts: dict[str, str]) -> str:
    """SHA-256 of an approved row: 工号, 月份, the amounts per money column (texts with two
    decimals) and ROW_FIELDS (总分 with one decimal, money with two)."""
    canonical = {"工号": employee, "月份": month, "金额": amounts,
                 **{c: hash_text(fields.get(c), 1 if c == "总分" else None) for c in ROW_FIELDS}}
    return hashlib.sha256(CANONICAL.encode(canonical).encode("utf-8")).hexdigest()


def each_distinct(values, work) -> list:
    """``[work(v) for v in values]``, worked out once per distinct value: a float column by
    the bits of its values (-0.0 and 0.0, or two NaNs, are told apart as work would tell
    them), any other by the value and its type (True is not 1); a zero or a NaN of a mixed
    column is worked out each time, as it is."""
    if isinstance(values, pd.Series) and values.dtype == np.float64:
        bits = values.to_numpy(dtype=np.float64).view(np.int64)
        distinct, where = np.unique(bits, return_inverse=True)
        done = np.empty(len(distinct), dtype=object)
        done[:] = [work(v) for v in distinct.view(np.float64).tolist()]
        return done[where.reshape(-1)].tolist()
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.StringDtype):
        # texts only (and the dtype's one missing value): equal texts are the same value
        codes, distinct = pd.factorize(values, use_na_sentinel=True)
        done = np.empty(len(distinct) + 1, dtype=object)
        done[:-1] = [work(v) for v in distinct.tolist()]
        done[-1] = work(values.dtype.na_value) if (codes < 0).any() else None
        return done[codes].tolist()  # code -1: the last, the missing value's
    memo: dict = {}
    out = []
    for v in (values.tolist() if isinstance(values, pd.Series) else values):
        if isinstance(v, (float, np.floating)) and (v == 0 or v != v):  # numpy's too: -0.0 == 0.0
            out.append(work(v))
            continue
        key = (type(v), v)
        done = memo.get(key, memo)
        if done is memo:
            done = memo[key] = work(v)
        out.append(done)
    return out


_FIELD_KEY = {c: json.encoder.encode_basestring(c) + ": " for c in ("工号", "月份", *ROW_FIELDS)}


def row_hash_column(employees: list[str], months: list[str], fields: dict[str, list],
               amounts: list[str]) -> list[str]:
    """row_hash of every row, made column-wise: the same canonical text (CANONICAL of the
    same dictionary: keys sorted, ", " and ": " between) and so the same SHA-256.
    ``fields`` holds ROW_FIELDS' values per column (a column left out is None), ``amounts``
    each row's amounts as CANONICAL encoded them (approval's 金额明细)."""
    quote = json.encoder.encode_basestring
    n = len(employees)
    parts = {"工号": [_FIELD_KEY["工号"] + quote(e) for e in employees],
             "月份": [_FIELD_KEY["月份"] + quote(m) for m in months],
             "金额": ['"金额": ' + a for a in amounts]}
    for c in ROW_FIELDS:
        values = fields.get(c)
        if values is None:
            parts[c] = [_FIELD_KEY[c] + '""'] * n
        else:
            key = _FIELD_KEY[c]
            decimals = 1 if c == "总分" else None
            parts[c] = each_distinct(values, lambda v, key=key, d=decimals: key + quote(hash_text(v, d)))
    columns = [parts[k] for k in sorted(parts)]
    sha = hashlib.sha256
    return [sha(("{" + ", ".join(p) + "}").encode("utf-8")).hexdigest() for p in zip(*columns)]


def month_digest(row_hashes) -> str:
    """The month hash an approval binds: SHA-256 of its rows' hashes, sorted."""
    return hashlib.sha256("\n".join(sorted(str(h) for h in row_hashes)).encode("utf-8")).hexdigest()


# The per-employee tables kept one sheet per month (issue 24): 历史 2026-10, 审批版本 2026-10.
MONTHLY = (SHEET, VERSIONS)
_MONTH_SHEET = re.compile(r"^(历史|审批版本) ([0-9]{4}-[0-9]{2})$")
_MONTH = r"^[0-9]{4}-(?:0[1-9]|1[0-2])$"


def month_sheet(family: str, month: str) -> str:
    """The sheet of ``family`` (历史, 审批版本) holding ``month``'s rows: 历史 2026-10."""
    return f"{family} {month}"


def _family_of(name: str) -> tuple[str, str] | None:
    m = _MONTH_SHEET.match(name)
    return (m.group(1), m.group(2)) if m else None


def _columns_of(name: str, header: list[str] | None = None) -> list[str]:
    """The chained columns of sheet ``name``; of a 计算记录 written before 历史摘要 or
    报表摘要 (its ``header`` without them), the columns its chain was made of."""
    family = _family_of(name)
    columns = CHAINED[family[0] if family else name]
    if name == COMPUTED and header:
        for added in (HISTORY_DIGEST, REPORT_DIGEST):  # added at the end, the last first
            if columns[-1:] == [added] and added not in header:
                columns = columns[:-1]
    return columns


def _linked(whole: HistoryBook, raws: dict[str, str]) -> pd.DataFrame:
    """``whole.computed`` with each ``whole.linked`` month's last row given the sealed digest
    of the 历史 month member written (HISTORY_DIGEST)."""
    computed = whole.computed
    for month in sorted(whole.linked):
        at = computed.index[computed["月份"].astype(str) == month] if len(computed) else []
        if len(at):
            computed = computed.copy() if computed is whole.computed else computed
            computed.loc[at[-1], HISTORY_DIGEST] = raws.get(month_sheet(SHEET, month), "")
    whole.computed = computed
    return computed


@dataclass
class _Stored:
    """A month sheet of the file read, byte for byte as sealed: where its zip member is and
    what the seal says of it (copied as it is by the next write when its rows are unchanged)."""
    member: str
    raw: str  # SHA-256 of the member's compressed bytes (signed in 校验)
    data: str  # its <sheetData> digest (signed)
    count: int
    tail: str
    crc: int
    compressed: int
    size: int


@dataclass
class HistoryBook:
    """Every sheet of a history file: the month rows, and the approvals, approved versions
    and audit trail that only ever grow.

    ``rows`` and ``versions`` hold the months read: all of them, or those a command asked
    for (read_history_book ``months``; :meth:`load` reads more). A month not read is in
    ``unread`` — its sheets byte for byte as sealed — and is copied as it is by write_history."""
    rows: pd.DataFrame
    approvals: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=APPROVAL_COLUMNS))
    versions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=VERSION_COLUMNS))
    audit: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=AUDIT_COLUMNS))
    computed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COMPUTED_COLUMNS))
    sealed: bool = False  # read from a history whose chain was verified (not one without a chain)
    mode: str = ""  # how its hashes were made (chain.PLAIN, chain.KEYED), "" when not sealed
    key_id: str = ""  # the fingerprint of the key that signed it
    source: Path | None = None  # the file read
    signer: Signer | None = None  # what it was read with
    unread: set[str] = field(default_factory=set)  # month sheets of ``source`` not read
    stored: dict[str, _Stored] = field(default_factory=dict)  # month sheets as sealed in ``source``
    originals: dict[str, dict[str, list]] = field(default_factory=dict)  # month sheet read → its cells
    identity: tuple = ()  # the file read, as it was when read (_identity): load() reads that file
    # months whose last 计算记录 row write_history gives the 历史摘要 of the 历史 month it writes
    linked: set[str] = field(default_factory=set)

    def approval(self, month: str) -> dict | None:
        """The month's latest approval record (``状态`` 已审批 or 已重开), or None."""
        mine = self.approvals[self.approvals["月份"].astype(str) == month]
        if not len(mine):
            return None
        return mine.sort_values("版本", kind="stable").iloc[-1].to_dict()

    def computation(self, month: str) -> dict | None:
        """What the engine computed for ``month`` at its last ``report --history``, or None."""
        mine = self.computed[self.computed["月份"].astype(str) == month]
        return mine.iloc[-1].to_dict() if len(mine) else None

    def approved_rows(self, month: str) -> pd.DataFrame:
        """The rows of the month's latest approval (any state)."""
        record = self.approval(month)
        if record is None:
            return pd.DataFrame(columns=VERSION_COLUMNS)
        self.load([month], (VERSIONS,))
        v = self.versions
        return v[(v["月份"].astype(str) == month) & (v["版本"] == record["版本"])]

    def months(self) -> list[str]:
        """Every month of 历史 in the history, read or not."""
        unread = {f[1] for f in map(_family_of, self.unread) if f is not None and f[0] == SHEET}
        return sorted({str(m) for m in self.rows["月份"]} | unread)

    def load(self, months, families: tuple[str, ...] = MONTHLY) -> None:
        """Read the sheets of ``months`` not read yet (verified as every read), adding their
        rows to ``rows`` and ``versions``; what the book holds already is kept as it is."""
        wanted = {month_sheet(f, m) for f in families for m in months} & self.unread
        if wanted and self.source is not None:
            self._add(self._again(wanted), wanted)

    def load_all(self) -> None:
        if self.unread and self.source is not None:
            self._add(self._again(None), set(self.unread))

    def _again(self, wanted: set[str] | None) -> HistoryBook:
        """The file read again for more of its months: the very file read first (a command
        that reads without the lock, as payroll and rollup do, must not pair one file's
        approvals with another's rows), else refused: run the command again."""
        assert self.source is not None
        again = _read_book(self.source, self.signer, False, False, wanted)
        if not self.identity or again.identity != self.identity or _identity(self.source) != self.identity:
            raise Refused([error("history-changed", f"历史文件 {self.source.name} 在读取时被改动：请重新运行",
                                 f"the history file {self.source.name} changed while it was read: "
                                 "run the command again", source=str(self.source))])
        return again

    def _add(self, again: HistoryBook, names: set[str]) -> None:
        months = {f: {m for g, m in map(_family_of, names) if g == f} for f in MONTHLY}  # type: ignore[misc]
        rows = again.rows[again.rows["_sheet"].isin(names)] if len(again.rows) else again.rows
        versions = again.versions[again.versions["月份"].isin(months[VERSIONS])] if len(again.versions) else \
            again.versions
        self.rows = _concat([self.rows, rows], list(self.rows.columns))
        self.versions = _concat([versions, self.versions], list(self.versions.columns))  # older versions first
        self.originals.update({n: again.originals[n] for n in names if n in again.originals})
        self.unread -= names


def read_history_book(path: Path | None, signer: Signer | None = None, unsealed_ok: bool = False,
                      full: bool = False, months=None, families: tuple[str, ...] = MONTHLY) -> HistoryBook:
    """Every sheet of the history at ``path`` (an empty history when there is none), after
    verifying its chain, its seal and its approvals (refused at the first break). A history
    with approvals but no chain at all is refused unless ``unsealed_ok`` (sealing it).

    A sheet whose rows are byte for byte what the last write sealed (its ``<sheetData>``
    digest, signed with the seal: chain.verify) is not hashed row by row again: its count and
    last hash are checked against the seal; ``full`` (`kpi-workbook history`) hashes every row.

    ``months`` (default: all): the months whose sheets of ``families`` are read. Another
    month's sheet whose zip member is byte for byte the one sealed (its compressed bytes'
    digest, signed) is not read at all; one that is not is read and verified as ever."""
    if path is None or not Path(path).exists():
        return HistoryBook(pd.DataFrame(columns=COLUMNS))
    want = None if months is None or full else {month_sheet(f, m) for f in families for m in months}
    return _read_book(Path(path), signer, unsealed_ok, full, want)


def _picked(rows: list, where: list[int | None]) -> list[list]:
    """``[[r[j] if j is not None else None for j in where] for r in rows]``, by itemgetter
    when every column is there (a month of 100,000 rows read back)."""
    from operator import itemgetter

    if not where or any(j is None for j in where):
        return [[r[j] if j is not None else None for j in where] for r in rows]
    if len(where) == 1:
        return [[r[where[0]]] for r in rows]
    pick = itemgetter(*where)
    return [list(pick(r)) for r in rows]


def _identity(path: Path) -> tuple:
    """Which file is at ``path`` and its state: a history is only ever replaced whole
    (files.atomic_output), so a write in between gives another inode or time."""
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _read_book(path: Path, signer: Signer | None, unsealed_ok: bool, full: bool,
               want: set[str] | None) -> HistoryBook:
    identity = _identity(path)  # before the read: a file replaced meanwhile is another identity
    raw, seal, written, stored, unread = _read_sheets(path, signer, None if full else want)
    if not _is_history(raw.get(SHEET)) and not any(
            _family_of(n) is not None and _family_of(n)[0] == SHEET for n in [*raw, *unread]):  # type: ignore[index]
        # not a history file (a scorecard workbook or a report named by mistake): never
        # overwrite it with one
        raise KpiError([error("not-history", f"{path.name} 不是月度历史文件（没有“{SHEET}”工作表及 工号、月份 列）",
                              f"{path.name} is not a history file (no {SHEET} sheet with 工号 and 月份)",
                              source=str(path))])
    tables = {name: _table(values) for name, values in raw.items()}
    chained = seal is not None or any(CHAIN in header for header, _ in tables.values())
    unchanged: set[str] = set()
    if chained:
        from .chain import sealed_counts

        sheets = []
        listed = [n for n in sealed_counts(seal) if _family_of(n) is not None] if seal else []
        month_names = sorted({n for n in [*raw, *unread, *listed] if _family_of(n) is not None},
                             key=lambda n: (_family_of(n)[1], n))  # type: ignore[index]
        for name in [*CHAINED, *month_names]:
            if name in unread:
                sheets.append(Sheet(name, [], [], written=stored[name].data, unread=True))
                continue
            header, rows = tables.get(name, ([], []))
            columns = _columns_of(name, header)
            lost = [c for c in columns + [CHAIN] if c not in header]
            if raw.get(name) is not None and rows and lost:
                raise Refused([error("history-tampered", f"{path.name} 的“{name}”缺少列：{'、'.join(lost)}",
                                     f"the {name} sheet of {path.name} lacks columns: {', '.join(lost)}",
                                     source=str(path), sheet=name)])
            at = {c: header.index(c) for c in columns + [CHAIN] if c in header}
            sheets.append(Sheet(name, _picked(rows, [at.get(c) for c in columns]),
                                [v.strip() if type(v) is str else hash_text(v) for v in  # hash_text, quickly
                                 (r[at[CHAIN]] for r in rows)] if CHAIN in at else [""] * len(rows),
                                missing=raw.get(name) is None, optional=name in OPTIONAL,
                                written=written.get(name, "")))
        approved = _approved_months(tables[APPROVALS])
        where = COLUMNS.index("月份")
        mode, key_id, unchanged = verify(path, signer or signer_for(path), sheets, seal, approved,
                                         lambda sheet, values: _month_text(values[where])
                                         if sheet.split(" ")[0] == SHEET else "", full=full)
    elif any(tables[name][1] for name in (APPROVALS, VERSIONS, AUDIT)) and not unsealed_ok:
        raise Refused([error("history-tampered",
                             f"{path.name} 有审批记录却没有哈希链（被改过，或由旧版 kpi-workbook 写成）：核对无误后用 "
                             f"kpi-workbook history {path.name} --sign 封存",
                             f"{path.name} has approvals but no hash chain (edited, or written by an older "
                             f"kpi-workbook): after checking it, seal it with kpi-workbook history {path.name} --sign",
                             source=str(path))])
    read = [n for n in raw if raw[n] is not None]
    if unread and not (chained and set(read) <= unchanged):
        # a sheet read is not as sealed (edited, or saved by a spreadsheet): every month is
        # read and the approvals checked against all of it
        return _read_book(path, signer, unsealed_ok, full, None)

    def frame(name: str, columns: list[str], table=None) -> pd.DataFrame:
        header, rows = tables[name] if table is None else table
        data = pd.DataFrame([r[:len(header)] for r in rows], columns=header) if header else pd.DataFrame()
        data = data.loc[:, ~data.columns.duplicated()] if len(data.columns) else data
        for c in columns:
            if c not in data:
                data[c] = None
        if "月份" in data:
            data["月份"] = _each_once(data["月份"], _month_text)
        if "版本" in data:
            data["版本"] = pd.to_numeric(data["版本"], errors="coerce").fillna(0).astype(int)
        for c in ("工号", "行哈希", "哈希"):
            if c in data:
                data[c] = data[c].map(lambda v: "" if v is None else str(v).strip())
        return data[columns].reset_index(drop=True)

    monthly = {f: [n for n in raw if raw[n] is not None and (_family_of(n) or ("",))[0] == f] for f in MONTHLY}
    monthly = {f: sorted(names, key=lambda n: _family_of(n)[1]) for f, names in monthly.items()}  # type: ignore[index]
    history_parts = [_history_frame(tables[SHEET], SHEET)] + [_history_frame(tables[n], n) for n in monthly[SHEET]]
    version_parts = [frame(VERSIONS, VERSION_COLUMNS)] + [frame(n, VERSION_COLUMNS) for n in monthly[VERSIONS]]
    book = HistoryBook(_concat(history_parts, COLUMNS + ["_row", "_sheet"]), frame(APPROVALS, APPROVAL_COLUMNS),
                       _concat(version_parts, VERSION_COLUMNS), frame(AUDIT, AUDIT_COLUMNS),
                       frame(COMPUTED, COMPUTED_COLUMNS))
    book.sealed = chained
    book.source, book.signer, book.identity = path, signer, identity
    if chained:
        book.mode, book.key_id = mode, key_id
        book.stored, book.unread = stored, set(unread)
        for name, part in zip(monthly[SHEET], history_parts[1:]):
            book.originals[name] = _cells_of(part, COLUMNS)
        for name, part in zip(monthly[VERSIONS], version_parts[1:]):
            book.originals[name] = _cells_of(part, VERSION_COLUMNS)
    if not (chained and set(read) <= unchanged):
        _check_approvals(path, book)  # else checked before they were written, as they are
    return book


def _each_once(values: pd.Series, how) -> pd.Series:
    """``values.map(how)``, ``how`` called once per distinct value (a column of a month's
    sheet holds few: its month, TRUE and FALSE)."""
    found: dict = {}

    def once(v):
        key = (type(v), v)
        try:
            if key not in found:
                found[key] = how(v)
            return found[key]
        except TypeError:  # not hashable
            return how(v)

    return values.map(once)


def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)


def _cells_of(frame: pd.DataFrame, columns: list[str]) -> dict[str, list]:
    """A month's rows as compared by write_history (None for an empty cell)."""
    out = {}
    for c in columns:
        series = frame[c].astype(object)
        out[c] = series.where(series.notna(), None).tolist()
    return out


def _read_sheets(path: Path, signer: Signer | None = None, want: set[str] | None = None) -> tuple[
        dict[str, list[list] | None], list[list] | None, dict[str, str], dict[str, _Stored], set[str]]:
    """The chained sheets' values and the seal's, from one opening of the file, and per sheet
    the SHA-256 of its ``<sheetData>`` element as stored (chain.data_digest). A sheet whose
    digest the seal lists and signs (chain.signed_digests) is this program's output as
    written: it is read in one pass (sheet_rows.read_written), any other by the package reader.

    A month sheet whose zip member's compressed bytes are those the seal signs is in the
    returned ``stored``; unless ``want`` (None: all) names it, it is not read (``unread``)."""
    from ..scorecard.reader import _rows, open_package
    from ..xlsx.sheet_rows import read_written
    from .chain import RAW_ROW, sealed_counts, signed_digests

    values: dict[str, list[list] | None] = {}
    written: dict[str, str] = {}
    stored: dict[str, _Stored] = {}
    unread: set[str] = set()
    with open_package(path) as package:
        names = set(package.sheet_names)
        seal = None
        if SEAL in names:
            data = package.sheet(SEAL)
            seal = _rows({**data.contents, **data.cached})
        try:
            trusted = signed_digests(signer or signer_for(path), seal) if seal else {}
            raws = signed_digests(signer or signer_for(path), seal, RAW_ROW) if seal else {}
        except KpiError:
            trusted, raws = {}, {}  # no key to check with: verify says so
        counts = sealed_counts(seal) if seal else {}
        months = [n for n in package.sheet_names if _family_of(n) is not None]
        for name in [*CHAINED, *months]:
            if name not in names:
                values[name] = None
                continue
            part = package.parts.get(name, "")
            if name in raws and name in trusted and part:
                info = package.zip.getinfo(part)
                count, tail = counts.get(name, ("", ""))
                if count.isdigit() and _member_digest(path, info) == raws[name]:
                    stored[name] = _Stored(part, raws[name], trusted[name], int(count), tail, info.CRC,
                                           info.compress_size, info.file_size)
                    if want is not None and name not in want:
                        unread.add(name)
                        continue
            raw = package.read(part) if part else b""
            written[name] = (stored[name].data if name in stored else data_digest(raw)) if raw else ""
            rows = read_written(raw) if raw and trusted.get(name) == written[name] else None
            if rows is None:
                data = package.sheet(name)
                rows = _rows({**data.contents, **data.cached})
            values[name] = rows
    return values, seal, written, stored, unread


def _member_start(f, info) -> int:
    """Where a zip member's compressed bytes begin in the file ``f``."""
    f.seek(info.header_offset)
    head = f.read(30)
    if len(head) != 30 or head[:4] != b"PK\x03\x04":
        raise KpiError([error("history-broken", "历史文件的压缩结构损坏", "the history file's zip structure is broken")])
    name, extra = struct.unpack("<HH", head[26:30])
    return info.header_offset + 30 + name + extra


def _member_chunks(path: Path, info):
    """The compressed bytes of a zip member, 1 MB at a time."""
    with open(path, "rb") as f:
        f.seek(_member_start(f, info))
        left = info.compress_size
        while left > 0:
            chunk = f.read(min(left, 1 << 20))
            if not chunk:
                raise KpiError([error("history-broken", "历史文件被截断", "the history file is cut short")])
            left -= len(chunk)
            yield chunk


def _member_digest(path: Path, info) -> str:
    if info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & 0x1:
        return ""  # stored, or encrypted: never copied as it is
    digest = hashlib.sha256()
    for chunk in _member_chunks(path, info):
        digest.update(chunk)
    digest.update(_sizes(info.CRC, info.file_size, info.compress_size))
    return digest.hexdigest()


def _sizes(crc: int, size: int, compressed: int) -> bytes:
    """What the zip directory says of a member, hashed after its compressed bytes into the
    sealed 压缩摘要: a copied member's CRC and sizes are copied too, so they are sealed with
    its bytes (a wrong CRC passed on raw would make the next full read fail)."""
    return f"|{crc:08x}|{size}|{compressed}".encode("ascii")


def _is_history(values) -> bool:
    header = [str(c).strip() if c is not None else "" for c in values[0]] if values else []
    return {"工号", "月份"} <= set(header)


def _table(values) -> tuple[list[str], list[list]]:
    """(header, rows) of a sheet's values; rows padded to the header and with at least one
    cell, trailing empty rows left out."""
    if not values:
        return [], []
    header = [str(c).strip() if c is not None else "" for c in values[0]]
    rows = [list(r) + [None] * (len(header) - len(r)) for r in values[1:]]
    while rows and all(v is None or (isinstance(v, str) and not v.strip()) for v in rows[-1]):
        rows.pop()
    return header, rows


def _approved_months(approvals: tuple[list[str], list[list]]) -> set[str]:
    header, rows = approvals
    if "月份" not in header or "状态" not in header:
        return set()
    m, s = header.index("月份"), header.index("状态")
    return {_month_text(r[m]) for r in rows if hash_text(r[s]) == APPROVED}


def _history_frame(table: tuple[list[str], list[list]], sheet: str = SHEET) -> pd.DataFrame:
    header, rows = table
    if not header:
        return pd.DataFrame(columns=COLUMNS + ["_row", "_sheet"])
    frame = pd.DataFrame([r[:len(header)] for r in rows], columns=header)
    frame = frame.loc[:, ~frame.columns.duplicated()]
    frame["_row"] = np.arange(2, len(frame) + 2)
    frame["_sheet"] = sheet
    frame = frame.loc[(frame["工号"].notna() & (frame["工号"].astype(str).str.strip() != "")).astype(bool)]
    for c in COLUMNS:
        if c not in frame:
            frame[c] = None
    frame["工号"] = frame["工号"].astype(str).str.strip()
    frame["月份"] = _each_once(frame["月份"], _month_text)  # a month's sheet: one month
    frame["部门最低"] = _each_once(frame["部门最低"], lambda v: v is True or str(v).strip().upper() in ("TRUE", "1", "是"))
    return frame[COLUMNS + ["_row", "_sheet"]].reset_index(drop=True)


def _check_approvals(path: Path, book: HistoryBook) -> None:
    """What the chain cannot see: each approved row's 行哈希 is the hash of its content, each
    approval's month hash that of its rows, and every 历史 row of an approved month is the
    row that was approved (a row, or the month hash, recomputed by hand is caught here)."""
    def refuse(sheet: str, row: int | None, zh: str, en: str) -> Refused:
        return Refused([error("history-tampered", zh, en, source=str(path), sheet=sheet,
                              cell=f"A{row}" if row else "")])

    versions = book.versions
    for k, r in enumerate(versions.to_dict("records")):
        try:
            amounts = json.loads(r.get("金额明细") or "{}")
        except (ValueError, RecursionError):  # a cell edited into thousands of brackets too
            amounts = None
        if not isinstance(amounts, dict) or row_hash(str(r["工号"]), str(r["月份"]), r, amounts) != r["行哈希"]:
            month = str(r["月份"])
            sheet = month_sheet(VERSIONS, month) if month_sheet(VERSIONS, month) in book.originals else VERSIONS
            mine = versions.index[(versions["月份"].astype(str) == month)] if sheet != VERSIONS else versions.index
            row = int(list(mine).index(k)) + 2
            raise refuse(sheet, row, f"{sheet}第 {row} 行在审批后被改动（行哈希与内容不符）",
                         f"row {row} of {sheet} changed after approval (its 行哈希 does not match its content)")
    for k, a in enumerate(book.approvals.to_dict("records")):
        month, version = str(a["月份"]), a["版本"]
        mine = versions[(versions["月份"].astype(str) == month) & (versions["版本"] == version)]
        count = pd.to_numeric(pd.Series([a["行数"]]), errors="coerce").iloc[0]
        if month_digest(mine["行哈希"]) != str(a["哈希"]) or count != len(mine):
            raise refuse(APPROVALS, k + 2, f"审批第 {k + 2} 行（{month} 第 {version} 版）的月度哈希与审批版本不符：审批后有改动",
                         f"row {k + 2} of 审批 ({month}, version {version}): the month hash does not match "
                         "the approved rows: changed after approval")
    rows = book.rows
    for month in sorted({str(m) for m in book.approvals["月份"]}):
        record = book.approval(month)
        if record is None or record["状态"] != APPROVED:
            continue
        approved = {str(v["工号"]): v for v in book.approved_rows(month).to_dict("records")}
        mine = rows[rows["月份"].astype(str) == month]
        for r in mine.to_dict("records"):
            v = approved.pop(str(r["工号"]), None)
            if v is None or any(hash_text(r.get(c), 1 if c == "总分" else None) !=
                                hash_text(v.get(c), 1 if c == "总分" else None) for c in ROW_FIELDS):
                row, sheet = int(r["_row"]), str(r["_sheet"])
                raise refuse(sheet, row, f"{sheet}第 {row} 行在审批后被改动（与 {month} 的审批不符）",
                             f"row {row} of {sheet} changed after approval (it differs from the approval of {month})")
        if approved:
            lost = "、".join(sorted(approved))
            raise refuse(month_sheet(SHEET, month), None, f"历史中 {month} 已审批的行被删除：{lost}",
                         f"approved rows of {month} were deleted from 历史: {lost}")


def read_history(path: Path | None) -> pd.DataFrame:
    """The history's 历史 rows (verified, as every read of the history is)."""
    return read_history_book(path).rows


def _month_text(value) -> str:
    """'2026-08' whether it was kept as text or Excel turned it into a date."""
    try:
        return parse_month(value)
    except ParseError:
        return "" if value is None else str(value).strip()


def month_rows(catalog: Catalog, summary: pd.DataFrame, month: str | None = None) -> pd.DataFrame:
    """This month's history rows, with who is lowest in their department (per grade scheme).

    Only cards of ``month`` (the report's month) are kept: a stray card of another month is
    an error finding in the report and must not overwrite that other month's history. Being
    the lowest needs at least two complete cards to compare.
    """
    rows = summary[["工号", "姓名", "部门", "岗位ID", "月份", "总分", "等级", "状态", "应发绩效合计"]].copy()
    if month is not None:
        rows = rows[rows["月份"].astype(str) == month]
    rows["工号"] = rows["工号"].astype(str)
    rows["scheme"] = rows["岗位ID"].map(lambda r: catalog.roles[r].grade_scheme)
    done = rows["状态"] == "已完成"
    groups = rows[done].groupby(["部门", "scheme"])["总分"]
    lowest, size = groups.transform("min"), groups.transform("count")
    rows["部门最低"] = False
    rows.loc[lowest.index, "部门最低"] = (rows.loc[lowest.index, "总分"] == lowest) & (size >= 2)
    return rows.drop(columns="scheme").reset_index(drop=True)


def merge_month(history: pd.DataFrame, current: pd.DataFrame, month: str | None = None) -> pd.DataFrame:
    """History with ``month``'s rows (default: the months in ``current``) replaced by ``current``."""
    months = {month} if month is not None else set(current["月份"].astype(str))
    kept = history[~history["月份"].astype(str).isin(months)]
    parts = [p for p in (kept[COLUMNS], current[COLUMNS]) if len(p)]
    merged = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
    return merged.sort_values(["月份", "工号"], kind="stable").reset_index(drop=True)


def write_history(path: Path, history: pd.DataFrame | HistoryBook, signer: Signer | None = None,
                  ready=None) -> None:
    """Write the history file: one sheet of 历史 per month, the approval sheets when there
    are any (审批, 审批版本 per month, 审计, 计算记录), each row with its 链哈希, and the seal
    (校验). A month sheet whose rows did not change since the history was read (a closed
    month, as a rule) is copied as stored — its zip member's compressed bytes, untouched,
    checked against the seal's digest of them; any other is generated: its cells streamed to
    a scratch file as sheet XML while its digests are taken (never held whole in memory).
    XlsxWriter writes the rest. ``ready()``, when given, is called once the new file is whole,
    just before it takes the history's name; what it raises leaves the history as it was."""
    import io
    import tempfile

    import xlsxwriter

    whole = history if isinstance(history, HistoryBook) else HistoryBook(history)
    signer = signer or signer_for(path)
    copying = (whole.source is not None and whole.sealed and (signer.mode, signer.key_id) == (whole.mode, whole.key_id))
    if not copying:
        whole.load_all()  # every month hashed again (a new key, a history read without a seal)
    tails: dict[str, tuple[int, str]] = {}
    digests: dict[str, str] = {}
    raws: dict[str, str] = {}
    memory = io.BytesIO()
    book = xlsxwriter.Workbook(memory, {"in_memory": True, "nan_inf_to_errors": True,
                                        "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    bold = _style_of(book.add_format({"bold": True, "bg_color": "#D9E1F2"}))  # s="1" in every history
    with tempfile.TemporaryDirectory(prefix="kpi-history-") as scratch:
        streamed: dict[str, tuple[Path, str]] = {}  # part → (its cells' file, dimension)
        members: dict[str, tuple[Path, int, _Stored]] = {}  # part → (file, offset, what it holds)

        def plain(name: str, frame: pd.DataFrame, columns: list[str], keep: bool = False) -> None:
            if name in OPTIONAL and not len(frame) and not keep:
                return  # an older history's seal, unchanged: the sheet is sealed once it has rows
            if not len(frame) and not keep:
                tails[name] = (0, "")
                return  # a history never approved keeps its month sheets (and the seal)
            target = Path(scratch) / f"{name}.xml"
            digest, n, last = _sheet_data(target, signer, name, columns, frame, bold)
            tails[name] = (n, last)
            ws = _plain_sheet(book, name, columns, n, name == SHEET)
            digests[name] = digest
            streamed[f"xl/worksheets/sheet{ws.index + 1}.xml"] = (target, f"A1:{xl_col_to_name(len(columns))}{n + 1}")

        def monthly(family: str, frame: pd.DataFrame, columns: list[str]) -> bool:
            """The family's month sheets; False when it has none (its rows all of no month)."""
            months = frame["月份"].astype(str) if len(frame) else pd.Series([], dtype=object)
            valid = _in_months(months) if len(frame) else pd.Series([], dtype=bool)
            groups = dict(tuple(frame[valid.values].groupby(months[valid.values], sort=False))) if len(frame) else {}
            names = {month_sheet(family, str(m)): g for m, g in groups.items()}
            if set(names) & whole.unread:  # rows added to a month not read: its rows read first
                whole.load([m for m in map(str, groups) if month_sheet(family, m) in whole.unread], (family,))
                return monthly(family, whole.rows if family == SHEET else whole.versions, columns)
            if family == VERSIONS:  # a month's versions in order (as read: unchanged)
                names = {n: g.sort_values("版本", kind="stable") for n, g in names.items()}
            names.update({n: None for n in whole.unread if (_family_of(n) or ("",))[0] == family})
            for name in sorted(names, key=lambda n: _family_of(n)[1]):  # type: ignore[index]
                rows = names[name]
                kept = whole.stored.get(name) if copying else None
                if kept is not None and rows is not None and (
                        name not in whole.originals or _cells_of(rows, columns) != whole.originals[name]):
                    kept = None
                if kept is not None:
                    assert whole.source is not None
                    part = (whole.source, -1, kept)
                else:
                    assert rows is not None, name
                    part = _month_part(Path(scratch), signer, name, columns, rows, bold, name.startswith(SHEET))
                ws = _plain_sheet(book, name, columns, part[2].count, name.startswith(SHEET))
                members[f"xl/worksheets/sheet{ws.index + 1}.xml"] = part
                tails[name] = (part[2].count, part[2].tail)
                digests[name] = part[2].data
                raws[name] = part[2].raw
            return bool(names)

        rows = whole.rows
        history_months = _in_months(rows["月份"].astype(str)) if len(rows) else pd.Series([], dtype=bool)
        legacy = rows[~history_months.values] if len(rows) else rows
        if len(legacy):
            plain(SHEET, legacy, COLUMNS)  # rows of no month (an old history's): kept as they were
        if not monthly(SHEET, rows, COLUMNS) and not len(legacy):
            plain(SHEET, legacy, COLUMNS, keep=True)  # no month yet: the 历史 sheet with its header
        plain(APPROVALS, whole.approvals, APPROVAL_COLUMNS)
        versions = whole.versions
        in_month = _in_months(versions["月份"].astype(str)) if len(versions) else pd.Series([], dtype=bool)
        plain(VERSIONS, versions[~in_month.values] if len(versions) else versions, VERSION_COLUMNS)
        monthly(VERSIONS, versions, VERSION_COLUMNS)
        plain(AUDIT, whole.audit, AUDIT_COLUMNS)
        plain(COMPUTED, _linked(whole, raws), COMPUTED_COLUMNS)
        ws = book.add_worksheet(SEAL)
        for i, row in enumerate(seal_rows(signer, tails, digests, raws)):
            for j, value in enumerate(row):
                (ws.write_number if isinstance(value, int) else ws.write_string)(i, j, value)
        ws.set_column(0, 0, 12)
        ws.set_column(1, 2, 66)
        book.close()
        with atomic_output(path, force=True) as tmp:
            _save_streamed(memory, streamed, tmp, members)
            if ready is not None:
                ready()


def _in_months(texts: pd.Series) -> pd.Series:
    """``texts.str.match(_MONTH)``, each distinct text matched once (a month's rows repeat it)."""
    codes, distinct = pd.factorize(texts)
    month = re.compile(_MONTH)
    matched = np.array([month.match(t) is not None for t in distinct] + [False], dtype=bool)
    return pd.Series(matched[codes], index=texts.index)  # (code -1, a missing value, is the last)


BIG_PART = 8 << 20  # bytes of a month sheet's cells deflated at level 1
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.'
               'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
               'officeDocument/2006/relationships"><dimension ref="{dimension}"/><sheetViews><sheetView '
               'workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
               '<selection pane="bottomLeft"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
               '<cols><col min="1" max="{n}" width="{width}" customWidth="1"/><col min="{last}" max="{last}" '
               'width="20.7109375" customWidth="1"/></cols>')
_SHEET_TAIL = ('<autoFilter ref="{filter}"/><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
               'header="0.3" footer="0.3"/></worksheet>')


def _month_part(scratch: Path, signer: Signer, name: str, columns: list[str], frame: pd.DataFrame, bold: str,
                main: bool) -> tuple[Path, int, _Stored]:
    """A month sheet's whole part, as XlsxWriter writes a sheet of _plain_sheet (never the
    selected one: the part does not depend on where the sheet is), deflated into a scratch
    file as its cells are made (never held whole): (the file, 0, its digests, row count and
    last 链哈希)."""
    from ..xlsx.package import crc32, fast_deflater

    count, last, cells = _sheet_xml(signer, name, columns, frame, bold)
    end = xl_col_to_name(len(columns))
    head = _SHEET_HEAD.format(dimension=f"A1:{end}{count + 1}", n=len(columns), last=len(columns) + 1,
                              width="11.7109375" if main else "12.7109375").encode("utf-8")
    tail = _SHEET_TAIL.format(filter=f"A1:{end}{max(count, 1) + 1}").encode("utf-8")
    data = hashlib.sha256()  # chain.data_digest: of <sheetData> … </sheetData>
    ahead: list[bytes] = []  # the first cells, until the part is known to be big or small
    for chunk in cells:
        data.update(chunk)
        ahead.append(chunk)
        if sum(map(len, ahead)) > BIG_PART:
            break
    # a big month (over 8 MB of cells: tens of thousands of rows) deflated at the fastest
    # level (by isal where installed), as the report's big parts are; the sealed digests
    # are of whatever is stored
    big = sum(map(len, ahead)) > BIG_PART
    packer = fast_deflater() if big else zlib.compressobj(6, zlib.DEFLATED, -15)
    crc, size = 0, 0
    digest = hashlib.sha256()
    target = scratch / f"{len(list(scratch.iterdir()))}.deflated"
    with open(target, "wb") as out, ThreadPoolExecutor(1) as pool:
        def put(chunk: bytes, cell: bool = True) -> None:
            nonlocal crc, size
            if cell:
                data.update(chunk)
            crc, size = crc32(chunk, crc), size + len(chunk)
            packed = packer.compress(chunk)
            digest.update(packed)
            out.write(packed)

        put(head, False)
        for chunk in ahead:
            put(chunk, False)
        # the rest of the cells digested, deflated and written in a thread (hashlib, the
        # deflate and the write let go of the GIL) while the next rows are made: in order,
        # one chunk at a time
        pending = None
        for chunk in cells:
            if pending is not None:
                pending.result()
            pending = pool.submit(put, chunk)
        if pending is not None:
            pending.result()
        put(tail, False)
        packed = packer.flush()
        digest.update(packed)
        out.write(packed)
        compressed = out.tell()
    digest.update(_sizes(crc, size, compressed))
    return target, 0, _Stored("", digest.hexdigest(), data.hexdigest(), count, last, crc, compressed, size)


def _style_of(fmt) -> str:
    from ..xlsx.sheet_rows import _style

    return _style(fmt)


def _sheet_data(target: Path, signer: Signer, name: str, columns: list[str], frame: pd.DataFrame,
                bold: str) -> tuple[str, int, str]:
    """The sheet's ``<sheetData>`` (:func:`_sheet_xml`) written to ``target``. Returns (its
    SHA-256, chain.data_digest of the part it goes into; the row count; the last 链哈希)."""
    count, last, cells = _sheet_xml(signer, name, columns, frame, bold)
    digest = hashlib.sha256()
    with open(target, "wb") as out:
        for chunk in cells:
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest(), count, last


ROWS_A_CHUNK = 2000  # rows of cells made and encoded at a time


def _sheet_xml(signer: Signer, name: str, columns: list[str], frame: pd.DataFrame,
               bold: str) -> tuple[int, str, Iterator[bytes]]:
    """The sheet's ``<sheetData>``: the header row, then ``frame``'s rows, each with its
    链哈希 (chain.link: the chain.hashes of the rows as _cell gives them). The cells are made
    column by column (:func:`_column_cells`), the chain first (it is sequential, and cheap),
    then the rows' XML, ROWS_A_CHUNK at a time, as UTF-8 chunks — never the whole sheet in
    memory. Returns (the row count, the last 链哈希, the chunks)."""
    from ..xlsx.sheet_rows import cell
    from .chain import start

    data = frame.reindex(columns=columns)
    n = len(data)
    made = [_column_cells(c, data[c].tolist()) for c in columns]
    xml: list[list[str] | _Inline] = [m[0] for m in made]
    hashes: list[str] = []
    previous = start(signer, name)
    texts = map(",".join, zip(*(m[1] for m in made)))
    if signer.key:
        for text in texts:
            previous = signer.digest(f"{previous}\n[{text}]")
            hashes.append(previous)
    else:  # Signer.digest of no key, without a call per row
        sha = hashlib.sha256
        for text in texts:
            previous = sha(f"{previous}\n[{text}]".encode()).hexdigest()
            hashes.append(previous)
    del made, texts
    letters = [xl_col_to_name(j) for j in range(len(columns) + 1)]
    refs = [f'<c r="{letter}' for letter in letters]
    head = '<sheetData><row r="1">' + "".join(cell(f"{letters[j]}1", bold, c) for j, c in
                                              enumerate(columns + [CHAIN])) + "</row>"

    def chunks() -> Iterator[bytes]:
        """Each row joined from its pieces (no string made per cell): the row's start, then
        per cell its reference's letter, the row number, '"' and the cell's XML after it."""
        yield head.encode("utf-8")
        for at in range(0, n, ROWS_A_CHUNK):
            rows = [str(i) for i in range(at + 2, min(at + ROWS_A_CHUNK, n) + 2)]
            pieces: list = [repeat('<row r="'), rows, repeat('">')]
            for ref, cells in zip(refs, xml):
                if isinstance(cells, _Inline):  # plain texts: each cell the text between these
                    pieces += [repeat(ref), rows, repeat('" t="inlineStr"><is><t>'), cells.texts[at:at + ROWS_A_CHUNK],
                               repeat("</t></is></c>")]
                    continue
                frags = cells[at:at + ROWS_A_CHUNK]
                if all(frags):
                    pieces += [repeat(ref), rows, repeat('"'), frags]
                else:  # an empty cell is no cell
                    pieces.append([f'{ref}{r}"{x}' if x else "" for r, x in zip(rows, frags)])
            pieces += [repeat(refs[-1]), rows, repeat('" t="inlineStr"><is><t>'), hashes[at:at + ROWS_A_CHUNK],
                       repeat("</t></is></c></row>")]
            yield "".join(map("".join, zip(*pieces))).encode("utf-8")
        yield b"</sheetData>"

    return n, previous if n else "", chunks()


_PLAIN_TEXT_NOT = re.compile("[&<>" + XML_ILLEGAL.pattern[1:])  # what a text's cell would change
_EDGE_SPACE = re.compile(r"^\s|\s$|\s\x00|\x00\s")  # in texts joined by NUL: one begins or ends with a space


def _plain_texts(texts: list[str]) -> bool:
    """No text has a character to escape (& < >) or drop (XML_ILLEGAL), nor a space at its
    start or end (kept by xml:space="preserve")."""
    joined = "".join(texts)
    if joined.isprintable():  # the common case, told fast: no control character, no space but " "
        if "&" in joined or "<" in joined or ">" in joined:
            return False
        if " " not in joined:
            return True
        joined = "\x00".join(texts)
        return not (joined.startswith(" ") or joined.endswith(" ") or " \x00" in joined or "\x00 " in joined)
    return _PLAIN_TEXT_NOT.search(joined) is None and _EDGE_SPACE.search("\x00".join(texts)) is None


@dataclass
class _Inline:
    """A column of plain texts: each cell is ``t="inlineStr"`` with the text as it is."""
    texts: list[str]


def _column_cells(column: str, values: list) -> tuple[list[str] | _Inline, list[str]]:
    """A column's cells: per value its cell XML after the reference (``""``: no cell), and its
    chain text JSON-quoted, as _cell and sheet_rows.cell make them. A column of plain texts
    (nothing to escape, drop, cut or keep spaces of) is given as they are (_Inline), one of
    numbers made once per distinct number; any other value by value."""
    kinds = set(map(type, values))
    quote = json.encoder.encode_basestring
    if column == "部门最低" or not values:
        pass
    elif kinds == {str} and max(map(len, values)) <= CELL_TEXT_LIMIT // 2 and _plain_texts(values):
        return _Inline(values), list(map(quote, values))
    elif kinds <= {float, int}:
        # each distinct number once, told apart by its bits (-0.0 is written "-0", 0.0 "0")
        bits = np.asarray([float(v) for v in values] if int in kinds else values, dtype=np.float64).view(np.int64)
        distinct, where = np.unique(bits, return_inverse=True)
        xml = np.empty(len(distinct), dtype=object)
        texts = np.empty(len(distinct), dtype=object)
        for i, x in enumerate(distinct.view(np.float64).tolist()):
            if x != x:  # NaN: no cell
                xml[i], texts[i] = "", '""'
            elif x - x != 0:  # infinity: the error #NUM!
                xml[i], texts[i] = ' t="e"><v>#NUM!</v></c>', '"inf"' if x > 0 else '"-inf"'
            else:
                xml[i], texts[i] = f"><v>{x:.16G}</v></c>", f'"{x or 0.0:.15g}"'  # -0 is 0
        where = where.reshape(-1)
        return xml[where].tolist(), texts[where].tolist()
    return _cells_one_by_one(column, values)


def _cells_one_by_one(column: str, values: list) -> tuple[list[str], list[str]]:
    """:func:`_column_cells` of any values: each through _cell, sheet_rows.cell and
    chain.cell_text, each distinct value once (a float by its bits: -0.0 is not 0.0)."""
    from ..xlsx.sheet_rows import cell
    from .chain import cell_text

    quote = json.encoder.encode_basestring
    memo: dict = {}
    xml, texts = [], []
    for v in values:
        kind = type(v)
        if kind is str or isinstance(v, (bool, int, np.bool_, np.integer)):
            key: tuple | None = (kind, v)
        elif isinstance(v, (float, np.floating)):
            key = (kind, float(v).hex())  # by its bits: -0.0 is written "-0", 0.0 "0"
        else:
            key = None  # anything else as it is, each time (its text may tell what == does not)
        got = memo.get(key) if key is not None else None
        if got is None:
            value = _cell(column, v)
            if value is None:
                frag = ""
            elif isinstance(value, bool):
                frag = f' t="b"><v>{int(value)}</v></c>'
            else:
                frag = cell("", "", value)[len('<c r=""'):]
            got = (frag, quote(cell_text(value)))  # json.dumps(text, ensure_ascii=False)
            if key is not None and len(memo) < 100_000:
                memo[key] = got
        xml.append(got[0])
        texts.append(got[1])
    return xml, texts


def _save_streamed(written, streamed: dict[str, tuple[Path, str]], target: Path,
                   members: dict[str, tuple[Path, int, _Stored]] | None = None) -> None:
    """The package XlsxWriter wrote, each streamed sheet's cells in place of its empty
    ``<sheetData/>`` and its true dimension, and each month sheet's part as deflated
    (``members``: copied as compressed bytes, from a scratch file or the history read), as
    ``target``."""
    import re
    import shutil

    members = members or {}
    written.seek(0)
    with zipfile.ZipFile(written) as source, \
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as out:
        for info in source.infolist():
            if info.filename in members:
                _put_member(out, info.filename, *members[info.filename])
                continue
            data = source.read(info)
            if info.filename not in streamed:
                out.writestr(info.filename, data)
                continue
            cells, dimension = streamed[info.filename]
            xml = data.decode("utf-8")
            if xml.count("<sheetData/>") != 1:
                raise AssertionError(f"{info.filename}: cells written past the history's writer")
            before, after = xml.split("<sheetData/>")
            before = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="{dimension}"/>', before, count=1)
            with out.open(info.filename, "w", force_zip64=True) as part, open(cells, "rb") as f:
                part.write(before.encode("utf-8"))
                shutil.copyfileobj(f, part, 1 << 20)
                part.write(after.encode("utf-8"))


def _put_member(out: zipfile.ZipFile, name: str, source: Path, offset: int, part: _Stored) -> None:
    """A deflated member written as it is: from a scratch file (``offset`` 0), or the
    compressed bytes of the history read (``offset`` -1: its member ``part.member``, whose
    digest must still be the sealed one — the file is locked, but a byte changed on the disk
    is refused, never copied)."""

    def checked():
        digest = hashlib.sha256()
        if offset < 0:
            with zipfile.ZipFile(source) as archive:
                for chunk in _member_chunks(source, archive.getinfo(part.member)):
                    digest.update(chunk)
                    yield chunk
        else:
            with open(source, "rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
                    yield chunk
        digest.update(_sizes(part.crc, part.size, part.compressed))
        if digest.hexdigest() != part.raw:
            raise Refused([error("history-changed", f"历史文件 {source.name} 在读取后被改动：请重新运行",
                                 f"the history file {source.name} changed after it was read: run the command again",
                                 source=str(source))])

    put_stored(out, name, (1980, 1, 1, 0, 0, 0), zipfile.ZIP_DEFLATED, part.crc, part.size, part.compressed,
               checked())


def _cell(column: str, value):
    """What a cell of the history holds: None (empty), a bool (部门最低), a float or text —
    never a formula (a name or a reason may start with '=')."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if column == "部门最低":
        return bool(value)
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        return None if math.isnan(number) else number
    text = XML_ILLEGAL.sub("", str(value))  # what the cell can hold: what is hashed is what is read
    if len(text) > CELL_TEXT_LIMIT // 2:
        text = _truncated(text)
    return text


def _plain_sheet(book, name: str, columns: list[str], n: int, main: bool):
    """One chained sheet as XlsxWriter writes it without its cells (panes, filter, widths);
    the cells are streamed in by _save_streamed."""
    ws = book.add_worksheet(name)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(n, 1), len(columns))
    ws.set_column(0, len(columns) - 1, 11 if main else 12)
    ws.set_column(len(columns), len(columns), 20)
    return ws


def previous_month(month: str, back: int = 1) -> str:
    year, mon = map(int, month.split("-"))
    index = year * 12 + (mon - 1) - back
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def streak_months(catalog: Catalog, month: str) -> list[str]:
    """The months ``month``'s streak warnings look at: the month, the months of its year
    before it, and as many months back as the longest run a grade scheme counts."""
    back = max([12, *(w.consecutive or 0 for s in catalog.grade_schemes.values() for w in s.warnings),
                *(s.lowest_in_department or 0 for s in catalog.grade_schemes.values())])
    return [previous_month(month, k) for k in range(back + 1)] if _re_month(month) else [month]


def _re_month(month: str) -> bool:
    return bool(re.match(_MONTH, str(month)))


def streak_warnings(catalog: Catalog, history: pd.DataFrame, month: str) -> dict[str, list[str]]:
    """Employee id → warning texts for ``month`` (history must include that month)."""
    out: dict[str, list[str]] = {}
    keys = list(zip(map(str, history["工号"].tolist()), map(str, history["月份"].tolist())))
    grade = dict(zip(keys, history["等级"].tolist()))  # (employee, month) → its row's: the last row of a key
    lowest = dict(zip(keys, history["部门最低"].tolist()))
    grades_this_year: dict[str, list[str]] = {}  # employee → grades of this year, to ``month``
    for (e, m), g in grade.items():
        if m.startswith(month[:4]) and m <= month:
            grades_this_year.setdefault(e, []).append(g)
    current = history[history["月份"].astype(str) == month]
    for r in current.itertuples(index=False):
        role = catalog.roles.get(r.岗位ID)
        if role is None:
            continue
        scheme = catalog.grade_schemes[role.grade_scheme]
        employee = str(r.工号)
        texts = []
        for rule in scheme.warnings:
            if rule.consecutive and all(grade.get((employee, previous_month(month, k))) == rule.grade
                                        for k in range(rule.consecutive)):
                texts.append(f"连续{rule.consecutive}个月{rule.grade}：{rule.action}".rstrip("："))
            if rule.in_year:
                count = grades_this_year.get(employee, []).count(rule.grade)
                if count >= rule.in_year and not any(t.startswith("连续") and rule.grade in t for t in texts):
                    texts.append(f"本年{count}个月为{rule.grade}：{rule.action}".rstrip("："))
                elif count >= rule.in_year:
                    texts.append(f"本年{count}个月为{rule.grade}")
        n = scheme.lowest_in_department
        if n and all(bool(lowest.get((employee, previous_month(month, k)), False)) for k in range(n)):
            texts.append(f"连续{n}个月部门最低分")
        if texts:
            out[employee] = texts
    return out


STREAK_COLUMNS = ["工号", "月份", "等级", "部门最低"]  # what streak_warnings reads of a month before


def streak_rows(catalog: Catalog, book: HistoryBook, month: str) -> pd.DataFrame:
    """The rows of the months before ``month`` that its streak warnings look at
    (streak_months) and ``book`` has not read: from each such month sheet, as sealed, only
    工号, 月份, 等级 and 部门最低 (STREAK_COLUMNS; the others None), in the sheet's order.
    ``streak_warnings(catalog, pd.concat([rows, streak_rows(...)]), month)`` gives what it
    gives with those months read whole (book.load), at a cost that does not grow with the
    year's months: no frame of every column, no hashes, no copy checked cell by cell.

    A sheet not read is one whose zip member is byte for byte the one sealed (its
    compressed bytes' digest signed in 校验, checked when the book was read): its bytes are
    read again from the very file read first, hashed again and compared with that digest
    before they are used (else refused, as HistoryBook.load refuses)."""
    wanted = [month_sheet(SHEET, m) for m in _streak_needs(catalog, month)]
    names = [n for n in wanted if n in book.unread]
    if not names or book.source is None:
        return pd.DataFrame(columns=COLUMNS)
    source = book.source
    changed = Refused([error("history-changed", f"历史文件 {source.name} 在读取时被改动：请重新运行",
                             f"the history file {source.name} changed while it was read: run the command again",
                             source=str(source))])
    if not book.identity or _identity(source) != book.identity:
        raise changed
    parts = []
    with zipfile.ZipFile(source) as package:
        for name in names:
            kept = book.stored[name]
            info = package.getinfo(kept.member)
            if (info.CRC, info.compress_size, info.file_size) != (kept.crc, kept.compressed, kept.size):
                raise changed
            packed = b"".join(_member_chunks(source, info))
            digest = hashlib.sha256(packed)
            digest.update(_sizes(info.CRC, info.file_size, info.compress_size))
            if info.compress_type != zipfile.ZIP_DEFLATED or digest.hexdigest() != kept.raw:
                raise changed
            inflate = zlib.decompressobj(-15)
            data = inflate.decompress(packed, kept.size + 1)  # as sealed: its size, its CRC
            if len(data) != kept.size or zlib.crc32(data) != kept.crc:
                raise changed
            parts.append(_streak_frame(data, source, name))
    if _identity(source) != book.identity:
        raise changed
    return _concat(parts, COLUMNS)


def _streak_needs(catalog: Catalog, month: str) -> list[str]:
    """The months before ``month`` whose rows streak_warnings looks at: as many back as the
    longest run a scheme counts (consecutive grades, lowest in the department), and the
    months of its year when a scheme counts grades in the year. Of streak_months, those only:
    January needs December, not the twelve months before it."""
    if not _re_month(month):
        return []
    schemes = catalog.grade_schemes.values()
    run = max([1, *(w.consecutive or 0 for s in schemes for w in s.warnings),
               *(s.lowest_in_department or 0 for s in schemes)])
    months = {previous_month(month, k) for k in range(1, run)}
    if any(w.in_year for s in schemes for w in s.warnings):
        months |= {m for m in (previous_month(month, k) for k in range(1, 12)) if m[:4] == month[:4]}
    return sorted(months & set(streak_months(catalog, month)), reverse=True)


def _streak_frame(part: bytes, source: Path, name: str) -> pd.DataFrame:
    """STREAK_COLUMNS of a month sheet this program wrote (sealed as written): its header
    row gives their columns; each of their cells read as the package reader gives it and
    _history_frame makes of it (rows without 工号 left out)."""
    from ..xlsx.sheet_rows import _ENTITY, _entity

    head = _STREAK_HEAD.search(part)  # bytes throughout: the sheet's text is never decoded whole
    header: dict[object, str] = {}
    if head is not None:
        for letter, *form in _STREAK_CELL.findall(head.group(0).decode("utf-8", errors="replace")):
            header.setdefault(_streak_value(*form), letter)  # the first of a name, as read
    letters = {c: header.get(c) for c in STREAK_COLUMNS}
    if letters["工号"] is None or letters["月份"] is None:
        raise Refused([error("history-tampered", f"{source.name} 的“{name}”缺少列：工号、月份",
                             f"the {name} sheet of {source.name} lacks columns: 工号, 月份",
                             source=str(source), sheet=name)])
    wanted = {v: c for c, v in letters.items() if v is not None}
    cells = re.compile(rb'<c r="(' + b"|".join(re.escape(v.encode("ascii")) for v in wanted) + rb')([0-9]{1,7})"'
                       + _STREAK_TAIL.encode("ascii"))
    columns: dict[str, dict[bytes, object]] = {c: {} for c in STREAK_COLUMNS}  # column → row → value
    seen: dict[tuple, object] = {}  # a cell's (kind, number, text) → its value (few distinct but 工号)
    into = {letter.encode("ascii"): columns[c] for letter, c in wanted.items()}
    for letter, row, kind, number, string in cells.findall(part, head.end() if head is not None else 0):
        key = (kind, number, string)
        value = seen.get(key, seen)
        if value is seen:
            value = _streak_value(kind.decode("ascii"), number.decode("utf-8", errors="replace"),
                                  string.decode("utf-8", errors="replace"))
            if isinstance(value, str) and "&" in value:
                value = _ENTITY.sub(_entity, value)
            seen[key] = value
        into[letter][row] = value
    ids: dict[object, str] = {}  # each distinct value's meaning once, as _history_frame gives it
    months: dict[tuple, object] = {}
    lowest: dict[tuple, object] = {}
    rows: list[bytes] = []
    out: dict[str, list] = {c: [] for c in STREAK_COLUMNS}
    for row, value in columns["工号"].items():
        eid = ids.get(value) if isinstance(value, (str, int, float, bool)) else None
        if eid is None:
            eid = "" if value is None else str(value).strip()
            if isinstance(value, (str, int, float, bool)):
                ids[value] = eid
        if eid:
            rows.append(row)
            out["工号"].append(eid)
    for c, meaning, how in (("月份", months, _month_text),
                            ("部门最低", lowest, lambda v: v is True or str(v).strip().upper() in ("TRUE", "1", "是"))):
        got = columns[c]
        for row in rows:
            value = got.get(row)
            kind = (type(value), value)
            if kind not in meaning:
                meaning[kind] = how(value)
            out[c].append(meaning[kind])
    out["等级"] = [columns["等级"].get(row) for row in rows]
    frame = pd.DataFrame({c: out.get(c, None) for c in COLUMNS}, columns=COLUMNS)
    return frame if len(rows) else pd.DataFrame(columns=COLUMNS)


_STREAK_TAIL = (r'(?: s="[0-9]{1,6}")?(?: t="([a-zA-Z]{1,9})")?'
                r'(?:/>|><v>([^<]*)</v></c>|><is><t(?: xml:space="preserve")?>([^<]*)</t></is></c>)')
_STREAK_HEAD = re.compile(rb'<row r="1"[^>]*>.*?</row>', re.S)
_STREAK_CELL = re.compile(r'<c r="([A-Z]{1,3})1"' + _STREAK_TAIL)


def _streak_value(kind: str, number: str, string: str):
    """A cell's value as sheet_rows.read_written gives it, from findall's groups ("" where
    a group did not match): an inline string (maybe ""), a boolean, an error, a number
    (whole where it is), else None (an empty cell)."""
    if kind == "inlineStr":
        return string
    if kind == "b":
        return number == "1" if number in ("0", "1") else None
    if kind == "e":
        return number
    if kind or not number:
        return None
    if number.isdigit() and len(number) < 16:
        return int(number)
    try:
        x = float(number)
    except ValueError:
        return None
    return int(x) if math.isfinite(x) and x.is_integer() and abs(x) < 2**53 else x
