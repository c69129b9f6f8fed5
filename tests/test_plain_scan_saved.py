"""The fast reader of sheet parts reads the books LibreOffice and Gnumeric saved as expat
reads them (test_plain_scan.py has the rest).

Apart from test_plain_scan.py because it needs the session's month book (tests/engines.py),
whose modules run last (tests/background.py): test_plain_scan's other tests run meanwhile.
"""

from __future__ import annotations

from .engines import month_book
from .test_plain_scan import assert_same_both_ways


def test_books_saved_by_libreoffice_and_gnumeric_read_the_same_both_ways(tmp_path_factory):
    month = month_book(tmp_path_factory)  # the session's month book, filled and recalculated
    saved = sorted((month.path.parent / "recalculated").glob("*/*.xlsx"))
    assert {p.parent.name for p in saved} >= {"libreoffice", "gnumeric"}, saved
    for path in [month.path, *saved]:  # a card of everyone and 3 more sheets each, of every
        # role: each 3rd is plenty
        assert assert_same_both_ways(path, every=3) > len(month.people) // 3
