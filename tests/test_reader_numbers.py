"""A number typed in a card's number input (reader._read_inputs) is taken as it is when
``parse_value`` would take it — finite, in the input's range, whole for a count — without
calling it; anything else goes through ``parse_value`` and is refused with its own words.
Checked against ``parse_value`` itself on every number input of every built-in role."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_workbook.kinds.inputs import parse_value
from kpi_workbook.numbers import ParseError
from kpi_workbook.rules.loader import builtin_catalog
from kpi_workbook.workbook.scorecard import reader
from kpi_workbook.workbook.scorecard.reader import NUMBER_TYPES, Card, _read_inputs, _role_specs

CATALOG = builtin_catalog()
NUMBER_SPECS = [(role_id, spec, name) for role_id in CATALOG.roles
                for spec, name, _ in _role_specs(CATALOG, role_id) if spec.input.type in NUMBER_TYPES]
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-200, 200), st.integers(-200, 200).map(float),
    st.integers(-10, 150), st.integers(-2**60, 2**60), st.sampled_from([2**53, -2**53, 10**301, -0.0, 1e-300]))


def _card(role_id: str, names: dict[str, str]) -> Card:
    return Card(Path("b.xlsx"), "S", "E1", role_id, names)


def _expected(spec, raw) -> tuple[float, list[str]]:
    """What the card reads from ``raw``, as parse_value says (the general path)."""
    try:
        return parse_value(spec, raw), []
    except ParseError as exc:
        return math.nan, [f"{spec.label_path()}：{exc.zh}"]


@settings(max_examples=300, deadline=None)
@given(at=st.sampled_from(NUMBER_SPECS), raw=NUMBERS)
def test_a_number_in_a_number_cell_reads_as_parse_value_reads_it(at, raw):
    role_id, spec, name = at
    card = _card(role_id, {name: "G6"})
    found = _read_inputs(CATALOG, card, {"G6": raw})
    want, messages = _expected(spec, raw)
    got = card.values[spec.key]
    assert (got == want and type(got) is type(want)) or (math.isnan(got) and math.isnan(want))
    mine = [d for d in found if d.cell == "G6"]
    assert [d.message_zh for d in mine] == messages
    assert all(d.code == "bad-value" for d in mine)


def test_a_number_in_range_is_taken_without_parse_value_and_any_other_through_it(monkeypatch):
    role_id = next(r for r, spec, _ in NUMBER_SPECS if spec.input.type == "count")
    specs = [(spec, name) for spec, name, _ in _role_specs(CATALOG, role_id)]
    names = {name: f"G{k + 6}" for k, (_, name) in enumerate(specs)}
    count = next(spec for spec, _ in specs if spec.input.type == "count")
    called: list[object] = []

    def counted(spec, value):
        called.append(value)
        return parse_value(spec, value)

    monkeypatch.setattr(reader, "parse_value", counted)
    card = _card(role_id, names)
    cells = {names[n]: (1 if spec.input.type == "count" else 0.5 if spec.input.type == "percent" else 1.0)
             for spec, n in specs if spec.input.type in NUMBER_TYPES}
    assert not _read_inputs(CATALOG, card, cells)
    assert called == []  # every number in range: none through parse_value
    ref = names[next(n for spec, n in specs if spec is count)]
    for bad, codes in ((1.5, ["bad-value"]), (-1.0, ["bad-value"]), (math.inf, ["bad-value"]), (math.nan, [])):
        called.clear()
        card = _card(role_id, names)
        found = _read_inputs(CATALOG, card, {**cells, ref: bad})
        assert len(called) == 1  # the one cell not taken as it is, through parse_value
        assert math.isnan(card.values[count.key]) and [d.code for d in found] == codes


@pytest.mark.parametrize("raw", [True, False])
def test_a_yes_no_in_a_number_cell_is_refused_as_before(raw):
    role_id, spec, name = NUMBER_SPECS[0]
    card = _card(role_id, {name: "G6"})
    found = _read_inputs(CATALOG, card, {"G6": raw})
    assert math.isnan(card.values[spec.key]) and [d.code for d in found if d.cell == "G6"] == ["bad-value"]


@pytest.mark.parametrize("raw", [math.inf, -math.inf, math.nan, 2**53, -2**53, 10**301, 0, -0.0, 100, 100.5, 1e-300])
def test_every_number_input_reads_an_edge_value_as_parse_value_reads_it(raw):
    for role_id, spec, name in NUMBER_SPECS:
        card = _card(role_id, {name: "G6"})
        found = _read_inputs(CATALOG, card, {"G6": raw})
        want, messages = _expected(spec, raw)
        got = card.values[spec.key]
        assert (got == want and type(got) is type(want)) or (math.isnan(got) and math.isnan(want)), spec.key
        assert [d.message_zh for d in found if d.cell == "G6"] == messages, spec.key


def _rows_one_by_one(contents: dict[str, object]) -> list[list[object]]:
    """The rows as split_ref places each cell, a cell at a time (reader._rows before)."""
    cells = {reader.split_ref(ref): v for ref, v in contents.items()}
    if not cells:
        return []
    height, width = max(r for r, _ in cells), max(c for _, c in cells)
    return [[cells.get((r, c)) for c in range(1, width + 1)] for r in range(1, height + 1)]


_REFS = st.one_of(st.builds(lambda c, r: f"{c}{r}", st.sampled_from(["A", "B", "Z", "AA", "XFD"]),
                            st.integers(1, 40)),
                  st.sampled_from(["b3", "A0", "AB12", "Ä1", "A١", "A01", "ZZ7"]))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_REFS, st.one_of(st.none(), st.integers(), st.text(max_size=3)), max_size=30))
def test_a_sheet_reads_as_rows_as_its_cells_one_by_one(contents):
    try:
        want = _rows_one_by_one(contents)
    except ValueError:  # a ref split_ref cannot read: the same error
        with pytest.raises(ValueError):
            reader._rows(contents)
        return
    assert reader._rows(contents) == want


def test_a_plain_ref_is_placed_without_split_ref(monkeypatch):
    seen: list[str] = []
    split = reader.split_ref
    monkeypatch.setattr(reader, "split_ref", lambda ref: seen.append(ref) or split(ref))
    assert reader._rows({"A1": 1, "C2": "x"}) == [[1, None, None], [None, None, "x"]]
    assert seen == []  # the usual "A1" form placed by its letters and digits
    assert reader._rows({"A1": 1, "b2": 2}) == _rows_one_by_one({"A1": 1, "b2": 2})
    assert seen == ["b2", "A1", "b2"]  # any other by split_ref (then by the test's own)  # the usual "A1" form placed by its letters and digits


@pytest.mark.parametrize("text", ["2026-10", "2026年10月", "２０２６-１０", " 2026/10 ", "202610", "2026-13", "十月", "", "x" * 41])
def test_a_month_text_reads_as_parse_month_reads_it_and_is_parsed_once(text, monkeypatch):
    from kpi_workbook.numbers import parse_month

    try:
        want: object = parse_month(text) if text.strip() else ""  # a blank cell: no month, no finding
    except ParseError as exc:
        want = exc.zh
    calls: list[str] = []
    monkeypatch.setattr(reader, "parse_month", lambda v: calls.append(v) or parse_month(v))
    reader._month_text.cache_clear()
    for _ in range(3):
        card = _card("cs_agent", {"KPI_MONTH": "H2"})
        found = reader._read_fields(card, reader.SheetCells("S", {"H2": text}))
        got = card.fields["month"]
        if not found:
            assert got == want
        else:
            assert got == "" and [d.message_zh for d in found] == [f"月份单元格：{want}"]
    if text.strip() and len(text) <= 40 and not found:
        assert calls == [text]  # the same text on every card: parsed once
    elif found:
        assert len(calls) == 3  # a text refused is never kept: refused on every card
