"""bands: metric → points, the first matching row wins (G1).

Engine: the index of the first band whose condition holds; no band (or an empty input) is
NaN, and a value no band accepts is an error on the card. Formula: nested IFs in band
order, ``NA()`` where none matches; an ``else`` row is its points.
"""

from __future__ import annotations

import numpy as np

from ..diagnostics import Bilingual
from ..rules.model import BandsRule, InputDef, Item, Role
from .base import Detail, Ref, RuleKind, Value, num, number_shown, or_none, value_shown


def band_text(when, input_type: str) -> str:
    """A band condition as people write it: >= 0.35 of a percent metric is ≥ 35%."""
    if input_type != "percent":
        return str(when)
    if when.op == "range":
        return (f"{'[' if when.lo_closed else '('}{value_shown(when.lo, 'percent')}, "
                f"{value_shown(when.hi, 'percent')}{']' if when.hi_closed else ')'}")
    if when.op == "else":
        return "其他"
    return f"{when.op} {value_shown(when.value, 'percent')}"


class Bands(RuleKind[BandsRule]):
    model = BandsRule

    def inputs(self, item: Item, rule: BandsRule) -> list[InputDef]:
        return [rule.input]

    def evaluate(self, item: Item, rule: BandsRule, value: Value,
                 row_max: np.ndarray) -> tuple[np.ndarray, Detail]:
        v = value(rule.input.id)
        masks = [band.when.matches(v) for band in rule.bands]
        index = np.select(masks, np.arange(len(rule.bands)), default=-1)
        points = np.array([b.points for b in rule.bands] + [np.nan])
        # index -1 (no row matched, or empty) picks the trailing NaN
        return points[index], {"value": v, "band": index}

    def check(self, item: Item, rule: BandsRule, detail: Detail,
              raw: np.ndarray) -> tuple[np.ndarray, list[tuple[int, Bilingual]]]:
        bad = ~np.isnan(detail["value"]) & (detail["band"] < 0)
        return raw, [(int(i), Bilingual(f"{item.label}：{detail['value'][i]:g} 不在任何档位",
                                        f"{item.id}: {detail['value'][i]:g} matches no band"))
                     for i in np.flatnonzero(bad)]

    def formula(self, item: Item, rule: BandsRule, ref: Ref, rmax: str) -> tuple[str, str]:
        v = ref(rule.input.id)
        expr = "NA()"
        for band in reversed(rule.bands):
            # an else row is its points: no IF(TRUE,...) (LibreOffice saves TRUE as TRUE())
            expr = num(band.points) if band.when.op == "else" else \
                f"IF({band.when.formula(v)},{num(band.points)},{expr})"
        return expr, f'{v}=""'

    def explain(self, role: Role, item: Item, rule: BandsRule, detail: dict, i: int,
                points: float) -> tuple[dict, str]:
        value, band = float(detail["value"][i]), int(detail["band"][i])
        rec: dict = {"value": or_none(value)}
        shown = value_shown(value, rule.input.type)
        if band < 0:
            return rec, f"{rule.input.label} {shown} 未落入任何档"
        b = rule.bands[band]
        rec.update(band=band, when=str(b.when), band_points=b.points)
        return rec, (f"{rule.input.label} {shown} 落在 {band_text(b.when, rule.input.type)} 档，"
                     f"得 {number_shown(points)} 分")


KIND = Bands()
