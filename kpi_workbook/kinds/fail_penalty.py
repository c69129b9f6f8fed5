"""fail_penalty: a fixed amount deducted for the given grades (the column shows it negative)."""

from __future__ import annotations

import numpy as np

from ..rules.model import FailPenaltyPay, GradeScheme
from .base import PayCells, PayKind, PayValues, grade_name_name


class FailPenalty(PayKind[FailPenaltyPay]):
    model = FailPenaltyPay

    def parameters(self, rule: FailPenaltyPay,
                   scheme: GradeScheme) -> list[tuple[str, str, float]]:
        return [("amount", "金额", rule.amount)]

    def amount(self, rule: FailPenaltyPay, v: PayValues) -> np.ndarray:
        return np.where(np.isin(v.grades.astype(str), rule.grades), -rule.amount, 0.0)

    def formula(self, rule: FailPenaltyPay, c: PayCells) -> str:
        names = [grade_name_name(c.scheme, i) for i, t in enumerate(c.scheme.tiers)
                 if t.grade in rule.grades]
        cond = "OR(" + ",".join(f"{c.grade}={n}" for n in names) + ")"
        return f'IF({cond},-{c.param("amount")},0)'


KIND = FailPenalty()
