"""STAND-INS for pywin32's ``pythoncom``, ``pywintypes`` and ``win32com.client``.

``xlwings.udfs`` holds the real UDF decorators (``xlfunc``, ``xlarg``, ``xlret``) and the
VBA generator (``generate_vba_wrapper``), but imports these three Windows-only modules at
the top. None of them is used to decorate functions or to write VBA text, so on Linux and
macOS :func:`windows_standins` puts minimal module objects in their place for the duration
of a ``with`` block: enough for the import to succeed, and anything that would talk to COM
raises. This is used by ``generate_vba`` (to regenerate ``macros/KPIUdfs.bas`` anywhere)
and by the tests; it never replaces a real pywin32 installation.
"""

from __future__ import annotations

import sys
import types
from contextlib import contextmanager
from typing import Any

NAMES = ("pythoncom", "pywintypes", "win32com", "win32com.client")
IMPORTED_UNDER_STANDINS = ("xlwings.udfs", "xlwings.com_server")


def _no_com(*args, **kwargs):
    raise NotImplementedError("stand-in for pywin32: there is no COM here")


def _modules() -> dict[str, types.ModuleType]:
    pythoncom: Any = types.ModuleType("pythoncom", "STAND-IN for pywin32's pythoncom")
    pythoncom.CoInitialize = lambda: None  # a thread-pool initializer xlwings.udfs names
    pythoncom.IID_IDispatch = None
    pythoncom.CoMarshalInterThreadInterfaceInStream = _no_com
    pythoncom.CoGetInterfaceAndReleaseStream = _no_com
    pywintypes: Any = types.ModuleType("pywintypes", "STAND-IN for pywin32's pywintypes")
    pywintypes.com_error = type("com_error", (Exception,), {})
    client: Any = types.ModuleType("win32com.client", "STAND-IN for pywin32's win32com.client")
    client.Dispatch = _no_com
    package: Any = types.ModuleType("win32com", "STAND-IN for pywin32's win32com")
    package.__path__ = []
    package.client = client
    return {"pythoncom": pythoncom, "pywintypes": pywintypes, "win32com": package,
            "win32com.client": client}


def have_pywin32() -> bool:
    try:
        import pythoncom  # noqa: F401
        import pywintypes  # noqa: F401
        import win32com.client  # noqa: F401
    except ImportError:
        return False
    return not is_standin(sys.modules["pythoncom"])


def is_standin(module) -> bool:
    return (module.__doc__ or "").startswith("STAND-IN")


@contextmanager
def windows_standins():
    """``import xlwings.udfs`` works inside the block; everything is undone after it."""
    if have_pywin32():
        yield
        return
    saved = {name: sys.modules.get(name) for name in NAMES + IMPORTED_UNDER_STANDINS}
    sys.modules.update(_modules())
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        import xlwings

        for name in IMPORTED_UNDER_STANDINS:  # the package attribute would outlive the block
            attr = name.split(".", 1)[1]
            if saved[name] is None and attr in vars(xlwings):
                delattr(xlwings, attr)
