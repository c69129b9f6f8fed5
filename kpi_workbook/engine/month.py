"""Score a whole month: every role at once, with what needs the whole team.

Rank items are ranked within role and department from their metric (G9: ties share the
better rank); the department's top scorer award needs every scorecard of the department.
Both are done here, on frames, after each role is scored by ``score.score_role``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..kinds import PAY_KINDS, deduction_pool, top_scorer_award
from ..kinds.deduction_pool import money_text, split_cents
from ..rules.loader import Catalog
from ..kinds.inputs import input_specs
from ..rules.model import RankRule
from .score import RoleScores, exclusions, score_role


@dataclass
class MonthScores:
    frame: pd.DataFrame  # one row per employee, every role, in input order
    by_role: dict[str, RoleScores]
    rows: dict[str, np.ndarray]  # role id → positions of its employees in ``frame``


def derive_ranks(catalog: Catalog, role, employees: pd.DataFrame,
                 values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Fill rank and team size of rank items from their metric, within each department."""
    values = dict(values)
    department = employees.get("department", pd.Series([""] * len(employees))).astype(str).to_numpy()
    excluded, _ = exclusions(role, employees)  # 不参与: left out of the department's ranks
    for spec in input_specs(role):
        item = spec.item
        rule = item.rule if item is not None else None
        if not isinstance(rule, RankRule) or rule.metric is None:
            continue
        if spec.input.id != rule.metric.id:
            continue
        metric = np.asarray(values.get(spec.key, np.full(len(employees), np.nan)), dtype=float)
        metric = np.where(excluded, np.nan, metric)
        if np.all(np.isnan(metric)):
            continue
        frame = pd.DataFrame({"department": department, "metric": metric})
        ranks = frame.groupby("department")["metric"].rank(
            method="min", ascending=not rule.higher_is_better).to_numpy()
        sizes = frame.groupby("department")["metric"].transform("count").to_numpy(dtype=float)
        known = ~np.isnan(metric)
        rank_key, size_key = f"{spec.owner}.rank", f"{spec.owner}.team_size"
        values[rank_key] = np.where(known, ranks, values.get(rank_key, np.nan))
        values[size_key] = np.where(known, sizes, values.get(size_key, np.nan))
    return values


def score_month(catalog: Catalog, employees: pd.DataFrame,
                values: dict[str, dict[str, np.ndarray]], team_awards: bool = True) -> MonthScores:
    """``employees`` has a ``role`` column; ``values[role_id]`` holds that role's input
    arrays in the order its employees appear in ``employees``."""
    employees = employees.reset_index(drop=True)
    parts: list[tuple[np.ndarray, RoleScores]] = []
    by_role, rows = {}, {}
    for role_id, index in employees.groupby("role", sort=False).groups.items():
        role = catalog.roles[role_id]
        part = employees.take(index).reset_index(drop=True)  # labels are positions (reset above)
        vals = derive_ranks(catalog, role, part, values.get(role_id, {}))
        scores = score_role(catalog, role, part, vals)
        by_role[role_id] = scores
        rows[role_id] = np.asarray(index)
        parts.append((rows[role_id], scores))
    frame = _stacked(parts) if parts else pd.DataFrame()
    if team_awards and len(frame):
        frame = settle_team_pay(catalog, frame)
    return MonthScores(frame, by_role, rows)


def _stacked(parts: list[tuple[np.ndarray, RoleScores]]) -> pd.DataFrame:
    """``pd.concat`` of the roles' frames (each indexed by the rows of its employees),
    sorted by row: the same frame (columns in the order they first appear, a column a role
    lacks empty, the same dtypes), made column by column from what each frame was made of
    (``RoleScores.columns``) — each role has its own item columns, and concat's general plan
    for the many columns a part lacks costs more than the scoring. A column of float, bool
    or text in every part that has it is put together here; any other goes through concat."""
    index = np.concatenate([rows for rows, _ in parts])
    order = np.argsort(index, kind="stable")
    labels = pd.Index(index[order])
    n = len(index)
    place = np.empty(n, dtype=np.intp)  # row of the frame → its place in the month's frame
    place[order] = np.arange(n)
    at, start = [], 0
    for rows, _ in parts:
        at.append(place[start:start + len(rows)])
        start += len(rows)
    dtypes = [dict(s.frame.dtypes.items()) for _, s in parts]
    columns = list(dict.fromkeys(c for d in dtypes for c in d))
    out: dict = {}
    other: list = []

    def raw(s: RoleScores, c: str, dtype):
        value = s.columns[c]
        if isinstance(value, pd.Series):
            return value.to_numpy(dtype=dtype)
        return value if np.ndim(value) == 0 else np.asarray(value, dtype=dtype)

    for c in columns:
        kinds = {d[c] for d in dtypes if c in d}
        dtype = kinds.pop() if len(kinds) == 1 else None
        every = all(c in d for d in dtypes)
        if dtype == np.float64 or (dtype == np.bool_ and every):
            values = np.full(n, np.nan) if dtype == np.float64 else np.empty(n, dtype=bool)
        elif isinstance(dtype, pd.StringDtype) and dtype.na_value is np.nan:
            values = np.full(n, np.nan, dtype=object)
        else:
            out[c] = None
            other.append(c)
            continue
        for (_, s), d, where in zip(parts, dtypes, at):
            if c in d:
                values[where] = raw(s, c, values.dtype)
        out[c] = pd.Series(values if values.dtype != object else pd.array(values, dtype=dtype),
                           index=labels, dtype=dtype, copy=False)
    if other:
        rest = pd.concat([s.frame[[c for c in other if c in d]].set_index(pd.Index(rows))
                          for (rows, s), d in zip(parts, dtypes)]).sort_index()
        for c in other:
            out[c] = rest[c]
    return pd.DataFrame(out, index=labels)


def settle_team_pay(catalog: Catalog, frame: pd.DataFrame) -> pd.DataFrame:
    """Every team pay kind's amounts (top scorer award, deduction pool), in registry order."""
    for kind in PAY_KINDS.values():
        if kind.team:
            frame = kind.settle_month(catalog, frame)
    return frame


def apply_team_awards(catalog: Catalog, frame: pd.DataFrame) -> pd.DataFrame:
    """The department's top scorer award (kinds.top_scorer_award)."""
    return top_scorer_award.KIND.settle_month(catalog, frame)


def apply_deduction_pools(catalog: Catalog, frame: pd.DataFrame) -> pd.DataFrame:
    """S7/S19 备注 2's pool of deductions (kinds.deduction_pool)."""
    return deduction_pool.KIND.settle_month(catalog, frame)


__all__ = ["money_text", "split_cents"]
