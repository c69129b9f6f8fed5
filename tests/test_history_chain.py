"""Issue 20, a tamper-evident history: every command that reads the history verifies its hash
chain, its seal and its approvals, and refuses on the first break naming the sheet and the
row; with a signing key, a history forged without the key is refused too.

The forger here is written from the README's description of the form (plain SHA-256), not
from the package's code: an independent path that also proves the documentation right.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import shutil

import openpyxl
import pandas as pd
import pytest

from .helpers import emp, run
from .test_report import make_book, month_sheets, qc, sheet_rows

MONTH = "2026-10"
CHAINED = ("历史", "审批", "审批版本", "审计", "计算记录")
MONTH = "2026-10"  # the month of the fixture: a history keeps 历史 and 审批版本 one sheet per month


def text(value) -> str:
    """A cell as the README says the chain hashes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return "" if math.isnan(value) else format(float(value), ".15g")
    return str(value)


def digest(data: str, key: bytes | None = None) -> str:
    raw = data.encode("utf-8")
    return hmac.new(key, raw, hashlib.sha256).hexdigest() if key else hashlib.sha256(raw).hexdigest()


def forge(path, key: bytes | None = None, edit=None) -> None:
    """Apply ``edit(workbook)`` and recompute every 链哈希 and the seal as the README documents
    them: what someone who can write the file (and has read the README) can do."""
    wb = openpyxl.load_workbook(path)
    if edit is not None:
        edit(wb)
    tails = []
    listed = [r[0] for r in wb["校验"].iter_rows(min_row=2, values_only=True)]
    for name in listed[:listed.index("签名方式")]:  # the sheets the seal lists, in its order
        if name not in wb.sheetnames:
            tails.append([name, 0, ""])
            continue
        ws = wb[name]
        header = [c.value for c in ws[1]]
        chain_col = header.index("链哈希")
        previous = digest(f"kpi-workbook 历史 1\n{name}", key)
        n = 0
        for row in ws.iter_rows(min_row=2):
            if all(c.value is None for c in row):
                continue
            values = [text(c.value) for c in row[:chain_col]]
            previous = digest(previous + "\n" + json.dumps(values, ensure_ascii=False, separators=(",", ":")), key)
            row[chain_col].value = previous
            n += 1
        tails.append([name, n, previous if n else ""])
    mode = ["签名方式", "HMAC-SHA256", hmac.new(key, b"kpi-workbook key id", hashlib.sha256).hexdigest()[:16]] \
        if key else ["签名方式", "SHA-256", ""]
    body = tails + [mode]
    seal = digest(json.dumps([[text(v) for v in r] for r in body], ensure_ascii=False, separators=(",", ":")), key)
    ws = wb["校验"]
    for r, row in enumerate(body + [["封印", "", seal]], start=2):
        for c, value in enumerate(row, start=1):
            ws.cell(r, c, value if value != "" else None)
    wb.save(path)


def cell_of(wb, sheet: str, eid: str, column: str):
    """The cell of ``column`` in ``eid``'s row of ``sheet`` (of its month's sheet, 历史 2026-10)."""
    for name in month_sheets(wb, sheet):
        ws = wb[name]
        header = [c.value for c in ws[1]]
        row = next((r for r in ws.iter_rows(min_row=2) if r[header.index("工号")].value == eid), None)
        if row is not None:
            return row[header.index(column)]
    raise KeyError(eid)


@pytest.fixture
def approved(tmp_path, catalog, capsys):
    """品质部: Q1 102 → A ¥400, Q2 45 → E ¥0; the month reported and approved."""
    roster = pd.DataFrame([emp("Q1", "秦一", "品质部", "qc_inspector"), emp("Q2", "秦二", "品质部", "qc_inspector")])
    book = make_book(catalog, tmp_path / "qc.xlsx", roster, qc("Q1", False) + qc("Q2", True))
    report, hist = tmp_path / "r.xlsx", tmp_path / "h.xlsx"
    assert run(capsys, "report", book, "--out", report, "--history", hist)[0] == 0
    assert run(capsys, "approve", report, "--history", hist, "--by", "王经理")[0] == 0
    return book, report, hist


def every_reader(capsys, tmp_path, book, report, hist) -> list[tuple[int, str]]:
    """(exit code, stderr) of every command that reads the history."""
    out = []
    for argv in (("payroll", report, "--out", tmp_path / "p.csv", "--history", hist),
                 ("approve", report, "--history", hist, "--by", "王经理"),
                 ("rollup", "--history", hist, "--quarter", "2026Q4", "--out", tmp_path / "q.xlsx"),
                 ("report", book, "--out", tmp_path / "r2.xlsx", "--history", hist, "--reopen",
                  "--reason", "试"),
                 ("history", hist)):
        code, _, err = run(capsys, *argv)
        out.append((code, err))
    assert not (tmp_path / "p.csv").exists() and not (tmp_path / "q.xlsx").exists()
    return out


def test_the_history_verifies_and_is_sealed(approved, capsys):
    _, _, hist = approved
    wb = openpyxl.load_workbook(hist)
    chained = [f"历史 {MONTH}", "审批", f"审批版本 {MONTH}"]
    assert set(chained) <= set(wb.sheetnames) and "校验" in wb.sheetnames
    assert all([c.value for c in wb[s][1]][-1] == "链哈希" for s in chained)
    code, stdout, _ = run(capsys, "history", hist)
    assert code == 0 and "核对无误" in stdout and "已审批 1 个月" in stdout and "SHA-256" in stdout
    forge(hist)  # the documented form reproduces the file's hashes exactly: nothing changes
    assert run(capsys, "history", hist)[0] == 0


def test_an_approved_amount_edited_in_the_history_is_refused_by_every_reader(tmp_path, approved, capsys):
    """Why: an approved amount edited by hand in 历史 was reported by rollup, no finding."""
    book, report, hist = approved
    wb = openpyxl.load_workbook(hist)
    cell = cell_of(wb, "历史", "Q2", "应发绩效合计")
    cell.value = 9485
    row = cell.row
    wb.save(hist)
    before = hist.read_bytes()
    for code, err in every_reader(capsys, tmp_path, book, report, hist):
        assert code == 1 and f"历史 {MONTH}第 {row} 行在审批后被改动" in err and f"row {row} of 历史 {MONTH} changed after approval" in err
    assert hist.read_bytes() == before  # nobody wrote over it


def test_an_approved_version_edited_is_refused(tmp_path, approved, capsys):
    """Why: an approved amount edited in 审批版本 went unnoticed."""
    book, report, hist = approved
    wb = openpyxl.load_workbook(hist)
    cell = cell_of(wb, "审批版本", "Q2", "应发绩效合计")
    cell.value = 9485
    wb.save(hist)
    for code, err in every_reader(capsys, tmp_path, book, report, hist):
        assert code == 1 and f"审批版本 {MONTH}第 {cell.row} 行" in err and "history-tampered" in err


def test_deleted_audit_rows_and_sheets_are_refused(tmp_path, approved, capsys):
    """Why: every 审计 row deleted, and payroll, rollup and approve ran clean."""
    book, report, hist = approved
    calibrated = tmp_path / "c.xlsx"
    shutil.copy(report, calibrated)
    # a calibrated month has 审计 rows: reopen and approve Q1 as B
    assert run(capsys, "report", book, "--out", report, "--history", hist, "--reopen", "--reason", "复核",
               "--force")[0] == 0
    from .test_calibrate import calibrate

    calibrate(report, report, {"Q1": ("B", "复核后校准")})
    assert run(capsys, "approve", report, "--history", hist, "--by", "王经理")[0] == 0
    assert len(sheet_rows(hist, "审计")) >= 3
    pristine = hist.read_bytes()

    wb = openpyxl.load_workbook(hist)
    ws = wb["审计"]
    ws.delete_rows(2, ws.max_row)  # every audit row
    wb.save(hist)
    for code, err in every_reader(capsys, tmp_path, book, report, hist):
        assert code == 1 and "审计" in err and "deleted" in err
    hist.write_bytes(pristine)
    wb = openpyxl.load_workbook(hist)
    del wb["审计"]  # the whole sheet
    wb.save(hist)
    code, _, err = run(capsys, "history", hist)
    assert code == 1 and "审计" in err and "deleted" in err
    hist.write_bytes(pristine)
    wb = openpyxl.load_workbook(hist)
    del wb["校验"]  # the seal
    wb.save(hist)
    code, _, err = run(capsys, "history", hist)
    assert code == 1 and "校验" in err
    hist.write_bytes(pristine)
    wb = openpyxl.load_workbook(hist)
    wb["审计"].delete_rows(3)  # one row in the middle: the chain breaks at the row after it
    wb.save(hist)
    code, _, err = run(capsys, "history", hist)
    assert code == 1 and "审计第 3 行" in err


def test_a_row_hash_recomputed_by_hand_is_caught_by_the_month_hash(tmp_path, approved, capsys):
    """Why: a 行哈希 recomputed by hand (plain SHA-256 of a documented form) paid 9,485.00 as
    已审批 though the month hash in 审批 no longer matched."""
    book, report, hist = approved

    def raise_q1(wb):
        for sheet in ("历史", "审批版本"):
            cell_of(wb, sheet, "Q1", "应发绩效合计").value = 9485
        cell_of(wb, "审批版本", "Q1", "金额明细").value = json.dumps({"等级奖金": "9485.00"}, ensure_ascii=False)
        v = cell_of(wb, "审批版本", "Q1", "行哈希")
        canonical = {"工号": "Q1", "月份": MONTH, "金额": {"等级奖金": "9485.00"}, "姓名": "秦一", "部门": "品质部",
                     "总分": "102.0", "等级": "A", "状态": "已完成", "应发绩效合计": "9485.00"}
        v.value = hashlib.sha256(json.dumps(canonical, ensure_ascii=False, sort_keys=True).encode()).hexdigest()

    forge(hist, edit=raise_q1)  # even with the chain and the seal recomputed
    for code, err in every_reader(capsys, tmp_path, book, report, hist):
        assert code == 1 and "审批第 2 行" in err and "month hash" in err


def test_with_a_key_a_forger_without_it_is_refused(tmp_path, catalog, capsys, monkeypatch):
    key = "a-long-secret-kept-by-hr-only-0123"
    monkeypatch.setenv("KPI_WORKBOOK_SIGNING_KEY", key)
    roster = pd.DataFrame([emp("Q1", "秦一", "品质部", "qc_inspector"), emp("Q2", "秦二", "品质部", "qc_inspector")])
    book = make_book(catalog, tmp_path / "qc.xlsx", roster, qc("Q1", False) + qc("Q2", True))
    report, hist = tmp_path / "r.xlsx", tmp_path / "h.xlsx"
    assert run(capsys, "report", book, "--out", report, "--history", hist)[0] == 0
    assert run(capsys, "approve", report, "--history", hist, "--by", "王经理")[0] == 0
    code, stdout, _ = run(capsys, "history", hist)
    assert code == 0 and "HMAC-SHA256" in stdout
    pristine = hist.read_bytes()
    forge(hist, key=key.encode())  # with the key, the documented HMAC form is the file's
    assert hist.read_bytes() != pristine and run(capsys, "history", hist)[0] == 0

    def drop_q2(wb):  # approve a month without Q2's E: a forger who knows the form, not the key
        cell_of(wb, "历史", "Q2", "状态").value = "未完成"

    hist.write_bytes(pristine)
    forge(hist, key=None, edit=drop_q2)  # plain SHA-256 everywhere, seal says SHA-256
    code, _, err = run(capsys, "payroll", report, "--out", tmp_path / "p.csv", "--history", hist)
    assert code == 1 and "未用密钥签名" in err and not (tmp_path / "p.csv").exists()
    hist.write_bytes(pristine)
    forge(hist, key=b"a-guessed-key-that-is-not-hrs-0000", edit=drop_q2)
    code, _, err = run(capsys, "rollup", "--history", hist, "--quarter", "2026Q4", "--out", tmp_path / "q.xlsx")
    assert code == 1 and "另一把密钥" in err
    hist.write_bytes(pristine)
    monkeypatch.delenv("KPI_WORKBOOK_SIGNING_KEY")  # a machine without the key cannot check it
    code, _, err = run(capsys, "history", hist)
    assert code == 1 and "KPI_WORKBOOK_SIGNING_KEY" in err


def test_a_key_file_in_the_shared_folder_is_refused_and_one_outside_signs(tmp_path, approved, capsys,
                                                                          monkeypatch):
    _, _, hist = approved
    inside = hist.parent / "signing.key"
    inside.write_text("a-long-secret-kept-by-hr-only-0123", encoding="utf-8")
    monkeypatch.setenv("KPI_WORKBOOK_SIGNING_KEY_FILE", str(inside))
    code, _, err = run(capsys, "history", hist)
    assert code == 2 and "key-in-shared-folder" in err
    outside = tmp_path.parent / f"{tmp_path.name}-keys" / "signing.key"
    outside.parent.mkdir()
    shutil.move(inside, outside)
    monkeypatch.setenv("KPI_WORKBOOK_SIGNING_KEY_FILE", str(outside))
    code, _, err = run(capsys, "history", hist)  # signed without a key so far: sign it first
    assert code == 1 and "--sign" in err
    code, stdout, err = run(capsys, "history", hist, "--sign", "--by", "王经理")
    assert code == 0 and "HMAC-SHA256" in stdout and "SHA-256 →" in stdout, err
    audit = sheet_rows(hist, "审计")
    assert audit[-1]["字段"] == "（签名）" and audit[-1]["操作人"] == "王经理"
    assert run(capsys, "history", hist)[0] == 0
    shutil.rmtree(outside.parent)


def test_an_unsealed_history_with_approvals_is_refused_until_sealed(tmp_path, approved, capsys):
    _, _, hist = approved
    wb = openpyxl.load_workbook(hist)  # the chain stripped: what an older kpi-workbook wrote
    for name in wb.sheetnames:
        if name.split(" ")[0] in CHAINED:
            ws = wb[name]
            ws.delete_cols([c.value for c in ws[1]].index("链哈希") + 1)
    del wb["校验"]
    wb.save(hist)
    code, _, err = run(capsys, "history", hist)
    assert code == 1 and "没有哈希链" in err and "--sign" in err
    code, stdout, err = run(capsys, "history", hist, "--sign")
    assert code == 0 and "无哈希链" in stdout, err
    assert run(capsys, "history", hist)[0] == 0
