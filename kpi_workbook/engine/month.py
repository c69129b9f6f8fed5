"""Score a whole month: every role at once, with what needs the whole team.

Rank items are ranked within role and department from their metric (G9: ties share the
better rank); the department's top scorer award needs every scorecard of the department.
Both are done here, on frames, after each role is scored by ``score.score_role``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..numbers import clean_round, clean_round_array
from ..rules.loader import Catalog
from ..rules.inputs import input_specs
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
        if item is None or item.rule.kind != "rank" or item.rule.metric is None:
            continue
        if spec.input.id != item.rule.metric.id:
            continue
        metric = np.asarray(values.get(spec.key, np.full(len(employees), np.nan)), dtype=float)
        metric = np.where(excluded, np.nan, metric)
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
        frame = apply_deduction_pools(catalog, frame)
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


def money_text(amount: float) -> str:
    """¥86, ¥8.60: whole yuan without cents, else two decimals."""
    text = f"{amount:,.2f}"
    return "¥" + (text[:-3] if text.endswith(".00") else text)


def split_cents(cents: int, parts: int) -> list[int]:
    """``cents`` in ``parts`` equal parts of whole cents that add up to it exactly: the cents
    left over go one each to the first parts (largest remainder; the remainders are all equal,
    so roster order breaks the tie)."""
    q, r = divmod(cents, parts)
    return [q + (1 if k < r else 0) for k in range(parts)]


def apply_deduction_pools(catalog: Catalog, frame: pd.DataFrame) -> pd.DataFrame:
    """S7/S19 备注 2 (pool_deductions): per department, the 扣分 of every complete card whose
    role has the rule, × its point value, form a pool. ``share`` of it (rounded to the cent)
    goes to the 优秀品质员, the highest complete total of those cards (ties split it); the rest
    is split in equal parts over all of them. Parts are whole cents and add up to the pool
    exactly (``split_cents``). Cards of different roles share the pool: they are one
    department's inspectors on forms of the same 100 points. Each card gets a note."""
    rules: dict[str, tuple] = {}  # rule id → (rule, {role id: ¥ per point})
    for role_id in frame["role"].unique():
        role = catalog.roles[role_id]
        role_rules = catalog.role_pay_rules(role)
        point = next((r.value for r in role_rules if r.kind == "point_value"), None)
        for rule in role_rules:
            if rule.kind == "deduction_pool":
                _, values = rules.setdefault(rule.id, (rule, {}))
                values[role_id] = rule.value if rule.value is not None else (point or 0.0)
    if not rules:
        return frame
    frame = frame.copy()
    if "pay_notes" not in frame:
        frame["pay_notes"] = ""
    departments = frame.get("department", pd.Series([""] * len(frame), index=frame.index))
    for rule_id, (rule, values) in rules.items():
        column = f"pay.{rule_id}"
        mine = frame["role"].isin(list(values)) & frame["complete"].astype(bool)
        for _, index in frame[mine].groupby(departments[mine].astype(str), sort=False).groups.items():
            index = list(index)
            part = frame.loc[index]
            value = part["role"].map(values).astype(float)
            pool = clean_round(float((part["deduction"].astype(float) * value).sum()), 2)
            pool_cents = int(clean_round(pool * 100, 0))
            best_cents = int(clean_round(pool_cents * rule.share, 0))
            best = part["total"] == part["total"].max()
            best_parts = iter(split_cents(best_cents, int(best.sum())))
            equal_parts = split_cents(pool_cents - best_cents, len(index))
            amounts, notes = {}, {}
            for k, i in enumerate(index):
                own_best = next(best_parts) if best[i] else 0
                amounts[i] = (own_best + equal_parts[k]) / 100
                notes[i] = _join_note(frame.at[i, "pay_notes"], _pool_note(
                    rule, pool, best_cents, int(best.sum()), own_best, equal_parts[k]))
            frame.loc[index, column] = pd.Series(amounts)  # once per department: fast
            frame.loc[index, "pay_notes"] = pd.Series(notes)
    pay_columns = [c for c in frame.columns if c.startswith("pay.") and c != "pay.total"]
    summed = frame[pay_columns].fillna(0).sum(axis=1).to_numpy()
    frame["pay.total"] = np.where(frame["complete"].astype(bool),
                                  clean_round_array(summed, 2), np.nan)
    return frame


def _pool_note(rule, pool: float, best_cents: int, n_best: int, own_best: int,
               own_equal: int) -> str:
    m = lambda cents: money_text(cents / 100)  # noqa: E731
    tie_zh = f"（{n_best} 人并列）" if n_best > 1 else ""
    tie_en = f" ({n_best} tied)" if n_best > 1 else ""
    zh = f"{rule.label} {money_text(pool)}：优秀品质员 {m(best_cents)}{tie_zh}，均摊 {m(own_equal)}"
    en = f"{rule.label_en or rule.id} {money_text(pool)}: best inspector {m(best_cents)}{tie_en}, " \
         f"equal share {m(own_equal)}"
    if own_best:
        zh += f"；本人为优秀品质员，得 {m(own_best)} + {m(own_equal)} = {m(own_best + own_equal)}"
        en += f"; best inspector: {m(own_best)} + {m(own_equal)} = {m(own_best + own_equal)}"
    return f"{zh} / {en}"


def _join_note(old, new: str) -> str:
    return f"{old}；{new}" if isinstance(old, str) and old else new
