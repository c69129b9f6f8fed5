"""Import profiles as data (issue 21, item 5): `fill BOOK --inputs EXPORT --profile
chitu-presales` on a synthetic 赤兔 售前明细 export with the real column names — a title line
above the header, people by 旺旺 sub-account, two rows of one person, a 合计 row, percent text,
seconds, 万 units — feeding presales_cs_weighted and ecommerce_presales_cs; unmatched people
and columns listed; the late-settling rate warned about; the profile file read bounded."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
from pathlib import Path

import openpyxl
import pytest

from kpi_workbook.diagnostics import KpiError
from kpi_workbook.rules.profiles import bounded_yaml

from .helpers import run

MONTH = "2026-10"
ROSTER = [  # 工号, 姓名, 部门, 岗位, 基本工资, 旺旺
    ["P1", "小美", "售前部", "presales_cs_weighted", "4000", "某某旗舰店:小美"],
    ["P2", "小丽", "售前部", "presales_cs_weighted", "4000", "某某旗舰店:小丽"],
    ["E1", "阿强", "电商一部", "ecommerce_presales_cs", "4600", "某某旗舰店:阿强"],
    ["E2", "阿丽", "电商一部", "ecommerce_presales_cs", "4600", "某某旗舰店:阿丽"],
    ["E3", "阿华", "电商二部", "ecommerce_presales_cs", "4600", "某某专营店:阿华"],
    ["Q1", "赵敏", "品质部", "qc_iqc", "5000", ""],
]
# the columns of 赤兔's 售前明细 as its exports name them, and one the profile does not know
COLUMNS = ["客服", "接待人数", "询单人数", "询单->最终付款人数", "询单->最终付款成功率", "客单价", "客服回复率",
           "平均响应时间", "首次响应时间", "销售额", "客服答问比", "退款率", "慢响应人数", "下单->最终付款成功率",
           "自定义指标"]
EXPORT = [
    # 客服, 接待, 询单, 询单付款, 询单->最终付款成功率, 客单价, 回复率, 平均响应, 首次响应, 销售额, 答问比, 退款率, 慢响应, 下单->最终付款成功率, 自定义
    ["某某旗舰店:小美", "120", "100", "40", "40.00%", "88", "99.50%", "18秒", "9", "3520", "110%", "20%", "2", "96%", "x"],
    ["某某旗舰店:小美", "80", "50", "18", "36.00%", "90", "98.50%", "22", "11", "1620", "90%", "22%", "1", "98%", "x"],
    ["某某旗舰店:小丽", "90", "80", "20", "25.00%", "70", "91.00%", "00:01:05", "30", "1400", "65%", "35%", "9", "79%", ""],
    ["某某旗舰店:阿强", "200", "150", "83", "55.00%", "85.5", "99.60%", "00:00:31", "12", "1.2万", "100%", "5%", "3", "95%", ""],
    ["某某旗舰店:阿丽", "150", "100", "35", "35%", "79", "99.0%", "41秒", "20", "8000", "100%", "8%", "6", "90%", ""],
    ["某某专营店:阿华", "100", "80", "50", "62.50%", "120", "99.9%", "15", "5", "2万", "100%", "3%", "0", "99%", ""],
    ["某某旗舰店:路人", "10", "5", "1", "20%", "50", "90%", "60", "50", "100", "50%", "0%", "5", "50%", ""],
    ["合计", "750", "565", "247", "43.7%", "85", "98.9%", "25", "17", "3.6万", "95%", "10%", "26", "92%", ""],
]


def write_rows(path: Path, rows: list[list]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def write_export(path: Path, saved: dt.date = dt.date(2026, 11, 6)) -> Path:
    """An .xlsx as 赤兔 exports it: a title line, then the header, then one row per 客服 (and a
    total); saved on ``saved``."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "售前明细"
    ws.append(["售前明细 2026-10-01 至 2026-10-31"])
    ws.append(COLUMNS)
    for row in EXPORT:
        ws.append(row)
    wb.save(path)
    stamp = dt.datetime.combine(saved, dt.time(10)).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def cells(book: Path) -> dict[tuple[str, str], object]:
    wb = openpyxl.load_workbook(book)
    out = {}
    for ws in wb.worksheets:
        names = {n: list(d.destinations)[0][1].replace("$", "") for n, d in ws.defined_names.items()}
        if "KPI_EMPLOYEE_ID" in names:
            who = ws[names["KPI_EMPLOYEE_ID"]].value
            out.update({(who, n): ws[r].value for n, r in names.items() if n.startswith("KPI_IN_")})
    return out


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("chitu")
    roster = write_rows(folder / "名单.csv", [["工号", "姓名", "部门", "岗位", "基本工资", "旺旺"], *ROSTER])
    from kpi_workbook.cli import main

    assert main(["new", "--roster", str(roster), "--month", MONTH, "--out", str(folder / "book.xlsx")]) == 0
    return folder / "book.xlsx"


@pytest.fixture
def book(made, tmp_path) -> Path:
    return Path(shutil.copy(made, tmp_path / "book.xlsx"))


def test_the_chitu_export_fills_both_presales_forms(capsys, tmp_path, book):
    export = write_export(tmp_path / "售前明细.xlsx")
    code, out, err = run(capsys, "fill", book, "--inputs", export, "--profile", "chitu-presales")
    assert code == 1  # findings: a stranger, an unknown column
    got = cells(book)
    # P1: two rows (two days) combined by mean: (40% + 36%) / 2 = 38%, exactly on the band
    assert got["P1", "KPI_IN_inquiry_conversion__rate"] == 0.38
    assert got["P1", "KPI_IN_payment_rate__rate"] == 0.97      # (96% + 98%) / 2
    assert got["P1", "KPI_IN_refund_rate__rate"] == 0.21       # (20% + 22%) / 2, no binary noise
    assert got["P1", "KPI_IN_response_time__seconds"] == 20    # (18秒 + 22) / 2
    assert got["P1", "KPI_IN_answer_ratio__rate"] == 1.0       # (110% + 90%) / 2
    assert got["P1", "KPI_IN_reply_rate__rate"] == 0.99        # (99.5% + 98.5%) / 2
    assert got["P2", "KPI_IN_response_time__seconds"] == 65    # 00:01:05
    assert got["P2", "KPI_IN_payment_rate__rate"] == 0.79
    assert got["P1", "KPI_IN_good_reviews__count"] is None     # not in the export: left for HR
    # ecommerce_presales_cs takes what corresponds
    assert got["E1", "KPI_IN_inquiry_conversion__rate"] == 0.55
    assert got["E1", "KPI_IN_response_time__seconds"] == 31    # 00:00:31
    assert got["E1", "KPI_IN_reply_rate__rate"] == 0.996
    assert got["E1", "KPI_IN_order_value__amount"] == 85.5
    assert got["E2", "KPI_IN_response_time__seconds"] == 41    # 41秒
    # 销售额占团队比: 1.2万 of 电商一部's 1.2万 + 8000; 阿华 alone in 电商二部
    assert got["E1", "KPI_IN_sales_share__share"] == 0.6
    assert got["E2", "KPI_IN_sales_share__share"] == 0.4
    assert got["E3", "KPI_IN_sales_share__share"] == 1.0
    assert (got["E1", "KPI_IN_sales_share__rank"], got["E2", "KPI_IN_sales_share__rank"]) == (1, 2)
    assert got["E1", "KPI_IN_sales_share__team_size"] == 2 and got["E3", "KPI_IN_sales_share__team_size"] == 1
    assert got["E1", "KPI_IN_refunds__count"] is None          # 退款笔数 is not in this export
    assert got["E1", "KPI_IN_same_day_payment__rate"] is None  # not the same measure: not guessed
    # P1 6 + P2 6 + E1..E3 (E1, E2: 5 each, E3: 5) + ranks 2 × 3
    assert "已写入 33 个" in out
    lines = err.splitlines()
    stranger = [ln for ln in lines if "路人" in ln]
    assert len(stranger) == 1 and "不在名单中" in stranger[0] and "第 9 行" in stranger[0]
    assert not any("合计" in ln for ln in lines)  # the total row is no person
    unknown = [ln for ln in lines if "自定义指标" in ln]
    assert len(unknown) == 1 and "接待人数" not in unknown[0]  # known columns are not listed
    assert any("退款笔数" in ln and "refunds.count" in ln for ln in lines)
    assert not any("要到" in ln for ln in lines)  # saved after the rates settled


def test_an_export_saved_before_the_rates_settled_is_warned_about(capsys, tmp_path, book):
    export = write_export(tmp_path / "售前明细.xlsx", saved=dt.date(2026, 11, 2))
    code, _, err = run(capsys, "fill", book, "--inputs", export, "--profile", "chitu-presales")
    warned = [ln for ln in err.splitlines() if "询单->最终付款成功率" in ln and "2026-11-04" in ln]
    assert len(warned) == 1 and "2026-11-02" in warned[0]


def test_a_roster_without_the_wangwang_column_says_what_to_do(capsys, tmp_path):
    roster = write_rows(tmp_path / "r.csv", [["工号", "姓名", "部门", "岗位", "基本工资"],
                                             *[r[:5] for r in ROSTER]])
    book = tmp_path / "b.xlsx"
    assert run(capsys, "new", "--roster", roster, "--month", MONTH, "--out", book)[0] == 0
    export = write_export(tmp_path / "售前明细.xlsx")
    code, _, err = run(capsys, "fill", book, "--inputs", export, "--profile", "chitu-presales")
    assert code == 2 and "旺旺" in err and "--roster" in err
    # the roster with 旺旺 given beside the book
    with_accounts = write_rows(tmp_path / "名单.csv", [["工号", "姓名", "部门", "岗位", "基本工资", "旺旺"], *ROSTER])
    code, out, err = run(capsys, "fill", book, "--inputs", export, "--profile", "chitu-presales",
                         "--roster", with_accounts)
    assert code == 1 and "已写入 33 个" in out
    assert cells(book)["P1", "KPI_IN_inquiry_conversion__rate"] == 0.38


def test_a_bad_value_names_its_row_and_column(capsys, tmp_path, book):
    export = tmp_path / "e.csv"
    write_rows(export, [COLUMNS[:5], ["某某旗舰店:小美", "1", "1", "1", "四成"]])
    code, _, err = run(capsys, "fill", book, "--inputs", export, "--profile", "chitu-presales")
    assert code == 1
    line = next(ln for ln in err.splitlines() if "四成" in ln)
    assert "第 2 行" in line and "询单->最终付款成功率" in line


def test_an_unknown_profile_gets_did_you_mean(capsys, tmp_path, book):
    code, _, err = run(capsys, "fill", book, "--inputs", tmp_path / "x.csv", "--profile", "chitu-presale")
    assert code == 2 and "chitu-presales" in err


def test_a_profile_is_read_bounded(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("a: &a [1, 2]\nb: [*a, *a]\n", encoding="utf-8")
    with pytest.raises(KpiError, match="锚点或别名"):
        bounded_yaml(bomb)
    deep = tmp_path / "deep.yaml"
    deep.write_text("x: " + "[" * 40 + "]" * 40 + "\n", encoding="utf-8")
    with pytest.raises(KpiError, match="嵌套"):
        bounded_yaml(deep)
    big = tmp_path / "big.yaml"
    big.write_text("x: '" + "a" * 300_000 + "'\n", encoding="utf-8")
    with pytest.raises(KpiError, match="KB"):
        bounded_yaml(big)


def test_a_profile_naming_a_key_its_role_lacks_is_refused(capsys, tmp_path, book):
    profile = tmp_path / "mine.yaml"
    profile.write_text("id: mine\nlabel: 测试\nperson: {column: 客服, roster: wangwang}\ncolumns:\n"
                       "  - {column: 退款率, convert: percent, feeds: {presales_cs_weighted: 心情指数}}\n",
                       encoding="utf-8")
    code, _, err = run(capsys, "fill", book, "--inputs", tmp_path / "x.csv", "--profile", profile)
    assert code == 2 and "心情指数" in err and "presales_cs_weighted" in err
