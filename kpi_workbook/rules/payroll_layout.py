"""The payroll file's layout (``templates/payroll.yaml``): which columns, in which order.

Finance edits it; `kpi-workbook payroll` gives every month exactly these columns, reading
the report by column names. Validated with pydantic like the other templates; a bad file
yields diagnostics with file, path and line, all at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from ..diagnostics import Diagnostic, KpiError, error, warning
from .loader import _load, builtin_templates_dir
from .model import Model

FILE = "payroll.yaml"


class PayrollColumn(Model):
    header: str = Field(min_length=1)
    from_: str | None = Field(None, alias="from", min_length=1)
    type: Literal["text", "money", "approval"] = "text"

    @property
    def source(self) -> str:
        return self.from_ or self.header


class PayrollLayout(Model):
    sheet: str = Field("工资表", min_length=1, max_length=31)
    columns: tuple[PayrollColumn, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self):
        headers = [c.header for c in self.columns]
        twice = sorted({h for h in headers if headers.count(h) > 1})
        if twice:
            raise ValueError(f"表头重复：{'、'.join(twice)} / duplicate headers: {', '.join(twice)}")
        sources = {c.source for c in self.columns}
        if "工号" not in sources:
            raise ValueError("须有取自 工号 的列 / a column from 工号 is required")
        if not any(c.source == "应发绩效合计" and c.type == "money" for c in self.columns):
            raise ValueError("须有取自 应发绩效合计 的金额列 / a money column from 应发绩效合计 is required")
        return self

    @property
    def money(self) -> list[PayrollColumn]:
        return [c for c in self.columns if c.type == "money"]


def load_payroll_layout(directory: Path | str | None = None) -> PayrollLayout:
    """``payroll.yaml`` of ``directory`` (the built-in one when the directory has none)."""
    path = Path(directory) / FILE if directory is not None else builtin_templates_dir() / FILE
    if not path.is_file():
        path = builtin_templates_dir() / FILE
    diags: list[Diagnostic] = []
    layout = _load(path, PayrollLayout, diags)
    if layout is None:
        raise KpiError(diags or [error("payroll-layout", f"无法读取 {path}", f"cannot read {path}",
                                       source=str(path))])
    return layout


def lint_payroll_layout(directory: Path | str | None, catalog) -> list:
    """``payroll.yaml`` of the templates directory: valid, and naming every pay rule's label
    as a money column (a rule whose label it lacks makes payroll refuse the month)."""
    root = Path(directory) if directory is not None else builtin_templates_dir()
    path = root / FILE
    if not path.is_file():
        return []
    diags: list[Diagnostic] = []
    layout = _load(path, PayrollLayout, diags)
    if layout is None:
        return diags
    money = {c.source for c in layout.money}
    if not any(c.source != "应发绩效合计" for c in layout.money):
        return diags  # the total alone: no breakdown to keep complete
    for rule_id, rule in catalog.pay_rules.items():
        if rule.label not in money:
            diags.append(warning("payroll-layout-missing",
                                 f"薪酬规则 {rule_id} 的金额列“{rule.label}”不在 {FILE} 中：用到它的月份 payroll 会拒绝导出",
                                 f"pay rule {rule_id}'s column '{rule.label}' is not in {FILE}: payroll refuses "
                                 "a month that uses it", source=str(path), path=("columns",)))
    return diags
