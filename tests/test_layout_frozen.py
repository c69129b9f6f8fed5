"""Sheet layouts are frozen and kept beside their catalog: shared, never written into."""

import dataclasses
import pickle

import pytest

from kpi_workbook.rules.loader import load_catalog
from kpi_workbook.workbook.scorecard.formulas import role_formulas, sheet_formulas
from kpi_workbook.workbook.scorecard.layout import sheet_layout
from kpi_workbook.workbook.scorecard.validate import validate_books

ROLES = ["qc_inspector", "presales_dept_staff", "cs_specialist"]


@pytest.mark.parametrize("role_id", ROLES)
def test_a_layout_cannot_be_written_into(catalog, role_id):
    layout = sheet_layout(catalog, catalog.roles[role_id])
    with pytest.raises(dataclasses.FrozenInstanceError):
        layout.last_row = 0
    with pytest.raises(TypeError):
        layout.columns["points"] = 0
    with pytest.raises(TypeError):
        layout.footer["total"] = None
    with pytest.raises(AttributeError):
        layout.inputs.append(None)  # a tuple
    block = layout.blocks[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        block.max_cell = "A1"
    with pytest.raises(TypeError):
        block.inputs["x"] = None
    with pytest.raises(dataclasses.FrozenInstanceError):
        layout.inputs[0].row = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        layout.footer["total"].row = 0


def test_layouts_are_kept_per_catalog_not_by_id():
    first, second = load_catalog(), load_catalog()
    role_id = "qc_inspector"
    a = sheet_layout(first, first.roles[role_id])
    assert sheet_layout(first, first.roles[role_id]) is a  # made once per catalog and role
    b = sheet_layout(second, second.roles[role_id])
    assert b is not a and b == a  # another catalog has its own, equal one
    assert ("sheet_layout", role_id) in first._derived


def test_role_formulas_are_read_only_and_equal_to_a_fresh_computation(catalog):
    role = catalog.roles["qc_inspector"]
    shared = role_formulas(catalog, role)
    assert role_formulas(catalog, role) is shared
    with pytest.raises(TypeError):
        shared["A1"] = "=1"
    fresh = sheet_formulas(catalog, sheet_layout(catalog, role))
    assert dict(shared) == fresh and len(fresh) > 10


def test_validate_leaves_the_layout_as_it_was(tmp_path):
    from kpi_workbook.cli import main
    from kpi_workbook.workbook.scorecard import layout as layout_module

    catalog = load_catalog()
    book = tmp_path / "book.xlsx"
    assert main(["new", "--month", "2026-10", "--out", str(book)]) == 0
    before = {rid: sheet_layout(catalog, r) for rid, r in catalog.roles.items()}
    assert validate_books(catalog, [book]) != []  # an unfilled book: empty inputs found
    for rid, role in catalog.roles.items():
        after = sheet_layout(catalog, role)
        assert after is before[rid]
        assert after == layout_module._layout(catalog, role)  # equal to one made afresh
        assert not hasattr(after, "formulas")  # validate used to write its formulas in here


def test_a_pickled_catalog_leaves_its_caches_behind(catalog):
    sheet_layout(catalog, catalog.roles["qc_inspector"])
    role_formulas(catalog, catalog.roles["qc_inspector"])
    copy = pickle.loads(pickle.dumps(catalog))
    assert copy == catalog and copy._derived == {} and copy._pay_cache == {}
    assert sheet_layout(copy, copy.roles["qc_inspector"]) == sheet_layout(
        catalog, catalog.roles["qc_inspector"])


def test_a_replaced_catalog_starts_with_empty_caches(catalog):
    sheet_layout(catalog, catalog.roles["qc_inspector"])
    changed = dataclasses.replace(catalog, grade_schemes=dict(catalog.grade_schemes))
    assert changed._derived == {} and changed._derived is not catalog._derived
    assert changed._pay_cache is not catalog._pay_cache
