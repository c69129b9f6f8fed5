"""The ``kpi-workbook`` command.

Results go to stdout, diagnostics to stderr. Exit codes: 0 ok, 1 findings, 2 bad usage or
bad input. Tracebacks only with ``--debug``.
"""

from __future__ import annotations

import argparse
import errno
import json
import sys
from contextlib import contextmanager
from pathlib import Path

from .diagnostics import Diagnostic, KpiError, Refused, UsageError, has_errors

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):  # every parser's own texts in Chinese and English
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "参数 / arguments"
        self._optionals.title = "选项 / options"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help="显示帮助并退出 / show this help and exit")

    def error(self, message: str):  # argparse would print usage and exit itself
        raise UsageError(f"用法错误：{message} / usage error: {message} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kpi-workbook", description="绩效考核表：模板、评分、工作簿与月度报表 / "
                     "performance scorecards: templates, scoring, workbooks, monthly reports")
    parser.add_argument("--debug", action="store_true", help="出错时显示调用栈 / show tracebacks")
    parser.add_argument("--templates", metavar="DIR",
                        help="模板目录（默认：内置模板）/ template directory (default: built-in)")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND",
                                title="命令 / commands")

    roles = sub.add_parser("roles", help="列出岗位，或 roles show ROLE 查看一个岗位 / list roles, or "
                           "`roles show ROLE`", description="列出岗位模板；roles show ROLE 显示评分项目、"
                           "输入项、等级、薪酬规则与假设说明 / list the role templates; `roles show ROLE` "
                           "shows items, inputs, grades, pay rules and the assumption notes")
    roles.add_argument("action", nargs="?", choices=["show"], help="show：显示一个岗位 / show one role in full")
    roles.add_argument("role", nargs="?", help="岗位 id 或名称（与 show 连用）/ role id or name (with show)")
    roles.add_argument("--json", action="store_true", help="以 JSON 输出 / print JSON")
    roles.set_defaults(run=cmd_roles)

    score = sub.add_parser("score", help="按 JSON 输入为一张考核表评分 / score one scorecard from JSON",
                           description="按 JSON 输入为一张考核表评分，输出得分、等级与薪酬的 JSON / score "
                           "one scorecard from JSON input; prints scores, grade and pay as JSON")
    score.add_argument("role", help="岗位 id 或名称 / role id or name")
    score.add_argument("--input", required=True, metavar="FILE|-",
                       help="JSON 文件，- 表示标准输入 / JSON file, or - for stdin")
    score.set_defaults(run=cmd_score)

    lint_p = sub.add_parser("lint", help="检查模板 / check templates",
                            description="检查模板目录：结构、档位的缺口与重叠、引用 / check a template "
                            "directory: structure, gaps and overlaps of bands, references")
    lint_p.add_argument("dir", nargs="?", help="模板目录（默认：内置）/ template directory (default: built-in)")
    lint_p.add_argument("--json", action="store_true", help="以 JSON 输出诊断 / print the diagnostics as JSON")
    lint_p.set_defaults(run=cmd_lint)

    new = sub.add_parser("new", help="按名单生成考核表工作簿 / create scorecard workbooks from a roster",
                         description="按名单生成考核表工作簿：名单、设置与每人一张考核表 / create "
                         "scorecard workbooks from a roster: 名单, 设置 and one scorecard per employee")
    new.add_argument("--roster", metavar="FILE",
                     help=".xlsx 或 .csv 名单（默认：内置样例）/ .xlsx or .csv roster (default: built-in sample)")
    new.add_argument("--month", required=True, metavar="YYYY-MM", help="考核月份 / the month")
    new.add_argument("--out", metavar="BOOK.xlsx", help="所有人一个工作簿 / one workbook for everyone")
    new.add_argument("--split-by", metavar="COLUMN",
                     help="按此列拆分为多个工作簿，如 部门 / one workbook per value, e.g. 部门")
    new.add_argument("--out-dir", metavar="DIR", help="--split-by 工作簿的文件夹 / folder for --split-by workbooks")
    new.add_argument("--force", action="store_true", help="覆盖已有文件 / overwrite existing files")
    new.add_argument("--json", action="store_true", help="以 JSON 输出结果 / print the result as JSON")
    new.set_defaults(run=cmd_new)

    fill = sub.add_parser("fill", help="把数据导入考核表的输入单元格 / import data into the input cells",
                          description="把长表（工号, 输入, 评分人, 值）或宽表导入考核表的输入单元格 / import "
                          "a long (工号, 输入, 评分人, 值) or wide table into the scorecards' input cells")
    fill.add_argument("books", nargs="+", metavar="BOOK.xlsx", help="考核表工作簿 / scorecard workbooks")
    fill.add_argument("--inputs", required=True, metavar="FILE",
                      help=".csv 或 .xlsx，长表或宽表 / .csv or .xlsx, long or wide")
    fill.add_argument("--json", action="store_true", help="以 JSON 输出结果 / print the result as JSON")
    fill.add_argument("--profile", metavar="NAME", help="导入方案，如 chitu-presales：--inputs 是该系统的导出文件 / "
                      "an import profile, e.g. chitu-presales: --inputs is that system's export")
    fill.add_argument("--roster", metavar="FILE", help="与 --profile 连用：按此名单对应人员（默认：考核表的名单）/ "
                      "with --profile: match people by this roster (default: the books' 名单)")
    _lock_option(fill)
    fill.set_defaults(run=cmd_fill)

    val = sub.add_parser("validate", help="逐格检查考核表工作簿 / check scorecard workbooks cell by cell",
                         description="逐格检查：必填输入为空、数值有误或越界、公式被改动 / check cell by cell: "
                         "empty required inputs, bad or out-of-range values, changed formulas")
    val.add_argument("books", nargs="+", metavar="BOOK.xlsx", help="考核表工作簿 / scorecard workbooks")
    val.add_argument("--json", action="store_true", help="以 JSON 输出诊断 / print the diagnostics as JSON")
    val.set_defaults(run=cmd_validate)

    rep = sub.add_parser("report", help="月度报表：汇总、部门统计、校准、预警 / the monthly report",
                         description="重算全部考核表并写月度报表：月度汇总、部门统计、校准、未完成、问题 / "
                         "recompute every scorecard and write the monthly report: summary, department "
                         "statistics, calibration, incomplete cards, findings")
    rep.add_argument("inputs", nargs="+", metavar="BOOK.xlsx|DIR",
                     help="考核表工作簿或其文件夹 / scorecard workbooks or folders of them")
    rep.add_argument("--out", required=True, metavar="REPORT.xlsx", help="报表文件 / the report to write")
    rep.add_argument("--history", metavar="HISTORY.xlsx",
                     help="月度历史（连续预警用，会更新）/ month history for streak warnings (updated)")
    rep.add_argument("--month", metavar="YYYY-MM", help="报表月份（默认：考核表的月份）/ default: the scorecards' month")
    rep.add_argument("--force", action="store_true", help="覆盖已有报表 / overwrite an existing report")
    rep.add_argument("--company", metavar="NAME", default="",
                     help="打印页眉的公司名 / company name for the printed title block")
    rep.add_argument("--json", action="store_true", help="以 JSON 输出结果 / print the result as JSON")
    rep.add_argument("--reopen", action="store_true",
                     help="重跑已审批的月份（须 --reason）/ re-run an approved month (needs --reason)")
    rep.add_argument("--reason", metavar="TEXT", help="重开已审批月份的原因（写入审计）/ why an approved month "
                     "is reopened (audit)")
    rep.add_argument("--by", metavar="NAME", help="重开人（默认：登录名）/ who reopens (default: the login name)")
    _lock_option(rep)
    rep.set_defaults(run=cmd_report)

    pay = sub.add_parser("payroll", help="导出报表的金额列给财务 / export the money columns for finance",
                         description="按 templates/payroll.yaml 的列导出月度报表（CSV 带 BOM 或 xlsx）；有未完成、"
                         "错误或有问题的行时拒绝 / export a report in the columns of templates/payroll.yaml "
                         "(CSV with BOM, or xlsx); refuses a month with incomplete, wrong or flagged rows")
    pay.add_argument("report", metavar="REPORT.xlsx", help="月度报表 / the monthly report")
    pay.add_argument("--out", required=True, metavar="FILE.csv|FILE.xlsx", help="输出文件 / the file to write")
    pay.add_argument("--force", action="store_true", help="覆盖已有文件 / overwrite an existing file")
    pay.add_argument("--history", metavar="HISTORY.xlsx",
                     help="月度历史：显示每行的审批状态 / the month history: show each row's approval state")
    pay.add_argument("--allow-incomplete", action="store_true",
                     help="只导出无问题的行（列出每个排除的行）/ export the clean rows of an unclean month "
                          "(every excluded row is printed)")
    pay.add_argument("--unapproved", action="store_true",
                     help="按未审批（或与审批不符）的金额发放，逐行列出（须 --history）/ pay rows the history "
                          "does not show approved as they are, listing each (needs --history)")
    pay.add_argument("--require-approved", action="store_true",
                     help="拒绝历史中未审批的月份（须 --history）/ refuse a month the history does not show "
                          "approved (needs --history)")
    pay.add_argument("--company", metavar="NAME", default="",
                     help="打印页眉的公司名（.xlsx）/ company name for the printed title block (.xlsx)")
    pay.add_argument("--json", action="store_true", help="以 JSON 输出结果 / print the result as JSON")
    pay.set_defaults(run=cmd_payroll)

    # --- approve (审批) ---
    appr = sub.add_parser("approve", help="审批并锁定一个月的报表 / approve and lock a month's report",
                          description="在月度历史中记录审批：审批人、时间与每行的哈希；之后重跑该月须 --reopen "
                          "--reason / record the approval in the month history (who, when, a hash of every "
                          "row); a later re-run of the month needs --reopen --reason")
    appr.add_argument("report", metavar="REPORT.xlsx", help="月度报表 / the monthly report")
    appr.add_argument("--history", required=True, metavar="HISTORY.xlsx", help="月度历史 / the month history")
    appr.add_argument("--by", required=True, metavar="NAME", help="审批人 / who approves")
    appr.add_argument("--json", action="store_true", help="以 JSON 输出结果 / print the result as JSON")
    _lock_option(appr)
    appr.set_defaults(run=cmd_approve)

    # --- history (核对 / 签名) ---
    hist = sub.add_parser("history", help="核对月度历史的哈希链与审批 / verify the month history's hash chain",
                          description="核对历史文件的哈希链、封印与审批；--sign 为尚无哈希链的历史封存，或用本机密钥"
                          "为未签名的历史签名 / verify the history's hash chain, seal and approvals; --sign seals a "
                          "history without a chain, or signs a plain one with this machine's key")
    hist.add_argument("history", metavar="HISTORY.xlsx", help="月度历史 / the month history")
    hist.add_argument("--sign", action="store_true",
                      help="核对后封存或签名（写入审计）/ seal or sign it after checking (an audit row)")
    hist.add_argument("--by", metavar="NAME", help="签名人（默认登录名）/ who signs (default: the login name)")
    _lock_option(hist)
    hist.add_argument("--json", action="store_true", help="以 JSON 输出结果 / print the result as JSON")
    hist.set_defaults(run=cmd_history)

    # --- rollup (季度汇总 / 年度汇总) ---
    roll = sub.add_parser("rollup", help="季度或年度汇总（按月度历史）/ quarterly or annual roll-up of the history",
                          description="按月度历史汇总一个季度或一年：每人月数、平均分、最低分、等级次数、部门排名、"
                          "应发合计与年度评定 / a quarter or a year from the month history: months scored, "
                          "average, lowest, grade counts, rank in department, pay, the period's rating")
    roll.add_argument("--history", required=True, metavar="HISTORY.xlsx",
                      help="月度历史文件（report --history 写的）/ the month history (written by report --history)")
    period = roll.add_mutually_exclusive_group(required=True)
    period.add_argument("--quarter", metavar="YYYYQn", help="季度，如 2026Q4 / a quarter, e.g. 2026Q4")
    period.add_argument("--year", metavar="YYYY", help="年份，如 2026 / a year, e.g. 2026")
    roll.add_argument("--out", required=True, metavar="FILE.xlsx", help="输出工作簿 / the workbook to write")
    roll.add_argument("--company", metavar="NAME", default="",
                      help="打印页眉的公司名 / company name for the printed title block")
    roll.add_argument("--require-approved", action="store_true",
                      help="期间内有未审批（或重开后未再审批）的月份时拒绝 / refuse a period with a month that is "
                           "not approved (or reopened and not approved again)")
    roll.add_argument("--force", action="store_true", help="覆盖已有文件 / overwrite an existing file")
    roll.add_argument("--json", action="store_true", help="以 JSON 输出结果 / print the result as JSON")
    roll.set_defaults(run=cmd_rollup)

    # --- notices (绩效结果通知书 / 面谈表) ---
    note = sub.add_parser("notices", help="绩效结果通知书 / 面谈表：每人一页 / a result notice per employee",
                          description="按月度报表为每位已完成考核的员工写一页 A4 的绩效结果通知书（面谈表）：等级、"
                          "总分、绩效工资、各项得分及说明、近 6 个月总分、面谈记录与改进计划、签字栏；装有 LibreOffice "
                          "时同时写 PDF / one A4 page per employee of the report's month: grade, total, pay, "
                          "each item's points and how they came about, the last six months, boxes for the "
                          "talk, signature lines; a PDF too where LibreOffice is installed")
    note.add_argument("report", metavar="REPORT.xlsx", help="月度报表 / the monthly report")
    note.add_argument("--out", required=True, metavar="FILE.xlsx", help="输出工作簿 / the workbook to write")
    note.add_argument("--history", metavar="HISTORY.xlsx",
                      help="月度历史：近 6 个月趋势与审批状态 / the month history: the trend and the approval")
    note.add_argument("--books", nargs="+", metavar="BOOK.xlsx|DIR",
                      help="考核表工作簿（默认：报表记录的工作簿）/ scorecard books (default: those the report "
                           "records)")
    note.add_argument("--company", metavar="NAME", default="", help="通知书抬头的公司名 / company name on top")
    note.add_argument("--no-pdf", action="store_true", help="不写 PDF / no PDF")
    note.add_argument("--force", action="store_true", help="覆盖已有文件 / overwrite existing files")
    note.add_argument("--json", action="store_true", help="以 JSON 输出结果 / print the result as JSON")
    note.set_defaults(run=cmd_notices)

    demo = sub.add_parser("demo", help="用内置样例数据跑三个月 / run three months on built-in sample data",
                          description="用内置样例数据跑完整月度流程（三个月）/ the whole monthly job on "
                          "built-in sample data, three months running")
    demo.add_argument("--out", required=True, metavar="DIR", help="输出文件夹 / output folder")
    demo.add_argument("--force", action="store_true", help="覆盖非空文件夹 / overwrite a non-empty folder")
    demo.set_defaults(run=cmd_demo)

    from .excel.cli_commands import register as register_excel  # master, excel-setup

    register_excel(sub)
    _register_own(sub)  # entry-sheet, template export|new|import
    return parser


def cmd_report(args) -> int:
    from . import api

    result = api.report(args.inputs, args.out, history=args.history,
                        month=_month(args.month) if args.month else None, force=args.force,
                        reopen=args.reopen, reason=args.reason, by=args.by,
                        lock_timeout=args.lock_timeout, company=args.company,
                        templates=_catalog(args), progress=True)
    if args.json:
        _print_json(result.to_dict())
    else:
        _report(result.diagnostics)
        for note in result.notes:
            print(note, file=sys.stderr)
        print(result.summary_line())
    return EXIT_FINDINGS if has_errors(result.diagnostics) else EXIT_OK


def cmd_rollup(args) -> int:
    from . import api

    result = api.rollup(args.history, args.out, quarter=args.quarter, year=args.year, force=args.force,
                        company=args.company, require_approved=args.require_approved,
                        templates=_catalog(args))
    if args.json:
        _print_json(result.to_dict())
    else:
        _report(result.diagnostics)
        print(result.summary_line())
    return EXIT_FINDINGS if has_errors(result.diagnostics) else EXIT_OK


def cmd_history(args) -> int:
    from . import api

    result = api.check_history(args.history, sign=args.sign, by=args.by, lock_timeout=args.lock_timeout)
    if args.json:
        _print_json(result.to_dict())
    else:
        print(result.summary_line())
    return EXIT_OK


def cmd_payroll(args) -> int:
    from . import api

    result = api.payroll(args.report, args.out, history=args.history,
                         allow_incomplete=args.allow_incomplete,
                         require_approved=args.require_approved, force=args.force,
                         unapproved=args.unapproved, templates=args.templates, company=args.company)
    if args.json:
        _print_json(result.to_dict())
        return EXIT_OK if result.exported else EXIT_FINDINGS
    _report(result.diagnostics)
    if not result.exported:
        print("有不能发放的行（见上），未导出；--allow-incomplete 只导出金额已确定、无问题的行 / rows that "
              "cannot be paid (above): nothing exported; --allow-incomplete exports only the settled, clean "
              "rows", file=sys.stderr)
        print(result.summary_line())
        return EXIT_FINDINGS
    print(f"{args.out}\t{result.summary_line()}")
    return EXIT_OK


def cmd_approve(args) -> int:
    from . import api

    result = api.approve(args.report, args.history, by=args.by, lock_timeout=args.lock_timeout,
                         templates=args.templates)
    if args.json:
        _print_json(result.to_dict())
    else:
        _report(result.diagnostics)  # warnings of the 校准 sheet
        print(f"{args.history}\t{result.summary_line()}")
    return EXIT_OK


def cmd_notices(args) -> int:
    from . import api

    result = api.notices(args.report, args.out, history=args.history, books=args.books,
                         company=args.company, force=args.force, pdf=not args.no_pdf,
                         templates=_catalog(args), progress=True)
    if args.json:
        _print_json(result.to_dict())
    else:
        _report(result.diagnostics)
        for line in result.notes:
            print(line, file=sys.stderr)
        print(result.summary_line())
    return EXIT_FINDINGS if has_errors(result.diagnostics) else EXIT_OK


def _lock_option(parser) -> None:
    parser.add_argument("--lock-timeout", type=_seconds, metavar="SECONDS",
                        help="等待另一进程写完文件的秒数（默认 60，或 KPI_WORKBOOK_LOCK_TIMEOUT）/ how long "
                             "to wait for a file another run is writing (default 60, or "
                             "KPI_WORKBOOK_LOCK_TIMEOUT)")


def _seconds(text: str) -> float:
    from .limits import parse_seconds  # the same rule as KPI_WORKBOOK_LOCK_TIMEOUT's

    try:
        return parse_seconds(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"须为 0 或更大的有限秒数 / must be a finite number of seconds, "
                                         f"0 or more: '{text}'") from None


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(_catalog(args), Path(args.out), force=args.force)


def cmd_validate(args) -> int:
    from . import api

    result = api.validate(args.books, templates=_catalog(args))
    if args.json:
        _print_json(result.to_dict())
    else:
        _report(result.diagnostics)
        print(result.summary_line())
    # notes only (设置 differs from the template, an older template still known): clean
    return EXIT_FINDINGS if any(d.severity != "info" for d in result.diagnostics) else EXIT_OK


def cmd_fill(args) -> int:
    from . import api

    if args.roster and not args.profile:
        raise UsageError("--roster 只与 --profile 连用 / --roster goes with --profile")
    result = api.fill(args.books, args.inputs, templates=_catalog(args), lock_timeout=args.lock_timeout,
                      progress=True, profile=args.profile, roster=args.roster)
    if args.json:
        _print_json(result.to_dict())
    else:
        _report(result.diagnostics)
        print(f"已写入 {result.written} 个输入单元格 / wrote {result.written} input cells")
    # notes only (a column an export does not have): clean, as validate counts them
    return EXIT_FINDINGS if any(d.severity != "info" for d in result.diagnostics) else EXIT_OK


def _month(text: str) -> str:
    from .numbers import ParseError, parse_month

    try:
        return parse_month(text)
    except ParseError as exc:
        raise UsageError(f"{exc.zh} / {exc.en}") from None


def cmd_new(args) -> int:
    from . import api

    result = api.new(_month(args.month), roster=args.roster, out=args.out, split_by=args.split_by,
                     out_dir=args.out_dir, force=args.force, templates=_catalog(args), progress=True)
    if args.json:
        _print_json(result.to_dict())
    else:
        for line in result.lines():
            print(line)
    return EXIT_OK


def _catalog(args):
    from .api import load_templates

    return load_templates(args.templates)


def _print_json(data) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, allow_nan=False)  # valid JSON only
    sys.stdout.write("\n")


def cmd_roles(args) -> int:
    from . import api

    catalog = _catalog(args)
    if args.action == "show":
        if not args.role:
            raise UsageError("用法：kpi-workbook roles show ROLE / usage: kpi-workbook roles show ROLE")
        info = api.describe(args.role, templates=catalog)
        if args.json:
            _print_json(info)
        else:
            sys.stdout.write(api.describe_text(info))
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
    from . import api

    catalog = _catalog(args)
    source = "<stdin>" if args.input == "-" else args.input
    from .limits import check_path, read_bounded

    try:
        if args.input == "-":
            raw = _stdin_bytes()
        else:
            check_path(args.input, "输入文件", "input file")
            with open(args.input, "rb") as fh:
                raw = read_bounded(fh, source)
    except OSError as exc:
        raise UsageError(f"无法读取输入文件 {source}：{exc.strerror} / cannot read input file "
                         f"{source}: {exc.strerror}") from None
    text = _json_text(raw, source)
    from .limits import json_loads  # its size and nesting bounded first (the table of limits)

    try:
        card = json_loads(text, source, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source} 第 {exc.lineno} 行不是有效的 JSON：{exc.msg} / {source} line "
                         f"{exc.lineno} is not valid JSON: {exc.msg}") from None
    _print_json(api.score(args.role, card, templates=catalog, source=source).to_dict())
    return EXIT_OK


def _stdin_bytes() -> bytes:
    from .limits import read_bounded

    stream = getattr(sys.stdin, "buffer", None)  # a text stream without bytes (tests, IDEs)
    if stream is not None:
        return read_bounded(stream, "<stdin>")
    return sys.stdin.read().encode("utf-8")  # held already: json_loads checks its size


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
    from .api import lint

    diags = lint(args.dir or args.templates)
    if args.json:
        _print_json([d.to_dict() for d in diags])
    else:
        for d in diags:
            print(d, file=sys.stderr)
        errors = sum(d.severity == "error" for d in diags)
        warnings = sum(d.severity == "warning" for d in diags)
        print(f"{errors} 个错误，{warnings} 个警告 / {errors} errors, {warnings} warnings")
    return EXIT_FINDINGS if has_errors(diags) else EXIT_OK


def _report(diags: list[Diagnostic]) -> None:
    for d in diags:
        print(d, file=sys.stderr)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush does not fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests):
        return  # nothing will flush to a real descriptor, so nothing to redirect


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


def _name_too_long(exc: OSError) -> int:
    """A path the system cannot hold, wherever it was met (an input, a folder, a lock): one
    sentence, exit 2 (outputs and workbooks are checked before this, by limits.check_path)."""
    shown = str(exc.filename or "")
    shown = shown if len(shown) <= 80 else shown[:40] + "…" + shown[-30:]
    print(f"{shown}: error: 文件名或路径过长，系统无法使用：请缩短文件名或换一个较浅的文件夹 / the file name or "
          "path is too long for the system: shorten the name or use a shallower folder [name-too-long]",
          file=sys.stderr)
    return EXIT_USAGE


def _check_environment() -> None:
    """Every KPI_WORKBOOK_* variable parsed like its option, before the command does any
    work: a bad one is one sentence, exit 2 (the table of limits, limits.py)."""
    from .limits import check_environment

    check_environment()


def _interrupted() -> int:
    """Ctrl-C: one line, exit 130. What was being written is gone with its temporary file
    (files.atomic_output); what was there before is untouched."""
    try:
        print("已中断 / interrupted", file=sys.stderr)
    except (OSError, ValueError):  # stderr gone too
        pass
    return EXIT_INTERRUPTED


@contextmanager
def _our_sentences_first(debug: bool):
    """Warnings of the libraries (numpy's RuntimeWarning, XlsxWriter's, openpyxl's) never
    reach the user before our sentences: what they warn of is a finding or refused up front;
    with --debug they are shown, marked as debug output."""
    import warnings

    def show(message, category, filename, lineno, file=None, line=None):
        if debug:
            print(f"debug: {category.__name__}: {message} ({filename}:{lineno})", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("default")  # each warning once, through show()
        warnings.showwarning = show
        yield


@contextmanager
def _ctrl_c_ends_cleanly():
    """While a command runs, Ctrl-C ends it at once and in order, whatever it was doing (a
    KeyboardInterrupt raised inside a fork or a finaliser is only "ignored", with a
    traceback, and the work goes on): the temporary files of the outputs being written are
    removed, one line is printed, exit 130. Worker processes forked meanwhile end silently.
    Only where signals can be handled (the main thread); the old handler is put back after."""
    import os
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    me = os.getpid()

    def stop(signum, frame):
        if os.getpid() == me:  # not a worker process that inherited the handler
            processes = sys.modules.get("multiprocessing")  # workers forked after the Ctrl-C
            for child in processes.active_children() if processes is not None else ():
                child.kill()
            api = sys.modules.get("kpi_workbook.api")  # loaded when anything is being written
            if api is not None:
                api.remove_unfinished()
            _interrupted()
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
        os._exit(EXIT_INTERRUPTED)

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# ---------------------------------------------------------------------------------------
# A company's own scorecards and data: the entry grid and template workbooks.


def _register_own(sub) -> None:
    grid = sub.add_parser("entry-sheet", help="本月录入表：每个岗位一张表，每人一行 / the month's entry grid",
                          description="为考核表工作簿写一张录入表：每个岗位一张表，每人一行、每个输入项一列（表头为"
                          "考核项目/输入项，下拉框与考核表相同，已填数据带出）；填好后用 fill BOOK --inputs 录入表.xlsx "
                          "导入 / write the month's entry grid of scorecard workbooks: one sheet per role, one row "
                          "per employee, one column per input headed as on the card; read it back with fill")
    grid.add_argument("books", nargs="+", metavar="BOOK.xlsx", help="考核表工作簿 / scorecard workbooks")
    grid.add_argument("--out", required=True, metavar="录入表.xlsx", help="录入表文件 / the grid to write")
    grid.add_argument("--force", action="store_true", help="覆盖已有文件 / overwrite an existing file")
    grid.add_argument("--json", action="store_true", help="以 JSON 输出结果 / print the result as JSON")
    grid.set_defaults(run=cmd_entry_sheet)

    tpl = sub.add_parser("template", help="自己的考核表：导出、新建、导入模板工作簿 / your own scorecard as a workbook",
                         description="template export ROLE --out F.xlsx 把岗位写成可编辑的工作簿；template new --out "
                         "F.xlsx 写一个带示例的空白模板；template import F.xlsx --out DIR 检查后写入模板目录 / "
                         "export a role as a workbook HR edits, write a blank one with an example, or import one "
                         "into a templates folder")
    actions = tpl.add_subparsers(dest="action", parser_class=_Parser, metavar="ACTION", title="操作 / actions")
    export = actions.add_parser("export", help="把岗位写成模板工作簿 / a role as a template workbook",
                                description="把岗位（及其等级方案、薪酬规则）写成可编辑的工作簿 / write a role, "
                                "its grade schemes and pay rules as an editable workbook")
    export.add_argument("role", help="岗位 id 或名称 / role id or name")
    export.add_argument("--out", required=True, metavar="F.xlsx", help="工作簿 / the workbook to write")
    export.add_argument("--force", action="store_true", help="覆盖已有文件 / overwrite an existing file")
    export.add_argument("--json", action="store_true", help="以 JSON 输出结果 / print the result as JSON")
    export.set_defaults(run=cmd_template_export)
    blank = actions.add_parser("new", help="带示例的空白模板 / a blank template with a worked example",
                               description="写一个带简短示例（仓库管理员）的模板工作簿 / write a template workbook "
                               "with a short worked example (a 仓库管理员 form)")
    blank.add_argument("--out", required=True, metavar="F.xlsx", help="工作簿 / the workbook to write")
    blank.add_argument("--force", action="store_true", help="覆盖已有文件 / overwrite an existing file")
    blank.add_argument("--json", action="store_true", help="以 JSON 输出结果 / print the result as JSON")
    blank.set_defaults(run=cmd_template_new)
    imp = actions.add_parser("import", help="检查模板工作簿并写入模板目录 / check a template workbook, write it "
                             "into a templates folder", description="检查模板工作簿（每个问题指出表名和单元格），"
                             "写 DIR/roles/<id>.yaml 及其等级方案、薪酬规则 / check a template workbook (every "
                             "problem names its sheet and cell) and write DIR/roles/<id>.yaml with its grade "
                             "schemes and pay rules")
    imp.add_argument("workbook", metavar="F.xlsx", help="模板工作簿 / the template workbook")
    imp.add_argument("--out", required=True, metavar="DIR", help="模板目录 / the templates folder")
    imp.add_argument("--force", action="store_true", help="替换同名的岗位、等级方案或薪酬规则 / replace a role, "
                     "scheme or rule of the same id")
    imp.add_argument("--with-builtin", action="store_true", help="目录中还没有岗位时先放入内置模板 / first put the "
                     "built-in templates into a folder that has no roles yet")
    imp.add_argument("--json", action="store_true", help="以 JSON 输出结果 / print the result as JSON")
    imp.set_defaults(run=cmd_template_import)
    tpl.set_defaults(run=_template_usage)


def _template_usage(args) -> int:
    raise UsageError("用法：kpi-workbook template export|new|import … / usage: kpi-workbook template "
                     "export|new|import … (see --help)")


def cmd_template_export(args) -> int:
    from . import api

    result = api.template_export(args.role, args.out, force=args.force, templates=_catalog(args))
    if args.json:
        _print_json(result.to_dict())
    else:
        print(f"{result.path}\t{result.role}")
    return EXIT_OK


def cmd_template_new(args) -> int:
    from . import api

    result = api.template_new(args.out, force=args.force)
    if args.json:
        _print_json(result.to_dict())
    else:
        print(f"{result.path}\t示例 / example: {result.role}")
    return EXIT_OK


def cmd_template_import(args) -> int:
    from . import api

    result = api.template_import(args.workbook, args.out, force=args.force, with_builtin=args.with_builtin,
                                 templates=_catalog(args))
    if args.json:
        _print_json(result.to_dict())
    else:
        _report(result.diagnostics)
        print(f"{result.path}\t{result.role}")
    return EXIT_OK


def cmd_entry_sheet(args) -> int:
    from . import api

    result = api.entry_sheet(args.books, args.out, force=args.force, templates=_catalog(args))
    if args.json:
        _print_json(result.to_dict())
    else:
        _report(result.diagnostics)
        print(result.summary_line())
    return EXIT_FINDINGS if has_errors(result.diagnostics) else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    try:
        with _ctrl_c_ends_cleanly(), _our_sentences_first(debug):
            return _main(argv, debug)
    except KeyboardInterrupt:  # Ctrl-C before the handler was in place
        return _interrupted()


def _main(argv: list[str], debug: bool) -> int:
    try:
        args = build_parser().parse_args(argv)
        if not getattr(args, "run", None):
            build_parser().print_help(sys.stderr)
            return EXIT_USAGE
        _check_environment()
        return args.run(args)
    except KeyboardInterrupt:
        return _interrupted()
    except BrokenPipeError:  # `kpi-workbook roles | head -1`: the reader has gone, end quietly
        _silence_stdout()
        return EXIT_OK
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except Refused as exc:  # the data says no: findings, exit 1
        _report(exc.diagnostics)
        return EXIT_FINDINGS
    except KpiError as exc:
        _report(exc.diagnostics)
        return EXIT_USAGE
    except OSError as exc:
        if exc.errno != errno.ENAMETOOLONG or debug:
            raise
        return _name_too_long(exc)
    except Exception as exc:  # an unexpected failure: one sentence unless --debug
        if debug:
            raise
        print(f"内部错误：{type(exc).__name__}: {exc}（加 --debug 查看详情） / internal error: "
              f"{type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
