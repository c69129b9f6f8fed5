"""score_base: a base amount × total / 100."""

from __future__ import annotations

import numpy as np

from ..rules.model import GradeScheme, ScoreBasePay
from .base import PayCells, PayKind, PayValues


class ScoreBase(PayKind[ScoreBasePay]):
    model = ScoreBasePay

    def parameters(self, rule: ScoreBasePay, scheme: GradeScheme) -> list[tuple[str, str, float]]:
        return [("base", "评分基数", rule.base)]

    def amount(self, rule: ScoreBasePay, v: PayValues) -> np.ndarray:
        return rule.base * v.total / 100

    def formula(self, rule: ScoreBasePay, c: PayCells) -> str:
        return f'{c.param("base")}*{c.total}/100'


KIND = ScoreBase()
