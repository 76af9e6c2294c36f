"""What a typed or pasted score cell means: the one rule for a valid cell.

The grid checks each cell in the browser with ``static/assessments/score_cells.js`` and the
server reads it here; both run the same table of cases (``tests/cases/score_cells.json``), so a
value the grid accepts is the value the server saves, and a refusal reads the same everywhere
(grid, API, CSV upload).

A cell is empty, a status word (A/ab/absent, X/ex/exempt, any case), or points: ASCII, fullwidth
or Arabic-Indic digits, a point or a comma as the decimal separator, at most 2 decimals, from 0 to
the skill's max. "1,000" is refused: it could be one or one thousand. Exponents, NaN and infinity
are not scores.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext

from assessments.models import ScoreStatus
from units.services import format_points

STATUS_WORDS = {
    "a": ScoreStatus.ABSENT,
    "ab": ScoreStatus.ABSENT,
    "absent": ScoreStatus.ABSENT,
    "x": ScoreStatus.EXEMPT,
    "ex": ScoreStatus.EXEMPT,
    "exempt": ScoreStatus.EXEMPT,
}

# Digits of the Arabic script (NFKC leaves them alone) and the Arabic decimal separator.
_ARABIC_DIGITS = {ord(digit): str(value) for value, digit in enumerate("٠١٢٣٤٥٦٧٨٩")}
_PERSIAN_DIGITS = {ord(digit): str(value) for value, digit in enumerate("۰۱۲۳۴۵۶۷۸۹")}
_TO_ASCII = {**_ARABIC_DIGITS, **_PERSIAN_DIGITS, ord("٫"): "."}
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)")
_THOUSANDS = re.compile(r"[+-]?[1-9][0-9]{0,2},[0-9]{3}")
_HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True)
class CellValue:
    status: str  # "" for an empty cell
    points: Decimal | None

    @property
    def shown(self) -> str:
        if self.status == ScoreStatus.SCORED and self.points is not None:
            return format_points(self.points)
        letters: dict[str, str] = {ScoreStatus.ABSENT: "A", ScoreStatus.EXEMPT: "X"}
        return letters.get(self.status, "")


EMPTY = CellValue(status="", points=None)


def _plain(typed: str) -> str:
    """Fullwidth and Arabic-script digits and separators as ASCII."""
    return unicodedata.normalize("NFKC", typed).translate(_TO_ASCII)


def parse_cell(text: str, max_points: Decimal) -> CellValue:
    """Read what a teacher typed: points 0..max (at most 2 decimals), A/X, or empty.

    Raises ValueError with the reason shown next to the cell.
    """
    typed = text.strip()
    if typed == "":
        return EMPTY
    plain = _plain(typed).strip()
    status = STATUS_WORDS.get(plain.lower())
    if status is not None:
        return CellValue(status=status, points=None)
    if _THOUSANDS.fullmatch(plain):
        raise ValueError(
            gettext(
                "'%(typed)s' could be %(small)s or %(large)s: "
                "type the points without a thousands separator."
            )
            % {
                "typed": typed,
                "small": format_points(Decimal(plain.replace(",", "."))),
                "large": plain.replace(",", "").lstrip("+"),
            }
        )
    if not _NUMBER.fullmatch(plain):
        raise ValueError(
            gettext(
                "'%(typed)s' is not a score: type points from 0 to %(max)s, "
                "A for absent or X for exempt."
            )
            % {"typed": typed, "max": format_points(max_points)}
        )
    number = plain.replace(",", ".")
    decimals = number.partition(".")[2].rstrip("0")
    if len(decimals) > 2:
        raise ValueError(gettext("'%(typed)s' has more than 2 decimals.") % {"typed": typed})
    points = Decimal(number)
    if points == 0:
        points = abs(points)  # "-0" is 0
    if points < 0 or points > max_points:
        raise ValueError(
            gettext("%(typed)s is outside 0 to %(max)s points.")
            % {"typed": typed, "max": format_points(max_points)}
        )
    return CellValue(status=ScoreStatus.SCORED, points=points.quantize(_HUNDREDTH))
