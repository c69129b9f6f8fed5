"""Apply an import profile (``rules/profiles.py``) to an export: the rows ``fill`` writes.

``fill BOOK --inputs 售前明细.xlsx --profile chitu-presales``: the export's header row is
found (exports often start with a title line), each row's person is matched to the roster
by the profile's roster column (赤兔 names people by their 旺旺 sub-account: the roster's 旺旺),
total rows are skipped, each value is converted (percent text, seconds, 万 units, whole
counts) and a person's rows are combined (sum, mean, last); each person then gets the inputs
their role takes from the profile. People the roster does not know, columns the profile does
not know and columns it expects but the export lacks are each listed; nothing is guessed.
A value that settles late (赤兔's payment rates, about 4 days after the month) from a file
saved before it settled is a warning.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ...diagnostics import Diagnostic, KpiError, error, info, warning
from ...kinds.inputs import KeyResolver, input_specs
from ...numbers import (NOISE_DIGITS, ParseError, excel_round, is_blank, normalise_text, parse_month,
                        parse_number)
from ...rules.loader import Catalog
from ...rules.names import fold
from ...rules.profiles import ImportProfile, ProfileColumn, profile_path, read_profile
from ...words import ROSTER_SHEET
from ..xlsx.limits import DAMAGED, check_xlsx
from ..xlsx.package import Book, split_ref
from .rows import InputRow

BLANKS = {"", "-", "--", "—", "/", "n/a", "na", "null", "无"}


@dataclass
class Applied:
    rows: list[InputRow] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    people: int = 0  # people of the export placed on the roster


def load_profile(name: str, catalog: Catalog, templates: Path | None = None) -> ImportProfile:
    """The profile by name or path, with every role it feeds checked against ``catalog``:
    each key must name one input of that role (KpiError naming the file otherwise)."""
    path = profile_path(name, templates)
    profile = read_profile(path)
    problems = []
    for c, column in enumerate(profile.columns):
        for role_id, key in column.feeds.items():
            role = catalog.roles.get(role_id)
            if role is None:
                continue  # a role these templates do not have: it simply takes nothing
            resolver = KeyResolver(input_specs(role, catalog.role_pay_rules(role)))
            base, rater, candidates = resolver.resolve(key)
            if base is None or rater is not None:
                problems.append(error(
                    "profile-key", f"导入方案 {path.name}：列“{column.column}”给岗位 {role_id} 的“{key}”"
                    f"不是它的一个输入项", f"import profile {path.name}: column '{column.column}' feeds "
                    f"'{key}', which is not one input of role {role_id}", source=str(path),
                    path=("columns", c, "feeds", role_id)))
    if problems:
        raise KpiError(problems)
    return profile


def book_roster(books: list[Path]) -> tuple[pd.DataFrame, str]:
    """(工号, 姓名, 部门, 岗位ID, 旺旺 of the books' 名单 sheets, the books' month)."""
    frames, month = [], ""
    for path in books:
        with Book.open(path) as book:
            if ROSTER_SHEET not in book.sheet_names:
                continue
            cells = book.sheet(ROSTER_SHEET).contents
            grid: dict[int, dict[int, object]] = {}
            for ref, value in cells.items():
                r, c = split_ref(ref)
                grid.setdefault(r, {})[c] = value
            header = {str(v).strip(): c for c, v in grid.get(1, {}).items() if not is_blank(v)}
            wanted = {"employee_id": "工号", "name": "姓名", "department": "部门", "role": "岗位ID",
                      "wangwang": "旺旺"}
            rows = []
            for r in sorted(k for k in grid if k > 1):
                rows.append({k: grid[r].get(header[h]) if h in header else None for k, h in wanted.items()})
            frames.append(pd.DataFrame(rows, columns=list(wanted)))
            if not month:
                for sheet in book.sheet_names:
                    cell = book.names.get(sheet, {}).get("KPI_MONTH")
                    if cell is not None:
                        month = str(book.sheet(sheet).contents.get(cell) or "")
                        break
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["employee_id", "name", "department", "role", "wangwang"])
    return frame, month


def apply_profile(catalog: Catalog, profile: ImportProfile, export: Path, roster: pd.DataFrame,
                  month: str = "", today: dt.date | None = None) -> Applied:
    """The rows to fill from ``export``; ``roster`` has employee_id, department, role and the
    profile's roster column (``book_roster``, or a roster file read by ``read_roster``)."""
    done = Applied()
    source = str(export)
    raw = _read_raw(export)
    at = _header_row(raw, profile)
    if at is None:
        heads = "、".join(profile.person.also and [profile.person.column, *profile.person.also]
                         or [profile.person.column])
        raise KpiError([error("profile-header", f"{export.name} 前 {profile.header_rows} 行中没有“{heads}”列："
                              f"不是 {profile.label} 的导出？", f"{export.name} has no '{profile.person.column}' "
                              f"column in its first {profile.header_rows} rows: not an export of "
                              f"{profile.label}?", source=source)])
    headers = [normalise_text(str(v)) for v in raw.iloc[at]]
    by_fold = {fold(h): j for j, h in enumerate(headers) if h}
    person_col = next(by_fold[fold(h)] for h in [profile.person.column, *profile.person.also] if fold(h) in by_fold)
    used = {person_col}
    columns: list[tuple[ProfileColumn, int]] = []
    for column in profile.columns:
        j = next((by_fold[fold(h)] for h in column.headers if fold(h) in by_fold), None)
        if j is None:
            done.diagnostics.append(info(
                "profile-missing-column", f"{export.name} 中没有列“{column.column}”：{_feeds(column)} 未导入",
                f"{export.name} has no column '{column.column}': {', '.join(column.feeds.values())} "
                "not imported", source=source))
            continue
        used.add(j)
        columns.append((column, j))
    ignored = {fold(h) for h in profile.ignore}
    unknown = [h for j, h in enumerate(headers) if h and j not in used and fold(h) not in ignored]
    if unknown:
        done.diagnostics.append(warning(
            "profile-unknown-columns", f"{export.name} 的列 {'、'.join(unknown)} 不在导入方案 {profile.id} 中，未导入",
            f"columns {', '.join(unknown)} of {export.name} are not in import profile {profile.id}: not "
            "imported", source=source))

    key_of = {"employee_id": "employee_id", "name": "name", "wangwang": "wangwang"}[profile.person.roster]
    if key_of not in roster or roster[key_of].map(lambda v: is_blank(v)).all():
        shown = {"employee_id": "工号", "name": "姓名", "wangwang": "旺旺"}[key_of]
        raise KpiError([error("profile-roster", f"名单中没有“{shown}”列：导入方案 {profile.id} 按“{profile.person.column}”"
                              f"对应名单的{shown}；请在名单中加一列 {shown} 后重新生成考核表，或用 --roster 给出名单",
                              f"the roster has no '{shown}' column: profile {profile.id} matches "
                              f"'{profile.person.column}' to the roster's {shown}; add the column and make the "
                              "scorecards again, or give the roster with --roster", source=source)])
    people = {fold(v): r for r, v in zip(roster.itertuples(index=False), roster[key_of]) if not is_blank(v)}
    skip = {fold(s) for s in profile.skip}

    values: dict[str, dict[int, list[tuple[float, int]]]] = {}  # employee → column → (value, line)
    strangers: dict[str, list[int]] = {}
    who: dict[str, Any] = {}  # employee → their roster row
    for i in range(at + 1, len(raw)):
        line = i + 1
        person = raw.iat[i, person_col]
        if _blank(person) or fold(person) in skip:
            continue
        match = people.get(fold(person))
        if match is None:
            strangers.setdefault(str(person).strip(), []).append(line)
            continue
        who[match.employee_id] = match
        mine = values.setdefault(match.employee_id, {})
        for column, j in columns:
            cell = raw.iat[i, j]
            if _blank(cell):
                continue
            try:
                mine.setdefault(j, []).append((convert(column.convert, cell), line))
            except ParseError as exc:
                done.diagnostics.append(error(
                    "profile-bad-value", f"{export.name} 第 {line} 行“{column.column}”：{exc.zh}（{person}）",
                    f"{export.name} row {line}, '{column.column}': {exc.en} ({person})", source=source,
                    path=(line, column.column)))
    if strangers:
        listed = "、".join(f"{p}（第 {'、'.join(map(str, lines[:3]))} 行）" for p, lines in list(strangers.items())[:12])
        more = f" 等 {len(strangers)} 人" if len(strangers) > 12 else ""
        done.diagnostics.append(warning(
            "profile-unknown-people", f"{export.name} 中 {len(strangers)} 人不在名单中（按{_roster_word(key_of)}对应），"
            f"未导入：{listed}{more}", f"{len(strangers)} {'person' if len(strangers) == 1 else 'people'} of {export.name} not on the roster "
            f"(matched by {key_of}): {', '.join(strangers)}; not imported", source=source))

    combined: dict[str, dict[int, tuple[float, int]]] = {}
    for employee, by_col in values.items():
        for column, j in columns:
            found = by_col.get(j)
            if found:
                combined.setdefault(employee, {})[j] = (_combine(column.combine, [v for v, _ in found]),
                                                        found[0][1])
    for column, j in columns:
        if column.share_of_team:
            _share(column, j, combined, who)

    unfed: dict[str, int] = {}
    for employee, settled in combined.items():
        role = str(who[employee].role)
        fed = False
        for column, j in columns:
            key = column.feeds.get(role)
            if key is None or j not in settled:
                continue
            number, first = settled[j]
            if math.isnan(number):
                continue
            done.rows.append(InputRow(employee, key, None, number, first, column.column))
            fed = True
        if not fed and not any(role in c.feeds for c, _ in columns):
            unfed[role] = unfed.get(role, 0) + 1
    done.people = len(combined)
    for role, n in sorted(unfed.items()):
        name = catalog.roles[role].name if role in catalog.roles else role
        done.diagnostics.append(warning(
            "profile-role", f"导入方案 {profile.id} 不给岗位 {role}（{name}）任何输入项：其 {n} 人未导入",
            f"import profile {profile.id} feeds nothing of role {role}: {n} people not imported",
            source=source))
    done.diagnostics += _settling(export, columns, month, today)
    return done


def convert(how: str, value: object) -> float:
    """A cell of an export as the number an input takes."""
    if isinstance(value, str):
        value = normalise_text(value).replace(" ", "")
    if how == "seconds":
        return _seconds(value)
    if how == "wan":
        return _money(value)
    number = parse_number(value)
    if how == "count" and not number.is_integer():
        raise ParseError(f"“{value}”不是整数", f"'{value}' is not a whole number")
    return number


_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$")
_UNITS = re.compile(r"^(?:(\d+(?:\.\d+)?)(?:小时|h))?(?:(\d+(?:\.\d+)?)(?:分钟|分|m|min))?"
                    r"(?:(\d+(?:\.\d+)?)(?:秒|s|sec))?$", re.I)


def _seconds(value: object) -> float:
    """25, '25.3', '25秒', '25s', '0:25', '00:00:25', '1分5秒' → seconds."""
    if not isinstance(value, str):
        return parse_number(value)
    clock = _CLOCK.match(value)
    if clock:
        hours, minutes, seconds = clock.groups()
        return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    units = _UNITS.match(value)
    if units and any(units.groups()):
        h, m, s = (float(g) if g else 0.0 for g in units.groups())
        return h * 3600 + m * 60 + s
    return parse_number(value)


def _money(value: object) -> float:
    """'1.2万' → 12000, '3亿' → 300000000, '¥1,234.5' or '1234.5元' → 1234.5."""
    if not isinstance(value, str):
        return parse_number(value)
    text = value.lstrip("¥￥").removesuffix("元")
    for unit, scale in (("万", 1e4), ("亿", 1e8)):
        if text.endswith(unit):
            return parse_number(text[: -len(unit)]) * scale
    return parse_number(text)


def _combine(how: str, values: list[float]) -> float:
    """Several rows of a person as one value, without binary noise (the mean of 20% and 22% is
    21%, not 0.21000000000000002, which a band at 21% would not reach)."""
    if how == "sum":
        return excel_round(float(sum(values)), NOISE_DIGITS)
    if how == "mean":
        return excel_round(float(sum(values) / len(values)), NOISE_DIGITS)
    return values[-1]


def _share(column: ProfileColumn, j: int, combined, who) -> None:
    """Each person's value over the sum of their role and department's values (the team's)."""
    teams: dict[tuple[str, str], float] = {}
    for employee, by_col in combined.items():
        if j in by_col:
            team = (str(who[employee].role), str(who[employee].department))
            teams[team] = teams.get(team, 0.0) + by_col[j][0]
    for employee, by_col in combined.items():
        if j in by_col:
            total = teams[(str(who[employee].role), str(who[employee].department))]
            value, line = by_col[j]
            by_col[j] = (excel_round(value / total, NOISE_DIGITS) if total else math.nan, line)


def _settling(export: Path, columns, month: str, today: dt.date | None) -> list[Diagnostic]:
    """A column whose values settle after the month, from a file saved before they did."""
    late = [(c, c.settles_days) for c, _ in columns if c.settles_days]
    if not late or not month:
        return []
    try:
        year, mon = (int(p) for p in parse_month(month).split("-"))
    except ParseError:
        return []
    end = (dt.date(year + mon // 12, mon % 12 + 1, 1) - dt.timedelta(days=1))
    saved = dt.date.fromtimestamp(export.stat().st_mtime) if today is None else today
    out = []
    for column, days in late:
        settles = end + dt.timedelta(days=days)
        if saved < settles:
            out.append(warning(
                "profile-not-settled", f"“{column.column}”要到 {settles:%Y-%m-%d}（月末后 {days} 天）才定，"
                f"{export.name} 保存于 {saved:%Y-%m-%d}：数值可能还会变，请在那之后重新导出并导入",
                f"'{column.column}' settles on {settles:%Y-%m-%d} ({days} days after the month), but "
                f"{export.name} was saved on {saved:%Y-%m-%d}: export and import it again after that",
                source=str(export)))
    return out


def _feeds(column: ProfileColumn) -> str:
    return "、".join(f"{r}.{k}" for r, k in column.feeds.items())


def _roster_word(key: str) -> str:
    return {"employee_id": "工号", "name": "姓名", "wangwang": "旺旺"}[key]


def _blank(value: object) -> bool:
    return is_blank(value) or fold(value) in BLANKS


def _header_row(raw: pd.DataFrame, profile: ImportProfile) -> int | None:
    wanted = {fold(h) for h in [profile.person.column, *profile.person.also]}
    for i in range(min(profile.header_rows, len(raw))):
        if any(not is_blank(v) and fold(v) in wanted for v in raw.iloc[i]):
            return i
    return None


def _read_raw(path: Path) -> pd.DataFrame:
    """Every cell of the export as text, no header taken (it is found afterwards)."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        raise KpiError([error("bad-format", f"不支持的文件类型 {path.suffix or '（无扩展名）'}（应为 .xlsx 或 .csv；"
                              ".xls 请先另存为 .xlsx）", f"unsupported file type {path.suffix or '(none)'} "
                              "(expected .xlsx or .csv; save an .xls as .xlsx first)", source=str(path))])
    if not path.is_file():
        raise KpiError([error("no-file", f"找不到文件 {path}", f"file not found: {path}", source=str(path))])
    try:
        if suffix == ".csv":  # rows of any length: a title line above the header is common
            import csv

            for encoding in ("utf-8-sig", "gb18030"):
                try:
                    with open(path, encoding=encoding, newline="") as f:
                        rows = list(csv.reader(f))
                    break
                except UnicodeDecodeError:
                    continue
            else:
                raise KpiError([error("bad-encoding", f"{path} 不是 UTF-8 或 GBK 编码的 CSV",
                                      f"{path} is not a UTF-8 or GBK CSV", source=str(path))])
            width = max((len(r) for r in rows), default=0)
            if not width:
                raise pd.errors.EmptyDataError
            return pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=str)
        check_xlsx(path)
        return pd.read_excel(path, header=None, dtype=str, keep_default_na=False, engine="openpyxl")
    except KpiError:
        raise
    except pd.errors.EmptyDataError:
        raise KpiError([error("empty-table", f"{path.name} 是空文件", f"{path.name} is empty",
                              source=str(path))]) from None
    except DAMAGED as exc:
        raise KpiError([error("bad-table", f"{path.name} 无法读取（{type(exc).__name__}: {exc}）",
                              f"cannot read {path.name} ({type(exc).__name__}: {exc})",
                              source=str(path))]) from None
