"""top_scorer_award: an amount by grade for the department's top scorer.

A team kind: it needs the whole department's month, so a single card counts 0 and its sheet
shows 见月度报表; ``engine.month`` computes it when the month is scored and every card of
the department is complete and clean (else it waits: 待定), and the report shows it."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..rules.model import GradeScheme, TopScorerAwardPay
from .base import PayCells, PayKind, PayValues, TeamColumns, resum_pay

if TYPE_CHECKING:
    import pandas as pd
    from ..rules.loader import Catalog
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

    def settle_month(self, catalog: Catalog, frame: pd.DataFrame) -> pd.DataFrame:
        """The highest complete total of a role in a department gets its award if the grade
        qualifies (ties all get it). Pay totals are summed and rounded again. A department
        with a card of the role that takes part and is not complete and clean has no top
        scorer yet: its cards' awards wait (kinds.base.TeamColumns.mark_waiting), never go to the
        second best."""
        frame = frame.copy()
        # by row position, on arrays (team.store writes the changed columns back once)
        team = TeamColumns(frame)
        roles = frame["role"].to_numpy(dtype=object)
        total = frame["total"].to_numpy(dtype=float)
        grades = frame["grade"].to_numpy(dtype=object)
        raw_departments = frame["department"].to_numpy(dtype=object)  # as the frame has them
        departments = frame["department"].astype(str).to_numpy(dtype=object) if "department" in frame \
            else np.full(len(frame), "", dtype=object)
        for role_id in frame["role"].unique():
            role = catalog.roles[role_id]
            for rule in catalog.role_pay_rules(role):
                if not isinstance(rule, TopScorerAwardPay):
                    continue
                pay = team.column(f"pay.{rule.id}", math.nan)
                # within one scorecard: totals of different roles' cards are not comparable
                of_role = roles == role_id
                done = of_role & team.complete
                best: dict = {}  # department → the highest complete total
                for department, index in team.groups(done, raw_departments).items():
                    totals = total[index]
                    known = totals[~np.isnan(totals)]
                    best[department] = known.max() if len(known) else math.nan
                amounts = rule.amounts
                for i in np.flatnonzero(done).tolist():
                    top = total[i] == best.get(raw_departments[i], math.nan)
                    g = grades[i]
                    pay[i] = (amounts.get(g, 0.0) if g else 0.0) if top else 0.0
                for _, group in team.groups(of_role, departments).items():
                    who = team.waiting(group)
                    if who:
                        team.mark_waiting(group, rule.id, rule.label, rule.label_en or "", who)
                team.store()
        return resum_pay(frame)


KIND = TopScorerAward()
