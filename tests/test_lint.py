"""`kpi-workbook lint`: the shipped templates pass; deliberately broken copies fail precisely."""

import shutil

import pytest
import yaml

from kpi_workbook.cli import main
from kpi_workbook.rules.lint import lint
from kpi_workbook.rules.loader import builtin_templates_dir


def test_shipped_templates_have_no_errors_or_unpinned_warnings():
    findings = [d for d in lint() if d.severity != "info"]
    assert findings == []


@pytest.fixture
def broken(tmp_path):
    """A copy of the shipped templates to break one thing in."""
    root = tmp_path / "templates"
    shutil.copytree(builtin_templates_dir(), root, ignore=shutil.ignore_patterns("__*"))

    def edit(name, change):
        path = root / name
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return root

    return edit


def _item(data, item_id):
    return next(i for s in data["sections"] for i in s["items"] if i["id"] == item_id)


def test_literal_s12_response_time_is_flagged(broken):
    # The seed as written: < 20 100, < 30 80, > 40 60, ≥ 50 40, ≥ 60 0
    def literal(data):
        _item(data, "response_time")["rule"]["bands"] = [
            {"when": "< 20", "points": 100}, {"when": "< 30", "points": 80},
            {"when": "> 40", "points": 60}, {"when": ">= 50", "points": 40},
            {"when": ">= 60", "points": 0}]
        _item(data, "response_time")["rule"].pop("monotone")
    root = broken("roles/presales_cs_weighted.yaml", literal)
    found = {(d.code, d.severity): d for d in lint(root)}
    gap = found[("band-gap", "warning")]
    assert "[30, 40]" in gap.message
    assert ("band-shadowed", "warning") in found   # >= 50 and >= 60 never match after > 40
    assert gap.source.endswith("presales_cs_weighted.yaml")


def test_gap_in_count_table_names_the_missing_counts(broken):
    def drop_two(data):
        bands = _item(data, "miss_detection")["rule"]["bands"]
        bands[:] = [b for b in bands if b["when"] != "== 2"]
    found = [d for d in lint(broken("roles/qc_inspector.yaml", drop_two)) if d.code == "band-gap"]
    assert len(found) == 1 and "values 2 match no row" in found[0].message


def test_maxima_not_adding_up_is_an_error(broken):
    root = broken("roles/qc_inspector.yaml", lambda d: _item(d, "five_s").update(max=12))
    errors = [d for d in lint(root) if d.severity == "error"]
    assert [d.code for d in errors] == ["total-max"]
    assert "102" in errors[0].message


def test_unordered_grade_thresholds(broken):
    def swap(data):
        tiers = data["grade_schemes"][0]["tiers"]
        tiers[1]["min"], tiers[2]["min"] = tiers[2]["min"], tiers[1]["min"]
    assert "grade-order" in {d.code for d in lint(broken("grades.yaml", swap))}


def test_unresolved_reference(broken):
    root = broken("roles/qc_inspector.yaml", lambda d: d.update(grade_scheme="grade_x"))
    found = [d for d in lint(root) if d.code == "unresolved-reference"]
    assert found and "grade_a_e" in found[0].message  # lists the valid ones


def test_non_monotone_band_table(broken):
    def bump(data):
        _item(data, "miss_detection")["rule"]["bands"][3]["points"] = 16  # 3 misses > 2 misses
    assert "band-monotone" in {d.code for d in lint(broken("roles/qc_inspector.yaml", bump))}


def test_schema_error_names_file_path_and_line(broken):
    root = broken("roles/qc_inspector.yaml",
                  lambda d: _item(d, "efficiency")["rule"]["events"][0].update(points="lots"))
    found = [d for d in lint(root) if d.code.startswith("schema-")]
    assert found, "expected a schema error"
    d = found[0]
    assert d.source.endswith("qc_inspector.yaml") and d.line is not None
    assert d.path[:2] == ("sections", 1) and "events" in d.path and "points" in d.path


def test_bad_condition_text(broken):
    root = broken("roles/qc_inspector.yaml", lambda d: _item(d, "miss_detection")["rule"][
        "bands"][0].update(when="about 0"))
    found = [d for d in lint(root) if d.code.startswith("schema-")]
    assert found and "unrecognised condition" in found[0].message


def test_cli_lint_exit_codes(broken, capsys):
    assert main(["lint"]) == 0
    root = broken("roles/qc_inspector.yaml", lambda d: _item(d, "five_s").update(max=12))
    assert main(["lint", str(root)]) == 1
    assert "total-max" in capsys.readouterr().err
