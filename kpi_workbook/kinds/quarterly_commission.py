"""quarterly_commission (S2): quarter sales × rate, × the above-plan rate beyond the plan,
nothing below ``min_ratio`` of the plan; empty inputs mean not settled this month (0)."""

from __future__ import annotations

import numpy as np

from ..rules.model import GradeScheme, InputDef, QuarterlyCommissionPay
from .base import PayCells, PayKind, PayValues


class QuarterlyCommission(PayKind[QuarterlyCommissionPay]):
    model = QuarterlyCommissionPay
    inputs = (
        InputDef(id="quarter_sales", label="季度销售额", label_en="quarter sales", unit="元",
                 min=0, required=False),
        InputDef(id="quarter_plan", label="季度销售计划", label_en="quarter sales plan",
                 unit="元", min=0, required=False),
    )

    def parameters(self, rule: QuarterlyCommissionPay,
                   scheme: GradeScheme) -> list[tuple[str, str, float]]:
        return [("rate", "提成比例", rule.rate), ("min_ratio", "最低完成率", rule.min_ratio),
                ("above_plan_rate", "超计划提成比例", rule.above_plan_rate)]

    def amount(self, rule: QuarterlyCommissionPay, v: PayValues) -> np.ndarray:
        sales, plan = v.get(f"{rule.id}.quarter_sales"), v.get(f"{rule.id}.quarter_plan")
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = sales / plan
        amount = np.where(ratio < rule.min_ratio, 0.0,
                          np.where(ratio > 1, sales * rule.above_plan_rate, sales * rule.rate))
        return np.where(np.isnan(sales) | np.isnan(plan) | (plan <= 0), 0.0, amount)

    def formula(self, rule: QuarterlyCommissionPay, c: PayCells) -> str:
        s, p = c.pay_input("quarter_sales"), c.pay_input("quarter_plan")
        return (f'IF(OR({s}="",{p}="",{p}<=0),0,IF({s}/{p}<{c.param("min_ratio")},0,'
                f'IF({s}/{p}>1,{s}*{c.param("above_plan_rate")},{s}*{c.param("rate")})))')


KIND = QuarterlyCommission()
