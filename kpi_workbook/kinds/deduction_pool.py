"""deduction_pool (S7/S19 备注 2): the month's 扣分 of a department's complete cards × the
point value form a pool; ``share`` of it goes to the 优秀品质员, the rest in equal parts.

A team kind: a single card counts 0 and its sheet shows 见月度报表; ``settle_month`` computes
it once the whole month is scored (``engine.month``) and every card of the department is
complete and clean (else the amount waits: 待定)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..numbers import clean_round
from ..rules.model import DeductionPoolPay, GradeScheme, PointValuePay
from .base import PayCells, PayKind, PayValues, TeamColumns, resum_pay

if TYPE_CHECKING:
    import pandas as pd
    from ..rules.loader import Catalog


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


class DeductionPool(PayKind[DeductionPoolPay]):
    model = DeductionPoolPay
    team = True

    def parameters(self, rule: DeductionPoolPay,
                   scheme: GradeScheme) -> list[tuple[str, str, float]]:
        return [("share", "优秀品质员份额", rule.share)]

    def amount(self, rule: DeductionPoolPay, v: PayValues) -> np.ndarray:
        return np.zeros(v.n)  # needs the whole department: see settle_month

    def formula(self, rule: DeductionPoolPay, c: PayCells) -> str:
        return "0"  # needs the whole department: the monthly report computes it

    def settle_month(self, catalog: Catalog, frame: pd.DataFrame) -> pd.DataFrame:
        """Per department, the 扣分 of every complete card whose role has the rule, × its
        point value, form a pool. ``share`` of it (rounded to the cent) goes to the
        优秀品质员, the highest complete total of those cards (ties split it); the rest is
        split in equal parts over all of them. Parts are whole cents and add up to the pool
        exactly (``split_cents``). Cards of different roles share the pool: they are one
        department's inspectors on forms of the same 100 points. Each card gets a note. A
        department with a card of those roles that takes part and is not complete and clean
        has no pool yet: its cards' shares wait (kinds.base.TeamColumns.mark_waiting), never split over
        the rest."""
        rules: dict[str, tuple[DeductionPoolPay, dict[str, float]]] = {}  # id → (rule, ¥/point by role)
        for role_id in frame["role"].unique():
            role = catalog.roles[role_id]
            role_rules = catalog.role_pay_rules(role)
            point = next((r.value for r in role_rules if isinstance(r, PointValuePay)), None)
            for rule in role_rules:
                if isinstance(rule, DeductionPoolPay):
                    _, values = rules.setdefault(rule.id, (rule, {}))
                    values[role_id] = rule.value if rule.value is not None else (point or 0.0)
        if not rules:
            return frame
        frame = frame.copy()
        if "pay_notes" not in frame:
            frame["pay_notes"] = ""
        # by row position, on arrays: a department's pool is a few sums (team.store writes back)
        team = TeamColumns(frame)
        roles = frame["role"].to_numpy(dtype=object)
        departments = frame["department"].astype(str).to_numpy(dtype=object) if "department" in frame \
            else np.full(len(frame), "", dtype=object)
        deduction = frame["deduction"].astype(float).to_numpy()
        total = frame["total"].to_numpy(dtype=float)
        for rule_id, (rule, values) in rules.items():
            column = f"pay.{rule_id}"
            members = np.array([r in values for r in roles], dtype=bool)
            mine = members & team.complete
            waiting = {}
            for department, group in team.groups(members, departments).items():
                who = team.waiting(group)
                if who:
                    waiting[department] = who
                    team.mark_waiting(group, rule.id, rule.label, rule.label_en or "", who)
            for department, index in team.groups(mine, departments).items():
                if department in waiting:
                    continue
                pay, notes = team.column(column, math.nan), team.column("pay_notes", "")
                at = np.array(index)
                value = np.array([values[roles[i]] for i in index], dtype=float)
                worth = deduction[at] * value
                pool = clean_round(float(np.where(np.isnan(worth), 0.0, worth).sum()), 2)  # NaN as 0
                pool_cents = int(clean_round(pool * 100, 0))
                best_cents = int(clean_round(pool_cents * rule.share, 0))
                totals = total[at]
                known = totals[~np.isnan(totals)]
                best = totals == (known.max() if len(known) else math.nan)
                best_parts = iter(split_cents(best_cents, int(best.sum())))
                equal_parts = split_cents(pool_cents - best_cents, len(index))
                for k, i in enumerate(index):
                    own_best = next(best_parts) if best[k] else 0
                    pay[i] = (own_best + equal_parts[k]) / 100
                    notes[i] = _join_note(notes[i], _pool_note(
                        rule, pool, best_cents, int(best.sum()), own_best, equal_parts[k]))
            team.store()
        return resum_pay(frame)


def _pool_note(rule: DeductionPoolPay, pool: float, best_cents: int, n_best: int,
               own_best: int, own_equal: int) -> str:
    def m(cents: int) -> str:
        return money_text(cents / 100)

    tie_zh = f"（{n_best} 人并列）" if n_best > 1 else ""
    tie_en = f" ({n_best} tied)" if n_best > 1 else ""
    zh = f"{rule.label} {money_text(pool)}：优秀品质员 {m(best_cents)}{tie_zh}，均摊 {m(own_equal)}"
    en = f"{rule.label_en or rule.id} {money_text(pool)}: best inspector {m(best_cents)}{tie_en}, " \
         f"equal share {m(own_equal)}"
    if own_best:
        zh += f"；本人为优秀品质员，得 {m(own_best)} + {m(own_equal)} = {m(own_best + own_equal)}"
        en += f"; best inspector: {m(own_best)} + {m(own_equal)} = {m(own_best + own_equal)}"
    return f"{zh} / {en}"


def _join_note(old: object, new: str) -> str:
    return f"{old}；{new}" if isinstance(old, str) and old else new


KIND = DeductionPool()
