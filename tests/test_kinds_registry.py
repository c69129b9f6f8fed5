"""kinds/: every rule kind and pay kind of the schema has one module with all its parts, and
the registry is the only dispatch on them (a new kind is one new module)."""

from __future__ import annotations

import importlib
import re
from dataclasses import replace
from pathlib import Path
from typing import Literal, get_args

import pytest
from pydantic import BaseModel, ConfigDict

import kpi_workbook
from kpi_workbook import kinds
from kpi_workbook.engine.api import score_card
from kpi_workbook.kinds.base import PayKind, RuleKind
from kpi_workbook.numbers import number_text as num
from kpi_workbook.rules.model import RATED_KINDS, TEAM_PAY_KINDS, InputDef, PayRule, Role, Rule
from kpi_workbook.workbook.scorecard.formulas import sheet_formulas
from kpi_workbook.workbook.scorecard.layout import sheet_layout

PACKAGE = Path(kpi_workbook.__file__).parent


def union_members(annotated) -> list[type[BaseModel]]:
    """The pydantic classes of a discriminated union (``Annotated[Union[...], Field]``)."""
    return list(get_args(get_args(annotated)[0]))


def kind_literal(model: type[BaseModel]) -> str:
    (value,) = get_args(model.model_fields["kind"].annotation)
    return value


RULE_MODELS = union_members(Rule)
PAY_MODELS = union_members(PayRule)


def overrides(kind: object, base: type, name: str) -> bool:
    return getattr(type(kind), name) is not getattr(base, name)


@pytest.mark.parametrize("model", RULE_MODELS, ids=kind_literal)
def test_every_rule_kind_has_one_module_with_all_four_parts(model):
    kind = kinds.RULE_KINDS[model]
    literal = kind_literal(model)
    # one module per kind, named after the kind, holding the whole of it
    module = importlib.import_module(f"kpi_workbook.kinds.{literal}")
    assert module.KIND is kind and type(kind).__module__ == module.__name__
    assert kind.model is model
    for part in ("inputs", "evaluate", "formula", "explain"):
        assert overrides(kind, RuleKind, part), f"{literal} has no {part} of its own"
    # the rated kinds agree with the schema's own list (Item's validator uses it)
    assert kind.rated_by_default == (literal in RATED_KINDS)


@pytest.mark.parametrize("model", PAY_MODELS, ids=kind_literal)
def test_every_pay_kind_has_one_module_with_its_parts(model):
    kind = kinds.PAY_KINDS[model]
    literal = kind_literal(model)
    module = importlib.import_module(f"kpi_workbook.kinds.{literal}")
    assert module.KIND is kind and type(kind).__module__ == module.__name__
    assert kind.model is model
    for part in ("amount", "formula", "parameters"):
        assert overrides(kind, PayKind, part), f"{literal} has no {part} of its own"
    # team kinds (the whole department's month) agree with the schema's list and settle it
    assert kind.team == (literal in TEAM_PAY_KINDS)
    assert overrides(kind, PayKind, "settle_month") == kind.team


def test_the_registry_holds_exactly_the_schema_kinds():
    assert set(kinds.RULE_KINDS) == set(RULE_MODELS)
    assert set(kinds.PAY_KINDS) == set(PAY_MODELS)
    modules = {p.stem for p in (PACKAGE / "kinds").glob("*.py")} - {"__init__", "base", "inputs"}
    assert modules == {kind_literal(m) for m in RULE_MODELS + PAY_MODELS}


# Comparing a kind with a string (`rule.kind == "bands"`, `kind in ("a", "b")`, a dict keyed
# by kind names) is dispatch outside the registry.
STRING_DISPATCH = re.compile(
    r"""\.kind\s*(==|!=|\bin\b|\bnot\s+in\b)|\bk\s*(==|\bin\b)\s*[("']|\[\s*[\w.]*\.kind\s*\]"""
    r"""|\.get\(\s*[\w.]*\.kind\b""")
DISPATCHING = ["engine/score.py", "engine/explain.py", "engine/month.py",
               "workbook/scorecard/formulas.py", *(f"kinds/{p.name}" for p in (PACKAGE / "kinds").glob("*.py"))]


@pytest.mark.parametrize("path", DISPATCHING)
def test_no_kind_string_chains_outside_the_registry(path):
    source = (PACKAGE / path).read_text(encoding="utf-8")
    found = [line.strip() for line in source.splitlines() if STRING_DISPATCH.search(line)]
    assert found == []


def test_the_dispatch_check_can_fail():
    for line in ('if rule.kind == "bands":', 'elif item.rule.kind in ("direct", "levels"):',
                 "EVALUATORS[item.rule.kind]", 'needs.get(rule.kind)', 'if k == "base_pct":'):
        assert STRING_DISPATCH.search(line), line
    assert not STRING_DISPATCH.search('rec: dict = {"kind": item.rule.kind}')


# ---------------------------------------------------------------------------------------
# A new kind is one new module: registered, it is scored, explained, keyed and written as a
# formula without any other code knowing it.


class DoneRule(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: Literal["done"] = "done"


class Done(RuleKind[DoneRule]):
    """The full scale when the task is done (是), else 0."""

    model = DoneRule

    def inputs(self, item, rule):
        return [InputDef(id="done", label="已完成", type="flag")]

    def evaluate(self, item, rule, value, row_max):
        v = value("done")
        return item.full_scale * v, {"done": v}

    def formula(self, item, rule, ref, rmax):
        v = ref("done")
        return f'IF({v}="是",{num(item.full_scale)},0)', f'{v}=""'

    def explain(self, role, item, rule, detail, i, points):
        done = bool(detail["done"][i])
        return {"done": done}, f"{'已完成' if done else '未完成'}，得 {points:g} 分"


@pytest.fixture
def done_catalog(catalog, monkeypatch):
    monkeypatch.setitem(kinds.RULE_KINDS, DoneRule, Done())
    role = Role.model_validate({
        "id": "t_done", "name": "测试岗位", "family": "cs", "grade_scheme": "grade_a_e",
        "sections": [{"id": "s", "label": "s", "items": [
            {"id": "task", "label": "任务", "max": 30, "rule": {"kind": "direct"}},
            {"id": "rest", "label": "其余", "max": 70, "rule": {"kind": "direct"}}]}]})
    section = role.sections[0]
    task = section.items[0].model_copy(update={"rule": DoneRule()})
    role = role.model_copy(update={"sections": [
        section.model_copy(update={"items": [task, section.items[1]]})]})
    return replace(catalog, roles={role.id: role}, role_files={})


def test_a_new_kind_is_one_module(done_catalog):
    done = score_card(done_catalog, "t_done", {"inputs": {"task": "是", "rest": 50}})
    assert done["total"] == 80  # 30 × 1 (done) + 50 typed
    explained = {i["id"]: i["explain"] for i in done["items"]}["task"]
    assert explained["kind"] == "done" and explained["text"] == "已完成，得 30 分"
    not_done = score_card(done_catalog, "t_done", {"inputs": {"task": "否", "rest": 50}})
    assert not_done["total"] == 50  # 30 × 0 + 50
    empty = score_card(done_catalog, "t_done", {"inputs": {"rest": 50}})
    assert empty["status"] == "incomplete"  # its input is required, as its InputDef says
    role = done_catalog.roles["t_done"]
    formulas = sheet_formulas(done_catalog, sheet_layout(done_catalog, role)).values()
    assert len([f for f in formulas if '="是",30,0)' in f]) == 1  # the task's points cell
