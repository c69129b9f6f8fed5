"""The template schema: roles, sections, items, rules, grade schemes and pay rules.

Templates are YAML files validated into these frozen models; a validation failure becomes
diagnostics with the file, the path inside it and what was expected (see ``loader``).
Semantics are pinned in ``shared/seed-digest.md`` ("General semantics"); the numbers there
are referred to as G1..G10 in comments.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .conditions import Condition

# Ids become parts of Excel defined names (KPI_IN_<item>__<input>): ASCII snake_case,
# no double underscore (the separator).
Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$", max_length=40)]
RaterId = Literal["self", "supervisor", "manager"]
RATER_LABELS = {"self": "自评", "supervisor": "主管", "manager": "经理"}
ConditionField = Annotated[Condition, BeforeValidator(Condition.parse)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Assumable(Model):
    """Anything whose numbers may be guessed where the seed is silent (digest: Assumptions)."""

    assumed: bool = False
    note: str = ""

    @model_validator(mode="after")
    def _assumption_needs_note(self):
        if self.assumed and not self.note.strip():
            raise ValueError("assumed: true 需附说明 note / an assumption needs a note")
        return self


# ---------------------------------------------------------------------------------------
# Inputs: what a person enters.

InputType = Literal["number", "percent", "count", "points", "level", "flag"]


class InputDef(Model):
    id: Id
    label: str
    label_en: str = ""
    type: InputType = "number"
    unit: str = ""
    min: float | None = None
    max: float | None = None
    required: bool = True
    default: float | None = None  # used when an optional input is left empty

    @model_validator(mode="after")
    def _range_ordered(self):
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} > max {self.max}")
        return self


# ---------------------------------------------------------------------------------------
# Rule kinds. Each rule yields raw points on a 0..scale basis (scale defaults to the
# item's max); the item turns them into its points (see Item).


class Band(Model):
    when: ConditionField
    points: float
    label: str = ""


class BandsRule(Model):
    """Metric → points, first matching row wins (G1)."""

    kind: Literal["bands"]
    input: InputDef
    bands: list[Band] = Field(min_length=1)
    # Linter findings the digest pins as intended (e.g. S12's overlap at exactly 80%): they
    # are reported as info, not warnings. Say why in the item's note.
    pinned: list[Literal["gap", "overlap", "shadowed"]] = []
    # Declared direction: points never fall (increasing) or never rise (decreasing) as
    # the value grows. The linter and the property tests hold the table to it.
    monotone: Literal["increasing", "decreasing"] | None = None


class RatioRule(Model):
    """Completion ratio: scale × min(value, cap)."""

    kind: Literal["ratio"]
    input: InputDef
    cap: float = 1.0


class Event(Model):
    id: Id
    label: str
    label_en: str = ""
    # Points per occurrence (negative deducts), or a [low, high] range per occurrence of
    # which the rater enters the points actually deducted or awarded (type "points").
    points: float | tuple[float, float]
    type: Literal["count", "flag", "points"] = "count"

    @model_validator(mode="after")
    def _range_means_points(self):
        ranged = isinstance(self.points, tuple)
        if ranged != (self.type == "points"):
            raise ValueError(
                "区间分值的事件须为 type: points，反之亦然 / a ranged event must be "
                "type: points, and a type: points event must give a [low, high] range")
        if ranged and (min(self.points) < 0 < max(self.points)):
            raise ValueError("区间不能跨越0 / a points range cannot cross zero")
        return self

    @property
    def sign(self) -> int:
        value = self.points[0] if isinstance(self.points, tuple) else self.points
        return -1 if value < 0 else 1


class EventsRule(Model):
    """Start from ``base`` (the item's max, or a number) and add each recorded event."""

    kind: Literal["events"]
    base: Literal["max"] | float = "max"
    events: list[Event] = Field(min_length=1)


class PointRange(Model):
    label: str
    min: float
    max: float
    criteria: str = ""


class DirectRule(Model):
    """The rater types points in [0, scale]; optional level ranges are guidance (G4)."""

    kind: Literal["direct"]
    levels: list[PointRange] = []
    input_label: str = "得分"


class Level(Model):
    label: str
    points: float
    criteria: str = ""


class LevelsRule(Model):
    """The rater picks a level from a list; the level gives the points (G4)."""

    kind: Literal["levels"]
    levels: list[Level] = Field(min_length=2)


class RankRule(Model):
    """Rank within the role and department: scale × (n − rank)/(n − 1) (G9)."""

    kind: Literal["rank"]
    metric: InputDef | None = None  # the team metric that ranks are computed from
    higher_is_better: bool = True


Rule = Annotated[
    Union[BandsRule, RatioRule, EventsRule, DirectRule, LevelsRule, RankRule],
    Field(discriminator="kind"),
]
RATED_KINDS = ("direct", "levels")  # judgement items that rater columns apply to


class Item(Assumable):
    id: Id
    label: str
    label_en: str = ""
    max: float = Field(ge=0)  # 配分, or the % weight on a 100 basis
    scale: float | None = Field(default=None, gt=0)  # the rule's full scale; default max
    criteria: str = ""
    rule: Rule
    adjustment: bool = False  # outside the 100: added after normalisation (加减分)
    in_total: bool = True  # False: a separate rating shown beside the total (S11)
    allow_negative: bool = False  # G3: otherwise points floor at 0
    allow_above_max: bool = False  # G3: otherwise points cap at max
    grade_scheme: str | None = None  # a per-item grade shown beside its points (S13)
    rated: bool | None = None  # rater columns apply; default: direct and levels items
    round: int | None = None  # item points are rounded only where a template says so

    @property
    def full_scale(self) -> float:
        return self.scale if self.scale is not None else self.max

    @model_validator(mode="after")
    def _rank_needs_no_raters(self):
        if self.rule.kind not in RATED_KINDS and self.rated:
            raise ValueError(f"rated 只适用于 {RATED_KINDS} / rated applies to {RATED_KINDS} only")
        return self


class Allocation(Model):
    """The supervisor redistributes the section's points among its items each month (S4)."""

    total: float
    default: float
    label: str = "分配分值"


class Section(Model):
    id: Id
    label: str
    label_en: str = ""
    weight: float | None = None  # the section's share of 100 (points)
    normalize: bool = False  # G7: weight × points / Σ max when the maxima differ
    allocation: Allocation | None = None
    items: list[Item] = Field(min_length=1)


class Rater(Model):
    id: RaterId
    label: str = ""
    weight: float | None = None

    @property
    def title(self) -> str:
        return self.label or RATER_LABELS[self.id]


class Raters(Model):
    """G5: weighted sum, or the last non-empty column in review order."""

    mode: Literal["weighted", "review"]
    raters: list[Rater] = Field(min_length=1)

    @model_validator(mode="after")
    def _weights(self):
        weights = [r.weight for r in self.raters]
        if self.mode == "weighted":
            if any(w is None for w in weights) or abs(sum(weights) - 1) > 1e-9:
                raise ValueError("加权评分人的权重须齐全且合计为 1 / weighted raters need "
                                 "weights that add up to 1")
        elif any(w is not None for w in weights):
            raise ValueError("review 模式不设权重 / review-order raters take no weights")
        if len({r.id for r in self.raters}) != len(self.raters):
            raise ValueError("评分人重复 / duplicate rater")
        return self


class Total(Model):
    base: float = 0  # S11 starts from 100
    normalize: bool = False  # G8: raw / max × 100
    floor: float | None = 0


class PayRef(Model):
    """A pay rule used by a role, optionally with parameters overridden for it."""

    id: Id
    with_: dict[str, object] = Field(default_factory=dict, alias="with")


class Exclusion(Model):
    """Who does not take part this period (S9: 缺岗月数 > 2 → 不参与): the card is not graded
    or paid by the role's rules, takes no award or penalty and is left out of ranks,
    lowest-score and streak counts. ``field`` is a roster column (roster.COLUMNS)."""

    field: Literal["months_absent"]
    above: float
    reason: str
    reason_en: str = ""


def _pay_ref(value):
    return {"id": value} if isinstance(value, str) else value


class Role(Assumable):
    id: Id
    name: str
    name_en: str = ""
    # other names people write in a roster's 岗位 (besides the id, the name, the short name
    # printed on the card and name_en): rules/names.py
    aliases: list[str] = []
    source: str = ""  # S1..S18
    family: Literal["cs", "presales", "qc", "manager", "other"]  # other: a company's own kind of job
    max_style: Literal["points", "percent"] = "points"
    grade_scheme: str
    pay_rules: list[Annotated[PayRef, BeforeValidator(_pay_ref)]] = []
    raters: Raters | None = None
    total: Total = Total()
    sections: list[Section] = Field(min_length=1)
    signatures: list[str] = ["被考核人签字", "直接上级签字", "日期"]
    remarks: list[str] = []  # free-text fields of the form (调薪建议)
    exclude_if: list[Exclusion] = []  # 不参与 this period (S9's absence rule)

    def items(self) -> Iterator[tuple[Section, Item]]:
        for section in self.sections:
            yield from ((section, item) for item in section.items)

    @model_validator(mode="after")
    def _unique_ids(self) -> Role:
        seen: set[str] = set()
        for section, item in self.items():
            if item.id in seen:
                raise ValueError(f"考核项目 id 重复：{item.id} / duplicate item id {item.id}")
            seen.add(item.id)
        if len({s.id for s in self.sections}) != len(self.sections):
            raise ValueError("维度 id 重复 / duplicate section id")
        return self


# ---------------------------------------------------------------------------------------
# Grade schemes and pay rules.


class Tier(Model):
    grade: str
    label: str = ""
    min: float | None = None  # total >= min; the last tier has none


class StreakWarning(Model):
    """A flag for the monthly report (digest: Warnings): a grade in consecutive months, or
    in enough months of the year."""

    grade: str
    consecutive: int | None = Field(default=None, ge=2)
    in_year: int | None = Field(default=None, ge=2)
    action: str = ""


class PeriodDemotion(Model):
    """In a roll-up: this grade in at least ``months`` months of the period → rating ``to``."""

    grade: str
    months: int = Field(ge=1)
    to: str


class PeriodRating(Model):
    """年度评定 / 季度评定: the period's monthly totals (complete cards only) combined by
    ``basis`` and graded by the scheme's own tiers; fewer than ``min_months`` months → no
    rating; a demotion rule (S5: E in ≥ 3 months of the year) overrides the grade."""

    basis: Literal["average", "lowest", "median"] = "average"
    min_months: int = Field(default=1, ge=1)
    demote: list[PeriodDemotion] = []


class GradeScheme(Assumable):
    id: Id
    label: str
    source: str = ""
    tiers: list[Tier] = Field(min_length=2)
    warnings: list[StreakWarning] = []
    # lowest total of the department this many months running → a warning (S9, S10)
    lowest_in_department: int | None = Field(default=None, ge=2)
    # forced distribution: the largest share of a department each grade may take
    max_share: dict[str, float] = {}
    # the rule of the quarterly and annual roll-ups' rating (年度评定)
    period_rating: PeriodRating = PeriodRating()

    @model_validator(mode="after")
    def _last_open(self):
        if self.tiers[-1].min is not None:
            raise ValueError("最后一档不设下限 / the last tier takes no min")
        if any(t.min is None for t in self.tiers[:-1]):
            raise ValueError("除最后一档外每档须有 min / every tier but the last needs a min")
        if len({t.grade for t in self.tiers}) != len(self.tiers):
            raise ValueError("等级重复 / duplicate grade")
        return self

    @model_validator(mode="after")
    def _known_grades(self):
        grades = {t.grade for t in self.tiers}
        unknown = [g for g in self.max_share if g not in grades]
        unknown += [g for d in self.period_rating.demote for g in (d.grade, d.to) if g not in grades]
        if unknown:
            raise ValueError(f"max_share / period_rating 中的等级不在本方案中：{', '.join(unknown)} / "
                             f"grades not in this scheme: {', '.join(unknown)}")
        if any(not 0 < v <= 1 for v in self.max_share.values()):
            raise ValueError("max_share 须在 0 与 1 之间（如 0.2 = 20%）/ max_share must be in (0, 1], e.g. 0.2")
        return self

    def grades(self) -> list[str]:
        return [t.grade for t in self.tiers]


# The range of every pay parameter — in the templates and on a book's 设置, where a value
# outside it is an error naming its cell (settings.py) and no card of the book is paid: a
# share or rate is a fraction (10 % is 0.1, never 10), an amount of money is not negative and
# below MONEY_CAP a person and month, a score threshold lies on the scores' scale, a count is
# whole. Nothing a parameter holds can make pay infinite.
MONEY_CAP = 1_000_000  # ¥: far above any grade amount, award, penalty or point value


class ParameterRange(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["ratio", "money", "score", "count"]
    low: float
    high: float

    @property
    def whole(self) -> bool:
        return self.kind == "count"

    def text(self) -> str:
        high = f"{self.high:,.0f}" if self.kind == "money" else f"{self.high:g}"
        return f"{self.low:g}–{high}"

    def fits(self, value: float) -> bool:
        return self.low <= value <= self.high and (not self.whole or float(value).is_integer())


RATIO = ParameterRange(kind="ratio", low=0, high=1)
MONEY = ParameterRange(kind="money", low=0, high=MONEY_CAP)
SCORE = ParameterRange(kind="score", low=0, high=1000)
PARAMETER_RANGES: dict[str, ParameterRange] = {
    "pct": RATIO, "share": RATIO, "rate": RATIO, "min_ratio": RATIO, "above_plan_rate": RATIO,
    "amounts": MONEY, "amount": MONEY, "value": MONEY, "base": MONEY, "min_total": SCORE,
}


class PayBase(Assumable):
    id: Id
    label: str
    label_en: str = ""
    source: str = ""

    @model_validator(mode="after")
    def _parameters_in_range(self):
        for name, bounds in PARAMETER_RANGES.items():
            value = getattr(self, name, None)
            values = value.values() if isinstance(value, dict) else [value]
            for v in values:
                if v is not None and not (isinstance(v, (int, float)) and bounds.fits(float(v))):
                    raise ValueError(f"{name} = {v} 超出 {bounds.text()} / {name} = {v} is outside "
                                     f"{bounds.text()}" + ("（比例：10% 写作 0.1）/ a fraction: 10% is 0.1"
                                                           if bounds.kind == "ratio" else ""))
        return self


class BasePctPay(PayBase):
    kind: Literal["base_pct"]
    pct: float
    min_total: float = 0


class GradeAmountPay(PayBase):
    kind: Literal["grade_amount"]
    amounts: dict[str, float]


class PointValuePay(PayBase):
    kind: Literal["point_value"]
    value: float


class ScoreBasePay(PayBase):
    kind: Literal["score_base"]
    base: float


class QLevelPay(PayBase):
    kind: Literal["q_level"]


class QuarterlyCommissionPay(PayBase):
    kind: Literal["quarterly_commission"]
    rate: float
    min_ratio: float
    above_plan_rate: float


class CommissionSharePay(PayBase):
    kind: Literal["commission_share"]
    share: float


class TopScorerAwardPay(PayBase):
    kind: Literal["top_scorer_award"]
    amounts: dict[str, float]  # grade → amount for the department's top scorer


class DeductionPoolPay(PayBase):
    """S7/S19 备注 2: the month's 扣分 of a department's complete cards × the point value form
    a pool; ``share`` of it goes to the 优秀品质员 (highest complete total; ties split it), the
    rest is split in equal parts over the department's complete cards (engine.month)."""

    kind: Literal["deduction_pool"]
    share: float  # a fraction (PARAMETER_RANGES)
    value: float | None = None  # ¥ per point; default: the role's point_value rule


class AttendanceAwardPay(PayBase):
    kind: Literal["attendance_award"]
    amount: float


class FailPenaltyPay(PayBase):
    kind: Literal["fail_penalty"]
    grades: list[str]
    amount: float  # deducted: the pay column shows it negative


PayRule = Annotated[
    Union[BasePctPay, GradeAmountPay, PointValuePay, ScoreBasePay, QLevelPay,
          QuarterlyCommissionPay, CommissionSharePay, TopScorerAwardPay,
          DeductionPoolPay, AttendanceAwardPay, FailPenaltyPay],
    Field(discriminator="kind"),
]

# Rules that need the whole department's month: computed by the monthly scoring, not on
# a single scorecard (its sheet shows 见月度报表 in their cells, and leaves them out of its
# total), and only once every card they depend on is complete and clean.
TEAM_PAY_KINDS = ("top_scorer_award", "deduction_pool")


class GradesFile(Model):
    grade_schemes: list[GradeScheme]


class PayFile(Model):
    pay_rules: list[PayRule]
