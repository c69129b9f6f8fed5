"""`kpi-workbook validate`: what is wrong with these scorecard workbooks, cell by cell.

Empty required inputs, values that are not of the expected form or out of range, and any
formula cell that no longer holds the formula the template generates (a total typed over,
a rule edited by hand). Every finding names the file, sheet and cell. Each card is checked
against the template version that built it (versions.py) with its book's 设置 (settings.py):
an edited 设置 value is a note, a broken one an error.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ...diagnostics import Diagnostic, error
from ...kinds.inputs import input_specs
from ...engine.month import score_month
from ...rules.loader import Catalog
from .formulas import role_formulas
from .reader import card_arrays, read_book


def validate_books(catalog: Catalog, paths: list[Path]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    for path in paths:
        cards, found = read_book(catalog, path, with_cached=False)
        diags += found
        texts = {(d.sheet, d.cell) for d in found if d.code == "text-in-number"}
        diags += [d for d in _empty_required(catalog, cards) if (d.sheet, d.cell) not in texts]
        diags += formula_findings(catalog, path, cards)
    return diags


def _empty_required(catalog: Catalog, cards) -> list[Diagnostic]:
    """What the engine reports missing, mapped back to cells."""
    diags = []
    by_role: dict[tuple, list] = {}
    for card in cards:
        if not card.template_unknown:  # one finding says it cannot be checked
            by_role.setdefault((id(card.catalog or catalog), card.role_id), []).append(card)
    for (_, role_id), group in by_role.items():
        own = group[0].catalog or catalog  # the card's template version, with its book's 设置
        role = own.roles[role_id]
        specs = {s.key: s for s in input_specs(role, own.role_pay_rules(role))}
        employees = pd.DataFrame([{**c.fields, "role": role_id} for c in group])
        month = score_month(own, employees, {role_id: card_arrays(group, specs)}, team_awards=False)
        scores = month.by_role[role_id]
        for card, missing, errs in zip(group, scores.missing, scores.errors):
            diags += card_error_diags(card, errs)
            for key in missing:
                spec = specs.get(key)
                label = spec.label_path() if spec else key
                diags.append(error("empty-input", f"必填项为空：{label}", f"required input is empty: {key}",
                                   source=str(card.path), sheet=card.sheet,
                                   cell=card.cells.get(key) or _field_cell(card, key)))
    return diags


def card_error_diags(card, errs) -> list[Diagnostic]:
    """Cards the rules cannot grade (an S4 split that does not add up), at their cells."""
    out = []
    for e in errs:
        keys = getattr(e, "keys", None)
        if not keys:
            continue  # e.g. a value no band accepts: listed on 未完成 as before
        cells = [card.cells[k] for k in keys if k in card.cells]
        listed = "、".join(cells)
        out.append(error(e.code, f"{e.zh}（单元格 {listed}）：考核表为错误，不评等级、不计薪酬",
                         f"{e.en} (cells {', '.join(cells)}): the card is in error, not graded "
                         "or paid", source=str(card.path), sheet=card.sheet,
                         cell=cells[0] if cells else ""))
    return out


def _field_cell(card, key: str) -> str:
    name = {"employee.base_salary": "KPI_BASE_SALARY", "employee.q_amount": "KPI_Q_AMOUNT"}.get(key)
    return card.names.get(name, "") if name else ""


_STRING = re.compile(r'("(?:[^"]|"")*")')


def canonical(formula) -> object:
    """A formula as spreadsheet programs may save it back, made comparable: function-form
    booleans (TRUE() for TRUE), letter case and spaces outside string literals."""
    if not isinstance(formula, str):
        return formula
    parts = _STRING.split(formula)
    for i in range(0, len(parts), 2):  # the even parts are outside "..." literals
        part = parts[i].replace(" ", "").upper()
        parts[i] = part.replace("TRUE()", "TRUE").replace("FALSE()", "FALSE")
    return "".join(parts)


def formula_findings(catalog: Catalog, path: Path, cards) -> list[Diagnostic]:
    """Every formula cell of ``cards`` that is not the one the template generates."""
    diags = []
    for card in cards:
        if card.template_unknown:  # its formulas are of a version no longer known: one finding
            continue
        own = card.catalog or catalog  # the formulas of the template version that built it
        expected = role_formulas(own, own.roles[card.role_id])  # made once per role and version
        for ref, formula in expected.items():
            actual = card.sheet_cells.get(ref)
            actual_text = getattr(actual, "text", actual)  # array formulas come as objects
            if actual_text != formula and canonical(actual_text) != canonical(formula):
                shown = "空" if actual is None else repr(actual_text)[:60]
                diags.append(error(
                    "formula-changed",
                    f"公式被改动或覆盖：现为 {shown}，应为模板生成的公式",
                    f"formula changed or typed over: holds {shown}, expected the template's formula",
                    source=str(path), sheet=card.sheet, cell=ref))
    return diags
