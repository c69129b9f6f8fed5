"""Native spreadsheet formulas for every rule kind, grade scheme and pay rule.

The one place the sheet's formulas are assembled: each rule kind's and pay kind's own
formula sits beside its evaluator in ``kinds/`` and is reached through the registry; this
module adds rater columns, scaling, totals, grades and status. Each function mirrors the
engine's arithmetic in the same order (``kinds`` and ``engine.score``), using only functions
that Excel 2010+, WPS and LibreOffice share: IF, AND, OR, MIN, MAX, SUM, ROUND, INT,
ISERROR, ISNUMBER, ISTEXT, NA. No formula relies on an engine converting logicals or text
implicitly: a condition is made a number with ``*1`` before it is added, types are tested
first. Grade thresholds and pay parameters are defined names on the 设置 sheet, never numbers
in the formulas. Totals and money are ``ROUND(ROUND(x,9),d)`` exactly as ``numbers.clean_round``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import cast

from ...kinds import pay_kind, rule_kind
from ...kinds.base import (NO, YES, PayCells, grade_min_name, grade_name_name, not_yes_no,
                          pay_param_name, text)
from ...kinds.events import event_term as _event_term
from ...numbers import number_text as num
from ...rules.loader import Catalog
from ...rules.model import EventsRule, GradeScheme, Item, PayRule, Role
from ...words import BROKEN, COMPLETE, EXCLUDED, INCOMPLETE, SEE_REPORT
from .layout import ItemBlock, SheetLayout, cell, sheet_layout



# ---------------------------------------------------------------------------------------
# Settings names (the 设置 sheet defines them).


def pay_key(role: Role, rule: PayRule) -> str:
    """Rules a role overrides get their own settings rows."""
    overridden = any(ref.id == rule.id and ref.with_ for ref in role.pay_rules)
    return f"{role.id}__{rule.id}" if overridden else rule.id


# ---------------------------------------------------------------------------------------
# Items.


def row_max(block: ItemBlock) -> str:
    """The item's max: a constant, or the supervisor's allocation (its default if empty)."""
    alloc = block.inputs.get("alloc")
    if alloc is None:
        return num(block.item.max)
    default = cast(float, alloc.spec.input.default)  # Allocation.default: always a number
    return f"IF({alloc.ref}=\"\",{num(default)},{alloc.ref})"


def event_term(item: Item, event_id: str, ref) -> str:
    """The signed points of one event row (count × points, flag, or typed points)."""
    rule = item.rule
    assert isinstance(rule, EventsRule)
    return _event_term(rule, event_id, ref)


def item_points(layout: SheetLayout, block: ItemBlock) -> str:
    item, role = block.item, layout.role
    rmax = row_max(block)
    kind = rule_kind(item.rule)
    raters = [r for r in (role.raters.raters if role.raters else [])
              if f"{kind.rated_input}.{r.id}" in block.inputs]
    if raters:
        assert role.raters is not None  # the raters above are its raters
        parts = []
        for r in raters:
            def ref(iid: str, rater: str = r.id) -> str:
                return block.input(iid, rater if iid == kind.rated_input else None).ref

            raw, empty = kind.formula(item, item.rule, ref, rmax)
            parts.append((r, raw, empty))
        if role.raters.mode == "weighted":  # every rater has a weight (Raters' model check)
            raw = "+".join(f"{num(cast(float, r.weight))}*({expr})" for r, expr, _ in parts)
            empty = "OR(" + ",".join(e for _, _, e in parts) + ")"
        else:
            raw = '""'
            for r, expr, e in parts:  # the last non-empty column is final
                raw = f"IF({e},{raw},{expr})"
            empty = "AND(" + ",".join(e for _, _, e in parts) + ")"
    else:
        raw, empty = kind.formula(item, item.rule, lambda iid: block.input(iid).ref, rmax)

    if kind.in_item_points or (item.scale is None and "alloc" not in block.inputs):
        points = raw
    else:
        points = f"({raw})*{rmax}/{num(item.full_scale)}"
    if not item.allow_negative:
        points = f"MAX({points},0)"
    if not item.allow_above_max:
        points = f"MIN({points},{rmax})"
    if item.round is not None:
        points = f"ROUND(ROUND({points},9),{item.round})"
    return f"=IF({empty},\"\",{points})" if empty != "FALSE" else f"={points}"


def event_display(block: ItemBlock, event_id: str) -> str:
    """The 扣分/奖分 cell of one event row."""
    ic = block.input(event_id)
    term = event_term(block.item, event_id, lambda iid: block.input(iid).ref)
    return f'=IF({ic.ref}="","",{term})'


def item_grade(catalog: Catalog, layout: SheetLayout, block: ItemBlock) -> str:
    assert block.item.grade_scheme is not None  # built only for items with a grade scheme
    scheme = catalog.grade_schemes[block.item.grade_scheme]
    p = layout.points_cell(block)
    return f'=IF({p}="","",{grade_lookup(scheme, f"{p}/{num(block.item.max)}*100")})'


# ---------------------------------------------------------------------------------------
# Footer: totals, grade, pay, status.


def subtotal(layout: SheetLayout) -> str:
    role = layout.role
    expr = num(role.total.base)
    total_max = role.total.base
    for section in role.sections:
        blocks = [b for b in layout.blocks if b.section is section
                  and b.item.in_total and not b.item.adjustment]
        cells = ",".join(layout.points_cell(b) for b in blocks)
        part = f"SUM({cells})" if cells else "0"
        if (section.normalize or section.allocation) and section.weight is not None:
            m = "+".join(row_max(b) for b in blocks) or "0"
            part = f"IF(({m})>0,{num(section.weight)}*{part}/({m}),0)"
            total_max += section.weight
        else:
            total_max += section.weight if section.weight is not None else sum(
                b.item.max for b in blocks)
        expr += f"+({part})"
    if role.total.normalize:
        expr = f"({expr})/{num(total_max)}*100"
    return "=" + expr


def adjust(layout: SheetLayout) -> str:
    cells = ",".join(layout.points_cell(b) for b in layout.blocks if b.item.adjustment)
    return f"=SUM({cells})"


def bonus_deduction(layout: SheetLayout) -> tuple[str, str]:
    """奖分合计 and 扣分合计, per item as engine.score.item_bonus_deduction."""
    bonus, deduction = "0", "0"
    for b in layout.blocks:
        item = b.item
        if not item.in_total and not item.adjustment:
            continue
        p = layout.points_cell(b)
        if item.adjustment:
            bonus += f'+IF({p}="",0,MAX({p},0))'
            deduction += f'+IF({p}="",0,MAX(-{p},0))'
        else:
            m = row_max(b)
            bonus += f'+IF({p}="",0,MAX({p}-{m},0))'
            deduction += f'+IF({p}="",0,MAX({m}-{p},0))'
    return f"={bonus}", f"={deduction}"


def total(layout: SheetLayout) -> str:
    role = layout.role
    adj = f"+{layout.footer_cell('adjust')}" if "adjust" in layout.footer else ""
    expr = f"{layout.footer_cell('subtotal')}{adj}"
    if role.total.floor is not None:
        expr = f"MAX({num(role.total.floor)},{expr})"
    return f"=ROUND(ROUND({expr},9),1)"


def grade_lookup(scheme: GradeScheme, value: str) -> str:
    expr = grade_name_name(scheme, len(scheme.tiers) - 1)
    for k in range(len(scheme.tiers) - 2, -1, -1):
        expr = f"IF({value}>={grade_min_name(scheme, k)},{grade_name_name(scheme, k)},{expr})"
    return expr


def grade(catalog: Catalog, layout: SheetLayout) -> str:
    scheme = catalog.grade_scheme(layout.role)
    status = layout.footer_cell("status")
    return f'=IF({status}<>{text(COMPLETE)},"",{grade_lookup(scheme, layout.footer_cell("total"))})'


def missing_terms(layout: SheetLayout) -> list[str]:
    """One boolean per required input (or rater group), TRUE where it is empty."""
    role = layout.role
    terms: list[str] = []
    for block in layout.blocks:
        item = block.item
        rated = [ic for key, ic in block.inputs.items() if ic.spec.rater]
        if rated:
            assert role.raters is not None  # rated inputs come from the role's raters
            if role.raters.mode == "weighted":
                terms += [f'{ic.ref}=""' for ic in rated]
            else:
                terms.append("AND(" + ",".join(f'{ic.ref}=""' for ic in rated) + ")")
        kind = rule_kind(item.rule)
        for key, ic in block.inputs.items():
            if ic.spec.rater or not kind.required(item.rule, ic.spec.input):
                continue
            terms.append(f'{ic.ref}=""')
    for rule in layout.pay_rules:
        field_name = pay_kind(rule).employee_field
        if field_name:
            terms.append(f'{layout.fields[field_name]}=""')
    return terms


def allocation_errors(layout: SheetLayout) -> list[str]:
    """One condition per allocated section, TRUE where its split does not add up (S4): the
    card is then 错误, as engine.score's allocation check (same tolerance)."""
    out = []
    for section in layout.role.sections:
        if section.allocation is None:
            continue
        m = "+".join(row_max(b) for b in layout.blocks if b.section is section)
        total = section.allocation.total
        out.append(f"OR(({m})<{num(total - 0.000001)},({m})>{num(total + 0.000001)})")
    return out


NUMERIC_INPUTS = ("number", "percent", "count", "points")


def bad_input(spec, ref: str) -> str | None:
    """TRUE where a number input holds what the engine refuses: text (even "38%", which
    Excel would convert in arithmetic but ``ISNUMBER`` never calls a number), a value out of
    its range (a negative count), a count that is not whole; or a yes/no input anything but
    是/否. None for other inputs (a level not in the list is #N/A in the item's points).

    The same bounds as ``rules.inputs.parse_value``; a blank cell is never bad here (its
    being required is the missing count's business); the type is tested before any
    comparison, so no engine's implicit conversion is relied on."""
    d = spec.input
    if d.type == "flag":
        return not_yes_no(ref)
    if d.type not in NUMERIC_INPUTS:
        return None
    low = d.min if d.min is not None else (0 if d.type in ("count", "points") else None)
    checks = ([f"{ref}<{num(low)}"] if low is not None else []) + \
        ([f"{ref}>{num(d.max)}"] if d.max is not None else []) + \
        ([f"{ref}<>INT({ref})"] if d.type == "count" else [])
    if not checks:
        return f"ISTEXT({ref})"
    cond = checks[0] if len(checks) == 1 else "OR(" + ",".join(checks) + ")"
    return f"IF(ISNUMBER({ref}),{cond},ISTEXT({ref}))"


def bad_terms(layout: SheetLayout) -> list[str]:
    """One logical per number input (and per employee field a pay rule uses), TRUE where
    the card cannot be scored from it: the sheet's status is then 错误."""
    terms = [t for ic in layout.inputs if (t := bad_input(ic.spec, ic.ref)) is not None]
    for rule in layout.pay_rules:
        terms += pay_kind(rule).bad_cells(rule, lambda name: layout.fields[name])
    for exclusion in layout.role.exclude_if:  # S9's 缺岗月数 typed as text
        terms.append(f"ISTEXT({layout.fields[exclusion.field]})")
    return terms


def status(layout: SheetLayout) -> str:
    """错误 when the total is an error value or an input is bad, else 完成 when no required
    input is empty, else 未完成. Each empty test is made a number by ``*1`` before it is
    added: a lone logical compared with 0 is never equal in Excel (FALSE=0 is FALSE)."""
    terms = missing_terms(layout)
    count = "+".join(f"({t})*1" for t in terms) or "0"
    verdict = f"IF({count}=0,{text(COMPLETE)},{text(INCOMPLETE)})"
    alloc = allocation_errors(layout)
    if alloc:  # reached only when no input is bad: the allocations are numbers then
        verdict = f'IF({alloc[0] if len(alloc) == 1 else "OR(" + ",".join(alloc) + ")"},{text(BROKEN)},{verdict})'
    bad = bad_terms(layout)
    if bad:
        verdict = f"IF(OR({','.join(bad)}),{text(BROKEN)},{verdict})"
    body = f'IF(ISERROR({layout.footer_cell("total")}),{text(BROKEN)},{verdict})'
    for rule in reversed(layout.role.exclude_if):  # 不参与 comes before anything else
        v = layout.fields[rule.field]
        body = f'IF(IF(ISNUMBER({v}),{v}>{num(rule.above)},FALSE),{text(EXCLUDED)},{body})'
    return "=" + body


def pay_cells(catalog: Catalog, layout: SheetLayout, rule: PayRule) -> PayCells:
    """The cells and 设置 names a pay kind's formula refers to on this sheet."""
    key = pay_key(layout.role, rule)
    footer = layout.footer

    def pay_input(iid: str) -> str:
        typed = footer[f"payin.{rule.id}.{iid}"].input
        assert typed is not None  # a pay input's footer row has the cell it is typed in
        return typed.ref

    return PayCells(
        total=layout.footer_cell("total"), grade=layout.footer_cell("grade"),
        footer=layout.footer_cell, field=lambda name: layout.fields[name],
        pay_input=pay_input,
        param=lambda param: pay_param_name(key, param),
        scheme=catalog.grade_scheme(layout.role))


def pay(catalog: Catalog, layout: SheetLayout, rule: PayRule) -> str:
    status_ref = layout.footer_cell("status")
    if pay_kind(rule).team:  # needs the whole department: the monthly report computes it,
        return f'=IF({status_ref}<>{text(COMPLETE)},"",{text(SEE_REPORT)})'  # never a ¥0 here
    amount = pay_kind(rule).formula(rule, pay_cells(catalog, layout, rule))
    return f'=IF({status_ref}<>{text(COMPLETE)},"",ROUND(ROUND({amount},9),2))'


def pay_total(layout: SheetLayout) -> str:
    """The card's own pay: every rule but the team kinds (见月度报表), which the monthly
    report adds once the department is whole."""
    cells = ",".join(layout.footer_cell(f"pay.{r.id}") for r in layout.pay_rules if not pay_kind(r).team)
    status_ref = layout.footer_cell("status")
    body = f"ROUND(ROUND(SUM({cells}),9),2)" if cells else "0"
    return f'=IF({status_ref}<>{text(COMPLETE)},"",{body})'


def pay_parameters(role: Role, rule: PayRule, scheme: GradeScheme) -> list[tuple[str, str, float]]:
    """(param, label, value) rows the 设置 sheet shows for one pay rule of a role."""
    return pay_kind(rule).parameters(rule, scheme)


def pay_parameter_rows(catalog: Catalog, roles: list[Role]):
    """Every pay parameter row of the 设置 sheet of a book of ``roles``, in its order, once
    per settings key: (role, rule, key, scheme, param, label, value). The builder writes these
    rows and the reader of a book's 设置 expects them: one iteration for both."""
    done: set[str] = set()
    for role in roles:
        scheme = catalog.grade_scheme(role)
        for rule in catalog.role_pay_rules(role):
            key = pay_key(role, rule)
            if key in done:
                continue
            done.add(key)
            for param, label, value in pay_parameters(role, rule, scheme):
                yield role, rule, key, scheme, param, label, value


__all__ = ["NO", "YES", "cell", "grade_min_name", "grade_name_name", "not_yes_no",
           "pay_param_name", "text"]


def role_formulas(catalog: Catalog, role: Role) -> Mapping[str, str]:
    """:func:`sheet_formulas` of the role's layout, made once per catalog and role (read-only:
    every sheet of the role shares it)."""
    return catalog.derived("sheet_formulas", role,
                           lambda c, r: MappingProxyType(sheet_formulas(c, sheet_layout(c, r))))


def sheet_formulas(catalog: Catalog, layout: SheetLayout) -> dict[str, str]:
    """Every formula cell of a role's scorecard sheet: cell (A1, no $) → formula text.

    The builder writes exactly these; ``validate`` compares a sheet against them to find a
    total typed over or a rule edited by hand.
    """
    def at(row: int, col: int) -> str:
        return cell(row, col, absolute=False)

    pc = layout.col("points")
    out: dict[str, str] = {}
    for block in layout.blocks:
        out[at(block.first_row, pc)] = item_points(layout, block)
        if block.item.grade_scheme:
            out[at(block.first_row, layout.col("item_grade"))] = item_grade(catalog, layout, block)
        for event_id, row in block.event_rows.items():
            out[at(row, layout.col("event_points"))] = event_display(block, event_id)
    footer = layout.footer
    out[at(footer["subtotal"].row, pc)] = subtotal(layout)
    if "adjust" in footer:
        out[at(footer["adjust"].row, pc)] = adjust(layout)
    if "bonus" in footer:
        b, d = bonus_deduction(layout)
        out[at(footer["bonus"].row, pc)] = b
        out[at(footer["deduction"].row, pc)] = d
    out[at(footer["total"].row, pc)] = total(layout)
    out[at(footer["grade"].row, pc)] = grade(catalog, layout)
    for rule in layout.pay_rules:
        out[at(footer[f"pay.{rule.id}"].row, pc)] = pay(catalog, layout, rule)
    out[at(footer["pay_total"].row, pc)] = pay_total(layout)
    out[at(footer["status"].row, pc)] = status(layout)
    return out
