"""``kpi-workbook template export ROLE --out F.xlsx``: a role as a workbook HR can edit.

Everything the role's YAML says is on the sheets of ``sheets.py`` — the role, its sections and
items (rule types and every choice from dropdowns in Chinese), band rows, events, levels,
raters, the grade schemes it uses and its pay rules with the values it pays — so that
``template import`` of the workbook gives the same templates back. Cells take data
validation throughout: a dropdown where there is a choice, a number where a number goes, and
a note on what to type when a cell is selected.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import xlsxwriter

from ...numbers import number_text
from ...rules.loader import Catalog
from ...rules.model import GradeScheme, Item, Role
from ..files import atomic_output
from . import sheets as S

TITLE_FONT = {"font_name": "等线", "font_size": 10, "valign": "top"}


def export_role(catalog: Catalog, role: Role, out: Path, force: bool = False, example: bool = False) -> Path:
    """Write ``role`` (with its grade schemes and pay rules from ``catalog``) as a template
    workbook; ``example`` marks it as the worked example of ``template new``."""
    schemes = [catalog.grade_schemes[i] for i in dict.fromkeys(
        [role.grade_scheme] + [it.grade_scheme for _, it in role.items() if it.grade_scheme])]
    rules = catalog.role_pay_rules(role)
    with atomic_output(Path(out), force=force) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"strings_to_numbers": False, "strings_to_formulas": False,
                                              "strings_to_urls": False})
        writer = _Writer(book)
        writer.guide(role, example)
        writer.role(role)
        writer.table(S.SECTIONS, [_section_row(s) for s in role.sections])
        writer.table(S.ITEMS, [_item_row(section, item) for section, item in role.items()])
        writer.table(S.BANDS, [row for _, item in role.items() for row in _band_rows(item)])
        writer.table(S.EVENTS, [row for _, item in role.items() for row in _event_rows(item)])
        writer.table(S.LEVELS, [row for _, item in role.items() for row in _level_rows(item)])
        writer.table(S.RATERS, [] if role.raters is None else [
            {"评分人": S.RATER_WORDS[r.id], "列名": r.label or None, "权重": r.weight} for r in role.raters.raters])
        writer.table(S.SCHEMES, [row for scheme in schemes for row in _scheme_rows(scheme)])
        writer.table(S.PAY, [_pay_row(rule) for rule in rules])
        book.close()
    return Path(out)


class _Writer:
    def __init__(self, book):
        self.book = book
        base = {"font_name": "等线", "font_size": 10, "valign": "vcenter", "border": 1}
        self.head = book.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "text_wrap": True,
                                     "align": "center"})
        self.label = book.add_format({**base, "bold": True, "bg_color": "#F2F2F2"})
        self.text = book.add_format({**base, "bg_color": "#FFFDE7", "num_format": "@", "text_wrap": True})
        self.number = book.add_format({**base, "bg_color": "#FFFDE7"})
        self.percents: dict[str, object] = {}
        self.base = base
        self.note = book.add_format({**TITLE_FONT, "text_wrap": True})
        self.title = book.add_format({"font_name": "等线", "font_size": 14, "bold": True})
        self.h2 = book.add_format({"font_name": "等线", "font_size": 11, "bold": True, "font_color": "#1F4E78"})

    def percent(self, value: float):
        """A % format that shows the value exactly (0.38 as 38%, 0.995 as 99.5%)."""
        exponent = Decimal(repr(float(value))).scaleb(2).normalize().as_tuple().exponent
        digits = max(0, -exponent) if isinstance(exponent, int) else 0
        shape = "0%" if digits == 0 else "0." + "0" * min(digits, 6) + "%"
        if shape not in self.percents:
            self.percents[shape] = self.book.add_format({**self.base, "bg_color": "#FFFDE7", "num_format": shape})
        return self.percents[shape]

    def write(self, ws, row: int, col: int, value, kind: str = "text") -> None:
        if value is None or value == "":
            ws.write_blank(row, col, None, self.text if kind == "text" else self.number)
        elif isinstance(value, bool):
            ws.write_string(row, col, S.YES if value else S.NO, self.text)
        elif isinstance(value, (int, float)):
            fmt = self.percent(float(value)) if kind == "percent" else self.number
            ws.write_number(row, col, float(value), fmt)
        else:
            ws.write_string(row, col, str(value), self.text)

    def validate(self, ws, first: int, last: int, col: int, field: S.Field) -> None:
        spec: dict[str, object]
        common = {"input_title": field.header[:32], "input_message": field.note[:255], "ignore_blank": True,
                  "error_title": "输入无效"}
        if field.kind in ("list", "flag"):
            spec = {"validate": "list", "source": list(field.choices),
                    "error_message": f"请从下拉列表中选择：{'、'.join(field.choices)}"[:255]}
        elif field.kind == "ref":
            spec = {"validate": "list", "source": field.ref, "error_type": "warning",
                    "error_message": "请从下拉列表中选择（或先在对应的表中添加）"}
        elif field.kind in ("number", "percent"):
            spec = {"validate": "decimal", "criteria": "between", "minimum": -1e12, "maximum": 1e12,
                    "error_message": "请输入数字" + ("，如 20%" if field.kind == "percent" else "")}
        elif field.kind == "whole":
            spec = {"validate": "integer", "criteria": ">=", "value": 0, "error_message": "请输入整数"}
        else:
            spec = {"validate": "any"}
        if not field.note and spec["validate"] == "any":
            return
        ws.data_validation(first, col, last, col, {**common, **spec})

    # -- the sheets ----------------------------------------------------------------------
    def guide(self, role: Role, example: bool) -> None:
        ws = self.book.add_worksheet(S.GUIDE)
        ws.set_column(0, 0, 12)
        ws.set_column(1, 1, 100)
        ws.write(0, 1, "自己的考核表 · 模板工作簿" if not example else "自己的考核表 · 模板工作簿（示例）", self.title)
        lines = [
            ("步骤", None),
            ("1", "岗位：填岗位ID（英文小写，如 warehouse_keeper）、名称、类别、等级方案、签字栏。"),
            ("2", "维度：考核表的大块，如 工作业绩、工作态度；有权重的填权重。"),
            ("3", "考核项目：每个项目一行，选 规则类型，填 配分 和 考核标准；分档、比例、排名 项目填 输入项、类型、范围。"),
            ("4", "分档 / 事件 / 等级选项：按 考核项目 填各档、各扣加分事件、各等级（直接打分项目的分数段也填在 等级选项）。"),
            ("5", "评分人：有 自评、主管、经理 分列打分的才填；等级方案、薪酬：用已有的可直接引用其ID。"),
            ("6", "保存后运行：kpi-workbook template import 本文件.xlsx --out 模板目录  —— 每个问题都会指出表名和单元格。"),
            ("7", "然后：kpi-workbook --templates 模板目录 new --roster 名单.xlsx --month 2026-10 --out 考核表.xlsx；"
                  "或在主控工作簿的“设置”里把 模板目录 填为该目录。"),
            ("规则类型", None),
            ("分档", "按数值落在哪一档得分，第一档满足即得分，如 错漏检次数 = 0 得 22，= 1 得 20，≥ 4 得 0。"),
            ("比例", "完成比 × 满分，封顶，如 销售完成率 × 70。"),
            ("扣加分事件", "从满分起，每发生一次扣（或加）几分，如 虚假记录 每次 -2；从 0 起加的填 事件起点 0。"),
            ("直接打分", "评分人直接打 0 到配分之间的分；等级选项 表可给出各档分数段作参考。"),
            ("等级", "评分人从 等级选项 中选一级，如 优秀 5、良好 4、一般 3。"),
            ("排名", "按 输入项 在同岗位同部门中排名：第一名满分，最后一名 0 分。"),
        ]
        if example:
            lines.insert(0, ("示例", f"各表中已填了一个简短的示例（{role.name}），可直接修改或删除后填写自己的岗位。"))
        row = 2
        for head, text in lines:
            if text is None:
                ws.write(row, 0, head, self.h2)
            else:
                ws.write(row, 0, head, self.note)
                ws.write(row, 1, text, self.note)
                ws.set_row(row, 15 * (1 + len(text) // 62))  # wrapped lines, CJK about 62 a line
            row += 1
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.activate()

    def role(self, role: Role) -> None:
        ws = self.book.add_worksheet(S.ROLE)
        ws.set_column(0, 0, 20)
        ws.set_column(1, S.LIST_CELLS, 22)
        ws.write_row(0, 0, ["项目", "内容"], self.head)
        values = _role_values(role)
        for r, field in enumerate(S.ROLE_ROWS, start=1):
            ws.write_string(r, 0, field.header, self.label)
            value = values.get(field.header)
            if field.header in S.LIST_ROWS:
                entries = value if isinstance(value, list) else []
                for k in range(S.LIST_CELLS):
                    self.write(ws, r, 1 + k, entries[k] if k < len(entries) else None)
                self.validate(ws, r, r, 1, field)
            else:
                self.write(ws, r, 1, value, field.kind)
                self.validate(ws, r, r, 1, field)
        ws.freeze_panes(1, 1)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)

    def table(self, name: str, rows: list[dict]) -> None:
        ws = self.book.add_worksheet(name)
        fields = S.FIELDS[name]
        for c, field in enumerate(fields):
            ws.write_string(0, c, field.header, self.head)
            ws.set_column(c, c, field.width)
        for r, row in enumerate(rows, start=1):
            for c, field in enumerate(fields):
                kind = "percent" if row.get("%" + field.header) else field.kind
                self.write(ws, r, c, row.get(field.header), kind)
        for c, field in enumerate(fields):
            self.validate(ws, 1, S.MAX_ROWS - 1, c, field)
        ws.set_row(0, 32)
        ws.freeze_panes(1, 0)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)


# ---------------------------------------------------------------------------------------
# A role's values as the cells show them.


def _role_values(role: Role) -> dict[str, object]:
    exclusion = role.exclude_if[0] if role.exclude_if else None
    return {
        "岗位ID": role.id, "名称": role.name, "英文名称": role.name_en or None, "别名": list(role.aliases),
        "来源": role.source or None, "类别": S.FAMILIES[role.family], "配分方式": S.MAX_STYLES[role.max_style],
        "等级方案": role.grade_scheme, "评分人方式": S.RATER_MODES[role.raters.mode if role.raters else ""],
        "总分起点": role.total.base, "总分折算百分制": S.YES if role.total.normalize else S.NO,
        "总分下限": S.NONE if role.total.floor is None else role.total.floor,
        "签字": list(role.signatures), "备注栏": list(role.remarks),
        "不参与：缺岗月数超过": exclusion.above if exclusion else None,
        "不参与原因": exclusion.reason if exclusion else None,
        "不参与原因（英文）": (exclusion.reason_en or None) if exclusion else None,
        "假设": S.YES if role.assumed else None, "说明": role.note or None,
    }


def _section_row(section) -> dict:
    a = section.allocation
    return {"维度ID": section.id, "维度": section.label, "英文名": section.label_en or None,
            "权重": section.weight, "折算": S.YES if section.normalize else None,
            "分配总分": a.total if a else None, "默认分配": a.default if a else None,
            "分配名称": a.label if a else None}


def _flag(value: bool, default: bool) -> str | None:
    return None if value == default else (S.YES if value else S.NO)


def _item_row(section, item: Item) -> dict:
    rule = item.rule
    row: dict = {"维度": section.label, "项目ID": item.id, "考核项目": item.label,
                 "英文名": item.label_en or None, "配分": item.max, "满分刻度": item.scale,
                 "规则类型": S.RULE_KINDS[rule.kind], "考核标准": item.criteria or None,
                 "加减分项": _flag(item.adjustment, False), "计入总分": _flag(item.in_total, True),
                 "可为负": _flag(item.allow_negative, False), "可超配分": _flag(item.allow_above_max, False),
                 "单项等级方案": item.grade_scheme,
                 "评分人打分": None if item.rated is None else (S.YES if item.rated else S.NO),
                 "保留小数": item.round, "假设": S.YES if item.assumed else None, "说明": item.note or None}
    d = None
    if rule.kind in ("bands", "ratio"):
        d = rule.input
    elif rule.kind == "rank":
        d = rule.metric
        row["越高越好"] = S.YES if rule.higher_is_better else S.NO
    elif rule.kind == "direct":
        row["输入项"] = rule.input_label
    if rule.kind == "ratio":
        row["比例封顶"] = rule.cap
        row["%比例封顶"] = True
    if rule.kind == "events":
        row["事件起点"] = S.FULL if rule.base == "max" else rule.base
    if rule.kind == "bands":
        row["单调性"] = S.MONOTONE.get(rule.monotone or "")
        row["已确认"] = "、".join(S.PINNED[p] for p in rule.pinned) or None
    if d is not None:
        percent = d.type == "percent"
        row.update({"输入项ID": d.id, "输入项": d.label, "输入项英文名": d.label_en or None,
                    "类型": S.INPUT_TYPES[d.type], "单位": d.unit or None, "范围下限": d.min,
                    "范围上限": d.max, "必填": S.YES if d.required else S.NO, "默认值": d.default,
                    "%范围下限": percent, "%范围上限": percent, "%默认值": percent})
    return row


def _band_rows(item: Item) -> list[dict]:
    rule = item.rule
    if rule.kind != "bands":
        return []
    percent = rule.input.type == "percent"
    words = {spec: word for word, spec in S.COMPARE.items()}
    rows = []
    for band in rule.bands:
        c = band.when
        if c.op == "range":
            word, value, upper = words[("range", c.lo_closed, c.hi_closed)], c.lo, c.hi
        else:
            word, value, upper = words[(c.op, True, False)], c.value, None
        rows.append({"考核项目": item.label, "比较": word, "数值": value, "上限": upper, "得分": band.points,
                     "说明": band.label or None, "%数值": percent, "%上限": percent})
    return rows


def _event_rows(item: Item) -> list[dict]:
    rule = item.rule
    if rule.kind != "events":
        return []
    rows = []
    for e in rule.events:
        points, other = (e.points if isinstance(e.points, tuple) else (e.points, None))
        rows.append({"考核项目": item.label, "事件ID": e.id, "事件": e.label, "英文名": e.label_en or None,
                     "每次分值": points, "区间另一端": other, "记录方式": S.EVENT_TYPES[e.type]})
    return rows


def _level_rows(item: Item) -> list[dict]:
    rule = item.rule
    if rule.kind == "levels":
        return [{"考核项目": item.label, "等级": lv.label, "得分": lv.points, "标准": lv.criteria or None}
                for lv in rule.levels]
    if rule.kind == "direct":
        return [{"考核项目": item.label, "等级": lv.label, "最低分": lv.min, "最高分": lv.max,
                 "标准": lv.criteria or None} for lv in rule.levels]
    return []


def _scheme_rows(scheme: GradeScheme) -> list[dict]:
    rows = []
    warned: dict[str, list] = {}
    for w in scheme.warnings:
        warned.setdefault(w.grade, []).append(w)
    demoted: dict[str, list] = {}
    for d in scheme.period_rating.demote:
        demoted.setdefault(d.grade, []).append(d)
    for k, tier in enumerate(scheme.tiers):
        extra = max(len(warned.get(tier.grade, [])), len(demoted.get(tier.grade, [])), 1)
        for j in range(extra):  # a grade's further warnings on rows of their own
            row: dict = {"等级": tier.grade}
            if j == 0:
                row.update({"等级名称": tier.label or None, "下限": tier.min,
                            "比例上限": scheme.max_share.get(tier.grade)})
            if k == 0 and j == 0:
                rating = scheme.period_rating
                row.update({"方案ID": scheme.id, "方案名称": scheme.label, "来源": scheme.source or None,
                            "部门最低分连续月数": scheme.lowest_in_department,
                            "期间评定方式": S.BASES[rating.basis], "期间最少月数": rating.min_months,
                            "假设": S.YES if scheme.assumed else None, "说明": scheme.note or None})
            warnings = warned.get(tier.grade, [])
            if j < len(warnings):
                w = warnings[j]
                row.update({"预警连续月数": w.consecutive, "预警全年次数": w.in_year, "预警措施": w.action or None})
            demotes = demoted.get(tier.grade, [])
            if j < len(demotes):
                row.update({"降级月数": demotes[j].months, "降为": demotes[j].to})
            rows.append(row)
    return rows


def grade_amounts(amounts: dict[str, float]) -> str:
    return "、".join(f"{g}={number_text(v)}" for g, v in amounts.items())


def _pay_row(rule) -> dict:
    row: dict = {"规则ID": rule.id, "名称": rule.label, "英文名": rule.label_en or None,
                 "类型": S.PAY_KINDS[rule.kind], "来源": rule.source or None,
                 "假设": S.YES if rule.assumed else None, "说明": rule.note or None}
    for header, name in S.PAY_FIELDS[rule.kind].items():
        value = getattr(rule, name)
        if name == "amounts":
            value = grade_amounts(value)
        elif name == "grades":
            value = "、".join(value)
        row[header] = value
        if name in S.PERCENT_FIELDS:
            row["%" + header] = True
    return row
