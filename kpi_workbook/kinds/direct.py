"""direct: the rater types points in [0, scale]; optional level ranges are guidance (G4).

A rated kind by default: with raters, each rater column is evaluated alone and the
columns combine as the role's raters say (engine.score / workbook.formulas)."""

from __future__ import annotations

import math

import numpy as np

from ..rules.model import DirectRule, InputDef, Item, Role
from .base import Detail, Ref, RuleKind, Value, explain_ratings, number_shown


def level_of_points(rule: DirectRule, points: float) -> str | None:
    """Which guidance level typed points fall in (first match: 18 is A in A 18–20, B 15–18)."""
    for level in rule.levels:
        if level.min <= points <= level.max:
            return level.label
    return None


class Direct(RuleKind[DirectRule]):
    model = DirectRule
    rated_by_default = True
    rated_input = "points"

    def inputs(self, item: Item, rule: DirectRule) -> list[InputDef]:
        return [InputDef(id="points", label=rule.input_label, label_en="points",
                         type="points", min=0, max=item.full_scale)]

    def evaluate(self, item: Item, rule: DirectRule, value: Value,
                 row_max: np.ndarray) -> tuple[np.ndarray, Detail]:
        v = value("points")
        return v, {"value": v}

    def formula(self, item: Item, rule: DirectRule, ref: Ref, rmax: str) -> tuple[str, str]:
        v = ref("points")
        return v, f'{v}=""'

    def explain(self, role: Role, item: Item, rule: DirectRule, detail: dict, i: int,
                points: float) -> tuple[dict, str]:
        def one(suffix: str) -> tuple[str, float | None]:
            v = float(detail[f"value{suffix}"][i])
            return number_shown(v), None if math.isnan(v) else v

        rec, rated, how = explain_ratings(role, detail, i, one)
        if rule.levels and not math.isnan(points):
            # guidance ranges are on the rater's 0..scale basis, not the item's points
            typed = points * item.full_scale / item.max if item.max else points
            level = level_of_points(rule, typed)
            if level:
                rec["level"] = level
                how += f"，属 {level} 档"
        return rec, f"{rated}{how}，得 {number_shown(points)} 分"


KIND = Direct()
