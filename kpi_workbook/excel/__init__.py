"""Excel integration: worksheet functions (UDFs), buttons, the HR master workbook, VBA.

Optional: needs the ``excel`` extra (xlwings, open-source part only). Nothing in the core
package imports this package; importing it does not import xlwings either — only
``udfs``, ``buttons`` (when a button runs) and ``setup`` (on Windows) do.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def macros_dir() -> Path:
    """The VBA modules, ribbon XML and Lite files (``macros/`` in the repository).

    Installed, they are the data package ``kpi_workbook.macros``; in a source checkout that
    package does not exist and the repository's folder is used.
    """
    try:
        return Path(str(resources.files("kpi_workbook.macros")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "macros"
