"""Both readers of the plain form: the compiled one (plain_scan.c) and the Python code of
plain_scan.py alone (what runs without a compiler, and in xlwings Lite).

``pytestmark = pytest.mark.usefixtures("either_reader")`` in a module runs each of its tests
both ways; each way also reaches the processes a test starts (KPI_WORKBOOK_PURE_PYTHON, or
the built module's folder first on PYTHONPATH).

The compiled way is the module plain_scan imported — which it does only when the module was
built from this checkout's plain_scan.c (its digest) — or else one built from that source now
(:func:`build`). .ci/test sets KPI_WORKBOOK_COMPILED=1: then the imported one must be there,
and the tests fail without it (CI cannot silently lose the extension, nor test Python twice).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sysconfig
from pathlib import Path
from types import ModuleType

import pytest

from kpi_workbook.workbook.xlsx import plain_scan

SOURCE = Path(plain_scan.SOURCE)


def build(folder: Path, flags: tuple[str, ...] = (), digest: str | None = None) -> Path:
    """The extension built from SOURCE into ``folder`` (the compiler and flags Python was
    built with, as setuptools uses them), holding ``digest`` as its source's (by default
    SOURCE's own, as setup.py gives it)."""
    if digest is None:
        digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    target = folder / ("kpi_workbook_scan" + sysconfig.get_config_var("EXT_SUFFIX"))
    cc = (sysconfig.get_config_var("CC") or "cc").split()
    command = [*cc, *(sysconfig.get_config_var("CFLAGSFORSHARED") or "").split(), "-shared", "-fPIC", "-O2",
               *flags, f'-DSOURCE_SHA256="{digest}"', f"-I{sysconfig.get_paths()['include']}", str(SOURCE),
               "-o", str(target)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, "the C extension does not build (a C compiler and Python's headers " \
        f"are needed): {done.stderr[-2000:]}"
    return target


def load(target: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("kpi_workbook_scan", target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def built_scanner(tmp_path_factory) -> tuple[ModuleType, Path]:
    """(the compiled module, the folder it is in): plain_scan's, or one built from SOURCE now."""
    if plain_scan.compiled is not None:
        return plain_scan.compiled, Path(plain_scan.compiled.__file__).parent
    assert not os.environ.get("KPI_WORKBOOK_COMPILED"), \
        "the extension was to be built from this source and imported (.ci/test)"
    target = build(tmp_path_factory.mktemp("compiled"))
    return load(target), target.parent


@pytest.fixture(params=["compiled", "python"])
def either_reader(request, monkeypatch) -> str:
    if request.param == "python":
        monkeypatch.setattr(plain_scan, "compiled", None)
        monkeypatch.setenv("KPI_WORKBOOK_PURE_PYTHON", "1")
    elif plain_scan.compiled is None:  # built from the source now: here and in the processes started
        module, folder = request.getfixturevalue("built_scanner")
        monkeypatch.setattr(plain_scan, "compiled", module)
        monkeypatch.delenv("KPI_WORKBOOK_PURE_PYTHON", raising=False)
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])))
    return request.param
