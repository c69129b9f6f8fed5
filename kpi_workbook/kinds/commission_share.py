"""commission_share (S3): the salesperson's project bonus × share / the engineers on it."""

from __future__ import annotations

import numpy as np

from ..rules.model import CommissionSharePay, GradeScheme, InputDef
from .base import PayCells, PayKind, PayValues


class CommissionShare(PayKind[CommissionSharePay]):
    model = CommissionSharePay
    inputs = (
        InputDef(id="project_bonus", label="销售项目奖金", label_en="salesperson's project bonus",
                 unit="元", min=0, required=False),
        InputDef(id="engineers", label="参与售前工程师人数", label_en="pre-sales engineers on it",
                 type="count", min=1, required=False),
    )

    def parameters(self, rule: CommissionSharePay,
                   scheme: GradeScheme) -> list[tuple[str, str, float]]:
        return [("share", "分成比例", rule.share)]

    def amount(self, rule: CommissionSharePay, v: PayValues) -> np.ndarray:
        bonus_in, people = v.get(f"{rule.id}.project_bonus"), v.get(f"{rule.id}.engineers")
        people = np.where(np.isnan(people), 1.0, people)
        return np.nan_to_num(bonus_in * rule.share / people)

    def formula(self, rule: CommissionSharePay, c: PayCells) -> str:
        b, n = c.pay_input("project_bonus"), c.pay_input("engineers")
        return f'IF({b}="",0,{b}*{c.param("share")}/IF({n}="",1,{n}))'


KIND = CommissionShare()
