"""The command line: outputs, exit codes 0/1/2, one-sentence errors without tracebacks."""

import json
import subprocess
import sys

import pytest

from kpi_workbook.cli import main


def run(capsys, *argv, stdin=None, monkeypatch=None):
    if stdin is not None:
        import io
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_roles_lists_every_role(capsys, catalog):
    code, out, _ = run(capsys, "roles", "--json")
    assert code == 0
    assert {r["id"] for r in json.loads(out)} == set(catalog.roles)


def test_roles_show(capsys):
    code, out, _ = run(capsys, "roles", "show", "qc_inspector", "--json")
    info = json.loads(out)
    assert code == 0 and info["grade_scheme"]["id"] == "grade_a_e"
    keys = [i["key"] for s in info["sections"] for it in s["items"] for i in it["inputs"]]
    assert "miss_detection.misses" in keys
    code, out, _ = run(capsys, "roles", "show", "品质部员工绩效考核表")  # by Chinese name
    assert code == 0 and "错漏检" in out


def test_unknown_role_lists_valid_ones(capsys):
    code, _, err = run(capsys, "roles", "show", "nobody")
    assert code == 2 and "qc_inspector" in err and "Traceback" not in err


def test_score_from_stdin(capsys, monkeypatch):
    card = {"month": "2026-10", "employee": {"id": "E1", "name": "王五"},
            "inputs": {"错漏检": 1, "日常检验工作/检验不及时": 3}}
    code, out, _ = run(capsys, "score", "qc_inspector", "--input", "-",
                       stdin=json.dumps(card, ensure_ascii=False), monkeypatch=monkeypatch)
    result = json.loads(out)
    # 20 (1 miss) + (20 − 3×1) + 15 + 10 + 10 + 15 + 10 = 97 → A, ¥400
    assert code == 0 and result["total"] == 97.0 and result["grade"] == "A"
    assert result["pay"] == {"pay_grade_amount": 400.0, "total": 400.0}
    assert set(result) >= {"role", "status", "total", "grade", "pay", "items", "missing", "warnings"}


@pytest.mark.parametrize("inputs, needle", [
    ({"nope": 1}, "valid keys"),
    ({"miss_detection": "three"}, "not a number"),
    ({"miss_detection": -1}, "outside the allowed range"),
    ({"miss_detection": 1.5}, "whole number"),
    ({"daily_inspection.irresponsible": "maybe"}, "yes/no"),
])
def test_score_bad_input(capsys, monkeypatch, inputs, needle):
    code, out, err = run(capsys, "score", "qc_inspector", "--input", "-",
                         stdin=json.dumps({"inputs": inputs}), monkeypatch=monkeypatch)
    assert code == 2 and out == "" and needle in err and "Traceback" not in err


def test_score_bad_json_and_missing_file(capsys, monkeypatch, tmp_path):
    code, _, err = run(capsys, "score", "qc_inspector", "--input", "-", stdin="{oops",
                       monkeypatch=monkeypatch)
    assert code == 2 and "line 1" in err
    code, _, err = run(capsys, "score", "qc_inspector", "--input", str(tmp_path / "none.json"))
    assert code == 2 and "cannot read" in err


def test_usage_error_exit_2(capsys):
    code, _, err = run(capsys, "score")
    assert code == 2 and "usage" in err


def test_console_script_is_installed():
    done = subprocess.run(["kpi-workbook", "roles"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "qc_inspector" in done.stdout
