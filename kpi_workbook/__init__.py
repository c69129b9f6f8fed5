"""kpi-workbook: monthly performance scorecards (绩效考核表) as rules-as-data.

Layers, data flowing one way: ``rules`` (templates and their schema) → ``engine`` (pure
scoring) → workbook, report and CLI at the edge.
"""

__version__ = "0.1.0"
