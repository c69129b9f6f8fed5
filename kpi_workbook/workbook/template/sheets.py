"""Where everything of a role sits in a template workbook, and the Chinese words its dropdowns
offer: the one layout ``export.py`` writes and ``importer.py`` reads.

Sheets: 说明 (how to fill it in), 岗位 (the role: one row per setting, label in column A),
then one table each — 维度 (sections), 考核项目 (one row per item: its rule type, input,
range, criteria and flags), 分档 (band rows), 事件 (扣/加分 events), 等级选项 (levels of a
等级 item, point ranges of a 直接打分 item), 评分人, 等级方案 (one row per grade, the scheme's
own settings on its first row) and 薪酬 (one row per pay rule, in the order paid). Tables
are read by their header names, rows top to bottom; a row of a detail table names its item
by 考核项目 (or 项目ID).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...rules.model import RATER_LABELS

GUIDE, ROLE, SECTIONS, ITEMS = "说明", "岗位", "维度", "考核项目"
BANDS, EVENTS, LEVELS, RATERS, SCHEMES, PAY = "分档", "事件", "等级选项", "评分人", "等级方案", "薪酬"
TABLES = (SECTIONS, ITEMS, BANDS, EVENTS, LEVELS, RATERS, SCHEMES, PAY)
YES, NO = "是", "否"
NONE = "无"  # 总分下限: no floor
FULL = "满分"  # 事件起点: start from the item's 配分
MAX_ROWS = 2000  # rows read from a table: more is not a template
LIST_CELLS = 10  # 签字, 备注栏, 别名: one per cell, B … K

# the Chinese words of the dropdowns, value → word
FAMILIES = {"cs": "客服", "presales": "售前", "qc": "品质", "manager": "管理", "other": "其他"}
MAX_STYLES = {"points": "分值", "percent": "百分比"}
RATER_MODES = {"": "无", "weighted": "加权", "review": "逐级审核"}
RATER_WORDS = dict(RATER_LABELS)  # self 自评, supervisor 主管, manager 经理
RULE_KINDS = {"bands": "分档", "ratio": "比例", "events": "扣加分事件", "direct": "直接打分",
              "levels": "等级", "rank": "排名"}
INPUT_TYPES = {"number": "数值", "percent": "百分比", "count": "次数", "points": "分数", "level": "等级",
               "flag": "是否"}
EVENT_TYPES = {"count": "次数", "flag": "是否", "points": "分数"}
MONOTONE = {"increasing": "越高越好", "decreasing": "越低越好"}
PINNED = {"gap": "缺口", "overlap": "重叠", "shadowed": "遮挡"}
RATED = {"": "默认", "yes": YES, "no": NO}
BASES = {"average": "平均", "lowest": "最低", "median": "中位数"}
PAY_KINDS = {"base_pct": "基本工资比例", "grade_amount": "等级金额", "point_value": "每分金额",
             "score_base": "评分基数", "q_level": "Q值等级", "quarterly_commission": "季度提成",
             "commission_share": "项目奖金分成", "top_scorer_award": "部门第一奖励",
             "deduction_pool": "部门扣分池", "attendance_award": "全勤奖", "fail_penalty": "不及格扣款"}
# band comparisons: word → (op, lo_closed, hi_closed) ; the range words take 数值 (low) and 上限
COMPARE = {"≥": (">=", True, False), ">": (">", True, False), "≤": ("<=", True, False),
           "<": ("<", True, False), "=": ("==", True, False), "介于（含下限）": ("range", True, False),
           "介于（含上限）": ("range", False, True), "介于（含两端）": ("range", True, True),
           "介于（不含两端）": ("range", False, False), "其他": ("else", True, False)}

# what each pay kind takes from the 薪酬 columns: column header → field
PAY_FIELDS = {
    "base_pct": {"比例": "pct", "最低总分": "min_total"},
    "grade_amount": {"各等级金额": "amounts"},
    "point_value": {"金额": "value"},
    "score_base": {"金额": "base"},
    "q_level": {},
    "quarterly_commission": {"比例": "rate", "最低完成比": "min_ratio", "超额提成比例": "above_plan_rate"},
    "commission_share": {"比例": "share"},
    "top_scorer_award": {"各等级金额": "amounts"},
    "deduction_pool": {"比例": "share", "金额": "value"},
    "attendance_award": {"金额": "amount"},
    "fail_penalty": {"适用等级": "grades", "金额": "amount"},
}
PERCENT_FIELDS = ("pct", "share", "rate", "min_ratio", "above_plan_rate")


@dataclass(frozen=True)
class Field:
    header: str
    width: float = 10
    kind: str = "text"  # text, number, percent, whole, flag, list, ref
    choices: tuple[str, ...] = ()  # a list's words
    ref: str = ""  # a ref's range: the choices are cells of another sheet
    note: str = ""  # shown when the cell is selected (data validation's input message)
    required: bool = False


def choices(words: dict) -> tuple[str, ...]:
    return tuple(w for w in words.values() if w)


FLAG = ("是", "否")

ROLE_ROWS = (  # (label, field path, Field)
    Field("岗位ID", kind="text", required=True,
          note="英文小写字母、数字和下划线，如 warehouse_keeper；作文件名，名单的岗位也可写它"),
    Field("名称", required=True, note="考核表的标题，如 仓库管理员绩效考核表；名单写 仓库管理员 也认得"),
    Field("英文名称", note="可空"),
    Field("别名", note="名单中还可能写的岗位名，每格一个，如 仓管员"),
    Field("来源", note="可空：出处，如公司制度文号"),
    Field("类别", kind="list", choices=choices(FAMILIES), required=True),
    Field("配分方式", kind="list", choices=choices(MAX_STYLES), note="配分是分值，还是百分比权重"),
    Field("等级方案", kind="ref", ref=f"='{SCHEMES}'!$A$2:$A${MAX_ROWS}", required=True,
          note="“等级方案”表中的方案ID，如 grade_a_e（A–E 五级）"),
    Field("评分人方式", kind="list", choices=choices(RATER_MODES),
          note="无：不分评分人；加权：按“评分人”表的权重合计；逐级审核：取最后一个填了的评分人"),
    Field("总分起点", kind="number", note="一般为 0；从 100 起扣加分的表填 100"),
    Field("总分折算百分制", kind="flag", choices=FLAG, note="配分合计不是 100 时：是 = 按 100 折算"),
    Field("总分下限", note="一般为 0；填 无 则总分可为负"),
    Field("签字", note="考核表底部的签字栏，每格一个"),
    Field("备注栏", note="考核表上的文字栏，如 调薪建议，每格一个"),
    Field("不参与：缺岗月数超过", kind="number", note="可空：名单的缺岗月数超过此数的人本期不参与考核"),
    Field("不参与原因", note="印在考核表和报表上"),
    Field("不参与原因（英文）"),
    Field("假设", kind="flag", choices=FLAG, note="是：有数值是估计的（请在说明写明）"),
    Field("说明", note="不印在考核表上：来源、假设等说明"),
)
LIST_ROWS = ("签字", "备注栏", "别名")

SECTION_FIELDS = (
    Field("维度ID", 12, note="可空（自动编号）：英文小写字母、数字和下划线"),
    Field("维度", 18, required=True, note="考核表上的考核维度，如 工作业绩"),
    Field("英文名", 14),
    Field("权重", 8, "number", note="可空：本维度占 100 分中的分值"),
    Field("折算", 8, "flag", FLAG, note="是：配分合计与权重不同时按权重折算"),
    Field("分配总分", 10, "number", note="可空：主管每月在本维度各项目间分配的总分"),
    Field("默认分配", 10, "number", note="与分配总分连用：每个项目默认分到的分"),
    Field("分配名称", 10, note="与分配总分连用：考核表上这一格的名称，默认 分配分值"),
)
ITEM_REF = f"='{ITEMS}'!$C$2:$C${MAX_ROWS}"
ITEM_FIELDS = (
    Field("维度", 14, "ref", ref=f"='{SECTIONS}'!$B$2:$B${MAX_ROWS}", required=True,
          note="“维度”表中的维度"),
    Field("项目ID", 12, note="可空（自动编号）：英文小写字母、数字和下划线；数据文件可用它作列名"),
    Field("考核项目", 18, required=True),
    Field("英文名", 12),
    Field("配分", 7, "number", required=True, note="本项目的满分（百分比权重的表填权重，如 20）"),
    Field("满分刻度", 8, "number", note="可空：规则按此满分打分再折算为配分（如按百分制打分填 100）"),
    Field("规则类型", 11, "list", choices(RULE_KINDS), required=True,
          note="分档：按数值落在哪一档得分；比例：完成比 × 满分；扣加分事件：按次数扣分或加分；"
               "直接打分：评分人打分；等级：从等级中选；排名：部门内排名"),
    Field("输入项ID", 10, note="可空（自动为 value）"),
    Field("输入项", 16, note="分档、比例、排名：要填的数据，如 错漏检次数；直接打分：分数格的名称（默认 得分）"),
    Field("输入项英文名", 10),
    Field("类型", 8, "list", choices(INPUT_TYPES), note="数值、百分比（38% 存为 0.38）、次数（整数）、分数"),
    Field("单位", 6),
    Field("范围下限", 8, "number", note="可空：允许的最小值（百分比可写 0%）"),
    Field("范围上限", 8, "number", note="可空：允许的最大值"),
    Field("必填", 6, "flag", FLAG, note="否：可以不填"),
    Field("默认值", 7, "number", note="不填时按此值计"),
    Field("考核标准", 40, note="印在考核表上"),
    Field("比例封顶", 8, "number", note="比例：完成比最多算到（默认 1 = 100%）"),
    Field("事件起点", 8, note="扣加分事件：从 满分 起扣（默认），或填 0 从 0 起加"),
    Field("越高越好", 8, "flag", FLAG, note="排名：是 = 数值越高名次越前"),
    Field("单调性", 9, "list", choices(MONOTONE), note="分档：越高越好或越低越好（检查档位时用）"),
    Field("已确认", 10, note="分档：已知的缺口、重叠、遮挡，检查时只作提示（多个用、分隔）"),
    Field("加减分项", 8, "flag", FLAG, note="是：在 100 分之外加减"),
    Field("计入总分", 8, "flag", FLAG, note="否：单独显示，不计入总分"),
    Field("可为负", 7, "flag", FLAG, note="是：项目得分可低于 0"),
    Field("可超配分", 8, "flag", FLAG, note="是：项目得分可高于配分（如 0 次错漏检得 22）"),
    Field("单项等级方案", 10, "ref", ref=f"='{SCHEMES}'!$A$2:$A${MAX_ROWS}", note="可空：给本项目单独评等级"),
    Field("评分人打分", 9, "list", choices(RATED), note="默认：直接打分和等级项目按评分人各打一列"),
    Field("保留小数", 8, "whole", note="可空：项目得分四舍五入到几位小数"),
    Field("假设", 6, "flag", FLAG),
    Field("说明", 30, note="不印在考核表上"),
)
BAND_FIELDS = (
    Field("考核项目", 18, "ref", ref=ITEM_REF, required=True),
    Field("比较", 14, "list", tuple(COMPARE), required=True,
          note="≥、>、≤、<、= 与数值比较；介于：数值到上限之间；其他：以上都不是时"),
    Field("数值", 9, "number", note="百分比可写 38%"),
    Field("上限", 9, "number", note="介于时的上限"),
    Field("得分", 8, "number", required=True),
    Field("说明", 20),
)
EVENT_FIELDS = (
    Field("考核项目", 18, "ref", ref=ITEM_REF, required=True),
    Field("事件ID", 14, note="可空（自动编号）"),
    Field("事件", 30, required=True, note="考核表上的一行，如 虚假记录"),
    Field("英文名", 14),
    Field("每次分值", 9, "number", required=True, note="扣分写负数，如 -2；加分写正数"),
    Field("区间另一端", 9, "number", note="每次扣 2–5 分由评分人定时：每次分值 -2，这里 -5"),
    Field("记录方式", 9, "list", choices(EVENT_TYPES), note="次数：填发生几次；是否：有/无；分数：填实际扣加的分"),
)
LEVEL_FIELDS = (
    Field("考核项目", 18, "ref", ref=ITEM_REF, required=True),
    Field("等级", 12, required=True, note="如 优秀"),
    Field("得分", 8, "number", note="等级项目：选这一级得几分"),
    Field("最低分", 8, "number", note="直接打分项目：这一档的分数范围"),
    Field("最高分", 8, "number"),
    Field("标准", 40),
)
RATER_FIELDS = (
    Field("评分人", 10, "list", choices(RATER_WORDS), required=True),
    Field("列名", 12, note="考核表上的列名，如 主管审核；可空"),
    Field("权重", 8, "percent", note="加权时：如 40%，合计 100%"),
)
SCHEME_FIELDS = (
    Field("方案ID", 14, note="英文小写字母、数字和下划线；同一方案的后续行可留空"),
    Field("方案名称", 14),
    Field("来源", 8),
    Field("部门最低分连续月数", 10, "whole", note="可空：部门最低分连续几个月预警"),
    Field("期间评定方式", 10, "list", choices(BASES), note="季度/年度评定按月度总分的平均、最低或中位数"),
    Field("期间最少月数", 8, "whole"),
    Field("假设", 6, "flag", FLAG),
    Field("说明", 20),
    Field("等级", 8, required=True, note="如 A；从高到低，最后一级不填下限"),
    Field("等级名称", 8, note="如 优异"),
    Field("下限", 7, "number", note="总分达到此分即为本等级"),
    Field("比例上限", 8, "percent", note="可空：强制分布时本等级最多占部门的比例，如 20%"),
    Field("预警连续月数", 8, "whole", note="可空：连续几个月本等级则预警"),
    Field("预警全年次数", 8, "whole", note="可空：一年中几次本等级则预警"),
    Field("预警措施", 16),
    Field("降级月数", 8, "whole", note="可空：期间内几个月本等级，期间评定改为“降为”"),
    Field("降为", 6),
)
PAY_FIELDS_SHEET = (
    Field("规则ID", 16, required=True, note="英文小写字母、数字和下划线；已有规则（如 pay_grade_amount）可直接引用"),
    Field("名称", 14, required=True, note="考核表和工资表上的列名，如 等级奖金"),
    Field("英文名", 12),
    Field("类型", 12, "list", choices(PAY_KINDS), required=True),
    Field("比例", 8, "percent", note="基本工资比例、项目奖金分成、扣分池的比例，季度提成的提成比例"),
    Field("金额", 9, "number", note="每分金额、评分基数、全勤奖、不及格扣款、扣分池每分金额"),
    Field("最低总分", 8, "number", note="基本工资比例：总分低于此不发"),
    Field("最低完成比", 8, "percent", note="季度提成：完成比低于此不提成"),
    Field("超额提成比例", 8, "percent", note="季度提成：超额完成时的比例"),
    Field("各等级金额", 24, note="等级金额、部门第一奖励：如 A=400、B=300、C=200"),
    Field("适用等级", 10, note="不及格扣款：哪些等级扣款，如 不及格"),
    Field("来源", 8),
    Field("假设", 6, "flag", FLAG),
    Field("说明", 24),
)
FIELDS = {SECTIONS: SECTION_FIELDS, ITEMS: ITEM_FIELDS, BANDS: BAND_FIELDS, EVENTS: EVENT_FIELDS,
          LEVELS: LEVEL_FIELDS, RATERS: RATER_FIELDS, SCHEMES: SCHEME_FIELDS, PAY: PAY_FIELDS_SHEET}
