"""``kpi-workbook template new --out F.xlsx``: a template workbook with a short worked example.

The example — a 仓库管理员 form of four items, one of each common rule type (分档, 扣加分事件,
等级, 直接打分), graded A–E and paid by grade — sits in the sheets HR fills in, so that each
sheet shows what goes where; HR changes it into their own role (or clears it and types
theirs). Imported unchanged, it is a working role.
"""

from __future__ import annotations

from pathlib import Path

from ...rules.loader import Catalog, builtin_catalog
from ...rules.model import Role
from .export import export_role

EXAMPLE = {
    "id": "warehouse_keeper",
    "name": "仓库管理员绩效考核表",
    "aliases": ["仓管员"],
    "family": "other",
    "grade_scheme": "grade_a_e",
    "pay_rules": ["pay_grade_amount"],
    "signatures": ["被考核人签字", "直接上级签字", "日期"],
    "sections": [
        {"id": "results", "label": "工作业绩", "items": [
            {"id": "shipping_accuracy", "label": "发货准确率", "max": 30,
             "criteria": "≥99.5% 30分；≥99% 25分；≥98% 15分；低于98% 不得分",
             "rule": {"kind": "bands", "monotone": "increasing",
                      "input": {"id": "rate", "label": "发货准确率", "type": "percent", "min": 0, "max": 1},
                      "bands": [{"when": ">= 99.5%", "points": 30}, {"when": ">= 99%", "points": 25},
                                {"when": ">= 98%", "points": 15}, {"when": "else", "points": 0}]}},
            {"id": "stocktaking", "label": "盘点与账实", "max": 30,
             "criteria": "盘点差错每次扣5分；账实不符每次扣10分；扣完为止",
             "rule": {"kind": "events", "events": [
                 {"id": "count_error", "label": "盘点差错", "points": -5},
                 {"id": "mismatch", "label": "账实不符", "points": -10}]}},
        ]},
        {"id": "conduct", "label": "工作态度", "items": [
            {"id": "attitude", "label": "工作态度", "max": 20, "criteria": "主管评定",
             "rule": {"kind": "levels", "levels": [
                 {"label": "优秀", "points": 20}, {"label": "良好", "points": 15},
                 {"label": "一般", "points": 10}, {"label": "较差", "points": 0}]}},
            {"id": "safety_5s", "label": "5S与安全", "max": 20, "criteria": "库区整洁、通道畅通、消防合规，主管 0–20 打分",
             "rule": {"kind": "direct", "levels": [
                 {"label": "好", "min": 18, "max": 20}, {"label": "一般", "min": 12, "max": 17.9},
                 {"label": "差", "min": 0, "max": 11.9}]}},
        ]},
    ],
}


def example_role() -> Role:
    return Role.model_validate(EXAMPLE)


def new_template(out: Path, force: bool = False, catalog: Catalog | None = None) -> Path:
    """The template workbook of the worked example (its grade scheme and pay rule are the
    built-in ones)."""
    catalog = catalog or builtin_catalog()
    role = example_role()
    with_example = Catalog({**catalog.roles, role.id: role}, catalog.grade_schemes, catalog.pay_rules)
    return export_role(with_example, role, Path(out), force=force, example=True)
