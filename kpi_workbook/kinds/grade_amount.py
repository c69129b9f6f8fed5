"""grade_amount: a fixed amount per grade (grades without one get 0)."""

from __future__ import annotations

import numpy as np

from ..rules.model import GradeAmountPay, GradeScheme
from .base import PayCells, PayKind, PayValues, grade_name_name


def grade_amount_parameters(amounts: dict[str, float],
                            scheme: GradeScheme) -> list[tuple[str, str, float]]:
    """One 设置 row per tier that has an amount, numbered by the tier (amount_1 is A)."""
    return [(f"amount_{i + 1}", f"{t.grade} 金额", amounts[t.grade])
            for i, t in enumerate(scheme.tiers) if t.grade in amounts]


class GradeAmount(PayKind[GradeAmountPay]):
    model = GradeAmountPay

    def parameters(self, rule: GradeAmountPay, scheme: GradeScheme) -> list[tuple[str, str, float]]:
        return grade_amount_parameters(rule.amounts, scheme)

    def amount(self, rule: GradeAmountPay, v: PayValues) -> np.ndarray:
        return np.array([rule.amounts.get(g, 0.0) if g is not None else np.nan
                         for g in v.grades], dtype=float)

    def formula(self, rule: GradeAmountPay, c: PayCells) -> str:
        amount = "0"
        for i, tier in reversed(list(enumerate(c.scheme.tiers))):
            if tier.grade in rule.amounts:
                amount = (f"IF({c.grade}={grade_name_name(c.scheme, i)},"
                          f"{c.param(f'amount_{i + 1}')},{amount})")
        return amount


KIND = GradeAmount()
