Attribute VB_Name = "KPIButtons"
' kpi-workbook: the buttons of the HR master workbook and the KPI ribbon tab.
'
' Each KPI_* Sub runs one Python entry point of kpi_workbook.excel.buttons through
' xlwings' RunPython; the Forms buttons on the home sheet are linked to these names.
' The KPIRibbon_* Subs are the onAction callbacks of macros/KPIRibbon.xml.
' Needs the xlwings add-in (VBA editor > Tools > References > xlwings) or xlwings'
' standalone VBA module. Keep this file ASCII: VBA modules are stored in the ANSI
' code page, so Chinese text lives in Python and in the ribbon XML instead.
' Import: VBA editor > File > Import File..., or `kpi-workbook excel-setup BOOK.xlsm`.
Option Explicit

Public Sub KPI_CreateScorecards()
    RunPython "import kpi_workbook.excel.buttons as b; b.create_scorecards()"
End Sub

Public Sub KPI_EntrySheet()
    RunPython "import kpi_workbook.excel.buttons as b; b.entry_sheet()"
End Sub

Public Sub KPI_ImportData()
    RunPython "import kpi_workbook.excel.buttons as b; b.import_data()"
End Sub

Public Sub KPI_Validate()
    RunPython "import kpi_workbook.excel.buttons as b; b.validate()"
End Sub

Public Sub KPI_GenerateReport()
    RunPython "import kpi_workbook.excel.buttons as b; b.generate_report()"
End Sub

Public Sub KPI_ExportPayroll()
    RunPython "import kpi_workbook.excel.buttons as b; b.export_payroll()"
End Sub

' ---- The rest of the month: calibration, approval, roll-ups, result notices ----

Public Sub KPI_Calibrate()
    RunPython "import kpi_workbook.excel.buttons as b; b.calibrate()"
End Sub

Public Sub KPI_Approve()
    RunPython "import kpi_workbook.excel.buttons as b; b.approve()"
End Sub

Public Sub KPI_Rollup()
    RunPython "import kpi_workbook.excel.buttons as b; b.rollups()"
End Sub

Public Sub KPI_Notices()
    RunPython "import kpi_workbook.excel.buttons as b; b.notices()"
End Sub

' ---- Ribbon callbacks (customUI14 onAction) ----

Public Sub KPIRibbon_CreateScorecards(control As IRibbonControl)
    KPI_CreateScorecards
End Sub

Public Sub KPIRibbon_EntrySheet(control As IRibbonControl)
    KPI_EntrySheet
End Sub

Public Sub KPIRibbon_ImportData(control As IRibbonControl)
    KPI_ImportData
End Sub

Public Sub KPIRibbon_Validate(control As IRibbonControl)
    KPI_Validate
End Sub

Public Sub KPIRibbon_GenerateReport(control As IRibbonControl)
    KPI_GenerateReport
End Sub

Public Sub KPIRibbon_ExportPayroll(control As IRibbonControl)
    KPI_ExportPayroll
End Sub

Public Sub KPIRibbon_Calibrate(control As IRibbonControl)
    KPI_Calibrate
End Sub

Public Sub KPIRibbon_Approve(control As IRibbonControl)
    KPI_Approve
End Sub

Public Sub KPIRibbon_Rollup(control As IRibbonControl)
    KPI_Rollup
End Sub

Public Sub KPIRibbon_Notices(control As IRibbonControl)
    KPI_Notices
End Sub

' Re-create the VBA wrappers of the worksheet functions (the xlwings ribbon's
' "Import Functions"): restart the Python UDF server so changed code is loaded,
' then import the functions of the modules named in the xlwings.conf sheet.
Public Sub KPIRibbon_ImportFunctions(control As IRibbonControl)
    KillPy
    ImportPythonUDFs
End Sub
