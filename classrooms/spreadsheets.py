"""Text a spreadsheet shows as text, never runs as a formula: one rule for every file Thinslice
writes (score templates, exports, in CSV and XLSX), kept here, in the lowest app, so each app
that writes a file uses the same one.

A spreadsheet runs a cell as a formula when it starts with ``=``, ``+``, ``-`` or ``@`` (tab and
carriage return too, in some), and Japanese and Chinese spreadsheets also take the fullwidth
``＝ ＋ － ＠``. A CSV opened in a spreadsheet whose list separator is not the comma (``;`` in much
of Europe, also tab and ``|``) splits a cell at that separator, so a formula may start after any
of them (``Smith;=1+1;``). Each such start gets a single quote before it (the OWASP rule): the
cell is shown as written, with the quote, and nothing runs. Numbers are never text cells, so they
stay numbers.
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
SEPARATORS = (",", ";", "\t", "|")

_STARTS = "".join(re.escape(start) for start in FORMULA_STARTS)
_SEPARATORS = "".join(re.escape(separator) for separator in SEPARATORS)
_FORMULA = re.compile(f"(^|[{_SEPARATORS}])( *)(?=[{_STARTS}])")
_QUOTED = re.compile(f"(^|[{_SEPARATORS}])( *)'(?=[{_STARTS}])")

# The same rule as a PostgreSQL regular expression and replacement (for exports that COPY):
# the characters are written as they are (a tab and a carriage return included), and the
# hyphen first in its bracket, where it is no range.
_SQL_STARTS = "-" + "".join(start for start in FORMULA_STARTS if start != "-")
SQL_FORMULA_PATTERN = f"(^|[{''.join(SEPARATORS)}])( *)(?=[{_SQL_STARTS}])"
SQL_FORMULA_REPLACEMENT = r"\1\2'"


def spreadsheet_safe(text: str) -> str:
    """``text`` with a quote before every place a spreadsheet could start a formula."""
    return _FORMULA.sub(r"\1\2'", text)


def spreadsheet_unquote(text: str) -> str:
    """Undo ``spreadsheet_safe``: a file Thinslice wrote reads back as it was."""
    return _QUOTED.sub(r"\1\2", text)


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could run some of ``text`` as a formula."""
    return _FORMULA.search(text) is not None
