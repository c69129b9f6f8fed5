"""Excel integration: worksheet functions (UDFs), buttons, the ribbon, VBA generation —
a front end, like the CLI.

Optional: needs the ``excel`` extra (xlwings, open-source part only). Nothing in the core
package imports this package; importing it does not import xlwings either — only
``udfs``, ``buttons`` (when a button runs) and ``setup`` (on Windows) do.

May import: ``kpi_workbook.api`` (the only door to the work: scoring, 设置, the master
workbook, files), ``rules/`` and ``kinds.inputs`` (the templates' data and input keys), and
the foundations. Never ``engine/`` or ``workbook/``.
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
