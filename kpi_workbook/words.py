"""The words a workbook shows that several layers read back: a card's status and the names
of the sheets that the scorecard books and the HR master workbook share. They live here,
below every layer, so that the code that writes them, the readers and the front ends that
compare with them share one spelling."""

COMPLETE, INCOMPLETE, BROKEN = "完成", "未完成", "错误"
EXCLUDED = "不参与"  # the role's exclude_if applies (S9: 缺岗月数 > 2)

SETTINGS_SHEET = "设置"  # the month's rule book: grade thresholds and pay parameters
ROSTER_SHEET = "名单"  # the people of a scorecard book, and of the HR master workbook
HOME_SHEET = "首页"  # the HR master workbook's buttons
STATUS_CELL = "B4"  # 首页: the last button's result, written there by the buttons

# An amount that depends on other cards (部门第一奖励, the deduction pool, a rank) before every
# card it depends on is complete and clean: shown in its cell, never paid.
PENDING = "待定"
SEE_REPORT = "见月度报表"  # a team-pay cell of a scorecard: the monthly report computes it
