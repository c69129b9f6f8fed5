"""Golden layouts: three generated workbooks equal, part by part, to the committed XML.

A failure lists each part that differs with a unified diff of its lines. After an
intended layout change: `python -m tests.golden --update`, then review tests/golden/.
"""

import zipfile

import pytest

from tests import golden

UPDATE = "python -m tests.golden --update"


@pytest.mark.parametrize("case", golden.CASES, ids=lambda c: c.name)
def test_generated_workbook_matches_its_golden_layout(case, tmp_path):
    book = golden.build(case, tmp_path)
    found = golden.differences(golden.stored_parts(case), golden.masked_parts(book))
    if found:
        pytest.fail(f"{case.name}: the generated workbook's layout changed. If intended, run "
                    f"`{UPDATE}` and review the diff.\n\n" + "\n\n".join(found), pytrace=False)


def test_the_golden_cases_are_what_they_say(tmp_path):
    parts = {c.name: golden.stored_parts(c) for c in golden.CASES}
    assert all(p is not None for p in parts.values())
    sheets = {name: [k for k in p if k.startswith("xl/worksheets/")] for name, p in parts.items()}
    # 设置, 名单, 说明 and the scorecards: one, one, and the three of 客服部 (not 品质部's)
    assert {name: len(s) for name, s in sheets.items()} == {
        "plain_role": 4, "rater_role": 4, "split_department": 6}
    workbook = parts["split_department"]["xl/workbook.xml"]
    assert "王五" in workbook and "赵六" in workbook and "钱七" in workbook
    assert "孙八" not in workbook  # the other department has its own book
    rater = "".join(parts["rater_role"].values())
    assert "自评" in rater and "上级审核" in rater  # its two rater columns
    plain = "".join(parts["plain_role"].values())
    assert "自评" not in plain


def test_volatile_parts_are_masked_and_only_those(tmp_path):
    book = golden.build(golden.CASES[0], tmp_path)
    with zipfile.ZipFile(book) as z:
        raw = z.read("docProps/core.xml").decode("utf-8")
    assert "<dcterms:created" in raw and "MASKED" not in raw  # a real timestamp in the file
    parts = golden.masked_parts(book)
    assert parts["docProps/core.xml"].count("MASKED") == 2
    assert all("MASKED" not in text for name, text in parts.items() if name != "docProps/core.xml")


def test_a_difference_names_the_part_and_its_lines():
    case = golden.CASES[0]
    expected = golden.stored_parts(case)
    actual = dict(expected)
    # the first sheet with a formula: a scorecard (设置, 名单 and 说明 hold none)
    sheet = next(k for k in sorted(expected) if k.startswith("xl/worksheets/") and "\n<f>" in expected[k])
    lines = actual[sheet].splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("<f>"))
    lines[at] = "<f>SUM(1,2)</f>\n"
    actual[sheet] = "".join(lines)
    actual["xl/extra.xml"] = "<x/>\n"
    found = golden.differences(expected, actual)
    assert len(found) == 2
    assert "xl/extra.xml" in found[0] and "+xl/extra.xml" in found[0]
    assert found[1].startswith(f"part {sheet} differs")
    assert f"-{expected[sheet].splitlines()[at]}" in found[1]
    assert "+<f>SUM(1,2)</f>" in found[1]
    assert f"@@ -{at - 1}," in found[1]  # the hunk says where (two lines of context before)


def test_the_module_command_reports_ok_for_the_committed_files(capsys):
    from tests.golden.__main__ import main

    assert main(["plain_role"]) == 0
    assert "plain_role: ok" in capsys.readouterr().out
