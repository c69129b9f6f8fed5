"""top_scorer_award: an amount by grade for the department's top scorer.

A team kind: it needs the whole department's month, so a single card (and its sheet) shows
0; ``engine.month`` computes it when the month is scored and the report shows it."""

from __future__ import annotations

import numpy as np

from ..rules.model import GradeScheme, TopScorerAwardPay
from .base import PayCells, PayKind, PayValues
from .grade_amount import grade_amount_parameters


class TopScorerAward(PayKind[TopScorerAwardPay]):
    model = TopScorerAwardPay
    team = True

    def parameters(self, rule: TopScorerAwardPay,
                   scheme: GradeScheme) -> list[tuple[str, str, float]]:
        return grade_amount_parameters(rule.amounts, scheme)

    def amount(self, rule: TopScorerAwardPay, v: PayValues) -> np.ndarray:
        return np.zeros(v.n)  # needs the whole department: see engine.month

    def formula(self, rule: TopScorerAwardPay, c: PayCells) -> str:
        return "0"  # needs the whole department: the monthly report computes it


KIND = TopScorerAward()
