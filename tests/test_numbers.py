"""Excel-compatible rounding and the parsing of typed values."""

import math
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
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


@pytest.mark.parametrize("text, expected", [
    ("是", True), ("否", False), ("有", True), ("无", False), ("Y", True), ("n", False), ("1", True),
    ("0", False), (1, True), (0, False), ("√", True), ("✓", True), ("×", False), ("✗", False),
    ("yes", True), ("FALSE", False)])
def test_parse_flag(text, expected):
    assert parse_flag(text) is expected


@pytest.mark.parametrize("text", ["也许", "x", "X", "对", "不", "v", "2", 2, "", "是的"])
def test_parse_flag_rejects_look_alikes(text):
    """Issue 20: 全勤 "x" read as 是 while "×" read as 否; a look-alike is never guessed."""
    with pytest.raises(ParseError, match="√/✓"):
        parse_flag(text)


# Scores and money as the engine makes them: decimals with a few places, and products and
# quotients of them carrying binary noise (0.285*100, 5000*0.1*78.45/100, ...).
amounts = st.builds(lambda units, exp: float(Decimal(units).scaleb(exp)),
                    st.integers(-(10**8), 10**8), st.integers(-6, 0))
noisy = st.one_of(amounts, st.builds(lambda a, b: a * b / 100, amounts, amounts),
                  st.builds(lambda a, b: a / b if b else a, amounts, amounts),
                  st.floats(-1e20, 1e20))


@settings(max_examples=300)
@given(st.lists(noisy, min_size=1, max_size=50), st.integers(0, 8))
def test_vectorised_rounding_equals_the_scalar_one(values, digits):
    import numpy as np

    from kpi_workbook.numbers import clean_round_array

    got = clean_round_array(np.array(values), digits)
    assert list(got) == [clean_round(v, digits) for v in values]


@settings(max_examples=500)
@given(st.lists(st.one_of(noisy, st.builds(lambda k, e: (k + 0.5) / 10**e, st.integers(-(10**9), 10**9),
                                           st.integers(0, 9))), min_size=1, max_size=50),
       st.integers(0, 10))
def test_scalar_rounding_equals_the_exact_decimal_path(values, digits):
    # clean_round takes integer steps for most values: the same double as ROUND(ROUND(x, 9), d)
    # through Decimal, and the same sign of zero (-0.001 to 2 decimals is -0.0)
    for v in values:
        got, exact = clean_round(v, digits), excel_round(excel_round(v, 9), digits)
        assert got == exact and math.copysign(1, got) == math.copysign(1, exact), (v, digits)


def test_scalar_rounding_keeps_the_sign_of_a_zero():
    assert math.copysign(1, clean_round(-0.001, 2)) == -1.0
    assert math.copysign(1, clean_round(-0.0, 1)) == -1.0
    assert math.copysign(1, clean_round(0.001, 2)) == 1.0
    assert clean_round(2.675, 2) == 2.68 and clean_round(-2.675, 2) == -2.68


def test_vectorised_rounding_handles_nan_and_large_values():
    import numpy as np

    from kpi_workbook.numbers import clean_round_array

    got = clean_round_array(np.array([np.nan, 2.675, -2.5, 1e7 + 0.25, -0.04]), 1)
    assert np.isnan(got[0]) and list(got[1:]) == [2.7, -2.5, 1e7 + 0.3, -0.0]


def test_huge_values_round_without_overflowing_decimal_precision():
    assert excel_round(1.0000000006751107e19, 9) == 1.00000000067511e19
    assert excel_round(-1e300, 2) == -1e300
