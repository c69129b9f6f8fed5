"""Turn an item's explanation data into a record and a sentence.

The engine's explanation is data (which band, which level, which events); this module
renders one employee's row of it, e.g. "询单转化率 0.36 落在 >= 0.35 档，得 80 分". Each
rule kind's own sentence lives with its evaluator and formula (``kinds.<kind>.explain``).
"""

from __future__ import annotations

from ..kinds import rule_kind
from ..rules.model import Item, Role


def explain_item(role: Role, item: Item, detail: dict, i: int, points: float) -> dict:
    """An explanation record for employee row ``i``: data plus a Chinese sentence."""
    rec: dict = {"kind": item.rule.kind}
    fields, text = rule_kind(item.rule).explain(role, item, item.rule, detail, i, points)
    rec.update(fields)
    rec["text"] = text
    return rec

