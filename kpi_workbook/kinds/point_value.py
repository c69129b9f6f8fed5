"""point_value: (奖分 − 扣分) × the value of one point."""

from __future__ import annotations

import numpy as np

from ..rules.model import GradeScheme, PointValuePay
from .base import PayCells, PayKind, PayValues


class PointValue(PayKind[PointValuePay]):
    model = PointValuePay

    def parameters(self, rule: PointValuePay, scheme: GradeScheme) -> list[tuple[str, str, float]]:
        return [("value", "每分金额", rule.value)]

    def amount(self, rule: PointValuePay, v: PayValues) -> np.ndarray:
        return (v.bonus - v.deduction) * rule.value

    def formula(self, rule: PointValuePay, c: PayCells) -> str:
        return f'({c.footer("bonus")}-{c.footer("deduction")})*{c.param("value")}'


KIND = PointValue()
