"""`kpi-workbook lint`: check templates beyond their schema.

Weights and maxima add up (or the template says it normalises), band tables cover their
input's range with no unintended gaps, overlaps or rows that can never match, grade
thresholds are ordered, points stay within the item's scale, references resolve (loader).
"""

from __future__ import annotations

from pathlib import Path

import portion as P

from ..diagnostics import Diagnostic, Severity, error
from .loader import Catalog, read_catalog
from .model import BandsRule, Item, Role

TOLERANCE = 1e-9
INTEGER_SCAN_LIMIT = 10_000


def lint(directory: Path | str | None = None) -> list[Diagnostic]:
    catalog, diags = read_catalog(directory)
    for role in catalog.roles.values():
        source = str(catalog.role_files.get(role.id, role.id))
        diags.extend(lint_role(role, source))
    for scheme_id, scheme in catalog.grade_schemes.items():
        mins = [t.min for t in scheme.tiers[:-1] if t.min is not None]  # all set (model check)
        if any(a <= b for a, b in zip(mins, mins[1:])):
            diags.append(error("grade-order", f"等级方案 {scheme_id} 的分数线须从高到低严格递减：{mins}",
                               f"grade scheme {scheme_id}: thresholds must strictly decrease: {mins}",
                               source=str(_file(catalog, "grades.yaml")), path=("grade_schemes", scheme_id)))
    diags.extend(alias_clashes(catalog))
    from .payroll_layout import lint_payroll_layout  # the payroll file's columns (issue 9)

    diags.extend(lint_payroll_layout(catalog.directory, catalog))
    return diags


def alias_clashes(catalog: Catalog) -> list[Diagnostic]:
    """An alias another role also answers to (its id, name, short name or an alias): a roster
    could not say which role it means."""
    from .names import fold, spellings

    diags: list[Diagnostic] = []
    for role in catalog.roles.values():
        for a, alias in enumerate(role.aliases):
            others = [r.id for r in catalog.roles.values()
                      if r.id != role.id and fold(alias) in {fold(n) for n in spellings(r)}]
            if others:
                diags.append(error(
                    "alias-clash", f"别名“{alias}”也是岗位 {'、'.join(others)} 的名称，名单无法区分",
                    f"alias '{alias}' also names role {', '.join(others)}: a roster could not tell "
                    "them apart", source=str(catalog.role_files.get(role.id, role.id)),
                    path=("aliases", a)))
    return diags


def _file(catalog: Catalog, name: str) -> Path:
    return (catalog.directory or Path(".")) / name


def lint_role(role: Role, source: str) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    total_max = role.total.base
    for s, section in enumerate(role.sections):
        counted = [it for it in section.items if it.in_total and not it.adjustment]
        items_max = (section.allocation.total if section.allocation
                     else sum(it.max for it in counted))
        if section.allocation and section.weight is not None and not _eq(
                section.allocation.total, section.weight):
            diags.append(error("allocation-total", f"维度 {section.label} 分配总分 "
                               f"{section.allocation.total:g} 与权重 {section.weight:g} 不符",
                               f"section {section.id}: allocation total differs from its weight",
                               source=source, path=("sections", s, "allocation")))
        if section.allocation and not _eq(section.allocation.default * len(counted),
                                          section.allocation.total):
            diags.append(error("allocation-default", f"维度 {section.label} 默认分配之和不等于 "
                               f"{section.allocation.total:g}",
                               f"section {section.id}: default allocations do not add up",
                               source=source, path=("sections", s, "allocation", "default")))
        if section.weight is not None and not _eq(items_max, section.weight) and not (
                section.normalize or section.allocation):
            diags.append(error(
                "section-max", f"维度 {section.label} 权重 {section.weight:g}，但配分合计 "
                f"{items_max:g}；请修正配分或声明 normalize: true",
                f"section {section.id}: weight {section.weight:g} but maxima add up to "
                f"{items_max:g}; fix them or declare normalize: true",
                source=source, path=("sections", s)))
        total_max += section.weight if section.weight is not None else items_max
        for i, item in enumerate(section.items):
            diags.extend(lint_item(item, source, ("sections", s, "items", i)))
    if not _eq(total_max, 100) and not role.total.normalize:
        diags.append(error("total-max", f"满分合计 {total_max:g} 而非 100；请修正或声明 "
                           "total: {normalize: true}",
                           f"maxima add up to {total_max:g}, not 100; fix them or declare "
                           "total: {normalize: true}", source=source, path=("total",)))
    return diags


def lint_item(item: Item, source: str, path: tuple) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    rule, scale = item.rule, item.full_scale

    def over(points: float, where: tuple, what: str) -> None:
        if points > scale + TOLERANCE and not item.allow_above_max:
            diags.append(error("points-over-scale", f"{item.label}：{what} {points:g} 超过满分 "
                               f"{scale:g}（如属规则允许请设 allow_above_max）",
                               f"{item.id}: {what} {points:g} above the full scale {scale:g} "
                               "(set allow_above_max where the rule allows it)",
                               source=source, path=path + where))
        if points < -TOLERANCE and not item.allow_negative:
            diags.append(error("points-negative", f"{item.label}：{what} {points:g} 为负",
                               f"{item.id}: {what} {points:g} is negative",
                               source=source, path=path + where))

    if rule.kind == "bands":
        for b, band in enumerate(rule.bands):
            over(band.points, ("rule", "bands", b, "points"), "档位分")
        diags.extend(band_coverage(rule, item.label, source, path + ("rule",)))
        if rule.monotone and not band_is_monotone(rule):
            diags.append(error("band-monotone", f"{item.label}：档位分不是单调的（声明为 {rule.monotone}）",
                               f"{item.id}: band points are not {rule.monotone} as declared",
                               source=source, path=path + ("rule", "bands")))
    elif rule.kind == "levels":
        for lv, level in enumerate(rule.levels):
            over(level.points, ("rule", "levels", lv, "points"), "等级分")
    elif rule.kind == "direct":
        for lv, span in enumerate(rule.levels):
            if span.min > span.max:
                diags.append(error("level-range", f"{item.label}：等级 {span.label} 下限大于上限",
                                   f"{item.id}: level {span.label} has min above max",
                                   source=source, path=path + ("rule", "levels", lv)))
            over(span.max, ("rule", "levels", lv, "max"), "等级上限")
    return diags


def band_coverage(rule: BandsRule, label: str, source: str, path: tuple) -> list[Diagnostic]:
    """Gaps, partial overlaps and rows that can never match, on the input's declared range."""
    d = rule.input
    low = d.min if d.min is not None else (0 if d.type in ("count", "percent") else -P.inf)
    high = d.max if d.max is not None else P.inf
    domain = P.closed(low, high) if high != P.inf else P.closedopen(low, P.inf)
    if low == -P.inf:
        domain = P.open(-P.inf, high) if high == P.inf else P.openclosed(-P.inf, high)
    integer = d.type == "count"
    diags: list[Diagnostic] = []

    def report(kind: str, zh: str, en: str, where: tuple) -> None:
        severity: Severity = "info" if kind in rule.pinned else "warning"
        diags.append(Diagnostic(code=f"band-{kind}", message_zh=f"{label}：{zh}",
                                message_en=f"{label}: {en}",
                                severity=severity, source=source, path=path + where))

    covered = P.empty()
    for b, band in enumerate(rule.bands):
        raw = band.when.interval() & domain
        fresh = raw - covered
        if _empty(fresh, integer):
            report("shadowed", f"第 {b + 1} 档 {band.when} 永远不会命中（已被前面各档覆盖）",
                   f"row {b + 1} ({band.when}) never matches: earlier rows cover it",
                   ("bands", b))
        else:
            for k, earlier in enumerate(rule.bands[:b]):
                prev = earlier.when.interval() & domain
                shared = prev & raw
                nested = raw.contains(prev) or prev.contains(raw)  # threshold tables nest by design
                if not _empty(shared, integer) and not nested:
                    report("overlap", f"{_show(shared)} 同时落入第 {k + 1} 档 {earlier.when} 和第 "
                           f"{b + 1} 档 {band.when}，按先匹配者计",
                           f"{_show(shared)} is matched by row {k + 1} ({earlier.when}) and row "
                           f"{b + 1} ({band.when}); the first wins", ("bands", b))
        covered = covered | raw
    gap = domain - covered
    if not _empty(gap, integer):
        shown = _show_integers(gap) if integer else _show(gap)
        report("gap", f"取值 {shown} 不在任何档内（没有 else 档）",
               f"values {shown} match no row (no else row)", ("bands",))
    return diags


def band_sample_points(rule: BandsRule) -> list[float]:
    """Every threshold, a hair either side of it, and points far out: where a band table's
    value can change, so where monotonicity and coverage are decided."""
    marks = sorted({v for b in rule.bands for v in (b.when.value, b.when.lo, b.when.hi)
                    if v is not None})
    points = set(marks)
    for v in marks:
        step = max(abs(v), 1.0) * 1e-9
        points.update((v - step, v + step))
    if marks:
        points.update((marks[0] - 1, marks[-1] + 1))
    d = rule.input
    return sorted(p for p in points if (d.min is None or p >= d.min) and (d.max is None or p <= d.max))


def band_is_monotone(rule: BandsRule) -> bool:
    import numpy as np

    xs = np.array(band_sample_points(rule))
    masks = [b.when.matches(xs) for b in rule.bands]
    index = np.select(masks, np.arange(len(rule.bands)), default=-1)
    ys = np.array([rule.bands[i].points for i in index if i >= 0])
    steps = np.diff(ys)
    return bool(np.all(steps >= 0) if rule.monotone == "increasing" else np.all(steps <= 0))


def _empty(interval: P.Interval, integer: bool) -> bool:
    if interval.empty:
        return True
    if not integer:
        return all(a.lower == a.upper and not (a.left == P.CLOSED and a.right == P.CLOSED)
                   for a in interval)
    return not _integers_in(interval, limit=1)


def _integers_in(interval: P.Interval, limit: int = INTEGER_SCAN_LIMIT) -> list:
    found: list = []
    for atom in interval:
        if atom.upper == P.inf or atom.lower == -P.inf:
            return found + ["…"]
        start = int(atom.lower) if float(atom.lower).is_integer() else int(atom.lower) + 1
        for k in range(start, int(atom.upper) + 1):
            if k in atom:
                found.append(k)
                if len(found) >= limit:
                    return found
    return found


def _show(interval: P.Interval) -> str:
    return " ∪ ".join(_atom_text(a) for a in interval)


def _atom_text(atom) -> str:
    if atom.lower == atom.upper:
        return f"{atom.lower:g}"
    left = "[" if atom.left == P.CLOSED else "("
    right = "]" if atom.right == P.CLOSED else ")"
    lo = "-∞" if atom.lower == -P.inf else f"{atom.lower:g}"
    hi = "∞" if atom.upper == P.inf else f"{atom.upper:g}"
    return f"{left}{lo}, {hi}{right}"


def _show_integers(interval: P.Interval) -> str:
    values = _integers_in(interval, limit=20)
    return ", ".join(str(v) for v in values)


def _eq(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE
