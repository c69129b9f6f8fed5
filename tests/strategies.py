"""Hypothesis strategies: valid inputs for any role, leaning on the values that matter.

Measured values are drawn from the band thresholds themselves (and a hair either side),
every level, both flag values, empty cells for optional and required inputs, and ranks
within a team. Used by the engine property tests and the workbook parity tests.
"""

from __future__ import annotations

from hypothesis import strategies as st

from kpi_workbook.kinds.inputs import InputSpec, input_specs
from kpi_workbook.rules.lint import band_sample_points


def _thresholds(spec: InputSpec) -> list[float]:
    item = spec.item
    if item is not None and item.rule.kind == "bands" and spec.input.id == item.rule.input.id:
        return band_sample_points(item.rule)
    return []


def value_strategy(spec: InputSpec, allow_empty: bool = True):
    d = spec.input
    empty = st.just(None) if allow_empty else st.nothing()
    if d.type == "level":
        choice = st.sampled_from(spec.levels)
    elif d.type == "flag":
        choice = st.booleans()
    elif d.type == "count":
        low = int(d.min or 0)
        high = int(d.max) if d.max is not None else low + 12
        base = st.integers(low, high)
        marks = [int(v) for v in _thresholds(spec) if float(v).is_integer() and low <= v <= high]
        choice = st.one_of(base, st.sampled_from(marks)) if marks else base
    else:
        low = d.min if d.min is not None else 0.0
        high = d.max if d.max is not None else max([low + 100.0, *_thresholds(spec)])
        if d.type == "points" and d.id != "points" and d.max is not None and d.max > 100:
            high = min(high, 20.0)  # ranged event points: a few occurrences' worth
        # two decimals at most, as people type them; plus the exact band thresholds
        base = st.integers(int(low * 100), int(high * 100)).map(lambda c: c / 100)
        marks = [v for v in _thresholds(spec) if low <= v <= high]
        choice = st.one_of(base, st.sampled_from(marks)) if marks else base
    if d.id in ("rank", "team_size"):
        return st.none()  # drawn together with team_size below
    return st.one_of(choice, empty) if allow_empty else choice


@st.composite
def role_inputs(draw, role, pay_rules=(), empty_rate: bool = True) -> dict:
    """A canonical-key input dict for one scorecard of ``role``."""
    values: dict = {}
    specs = input_specs(role, pay_rules)
    allow_empty = draw(st.booleans()) if empty_rate else False
    for spec in specs:
        if spec.input.id in ("rank", "team_size"):
            continue
        if spec.input.id == "alloc":
            continue  # allocations are drawn per section below
        v = draw(value_strategy(spec, allow_empty=allow_empty and draw(st.integers(0, 9)) == 0))
        if v is not None:
            values[spec.key] = v
    for spec in specs:
        if spec.input.id == "team_size":
            n = draw(st.integers(1, 12))
            values[spec.key] = n
            values[f"{spec.owner}.rank"] = draw(st.integers(1, n))
    for section in role.sections:
        if section.allocation and draw(st.booleans()):
            # a supervisor's redistribution that keeps the section total
            n = len(section.items)
            cuts = sorted(draw(st.lists(st.integers(0, int(section.allocation.total)),
                                        min_size=n - 1, max_size=n - 1)))
            parts = [b - a for a, b in zip([0, *cuts], [*cuts, int(section.allocation.total)])]
            for item, part in zip(section.items, parts):
                values[f"{item.id}.alloc"] = part
    return values
