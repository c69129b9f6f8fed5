"""A fast start: templates parsed once with libyaml, their data cached by content, and light
commands import no workbook layer.

No timing is asserted here (benchmarks are not tests: `python -m bench.run` measures the
start-up); what is tested is what the speed rests on and must not regress in a merge.
"""

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from kpi_workbook.rules import loader, yaml_cache
from kpi_workbook.rules.lint import lint
from kpi_workbook.rules.loader import builtin_templates_dir, read_catalog

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def templates(tmp_path):
    root = tmp_path / "templates"
    shutil.copytree(builtin_templates_dir(), root, ignore=shutil.ignore_patterns("__*"))
    return root


# the role files shipped, counted independently of the loader
N_ROLES = len(list((Path(__file__).resolve().parents[1] / "templates" / "roles").glob("*.yaml")))

def test_pyyaml_has_libyaml_here():
    # the fast path is the one measured; without libyaml the loader still works (next test)
    assert loader._SAFE_LOADER is yaml.CSafeLoader


def test_libyaml_and_pure_python_parsers_give_the_same_catalog(monkeypatch):
    monkeypatch.setenv("KPI_WORKBOOK_CACHE", "off")  # parse, both times
    fast, fast_diags = read_catalog()
    monkeypatch.setattr(loader, "_SAFE_LOADER", yaml.SafeLoader)
    slow, slow_diags = read_catalog()
    assert fast_diags == slow_diags == []
    assert len(fast.roles) == N_ROLES
    assert fast == slow  # every role, scheme and pay rule validated to equal models


def test_syntax_error_names_file_and_line(templates):
    path = templates / "roles" / "qc_inspector.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[4] = "  : - ]["  # line 5 is now broken
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = [d for d in lint(templates) if d.code == "yaml-syntax"]
    assert len(found) == 1
    assert found[0].source == str(path)
    assert found[0].line is not None and 4 <= found[0].line <= 6


@pytest.mark.parametrize("parser", ["CSafeLoader", "SafeLoader", "cached"])
def test_schema_error_line_is_the_line_in_the_file(templates, monkeypatch, parser, tmp_path):
    monkeypatch.setenv("KPI_WORKBOOK_CACHE", str(tmp_path / "cache"))
    if parser != "cached":
        monkeypatch.setattr(loader, "_SAFE_LOADER", getattr(yaml, parser))
    path = templates / "grades.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    # grade A's threshold becomes a word: the error must point at that very line
    target = next(i for i, line in enumerate(lines) if "min: 96}" in line)
    lines[target] = lines[target].replace("min: 96}", "min: lots}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if parser == "cached":
        lint(templates)  # the broken file's data is now in the cache: the next load uses it
        monkeypatch.setattr(loader, "_parse_yaml", _counting(loader._parse_yaml, calls := []))
    found = [d for d in lint(templates) if d.code.startswith("schema-")]
    assert found and found[0].source == str(path)
    assert found[0].line == target + 1  # 1-based
    assert found[0].path[-1] == "min"
    if parser == "cached":
        assert len(calls) == 1  # only the broken file was parsed again, for its lines


def _counting(fn, calls: list):
    def wrapped(*args):
        calls.append(args)
        return fn(*args)
    return wrapped


# ---------------------------------------------------------------------------------------
# The cache of parsed templates (rules/yaml_cache.py)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("KPI_WORKBOOK_CACHE", str(folder))
    return folder


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def test_a_second_load_parses_nothing(cache, monkeypatch):
    first, diags = read_catalog()
    assert diags == []
    entries = _entries(cache)
    assert len(entries) == N_ROLES + 2  # grades.yaml, pay.yaml and one per role file
    for path in entries:  # plain JSON data, keyed by the content hash
        stored = json.loads(path.read_text(encoding="utf-8"))
        assert stored["key"] == path.stem and "data" in stored
    monkeypatch.setattr(loader, "_parse_yaml", _counting(loader._parse_yaml, calls := []))
    second, diags = read_catalog()
    assert calls == [] and diags == []
    assert second == first  # validated afresh from the cached data: the same models


def test_a_changed_template_is_parsed_again(cache, templates):
    read_catalog(templates)
    path = templates / "grades.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("min: 96}", "min: 97}"),
                    encoding="utf-8")
    catalog, diags = read_catalog(templates)
    assert diags == []
    tiers = catalog.grade_schemes["grade_a_e"].tiers
    assert tiers[0].min == 97  # not the cached 96
    assert len(_entries(cache)) == N_ROLES + 3  # one more entry: the new content


def test_damaged_or_foreign_entries_are_ignored(cache, monkeypatch):
    expected, _ = read_catalog()
    entries = _entries(cache)
    entries[0].write_bytes(b"\xff\xfe not json")
    entries[1].write_text("{\"key\": \"another\", \"data\": 1}", encoding="utf-8")
    entries[2].write_text("[1, 2", encoding="utf-8")
    entries[3].write_text("{\"data\": {}}", encoding="utf-8")
    monkeypatch.setattr(loader, "_parse_yaml", _counting(loader._parse_yaml, calls := []))
    catalog, diags = read_catalog()
    assert diags == [] and catalog == expected
    assert len(calls) == 4  # exactly the four bad entries were parsed again ...
    for path in entries[:4]:  # ... and rewritten
        assert json.loads(path.read_text(encoding="utf-8"))["key"] == path.stem


def test_an_unwritable_cache_only_means_parsing(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be", encoding="utf-8")
    monkeypatch.setenv("KPI_WORKBOOK_CACHE", str(blocker / "cache"))
    catalog, diags = read_catalog()
    assert diags == [] and len(catalog.roles) == N_ROLES
    assert list(tmp_path.iterdir()) == [blocker]  # and no temporary file left behind


def test_the_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("KPI_WORKBOOK_CACHE", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert yaml_cache.cache_dir() is None
    read_catalog()
    assert list(tmp_path.iterdir()) == []


def test_data_json_cannot_give_back_is_not_cached(tmp_path):
    import datetime as dt

    assert not yaml_cache.put(tmp_path, "k1", {"when": dt.date(2026, 10, 1)})
    assert not yaml_cache.put(tmp_path, "k2", {1: "a number as a key"})
    assert not yaml_cache.put(tmp_path, "k3", {"x": float("nan")})
    assert yaml_cache.put(tmp_path, "k4", {"x": [1, 2.5, True, None, "文"]})
    assert [p.name for p in tmp_path.iterdir()] == ["k4.json"]
    assert yaml_cache.get(tmp_path, "k4") == {"x": [1, 2.5, True, None, "文"]}
    assert yaml_cache.get(tmp_path, "k1") is yaml_cache.MISS


LIGHT = ["pandas", "xlsxwriter", "openpyxl", "xlwings", "kpi_workbook.workbook"]


@pytest.mark.parametrize("argv", [["roles"], ["roles", "show", "qc_inspector"], ["lint"],
                                  ["roles", "--json"]])
def test_light_commands_import_no_workbook_layer(argv):
    """`roles` and `lint` stay within 1.5x of `import pandas` only while they import none of it;
    the list of roles needs no numpy or portion either (a condition makes its mask, an array
    is rounded, an interval is made where they are needed: the kinds and lint import them)."""
    light = LIGHT + (["numpy", "portion"] if argv in (["roles"], ["roles", "--json"]) else [])
    code = textwrap.dedent(f"""
        import contextlib, io, json, sys
        from kpi_workbook.cli import main
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            status = main({argv!r})
        print(json.dumps([status, [m for m in {light!r} if m in sys.modules]]))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    status, imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 0
    assert imported == []


# what `report` without a history does not use, though modules on its way could import it:
# openpyxl (a tenth of a second), filelock (only a history is locked) and urllib.request
# with http.client (xml.sax.saxutils imports them; the writers escape with numbers.xml_escape)
NOT_FOR_REPORT = ["openpyxl", "filelock", "urllib.request", "http.client"]


def test_report_reads_without_openpyxl(tmp_path):
    """`report` reads every book through the package layer: openpyxl (a tenth of a second to
    import) is not imported on its way, nor any other module it does not use
    (NOT_FOR_REPORT)."""
    book = tmp_path / "book.xlsx"
    made = subprocess.run([sys.executable, "-m", "kpi_workbook.cli", "new", "--month", "2026-10",
                           "--out", str(book)], capture_output=True, text=True, cwd=ROOT,
                          check=False, timeout=120)
    assert made.returncode == 0, made.stderr[-2000:]
    code = textwrap.dedent(f"""
        import contextlib, io, json, sys
        from kpi_workbook.cli import main
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            status = main(["report", {str(book)!r}, "--out", {str(tmp_path / 'report.xlsx')!r}])
        print(json.dumps([status, [m for m in {NOT_FOR_REPORT!r} if m in sys.modules]]))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    status, imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert status in (0, 1) and (tmp_path / "report.xlsx").is_file()
    assert imported == []


@pytest.mark.parametrize("text", ["", "plain 文字", "a & b < c > d", "&amp; already", 'say "hi" \'x\'',
                                  "&lt;&gt;&quot;&amp;lt;", "><&&<>"])
@pytest.mark.parametrize("entities", [None, {'"': "&quot;"}, {'"': "&quot;", "'": "&apos;"}])
def test_xml_escape_is_saxutils(text, entities):
    """The writers' escape (numbers.xml_escape/xml_unescape) gives what xml.sax.saxutils gives."""
    from xml.sax.saxutils import escape, unescape

    from kpi_workbook.numbers import xml_escape, xml_unescape

    assert xml_escape(text, entities) == escape(text, entities or {})
    back = {v: k for k, v in entities.items()} if entities else None
    assert xml_unescape(text, back) == unescape(text, back or {})
    assert xml_unescape(xml_escape(text, entities), back) == text
