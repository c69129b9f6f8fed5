"""One evaluator per rule kind, vectorised over employees.

An evaluator gets ``value(input_id)`` (an array of parsed inputs for all employees, NaN
where empty) and the item's max per employee, and returns raw points on the rule's scale
plus its explanation as data (which band, level or events). No I/O, no rounding.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..rules.model import Item

Value = Callable[[str], np.ndarray]
Detail = dict[str, np.ndarray]


def bands(item: Item, value: Value, row_max: np.ndarray) -> tuple[np.ndarray, Detail]:
    rule = item.rule
    v = value(rule.input.id)
    masks = [band.when.matches(v) for band in rule.bands]
    index = np.select(masks, np.arange(len(rule.bands)), default=-1)
    points = np.array([b.points for b in rule.bands] + [np.nan])
    # index -1 (no row matched, or empty) picks the trailing NaN
    return points[index], {"value": v, "band": index}


def ratio(item: Item, value: Value, row_max: np.ndarray) -> tuple[np.ndarray, Detail]:
    v = value(item.rule.input.id)
    return item.full_scale * np.minimum(v, item.rule.cap), {"value": v}


def events(item: Item, value: Value, row_max: np.ndarray) -> tuple[np.ndarray, Detail]:
    rule = item.rule
    base = row_max if rule.base == "max" else np.full_like(row_max, float(rule.base))
    bonus = np.zeros_like(row_max)
    deduction = np.zeros_like(row_max)
    detail: Detail = {}
    for ev in rule.events:
        v = np.nan_to_num(value(ev.id))  # an empty event cell means it did not happen
        detail[ev.id] = v
        amount = v * ev.sign if ev.type == "points" else v * ev.points
        if ev.sign < 0:
            deduction = deduction - amount
        else:
            bonus = bonus + amount
    detail["bonus"], detail["deduction"] = bonus, deduction
    # Events are in item points already: base is the item's max (or a number).
    return base + bonus - deduction, detail


def direct(item: Item, value: Value, row_max: np.ndarray) -> tuple[np.ndarray, Detail]:
    v = value("points")
    return v, {"value": v}


def levels(item: Item, value: Value, row_max: np.ndarray) -> tuple[np.ndarray, Detail]:
    index = value("level")
    points = np.array([lv.points for lv in item.rule.levels] + [np.nan])
    safe = np.where(np.isnan(index), -1, index).astype(int)
    return points[safe], {"level": safe}


def rank(item: Item, value: Value, row_max: np.ndarray) -> tuple[np.ndarray, Detail]:
    r, n = value("rank"), value("team_size")
    scale = item.full_scale
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(n <= 1, scale, scale * (n - r) / (n - 1))
    raw = np.where(np.isnan(r) | np.isnan(n), np.nan, raw)
    return raw, {"rank": r, "team_size": n}


EVALUATORS = {"bands": bands, "ratio": ratio, "events": events, "direct": direct,
              "levels": levels, "rank": rank}
# Kinds whose raw points are already item points (not on the 0..scale basis).
IN_ITEM_POINTS = ("events",)
