"""levels: the rater picks a level from a list; the level gives the points (G4).

The input is parsed to the level's index; a label not in the list is #N/A in the formula
(and refused when the card is read). A rated kind by default."""

from __future__ import annotations

import numpy as np

from ..rules.model import InputDef, Item, LevelsRule, Role
from .base import Detail, Ref, RuleKind, Value, explain_ratings, num, number_shown, text


class Levels(RuleKind[LevelsRule]):
    model = LevelsRule
    rated_by_default = True
    rated_input = "level"

    def inputs(self, item: Item, rule: LevelsRule) -> list[InputDef]:
        return [InputDef(id="level", label="等级", label_en="level", type="level")]

    def level_labels(self, rule: LevelsRule) -> tuple[str, ...]:
        return tuple(lv.label for lv in rule.levels)

    def evaluate(self, item: Item, rule: LevelsRule, value: Value,
                 row_max: np.ndarray) -> tuple[np.ndarray, Detail]:
        index = value("level")
        points = np.array([lv.points for lv in rule.levels] + [np.nan])
        safe = np.where(np.isnan(index), -1, index).astype(int)
        return points[safe], {"level": safe}

    def formula(self, item: Item, rule: LevelsRule, ref: Ref, rmax: str) -> tuple[str, str]:
        v = ref("level")
        expr = "NA()"
        for level in reversed(rule.levels):
            expr = f"IF({v}={text(level.label)},{num(level.points)},{expr})"
        return expr, f'{v}=""'

    def explain(self, role: Role, item: Item, rule: LevelsRule, detail: dict, i: int,
                points: float) -> tuple[dict, str]:
        def one(suffix: str) -> tuple[str, float | None]:
            idx = int(detail[f"level{suffix}"][i])
            if idx < 0:
                return "空", None
            return rule.levels[idx].label, rule.levels[idx].points

        rec, rated, how = explain_ratings(role, detail, i, one)
        return rec, f"{rated}{how}，得 {number_shown(points)} 分"


KIND = Levels()
