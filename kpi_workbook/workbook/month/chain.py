"""The history's hash chain: what makes an approved month tamper-evident.

Every row of the history's sheets 历史, 审批, 审批版本 and 审计 carries, in its last column
链哈希, a hash of the row's content and of the previous row's 链哈希 (the first row of a
sheet: of a fixed start text naming the sheet). Appending rows needs the last hash only;
no earlier row is read again or rewritten. The sheet 校验 seals the chains: each
sheet's row count and last hash, how the hashes were made, and a hash of all of that, so
that deleting rows at the end of a sheet, or a whole sheet, is seen too.

The form is documented (README "安全与限制"): without a key each hash is a plain SHA-256 of

    previous 链哈希 + "\\n" + the row's cells as a JSON list of texts

(numbers as 15 significant digits, TRUE/FALSE, an empty cell as ""), and the chain's start
is the SHA-256 of ``kpi-workbook 历史 1\\n<sheet>``. Anyone who can write the file and reads
this can compute new hashes for an edited row and every row after it: without a key the
chain catches edits by hand, deleted rows and sheets, and a row or month hash recomputed
alone — not a forger who recomputes the whole chain. With a key (``KPI_WORKBOOK_SIGNING_KEY``,
or a key file outside the history's folder) every hash is an HMAC-SHA256 under it, and
without the key no valid chain can be made.

Under the seal, 数据摘要 rows give per sheet written the SHA-256 of its ``<sheetData>`` as
stored, and 摘要封印 signs them with the seal: a sheet still byte for byte as written is not
hashed row by row again (its count and last hash are checked); any other is. A month's sheet
(history.py: 历史 2026-10, 审批版本 2026-10) also has a 压缩摘要 row: the SHA-256 of its zip
member's compressed bytes, signed alike. A month sheet whose member is still those bytes is
the one sealed, row for row, without being inflated or read; the next write copies it as it is.

Every read verifies the chain (:func:`verify`; ``full``: every row); the first break refuses
the command, naming the sheet and the row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from ...diagnostics import KpiError, Refused, error

CHAIN = "链哈希"  # the last column of every chained sheet
SEAL = "校验"  # the sheet that seals the chains
SEAL_HEAD = ["工作表", "行数", "末行链哈希"]
MODE_ROW, SEAL_ROW = "签名方式", "封印"
DATA_ROW, DATA_SEAL = "数据摘要", "摘要封印"  # after 封印: each sheet's rows as stored, signed
RAW_ROW = "压缩摘要"  # a month sheet's zip member as stored (its compressed bytes), signed alike
KEY_ENV = "KPI_WORKBOOK_SIGNING_KEY"
KEY_FILE_ENV = "KPI_WORKBOOK_SIGNING_KEY_FILE"
PLAIN, KEYED = "SHA-256", "HMAC-SHA256"
START = "kpi-workbook 历史 1"
MIN_KEY = 16  # bytes


@dataclass(frozen=True)
class Signer:
    """How hashes are made: plain SHA-256, or HMAC-SHA256 under a key."""
    key: bytes | None = None

    @property
    def mode(self) -> str:
        return KEYED if self.key else PLAIN

    @property
    def key_id(self) -> str:
        """A fingerprint of the key (which it does not reveal): says which key signed."""
        if not self.key:
            return ""
        return hmac.new(self.key, b"kpi-workbook key id", hashlib.sha256).hexdigest()[:16]

    def digest(self, text: str) -> str:
        data = text.encode("utf-8")
        if self.key:
            return hmac.new(self.key, data, hashlib.sha256).hexdigest()
        return hashlib.sha256(data).hexdigest()


def key_file_default() -> Path:
    """Where a key file is looked for when no variable names one: the user's config folder."""
    try:
        from platformdirs import user_config_dir
    except ImportError:
        base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return Path(base) / "kpi-workbook" / "signing.key"
    return Path(user_config_dir("kpi-workbook", appauthor=False)) / "signing.key"


def signer_for(history: Path | None = None) -> Signer:
    """The signer of this machine: ``KPI_WORKBOOK_SIGNING_KEY`` (the key itself), else the key
    file ``KPI_WORKBOOK_SIGNING_KEY_FILE`` names, else ``signing.key`` in the user's config
    folder when it exists, else no key. A key file inside the history's folder is refused:
    whoever can write the shared folder could read it."""
    text = os.environ.get(KEY_ENV)
    if text is not None and text.strip():
        key = text.strip().encode("utf-8")
        where = KEY_ENV
    else:
        named = os.environ.get(KEY_FILE_ENV, "").strip()
        path = Path(named).expanduser() if named else key_file_default()
        if not named and not path.is_file():
            return Signer()
        if history is not None and _inside(path, Path(history).parent):
            raise KpiError([error("key-in-shared-folder",
                                  f"签名密钥文件 {path} 在历史文件所在的文件夹中：能改历史的人也能读到它，请移到别处",
                                  f"the signing key file {path} is in the history's folder: whoever can "
                                  "change the history can read it; move it elsewhere", source=str(path))])
        try:
            key = path.read_bytes().strip()
        except OSError as exc:
            raise KpiError([error("key-unreadable", f"无法读取签名密钥文件 {path}：{exc.strerror or exc}",
                                  f"cannot read the signing key file {path}: {exc.strerror or exc}",
                                  source=str(path))]) from None
        where = str(path)
    if len(key) < MIN_KEY:
        raise KpiError([error("key-too-short", f"签名密钥（{where}）太短：至少 {MIN_KEY} 个字符",
                              f"the signing key ({where}) is too short: at least {MIN_KEY} characters")])
    return Signer(key)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def cell_text(value) -> str:
    """A cell's value as the chain hashes it: the same for what is written and what is read."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)) or type(value).__module__ == "numpy":
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        if math.isnan(number):
            return ""
        if number == 0:
            number = 0.0  # -0 is 0
        return format(number, ".15g")
    return str(value)


def start(signer: Signer, sheet: str) -> str:
    return signer.digest(f"{START}\n{sheet}")


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # json.dumps's, made once


def link(signer: Signer, previous: str, values: list) -> str:
    """The 链哈希 of a row of ``values`` after a row whose 链哈希 is ``previous``."""
    texts = [cell_text(v) for v in values]
    return signer.digest(previous + "\n" + _COMPACT.encode(texts))


def hashes(signer: Signer, sheet: str, rows: list[list]) -> list[str]:
    """The 链哈希 of every row of ``sheet``, in order."""
    out, previous = [], start(signer, sheet)
    for values in rows:
        previous = link(signer, previous, values)
        out.append(previous)
    return out


def seal_rows(signer: Signer, tails: dict[str, tuple[int, str]],
              digests: dict[str, str] | None = None, raws: dict[str, str] | None = None) -> list[list]:
    """The 校验 sheet's rows: per sheet its row count and last hash, the mode, the seal; then
    per sheet written the digest of its rows as stored (DATA_ROW) and their signature
    (DATA_SEAL: bound to the seal, so a seal made again without them voids them)."""
    body: list[list] = [[sheet, n, tail] for sheet, (n, tail) in tails.items()]  # tail "" if no rows
    body.append([MODE_ROW, signer.mode, signer.key_id])
    seal = signer.digest(json.dumps([[cell_text(v) for v in r] for r in body], ensure_ascii=False,
                                    separators=(",", ":")))
    rows = [SEAL_HEAD, *body, [SEAL_ROW, "", seal]]
    if digests:
        listed = [[DATA_ROW, sheet, digest] for sheet, digest in digests.items()]
        listed += [[RAW_ROW, sheet, digest] for sheet, digest in (raws or {}).items()]
        rows += [*listed, [DATA_SEAL, "", data_seal(signer, seal, listed)]]
    return rows


def data_digest(part: bytes) -> str:
    """SHA-256 of a sheet part's ``<sheetData>`` element, as stored (b"" when it has none)."""
    start = part.find(b"<sheetData")
    end = part.rfind(b"</sheetData>")
    data = part[start:end + len(b"</sheetData>")] if start >= 0 and end > start else (
        part[start:part.find(b">", start) + 1] if start >= 0 else b"")
    return hashlib.sha256(data).hexdigest()


def signed_digests(signer: Signer, seal: list[list], kind: str = DATA_ROW) -> dict[str, str]:
    """Sheet → its data digest (``kind`` RAW_ROW: its member's compressed bytes' digest), from
    the 校验 rows, when 摘要封印 signs them with 封印 (else {})."""
    seal_hash, signed, listed = "", "", []
    for r in seal[1:]:
        cells = [cell_text(v) for v in list(r) + [None] * 3][:3]
        if cells[0] == SEAL_ROW:
            seal_hash = cells[2]
        elif cells[0] in (DATA_ROW, RAW_ROW):
            listed.append(cells)
        elif cells[0] == DATA_SEAL:
            signed = cells[2]
    if listed and signed and hmac.compare_digest(data_seal(signer, seal_hash, listed), signed):
        return {c[1]: c[2] for c in listed if c[0] == kind}
    return {}


def sealed_counts(seal: list[list]) -> dict[str, tuple[str, str]]:
    """Sheet → (row count, last 链哈希) as the 校验 rows list them (not checked here: verify)."""
    out = {}
    for r in seal[1:]:
        cells = [cell_text(v) for v in list(r) + [None] * 3][:3]
        if cells[0] and cells[0] not in (MODE_ROW, SEAL_ROW, DATA_ROW, RAW_ROW, DATA_SEAL):
            out[cells[0]] = (cells[1], cells[2])
    return out


def data_seal(signer: Signer, seal: str, listed: list[list]) -> str:
    """The signature of the data digests: the seal, then the DATA_ROW rows, as a JSON list."""
    return signer.digest(json.dumps([seal, [[cell_text(v) for v in r] for r in listed]], ensure_ascii=False,
                                    separators=(",", ":")))


@dataclass
class Sheet:
    """One chained sheet as read: its rows' values (in the sheet's columns) and 链哈希."""
    name: str
    rows: list[list]
    stored: list[str]
    missing: bool = False  # the book has no sheet of that name
    optional: bool = False  # a sheet an older history lacks: in the seal only once it has rows
    written: str = ""  # data_digest of the sheet's <sheetData> as stored ("" when unknown)
    unread: bool = False  # a month sheet whose zip member is byte for byte as sealed: not read


def broken(path: Path, zh: str, en: str, sheet: str = SEAL, row: int | None = None) -> Refused:
    return Refused([error("history-tampered", zh, en, source=str(path), sheet=sheet,
                          cell=f"A{row}" if row else "")])


def verify(path: Path, signer: Signer, sheets: list[Sheet], seal: list[list] | None,
           approved_months: set[str], month_of=None, full: bool = True) -> tuple[str, str, set[str]]:
    """Refuse at the first break: a row whose 链哈希 is not the hash of its content after the
    row above, a sheet shorter or longer than sealed, a seal that does not match, hashes
    made another way (with another key, without the one this machine has). Returns how the
    history was signed: (mode, key fingerprint), and the sheets found as they were sealed.

    Unless ``full``, a sheet whose ``<sheetData>`` is byte for byte the one the seal's signed
    data digest names (the program wrote it after verifying it, and nothing touched it
    since) is not hashed row by row: its row count and last 链哈希 are checked against the
    seal. Any other sheet — edited, or saved again by a spreadsheet — is hashed row by row."""
    name = Path(path).name
    if seal is None:
        raise broken(path, f"{name} 的“{SEAL}”工作表被删除：历史无法核对",
                     f"the {SEAL} sheet of {name} was deleted: the history cannot be checked")
    sealed: dict[str, tuple[str, str]] = {}
    mode, key_id, seal_hash = "", "", ""
    for r in seal[1:]:
        cells = [cell_text(v) for v in list(r) + [None] * 3][:3]
        if cells[0] == MODE_ROW:
            mode, key_id = cells[1], cells[2]
        elif cells[0] == SEAL_ROW:
            seal_hash = cells[2]
        elif cells[0] and cells[0] not in (DATA_ROW, RAW_ROW, DATA_SEAL):
            sealed[cells[0]] = (cells[1], cells[2])
    # the data digests signed with the seal (checked against the seal itself below)
    trusted = {} if full else signed_digests(signer, seal)
    unchanged: set[str] = set()
    if mode == KEYED and not signer.key:
        raise broken(path, f"{name} 由签名密钥保护（密钥指纹 {key_id}），本机没有密钥（{KEY_ENV}）：无法核对",
                     f"{name} is signed with a key (fingerprint {key_id}) this machine does not have "
                     f"({KEY_ENV}): it cannot be checked")
    if mode == KEYED and key_id != signer.key_id:
        raise broken(path, f"{name} 由另一把密钥签名（指纹 {key_id}，本机 {signer.key_id}）",
                     f"{name} was signed with another key (fingerprint {key_id}, this machine's {signer.key_id})")
    if mode == PLAIN and signer.key:
        raise broken(path, f"{name} 未用密钥签名，而本机配置了签名密钥：核对无误后用 "
                     f"kpi-workbook history {name} --sign 签名",
                     f"{name} is not signed with a key, but this machine has one: after checking it, "
                     f"sign it with kpi-workbook history {name} --sign")
    if mode not in (PLAIN, KEYED):
        raise broken(path, f"{name} 的“{SEAL}”被改动（签名方式“{mode}”）",
                     f"the {SEAL} sheet of {name} was changed (mode '{mode}')")
    tails: dict[str, tuple[int, str]] = {}
    for sheet in sheets:
        count, tail = sealed.get(sheet.name, ("0", ""))
        if sheet.missing and count not in ("", "0"):
            raise broken(path, f"{name} 的“{sheet.name}”工作表被删除（封存时有 {count} 行）",
                         f"the {sheet.name} sheet of {name} was deleted ({count} rows were sealed)")
        previous = start(signer, sheet.name)
        as_sealed = bool(sheet.written) and trusted.get(sheet.name) == sheet.written
        if sheet.unread:  # its compressed bytes are the sealed ones (history._read_sheets)
            if full or not as_sealed:
                raise AssertionError(f"{sheet.name}: not read, yet not known as sealed")
            unchanged.add(sheet.name)
            tails[sheet.name] = (int(count), tail)
            continue
        if as_sealed:
            unchanged.add(sheet.name)
        for k, (values, stored) in enumerate([] if as_sealed else zip(sheet.rows, sheet.stored)):
            if link(signer, previous, values) != stored:
                row = k + 2
                month = month_of(sheet.name, values) if month_of is not None else ""
                if sheet.name.split(" ")[0] == "历史" and month in approved_months:
                    what = ("在审批后被改动", "changed after approval")
                else:
                    what = ("在写入后被改动或删除", "was changed or deleted after it was written")
                raise broken(path, f"{sheet.name}第 {row} 行{what[0]}（{name} 的哈希链在此断开）",
                             f"row {row} of {sheet.name} {what[1]} (the hash chain of {name} breaks here)",
                             sheet.name, row)
            previous = stored
        n = len(sheet.rows)
        if str(n) != count:
            expected = int(count) if count.isdigit() else 0
            if n < expected:
                zh = f"{sheet.name}的最后 {expected - n} 行被删除（封存时 {expected} 行，现 {n} 行）"
                en = f"the last {expected - n} rows of {sheet.name} were deleted ({expected} sealed, {n} now)"
            else:
                zh = f"{sheet.name}在封存后多了 {n - expected} 行（封存时 {expected} 行）"
                en = f"{n - expected} rows were added to {sheet.name} after it was sealed ({expected} sealed)"
            raise broken(path, zh, en, sheet.name)
        last = sheet.stored[-1] if n else ""
        if last != tail:
            raise broken(path, f"{sheet.name}的末行与“{SEAL}”不符", f"the last row of {sheet.name} does not "
                         f"match the {SEAL} sheet", sheet.name, n + 1)
        if sheet.optional and sheet.name not in sealed and not n:
            continue  # never written: an older history's seal does not name it
        tails[sheet.name] = (n, last)
    # in the order the seal lists them (a history kept by month lists its sheets as written)
    tails = {**{k: tails[k] for k in sealed if k in tails}, **tails}
    if seal_rows(signer, tails)[-1][2] != seal_hash or set(sealed) - set(tails):
        raise broken(path, f"{name} 的“{SEAL}”被改动：封印不符", f"the {SEAL} sheet of {name} was changed: "
                     "the seal does not match")
    return mode, key_id, unchanged
