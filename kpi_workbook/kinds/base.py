"""What a rule kind's module and a pay kind's module each provide, and their shared helpers.

A rule kind (bands, ratio, events, direct, levels, rank) is one subclass of ``RuleKind`` in
a module of its own, holding side by side:

- ``inputs``: the cells a person fills in for an item of this kind (its input cells);
- ``evaluate``: the engine's raw points, vectorised over employees, with the explanation
  data (which band, level or events);
- ``formula``: the native spreadsheet formula of the same raw points;
- ``explain``: the explanation data of one employee rendered as a record and a sentence.

A pay kind is one subclass of ``PayKind``: its ``amount`` (engine), its ``formula``, its
``parameters`` (the 设置 rows, defined names ``PAY_<rule>_<PARAM>``), the extra inputs and
employee fields it needs. ``kinds.rule_kind`` and ``kinds.pay_kind`` are the only dispatch:
keyed by the pydantic model's class, so the model reaching a kind's methods is narrowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel

from ..diagnostics import Bilingual
from ..numbers import clean_round_array
from ..numbers import number_text as num
from ..rules.model import RATER_LABELS, GradeScheme, InputDef, Item, Rater, Role

Value = Callable[[str], np.ndarray]  # input id → parsed values of every employee (NaN: empty)
Detail = dict[str, np.ndarray]  # explanation data, one array per name
Ref = Callable[[str], str]  # input id → the cell reference of that input

YES, NO = "是", "否"
# What a yes/no cell of a scorecard accepts — the same on the sheet (formulas and data
# validation) and in the engine: 是/否, 有/无, Y/N (either case: a formula's "=" ignores case
# on every engine), 1/0 (as text: the cell is formatted as text), √/✓ and ×/✗. Anything else
# (x, a number, TRUE, a look-alike) makes the card 错误 with the cell named.
YES_TEXTS = ("是", "有", "Y", "1", "√", "✓")
NO_TEXTS = ("否", "无", "N", "0", "×", "✗")
FLAG_CHOICES = [YES, NO, "有", "无", "Y", "N", "1", "0", "√", "×", "✓", "✗"]  # the dropdown


def card_flag(value) -> bool | None:
    """A yes/no cell's answer as the sheet's formulas read it, or None when they would not
    (an empty cell is not an answer either)."""
    if not isinstance(value, str):
        return None
    if value in YES_TEXTS or value in ("y",):
        return True
    if value in NO_TEXTS or value in ("n",):
        return False
    return None

if TYPE_CHECKING:
    import pandas as pd  # annotations only: `roles` and `lint` never import pandas
    from ..rules.loader import Catalog

R = TypeVar("R", bound=BaseModel)
P = TypeVar("P", bound=BaseModel)


# ---------------------------------------------------------------------------------------
# Formula helpers (shared by kinds and workbook.formulas).


def text(value: str) -> str:
    """A string literal in a formula."""
    return '"' + value.replace('"', '""') + '"'


def is_yes(ref: str) -> str:
    """TRUE where a yes/no cell says yes (YES_TEXTS; text compared as text, never converted)."""
    return "OR(" + ",".join(f"{ref}={text(t)}" for t in YES_TEXTS) + ")"


def not_yes_no(ref: str) -> str:
    """TRUE where a yes/no cell holds anything but an answer of YES_TEXTS / NO_TEXTS or
    nothing (a number, TRUE or "x" included): the card is then 错误, as the engine refuses it."""
    return "AND(" + ",".join([f'{ref}<>""', *(f"{ref}<>{text(t)}" for t in YES_TEXTS + NO_TEXTS)]) + ")"


def grade_min_name(scheme: GradeScheme, k: int) -> str:
    return f"GRADE_{scheme.id}_MIN_{k + 1}"


def grade_name_name(scheme: GradeScheme, k: int) -> str:
    return f"GRADE_{scheme.id}_NAME_{k + 1}"


def pay_param_name(key: str, param: str) -> str:
    return f"PAY_{key}_{param.upper()}"


# ---------------------------------------------------------------------------------------
# Explanation helpers.


def number_shown(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "空"
    return f"{value:g}"


def value_shown(value: float | None, input_type: str) -> str:
    """A measured value as a person reads it: 0.36 of a percent metric is 36%."""
    if input_type == "percent" and value is not None and not math.isnan(value):
        return f"{value * 100:.6g}%"
    return number_shown(value)


def or_none(value: float) -> float | None:
    return None if math.isnan(value) else value


def explain_ratings(role: Role, detail: dict, i: int,
                    one: Callable[[str], tuple[str, float | None]]) -> tuple[dict, str, str]:
    """The ratings of a rated kind (direct, levels) for employee ``i``: (record fields, the
    raters' text, how they combine). ``one(suffix)`` gives (shown, points) of one column."""
    raters = role.raters.raters if role.raters and f"raw.{role.raters.raters[0].id}" in detail else []
    columns: list[Rater | None] = list(raters) or [None]
    parts = []
    for r in columns:
        shown, p = one(f".{r.id}" if r else "")
        parts.append((r, shown, p))
    rec = {"ratings": [{"rater": r.id if r else None, "value": shown, "points": p}
                       for r, shown, p in parts]}
    rated = "，".join(f"{RATER_LABELS[r.id] if r else '评分'} {shown}" for r, shown, _ in parts)
    how = ""
    if raters and role.raters is not None and role.raters.mode == "weighted":
        how = "（加权：" + " + ".join(f"{RATER_LABELS[r.id]}×{r.weight:g}" for r in raters) + "）"
    elif raters:
        how = "（以最后一位评分人为准）"
    return rec, rated, how


# ---------------------------------------------------------------------------------------
# The two kinds of kind.


class RuleKind(Generic[R]):
    """One rule kind. ``rule`` is ``item.rule`` narrowed to this kind's model."""

    model: ClassVar[type[BaseModel]]  # the pydantic class this module implements
    rated_by_default: ClassVar[bool] = False  # rater columns apply unless the item says
    rated_input: ClassVar[str] = "points"  # the input a rater fills in (rated kinds)
    in_item_points: ClassVar[bool] = False  # raw points are item points (not 0..scale)
    item_key_is_metric: ClassVar[bool] = False  # an item's key alone names its metric

    # -- input cells
    def inputs(self, item: Item, rule: R) -> list[InputDef]:
        raise NotImplementedError

    def required(self, rule: R, d: InputDef) -> bool:
        """Whether an empty ``d`` leaves the card 未完成."""
        return d.required

    def level_labels(self, rule: R) -> tuple[str, ...]:
        """The labels of a level input, in order (a level is parsed to its index)."""
        return ()

    # -- engine
    def evaluate(self, item: Item, rule: R, value: Value,
                 row_max: np.ndarray) -> tuple[np.ndarray, Detail]:
        """Raw points of every employee (on the 0..scale basis unless ``in_item_points``)
        and the explanation data. No I/O, no rounding."""
        raise NotImplementedError

    def check(self, item: Item, rule: R, detail: Detail,
              raw: np.ndarray) -> tuple[np.ndarray, list[tuple[int, Bilingual]]]:
        """Values the rule refuses (bad input on the card): (raw points with those cards
        emptied, [(employee row, error)])."""
        return raw, []

    # -- formula
    def formula(self, item: Item, rule: R, ref: Ref, rmax: str) -> tuple[str, str]:
        """(raw points on the rule's scale, the condition under which the item is empty;
        "FALSE" when it never is), mirroring ``evaluate``."""
        raise NotImplementedError

    # -- explanation
    def explain(self, role: Role, item: Item, rule: R, detail: dict, i: int,
                points: float) -> tuple[dict, str]:
        """(record fields, Chinese sentence) for employee row ``i``."""
        raise NotImplementedError


@dataclass(frozen=True)
class PayValues:
    """What a pay kind's ``amount`` may use, one array per employee."""

    n: int
    total: np.ndarray
    grades: np.ndarray
    bonus: np.ndarray
    deduction: np.ndarray
    column: Callable[[str], np.ndarray]  # roster field → values (NaN: empty)
    flags: Callable[[str], np.ndarray]  # roster yes/no field → booleans
    get: Value  # canonical input key → parsed values


@dataclass(frozen=True)
class PayCells:
    """What a pay kind's ``formula`` may refer to on one scorecard sheet."""

    total: str
    grade: str
    footer: Callable[[str], str]  # footer row name (bonus, deduction) → cell
    field: Callable[[str], str]  # employee field → cell
    pay_input: Callable[[str], str]  # this rule's input id → cell
    param: Callable[[str], str]  # 设置 parameter → defined name
    scheme: GradeScheme


class PayKind(Generic[P]):
    """One pay kind. ``rule`` is the pay rule narrowed to this kind's model."""

    model: ClassVar[type[BaseModel]]
    team: ClassVar[bool] = False  # needs the whole department's month (engine.month)
    employee_field: ClassVar[str | None] = None  # a roster field it cannot do without
    inputs: ClassVar[tuple[InputDef, ...]] = ()  # extra inputs on the card (optional)

    def parameters(self, rule: P, scheme: GradeScheme) -> list[tuple[str, str, float]]:
        """(param, label, value) rows the 设置 sheet shows for this rule."""
        return []

    def amount(self, rule: P, v: PayValues) -> np.ndarray:
        """Money per employee, before rounding."""
        raise NotImplementedError

    def formula(self, rule: P, c: PayCells) -> str:
        """The same amount as a formula body (the caller rounds and blanks it)."""
        raise NotImplementedError

    def settle_month(self, catalog: Catalog, frame: pd.DataFrame) -> pd.DataFrame:
        """A team kind's amounts, once the whole month is scored (``frame``: one row per
        employee of every role, as ``engine.month.score_month`` makes it). Others: as is."""
        return frame

    def bad_cells(self, rule: P, field: Ref) -> list[str]:
        """Logicals, TRUE where an employee field this rule reads (``field(name)`` is its
        cell) cannot be used: the card is then 错误."""
        return [f"ISTEXT({field(self.employee_field)})"] if self.employee_field else []


def resum_pay(frame: pd.DataFrame) -> pd.DataFrame:
    """pay.total again after a team kind filled its column: the sum of every pay column,
    rounded to the cent, on complete cards only — and none while a team amount of the card
    waits for its department (a ``wait.<rule>`` text): its pay is not final."""
    pay_columns = [c for c in frame.columns if c.startswith("pay.") and c != "pay.total"]
    summed = frame[pay_columns].fillna(0).sum(axis=1).to_numpy()
    waits = [c for c in frame.columns if str(c).startswith("wait.")]
    settled = ~frame[waits].apply(lambda col: col.map(lambda v: isinstance(v, str) and bool(v))).any(
        axis=1).to_numpy(dtype=bool) if waits else np.ones(len(frame), dtype=bool)
    frame["pay.total"] = np.where(frame["complete"].astype(bool) & settled,
                                  clean_round_array(summed, 2), np.nan)
    return frame


STATUS_WORDS = {"incomplete": "未完成", "error": "错误", "complete": "已完成"}


def waiting_for(frame: pd.DataFrame, group) -> str:
    """The cards of ``group`` (index labels of ``frame``) that an amount depending on all of
    them waits for — those taking part (not 不参与) that are not complete and clean — as
    '姓名（工号，未完成）、…'; '' when every one is."""
    labels = list(group)
    at = frame.index.get_indexer(labels) if frame.index.is_unique else None
    if at is None or (at < 0).any():  # labels the frame lacks (KeyError) or repeats
        # only the columns the sentence reads: a month's frame has a column per item of every role
        part = frame.loc[labels, [c for c in TeamColumns.READ if c in frame]]
        return TeamColumns(part).waiting(range(len(part)))
    return TeamColumns(frame, at).waiting(range(len(at)))


class TeamColumns:
    """The columns of a month's frame (one row per employee, ``engine.month.score_month``)
    that a team kind reads and writes, as arrays by row position: a department's amounts are
    worked out and set on the arrays, and each changed column goes back to the frame once
    (``store``), not once per department."""

    READ = ("status", "complete", "name", "employee_id")

    def __init__(self, frame: pd.DataFrame, rows: np.ndarray | None = None):
        """``rows``: only the rows at these positions (to read, never to ``store``)."""
        def read(name: str):
            column = frame[name]
            return column if rows is None else column.take(rows)

        self.frame, self.n = frame, len(frame) if rows is None else len(rows)
        self.complete = read("complete").astype(bool).to_numpy()
        self.status = read("status").astype(str).to_numpy(dtype=object) if "status" in frame else None
        self.names = read("name").to_numpy(dtype=object) if "name" in frame else None
        self.ids = read("employee_id").to_numpy(dtype=object) if "employee_id" in frame else None
        self._changed: dict[str, np.ndarray] = {}

    def groups(self, mask: np.ndarray, keys) -> dict:
        """Row positions where ``mask`` holds, grouped by ``keys[pos]`` in the order each key
        first appears (as ``groupby(sort=False)``), each group in row order."""
        out: dict = {}
        for pos in np.flatnonzero(mask).tolist():
            key = keys[pos]
            if key is None or key != key:  # an empty key (None, NaN) is in no group, as in pandas
                continue
            out.setdefault(key, []).append(pos)
        return out

    def waiting(self, positions) -> str:
        """:func:`waiting_for` of the rows at ``positions``."""
        out = []
        for i in positions:
            status = "incomplete" if self.status is None else self.status[i]
            if status == "excluded" or self.complete[i]:
                continue
            word = STATUS_WORDS.get(status, "未完成")
            if word == "已完成":
                word = "错误"  # complete by its inputs, in error by a finding on its sheet
            name = None if self.names is None else self.names[i]
            eid = "" if self.ids is None else self.ids[i]
            out.append(f"{name}（{eid}，{word}）" if isinstance(name, str) and name else f"{eid}（{word}）")
        return "、".join(out)

    def column(self, name: str, empty) -> np.ndarray:
        """The array of column ``name`` to change (a copy; ``empty`` everywhere if the frame
        has no such column yet)."""
        if name not in self._changed:
            if name in self.frame:
                values = self.frame[name].to_numpy(dtype=float if isinstance(empty, float) else object, copy=True)
            else:
                values = np.full(self.n, empty, dtype=float if isinstance(empty, float) else object)
            self._changed[name] = values
        return self._changed[name]

    def mark_waiting(self, positions, rule_id: str, label: str, label_en: str, who: str) -> None:
        """The rule's amount of the cards at ``positions`` waits for ``who``: no amount, and
        the reason in ``wait.<rule>`` (the report shows 待定 and the reason; payroll never
        pays it)."""
        wait, pay = self.column(f"wait.{rule_id}", ""), self.column(f"pay.{rule_id}", math.nan)
        text = f"{label}待定：等待 {who} / {label_en or rule_id} waits for {who}"
        for i in positions:
            if self.complete[i]:  # the others get nothing anyway
                pay[i] = math.nan
                wait[i] = text

    def store(self) -> None:
        """Every changed column back into the frame, in the order they were first changed
        (a new column goes at the end, as the frame's own ``frame[name] = …`` would put it)."""
        for name, values in self._changed.items():
            if name in self.frame:
                old = self.frame[name].dtype
                self.frame[name] = values if values.dtype == old else _typed(values.tolist(), old)
            else:
                self.frame[name] = values.tolist() if values.dtype == object else values
        self._changed = {}


def _typed(values: list, dtype):
    """``values`` as an array of the frame column's own ``dtype`` (a text column stays text)."""
    import pandas as pd  # here, not at the top: light commands never import pandas
    return pd.array(values, dtype=dtype)


__all__ = ["num"]
