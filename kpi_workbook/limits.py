"""Every limit of kpi-workbook, in one table: what it bounds, its value, the environment
variable that changes it, and the way around it.

The readers refuse what is past a limit, and every command that writes refuses up front what
the readers would refuse (``new`` a roster too big for one book: "use --split-by 部门").
README's "Safety and limits" shows this very table (``python -m kpi_workbook.limits`` prints
it; a test holds the two equal). An environment variable is parsed like the option it
stands for: a value that is not a number, negative, NaN or infinite is one sentence, exit 2,
never a silent fall-back (:func:`check_environment` checks them all before a command runs).

Bounded loaders for the inputs that are not workbooks live here too, beside their limits:
:func:`json_loads` (nesting depth and size of ``score --input``), :func:`check_path` (file
names and paths the system can hold).
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass

from .diagnostics import KpiError, error

MB = 1 << 20


@dataclass(frozen=True)
class Limit:
    name: str
    value: float | None  # None: decided by the machine (the number of cores)
    unit: str  # in the README table: "MB", "张 / sheets", ...
    bounds: str  # what it bounds, Chinese / English
    way_around: str  # what to do when a file is past it
    env: str = ""  # the environment variable that changes it ("" = fixed)
    kind: str = "int"  # how the environment variable is parsed: "int" (≥ 1) or "seconds" (≥ 0)


LIMITS: tuple[Limit, ...] = (
    Limit("sheets", 50_000, "张 / sheets",
          "一个工作簿的工作表 / sheets in one workbook (each scorecard is one)",
          "new --split-by 部门（每部门一个工作簿）/ `new --split-by 部门`: one book per department",
          "KPI_WORKBOOK_MAX_SHEETS"),
    Limit("cells", 20_000_000, "个 / cells",
          "一个工作簿的单元格 / cells in one workbook (a scorecard has 150–600)",
          "new --split-by 部门 / `new --split-by 部门`", "KPI_WORKBOOK_MAX_CELLS"),
    Limit("rows", 1_048_576, "行 / rows",
          "一张工作表的行（Excel 的上限）/ rows of one sheet (Excel's own limit)",
          "分开做报表（每次一部分工作簿）/ report fewer books at a time", "KPI_WORKBOOK_MAX_ROWS"),
    Limit("part_mb", 512, "MB",
          "工作簿中一个部件解压后的大小 / one part of a workbook, inflated",
          "拆分工作簿 / split the workbook", "KPI_WORKBOOK_MAX_PART_MB"),
    Limit("book_mb", 2048, "MB",
          "一个工作簿解压后的总大小 / all parts of a workbook, inflated",
          "拆分工作簿 / split the workbook", "KPI_WORKBOOK_MAX_BOOK_MB"),
    Limit("ratio", 500, "倍 / times",
          "部件的压缩比（1 MB 以上的部件）/ a part's compression ratio (parts over 1 MB)",
          "疑似压缩炸弹：不要打开 / a likely zip bomb: do not open it", "KPI_WORKBOOK_MAX_RATIO"),
    Limit("cell_text_chars", 32_767, "字符 / characters",
          "一个单元格的文字（Excel 的上限）/ text in one cell (Excel's own limit)",
          "缩短文字 / shorten the text"),
    Limit("formula_chars", 8_192, "字符 / characters",
          "一个公式（Excel 的上限）/ one formula (Excel's own limit)",
          "用 new 重新生成考核表 / rebuild the scorecard with `new`"),
    Limit("money", 1e12, "元 / yuan",
          "一个金额（基本工资、绩效基数Q）/ one amount (base salary, Q)",
          "检查是否多打了位数 / check for a typo"),
    Limit("company_chars", 60, "字符 / characters",
          "--company 公司名（打印页眉）/ the company name (`--company`, printed in the header)",
          "用简称 / use a shorter name"),
    Limit("json_depth", 64, "层 / levels",
          "score --input 的 JSON 嵌套层数 / nesting of `score --input` JSON",
          "一张考核表的输入只需 4 层 / a card's input needs 4 levels"),
    Limit("json_mb", 64, "MB", "score --input 的 JSON 大小 / size of `score --input` JSON",
          "每次评一张考核表 / score one card at a time"),
    Limit("yaml_nodes", 200_000, "个 / nodes",
          "一个模板文件的 YAML 节点（别名展开后）/ YAML nodes of one template file, aliases expanded",
          "不要用别名嵌套别名 / do not nest aliases"),
    Limit("yaml_depth", 64, "层 / levels", "模板 YAML 的嵌套层数 / nesting of a template file",
          "减少嵌套 / nest less"),
    Limit("yaml_mb", 4, "MB", "一个模板文件的大小 / size of one template file",
          "一个岗位一个文件 / one role per file"),
    Limit("profile_kb", 256, "KB", "一个导入方案（YAML）的大小 / size of one import profile (YAML)",
          "导入方案只需几十行 / a profile needs a few dozen lines"),
    Limit("profile_depth", 12, "层 / levels", "导入方案的嵌套层数 / nesting of an import profile",
          "减少嵌套 / nest less"),
    Limit("profile_nodes", 50_000, "个 / events", "导入方案的 YAML 事件 / YAML events of an import profile",
          "导入方案只需几十行 / a profile needs a few dozen lines"),
    Limit("name_bytes", 255, "字节 / bytes",
          "文件名（UTF-8，一个汉字 3 字节）/ a file name (UTF-8: 3 bytes a Chinese character)",
          "缩短文件名 / shorten the name"),
    Limit("path_bytes", 4096, "字节 / bytes",
          "完整路径（或系统的上限，取小者）/ a whole path (or the system's limit, if smaller)",
          "换一个较浅的文件夹 / use a shallower folder"),
    Limit("lock_timeout", 60, "秒 / seconds",
          "等待另一进程写完同一文件 / waiting for another run writing the same file",
          "--lock-timeout SECONDS", "KPI_WORKBOOK_LOCK_TIMEOUT", "seconds"),
    Limit("workers", None, "个进程 / processes",
          "读写多个工作簿或读大工作簿的进程数（默认：CPU 核数）/ processes reading or writing books (default: the cores)",
          "KPI_WORKBOOK_WORKERS=1 不另起进程 / 1 starts none", "KPI_WORKBOOK_WORKERS"),
)
BY_NAME = {limit.name: limit for limit in LIMITS}


def _bad(limit: Limit, text: str, need: str, need_en: str) -> KpiError:
    return KpiError([error("bad-environment", f"环境变量 {limit.env} 须为{need}，得到“{text[:40]}”",
                           f"the environment variable {limit.env} must be {need_en}, got '{text[:40]}'")])


def parse_seconds(text: str) -> float:
    """Seconds as an option or a variable gives them: a finite number ≥ 0, else ValueError."""
    value = float(text)  # ValueError for words
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(text)
    return value


def _from_env(limit: Limit):
    text = os.environ.get(limit.env, "").strip() if limit.env else ""
    if not text:
        return limit.value
    if limit.kind == "seconds":
        try:
            return parse_seconds(text)
        except ValueError:
            raise _bad(limit, text, "秒数（0 或更大的有限数）", "seconds (a finite number, 0 or more)") from None
    if not re.fullmatch(r"[0-9]{1,15}", text) or int(text) < 1:
        raise _bad(limit, text, "正整数", "a whole number of 1 or more")
    return int(text)


def value(name: str):
    """A limit's value now: its environment variable's if set (checked), else the default."""
    return _from_env(BY_NAME[name])


def check_environment() -> None:
    """Every KPI_WORKBOOK_* variable of the table parsed now: KpiError (exit 2) at the first
    bad one, before a command does any work."""
    for limit in LIMITS:
        if limit.env:
            _from_env(limit)


def refuse(code: str, zh: str, en: str, limit: str, way: tuple[str, str] | None = None,
           **where) -> KpiError:
    """One sentence naming the limit (its value now) and the way around it (the table's, or
    ``way`` as (Chinese, English))."""
    item = BY_NAME[limit]
    unit_zh, _, unit_en = item.unit.partition(" / ")
    way_zh, _, way_en = item.way_around.partition(" / ") if way is None else (way[0], "", way[1])
    env_zh = f"（可由环境变量 {item.env} 调整）" if item.env else ""
    env_en = f" (set by {item.env})" if item.env else ""
    now = shown(value(limit))
    return KpiError([error(code, f"{zh}：上限 {now} {unit_zh}{env_zh}；{way_zh}",
                           f"{en}: the limit is {now} {unit_en or unit_zh}{env_en}; {way_en or way_zh}",
                           **where)])


def shown(number) -> str:
    """A limit as people read it: 50,000; 10¹² for the money cap."""
    if number is None:
        return "CPU 核数 / cores"
    if number >= 1e12 and float(number) == 1e12:
        return "10¹²"
    return f"{number:,.0f}" if float(number).is_integer() else f"{number:,}"


def check_table(rows: int, cells: int, what_zh: str, what_en: str, way: tuple[str, str] | None = None,
                **where) -> None:
    """Refuse a sheet of ``rows`` rows, or a book of ``cells`` cells, that the readers would
    refuse: before the writer does any work."""
    if rows > value("rows"):
        raise refuse("too-large", f"{what_zh}将有 {rows:,} 行，一张工作表放不下，未写入",
                     f"{what_en} would have {rows:,} rows, more than a sheet may: nothing was written",
                     "rows", way, **where)
    if cells > value("cells"):
        raise refuse("too-large", f"{what_zh}将有约 {cells:,} 个单元格，一个工作簿放不下，未写入",
                     f"{what_en} would have about {cells:,} cells, more than a workbook may: nothing "
                     "was written", "cells", way, **where)


def check_length(text: str, limit: str, what_zh: str, what_en: str) -> None:
    """Refuse a text option longer than its limit (``--company``), before any work."""
    most = value(limit)
    if len(text or "") + (text or "").count("&") > most:  # "&" is written "&&" in a page header
        raise refuse("too-long", f"{what_zh}过长（{len(text)} 个字符）", f"{what_en} is too long "
                     f"({len(text)} characters)", limit)


# --- JSON --------------------------------------------------------------------------------

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*+"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str, stop: int) -> int:
    """How deeply ``text`` nests (strings skipped), counting up to ``stop`` + 1 at most."""
    bare = _JSON_STRING.sub("", text)
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(bare):
        if match.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop:
                    break
        else:
            depth -= 1
    return deepest


def json_loads(text: str, source: str, **kwargs):
    """``json.loads`` of an input file, with its size and nesting bounded first: a deep
    array is one sentence, never a RecursionError."""
    size, depth = value("json_mb"), value("json_depth")
    if len(text) > size * MB:
        raise too_big_json(source)
    if json_depth(text, depth) > depth:
        raise refuse("too-deep", f"{source} 的 JSON 嵌套过深", f"{source} nests JSON too deeply",
                     "json_depth", source=source)
    return json.loads(text, **kwargs)


def too_big_json(source: str) -> KpiError:
    return refuse("too-large", f"{source} 过大", f"{source} is too large", "json_mb", source=source)


def read_bounded(stream, source: str) -> bytes:
    """At most the JSON size limit from ``stream`` (stdin): more is refused, not read."""
    most = value("json_mb") * MB
    data = stream.read(most + 1)
    if len(data) > most:
        raise too_big_json(source)
    return data


# --- file names and paths ----------------------------------------------------------------

def path_limits(folder: str = ".") -> tuple[int, int]:
    """(name bytes, path bytes) on this system: the table's, or the system's if smaller."""
    name, whole = value("name_bytes"), value("path_bytes")
    if hasattr(os, "pathconf"):
        for key, current in (("PC_NAME_MAX", name), ("PC_PATH_MAX", whole)):
            try:
                found = os.pathconf(folder, key)
            except (OSError, ValueError):
                continue
            if found and found > 0:
                if key == "PC_NAME_MAX":
                    name = min(current, found)
                else:
                    whole = min(current, found)
    return name, whole


def check_path(path, what_zh: str = "文件", what_en: str = "file") -> None:
    """Refuse a path with a component or a whole longer than the system holds: one
    sentence (exit 2), not "File name too long" from deep inside a write."""
    text = os.fsencode(os.fspath(path))
    longest = max((len(part) for part in re.split(rb"[\\/]", text)), default=0)
    absolute = len(os.fsencode(os.path.abspath(os.fspath(path))))
    name_max, path_max = path_limits()
    shown = os.fspath(path)
    shown = shown if len(shown) <= 80 else shown[:40] + "…" + shown[-30:]
    if longest > name_max:
        raise refuse("name-too-long", f"{what_zh}名过长（{longest} 字节）",
                     f"the {what_en} name is too long ({longest} bytes)", "name_bytes", source=shown)
    if absolute >= path_max:
        raise refuse("path-too-long", f"{what_zh}的路径过长（{absolute} 字节）",
                     f"the {what_en} path is too long ({absolute} bytes)", "path_bytes", source=shown)


# --- the README table --------------------------------------------------------------------

def markdown_table() -> str:
    """The table as README's "Safety and limits" shows it."""
    lines = ["| 限制 / limit | 值 / value | 单位 / unit | 限制什么 / what it bounds | 环境变量 / variable | "
             "超出时 / the way around |", "|---|---|---|---|---|---|"]
    for limit in LIMITS:
        lines.append(f"| `{limit.name}` | {shown(limit.value)} | {limit.unit} | {limit.bounds} | "
                     f"{'`' + limit.env + '`' if limit.env else '—'} | {limit.way_around} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(markdown_table(), end="")
