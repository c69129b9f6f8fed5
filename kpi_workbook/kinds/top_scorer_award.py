"""top_scorer_award: an amount by grade for the department's top scorer.

A team kind: it needs the whole department's month, so a single card counts 0 and its sheet
shows 见月度报表; ``engine.month`` computes it when the month is scored and every card of
the department is complete and clean (else it waits: 待定), and the report shows it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..rules.model import GradeScheme, TopScorerAwardPay
from .base import PayCells, PayKind, PayValues, mark_waiting, resum_pay, waiting_for

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
        scorer yet: its cards' awards wait (kinds.base.mark_waiting), never go to the
        second best."""
        import pandas as pd  # here, not at the top: light commands never import pandas
        frame = frame.copy()
        for role_id in frame["role"].unique():
            role = catalog.roles[role_id]
            for rule in catalog.role_pay_rules(role):
                if not isinstance(rule, TopScorerAwardPay):
                    continue
                column = f"pay.{rule.id}"
                # within one scorecard: totals of different roles' cards are not comparable
                done = (frame["role"] == role_id) & frame["complete"].astype(bool)
                best = frame[done].groupby("department")["total"].transform("max")
                top = pd.Series(False, index=frame.index)
                top[best.index] = frame.loc[best.index, "total"] == best
                mine = (frame["role"] == role_id) & done
                amounts = rule.amounts
                amount = frame["grade"].map(lambda g: amounts.get(g, 0.0) if g else 0.0)
                frame.loc[mine, column] = np.where(top[mine], amount[mine], 0.0)
                role_rows = frame[frame["role"] == role_id]
                for _, group in role_rows.groupby(role_rows["department"].astype(str)
                                                  if "department" in role_rows else
                                                  pd.Series("", index=role_rows.index), sort=False).groups.items():
                    who = waiting_for(frame, group)
                    if who:
                        mark_waiting(frame, group, rule.id, rule.label, rule.label_en or "", who)
        return resum_pay(frame)


KIND = TopScorerAward()
