"""kpi-workbook: monthly performance scorecards (绩效考核表) as rules-as-data.

Layers, data flowing one way: ``rules`` (templates and their schema) → ``engine`` (pure
scoring) → workbook, report and CLI at the edge.

The public API is :mod:`kpi_workbook.api`, re-exported here: ``new``, ``fill``,
``validate``, ``report``, ``payroll``, ``approve``, ``rollup``, ``notices``, ``score`` and
``score_frame`` (and ``entry_sheet``, ``template_export``, ``template_new``,
``template_import``), each returning a result with ``.diagnostics`` and ``to_dict()``. They are
imported when first used, so ``import kpi_workbook`` stays cheap.
"""

__version__ = "0.1.0"

_API = ("new", "fill", "validate", "report", "payroll", "approve", "rollup", "notices", "score",
        "score_frame", "load_templates", "NewResult", "FillResult", "ValidateResult",
        "ReportResult", "PayrollResult", "ApproveResult", "RollupResult", "NoticesResult", "ScoreResult",
        "FrameResult",
        # a company's own data and scorecards
        "entry_sheet", "template_export", "template_new", "template_import")
__all__ = ["__version__", "api", "Diagnostic", "KpiError", "Refused", "UsageError", *_API]


def __getattr__(name: str):
    from importlib import import_module  # not `from . import`: that would ask __getattr__ again

    if name in _API or name == "api":
        api = import_module(f"{__name__}.api")
        return api if name == "api" else getattr(api, name)
    if name in ("Diagnostic", "KpiError", "Refused", "UsageError"):
        return getattr(import_module(f"{__name__}.diagnostics"), name)
    raise AttributeError(f"module 'kpi_workbook' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
