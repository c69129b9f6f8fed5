"""Each button end to end on real files, the calling book being a small stand-in.

``StandInBook`` exposes exactly what the buttons use of ``xw.Book.caller()``: ``fullname``,
``save()``, ``sheets[...]`` (a cell's ``value``) and ``app.status_bar`` / ``app.alert(...)``
— ``__slots__`` make any other attribute an error. Its ``save()`` writes the edits "typed in
Excel" to the file, as Excel's save would, so the buttons must save before they read.
Outputs are compared with what the CLI commands write from the same files.
"""

from __future__ import annotations

import shutil
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kpi_workbook import cli
from kpi_workbook.excel import buttons
from kpi_workbook.words import STATUS_CELL
from kpi_workbook.workbook.month.master import (BUTTONS, CONFIG, CONFIG_ROWS, HOME, ROSTER, ROSTER_HEADERS,
                                                SETTINGS, UDF_MODULES, read_settings, write_master)
from kpi_workbook.excel.setup import setup_workbook
from kpi_workbook.sample import sample_inputs
from kpi_workbook.workbook.scorecard.roster import read_roster


class StandInOpened:
    """A book Excel opened (the 校准 button opens the report): its sheets can be activated."""

    __slots__ = ("path", "log")

    def __init__(self, path, log):
        self.path, self.log = path, log

    @property
    def sheets(self):
        opened = self

        class Sheets:
            def __getitem__(self, name):
                if name not in openpyxl.load_workbook(opened.path, read_only=True).sheetnames:
                    raise KeyError(name)
                return type("Sheet", (), {"activate": lambda _: opened.log.append((opened.path, name))})()

        return Sheets()


class StandInBooks:
    __slots__ = ("log",)

    def __init__(self):
        self.log: list = []  # (path, sheet) activated

    def open(self, path):
        assert Path(path).is_file(), path
        return StandInOpened(str(path), self.log)


class StandInApp:
    __slots__ = ("status_history", "alerts", "books")

    def __init__(self):
        self.status_history: list = []
        self.alerts: list = []
        self.books = StandInBooks()

    @property
    def status_bar(self):
        return self.status_history[-1] if self.status_history else False

    @status_bar.setter
    def status_bar(self, value):
        self.status_history.append(value)

    def alert(self, prompt, title=None, buttons="ok", mode=None, callback=None):
        self.alerts.append({"prompt": prompt, "title": title, "mode": mode})
        return "ok"


class StandInRange:
    __slots__ = ("_book", "_key")

    def __init__(self, book, key):
        self._book, self._key = book, key

    @property
    def value(self):
        return self._book.cells.get(self._key)

    @value.setter
    def value(self, v):
        self._book.cells[self._key] = v


class StandInSheet:
    __slots__ = ("_book", "_name")

    def __init__(self, book, name):
        self._book, self._name = book, name

    def __getitem__(self, address):
        return StandInRange(self._book, (self._name, address))


class StandInSheets:
    __slots__ = ("_book",)

    def __init__(self, book):
        self._book = book

    def __getitem__(self, name):
        if name not in self._book.sheet_names:
            raise KeyError(name)  # like xlwings, a missing sheet is an error
        return StandInSheet(self._book, name)


class StandInBook:
    """The calling workbook. ``typed`` are edits made in Excel but not saved yet."""

    __slots__ = ("fullname", "app", "cells", "typed", "saves", "sheet_names")

    def __init__(self, path: Path, typed: dict | None = None):
        self.fullname = str(path)
        self.app = StandInApp()
        self.cells: dict = {}
        self.typed = dict(typed or {})
        self.saves = 0
        self.sheet_names = openpyxl.load_workbook(path, read_only=True).sheetnames \
            if Path(path).is_file() else []

    @property
    def sheets(self):
        return StandInSheets(self)

    def save(self):
        self.saves += 1
        if self.typed:
            book = openpyxl.load_workbook(self.fullname)
            for (sheet, ref), value in self.typed.items():
                book[sheet][ref] = value
            book.save(self.fullname)
            self.typed.clear()

    @property
    def last(self) -> dict:
        return self.app.alerts[-1]


@pytest.fixture()
def master(tmp_path, catalog):
    roster = read_roster(catalog)
    return write_master(catalog, tmp_path / "绩效管理.xlsx", "2026-09", roster)


def month_cell(path: Path) -> str:
    ws = openpyxl.load_workbook(path)[SETTINGS]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "月份")
    return f"B{row}"


def run_ok(entry, book) -> str:
    text = entry(book)
    assert book.last["mode"] == "info", book.last["prompt"]
    assert book.last["prompt"] == text and "\n" not in text.splitlines()[0]
    assert book.app.status_history[-1] is False  # the status bar is given back to Excel
    assert any(str(s).startswith(book.last["title"].split(" · ")[1]) for s in book.app.status_history
               if s)
    assert book.cells[(HOME, STATUS_CELL)].endswith(text.splitlines()[0])
    return text


def test_the_whole_month_through_the_buttons(tmp_path, catalog, master):
    # HR changes the month in Excel and clicks: the button must save before reading it
    book = StandInBook(master, typed={(SETTINGS, month_cell(master)): "2026-10"})
    text = run_ok(buttons.create_scorecards, book)
    assert book.saves == 1 and read_settings(master).month == "2026-10"
    cards = tmp_path / "2026-10" / "考核表"
    made = sorted(p.name for p in cards.glob("*.xlsx"))
    assert made == sorted(f"{d}.xlsx" for d in read_roster(catalog)["department"].unique())
    assert "47 人" in text and "5 个" in text

    roster = read_roster(catalog)
    data = tmp_path / "2026-10" / "数据"
    data.mkdir()
    sample_inputs(catalog, roster, "2026-10", incomplete={"E003"}).to_csv(
        data / "客服数据.csv", index=False, encoding="utf-8-sig")
    text = run_ok(buttons.import_data, book)
    assert "导入" in text and "个输入单元格" in text

    text = run_ok(buttons.validate, book)
    findings = pd.read_csv(tmp_path / "2026-10" / "检查结果.csv", encoding="utf-8-sig")
    assert len(findings) > 0 and set(findings["工作表"]) == {s for s in findings["工作表"]
                                                           if s.startswith("E003")}
    assert f"{len(findings)} 个问题" in text

    text = run_ok(buttons.generate_report, book)
    report = tmp_path / "2026-10" / "月度报表.xlsx"
    assert report.is_file() and (tmp_path / "历史.xlsx").is_file() and "47 人" in text

    text = run_ok(buttons.export_payroll, book)
    payroll = tmp_path / "2026-10" / "工资表.csv"
    # E003 is unfinished: never paid, and named; E013 (缺岗 3 months, S9) takes no part
    assert "45 人" in text and "1 项未发放" in text and "E003" in text and "E013（曾杰）本月不参与" in text

    # the CLI on the same files writes the same report and payroll
    out = tmp_path / "cli"
    assert cli.main(["report", str(cards), "--out", str(out / "report.xlsx"),
                     "--month", "2026-10"]) == 0
    ours, theirs = (pd.read_excel(p, sheet_name="月度汇总", engine="openpyxl").drop(columns=["预警"])
                    for p in (report, out / "report.xlsx"))
    pd.testing.assert_frame_equal(ours, theirs)
    assert cli.main(["payroll", str(report), "--out", str(out / "payroll.csv")]) == 1  # E003
    assert cli.main(["payroll", str(report), "--out", str(out / "payroll.csv"), "--allow-incomplete"]) == 0
    assert payroll.read_bytes() == (out / "payroll.csv").read_bytes()


def test_the_rest_of_the_month_through_the_buttons(tmp_path, catalog, master):
    """校准 opens the report's 校准 sheet; 审批, 季度/年度汇总 and 通知书 write what the CLI
    commands write from the same files."""
    book = StandInBook(master, typed={(SETTINGS, month_cell(master)): "2026-10"})
    for entry in (buttons.calibrate, buttons.approve, buttons.notices):  # no report yet
        entry(book)
        assert book.last["mode"] == "critical" and "生成月度报表" in book.last["prompt"]
    buttons.rollups(book)
    assert book.last["mode"] == "critical" and "生成月度报表" in book.last["prompt"]
    run_ok(buttons.create_scorecards, book)
    roster = read_roster(catalog)
    data = tmp_path / "2026-10" / "数据"
    data.mkdir()
    sample_inputs(catalog, roster, "2026-10").to_csv(data / "d.csv", index=False, encoding="utf-8-sig")
    run_ok(buttons.import_data, book)
    run_ok(buttons.generate_report, book)
    report = tmp_path / "2026-10" / "月度报表.xlsx"

    text = run_ok(buttons.calibrate, book)
    assert book.app.books.log == [(str(report), "校准")] and "校准" in text

    ws = openpyxl.load_workbook(master)[SETTINGS]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "审批人")
    book.typed[(SETTINGS, f"B{row}")] = "王经理"
    text = run_ok(buttons.approve, book)
    approvals = openpyxl.load_workbook(tmp_path / "历史.xlsx")["审批"]
    assert [c.value for c in approvals[2]][3] == "王经理" and "2026-10" in text

    text = run_ok(buttons.rollups, book)
    quarter, year = tmp_path / "汇总" / "2026Q4季度汇总.xlsx", tmp_path / "汇总" / "2026年度汇总.xlsx"
    assert quarter.is_file() and year.is_file() and "2026Q4季度汇总.xlsx" in text
    assert openpyxl.load_workbook(quarter).sheetnames == ["季度汇总", "部门汇总", "说明"]

    text = run_ok(buttons.notices, book)
    notices = tmp_path / "2026-10" / "绩效结果通知书.xlsx"
    cli_out = tmp_path / "cli-notices.xlsx"
    assert cli.main(["notices", str(report), "--history", str(tmp_path / "历史.xlsx"), "--out", str(cli_out),
                     "--no-pdf"]) in (0, 1)
    ours, theirs = (openpyxl.load_workbook(p).sheetnames for p in (notices, cli_out))
    assert ours == theirs and len(ours) == sum(1 for _ in ours) > 40 and f"{len(ours)} 人" in text


def test_scorecards_are_not_overwritten_unless_set(tmp_path, master):
    book = StandInBook(master)
    run_ok(buttons.create_scorecards, book)
    target = tmp_path / "2026-09" / "考核表" / "品质部.xlsx"
    before = target.stat().st_mtime_ns
    buttons.create_scorecards(book)
    assert book.last["mode"] == "critical" and "覆盖已有考核表" in book.last["prompt"]
    assert target.stat().st_mtime_ns == before
    ws = openpyxl.load_workbook(master)[SETTINGS]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "覆盖已有考核表")
    book.typed[(SETTINGS, f"B{row}")] = "是"
    run_ok(buttons.create_scorecards, book)


def test_roster_file_beside_an_empty_master(tmp_path, catalog):
    master = write_master(catalog, tmp_path / "主控.xlsx", "2026-10")  # 名单 sheet empty
    book = StandInBook(master)
    buttons.create_scorecards(book)
    assert book.last["mode"] == "critical" and "名单" in book.last["prompt"]
    shutil.copy(Path(cli.__file__).parent / "data" / "sample_roster.csv", tmp_path / "名单.csv")
    book.typed[(SETTINGS, month_cell(master))] = None  # make sure errors name the setting
    buttons.create_scorecards(book)
    assert "月份" in book.last["prompt"] and "YYYY-MM" in book.last["prompt"]
    book.typed[(SETTINGS, month_cell(master))] = "2026年10月"
    text = run_ok(buttons.create_scorecards, book)
    assert "47 人" in text


@pytest.mark.parametrize("entry,needs", [
    (buttons.import_data, "生成考核表"), (buttons.validate, "生成考核表"),
    (buttons.generate_report, "生成考核表"), (buttons.export_payroll, "生成月度报表")])
def test_out_of_order_clicks_say_what_to_do_first(master, entry, needs):
    book = StandInBook(master)
    entry(book)
    assert book.last["mode"] == "critical" and needs in book.last["prompt"]
    assert "Traceback" not in book.last["prompt"] and book.app.status_history[-1] is False


def test_errors_are_one_sentence_never_a_traceback(tmp_path, master, monkeypatch):
    unsaved = StandInBook(tmp_path / "nowhere" / "Book1")
    unsaved.fullname = "Book1"
    buttons.generate_report(unsaved)
    assert "保存" in unsaved.last["prompt"] and unsaved.saves == 0

    book = StandInBook(master)
    run_ok(buttons.create_scorecards, book)
    (tmp_path / "2026-09" / "数据").mkdir()
    (tmp_path / "2026-09" / "数据" / "坏.csv").write_text("姓名,值\n张三,1\n", encoding="utf-8")
    buttons.import_data(book)
    assert book.last["mode"] == "critical" and "工号" in book.last["prompt"]

    run_ok(buttons.generate_report, book)

    def locked(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "2026-09" / "工资表.csv"))

    from kpi_workbook.workbook.month import payroll  # what the button calls through kpi_workbook.api

    monkeypatch.setattr(payroll, "write_payroll", locked)
    buttons.export_payroll(book)
    assert "工资表.csv" in book.last["prompt"] and "Excel" in book.last["prompt"]

    def bug(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(payroll, "prepare_payroll", bug)
    buttons.export_payroll(book)
    prompt = book.last["prompt"]
    assert prompt.startswith("内部错误：ZeroDivisionError") and "Traceback" not in prompt


def test_a_book_without_home_sheet_still_gets_its_message(tmp_path, master):
    book = StandInBook(master)
    book.sheet_names = [s for s in book.sheet_names if s != HOME]
    text = buttons.create_scorecards(book)
    assert book.last["prompt"] == text and not book.cells


# ---------------------------------------------------------------------------------------
# The master workbook and the CLI commands.


def test_master_workbook_layout(tmp_path, catalog, master):
    book = openpyxl.load_workbook(master)
    assert book.sheetnames == [HOME, ROSTER, SETTINGS, CONFIG]
    conf = book[CONFIG]
    keys = [conf.cell(r, 1).value for r in range(1, len(CONFIG_ROWS) + 2)]
    assert keys[:-1] == [k for k, _, _ in CONFIG_ROWS] and keys[-1] is None  # no gap from A1
    assert conf["A1"].value == "UDF Modules" and conf["B1"].value == UDF_MODULES
    live = [k for k in keys[:-1] if not k.startswith("_")]
    assert live == ["UDF Modules"]  # placeholders must not hide the ribbon's interpreter
    assert {"_Interpreter_Win", "_Interpreter_Mac"} <= set(keys)
    roster = book[ROSTER]
    assert [c.value for c in roster[1]] == ROSTER_HEADERS
    assert roster.max_row == 48 and roster["D2"].value in {r.name for r in catalog.roles.values()}
    settings = read_settings(master)
    assert settings.month == "2026-09" and settings.split_by == "部门" and not settings.overwrite
    assert settings.folder == master.parent
    home = book[HOME]
    texts = [c.value for row in home.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(t.startswith("=KPI_SCORE(") for t in texts)  # examples are text, not formulas
    with zipfile.ZipFile(master) as z:
        body = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".vml"))
    for macro, *_ in BUTTONS:
        assert f"[0]!{macro}" in body  # Forms buttons linked to the KPIButtons.bas Subs


def test_cli_master_command(tmp_path, monkeypatch, capsys):
    out = tmp_path / "m.xlsx"
    roster = Path(cli.__file__).parent / "data" / "sample_roster.csv"
    assert cli.main(["master", "--out", str(out), "--roster", str(roster), "--month", "2026-10"]) == 0
    assert "47" in capsys.readouterr().out
    assert cli.main(["master", "--out", str(out)]) == 2  # exists
    assert "--force" in capsys.readouterr().err
    assert cli.main(["master", "--out", str(out), "--force", "--month", "2026-13"]) == 2
    assert cli.main(["master", "--out", str(out), "--force"]) == 0
    assert read_settings(out).month == pd.Timestamp.today().strftime("%Y-%m")
    assert openpyxl.load_workbook(out)[ROSTER].max_row == 1


def test_cli_excel_setup_outside_windows(tmp_path, monkeypatch, capsys):
    if sys.platform.startswith("win"):
        pytest.skip("the manual-route message is for other systems")
    assert cli.main(["excel-setup", str(tmp_path / "x.xlsm")]) == 2
    err = capsys.readouterr().err
    assert "Windows" in err and "KPIButtons.bas" in err and "Import File" in err
    assert len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------------------------
# excel-setup's Windows path, against recording stand-ins for xlwings and Excel's COM objects.


def test_excel_setup_windows_steps(tmp_path, catalog, master):
    log: list = []
    saved: list = []

    class Component:
        def __init__(self, name):
            self.Name = name

    class Components(list):
        def Import(self, path):
            log.append(("Import", Path(path).name))
            self.append(Component(Path(path).stem))

        def Remove(self, c):
            log.append(("Remove", c.Name))
            self.remove(c)

        def __call__(self, name):
            return next(c for c in self if c.Name == name)

    class References(list):
        def AddFromFile(self, path):
            log.append(("AddFromFile", Path(path).name))

    class Button:
        def __init__(self):
            self.OnAction, self.Caption = "", ""

    class Buttons:
        items = [Button()]
        items[0].OnAction = "'主控.xlsm'!KPI_Validate"
        Count = 1

        def Item(self, i):
            return self.items[i - 1]

        def Add(self, *box):
            b = Button()
            self.items.append(b)
            return b

    buttons_api = Buttons()

    class Sheet:
        api = type("Api", (), {"Buttons": lambda self: buttons_api})()

        def range(self, cell):
            return type("R", (), {"left": 0, "top": 20 * cell[0], "width": 100, "height": 30})()

    class Book:
        api = type("Api", (), {"VBProject": type("P", (), {
            "VBComponents": Components([Component("xlwings_udfs"), Component("ThisWorkbook")]),
            "References": References()})()})()
        sheets = {HOME: Sheet()}

        def save(self, path):
            saved.append(path)
            shutil.copy(master, path)

        def close(self):
            log.append(("close",))

    class App:
        startup_path = str(tmp_path / "XLSTART")

        def __init__(self, visible, add_book):
            self.books = type("Books", (), {"open": lambda _, p: Book()})()

        def quit(self):
            log.append(("quit",))

    (tmp_path / "XLSTART").mkdir()
    (tmp_path / "XLSTART" / "xlwings.xlam").write_bytes(b"")
    fake_xw = type("xw", (), {"App": App, "__file__": str(Path(__file__))})
    target = setup_workbook(master, xw=fake_xw, platform="win32")
    assert target == master.with_suffix(".xlsm") and saved == [str(target)]
    assert ("Remove", "xlwings_udfs") in log
    assert [e for e in log if e[0] == "Import"] == [("Import", "KPIButtons.bas"), ("Import", "KPIUdfs.bas")]
    assert ("AddFromFile", "xlwings.xlam") in log
    assert log[-1] == ("quit",)
    placed = [b.OnAction for b in buttons_api.items]
    assert sorted(placed[1:]) == sorted(m for m, *_ in BUTTONS if m != "KPI_Validate")
    with pytest.raises(Exception, match="Windows"):
        setup_workbook(master, xw=fake_xw, platform="linux")
    with zipfile.ZipFile(target) as z:
        assert "customUI/customUI14.xml" in z.namelist()
