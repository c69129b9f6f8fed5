"""`kpi-workbook excel-setup BOOK`: make a master workbook macro-enabled (Windows, Excel).

Through xlwings and COM: open the book in a hidden Excel, import ``macros/KPIButtons.bas``
and ``macros/KPIUdfs.bas`` (replacing earlier copies), make sure the VBA can reach xlwings
(a reference to the installed xlwings add-in, or with ``standalone`` xlwings' own VBA
module), place any of the five buttons 首页 lacks, save as ``.xlsm`` next to the book, close
Excel and add the KPI ribbon tab (``ribbon.add_ribbon``).

Excel must allow it: File › Options › Trust Center › Trust Center Settings › Macro Settings ›
"Trust access to the VBA project object model".
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..diagnostics import KpiError, error
from . import macros_dir
from .. import api
from ..words import HOME_SHEET as HOME
from .ribbon import add_ribbon

MODULES = (("KPIButtons", "KPIButtons.bas"), ("xlwings_udfs", "KPIUdfs.bas"))
STANDALONE = (("xlwings", "xlwings.bas"), ("Dictionary", "addin/Dictionary.cls"))
ADDIN = "xlwings.xlam"
MANUAL = ("在 Excel 中按 Alt+F11 打开 VBA 编辑器 → 文件 → 导入文件，导入 macros/KPIButtons.bas 和 "
          "macros/KPIUdfs.bas，工具 → 引用 勾选 xlwings，再另存为 .xlsm（详见 docs/excel-section.md）")
MANUAL_EN = ("in Excel press Alt+F11 (VBA editor) → File → Import File: macros/KPIButtons.bas and "
             "macros/KPIUdfs.bas, tick xlwings under Tools → References, save as .xlsm "
             "(see docs/excel-section.md)")


NOT_WINDOWS = (f"excel-setup 需要 Windows 上的 Excel；在本系统上请手动：{MANUAL}",
               f"excel-setup needs Excel on Windows; here do it by hand: {MANUAL_EN}")


def com_errors() -> tuple[type[BaseException], ...]:
    """What Excel raises through COM when it refuses something (``pywintypes.com_error``);
    none where there is no pywin32 (no COM: nothing to catch)."""
    try:
        import pywintypes
    except ImportError:
        return ()
    return (pywintypes.com_error,)


def missing_sheet_errors() -> tuple[type[BaseException], ...]:
    """What ``book.sheets[name]`` raises for a sheet the book lacks: KeyError (xlwings on
    macOS, the tests' stand-in book) or a COM error (Windows)."""
    return (KeyError, *com_errors())


def setup_workbook(book: Path, standalone: bool = False, xw=None, platform: str | None = None) -> Path:
    """Import the macros into ``book`` and save it as .xlsm; returns the .xlsm path."""
    if not (platform or sys.platform).startswith("win"):
        raise KpiError([error("not-windows", *NOT_WINDOWS)])
    if xw is None:
        import xlwings as xw
    book = Path(book).resolve()
    if not book.is_file():
        raise KpiError([error("no-file", f"找不到文件 {book}", f"file not found: {book}", source=str(book))])
    target = book.with_suffix(".xlsm")
    folder = macros_dir()
    app = xw.App(visible=False, add_book=False)
    try:
        wb = app.books.open(str(book))
        try:
            project = wb.api.VBProject
            components = project.VBComponents
            names = [c.Name for c in components]
        except com_errors():  # COM refuses when the Trust Center setting is off
            raise KpiError([error(
                "vba-access", "Excel 不允许程序访问 VBA 工程：请在 文件 › 选项 › 信任中心 › 宏设置 中勾选"
                "“信任对 VBA 工程对象模型的访问”后重试",
                "Excel denies access to the VBA project: tick 'Trust access to the VBA project "
                "object model' (Trust Center › Macro Settings) and try again", source=str(book))]) from None
        for name, file in MODULES:
            if name in names:
                components.Remove(components(name))
            components.Import(str(folder / file))
        _link_xlwings(xw, app, project, components, names, standalone)
        _place_buttons(wb)
        wb.save(str(target))
        wb.close()
    finally:
        app.quit()
    add_ribbon(target)
    return target


def _link_xlwings(xw, app, project, components, names, standalone: bool) -> None:
    """RunPython and XLPy must resolve: reference the add-in, or embed xlwings' module."""
    references = [r.Name for r in project.References]
    addin = Path(app.startup_path) / ADDIN
    if not standalone and "xlwings" not in references and addin.is_file():
        project.References.AddFromFile(str(addin))
        return
    if not standalone and "xlwings" in references:
        return
    package = Path(xw.__file__).parent
    for name, file in STANDALONE:
        if name not in names:
            components.Import(str(package / file))


def _place_buttons(wb) -> None:
    """The buttons 首页 lacks (a master from `kpi-workbook master` has them already)."""
    try:
        sheet = wb.sheets[HOME]
    except missing_sheet_errors():  # not a master workbook: no 首页 to put buttons on
        return
    shapes = sheet.api.Buttons()
    have = {str(shapes.Item(i).OnAction).split("!")[-1] for i in range(1, shapes.Count + 1)}
    for k, (macro, caption, *_rest) in enumerate(api.master_buttons()):
        if macro in have:
            continue
        cell = sheet.range((7 + k, 1))
        button = shapes.Add(cell.left + 2, cell.top + 2, max(cell.width - 4, 90), cell.height - 4)
        button.OnAction = macro
        button.Caption = caption
