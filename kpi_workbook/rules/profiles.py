"""Import profiles: how an export a company already has (赤兔, 千牛, 生意参谋 …) maps onto
input keys, as data (``templates/imports/<name>.yaml``).

A profile says which column names the person and which roster column it matches (a 赤兔
export names people by their 旺旺 sub-account: the roster's 旺旺 / ``wangwang``), which rows
are totals rather than people, which columns feed which role's inputs, how each value converts
(percent text, seconds, 万 units, whole counts), how several rows of one person combine (sum,
mean, last), and which columns are known but not used. Applying it (``workbook/scorecard/
profile.py``) lists every person and column it could not place: nothing is guessed.

Profiles come from other people, so the YAML is read bounded: at most :data:`MAX_BYTES`, no
anchors or aliases (nothing can expand), nesting at most :data:`MAX_DEPTH` deep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from ..limits import BY_NAME as LIMITS
from ..diagnostics import KpiError, error
from .loader import builtin_templates_dir
from .model import Model

IMPORTS_DIR = "imports"
# from the one table of limits (kpi_workbook/limits.py, README "Safety and limits")
MAX_BYTES = int(LIMITS["profile_kb"].value or 0) * 1024
MAX_DEPTH = int(LIMITS["profile_depth"].value or 0)
MAX_EVENTS = int(LIMITS["profile_nodes"].value or 0)

Convert = Literal["number", "percent", "seconds", "wan", "count"]
Combine = Literal["sum", "mean", "last"]
RosterField = Literal["employee_id", "name", "wangwang"]
TOTAL_ROWS = ["合计", "总计", "汇总", "平均", "均值", "平均值", "团队", "全部"]


class PersonColumn(Model):
    column: str = Field(min_length=1)
    also: list[str] = []  # other headers the same column goes by in other versions
    roster: RosterField = "employee_id"  # the roster column its values are (旺旺: wangwang)


class ProfileColumn(Model):
    column: str = Field(min_length=1)
    also: list[str] = []
    convert: Convert = "number"
    combine: Combine = "last"
    feeds: dict[str, str] = Field(min_length=1)  # role id → input key (or 考核项目/输入项)
    # the value over the sum of the same role and department's values in the export (a share
    # of the team's sales from each person's sales)
    share_of_team: bool = False
    # the export's value is final this many days after the month ends (赤兔: the payment rates)
    settles_days: int | None = Field(default=None, ge=0, le=60)
    note: str = ""

    @property
    def headers(self) -> list[str]:
        return [self.column, *self.also]


class ImportProfile(Model):
    id: str = Field(min_length=1)
    label: str
    source: str = ""
    note: str = ""
    person: PersonColumn
    skip: list[str] = TOTAL_ROWS  # person cells that are totals, not people
    ignore: list[str] = []  # columns known and not used (not reported as unknown)
    header_rows: int = Field(default=20, ge=1, le=200)  # where to look for the header row
    columns: list[ProfileColumn] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self):
        seen: set[str] = set()
        for c in self.columns:
            for h in c.headers:
                if h in seen:
                    raise ValueError(f"列“{h}”出现两次 / column '{h}' is listed twice")
                seen.add(h)
        return self


def profiles_dirs(templates: Path | None) -> list[Path]:
    """Where profiles are looked for: the templates folder's ``imports/``, then the built-in."""
    dirs = [Path(templates) / IMPORTS_DIR] if templates is not None else []
    return [*dirs, builtin_templates_dir() / IMPORTS_DIR]


def available(templates: Path | None = None) -> list[str]:
    names: list[str] = []
    for folder in profiles_dirs(templates):
        if folder.is_dir():
            names += [p.stem for p in sorted(folder.glob("*.yaml")) if p.stem not in names]
    return names


def profile_path(name: str, templates: Path | None = None) -> Path:
    """A profile by name (``chitu-presales``) or by the path of its file."""
    given = Path(name)
    if given.suffix.lower() in (".yaml", ".yml") and given.is_file():
        return given
    for folder in profiles_dirs(templates):
        path = folder / f"{name}.yaml"
        if path.is_file():
            return path
    from ..suggest import did_you_mean

    names = available(templates)
    zh, en = did_you_mean(name, {n: n for n in names})
    raise KpiError([error("unknown-profile", f"没有导入方案“{name}”{zh}；可用：{'、'.join(names) or '无'}",
                          f"no import profile '{name}'{en}; available: {', '.join(names) or 'none'}")])


def read_profile(path: Path) -> ImportProfile:
    """The profile in ``path``, validated against the schema (the roles and keys it names are
    checked where the rule kinds are known: ``workbook/scorecard/profile.py``)."""
    data = bounded_yaml(path)
    try:
        return ImportProfile.model_validate(data)
    except ValidationError as exc:
        raise KpiError([error(f"profile-{e['type']}", f"导入方案 {path.name}：{'/'.join(map(str, e['loc']))}："
                              f"{e['msg']}", f"import profile {path.name}: {'/'.join(map(str, e['loc']))}: "
                              f"{e['msg']}", source=str(path), path=tuple(e["loc"]))
                        for e in exc.errors()]) from None


def bounded_yaml(path: Path) -> object:
    """Plain data from a YAML file of at most MAX_BYTES, without anchors or aliases, nested at
    most MAX_DEPTH deep; KpiError naming the file (and line) otherwise."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KpiError([error("unreadable", f"无法读取 {path}：{exc.strerror}", f"cannot read {path}: "
                              f"{exc.strerror}", source=str(path))]) from None
    if len(raw) > MAX_BYTES:
        raise KpiError([error("too-big", f"{path.name} 超过 {MAX_BYTES // 1024} KB，不像导入方案",
                              f"{path.name} is larger than {MAX_BYTES // 1024} KB: not an import profile",
                              source=str(path))])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise KpiError([error("bad-encoding", f"{path.name} 不是 UTF-8 文本", f"{path.name} is not UTF-8 text",
                              source=str(path))]) from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    depth = events = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            events += 1
            line = event.start_mark.line + 1 if event.start_mark is not None else None
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise KpiError([error("yaml-alias", f"{path.name} 第 {line} 行：导入方案中不能用锚点或别名（& 和 *）",
                                      f"{path.name} line {line}: anchors and aliases (& and *) are not "
                                      "allowed in an import profile", source=str(path), line=line)])
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise KpiError([error("yaml-depth", f"{path.name} 第 {line} 行：嵌套超过 {MAX_DEPTH} 层",
                                          f"{path.name} line {line}: nested more than {MAX_DEPTH} deep",
                                          source=str(path), line=line)])
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            if events > MAX_EVENTS:
                raise KpiError([error("yaml-size", f"{path.name} 内容过多", f"{path.name} holds too much",
                                      source=str(path))])
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise KpiError([error("yaml-syntax", f"{path.name} 不是有效的 YAML：{exc}", f"{path.name} is not valid "
                              f"YAML: {exc}", source=str(path), line=line)]) from None
