"""Excel-compatible rounding and the parsing of typed values."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi_workbook.numbers import (ParseError, clean_round, excel_round, parse_flag,
                                  parse_number, round_money, round_total)


@pytest.mark.parametrize("value, digits, expected", [
    (2.675, 2, 2.68),      # binary 2.67499999… : Python's round() gives 2.67
    (-2.5, 0, -3.0),       # half away from zero, not to even
    (2.5, 0, 3.0),
    (0.5, 0, 1.0),
    (1.005, 2, 1.01),
    (78.45, 1, 78.5),
    (-0.05, 1, -0.1),
    (123456.785, 2, 123456.79),
    (0.0, 1, 0.0),
])
def test_excel_round_known_values(value, digits, expected):
    assert excel_round(value, digits) == expected


def test_python_round_differs_where_excel_does_not():
    assert round(2.675, 2) == 2.67 and excel_round(2.675, 2) == 2.68
    assert round(-2.5) == -2 and excel_round(-2.5) == -3


def test_noise_is_removed_before_rounding():
    # 0.285*100 is 28.499999999999996: engines disagree on ROUND(x,0); ROUND(ROUND(x,9),0)
    # is 29 everywhere (digest, general semantics 6)
    assert 0.285 * 100 != 28.5
    assert clean_round(0.285 * 100, 0) == 29.0
    assert round_total(0.1 * 3 * 100 / 4) == 7.5
    assert round_money(7.845) == 7.85  # binary 7.84499999…


def test_nan_passes_through():
    assert excel_round(float("nan"), 1) != excel_round(float("nan"), 1)


# A decimal with at most 15 significant digits, as a person or Excel would type it.
decimals = st.builds(
    lambda units, exp: Decimal(units).scaleb(exp),
    st.integers(-(10**12), 10**12), st.integers(-6, 2))


@given(decimals, st.integers(0, 4))
def test_excel_round_agrees_with_decimal_reference(exact, digits):
    expected = exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    assert excel_round(float(exact), digits) == float(expected)


@given(decimals)
def test_rounding_is_symmetric(exact):
    x = float(exact)
    assert excel_round(-x, 1) == -excel_round(x, 1)


@pytest.mark.parametrize("text, expected", [
    ("38%", 0.38), ("38.5 %", 0.385), ("３８％", 0.38), ("0.38", 0.38), (38, 38.0),
    ("1,200", 1200.0), (" ７５ ", 75.0), ("-2", -2.0), ("1e3", 1000.0),
])
def test_parse_number(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["abc", "38%%", "", "1.2.3", True, [1]])
def test_parse_number_rejects(text):
    with pytest.raises(ParseError):
        parse_number(text)


@pytest.mark.parametrize("text, expected", [("是", True), ("否", False), ("yes", True),
                                            ("N", False), (1, True), ("√", True)])
def test_parse_flag(text, expected):
    assert parse_flag(text) is expected


def test_parse_flag_rejects():
    with pytest.raises(ParseError):
        parse_flag("也许")
