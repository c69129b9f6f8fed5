"""Deterministic sample inputs for the demo and the benchmarks.

For each employee and month the same seed gives the same values. Most people do well;
a few are weak every month (so streak warnings show), and a few cards are left incomplete.
"""

from __future__ import annotations

import zlib
from collections.abc import Set as AbstractSet

import numpy as np
import pandas as pd

from .kinds.inputs import InputSpec, input_specs
from .rules.lint import band_sample_points
from .rules.loader import Catalog


def _rng(*parts: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("|".join(parts).encode("utf-8")))


def sample_value(spec: InputSpec, rng: np.random.Generator, quality: float):
    """A plausible value; ``quality`` in [0, 1] pushes it towards the good end."""
    d = spec.input
    if d.type == "level":
        k = len(spec.levels)
        index = min(k - 1, int((1 - quality) * k + rng.normal(0, 0.6)) if k else 0)
        return spec.levels[max(0, index)]
    if d.type == "flag":
        good_is_yes = False
        if spec.item is not None and spec.item.rule.kind == "events":
            points = next(e for e in spec.item.rule.events if e.id == d.id).points
            good_is_yes = not isinstance(points, tuple) and points > 0  # a flag's points: one number
        happens = rng.random() < (0.4 if good_is_yes else 0.08) * (quality if good_is_yes else 1 - quality + 0.2)
        return "是" if happens else "否"
    if d.type == "count":
        if spec.item is not None and spec.item.rule.kind == "bands":
            count = int(max(0, rng.poisson(2.5 * (1 - quality))))
        else:
            count = int(rng.poisson(1.2 * (1 - quality)))
        return count if d.max is None else min(count, int(d.max))  # never past what fill accepts
    if spec.item is not None and spec.item.rule.kind == "bands" and d.id == spec.item.rule.input.id:
        marks = band_sample_points(spec.item.rule)
        lo, hi = (d.min if d.min is not None else min(marks)), (d.max if d.max is not None else max(marks))
        lo, hi = max(lo, min(marks)), min(hi, max(marks))
        better_high = spec.item.rule.monotone != "decreasing"
        position = np.clip(quality + rng.normal(0, 0.15), 0, 1)
        value = lo + (hi - lo) * (position if better_high else 1 - position)
        return round(float(value), 4 if d.type == "percent" else 1)
    if d.type == "percent":
        return round(float(np.clip(0.55 + 0.5 * quality + rng.normal(0, 0.08), 0, d.max or 1)), 4)
    if d.type == "points":
        high = d.max if d.max is not None else 10
        if d.id != "points":  # ranged event points: mostly none
            return 0
        return round(float(np.clip(high * (0.55 + 0.45 * quality + rng.normal(0, 0.05)), 0, high)), 1)
    low = d.min if d.min is not None else 0
    high = d.max if d.max is not None else low + 100
    return round(float(low + (high - low) * np.clip(quality + rng.normal(0, 0.1), 0, 1)), 2)


def sample_inputs(catalog: Catalog, roster: pd.DataFrame, month: str, weak: AbstractSet[str] = frozenset(),
                  incomplete: AbstractSet[str] = frozenset()) -> pd.DataFrame:
    """A long table (工号, 输入, 评分人, 值) of inputs for everyone on the roster."""
    rows = []
    for e in roster.itertuples(index=False):
        role = catalog.roles[e.role]
        rng = _rng(str(e.employee_id), month)
        quality = 0.15 if e.employee_id in weak else float(np.clip(rng.normal(0.78, 0.12), 0.35, 1))
        specs = input_specs(role, catalog.role_pay_rules(role))
        skipped = 0
        for spec in specs:
            if spec.input.id in ("alloc", "rank", "team_size"):
                continue  # defaults; ranks come from the team metric
            if not spec.input.required and spec.item is None:
                continue  # commission inputs: not a settlement month
            if e.employee_id in incomplete and spec.input.required and skipped < 2:
                skipped += 1
                continue
            value = sample_value(spec, rng, quality)
            if spec.input.type in ("count", "points") and not spec.input.required and value == 0:
                continue  # nobody types the zeros of events that did not happen
            key = f"{spec.owner}.{spec.input.id}"
            rows.append((e.employee_id, key, spec.rater or "", value))
    return pd.DataFrame(rows, columns=["工号", "输入", "评分人", "值"])
