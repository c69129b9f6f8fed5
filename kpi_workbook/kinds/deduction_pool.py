"""deduction_pool (S7/S19 备注 2): the month's 扣分 of a department's complete cards × the
point value form a pool; ``share`` of it goes to the 优秀品质员, the rest in equal parts.

A team kind: a single card (and its sheet) shows 0; ``engine.month`` computes it."""

from __future__ import annotations

import numpy as np

from ..rules.model import DeductionPoolPay, GradeScheme
from .base import PayCells, PayKind, PayValues


class DeductionPool(PayKind[DeductionPoolPay]):
    model = DeductionPoolPay
    team = True

    def parameters(self, rule: DeductionPoolPay,
                   scheme: GradeScheme) -> list[tuple[str, str, float]]:
        return [("share", "优秀品质员份额", rule.share)]

    def amount(self, rule: DeductionPoolPay, v: PayValues) -> np.ndarray:
        return np.zeros(v.n)  # needs the whole department: see engine.month

    def formula(self, rule: DeductionPoolPay, c: PayCells) -> str:
        return "0"  # needs the whole department: the monthly report computes it


KIND = DeductionPool()
