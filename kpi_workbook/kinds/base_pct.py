"""base_pct: base salary × pct × total / 100, nothing below ``min_total``."""

from __future__ import annotations

import numpy as np

from ..rules.model import BasePctPay, GradeScheme
from .base import PayCells, PayKind, PayValues


class BasePct(PayKind[BasePctPay]):
    model = BasePctPay
    employee_field = "base_salary"

    def parameters(self, rule: BasePctPay, scheme: GradeScheme) -> list[tuple[str, str, float]]:
        return [("pct", "比例", rule.pct), ("min_total", "最低总分", rule.min_total)]

    def amount(self, rule: BasePctPay, v: PayValues) -> np.ndarray:
        return np.where(v.total >= rule.min_total,
                        v.column("base_salary") * rule.pct * v.total / 100, 0.0)

    def formula(self, rule: BasePctPay, c: PayCells) -> str:
        return (f'IF({c.total}>={c.param("min_total")},'
                f'{c.field("base_salary")}*{c.param("pct")}*{c.total}/100,0)')


KIND = BasePct()
