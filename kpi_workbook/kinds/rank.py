"""rank: rank within the role and department, scale × (n − rank)/(n − 1) (G9).

A team of one gets the full scale; a rank above the team size is an error on the card.
The team metric (optional) is what `fill` ranks by; only rank and team size are required.
"""

from __future__ import annotations

import numpy as np

from ..diagnostics import Bilingual
from ..rules.model import InputDef, Item, RankRule, Role
from .base import Detail, Ref, RuleKind, Value, num, number_shown, or_none

RANK_INPUTS = ("rank", "team_size")


class Rank(RuleKind[RankRule]):
    model = RankRule
    item_key_is_metric = True

    def inputs(self, item: Item, rule: RankRule) -> list[InputDef]:
        defs = []
        if rule.metric is not None:
            defs.append(rule.metric.model_copy(update={"required": False}))
        defs.append(InputDef(id="rank", label="名次", label_en="rank", type="count", min=1))
        defs.append(InputDef(id="team_size", label="团队人数", label_en="team size",
                             type="count", min=1))
        return defs

    def required(self, rule: RankRule, d: InputDef) -> bool:
        return d.required and d.id in RANK_INPUTS

    def evaluate(self, item: Item, rule: RankRule, value: Value,
                 row_max: np.ndarray) -> tuple[np.ndarray, Detail]:
        r, n = value("rank"), value("team_size")
        scale = item.full_scale
        with np.errstate(invalid="ignore", divide="ignore"):
            raw = np.where(n <= 1, scale, scale * (n - r) / (n - 1))
        raw = np.where(np.isnan(r) | np.isnan(n), np.nan, raw)
        return raw, {"rank": r, "team_size": n}

    def check(self, item: Item, rule: RankRule, detail: Detail,
              raw: np.ndarray) -> tuple[np.ndarray, list[tuple[int, Bilingual]]]:
        bad = detail["rank"] > detail["team_size"]
        errors = [(int(i), Bilingual(f"{item.label}：名次大于团队人数",
                                     f"{item.id}: rank above team size"))
                  for i in np.flatnonzero(bad)]
        return np.where(bad, np.nan, raw), errors

    def formula(self, item: Item, rule: RankRule, ref: Ref, rmax: str) -> tuple[str, str]:
        r, n = ref("rank"), ref("team_size")
        scale = num(item.full_scale)
        return (f"IF({r}>{n},NA(),IF({n}<=1,{scale},{scale}*({n}-{r})/({n}-1)))",
                f'OR({r}="",{n}="")')

    def explain(self, role: Role, item: Item, rule: RankRule, detail: dict, i: int,
                points: float) -> tuple[dict, str]:
        r, n = float(detail["rank"][i]), float(detail["team_size"][i])
        return {"rank": or_none(r), "team_size": or_none(n)}, (
            f"团队 {number_shown(n)} 人中第 {number_shown(r)} 名，得 {number_shown(points)} 分")


KIND = Rank()
