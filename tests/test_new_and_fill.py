"""`kpi-workbook new` and `kpi-workbook fill`: real files in tmp_path, the CLI run in-process.

new:  roster (.csv/.xlsx, Chinese or English headers, or the built-in sample) → workbook(s);
      bad rosters get one report of every offending row; sheet names are made safe; existing
      files are refused without --force; writes are atomic.
fill: long or wide tables → input cells only (through defined names); formulas untouched;
      unknown employees/columns and bad values reported; rank items ranked per team.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kpi_workbook.cli import main
from kpi_workbook.kinds.inputs import input_specs
from kpi_workbook.workbook.scorecard import build
from kpi_workbook.workbook.scorecard.roster import sample_roster_path

MONTH = "2026-10"
FIXED_NAMES = ("KPI_TOTAL", "KPI_GRADE", "KPI_PAY", "KPI_STATUS", "KPI_EMPLOYEE_ID")
HEADER = ["工号", "姓名", "部门", "岗位", "基本工资"]


# --- helpers ------------------------------------------------------------------------------


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def write_csv(path: Path, rows: list[list], header: list[str] = HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def ref(ws, name: str) -> str:
    """The cell a sheet-scoped defined name points at, e.g. 'H7'."""
    (_, dest), = ws.defined_names[name].destinations
    return dest.replace("$", "")


def scorecards(book) -> dict[str, object]:
    """employee id → worksheet, for every scorecard sheet."""
    return {ws[ref(ws, "KPI_EMPLOYEE_ID")].value: ws for ws in book.worksheets
            if "KPI_EMPLOYEE_ID" in ws.defined_names}


def value(book, employee_id: str, name: str):
    ws = scorecards(book)[employee_id]
    return ws[ref(ws, name)].value


def snapshot(path: Path) -> tuple[dict, set]:
    """(every non-empty cell's value by (sheet, cell), the (sheet, cell) of every input cell)."""
    # read-only, every row whatever the sheet's <dimension> says: each cell as stored (a
    # covered cell of a merged range too), a quarter of the CPU of openpyxl's full load
    book = openpyxl.load_workbook(path, read_only=True)
    cells, inputs = {}, set()
    for ws in book.worksheets:
        ws.reset_dimensions()
        for row in ws.iter_rows():
            for c in row:
                if c.value not in (None, ""):  # an empty string reads back as None
                    cells[ws.title, c.coordinate] = c.value
        inputs |= {(ws.title, ref(ws, n)) for n in ws.defined_names if n.startswith("KPI_IN_")}
    book.close()
    return cells, inputs


def is_formula(v) -> bool:
    return isinstance(v, str) and v.startswith("=")


@pytest.fixture(scope="module")
def sample_new(tmp_path_factory) -> tuple[int, str, str, Path]:
    """`new` of the built-in sample roster (47 people, all 18 roles) into one workbook, run
    once: (exit code, stdout, stderr, the workbook)."""
    out = tmp_path_factory.mktemp("sample") / "book.xlsx"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["new", "--month", MONTH, "--out", str(out)])
    return code, stdout.getvalue(), stderr.getvalue(), out


@pytest.fixture(scope="module")
def sample_book(sample_new) -> Path:
    code, _, err, out = sample_new
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def sample_wb(sample_book):
    """The sample workbook as openpyxl loads it, once (tests only read it)."""
    return openpyxl.load_workbook(sample_book)


FILL_PEOPLE = {"E015", "E016", "E017", "E028", "E029", "E032", "E033"}


@pytest.fixture(scope="module")
def small_book(tmp_path_factory) -> Path:
    """Seven people of the sample roster (three roles, one with raters), built once."""
    folder = tmp_path_factory.mktemp("small")
    with open(sample_roster_path(), encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    roster = write_csv(folder / "r.csv", [r for r in rows[1:] if r[0] in FILL_PEOPLE], rows[0])
    out = folder / "book.xlsx"
    assert main(["new", "--roster", str(roster), "--month", MONTH, "--out", str(out)]) == 0
    return out


@pytest.fixture
def book(small_book, tmp_path) -> Path:
    """A fresh copy of the small workbook to fill."""
    return Path(shutil.copy(small_book, tmp_path / "book.xlsx"))


# --- new: rosters -------------------------------------------------------------------------


def test_new_from_builtin_sample(sample_new, sample_wb, catalog):
    code, stdout, err, _ = sample_new
    assert code == 0, err
    assert "47" in stdout
    wb = sample_wb
    assert wb.sheetnames[:2] == ["设置", "名单"]
    cards = scorecards(wb)
    assert len(cards) == 47
    roles = {ws[ref(ws, "KPI_ROLE")].value for ws in cards.values()}
    assert roles == set(catalog.roles)  # the sample covers every role
    assert cards["E001"][ref(cards["E001"], "KPI_MONTH")].value == MONTH


def test_new_from_xlsx_roster_with_chinese_role_names(capsys, tmp_path, catalog):
    roster = tmp_path / "名单.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER + ["绩效基数Q", "全勤", "直接上级"])
    ws.append([1001, "张三", "品质部", "品质部员工绩效考核表", 5200, None, "是", None])
    ws.append([1002, "李四", "品质部", "qc_inspector", 5000, 3000, "否", "张三"])
    # full-width parentheses in the name of the role are matched too
    ws.append([1003, "王五", "客服部", catalog.roles["cs_manager_monthly"].name, 9700, 3000, "是", None])
    wb.save(roster)

    out = tmp_path / "out.xlsx"
    code, _, err = run(capsys, "new", "--roster", roster, "--month", MONTH, "--out", out)
    assert code == 0, err
    cards = scorecards(openpyxl.load_workbook(out))
    assert set(cards) == {"1001", "1002", "1003"}
    assert cards["1001"][ref(cards["1001"], "KPI_ROLE")].value == "qc_inspector"
    assert cards["1003"][ref(cards["1003"], "KPI_ROLE")].value == "cs_manager_monthly"
    assert cards["1002"][ref(cards["1002"], "KPI_Q_AMOUNT")].value == 3000
    assert cards["1002"][ref(cards["1002"], "KPI_FULL_ATTENDANCE")].value == "否"


def test_new_from_csv_with_english_headers(capsys, tmp_path):
    roster = write_csv(tmp_path / "roster.csv", [
        ["E1", "Ann", "QC", "qc_iqc", "5000", "", "yes", ""],
        ["E2", "Bob", "QC", "qc_iqc", "4800", "2000", "no", "Ann"],
    ], header=["employee_id", "name", "department", "role", "base_salary", "q_amount",
               "full_attendance", "supervisor"])
    out = tmp_path / "out.xlsx"
    code, _, err = run(capsys, "new", "--roster", roster, "--month", MONTH, "--out", out)
    assert code == 0, err
    wb = openpyxl.load_workbook(out)
    assert set(scorecards(wb)) == {"E1", "E2"}
    assert value(wb, "E1", "KPI_FULL_ATTENDANCE") == "是"
    assert value(wb, "E2", "KPI_BASE_SALARY") == 4800


def test_split_by_department_one_workbook_each(capsys, tmp_path):
    out_dir = tmp_path / "books"
    code, _, err = run(capsys, "new", "--month", MONTH, "--split-by", "部门", "--out-dir", out_dir)
    assert code == 0, err
    files = sorted(p.name for p in out_dir.iterdir())
    assert files == sorted(f"{d}.xlsx" for d in ("客服部", "电商部", "售前部", "技术支持部", "品质部"))
    total = 0
    for path in out_dir.iterdir():
        wb = openpyxl.load_workbook(path, read_only=True)  # names and values are all it needs
        cards = scorecards(wb)
        total += len(cards)
        assert {ws[ref(ws, "KPI_DEPARTMENT")].value for ws in cards.values()} == {path.stem}
        wb.close()
    assert total == 47


def test_split_file_names_are_safe_and_distinct(capsys, tmp_path):
    roster = write_csv(tmp_path / "r.csv", [
        ["E1", "甲", "客服/一部", "qc_iqc", "5000"],
        ["E2", "乙", "客服_一部", "qc_iqc", "5000"],
        ["E3", "丙", "客服/一部", "qc_iqc", "5000"],
    ])
    out_dir = tmp_path / "books"
    code, _, err = run(capsys, "new", "--roster", roster, "--month", MONTH,
                       "--split-by", "department", "--out-dir", out_dir)
    assert code == 0, err
    books = {p.name: set(scorecards(openpyxl.load_workbook(p))) for p in out_dir.iterdir()}
    assert books == {"客服_一部.xlsx": {"E1", "E3"}, "客服_一部~2.xlsx": {"E2"}}


# --- new: what is on a scorecard sheet ----------------------------------------------------


def test_defined_names_validation_and_protection_for_every_role(sample_wb, catalog):
    wb = sample_wb
    seen_roles = set()
    for ws in scorecards(wb).values():
        role = catalog.roles[ws[ref(ws, "KPI_ROLE")].value]
        if role.id in seen_roles:
            continue
        seen_roles.add(role.id)
        for name in FIXED_NAMES:
            assert name in ws.defined_names, (ws.title, name)
        assert ws.protection.sheet, ws.title
        validations = ws.data_validations.dataValidation
        for spec in input_specs(role, catalog.role_pay_rules(role)):
            name = f"KPI_IN_{spec.owner}__{spec.input.id}" + (f"__{spec.rater}" if spec.rater else "")
            assert name in ws.defined_names, (role.id, name)
            cell = ref(ws, name)
            assert ws[cell].protection.locked is False, (role.id, name)
            assert any(cell in dv.sqref for dv in validations), (role.id, name, "no validation")
        # the formulas the names point at are locked
        assert ws[ref(ws, "KPI_TOTAL")].protection.locked is not False
        assert is_formula(ws[ref(ws, "KPI_TOTAL")].value)
    assert seen_roles == set(catalog.roles)


def test_sheet_names_are_sanitised_and_unique(capsys, tmp_path):
    long_id = "ID" + "0" * 40
    roster = write_csv(tmp_path / "r.csv", [
        ["E/1", "张[三]:*?/\\", "品质部", "qc_iqc", "5000"],
        ["E2", "很长的名字" * 10, "品质部", "qc_iqc", "5000"],
        [long_id + "1", "甲", "品质部", "qc_iqc", "5000"],
        [long_id + "2", "乙", "品质部", "qc_iqc", "5000"],
        [long_id + "3", "丙", "品质部", "qc_iqc", "5000"],
    ])
    out = tmp_path / "out.xlsx"
    code, _, err = run(capsys, "new", "--roster", roster, "--month", MONTH, "--out", out)
    assert code == 0, err
    wb = openpyxl.load_workbook(out)
    titles = wb.sheetnames
    assert all(len(t) <= 31 for t in titles)
    assert not any(re.search(r"[\[\]:*?/\\]", t) for t in titles)
    assert len({t.lower() for t in titles}) == len(titles)
    cards = scorecards(wb)
    assert set(cards) == {"E/1", "E2", long_id + "1", long_id + "2", long_id + "3"}
    assert "张" in cards["E/1"].title
    # the roster sheet links to each scorecard by its (sanitised) name
    links = {wb["名单"].cell(r, 1).value: wb["名单"].cell(r, 10).value for r in range(2, 7)}
    assert all(links[e] == ws.title for e, ws in cards.items())


def test_sheet_name_cut_at_an_apostrophe(capsys, tmp_path):
    roster = write_csv(tmp_path / "r.csv", [["E1", "a" * 27 + "'bbb", "品质部", "qc_iqc", "5000"]])
    out = tmp_path / "out.xlsx"
    code, _, err = run(capsys, "new", "--roster", roster, "--month", MONTH, "--out", out)
    assert code == 0, err
    assert not any(t.endswith("'") for t in openpyxl.load_workbook(out).sheetnames)


# --- new: bad input -----------------------------------------------------------------------


def test_bad_roster_reports_every_offending_row_at_once(capsys, tmp_path):
    roster = write_csv(tmp_path / "r.csv", [
        ["E1", "张三", "品质部", "qc_iqc", "5000"],        # row 2: fine
        ["E1", "李四", "品质部", "qc_iqc", "5000"],        # row 3: duplicate 工号
        ["E3", "王五", "品质部", "cleaner", "5000"],       # row 4: unknown role
        ["E4", "", "品质部", "qc_iqc", "5000"],            # row 5: empty name
        ["E5", "赵六", "品质部", "qc_iqc", "5000"],        # row 6: fine
    ])
    out = tmp_path / "out.xlsx"
    code, stdout, err = run(capsys, "new", "--roster", roster, "--month", MONTH, "--out", out)
    assert code == 2
    assert "Traceback" not in err and stdout == ""
    assert "重复" in err and "duplicate" in err
    assert "未知岗位 'cleaner'" in err and "unknown role 'cleaner'" in err
    assert "姓名为空" in err and "empty 姓名" in err
    for row in (3, 4, 5):
        assert f"第 {row} 行" in err and f"row {row}" in err
    assert "第 2 行 " not in err and "第 6 行" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == [roster]


def test_roster_missing_columns(capsys, tmp_path):
    roster = write_csv(tmp_path / "r.csv", [["E1", "张三", "qc_iqc"]], header=["工号", "姓名", "岗位"])
    code, _, err = run(capsys, "new", "--roster", roster, "--month", MONTH, "--out", tmp_path / "o.xlsx")
    assert code == 2 and "Traceback" not in err
    assert "部门" in err and "基本工资" in err and "missing columns" in err


def test_existing_output_refused_unless_force(capsys, tmp_path):
    out = tmp_path / "book.xlsx"
    out.write_bytes(b"precious")
    code, _, err = run(capsys, "new", "--month", MONTH, "--out", out)
    assert code == 2 and "--force" in err and "已存在" in err
    assert out.read_bytes() == b"precious"
    code, _, err = run(capsys, "new", "--month", MONTH, "--out", out, "--force")
    assert code == 0, err
    assert zipfile.is_zipfile(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


def test_split_refuses_before_writing_anything(capsys, tmp_path):
    out_dir = tmp_path / "books"
    out_dir.mkdir()
    (out_dir / "品质部.xlsx").write_bytes(b"precious")
    code, _, err = run(capsys, "new", "--month", MONTH, "--split-by", "部门", "--out-dir", out_dir)
    assert code == 2 and "--force" in err
    assert sorted(p.name for p in out_dir.iterdir()) == ["品质部.xlsx"]


def test_interrupted_build_leaves_original_intact(capsys, tmp_path, sample_book, monkeypatch):
    out = Path(shutil.copy(sample_book, tmp_path / "book.xlsx"))
    original = out.read_bytes()
    real = build._scorecard_sheet
    calls = []

    def failing(*args, **kwargs):  # the one stand-in: the builder dies midway
        calls.append(sorted(p.name for p in tmp_path.iterdir()))
        if len(calls) == 5:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(build, "_scorecard_sheet", failing)
    code, _, err = run(capsys, "new", "--month", MONTH, "--out", out, "--force")
    assert code != 0 and "disk on fire" in err and "Traceback" not in err
    assert len(calls[-1]) == 2, "the temporary file existed when the build failed"
    assert out.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


# --- fill ---------------------------------------------------------------------------------


def test_fill_long_table_writes_only_input_cells(capsys, tmp_path, book):
    before, inputs = snapshot(book)
    data = write_csv(tmp_path / "in.csv", [
        ["E015", "sales_completion.rate", "", "38%"],
        ["E016", "本月销售指标完成率/销售指标完成率", "", "３８％"],  # full-width %, 考核项目/输入
        ["E016", "货品熟悉度", "", "熟悉"],                    # a level by item label
        ["E028", "work_results", "主管", "27"],               # rater by Chinese name
        ["E028", "工作业绩/得分", "自评", "29"],
        ["E032", "miss_detection.misses", "", "1"],
    ], header=["工号", "输入", "评分人", "值"])
    code, stdout, err = run(capsys, "fill", book, "--inputs", data)
    assert code == 0, err
    assert "6" in stdout

    wb = openpyxl.load_workbook(book)
    assert value(wb, "E015", "KPI_IN_sales_completion__rate") == pytest.approx(0.38)
    assert value(wb, "E016", "KPI_IN_sales_completion__rate") == pytest.approx(0.38)
    assert value(wb, "E016", "KPI_IN_product_knowledge__level") == "熟悉"
    assert value(wb, "E028", "KPI_IN_work_results__points__supervisor") == 27
    assert value(wb, "E028", "KPI_IN_work_results__points__self") == 29
    assert value(wb, "E032", "KPI_IN_miss_detection__misses") == 1

    after, _ = snapshot(book)
    formulas = {k: v for k, v in before.items() if is_formula(v)}
    assert formulas and all(after.get(k) == v for k, v in formulas.items())
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed and changed <= inputs  # nothing but input cells was touched
    assert len(changed) == 6


def test_fill_wide_table_with_keys_labels_and_rater_suffix(capsys, tmp_path, book):
    before, inputs = snapshot(book)
    data = write_csv(tmp_path / "wide.csv", [
        ["E015", "刘明", "0.95", "3", "60", "", ""],
        ["E029", "孙明", "", "", "", "25", "28"],
    ], header=["employee_id", "姓名", "本月销售指标完成率", "打包出错率/打包出错次数",
               "closed_orders.count", "工作业绩/主管", "work_results/self"])
    code, _, err = run(capsys, "fill", book, "--inputs", data)
    assert code == 0, err
    wb = openpyxl.load_workbook(book)
    assert value(wb, "E015", "KPI_IN_sales_completion__rate") == pytest.approx(0.95)
    assert value(wb, "E015", "KPI_IN_packing_errors__errors") == 3
    assert value(wb, "E015", "KPI_IN_closed_orders__count") == 60
    assert value(wb, "E029", "KPI_IN_work_results__points__supervisor") == 25
    assert value(wb, "E029", "KPI_IN_work_results__points__self") == 28
    after, _ = snapshot(book)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert len(changed) == 5 and changed <= inputs


def test_fill_reports_unknown_employees_and_columns(capsys, tmp_path, book):
    data = write_csv(tmp_path / "wide.csv", [
        ["E015", "0.5", "7"],
        ["E999", "0.5", ""],
    ], header=["工号", "sales_completion.rate", "心情指数"])
    code, _, err = run(capsys, "fill", book, "--inputs", data)
    assert code == 1
    assert "E999" in err and "none of these workbooks" in err
    assert "心情指数" in err and "has no input" in err
    assert "Traceback" not in err
    # the good value still went in
    assert value(openpyxl.load_workbook(book), "E015", "KPI_IN_sales_completion__rate") == 0.5


def test_fill_out_of_range_names_employee_and_input(capsys, tmp_path, book):
    data = write_csv(tmp_path / "in.csv", [
        ["E017", "same_day_payment.rate", "", "150%"],
        ["E033", "miss_detection.misses", "", "-2"],
    ], header=["employee_id", "input", "rater", "value"])
    code, _, err = run(capsys, "fill", book, "--inputs", data)
    assert code == 1 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert any("E017" in ln and "same_day_payment.rate" in ln and "超出允许范围" in ln
               and "outside the allowed range" in ln for ln in lines)
    assert any("E033" in ln and "miss_detection.misses" in ln for ln in lines)
    wb = openpyxl.load_workbook(book)
    assert value(wb, "E017", "KPI_IN_same_day_payment__rate") is None
    assert value(wb, "E033", "KPI_IN_miss_detection__misses") is None


def test_fill_unknown_rater_is_reported_not_guessed(capsys, tmp_path, book):
    data = write_csv(tmp_path / "in.csv", [["E028", "work_results", "老板", "20"]],
                     header=["工号", "输入", "评分人", "值"])
    code, _, err = run(capsys, "fill", book, "--inputs", data)
    assert code == 1 and "老板" in err
    wb = openpyxl.load_workbook(book)
    assert value(wb, "E028", "KPI_IN_work_results__points__supervisor") is None


@pytest.mark.parametrize("content", [b"this is not a workbook",
                                     b"PK\x03\x04 truncated zip"])
def test_fill_corrupt_workbook_is_one_clear_error(capsys, tmp_path, content):
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(content)
    data = write_csv(tmp_path / "in.csv", [["E015", "0.5"]], header=["工号", "sales_completion.rate"])
    code, _, err = run(capsys, "fill", bad, "--inputs", data)
    assert code == 2
    assert "Traceback" not in err and "internal error" not in err
    assert "broken.xlsx" in err and "xlsx" in err
    assert bad.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.xlsx", "in.csv"]


def test_fill_zip_that_is_not_a_workbook(capsys, tmp_path):
    bad = tmp_path / "fake.xlsx"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    data = write_csv(tmp_path / "in.csv", [["E015", "0.5"]], header=["工号", "sales_completion.rate"])
    code, _, err = run(capsys, "fill", bad, "--inputs", data)
    assert code == 2 and "Traceback" not in err and "internal error" not in err
    assert "fake.xlsx" in err and "cannot open" in err


# --- fill: rank items ---------------------------------------------------------------------


def test_rank_items_ranked_within_role_and_department(capsys, tmp_path):
    roster = write_csv(tmp_path / "r.csv", [
        ["A1", "甲", "电商一部", "ecommerce_presales_cs", "4600"],
        ["A2", "乙", "电商一部", "ecommerce_presales_cs", "4600"],
        ["A3", "丙", "电商一部", "ecommerce_presales_cs", "4600"],
        ["A4", "丁", "电商一部", "ecommerce_presales_cs", "4600"],
        ["B1", "戊", "电商二部", "ecommerce_presales_cs", "4600"],
        ["B2", "己", "电商二部", "ecommerce_presales_cs", "4600"],
        ["C1", "庚", "电商一部", "taobao_cs_staff", "4600"],
    ])
    out = tmp_path / "book.xlsx"
    assert run(capsys, "new", "--roster", roster, "--month", MONTH, "--out", out)[0] == 0
    data = write_csv(tmp_path / "share.csv", [
        ["A1", "30%"], ["A2", "50%"], ["A3", "30%"], ["A4", "10%"], ["B1", "20%"], ["B2", "60%"],
    ], header=["工号", "销售额占团队比"])
    code, _, err = run(capsys, "fill", out, "--inputs", data)
    assert code == 0, err

    def ranks():
        wb = openpyxl.load_workbook(out)
        return {e: (value(wb, e, "KPI_IN_sales_share__rank"),
                    value(wb, e, "KPI_IN_sales_share__team_size"))
                for e in ("A1", "A2", "A3", "A4", "B1", "B2")}

    # ties share the better rank; each department is its own team
    assert ranks() == {"A2": (1, 4), "A1": (2, 4), "A3": (2, 4), "A4": (4, 4),
                       "B2": (1, 2), "B1": (2, 2)}

    # a later import of one person's metric re-ranks the whole team from the sheets
    data2 = write_csv(tmp_path / "late.csv", [["A4", "sales_share", "", "0.9"]],
                      header=["工号", "输入", "评分人", "值"])
    assert run(capsys, "fill", out, "--inputs", data2)[0] == 0
    assert ranks() == {"A4": (1, 4), "A2": (2, 4), "A1": (3, 4), "A3": (3, 4),
                       "B2": (1, 2), "B1": (2, 2)}


@pytest.mark.parametrize("part", [
    b'<c r="A1"><f>1</f> <v>3</v></c>',  # whitespace between: the whole-part path
    b'<c r="A1"><f t="shared" si="0"/><v>3</v></c>',  # an <f/>
    b'<c r="A1"><f t="shared" si="0"/>\n<v>3</v></c>',  # an <f/>, a line break between
    b'<c r="A1"><f>1</f>\t<v>3</v></c><c r="A2"><f>1</f>\n\n<v>4</v></c>',  # a tab, line breaks
    b'<!-- </f><v>9</v> --><c r="A1"><f>1</f><v>2</v></c>',  # a comment: expat
    b'<c r="A1"><f>1</f><v xml:space="preserve">2</v></c>',  # a <v> with attributes
    b'<c r="A1"><f>1</f><v/></c><c r="A2"><f>A1</f><v>0</v></c><c r="A3"><v>5</v></c>',
])
def test_fill_drops_cached_results_as_the_package_does(part):
    """The quick dropping of the formulas' cached results (the usual "</f><v>" form by one
    expression; fill writes every sheet through it) gives what the parsed pass gives, on
    hand-made parts of every form."""
    from kpi_workbook.workbook.xlsx.package import _drop_cached, _drop_cached_parsed as package_drop

    assert _drop_cached(part) == package_drop(part)
    assert b"<v>5</v>" in _drop_cached(part) or b"A3" not in part  # a value that is no formula's stays


def test_fill_drops_cached_results_of_every_sheet_as_the_package_does(sample_book):
    """The same on every sheet of the sample book (all roles), whose formulas carry cached
    results as `new` writes them: each one is dropped."""
    from kpi_workbook.workbook.xlsx.package import Book, _drop_cached, _drop_cached_parsed as package_drop

    dropped = 0
    with Book.open(sample_book) as book:
        for sheet in book.sheet_names:
            data = book.read(book.parts[sheet])
            assert _drop_cached(data) == package_drop(data), sheet
            dropped += data.count(b"</f><v>") - _drop_cached(data).count(b"</f><v>")
    assert dropped > 0 and b"</f><v>" not in _drop_cached(data)
