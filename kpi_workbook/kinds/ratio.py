"""ratio: completion ratio, scale × min(value, cap)."""

from __future__ import annotations

import numpy as np

from ..rules.model import InputDef, Item, RatioRule, Role
from .base import Detail, Ref, RuleKind, Value, num, number_shown, or_none, value_shown


class Ratio(RuleKind[RatioRule]):
    model = RatioRule

    def inputs(self, item: Item, rule: RatioRule) -> list[InputDef]:
        return [rule.input]

    def evaluate(self, item: Item, rule: RatioRule, value: Value,
                 row_max: np.ndarray) -> tuple[np.ndarray, Detail]:
        v = value(rule.input.id)
        return item.full_scale * np.minimum(v, rule.cap), {"value": v}

    def formula(self, item: Item, rule: RatioRule, ref: Ref, rmax: str) -> tuple[str, str]:
        v = ref(rule.input.id)
        return f"{num(item.full_scale)}*MIN({v},{num(rule.cap)})", f'{v}=""'

    def explain(self, role: Role, item: Item, rule: RatioRule, detail: dict, i: int,
                points: float) -> tuple[dict, str]:
        value = float(detail["value"][i])
        return {"value": or_none(value), "cap": rule.cap}, (
            f"{rule.input.label} {value_shown(value, rule.input.type)} × {item.full_scale:g}"
            f"（封顶 {value_shown(rule.cap, rule.input.type)}），得 {number_shown(points)} 分")


KIND = Ratio()
