"""A role as plain data (``roles show --json``) and as text for people."""

from __future__ import annotations

from ..kinds.inputs import input_specs
from ..rules.loader import Catalog
from ..rules.model import Role
from ..rules.names import job_title  # noqa: F401  (its old home: callers import it from here)


def describe_role(catalog: Catalog, role: Role) -> dict:
    pay_rules = catalog.role_pay_rules(role)
    specs = input_specs(role, pay_rules)
    scheme = catalog.grade_scheme(role)
    sections = []
    for section in role.sections:
        items = []
        for item in section.items:
            inputs = []
            for s in specs:
                if s.owner != item.id:
                    continue
                d = s.input
                rec = {"key": s.key, "id": d.id, "label": d.label, "type": d.type,
                       "unit": d.unit, "required": d.required}
                if s.rater:
                    rec["rater"] = s.rater
                if s.levels:
                    rec["levels"] = list(s.levels)
                if d.min is not None or d.max is not None:
                    rec["range"] = [d.min, d.max]
                inputs.append(rec)
            rec = {"id": item.id, "label": item.label, "max": item.max, "kind": item.rule.kind,
                   "criteria": item.criteria, "inputs": inputs}
            for flag in ("adjustment", "assumed", "allow_above_max", "allow_negative"):
                if getattr(item, flag):
                    rec[flag] = True
            if item.note:
                rec["note"] = item.note
            items.append(rec)
        sections.append({"id": section.id, "label": section.label, "weight": section.weight,
                         "normalize": section.normalize, "items": items})
    return {
        "id": role.id, "name": role.name, "name_en": role.name_en, "source": role.source,
        "family": role.family,
        "max_total": 100,
        "raters": None if role.raters is None else {
            "mode": role.raters.mode,
            "raters": [{"id": r.id, "label": r.title, "weight": r.weight}
                       for r in role.raters.raters]},
        "sections": sections,
        "grade_scheme": {"id": scheme.id, "label": scheme.label,
                         "tiers": [t.model_dump() for t in scheme.tiers]},
        "pay_rules": [r.model_dump() for r in pay_rules],
        "pay_inputs": [{"key": s.key, "label": s.input.label} for s in specs
                       if s.item is None],
        "assumed": role.assumed, "note": role.note,
        "exclude_if": [x.model_dump() for x in role.exclude_if],
    }


def role_text(info: dict) -> str:
    lines = [f"{info['name']}  [{info['id']}]  ({info['source']})"]
    if info["raters"]:
        r = info["raters"]
        lines.append("评分人 raters: " + ", ".join(
            f"{x['label']}({x['id']}{', ' + format(x['weight'], 'g') if x['weight'] else ''})"
            for x in r["raters"]) + f"  [{r['mode']}]")
    for section in info["sections"]:
        weight = f"  权重 {section['weight']:g}" if section["weight"] is not None else ""
        lines.append(f"\n■ {section['label']} [{section['id']}]{weight}")
        for item in section["items"]:
            tag = " (加减分)" if item.get("adjustment") else ""
            tag += " (假设)" if item.get("assumed") else ""
            lines.append(f"  - {item['label']} [{item['id']}]  配分 {item['max']:g}  "
                         f"{item['kind']}{tag}")
            if item["criteria"]:
                lines.append(f"      {item['criteria']}")
            if item.get("note"):  # not printed on the form: the source and assumption notes
                lines.append(f"      说明 note: {item['note']}")
            for i in item["inputs"]:
                extra = f" 可选: {'/'.join(i['levels'])}" if "levels" in i else ""
                extra += f" 范围 {_range(i['range'])}" if "range" in i else ""
                lines.append(f"      输入 {i['key']}: {i['label']} ({i['type']}{', ' + i['unit'] if i['unit'] else ''})"
                             f"{'' if i['required'] else ' 可空'}{extra}")
    g = info["grade_scheme"]
    lines.append(f"\n等级 grades [{g['id']}]: " + ", ".join(
        f"{t['grade']}≥{t['min']:g}" if t["min"] is not None else t["grade"] for t in g["tiers"]))
    if info["pay_rules"]:
        lines.append("薪酬 pay: " + ", ".join(f"{p['label']}[{p['id']}]" for p in info["pay_rules"]))
    for x in info.get("exclude_if", []):
        lines.append(f"不参与 not taking part: {x['field']} > {x['above']:g}：{x['reason']}")
    if info.get("note"):
        lines.append(f"\n说明 note{'（假设 assumed）' if info.get('assumed') else ''}: {info['note']}")
    return "\n".join(lines) + "\n"


def _range(bounds: list) -> str:
    low, high = ("…" if b is None else format(b, "g") for b in bounds)
    return f"[{low}, {high}]"
