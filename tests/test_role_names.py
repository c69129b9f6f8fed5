"""Role names as people write them (issue 21, item 2): a roster's 岗位 takes the role id, its
name, the short name printed on the card, the English name and the template's ``aliases``,
exactly and after folding full-width characters and spaces; anything else is one line per
row with "是不是 … / did you mean …"; a name two roles share says so."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pytest

from kpi_workbook.rules.loader import builtin_templates_dir, load_catalog
from kpi_workbook.rules.lint import lint
from kpi_workbook.workbook.scorecard.roster import read_roster
from kpi_workbook.workbook.scorecard.versions import fingerprint

from .helpers import run

HEADER = ["工号", "姓名", "部门", "岗位", "基本工资"]


def write_roster(path: Path, rows: list[list]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([HEADER, *rows])
    return path


@pytest.mark.parametrize("written,role", [
    ("来料检验员", "qc_iqc"),                      # the short name printed on the card
    ("客服专员", "cs_specialist"),
    ("品质部检验绩效考核表（来料检验员）", "qc_iqc"),  # the form's name
    ("品质部检验绩效考核表(来料检验员)", "qc_iqc"),    # half-width brackets
    ("来料 检验员", "qc_iqc"),                     # a space typed in
    ("ＩＱＣ", "qc_iqc"),                          # an alias, full-width
    ("iqc", "qc_iqc"),                            # an alias, lower case
    ("巡检员", "qc_ipqc_patrol"),
    ("Taobao customer service staff scorecard", "taobao_cs_staff"),
    ("ＱＣ＿ＩＱＣ", "qc_iqc"),                      # the id, full-width
])
def test_a_roster_takes_the_names_people_write(tmp_path, catalog, written, role):
    roster = read_roster(catalog, write_roster(tmp_path / "r.csv", [["A1", "甲", "品质部", written, "5000"]]))
    assert list(roster["role"]) == [role]


def test_new_from_a_roster_of_card_names_prints_the_short_name(capsys, tmp_path):
    roster = write_roster(tmp_path / "r.csv", [["A1", "甲", "品质部", "来料检验员", "5000"],
                                               ["A2", "乙", "客服部", "客服专员", "5000"]])
    code, _, err = run(capsys, "new", "--roster", roster, "--month", "2026-10", "--out", tmp_path / "b.xlsx")
    assert code == 0, err
    book = openpyxl.load_workbook(tmp_path / "b.xlsx")
    assert [book["名单"].cell(r, 5).value for r in (2, 3)] == ["qc_iqc", "cs_specialist"]


def test_a_typo_gets_did_you_mean_naming_the_row(capsys, tmp_path):
    roster = write_roster(tmp_path / "r.csv", [["A1", "甲", "客服部", "taobao_cs_staff", "5000"],
                                               ["A2", "乙", "客服部", "taobao_cs_staf", "5000"],
                                               ["A3", "丙", "品质部", "来料检验", "5000"],
                                               ["A4", "丁", "品质部", "心情管理员", "5000"]])
    code, _, err = run(capsys, "new", "--roster", roster, "--month", "2026-10", "--out", tmp_path / "b.xlsx")
    assert code == 2 and not (tmp_path / "b.xlsx").exists()
    lines = err.splitlines()
    typo = next(ln for ln in lines if "第 3 行" in ln)
    assert "taobao_cs_staf" in typo and "是不是：taobao_cs_staff（淘宝客服人员绩效考核表）" in typo
    assert "did you mean: taobao_cs_staff" in typo
    assert not any("第 2 行" in ln for ln in lines)  # the good row and the alias row are fine
    assert not any("第 4 行" in ln for ln in lines)  # 来料检验 is an alias of qc_iqc
    unknown = next(ln for ln in lines if "第 5 行" in ln)
    assert "心情管理员" in unknown and "roles" in unknown
    assert max(len(ln) for ln in lines) < 300  # one line each, no list of every role


def test_a_name_two_roles_share_names_both(tmp_path, catalog):
    from kpi_workbook.diagnostics import KpiError

    path = write_roster(tmp_path / "r.csv", [["A1", "甲", "品质部", "品质部员工", "5000"]])
    with pytest.raises(KpiError) as caught:
        read_roster(catalog, path)
    text = str(caught.value)
    assert "qc_inspector" in text and "qc_event_ledger" in text and "第 2 行" in text


def test_roles_show_takes_an_alias_and_a_short_name(capsys):
    code, out, _ = run(capsys, "roles", "show", "IQC")
    assert code == 0 and "[qc_iqc]" in out
    code, out, _ = run(capsys, "roles", "show", "客服专员")
    assert code == 0 and "[cs_specialist]" in out


def test_an_alias_another_role_answers_to_is_a_lint_error(tmp_path):
    folder = tmp_path / "t"
    shutil.copytree(builtin_templates_dir(), folder, ignore=shutil.ignore_patterns("history", "__*"))
    path = folder / "roles" / "qc_inspector.yaml"
    text = path.read_text(encoding="utf-8").replace("\nname_en:", "\naliases: [来料检验员]\nname_en:", 1)
    path.write_text(text, encoding="utf-8")
    found = [d for d in lint(folder) if d.code == "alias-clash"]
    assert len(found) == 1 and "qc_iqc" in found[0].message_zh and found[0].path == ("aliases", 0)


def test_aliases_do_not_make_a_new_template_version(tmp_path):
    folder = tmp_path / "t"
    shutil.copytree(builtin_templates_dir(), folder, ignore=shutil.ignore_patterns("history", "__*"))
    before = load_catalog(folder)
    path = folder / "roles" / "qc_iqc.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("aliases: [", "aliases: [来料员, ", 1), encoding="utf-8")
    after = load_catalog(folder)
    assert after.roles["qc_iqc"].aliases[0] == "来料员"
    assert fingerprint(after, after.roles["qc_iqc"]) == fingerprint(before, before.roles["qc_iqc"])
