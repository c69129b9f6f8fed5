"""A deterministic synthetic organisation: every role, realistic department sizes.

Fixed seed: the same size always gives the same people, departments and inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi_workbook.rules.loader import Catalog

# (department, share of headcount, roles in it)
DEPARTMENTS = [
    ("客服一部", 0.16, ["cs_specialist", "taobao_cs_staff", "cs_manager"]),
    ("客服二部", 0.14, ["cs_specialist", "ecommerce_presales_cs", "cs_manager_monthly"]),
    ("电商售前", 0.16, ["ecommerce_presales_cs", "presales_cs_weighted", "cs_department"]),
    ("售前技术", 0.10, ["presales_engineer_senior", "presales_team_lead", "presales_manager",
                      "presales_dept_staff"]),
    ("技术支持", 0.04, ["tech_support_lead", "customer_relationship_manager"]),
    ("品质IQC", 0.14, ["qc_iqc", "qc_inspector"]),
    ("品质IPQC", 0.14, ["qc_event_ledger", "qc_inspector"]),
    ("品质OQC", 0.12, ["qc_inspector", "qc_iqc"]),
]


def organisation(catalog: Catalog, size: int, seed: int = 20261101) -> pd.DataFrame:
    """``size`` employees as a checked roster frame (canonical columns)."""
    rng = np.random.default_rng(seed)
    rows = []
    shares = np.array([d[1] for d in DEPARTMENTS])
    counts = np.floor(shares / shares.sum() * size).astype(int)
    counts[0] += size - counts.sum()
    n = 0
    for (dept, _, roles), count in zip(DEPARTMENTS, counts):
        # a department splits into teams of ~12, so rank items rank within realistic groups
        for k in range(count):
            n += 1
            role = roles[k % len(roles)] if k % 25 else roles[-1]
            rows.append({"employee_id": f"E{n:06d}", "name": f"员工{n}",
                         "department": f"{dept}{k // 120 + 1:02d}组" if count > 150 else dept,
                         "role": role, "base_salary": float(4000 + 100 * rng.integers(0, 40)),
                         "q_amount": 3000.0, "full_attendance": bool(rng.random() < 0.7),
                         "supervisor": ""})
    frame = pd.DataFrame(rows)
    assert set(frame["role"]) <= set(catalog.roles)
    return frame


def group_departments(size: int) -> int:
    """A group has 100 departments; a tiny one (the smoke run) four."""
    return 100 if size >= 1_000 else 4


def group_organisation(catalog: Catalog, size: int, departments: int | None = None) -> pd.DataFrame:
    """``size`` employees of a group in ``departments`` departments (`new --split-by 部门`
    gives one book each): the roles and shares of :data:`DEPARTMENTS`, each kind of
    department split into numbered ones (客服一部03) by its share of the count."""
    departments = departments or group_departments(size)
    frame = organisation(catalog, size)
    if departments < len(DEPARTMENTS):  # fewer than the kinds: people in turn
        frame["department"] = [f"部门{k * departments // size + 1:02d}" for k in range(size)]
        return frame
    shares = np.array([d[1] for d in DEPARTMENTS])
    per_kind = np.maximum(1, np.round(shares / shares.sum() * departments)).astype(int)
    per_kind[0] += departments - per_kind.sum()
    names = []
    for (dept, _, _), count, parts in zip(DEPARTMENTS, _counts(size), per_kind):
        for k in range(count):
            names.append(f"{dept}{k * parts // max(count, 1) + 1:02d}")
    frame["department"] = names
    return frame


def _counts(size: int) -> np.ndarray:
    """How many of ``size`` people each kind of department has (as organisation counts)."""
    shares = np.array([d[1] for d in DEPARTMENTS])
    counts = np.floor(shares / shares.sum() * size).astype(int)
    counts[0] += size - counts.sum()
    return counts
