"""Score a whole month: every role at once, with what needs the whole team.

Rank items are ranked within role and department from their metric (G9: ties share the
better rank); the department's top scorer award needs every scorecard of the department.
Both are done here, on frames, after each role is scored by ``score.score_role``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..numbers import clean_round_array
from ..rules.loader import Catalog
from .inputs import input_specs
from .score import RoleScores, score_role


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
    for spec in input_specs(role):
        item = spec.item
        if item is None or item.rule.kind != "rank" or item.rule.metric is None:
            continue
        if spec.input.id != item.rule.metric.id:
            continue
        metric = np.asarray(values.get(spec.key, np.full(len(employees), np.nan)), dtype=float)
        if np.all(np.isnan(metric)):
            continue
        frame = pd.DataFrame({"department": department, "metric": metric})
        ranks = frame.groupby("department")["metric"].rank(
            method="min", ascending=not item.rule.higher_is_better).to_numpy()
        sizes = frame.groupby("department")["metric"].transform("count").to_numpy(dtype=float)
        known = ~np.isnan(metric)
        rank_key, size_key = f"{item.id}.rank", f"{item.id}.team_size"
        values[rank_key] = np.where(known, ranks, values.get(rank_key, np.nan))
        values[size_key] = np.where(known, sizes, values.get(size_key, np.nan))
    return values


def score_month(catalog: Catalog, employees: pd.DataFrame,
                values: dict[str, dict[str, np.ndarray]], team_awards: bool = True) -> MonthScores:
    """``employees`` has a ``role`` column; ``values[role_id]`` holds that role's input
    arrays in the order its employees appear in ``employees``."""
    employees = employees.reset_index(drop=True)
    parts, by_role, rows = [], {}, {}
    for role_id, index in employees.groupby("role", sort=False).groups.items():
        role = catalog.roles[role_id]
        part = employees.loc[index].reset_index(drop=True)
        vals = derive_ranks(catalog, role, part, values.get(role_id, {}))
        scores = score_role(catalog, role, part, vals)
        by_role[role_id] = scores
        rows[role_id] = np.asarray(index)
        parts.append(scores.frame.set_index(pd.Index(index)))
    frame = pd.concat(parts).sort_index() if parts else pd.DataFrame()
    if team_awards and len(frame):
        frame = apply_team_awards(catalog, frame)
    return MonthScores(frame, by_role, rows)


def apply_team_awards(catalog: Catalog, frame: pd.DataFrame) -> pd.DataFrame:
    """The highest complete total of a role in a department gets its award if the grade
    qualifies (ties all get it). Pay totals are summed and rounded again."""
    frame = frame.copy()
    for role_id in frame["role"].unique():
        role = catalog.roles[role_id]
        for rule in catalog.role_pay_rules(role):
            if rule.kind != "top_scorer_award":
                continue
            column = f"pay.{rule.id}"
            # within one scorecard: totals of different roles' cards are not comparable
            done = (frame["role"] == role_id) & frame["complete"].astype(bool)
            best = frame[done].groupby("department")["total"].transform("max")
            top = pd.Series(False, index=frame.index)
            top[best.index] = frame.loc[best.index, "total"] == best
            mine = (frame["role"] == role_id) & done
            amount = frame["grade"].map(lambda g: rule.amounts.get(g, 0.0) if g else 0.0)
            frame.loc[mine, column] = np.where(top[mine], amount[mine], 0.0)
    pay_columns = [c for c in frame.columns if c.startswith("pay.") and c != "pay.total"]
    summed = frame[pay_columns].fillna(0).sum(axis=1).to_numpy()
    frame["pay.total"] = np.where(frame["complete"].astype(bool),
                                  clean_round_array(summed, 2), np.nan)
    return frame
