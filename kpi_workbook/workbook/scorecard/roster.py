"""Read and check a roster (名单): who is scored this month, in which role.

Columns 工号, 姓名, 部门, 岗位, 基本工资, and optionally 绩效基数Q,
全勤 (是/否), 直接上级, 缺岗月数 (months absent in the period), 岗位名称, 旺旺 (the sub-account
exports name the person by); English headers are accepted too. Every offending row is reported in
one error, never just the first.

岗位 is any name people write for a role (rules/names.py): its id, its name, the short name
printed on the card (来料检验员, 客服专员), its English name or an alias of its template, after
folding full-width characters and spaces; anything else gets "是不是 … / did you mean …"
with the closest names, naming the row.
"""

from __future__ import annotations

import functools

import math
from importlib import resources
from pathlib import Path

import pandas as pd

from ...diagnostics import Diagnostic, KpiError, error
from ...numbers import XML_ILLEGAL, ParseError, is_blank, normalise_text, parse_flag, parse_money
from ...rules.loader import Catalog
from ...rules.names import Found, fold
from ..xlsx.limits import DAMAGED, check_xlsx

COLUMNS = {  # canonical → accepted headers
    "employee_id": ("工号", "employee_id", "id"),
    "name": ("姓名", "name"),
    "department": ("部门", "department"),
    "role": ("岗位", "role"),
    "base_salary": ("基本工资", "base_salary"),
    "q_amount": ("绩效基数Q", "绩效基数", "q_amount"),
    "full_attendance": ("全勤", "full_attendance"),
    "supervisor": ("直接上级", "supervisor"),
    "months_absent": ("缺岗月数", "months_absent"),  # S9: above the role's limit → 不参与
    "job_title": ("岗位名称", "职位", "job_title"),  # shown in the form's 岗位 field
    # the 旺旺 sub-account a shop's exports name the person by (import profiles: 赤兔)
    "wangwang": ("旺旺", "旺旺号", "旺旺子账号", "wangwang"),
}
REQUIRED = ("employee_id", "name", "department", "role", "base_salary")
CHINESE = {k: v[0] for k, v in COLUMNS.items()}


def sample_roster_path() -> Path:
    return Path(str(resources.files("kpi_workbook.data") / "sample_roster.csv"))


def read_table(path: Path | str) -> pd.DataFrame:
    """A .csv (UTF-8, with or without BOM, or GBK) or the first sheet of an .xlsx, as text.

    Fully blank rows are dropped but the index keeps the file's row numbers (row = index + 2).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        raise KpiError([error("bad-format", f"不支持的文件类型 {path.suffix or '（无扩展名）'}（应为 .xlsx 或 .csv）",
                              f"unsupported file type {path.suffix or '(none)'} (expected .xlsx or .csv)",
                              source=str(path))])
    if not path.is_file():
        raise KpiError([error("no-file", f"找不到文件 {path}", f"file not found: {path}",
                              source=str(path))])
    try:
        if suffix == ".csv":
            df = None
            for encoding in ("utf-8-sig", "gb18030"):
                try:
                    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding,
                                     skip_blank_lines=False)
                    break
                except UnicodeDecodeError:
                    continue
            if df is None:
                raise KpiError([error("bad-encoding", f"{path} 不是 UTF-8 或 GBK 编码的 CSV",
                                      f"{path} is not a UTF-8 or GBK CSV", source=str(path))])
        else:
            check_xlsx(path)
            df = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
    except KpiError:
        raise
    except pd.errors.EmptyDataError:
        raise KpiError([error("empty-table", f"{path.name} 是空文件", f"{path.name} is empty",
                              source=str(path))]) from None
    except DAMAGED as exc:  # a damaged file: one sentence, not a traceback
        raise KpiError([error("bad-table", f"{path.name} 无法读取（{type(exc).__name__}: {exc}）",
                              f"cannot read {path.name} ({type(exc).__name__}: {exc})",
                              source=str(path))]) from None
    df.columns = [str(c) for c in df.columns]
    # a row is kept unless every cell of it is blank: each distinct value is judged once
    # (a data file of a group has a million rows of the same few words)
    blank = pd.Series(True, index=df.index)
    for k in range(df.shape[1]):
        column = df.iloc[:, k]
        blanks = [v for v in pd.unique(column.to_numpy(dtype=object)) if is_blank(v)]
        blank &= column.isin(blanks)
    return df[~blank.to_numpy()] if df.shape[1] else df[[False] * len(df)]


def read_roster(catalog: Catalog, path: Path | str | None = None) -> pd.DataFrame:
    """The checked roster with canonical columns and a ``role`` of role ids."""
    path = Path(path) if path is not None else sample_roster_path()
    raw = read_table(path)
    return check_roster(catalog, raw, str(path))


def check_roster(catalog: Catalog, raw: pd.DataFrame, source: str) -> pd.DataFrame:
    headers = {normalise_text(str(c)).lower(): c for c in raw.columns}
    rename = {}
    for canon, names in COLUMNS.items():
        for n in names:
            if n.lower() in headers:
                rename[headers[n.lower()]] = canon
                break
    missing = [CHINESE[c] for c in REQUIRED if c not in rename.values()]
    if missing:
        raise KpiError([error("roster-columns", f"名单缺少列：{'、'.join(missing)}",
                              f"roster is missing columns: {', '.join(missing)}", source=source)])
    if raw.empty:
        raise KpiError([error("roster-empty", "名单中没有员工", "the roster lists no employees",
                              source=source)])
    df = raw.rename(columns=rename)[[c for c in COLUMNS if c in rename.values()]].copy()
    for c in COLUMNS:
        if c not in df:
            df[c] = ""
    df = df.map(_normalised)

    diags: list[Diagnostic] = []
    roles, salaries, qs, attendance, absent = [], [], [], [], []
    seen: dict[str, int] = {}
    accounts: dict[str, int] = {}  # 旺旺 → its row: an export must name one person by it
    role_names = catalog.role_names()
    found_of: dict[object, Found] = {}  # a roster names a few roles many times: each looked up once
    # plain dicts, not iterrows: a Series per row cost 0.6 ms, a minute for 100,000 people
    columns = list(df.columns)
    records = (dict(zip(columns, values)) for values in zip(*(df[c].tolist() for c in columns)))
    for i, row in zip(df.index, records):
        line = i + 2  # the header is line 1

        def bad(zh: str, en: str, column: str) -> None:
            diags.append(error("roster-row", f"第 {line} 行 {zh}", f"row {line}: {en}",
                               source=source, path=(line, CHINESE[column])))

        for column in ("employee_id", "name", "department", "role", "supervisor", "wangwang"):
            if isinstance(row[column], str) and XML_ILLEGAL.search(row[column]):
                bad(f"{CHINESE[column]}含有控制字符（如 \\x01），工作簿无法保存它",
                    f"{CHINESE[column]} holds a control character (such as \\x01) that a workbook "
                    "cannot hold", column)
        if is_blank(row['employee_id']):
            bad("工号为空", "empty 工号 (employee id)", "employee_id")
        elif row['employee_id'] in seen:
            bad(f"工号 {row['employee_id']} 与第 {seen[row['employee_id']]} 行重复",
                f"duplicate 工号 {row['employee_id']} (also row {seen[row['employee_id']]})", "employee_id")
        else:
            seen[row['employee_id']] = line
        if not is_blank(row['wangwang']):
            account = fold(row['wangwang'])
            if account in accounts:
                bad(f"旺旺 {row['wangwang']} 与第 {accounts[account]} 行重复",
                    f"duplicate 旺旺 {row['wangwang']} (also row {accounts[account]})", "wangwang")
            else:
                accounts[account] = line
        if is_blank(row['name']):
            bad("姓名为空", "empty 姓名 (name)", "name")
        if is_blank(row['department']):
            bad("部门为空", "empty 部门 (department)", "department")
        if is_blank(row['role']):
            found = None
        else:
            key = row['role']
            found = found_of[key] if key in found_of else found_of.setdefault(key, role_names.find(key))
        roles.append(found.role.id if found is not None and found.role is not None else None)
        if found is None:
            bad("岗位为空", "empty 岗位 (role)", "role")
        elif found.role is None:
            bad(*found.message(row['role']), "role")
        salaries.append(_number(row['base_salary'], bad, "base_salary", required=True))
        qs.append(_number(row['q_amount'], bad, "q_amount", required=False))
        absent.append(_number(row['months_absent'], bad, "months_absent", required=False))
        try:
            attendance.append(None if is_blank(row['full_attendance']) else parse_flag(row['full_attendance']))
        except ParseError:
            attendance.append(None)
            bad(f"全勤应为 是/否，得到 '{row['full_attendance']}'",
                f"全勤 must be 是/否, got '{row['full_attendance']}'", "full_attendance")
    if diags:
        rows = sorted({d.path[0] for d in diags})
        listed = "、".join(str(r) for r in rows)
        summary = error("roster-invalid", f"名单有 {len(diags)} 处错误（第 {listed} 行），未生成工作簿",
                        f"the roster has {len(diags)} problems (rows {', '.join(map(str, rows))}); "
                        "no workbook was written", source=source)
        raise KpiError([summary, *diags])
    df["role"] = roles
    df["base_salary"] = salaries
    df["q_amount"] = qs
    df["full_attendance"] = attendance
    df["months_absent"] = absent
    return df.reset_index(drop=True)


@functools.lru_cache(maxsize=4096)  # a roster repeats its departments, roles and flags
def _normalised_text(value: str) -> str:
    return normalise_text(value)


def _normalised(value):
    return _normalised_text(value) if isinstance(value, str) else value


def _number(value, bad, column: str, required: bool) -> float:
    if is_blank(value):
        if required:
            bad(f"{CHINESE[column]}为空", f"empty {CHINESE[column]}", column)
        return math.nan
    try:
        number = parse_money(value)
    except ParseError:
        bad(f"{CHINESE[column]}不是数字：'{value}'", f"{CHINESE[column]} is not a number: '{value}'",
            column)
        return math.nan
    if number < 0:
        bad(f"{CHINESE[column]}为负数", f"negative {CHINESE[column]}", column)
    return number


def split_roster(roster: pd.DataFrame, column: str):
    """(file-safe key, part) per value of ``column`` (部门 or department, ...).

    Keys are usable as file names on Windows too, and distinct even when two values only
    differ in characters that had to be replaced (case-insensitively, as file systems are).
    """
    import re

    wanted = normalise_text(str(column)).lower()
    canon = next((c for c, names in COLUMNS.items()
                  if wanted == c or wanted in (n.lower() for n in names)), None)
    if canon is None or canon not in roster:
        raise KpiError([error("split-column", f"无法按 '{column}' 拆分；可用：部门、岗位、直接上级",
                              f"cannot split by '{column}'; use 部门, 岗位 or 直接上级")])
    taken: set[str] = set()
    values = roster[canon].map(lambda v: "" if is_blank(v) else str(v))
    for value, part in roster.groupby(values, sort=False):
        base = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", str(value)).strip().strip(".") or "未分组"
        base = base[:80]
        key, k = base, 2
        while key.lower() in taken:
            key, k = f"{base}~{k}", k + 1
        taken.add(key.lower())
        yield key, part.reset_index(drop=True)
