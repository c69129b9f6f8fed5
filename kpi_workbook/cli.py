"""The ``kpi-workbook`` command.

Results go to stdout, diagnostics to stderr. Exit codes: 0 ok, 1 findings, 2 bad usage or
bad input. Tracebacks only with ``--debug``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .diagnostics import Diagnostic, KpiError, has_errors

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad command-line use: one sentence, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would print usage and exit itself
        raise UsageError(f"用法错误：{message} / usage error: {message} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kpi-workbook", description="绩效考核表：模板、评分、工作簿与月度报表 / "
                     "performance scorecards: templates, scoring, workbooks, monthly reports")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--templates", metavar="DIR", help="template directory (default: built-in)")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    roles = sub.add_parser("roles", help="list roles, or `roles show ROLE`")
    roles.add_argument("action", nargs="?", choices=["show"], help="show one role in full")
    roles.add_argument("role", nargs="?", help="role id or name (with show)")
    roles.add_argument("--json", action="store_true")
    roles.set_defaults(run=cmd_roles)

    score = sub.add_parser("score", help="score one scorecard from JSON")
    score.add_argument("role")
    score.add_argument("--input", required=True, metavar="FILE|-", help="JSON file, or - for stdin")
    score.set_defaults(run=cmd_score)

    lint_p = sub.add_parser("lint", help="check templates")
    lint_p.add_argument("dir", nargs="?", help="template directory (default: built-in)")
    lint_p.add_argument("--json", action="store_true")
    lint_p.set_defaults(run=cmd_lint)

    new = sub.add_parser("new", help="create scorecard workbooks from a roster")
    new.add_argument("--roster", metavar="FILE", help=".xlsx or .csv (default: built-in sample)")
    new.add_argument("--month", required=True, metavar="YYYY-MM")
    new.add_argument("--out", metavar="BOOK.xlsx", help="one workbook for everyone")
    new.add_argument("--split-by", metavar="COLUMN", help="one workbook per value, e.g. 部门")
    new.add_argument("--out-dir", metavar="DIR", help="folder for --split-by workbooks")
    new.add_argument("--force", action="store_true", help="overwrite existing files")
    new.set_defaults(run=cmd_new)

    fill = sub.add_parser("fill", help="import data into the input cells of scorecard workbooks")
    fill.add_argument("books", nargs="+", metavar="BOOK.xlsx")
    fill.add_argument("--inputs", required=True, metavar="FILE", help=".csv or .xlsx, long or wide")
    fill.set_defaults(run=cmd_fill)

    val = sub.add_parser("validate", help="check scorecard workbooks cell by cell")
    val.add_argument("books", nargs="+", metavar="BOOK.xlsx")
    val.add_argument("--json", action="store_true")
    val.set_defaults(run=cmd_validate)

    rep = sub.add_parser("report", help="the monthly report: summary, department statistics, warnings")
    rep.add_argument("inputs", nargs="+", metavar="BOOK.xlsx|DIR")
    rep.add_argument("--out", required=True, metavar="REPORT.xlsx")
    rep.add_argument("--history", metavar="HISTORY.xlsx", help="month history for streak warnings")
    rep.add_argument("--month", metavar="YYYY-MM", help="default: the scorecards' month")
    rep.add_argument("--force", action="store_true", help="overwrite an existing report")
    rep.set_defaults(run=cmd_report)

    pay = sub.add_parser("payroll", help="export the money columns of a report for finance")
    pay.add_argument("report", metavar="REPORT.xlsx")
    pay.add_argument("--out", required=True, metavar="FILE.csv|FILE.xlsx")
    pay.add_argument("--force", action="store_true")
    pay.set_defaults(run=cmd_payroll)

    demo = sub.add_parser("demo", help="run three months on built-in sample data")
    demo.add_argument("--out", required=True, metavar="DIR")
    demo.add_argument("--force", action="store_true")
    demo.set_defaults(run=cmd_demo)

    from .excel.cli_commands import register as register_excel  # master, excel-setup

    register_excel(sub, sys.modules[__name__])
    return parser


def cmd_report(args) -> int:
    from .workbook.monthly import run_report

    out = Path(args.out)
    result = run_report(_catalog(args), [Path(p) for p in args.inputs], out,
                        history=Path(args.history) if args.history else None,
                        month=_month(args.month) if args.month else None, force=args.force)
    _report(result.findings)
    print(result.summary_line())
    return EXIT_FINDINGS if has_errors(result.findings) else EXIT_OK


def cmd_payroll(args) -> int:
    from .workbook.payroll import read_payroll, write_payroll

    from .workbook.files import refuse_inputs

    refuse_inputs(Path(args.out), [Path(args.report)])  # never replace the report itself
    frame = read_payroll(Path(args.report))
    write_payroll(frame, Path(args.out), force=args.force)
    print(f"{args.out}\t{len(frame)} 人 / employees")
    return EXIT_OK


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(_catalog(args), Path(args.out), force=args.force)


def cmd_validate(args) -> int:
    from .workbook.validate import validate_books

    diags = validate_books(_catalog(args), [Path(b) for b in args.books])
    if args.json:
        _print_json([d.to_dict() for d in diags])
    else:
        _report(diags)
        print(f"{len(diags)} 个问题 / {len(diags)} findings", file=sys.stderr)
    return EXIT_FINDINGS if diags else EXIT_OK


def cmd_fill(args) -> int:
    from .workbook.fill import fill_workbooks, read_inputs

    catalog = _catalog(args)
    rows = read_inputs(args.inputs)
    result = fill_workbooks(catalog, [Path(b) for b in args.books], rows, source=args.inputs)
    _report(result.diagnostics)
    print(f"已写入 {result.written} 个输入单元格 / wrote {result.written} input cells")
    return EXIT_FINDINGS if result.diagnostics else EXIT_OK


def _month(text: str) -> str:
    from .numbers import ParseError, parse_month

    try:
        return parse_month(text)
    except ParseError as exc:
        raise UsageError(f"{exc.zh} / {exc.en}") from None


def cmd_new(args) -> int:
    from .workbook.build import build_workbook
    from .workbook.roster import read_roster, split_roster

    catalog = _catalog(args)
    month = _month(args.month)
    roster = read_roster(catalog, args.roster)
    if args.split_by:
        if not args.out_dir:
            raise UsageError("--split-by 需要 --out-dir / --split-by needs --out-dir")
        outputs = [(Path(args.out_dir) / f"{key}.xlsx", part)
                   for key, part in split_roster(roster, args.split_by)]
    else:
        if not args.out:
            raise UsageError("需要 --out BOOK.xlsx（或 --split-by 与 --out-dir） / --out BOOK.xlsx "
                             "is required (or --split-by with --out-dir)")
        outputs = [(Path(args.out), roster)]
    from .workbook.files import refuse_existing

    from .workbook.files import refuse_inputs

    for path, _ in outputs:  # refuse before writing any, so nothing is half done
        refuse_existing(path, args.force)
        refuse_inputs(path, [Path(args.roster)] if args.roster else [])
    for path, part in outputs:
        build_workbook(catalog, part, month, path, force=args.force)
        print(f"{path}\t{len(part)} 张考核表 / scorecards")
    return EXIT_OK


def _catalog(args):
    from .rules.loader import builtin_catalog, load_catalog

    return load_catalog(args.templates) if args.templates else builtin_catalog()


def _print_json(data) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, allow_nan=False)  # valid JSON only
    sys.stdout.write("\n")


def cmd_roles(args) -> int:
    from .rules.describe import describe_role, role_text

    catalog = _catalog(args)
    if args.action == "show":
        if not args.role:
            raise UsageError("用法：kpi-workbook roles show ROLE / usage: kpi-workbook roles show ROLE")
        info = describe_role(catalog, catalog.role(args.role))
        if args.json:
            _print_json(info)
        else:
            sys.stdout.write(role_text(info))
        return EXIT_OK
    if args.role:
        raise UsageError(f"未知子命令 '{args.role}'；用 roles 或 roles show ROLE / unknown: use "
                         "`roles` or `roles show ROLE`")
    rows = [{"id": r.id, "name": r.name, "name_en": r.name_en, "source": r.source,
             "family": r.family} for r in catalog.roles.values()]
    if args.json:
        _print_json(rows)
    else:
        width = max(len(r["id"]) for r in rows)
        for r in rows:
            print(f"{r['id']:<{width}}  {r['name']}  ({r['source']})")
    return EXIT_OK


def cmd_score(args) -> int:
    from .engine.api import score_card

    catalog = _catalog(args)
    source = "<stdin>" if args.input == "-" else args.input
    try:
        raw = _stdin_bytes() if args.input == "-" else Path(args.input).read_bytes()
    except OSError as exc:
        raise UsageError(f"无法读取输入文件 {source}：{exc.strerror} / cannot read input file "
                         f"{source}: {exc.strerror}") from None
    text = _json_text(raw, source)
    try:
        card = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source} 第 {exc.lineno} 行不是有效的 JSON：{exc.msg} / {source} line "
                         f"{exc.lineno} is not valid JSON: {exc.msg}") from None
    _print_json(score_card(catalog, args.role, card, source=source))
    return EXIT_OK


def _stdin_bytes() -> bytes:
    stream = getattr(sys.stdin, "buffer", None)  # a text stream without bytes (tests, IDEs)
    return stream.read() if stream is not None else sys.stdin.read().encode("utf-8")


def _json_text(raw: bytes, source: str) -> str:
    """JSON text in UTF-8 (with or without BOM) or, marked by its BOM, UTF-16/32."""
    encoding = "utf-8-sig"
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        encoding = "utf-32"
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        raise UsageError(f"{source} 不是 UTF-8 文本（或带 BOM 的 UTF-16） / {source} is not UTF-8 text "
                         "(nor UTF-16 with a BOM)") from None


def _no_constant(name: str):
    """NaN and Infinity are not JSON numbers: refuse them as the invalid JSON they are."""
    raise UsageError(f"输入中的 {name} 不是有效的 JSON 数字 / {name} in the input is not a valid JSON number")


def cmd_lint(args) -> int:
    from .rules.lint import lint

    diags = lint(args.dir or args.templates)
    if args.json:
        _print_json([d.to_dict() for d in diags])
    else:
        for d in diags:
            print(d, file=sys.stderr)
        errors = sum(d.severity == "error" for d in diags)
        warnings = sum(d.severity == "warning" for d in diags)
        print(f"{errors} 个错误，{warnings} 个警告 / {errors} errors, {warnings} warnings",
              file=sys.stderr)
    return EXIT_FINDINGS if has_errors(diags) else EXIT_OK


def _report(diags: list[Diagnostic]) -> None:
    for d in diags:
        print(d, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        if not getattr(args, "run", None):
            build_parser().print_help(sys.stderr)
            return EXIT_USAGE
        return args.run(args)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except KpiError as exc:
        _report(exc.diagnostics)
        return EXIT_USAGE
    except Exception as exc:  # an unexpected failure: one sentence unless --debug
        if debug:
            raise
        print(f"内部错误：{type(exc).__name__}: {exc}（加 --debug 查看详情） / internal error: "
              f"{type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
