"""attendance_award: a fixed amount for full attendance (roster 全勤 是)."""

from __future__ import annotations

import numpy as np

from ..rules.model import AttendanceAwardPay, GradeScheme
from .base import PayCells, PayKind, PayValues, Ref, is_yes, not_yes_no


class AttendanceAward(PayKind[AttendanceAwardPay]):
    model = AttendanceAwardPay

    def parameters(self, rule: AttendanceAwardPay,
                   scheme: GradeScheme) -> list[tuple[str, str, float]]:
        return [("amount", "金额", rule.amount)]

    def amount(self, rule: AttendanceAwardPay, v: PayValues) -> np.ndarray:
        return np.where(v.flags("full_attendance"), rule.amount, 0.0)

    def formula(self, rule: AttendanceAwardPay, c: PayCells) -> str:
        return f'IF({is_yes(c.field("full_attendance"))},{c.param("amount")},0)'

    def bad_cells(self, rule: AttendanceAwardPay, field: Ref) -> list[str]:
        return [not_yes_no(field("full_attendance"))]


KIND = AttendanceAward()
