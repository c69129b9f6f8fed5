"""q_level: the employee's Q amount (roster) × total / 100."""

from __future__ import annotations

import numpy as np

from ..rules.model import GradeScheme, QLevelPay
from .base import PayCells, PayKind, PayValues


class QLevel(PayKind[QLevelPay]):
    model = QLevelPay
    employee_field = "q_amount"

    def parameters(self, rule: QLevelPay, scheme: GradeScheme) -> list[tuple[str, str, float]]:
        return []  # the amount is the employee's own (roster column q_amount)

    def amount(self, rule: QLevelPay, v: PayValues) -> np.ndarray:
        return v.column("q_amount") * v.total / 100

    def formula(self, rule: QLevelPay, c: PayCells) -> str:
        return f'{c.field("q_amount")}*{c.total}/100'


KIND = QLevel()
