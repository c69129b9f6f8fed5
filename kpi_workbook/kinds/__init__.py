"""Rule kinds and pay kinds, one module each; this registry is the only dispatch on them.

Each module defines ``KIND``, an instance of ``base.RuleKind`` or ``base.PayKind`` whose
``model`` is the pydantic class it implements. ``rule_kind(rule)`` / ``pay_kind(rule)`` look
it up by the rule's class: no ``kind == "..."`` chains anywhere else. A new kind is a new
module (listed below) and its tests; tests/test_kinds_registry.py holds every kind of the
schema to having one. ``inputs`` derives a role's input specs from its kinds.

May import: ``rules/`` and the foundations (``diagnostics``, ``numbers``, ``suggest``,
``words``). Never ``engine/``, ``workbook/`` or anything above.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from . import (attendance_award, bands, base_pct, commission_share, deduction_pool, direct,
               events, fail_penalty, grade_amount, levels, point_value, q_level,
               quarterly_commission, rank, ratio, score_base, top_scorer_award)
from .base import PayKind, RuleKind

RULE_KINDS: dict[type[BaseModel], RuleKind[Any]] = {
    m.KIND.model: m.KIND for m in (bands, ratio, events, direct, levels, rank)}
PAY_KINDS: dict[type[BaseModel], PayKind[Any]] = {
    m.KIND.model: m.KIND for m in (base_pct, grade_amount, point_value, score_base, q_level,
                                   quarterly_commission, commission_share, top_scorer_award,
                                   deduction_pool, attendance_award, fail_penalty)}


def rule_kind(rule: BaseModel) -> RuleKind[Any]:
    """The module implementing an item's rule (``item.rule``)."""
    return RULE_KINDS[type(rule)]


def pay_kind(rule: BaseModel) -> PayKind[Any]:
    """The module implementing a pay rule."""
    return PAY_KINDS[type(rule)]


__all__ = ["PAY_KINDS", "RULE_KINDS", "PayKind", "RuleKind", "pay_kind", "rule_kind"]
