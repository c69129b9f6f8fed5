"""Template fingerprints: which version of a role's template built a scorecard sheet.

Every scorecard sheet carries a hidden cell (sheet-scoped name KPI_TEMPLATE, beside the role
id, outside the print area) holding a short hash of its role and the rules it uses (grade
schemes, pay rules) — without the values 设置 holds, which belong to the workbook
(settings.py). A snapshot keeps the stamp it was saved with, so books stay known even when a
later kpi-workbook hashes the same template differently. ``validate`` and ``report`` check and
score a sheet with the rules of the version that built it: the current catalog's, or an
older one kept in the registry (``<templates>/history/*.json``, one snapshot per role
version, written by :func:`save_version`); a version the registry does not know is one
error on the sheet ("rebuild with new"), never a list of "formula changed".
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from ...diagnostics import KpiError
from ...limits import json_loads
from ...rules.loader import Catalog, _PAY_RULE
from ...rules.model import GradeScheme, Role
from . import formulas as F

TEMPLATE_NAME = "KPI_TEMPLATE"
HISTORY_DIR = "history"


def _schemes(catalog: Catalog, role: Role) -> list[GradeScheme]:
    ids = dict.fromkeys([role.grade_scheme] + [it.grade_scheme for _, it in role.items() if it.grade_scheme])
    return [catalog.grade_schemes[i] for i in ids]


def _setting_fields(role: Role, rule, scheme: GradeScheme) -> set[str]:
    """The fields of a pay rule whose values 设置 holds for this role."""
    return {"amounts" if p.startswith("amount_") else p for p, _, _ in F.pay_parameters(role, rule, scheme)}


def _shape(catalog: Catalog, role: Role) -> dict:
    """The role and its rules as data, less the values a workbook's 设置 holds."""
    scheme = catalog.grade_scheme(role)
    rules = catalog.role_pay_rules(role)
    fields = {r.id: _setting_fields(role, r, scheme) for r in rules}
    role_data = role.model_dump(mode="json", by_alias=True)
    role_data.pop("aliases", None)  # the names people write for the role: not its rules
    for ref in role_data["pay_rules"]:
        ref["with"] = {k: (sorted(v) if k == "amounts" else v) for k, v in ref["with"].items()
                       if k not in fields.get(ref["id"], ()) or k == "amounts"}
    pay = []
    for rule in rules:
        data = rule.model_dump(mode="json")
        for k in fields[rule.id]:
            if k == "amounts":
                data[k] = sorted(data[k])
            else:
                data.pop(k, None)
        pay.append(data)
    schemes = []
    for s in _schemes(catalog, role):
        data = s.model_dump(mode="json")
        for tier in data["tiers"]:
            tier.pop("min", None)
        schemes.append(data)
    return {"role": role_data, "grade_schemes": schemes, "pay_rules": pay}


def fingerprint(catalog: Catalog, role: Role) -> str:
    """A short hash of the role's template version (10 hex digits)."""
    text = json.dumps(_shape(catalog, role), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def snapshot(catalog: Catalog, role: Role) -> dict:
    """A role version as the registry keeps it: the template data as written (the role's
    file, and its entries of grades.yaml and pay.yaml), read back through the same models."""
    from ...rules.bounded_yaml import load_yaml

    assert catalog.directory is not None  # a catalog read from a templates directory
    root = Path(catalog.directory)
    schemes = {s.id for s in _schemes(catalog, role)}
    rules = {ref.id for ref in role.pay_rules}
    grades = load_yaml(root / "grades.yaml")["grade_schemes"]  # type: ignore[index]
    pay = load_yaml(root / "pay.yaml")["pay_rules"]  # type: ignore[index]
    return {"fingerprint": fingerprint(catalog, role),
            "role": load_yaml(Path(catalog.role_files[role.id])),
            "grade_schemes": [g for g in grades if g.get("id") in schemes],
            "pay_rules": [r for r in pay if r.get("id") in rules]}


def save_version(catalog: Catalog, role_id: str, directory: Path | str | None = None) -> Path:
    """Keep the current version of a role in the registry (before its template changes), so
    that workbooks it built are still scored by its rules."""
    role = catalog.roles[role_id]
    data = snapshot(catalog, role)
    if directory is not None:
        root = Path(directory)
    else:
        assert catalog.directory is not None  # a catalog read from a templates directory
        root = Path(catalog.directory) / HISTORY_DIR
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"{role_id}-{data['fingerprint']}.json"
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=0, sort_keys=True, default=str) + "\n", encoding="utf-8")
    tmp.replace(target)
    return target


_CURRENT: dict[int, tuple[Catalog, dict[str, str]]] = {}


def current(catalog: Catalog, role_id: str) -> str:
    """The fingerprint of a role of ``catalog`` (worked out once per catalog and role)."""
    hit = _CURRENT.get(id(catalog))
    if hit is None or hit[0] is not catalog:
        hit = _CURRENT[id(catalog)] = (catalog, {})
    if role_id not in hit[1]:
        hit[1][role_id] = fingerprint(catalog, catalog.roles[role_id])
    return hit[1][role_id]


_REGISTRY: dict[int, tuple[Catalog, dict[tuple[str, str], Catalog]]] = {}


def registry(catalog: Catalog) -> dict[tuple[str, str], Catalog]:
    """(role id, fingerprint) → the catalog that scores that version: the current catalog for
    its own roles, a catalog with the old role and rules for each snapshot in history/."""
    hit = _REGISTRY.get(id(catalog))
    if hit is not None and hit[0] is catalog:
        return hit[1]
    known = {(r.id, current(catalog, r.id)): catalog for r in catalog.roles.values()}
    root = Path(catalog.directory) / HISTORY_DIR if catalog.directory is not None else None
    for path in sorted(root.glob("*.json")) if root is not None and root.is_dir() else []:
        loaded = _load(catalog, path)
        if loaded is None:  # a snapshot this version cannot read: its books are "unknown"
            continue
        old, stamped = loaded
        role = old.roles[next(iter(old.roles))]
        merged = _merged(catalog, old, role)
        # the stamp its books carry (hashed when it was saved), and the hash of today's code
        known.setdefault((role.id, stamped), merged)
        known.setdefault((role.id, fingerprint(old, role)), merged)
    _REGISTRY[id(catalog)] = (catalog, known)
    return known


def _load(catalog: Catalog, path: Path) -> tuple[Catalog, str] | None:
    """A snapshot as a catalog of its one role, or None when it cannot be read (then the
    books of that version are reported as built by a version no longer known: never paid
    by guessed rules)."""
    try:
        data = json_loads(path.read_text(encoding="utf-8"), str(path))  # bounded: depth and size
        role = Role.model_validate(data["role"])
        schemes = {s["id"]: GradeScheme.model_validate(s) for s in data["grade_schemes"]}
        rules = {r["id"]: _PAY_RULE.validate_python(r) for r in data["pay_rules"]}
        stamped = str(data["fingerprint"])
    except (OSError, ValueError, KeyError, TypeError, KpiError):
        return None
    return Catalog({role.id: role}, schemes, rules, directory=catalog.directory), stamped


def main(argv: list[str] | None = None) -> int:
    """Keep the current version of every role in <templates>/history (run it after changing
    a template, so that the workbooks this version builds stay known when it changes again):
    ``python -m kpi_workbook.workbook.scorecard.versions [TEMPLATES_DIR]``."""
    import sys

    from ...rules.loader import load_catalog

    args = sys.argv[1:] if argv is None else argv
    catalog = load_catalog(args[0] if args else None)
    for role_id in sorted(catalog.roles):
        assert catalog.directory is not None  # a catalog read from a templates directory
        target = Path(catalog.directory) / HISTORY_DIR / f"{role_id}-{current(catalog, role_id)}.json"
        if not target.exists():
            print(save_version(catalog, role_id))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


def _merged(catalog: Catalog, old: Catalog, role: Role) -> Catalog:
    return dataclasses.replace(catalog, roles={**catalog.roles, role.id: role},
                               grade_schemes={**catalog.grade_schemes, **old.grade_schemes},
                               pay_rules={**catalog.pay_rules, **old.pay_rules})  # the catalog's caches start empty (init=False)
