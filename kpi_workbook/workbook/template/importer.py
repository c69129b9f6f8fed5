"""``kpi-workbook template import F.xlsx --out DIR``: a template workbook back into templates.

The sheets of ``sheets.py`` are read by their labels and headers (a row or column moved by
hand still reads), each value checked as it is read — a number where a number goes, a word
of the dropdown where there is one — then the role, its grade schemes and pay rules are
validated with the template schema, cross-checked (every scheme, rule and grade named
exists) and linted (maxima add up, bands cover their range, …). Every problem is one
sentence naming the sheet and cell, all of them at once; nothing is written while there is
an error. Then ``DIR/roles/<id>.yaml`` is written, with the grade schemes and pay rules it
uses added to ``DIR/grades.yaml`` and ``DIR/pay.yaml``: a pay rule the templates already
have is referred to by its id (with the parameters this role pays differently as ``with``),
so that export then import gives the same templates back.

The workbook comes from other people: it is checked as any workbook is (bounded zip), read
for its values only (a formula is refused, never evaluated), at most ``MAX_ROWS`` rows a table.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import TypeAdapter, ValidationError

from ...diagnostics import Diagnostic, KpiError, error, has_errors, info, warning
from ...numbers import ParseError, is_blank, normalise_text, number_text, parse_flag, parse_number
from ...rules.lint import alias_clashes, lint_role
from ...rules.loader import (Catalog, _load, builtin_templates_dir, check_references)
from ...rules.model import GradeScheme, GradesFile, PayFile, PayRule, Role
from ...rules.names import fold
from ...suggest import did_you_mean
from ..files import atomic_output
from ..xlsx.limits import DAMAGED, check_xlsx
from . import sheets as S

_PAY_RULE: TypeAdapter[PayRule] = TypeAdapter(PayRule)
ID = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
Where = tuple[str, str]  # (sheet, cell)


@dataclass
class Imported:
    role: Role
    schemes: list[GradeScheme]
    rules: list  # the pay rules as the role pays them
    written: list[Path] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


@dataclass
class _Cell:
    value: object
    ref: str  # A1
    formula: bool = False


@dataclass
class _Row:
    sheet: str
    number: int
    cells: dict[str, _Cell]

    def cell(self, header: str) -> _Cell:
        return self.cells.get(header) or _Cell(None, f"A{self.number}")

    def blank(self) -> bool:
        return all(is_blank(c.value) for c in self.cells.values())


def read_sheets(path: Path) -> dict[str, dict[int, dict[int, _Cell]]]:
    """sheet → row → column → cell, values only (openpyxl, read-only; formulas flagged)."""
    import openpyxl

    check_xlsx(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except DAMAGED as exc:
        raise KpiError([error("not-xlsx", f"{path.name} 无法打开（{exc}）", f"cannot open {path.name} ({exc})",
                              source=str(path))]) from None
    out: dict[str, dict[int, dict[int, _Cell]]] = {}
    try:
        for ws in book.worksheets:
            rows: dict[int, dict[int, _Cell]] = {}
            for r, row in enumerate(ws.iter_rows(max_row=S.MAX_ROWS + 1, max_col=60), start=1):
                for c, cell in enumerate(row, start=1):
                    value = getattr(cell, "value", None)
                    if value is None:
                        continue
                    formula = getattr(cell, "data_type", "") == "f" or (
                        isinstance(value, str) and value.startswith("=") and len(value) > 1)
                    rows.setdefault(r, {})[c] = _Cell(value, f"{_letters(c)}{r}", formula)
            out[normalise_text(ws.title)] = rows
    finally:
        book.close()
    return out


def _letters(n: int) -> str:
    text = ""
    while n:
        n, rest = divmod(n - 1, 26)
        text = chr(65 + rest) + text
    return text


class _Reader:
    """Reads cells as what they should be; every problem is one diagnostic naming its cell."""

    def __init__(self, source: str, sheets: dict):
        self.source = source
        self.sheets = sheets
        self.diags: list[Diagnostic] = []

    def bad(self, sheet: str, ref: str, zh: str, en: str, code: str = "template-cell") -> None:
        self.diags.append(error(code, f"{sheet}!{ref} {zh}", f"{sheet}!{ref}: {en}", source=self.source,
                                sheet=sheet, cell=ref))

    def _value(self, sheet: str, cell: _Cell):
        if cell.formula:
            self.bad(sheet, cell.ref, "是公式，请直接填写内容", "holds a formula: type the value itself")
            return None
        value = cell.value
        if isinstance(value, str):  # as typed (full-width punctuation stays): only trimmed
            value = value.strip()
            return value or None
        return value

    def text(self, sheet: str, cell: _Cell) -> str | None:
        value = self._value(sheet, cell)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    def number(self, sheet: str, cell: _Cell, what: str) -> float | None:
        value = self._value(sheet, cell)
        if value is None:
            return None
        try:
            return parse_number(value)
        except ParseError as exc:
            self.bad(sheet, cell.ref, f"{what}：{exc.zh}", f"{what}: {exc.en}")
            return None

    def whole(self, sheet: str, cell: _Cell, what: str) -> int | None:
        number = self.number(sheet, cell, what)
        if number is None:
            return None
        if not number.is_integer():
            self.bad(sheet, cell.ref, f"{what} {number_text(number)} 须为整数", f"{what} must be a whole "
                     "number")
            return None
        return int(number)

    def flag(self, sheet: str, cell: _Cell, what: str) -> bool | None:
        value = self._value(sheet, cell)
        if value is None:
            return None
        try:
            return parse_flag(value)
        except ParseError:
            self.bad(sheet, cell.ref, f"{what}应为 是 或 否，得到“{value}”", f"{what} must be 是 or 否, "
                     f"got '{value}'")
            return None

    def word(self, sheet: str, cell: _Cell, what: str, words: dict[str, str]) -> str | None:
        """The key of a dropdown's word (or the key itself, as the YAML writes it)."""
        value = self.text(sheet, cell)
        if value is None:
            return None
        for key, word in words.items():
            if fold(value) in (fold(word), fold(key)) and (word or key):
                return key
        shown = "、".join(w for w in words.values() if w)
        self.bad(sheet, cell.ref, f"{what}“{value}”不在下拉列表中（{shown}）",
                 f"{what} '{value}' is not one of the list ({shown})")
        return None

    def table(self, name: str, required: bool) -> list[_Row]:
        rows = self.sheets.get(name)
        fields = S.FIELDS[name]
        if rows is None:
            if required:
                self.diags.append(error("template-sheet", f"缺少工作表“{name}”", f"the sheet '{name}' is "
                                        "missing", source=self.source, sheet=name))
            return []
        header = {fold(c.value): col for col, c in rows.get(1, {}).items() if isinstance(c.value, str)}
        columns: dict[str, int] = {}
        for f in fields:
            col = header.get(fold(f.header))
            if col is not None:
                columns[f.header] = col
            elif f.required:
                self.bad(name, "A1", f"第 1 行缺少表头“{f.header}”", f"row 1 has no '{f.header}' column",
                         "template-header")
        out = []
        for r in sorted(k for k in rows if k > 1):
            if r > S.MAX_ROWS:
                self.bad(name, f"A{r}", f"超过 {S.MAX_ROWS} 行：不像模板", f"more than {S.MAX_ROWS} rows",
                         "template-size")
                break
            cells = {h: rows[r].get(c) or _Cell(None, f"{_letters(c)}{r}") for h, c in columns.items()}
            row = _Row(name, r, cells)
            if not row.blank():
                out.append(row)
        return out


# ---------------------------------------------------------------------------------------


def read_template(path: Path) -> tuple[dict, list[dict], list[dict], dict, _Reader]:
    """(role data, grade scheme data, pay rule data, where each value came from, the reader
    with its findings) of a template workbook."""
    path = Path(path)
    reader = _Reader(str(path), read_sheets(path))
    where: dict[tuple, Where] = {}
    role = _role_sheet(reader, where)
    sections = _sections(reader, where)
    rater_rows = reader.table(S.RATERS, required=False)
    raters = [r for r in (_rater(reader, row) for row in rater_rows) if r is not None]
    _items(reader, sections, where)
    role["sections"] = []
    for s, section in enumerate(sections.values()):
        row = section.pop("_row")
        where[("sections", s)] = (S.SECTIONS, row.cell("维度").ref)
        role["sections"].append(section)
    if role.pop("_mode", None) is not None:
        role["raters"]["raters"] = raters
    elif rater_rows:
        reader.bad(S.RATERS, rater_rows[0].cell("评分人").ref, "有评分人，但“岗位”表的评分人方式是 无",
                   "raters are listed but the role's 评分人方式 is 无")
    schemes = _schemes(reader, where)
    rules = _pay(reader, where)
    role["pay_rules"] = [r["id"] for r in rules]
    for p, rule in enumerate(rules):
        where[("pay_rules", p)] = where[("pay_rules", rule["id"])]
    return role, schemes, rules, where, reader


def _role_sheet(reader: _Reader, where: dict) -> dict:
    rows = reader.sheets.get(S.ROLE)
    if rows is None:
        reader.diags.append(error("template-sheet", f"缺少工作表“{S.ROLE}”", f"the sheet '{S.ROLE}' is missing",
                                  source=reader.source, sheet=S.ROLE))
        return {}
    by_label: dict[str, int] = {}
    for r, cells in rows.items():
        label = cells.get(1)
        if label is not None and isinstance(label.value, str):
            by_label.setdefault(fold(label.value), r)

    def cell(label: str, k: int = 0) -> _Cell:
        r = by_label.get(fold(label))
        if r is None:
            return _Cell(None, "A1")
        return rows[r].get(2 + k) or _Cell(None, f"{_letters(2 + k)}{r}")

    def place(path: tuple, label: str) -> None:
        where[path] = (S.ROLE, cell(label).ref)

    for f in S.ROLE_ROWS:
        if f.required and fold(f.header) not in by_label:
            reader.bad(S.ROLE, "A1", f"缺少“{f.header}”一行", f"the row '{f.header}' is missing", "template-header")
    t = lambda label: reader.text(S.ROLE, cell(label))  # noqa: E731
    data: dict = {}
    for key, label in (("id", "岗位ID"), ("name", "名称"), ("name_en", "英文名称"), ("source", "来源"),
                       ("note", "说明"), ("grade_scheme", "等级方案")):
        value = t(label)
        if value is not None:
            data[key] = value
        place((key,), label)
    _check_id(reader, S.ROLE, cell("岗位ID"), data.get("id"), "岗位ID")
    if "id" not in data and fold("岗位ID") in by_label:
        reader.bad(S.ROLE, cell("岗位ID").ref, "岗位ID 不能为空（英文小写字母、数字和下划线，如 warehouse_keeper）",
                   "the role id is empty (lower-case letters, digits and underscores, e.g. warehouse_keeper)")
    for key, label, words in (("family", "类别", S.FAMILIES), ("max_style", "配分方式", S.MAX_STYLES)):
        value = reader.word(S.ROLE, cell(label), label, words)
        if value is not None:
            data[key] = value
        place((key,), label)
    mode = reader.word(S.ROLE, cell("评分人方式"), "评分人方式", S.RATER_MODES)
    if mode:
        data["raters"] = {"mode": mode, "raters": []}
        data["_mode"] = mode
        place(("raters",), "评分人方式")
    total: dict = {}
    base = reader.number(S.ROLE, cell("总分起点"), "总分起点")
    if base is not None:
        total["base"] = base
    normalize = reader.flag(S.ROLE, cell("总分折算百分制"), "总分折算百分制")
    if normalize is not None:
        total["normalize"] = normalize
    floor_cell = cell("总分下限")
    if fold(reader.text(S.ROLE, floor_cell) or "") == fold(S.NONE):
        total["floor"] = None
    else:
        floor = reader.number(S.ROLE, floor_cell, "总分下限")
        if floor is not None:
            total["floor"] = floor
    if total:
        data["total"] = total
    place(("total",), "总分起点")
    for key, label in (("signatures", "签字"), ("remarks", "备注栏"), ("aliases", "别名")):
        r = by_label.get(fold(label))
        if r is None:
            continue
        values = [reader.text(S.ROLE, rows[r].get(2 + k) or _Cell(None, "")) for k in range(S.LIST_CELLS)]
        values = [v for v in values if v]
        if values or key != "signatures":
            data[key] = values
        place((key,), label)
    above = reader.number(S.ROLE, cell("不参与：缺岗月数超过"), "缺岗月数")
    if above is not None:
        reason = t("不参与原因")
        if reason is None:
            reader.bad(S.ROLE, cell("不参与原因").ref, "填了不参与的缺岗月数，也要写不参与原因（印在考核表上）",
                       "a 不参与 rule needs its reason (printed on the card)")
        data["exclude_if"] = [{"field": "months_absent", "above": above, "reason": reason or "",
                               "reason_en": t("不参与原因（英文）") or ""}]
        place(("exclude_if",), "不参与：缺岗月数超过")
    assumed = reader.flag(S.ROLE, cell("假设"), "假设")
    if assumed is not None:
        data["assumed"] = assumed
        place(("assumed",), "假设")
    return data


def _auto_id(given: str | None, prefix: str, n: int, taken: set[str]) -> str:
    if given:
        return given
    candidate, k = f"{prefix}{n}", n
    while candidate in taken:
        k += 1
        candidate = f"{prefix}{k}"
    return candidate


def _check_id(reader: _Reader, sheet: str, cell: _Cell, value: str | None, what: str) -> None:
    if value is not None and not (ID.match(value) and "__" not in value and len(value) <= 40):
        reader.bad(sheet, cell.ref, f"{what}“{value}”须为英文小写字母、数字和下划线（如 daily_work），不超过 40 个字符",
                   f"{what} '{value}' must be lower-case letters, digits and single underscores (e.g. "
                   "daily_work), at most 40 characters")


def _sections(reader: _Reader, where: dict) -> dict[str, dict]:
    out: dict[str, dict] = {}
    rows = reader.table(S.SECTIONS, required=True)
    given = {t for t in (reader.text(S.SECTIONS, r.cell("维度ID")) for r in rows) if t}
    for n, row in enumerate(rows, start=1):
        sid = reader.text(S.SECTIONS, row.cell("维度ID"))
        _check_id(reader, S.SECTIONS, row.cell("维度ID"), sid, "维度ID")
        label = reader.text(S.SECTIONS, row.cell("维度"))
        if label is None:
            reader.bad(S.SECTIONS, row.cell("维度").ref, "维度名称为空", "the section's name is empty")
            continue
        data: dict = {"id": _auto_id(sid, "section", n, given), "label": label, "items": [], "_row": row}
        if fold(label) in out:
            reader.bad(S.SECTIONS, row.cell("维度").ref, f"维度“{label}”重复", f"section '{label}' twice")
            continue
        en = reader.text(S.SECTIONS, row.cell("英文名"))
        if en:
            data["label_en"] = en
        weight = reader.number(S.SECTIONS, row.cell("权重"), "权重")
        if weight is not None:
            data["weight"] = weight
        normalize = reader.flag(S.SECTIONS, row.cell("折算"), "折算")
        if normalize is not None:
            data["normalize"] = normalize
        total = reader.number(S.SECTIONS, row.cell("分配总分"), "分配总分")
        if total is not None:
            default = reader.number(S.SECTIONS, row.cell("默认分配"), "默认分配")
            if default is None:
                reader.bad(S.SECTIONS, row.cell("默认分配").ref, "填了分配总分，也要填默认分配",
                           "an allocation needs its default")
            data["allocation"] = {"total": total, "default": default or 0}
            name = reader.text(S.SECTIONS, row.cell("分配名称"))
            if name:
                data["allocation"]["label"] = name
        out[fold(label)] = data
    return out


def _items(reader: _Reader, sections: dict[str, dict], where: dict) -> list[dict]:
    rows = reader.table(S.ITEMS, required=True)
    given = {t for t in (reader.text(S.ITEMS, r.cell("项目ID")) for r in rows) if t}
    items: list[tuple[dict, _Row, str]] = []  # (item data, row, kind)
    by_name: dict[str, int] = {}
    broken: set[str] = set()  # items already reported
    section_index = {key: k for k, key in enumerate(sections)}
    for n, row in enumerate(rows, start=1):
        label = reader.text(S.ITEMS, row.cell("考核项目"))
        section_name = reader.text(S.ITEMS, row.cell("维度"))
        iid = reader.text(S.ITEMS, row.cell("项目ID"))
        _check_id(reader, S.ITEMS, row.cell("项目ID"), iid, "项目ID")
        if label is None:
            reader.bad(S.ITEMS, row.cell("考核项目").ref, "考核项目名称为空", "the item's name is empty")
            continue
        if section_name is None or fold(section_name) not in sections:
            zh, en = did_you_mean(section_name or "", {k: s["label"] for k, s in sections.items()})
            reader.bad(S.ITEMS, row.cell("维度").ref, f"维度“{section_name or ''}”不在“维度”表中{zh}",
                       f"section '{section_name or ''}' is not on the 维度 sheet{en}")
            broken.add(fold(label))
            continue
        kind = reader.word(S.ITEMS, row.cell("规则类型"), "规则类型", S.RULE_KINDS)
        if kind is None:
            if is_blank(row.cell("规则类型").value):
                reader.bad(S.ITEMS, row.cell("规则类型").ref, "规则类型为空：请从下拉列表中选择",
                           "the rule type is empty: pick one from the list")
            broken.add(fold(label))  # its detail rows are not reported again
            continue
        data = _item(reader, row, label, _auto_id(iid, "item", n, given), kind)
        section = sections[fold(section_name)]
        s, i = section_index[fold(section_name)], len(section["items"])
        section["items"].append(data)
        path = ("sections", s, "items", i)
        for header, key in (("考核项目", "label"), ("项目ID", "id"), ("配分", "max"), ("满分刻度", "scale"),
                            ("规则类型", "rule"), ("考核标准", "criteria"), ("加减分项", "adjustment"),
                            ("计入总分", "in_total"), ("可为负", "allow_negative"), ("可超配分", "allow_above_max"),
                            ("单项等级方案", "grade_scheme"), ("评分人打分", "rated"), ("保留小数", "round"),
                            ("说明", "note"), ("假设", "assumed")):
            where[path + (key,)] = (S.ITEMS, row.cell(header).ref)
        where[path] = (S.ITEMS, row.cell("考核项目").ref)
        for header, key in (("输入项", "label"), ("输入项ID", "id"), ("类型", "type"), ("范围下限", "min"),
                            ("范围上限", "max"), ("默认值", "default"), ("必填", "required"), ("单位", "unit")):
            for name in ("input", "metric"):
                where[path + ("rule", name, key)] = (S.ITEMS, row.cell(header).ref)
        where[path + ("rule", "input_label")] = (S.ITEMS, row.cell("输入项").ref)
        where[path + ("rule", "cap")] = (S.ITEMS, row.cell("比例封顶").ref)
        where[path + ("rule", "base")] = (S.ITEMS, row.cell("事件起点").ref)
        where[path + ("rule", "monotone")] = (S.ITEMS, row.cell("单调性").ref)
        where[path + ("rule", "pinned")] = (S.ITEMS, row.cell("已确认").ref)
        for key in (fold(label), fold(data["id"])):
            if key in by_name and key == fold(label):
                reader.bad(S.ITEMS, row.cell("考核项目").ref, f"考核项目“{label}”重复：分档、事件、等级选项表无法区分",
                           f"item '{label}' twice: the detail sheets could not tell them apart")
            by_name.setdefault(key, len(items))
        items.append((data, row, kind))
        data["_path"] = path
    _details(reader, items, by_name, broken, where)
    for data, _, _ in items:
        data.pop("_path", None)
    return [d for d, _, _ in items]


def _item(reader: _Reader, row: _Row, label: str, iid: str, kind: str) -> dict:
    sheet = S.ITEMS
    data: dict = {"id": iid, "label": label}
    en = reader.text(sheet, row.cell("英文名"))
    if en:
        data["label_en"] = en
    top = reader.number(sheet, row.cell("配分"), "配分")
    if top is None and is_blank(row.cell("配分").value):
        reader.bad(sheet, row.cell("配分").ref, "配分为空", "the item's 配分 (max points) is empty")
    data["max"] = top if top is not None else 0
    for header, key in (("满分刻度", "scale"), ("保留小数", "round")):
        value = (reader.whole if key == "round" else reader.number)(sheet, row.cell(header), header)
        if value is not None:
            data[key] = value
    criteria = reader.text(sheet, row.cell("考核标准"))
    if criteria:
        data["criteria"] = criteria
    for header, key in (("加减分项", "adjustment"), ("计入总分", "in_total"), ("可为负", "allow_negative"),
                        ("可超配分", "allow_above_max"), ("假设", "assumed")):
        value = reader.flag(sheet, row.cell(header), header)
        if value is not None:
            data[key] = value
    scheme = reader.text(sheet, row.cell("单项等级方案"))
    if scheme:
        data["grade_scheme"] = scheme
    rated = reader.word(sheet, row.cell("评分人打分"), "评分人打分", S.RATED)
    if rated:
        data["rated"] = rated == "yes"
    note = reader.text(sheet, row.cell("说明"))
    if note:
        data["note"] = note
    rule: dict = {"kind": kind}
    if kind in ("bands", "ratio"):
        rule["input"] = _input(reader, row, label)
    elif kind == "rank":
        if any(not is_blank(row.cell(h).value) for h in ("输入项", "输入项ID", "类型")):
            rule["metric"] = _input(reader, row, label)
        better = reader.flag(sheet, row.cell("越高越好"), "越高越好")
        if better is not None:
            rule["higher_is_better"] = better
    elif kind == "direct":
        name = reader.text(sheet, row.cell("输入项"))
        if name:
            rule["input_label"] = name
        rule["levels"] = []
    elif kind == "levels":
        rule["levels"] = []
    elif kind == "events":
        rule["events"] = []
        base = row.cell("事件起点")
        text = reader.text(sheet, base)
        if text is not None and fold(text) != fold(S.FULL):
            number = reader.number(sheet, base, "事件起点")
            if number is not None:
                rule["base"] = number
    if kind == "ratio":
        cap = reader.number(sheet, row.cell("比例封顶"), "比例封顶")
        if cap is not None:
            rule["cap"] = cap
    if kind == "bands":
        rule["bands"] = []
        monotone = reader.word(sheet, row.cell("单调性"), "单调性", S.MONOTONE)
        if monotone:
            rule["monotone"] = monotone
        pinned = reader.text(sheet, row.cell("已确认"))
        if pinned:
            words = [w for w in re.split(r"[、,，;；\s]+", pinned) if w]
            keys: list[str] = []
            for w in words:
                word = next((k for k, v in S.PINNED.items() if fold(w) in (fold(v), k)), None)
                if word is None:
                    reader.bad(sheet, row.cell("已确认").ref, f"已确认“{w}”应为 缺口、重叠 或 遮挡",
                               f"'{w}' must be 缺口, 重叠 or 遮挡")
                else:
                    keys.append(word)
            rule["pinned"] = keys
    data["rule"] = rule
    return data


def _input(reader: _Reader, row: _Row, item_label: str) -> dict:
    sheet = S.ITEMS
    iid = reader.text(sheet, row.cell("输入项ID"))
    _check_id(reader, sheet, row.cell("输入项ID"), iid, "输入项ID")
    data: dict = {"id": iid or "value", "label": reader.text(sheet, row.cell("输入项")) or item_label}
    en = reader.text(sheet, row.cell("输入项英文名"))
    if en:
        data["label_en"] = en
    kind = reader.word(sheet, row.cell("类型"), "类型", S.INPUT_TYPES)
    if kind:
        data["type"] = kind
    unit = reader.text(sheet, row.cell("单位"))
    if unit:
        data["unit"] = unit
    for header, key in (("范围下限", "min"), ("范围上限", "max"), ("默认值", "default")):
        value = reader.number(sheet, row.cell(header), header)
        if value is not None:
            data[key] = value
    required = reader.flag(sheet, row.cell("必填"), "必填")
    if required is not None:
        data["required"] = required
    return data


def _details(reader: _Reader, items: list[tuple[dict, _Row, str]], by_name: dict[str, int], broken: set[str],
             where: dict) -> None:
    """The rows of 分档, 事件 and 等级选项, each to its item."""
    names = {d["label"]: d["label"] for d, _, _ in items}

    def owner(sheet: str, row: _Row, kinds: tuple[str, ...]):
        name = reader.text(sheet, row.cell("考核项目"))
        k = by_name.get(fold(name)) if name else None
        if k is None and name and fold(name) in broken:
            return None
        if k is None:
            zh, en = did_you_mean(name or "", names)
            reader.bad(sheet, row.cell("考核项目").ref, f"考核项目“{name or ''}”不在“考核项目”表中{zh}",
                       f"item '{name or ''}' is not on the 考核项目 sheet{en}")
            return None
        data, _, kind = items[k]
        if kind not in kinds:
            want = "、".join(S.RULE_KINDS[x] for x in kinds)
            reader.bad(sheet, row.cell("考核项目").ref, f"“{name}”的规则类型是 {S.RULE_KINDS[kind]}，不是 {want}："
                       f"它没有{sheet}", f"'{name}' is a {kind} item, not {'/'.join(kinds)}")
            return None
        return data

    for row in reader.table(S.BANDS, required=False):
        data = owner(S.BANDS, row, ("bands",))
        if data is None:
            continue
        band = _band(reader, row)
        if band is not None:
            path = data["_path"] + ("rule", "bands", len(data["rule"]["bands"]))
            where[path] = (S.BANDS, row.cell("比较").ref)
            where[path + ("points",)] = (S.BANDS, row.cell("得分").ref)
            where[path + ("when",)] = (S.BANDS, row.cell("数值").ref)
            data["rule"]["bands"].append(band)
    for row in reader.table(S.EVENTS, required=False):
        data = owner(S.EVENTS, row, ("events",))
        if data is None:
            continue
        events = data["rule"]["events"]
        event = _event(reader, row, len(events) + 1, {e["id"] for e in events})
        if event is not None:
            path = data["_path"] + ("rule", "events", len(events))
            where[path] = (S.EVENTS, row.cell("事件").ref)
            where[path + ("points",)] = (S.EVENTS, row.cell("每次分值").ref)
            where[path + ("id",)] = (S.EVENTS, row.cell("事件ID").ref)
            where[path + ("type",)] = (S.EVENTS, row.cell("记录方式").ref)
            events.append(event)
    for row in reader.table(S.LEVELS, required=False):
        data = owner(S.LEVELS, row, ("levels", "direct"))
        if data is None:
            continue
        level = _level(reader, row, data["rule"]["kind"])
        if level is not None:
            path = data["_path"] + ("rule", "levels", len(data["rule"]["levels"]))
            where[path] = (S.LEVELS, row.cell("等级").ref)
            for header, key in (("得分", "points"), ("最低分", "min"), ("最高分", "max")):
                where[path + (key,)] = (S.LEVELS, row.cell(header).ref)
            data["rule"]["levels"].append(level)
    for data, row, kind in items:
        rule = data["rule"]
        empty = {"bands": ("bands", S.BANDS, 1), "events": ("events", S.EVENTS, 1),
                 "levels": ("levels", S.LEVELS, 2)}.get(kind)
        if empty and len(rule[empty[0]]) < empty[2]:
            need = "至少两个等级" if kind == "levels" else "至少一行"
            reader.bad(S.ITEMS, row.cell("规则类型").ref, f"“{data['label']}”是{S.RULE_KINDS[kind]}项目，"
                       f"“{empty[1]}”表中要有它的{need}", f"'{data['label']}' is a {kind} item: the "
                       f"{empty[1]} sheet needs {'two levels' if kind == 'levels' else 'a row'} of it")


def _band(reader: _Reader, row: _Row) -> dict | None:
    sheet = S.BANDS
    word = reader.word(sheet, row.cell("比较"), "比较", {w: w for w in S.COMPARE})
    points = reader.number(sheet, row.cell("得分"), "得分")
    if points is None and is_blank(row.cell("得分").value):
        reader.bad(sheet, row.cell("得分").ref, "得分为空", "the points are empty")
    if word is None:
        if is_blank(row.cell("比较").value):
            reader.bad(sheet, row.cell("比较").ref, "比较为空：请选 ≥、>、≤、<、=、介于 或 其他",
                       "the comparison is empty")
        return None
    op, lo_closed, hi_closed = S.COMPARE[word]
    value = reader.number(sheet, row.cell("数值"), "数值")
    if op == "else":
        when = "else"
    elif value is None:
        if is_blank(row.cell("数值").value):
            reader.bad(sheet, row.cell("数值").ref, f"“{word}”要有数值", f"'{word}' needs a value")
        return None
    elif op == "range":
        upper = reader.number(sheet, row.cell("上限"), "上限")
        if upper is None:
            if is_blank(row.cell("上限").value):
                reader.bad(sheet, row.cell("上限").ref, "介于要有上限", "a range needs its upper end")
            return None
        if upper < value:
            reader.bad(sheet, row.cell("上限").ref, f"上限 {number_text(upper)} 小于数值 {number_text(value)}",
                       "the upper end is below the value")
            return None
        when = f"{'[' if lo_closed else '('}{number_text(value)}, {number_text(upper)}{']' if hi_closed else ')'}"
    else:
        when = f"{op} {number_text(value)}"
    band: dict = {"when": when, "points": points if points is not None else 0}
    label = reader.text(sheet, row.cell("说明"))
    if label:
        band["label"] = label
    return band


def _event(reader: _Reader, row: _Row, n: int, taken: set[str]) -> dict | None:
    sheet = S.EVENTS
    label = reader.text(sheet, row.cell("事件"))
    if label is None:
        reader.bad(sheet, row.cell("事件").ref, "事件名称为空", "the event's name is empty")
        return None
    eid = reader.text(sheet, row.cell("事件ID"))
    _check_id(reader, sheet, row.cell("事件ID"), eid, "事件ID")
    points = reader.number(sheet, row.cell("每次分值"), "每次分值")
    if points is None:
        if is_blank(row.cell("每次分值").value):
            reader.bad(sheet, row.cell("每次分值").ref, "每次分值为空（扣分写负数，如 -2）",
                       "the points per occurrence are empty (a deduction is negative, e.g. -2)")
        return None
    other = reader.number(sheet, row.cell("区间另一端"), "区间另一端")
    kind = reader.word(sheet, row.cell("记录方式"), "记录方式", S.EVENT_TYPES)
    event: dict = {"id": _auto_id(eid, "event", n, taken), "label": label,
                   "points": [points, other] if other is not None else points,
                   "type": kind or ("points" if other is not None else "count")}
    en = reader.text(sheet, row.cell("英文名"))
    if en:
        event["label_en"] = en
    return event


def _level(reader: _Reader, row: _Row, kind: str) -> dict | None:
    sheet = S.LEVELS
    label = reader.text(sheet, row.cell("等级"))
    if label is None:
        reader.bad(sheet, row.cell("等级").ref, "等级名称为空", "the level's name is empty")
        return None
    level: dict = {"label": label}
    criteria = reader.text(sheet, row.cell("标准"))
    if criteria:
        level["criteria"] = criteria
    if kind == "levels":
        points = reader.number(sheet, row.cell("得分"), "得分")
        if points is None:
            if is_blank(row.cell("得分").value):
                reader.bad(sheet, row.cell("得分").ref, f"等级“{label}”的得分为空", f"level '{label}' has no points")
            return None
        level["points"] = points
        return level
    low, high = (reader.number(sheet, row.cell(h), h) for h in ("最低分", "最高分"))
    if low is None or high is None:
        missing = "最低分" if low is None else "最高分"
        if is_blank(row.cell(missing).value):
            reader.bad(sheet, row.cell(missing).ref, f"直接打分项目的分数段要有{missing}",
                       f"a point range of a 直接打分 item needs its {missing}")
        return None
    level.update({"min": low, "max": high})
    return level


def _rater(reader: _Reader, row: _Row) -> dict | None:
    who = reader.word(S.RATERS, row.cell("评分人"), "评分人", S.RATER_WORDS)
    if who is None:
        return None
    data: dict = {"id": who}
    label = reader.text(S.RATERS, row.cell("列名"))
    if label:
        data["label"] = label
    weight = reader.number(S.RATERS, row.cell("权重"), "权重")
    if weight is not None:
        data["weight"] = weight
    return data


def _schemes(reader: _Reader, where: dict) -> list[dict]:
    out: list[dict] = []
    current: dict | None = None
    last_grade = None
    for row in reader.table(S.SCHEMES, required=False):
        t = lambda h: reader.text(S.SCHEMES, row.cell(h))  # noqa: E731
        sid = t("方案ID")
        if sid is not None:
            _check_id(reader, S.SCHEMES, row.cell("方案ID"), sid, "方案ID")
            current = {"id": sid, "label": t("方案名称") or sid, "tiers": [], "warnings": [], "max_share": {},
                       "period_rating": {"demote": []}, "_row": row}
            out.append(current)
            where[("grade_schemes", sid)] = (S.SCHEMES, row.cell("方案ID").ref)
            last_grade = None
            for header, key in (("来源", "source"), ("说明", "note")):
                if t(header):
                    current[key] = t(header)
            lowest = reader.whole(S.SCHEMES, row.cell("部门最低分连续月数"), "部门最低分连续月数")
            if lowest is not None:
                current["lowest_in_department"] = lowest
            basis = reader.word(S.SCHEMES, row.cell("期间评定方式"), "期间评定方式", S.BASES)
            if basis:
                current["period_rating"]["basis"] = basis
            months = reader.whole(S.SCHEMES, row.cell("期间最少月数"), "期间最少月数")
            if months is not None:
                current["period_rating"]["min_months"] = months
            assumed = reader.flag(S.SCHEMES, row.cell("假设"), "假设")
            if assumed is not None:
                current["assumed"] = assumed
        if current is None:
            reader.bad(S.SCHEMES, row.cell("方案ID").ref, "第一行要填方案ID", "the first row needs a scheme id")
            return out
        grade = t("等级")
        if grade is None:
            reader.bad(S.SCHEMES, row.cell("等级").ref, "等级为空", "the grade is empty")
            continue
        if grade != last_grade:  # a new tier; the same grade again: more warnings of it
            tier: dict = {"grade": grade}
            if t("等级名称"):
                tier["label"] = t("等级名称")
            low = reader.number(S.SCHEMES, row.cell("下限"), "下限")
            if low is not None:
                tier["min"] = low
            where[("grade_schemes", current["id"], len(current["tiers"]))] = (S.SCHEMES, row.cell("下限").ref)
            current["tiers"].append(tier)
            share = reader.number(S.SCHEMES, row.cell("比例上限"), "比例上限")
            if share is not None:
                current["max_share"][grade] = share
        last_grade = grade
        consecutive = reader.whole(S.SCHEMES, row.cell("预警连续月数"), "预警连续月数")
        in_year = reader.whole(S.SCHEMES, row.cell("预警全年次数"), "预警全年次数")
        action = t("预警措施")
        if consecutive is not None or in_year is not None or action:
            warn: dict = {"grade": grade, "consecutive": consecutive, "in_year": in_year}
            if action:
                warn["action"] = action
            current["warnings"].append(warn)
        months = reader.whole(S.SCHEMES, row.cell("降级月数"), "降级月数")
        if months is not None:
            current["period_rating"]["demote"].append({"grade": grade, "months": months, "to": t("降为") or grade})
    return out


def _pay(reader: _Reader, where: dict) -> list[dict]:
    out = []
    for row in reader.table(S.PAY, required=False):
        t = lambda h: reader.text(S.PAY, row.cell(h))  # noqa: E731
        rid = t("规则ID")
        _check_id(reader, S.PAY, row.cell("规则ID"), rid, "规则ID")
        kind = reader.word(S.PAY, row.cell("类型"), "类型", S.PAY_KINDS)
        if rid is None or kind is None:
            if rid is None:
                reader.bad(S.PAY, row.cell("规则ID").ref, "规则ID 为空", "the rule id is empty")
            continue
        data: dict = {"id": rid, "kind": kind, "label": t("名称") or rid}
        for header, key in (("英文名", "label_en"), ("来源", "source"), ("说明", "note")):
            if t(header):
                data[key] = t(header)
        assumed = reader.flag(S.PAY, row.cell("假设"), "假设")
        if assumed is not None:
            data["assumed"] = assumed
        for header, name in S.PAY_FIELDS[kind].items():
            cell = row.cell(header)
            value: object
            if name == "amounts":
                value = _amounts(reader, cell, header)
            elif name == "grades":
                text = t(header)
                value = [g for g in re.split(r"[、,，;；\s]+", text) if g] if text else None
            else:
                value = reader.number(S.PAY, cell, header)
            if value is not None:
                data[name] = value
            where[("pay_rules", rid, name)] = (S.PAY, cell.ref)
        where[("pay_rules", rid)] = (S.PAY, row.cell("类型").ref)
        out.append(data)
    return out


def _amounts(reader: _Reader, cell: _Cell, header: str) -> dict | None:
    """'A=400、B=300' (or A:400, one per line) → {A: 400, B: 300}."""
    text = reader.text(S.PAY, cell)
    if text is None:
        return None
    out = {}
    for part in [p.strip() for p in re.split(r"[、,，;；\n]+", text) if p.strip()]:
        match = re.fullmatch(r"(.+?)\s*[=:：]\s*(.+)", part)
        try:
            if match is None:
                raise ParseError("", "")
            out[match.group(1).strip()] = parse_number(match.group(2))
        except ParseError:
            reader.bad(S.PAY, cell.ref, f"{header}“{part}”应写成 等级=金额，如 A=400",
                       f"{header} '{part}' must read grade=amount, e.g. A=400")
    return out


# ---------------------------------------------------------------------------------------
# Checking it all, then writing it.


def import_template(path: Path, out_dir: Path, base: Catalog, force: bool = False,
                    with_builtin: bool = False) -> Imported:
    """Read, check and write one template workbook into ``out_dir`` (see the module's
    docstring); KpiError with every problem, nothing written, when there is an error."""
    path, out_dir = Path(path), Path(out_dir)
    existing_schemes, existing_rules = _existing(out_dir)
    if with_builtin and not (out_dir / "roles").is_dir():  # the built-in templates go in first
        from ...rules.loader import builtin_catalog

        built = builtin_catalog()
        existing_schemes, existing_rules = dict(built.grade_schemes), dict(built.pay_rules)
    # what the workbook may refer to by id: the folder's own, else the templates in use
    schemes_base = {**base.grade_schemes, **(existing_schemes or {})}
    rules_base = {**base.pay_rules, **(existing_rules or {})}
    role_data, scheme_data, rule_data, where, reader = read_template(path)
    source = str(path)

    def place(loc: tuple) -> Where:
        for k in range(len(loc), 0, -1):
            if loc[:k] in where:
                return where[loc[:k]]
        return (S.ROLE, "A1")

    def bad(loc: tuple, zh: str, en: str, code: str, severity: str = "error") -> Diagnostic:
        sheet, ref = place(loc)
        make = {"error": error, "warning": warning, "info": info}[severity]
        return make(code, f"{sheet}!{ref} {zh}", f"{sheet}!{ref}: {en}", source=source, sheet=sheet, cell=ref)

    diags = reader.diags
    schemes: dict[str, GradeScheme] = {}
    for data in scheme_data:
        data.pop("_row", None)
        sid = data["id"]
        try:
            schemes[sid] = GradeScheme.model_validate(data)
        except ValidationError as exc:
            diags += [bad(("grade_schemes", sid), *_message(e), f"template-{e['type']}") for e in exc.errors()]
    effective: list = []
    for data in rule_data:
        known = rules_base.get(data["id"])
        if known is not None and known.kind == data["kind"]:  # a rule the templates have:
            data = {**known.model_dump(), **data}  # what the row leaves empty is the rule's own
        try:
            effective.append(_PAY_RULE.validate_python(data))
        except ValidationError as exc:
            for e in exc.errors():
                loc = tuple(p for p in e["loc"] if p != data["kind"])
                diags.append(bad(("pay_rules", data["id"], *loc[:1]), *_message(e), f"template-{e['type']}"))
    refs, new_rules = [], {}
    for rule in effective:
        ref, fresh, problem = _pay_ref(rule, rules_base)
        if problem:
            diags.append(bad(("pay_rules", rule.id), *problem, "template-pay-id"))
        refs.append(ref)
        if fresh is not None:
            new_rules[rule.id] = fresh
    role_data["pay_rules"] = refs
    if has_errors(diags):
        raise KpiError(diags)
    try:
        role = Role.model_validate(role_data)
    except ValidationError as exc:
        raise KpiError(diags + [bad(_loc(e["loc"], role_data), *_message(e), f"template-{e['type']}")
                                for e in exc.errors()]) from None
    all_schemes = {**schemes_base, **schemes}
    all_rules = {**rules_base, **new_rules}
    catalog = Catalog({role.id: role}, all_schemes, all_rules, {role.id: path}, out_dir)
    for d in check_references(catalog):
        diags.append(bad(d.path, d.message_zh, d.message_en, d.code))
    found = lint_role(role, source)
    for scheme in schemes.values():
        mins = [t.min for t in scheme.tiers[:-1] if t.min is not None]
        if any(a <= b for a, b in zip(mins, mins[1:])):
            diags.append(bad(("grade_schemes", scheme.id, 1), f"等级方案 {scheme.id} 的下限须从高到低",
                             f"the thresholds of {scheme.id} must go down", "grade-order"))
    for d in found:
        diags.append(bad(d.path, d.message_zh, d.message_en, d.code, d.severity))
    if has_errors(diags):
        raise KpiError(diags)
    used = [all_schemes[i] for i in dict.fromkeys(
        [role.grade_scheme] + [it.grade_scheme for _, it in role.items() if it.grade_scheme])]
    written = _write(out_dir, role, used, [all_rules[r.id] for r in role.pay_rules], path, force,
                     with_builtin, base)
    return Imported(role, used, effective, written, [d for d in diags if d.severity != "error"])


def _message(e) -> tuple[str, str]:
    msg = str(e.get("msg", "")).removeprefix("Value error, ")
    if " / " in msg:  # our own validators: Chinese / English
        zh, en = msg.split(" / ", 1)
        return zh, en
    kind = e.get("type", "")
    chinese = {"string_pattern_mismatch": "须为英文小写字母、数字和下划线（如 daily_work）",
               "missing": "不能为空", "too_short": "不能为空", "greater_than_equal": "太小",
               "less_than_equal": "太大", "greater_than": "须大于 0", "string_too_long": "太长",
               "float_parsing": "须为数字", "literal_error": "不是可选的值"}.get(kind, "不符合模板规则")
    return f"{chinese}（{msg}）", msg


def _loc(loc: tuple, data) -> tuple:
    """The path in the data of a pydantic location (without its union tags)."""
    out, node = [], data
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str) and part not in node:
            continue
        out.append(part)
        node = node[part] if isinstance(node, (dict, list)) and (
            (isinstance(node, dict) and part in node) or (isinstance(node, list) and isinstance(part, int)
                                                          and part < len(node))) else None
    return tuple(out)


def _pay_ref(rule, base: dict) -> tuple[dict, object | None, tuple[str, str] | None]:
    """(the role's reference to ``rule``, the rule to add to pay.yaml or None, a problem)."""
    known = base.get(rule.id)
    if known is None:
        return {"id": rule.id}, rule, None
    if known.kind != rule.kind:
        return {"id": rule.id}, None, (f"规则ID {rule.id} 已是另一种规则（{S.PAY_KINDS[known.kind]}）：请换一个ID",
                                       f"rule id {rule.id} is already a {known.kind} rule: use another id")
    mine, theirs = rule.model_dump(), known.model_dump()
    differs = {k: v for k, v in mine.items() if theirs.get(k) != v}
    return ({"id": rule.id, "with": differs} if differs else {"id": rule.id}), None, None


def _existing(out_dir: Path):
    """The schemes and rules already in ``out_dir`` (None where it has no such file)."""
    diags: list[Diagnostic] = []
    schemes = rules = None
    if (out_dir / "grades.yaml").is_file():
        loaded = _load(out_dir / "grades.yaml", GradesFile, diags)
        schemes = {s.id: s for s in loaded.grade_schemes} if loaded else {}
    if (out_dir / "pay.yaml").is_file():
        loaded = _load(out_dir / "pay.yaml", PayFile, diags)
        rules = {r.id: r for r in loaded.pay_rules} if loaded else {}
    if has_errors(diags):
        raise KpiError(diags)
    return schemes, rules


def _dump_role(role: Role) -> dict:
    data = role.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    for s, section in enumerate(role.sections):
        for i, item in enumerate(section.items):
            if item.rule.kind == "bands":
                for b, band in enumerate(item.rule.bands):
                    data["sections"][s]["items"][i]["rule"]["bands"][b]["when"] = str(band.when)
    return _whole(data)


def _dump(model) -> dict:
    return _whole(model.model_dump(mode="json", by_alias=True, exclude_defaults=True) | {"id": model.id})


def _whole(data):
    """Whole floats as ints (30 rather than 30.0): the YAML as a person would write it."""
    if isinstance(data, dict):
        return {k: _whole(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_whole(v) for v in data]
    if isinstance(data, float) and data.is_integer() and abs(data) < 1e15:
        return int(data)
    return data


def _write(out_dir: Path, role: Role, schemes: list[GradeScheme], rules: list, source: Path, force: bool,
           with_builtin: bool, base: Catalog) -> list[Path]:
    role_file = out_dir / "roles" / f"{role.id}.yaml"
    if role_file.exists() and not force:
        raise KpiError([error("exists", f"{role_file} 已存在（加 --force 覆盖）", f"{role_file} exists (use "
                              "--force to replace it)", source=str(role_file))])
    if with_builtin and not (out_dir / "roles").is_dir():
        root = builtin_templates_dir()
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in ("grades.yaml", "pay.yaml", "payroll.yaml"):
            shutil.copy(root / name, out_dir / name)
        shutil.copytree(root / "roles", out_dir / "roles", dirs_exist_ok=True)
        if (root / "history").is_dir():
            shutil.copytree(root / "history", out_dir / "history", dirs_exist_ok=True)
    written = []
    others = [p for p in (out_dir / "roles").glob("*.yaml") if p != role_file] if (out_dir / "roles").is_dir() else []
    if others:
        from ...rules.loader import read_catalog

        there, _ = read_catalog(out_dir)
        mine = Catalog({**{k: v for k, v in there.roles.items() if k != role.id}, role.id: role},
                       there.grade_schemes, there.pay_rules, {role.id: role_file})
        clashes = [d for d in alias_clashes(mine) if d.source == str(role_file)]
        if clashes:
            raise KpiError(clashes)
    written.append(_merge(out_dir / "grades.yaml", "grade_schemes", [_dump(s) for s in schemes], force))
    written.append(_merge(out_dir / "pay.yaml", "pay_rules", [_dump(r) for r in rules], force))
    if rules:
        written.append(_payroll_columns(out_dir, [r.label for r in rules]))
    role_file.parent.mkdir(parents=True, exist_ok=True)
    text = (f"# {role.name} — 由 kpi-workbook template import 从 {source.name} 生成；改动请改工作簿后重新导入。\n"
            + yaml.safe_dump(_dump_role(role), allow_unicode=True, sort_keys=False, width=110))
    with atomic_output(role_file, force=True) as tmp:
        tmp.write_text(text, encoding="utf-8")
    written.append(role_file)
    return written


def _payroll_columns(out_dir: Path, labels: list[str]) -> Path:
    """The folder's payroll.yaml (the built-in one copied when it has none) with a money
    column for every pay rule label: payroll refuses a month whose money it has no column for."""
    from ...rules.payroll_layout import FILE

    path = out_dir / FILE
    text = path.read_text(encoding="utf-8") if path.is_file() else \
        (builtin_templates_dir() / FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    have = {c.get("from") or c.get("header") for c in data.get("columns") or [] if isinstance(c, dict)}
    missing = [label for label in dict.fromkeys(labels) if label not in have]
    anchor = re.search(r"^( *)- \{header: 应发绩效合计.*$", text, re.M)
    if missing and anchor:  # before the total, the file's own lines (and comments) kept
        pad = anchor.group(1)
        lines = "".join(f"{pad}- {{header: {yaml.safe_dump(label, allow_unicode=True).splitlines()[0]}, type: money}}\n"
                        for label in missing)
        text = text[:anchor.start()] + lines + text[anchor.start():]
    elif missing:
        columns = list(data.get("columns") or [])
        at = next((k for k, c in enumerate(columns) if isinstance(c, dict) and c.get("header") == "应发绩效合计"),
                  len(columns))
        data["columns"] = columns[:at] + [{"header": label, "type": "money"} for label in missing] + columns[at:]
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    if missing or not path.is_file():
        with atomic_output(path, force=True) as tmp:
            tmp.write_text(text, encoding="utf-8")
    return path


def _merge(path: Path, key: str, entries: list[dict], force: bool) -> Path:
    """Add ``entries`` to a grades.yaml / pay.yaml (made when missing); the same entry again
    changes nothing, another entry under a taken id is refused unless ``force``."""
    import yaml as _yaml

    current: list = []
    text = ""
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        loaded = _yaml.safe_load(text) or {}
        current = list(loaded.get(key) or [])
    by_id = {e.get("id"): k for k, e in enumerate(current) if isinstance(e, dict)}
    added, replaced = [], False
    for entry in entries:
        k = by_id.get(entry["id"])
        if k is None:
            added.append(entry)
            continue
        mine = _normal(path, key, entry)
        theirs = _normal(path, key, current[k])
        if mine == theirs:
            continue
        if not force:
            raise KpiError([error("template-conflict", f"{path} 中已有 {entry['id']}，内容不同：请在工作簿中换一个 ID，"
                                  "或加 --force 替换（用它的其他岗位也随之改变）", f"{path} already has "
                                  f"{entry['id']}, differently: use another id, or --force to replace it",
                                  source=str(path))])
        current[k], replaced = entry, True
    if not added and not replaced and path.is_file():
        return path
    if replaced or not current:  # a new file, or one with no entry yet: written whole
        body = _yaml.safe_dump({key: current + added}, allow_unicode=True, sort_keys=False, width=110)
        new = "# 由 kpi-workbook template import 写入 / written by kpi-workbook template import\n" + body
    else:  # keep the file as it is (comments too), the new entries after it
        new = _append(text, added)
    with atomic_output(path, force=True) as tmp:
        tmp.write_text(new, encoding="utf-8")
    return path


def _append(text: str, added: list[dict]) -> str:
    """``text`` with list entries appended to its one top-level list, indented as its items are."""
    found = re.search(r"^( *)- ", text, re.M)
    pad = " " * (len(found.group(1)) if found else 0)
    block = yaml.safe_dump(added, allow_unicode=True, sort_keys=False, width=110)
    indented = "\n".join((pad + ln) if ln else ln for ln in block.splitlines())
    return text.rstrip("\n") + "\n\n" + indented + "\n"


def _normal(path: Path, key: str, entry: dict):
    """An entry as its model, to compare what it means rather than how it is written."""
    try:
        if key == "grade_schemes":
            return GradeScheme.model_validate(entry)
        return _PAY_RULE.validate_python(entry)
    except ValidationError:
        return entry
