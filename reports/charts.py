"""Server-rendered SVG charts of stored growth rows: no JavaScript, no third party.

Every chart has a <title> and <desc> (named by aria-labelledby), labelled axes, and a <title>
on each mark so its value shows on hover and reaches screen readers; the key values are also
printed as text, so a printout reads without hovering. Colours are Okabe–Ito (safe for the
common colour-vision deficiencies), and no meaning rests on colour alone: declines are dashed,
pre markers hollow and post markers filled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Okabe & Ito (2008), "Color Universal Design".
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
GRID = "#d9dde3"
MUTED = "#5b6472"

PRE_COLOUR = SKY_BLUE
POST_COLOUR = BLUE
DECLINE_COLOUR = VERMILLION
FONT = 'font-family="system-ui, sans-serif"'


def _f(value: float) -> str:
    return f"{value:.1f}"


def _text(
    x: float, y: float, content: str, *, anchor: str = "start", size: int = 11, extra: str = ""
) -> str:
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" {FONT} font-size="{size}" '
        f'fill="{BLACK}"{extra}>{escape(content)}</text>'
    )


def _svg(
    *, chart_id: str, title: str, description: str, width: int, height: int, body: Iterable[str]
) -> SafeString:
    safe_id = escape(chart_id)
    return mark_safe(  # noqa: S308 - every piece of text above went through escape()
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" aria-labelledby="{safe_id}-title {safe_id}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{safe_id}-title">{escape(title)}</title>'
        f'<desc id="{safe_id}-desc">{escape(description)}</desc>' + "".join(body) + "</svg>"
    )


def percentage_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _gain_words(pre: float, post: float) -> str:
    return f"gain {post - pre:+.1f} points"


# --------------------------------------------------------------------------------------------
# Pre → post on one 0–100 axis (the overview's small chart, skills, groups)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrePost:
    """One row of a pre → post chart; pre and post are mean percentages."""

    label: str
    pre: float
    post: float
    detail: str = ""


def pre_post_chart(
    rows: Sequence[PrePost],
    *,
    chart_id: str,
    title: str,
    plot_width: int = 220,
    axis_title: str = "mean percentage (pre ○ → post ●)",
) -> SafeString:
    """One row per label: a hollow dot at mean pre, a filled dot at mean post, joined by a line
    (dashed when it falls), on a shared 0–100% axis ``plot_width`` wide; numbers printed at the
    right. A small chart in a table column leaves ``axis_title`` empty: the column header names
    the axis."""
    longest = max((len(row.label) for row in rows), default=0)
    label_width = 0 if longest == 0 else min(200, 12 + int(longest * 6.4))
    value_width = 70
    left = label_width + 10
    right = left + plot_width
    width = right + value_width
    row_height = 22
    top = 8
    height = top + row_height * len(rows) + (28 if axis_title else 16)

    def x(percentage: float) -> float:
        return left + (right - left) * max(0.0, min(100.0, percentage)) / 100

    body = []
    for tick in (0, 25, 50, 75, 100):
        body.append(
            f'<line x1="{_f(x(tick))}" x2="{_f(x(tick))}" y1="{top}" '
            f'y2="{top + row_height * len(rows)}" stroke="{GRID}" />'
        )
        body.append(_text(x(tick), top + row_height * len(rows) + 12, f"{tick}", anchor="middle"))
    if axis_title:
        body.append(
            _text(
                (left + right) / 2, top + row_height * len(rows) + 25, axis_title, anchor="middle"
            )
        )
    for index, row in enumerate(rows):
        y = top + row_height * index + row_height / 2
        declines = row.post < row.pre
        colour = DECLINE_COLOUR if declines else POST_COLOUR
        dash = ' stroke-dasharray="4 3"' if declines else ""
        words = (
            f"{row.label + ': ' if row.label else ''}mean pre {percentage_text(row.pre)}, "
            f"mean post {percentage_text(row.post)}, {_gain_words(row.pre, row.post)}"
            f"{'; ' + row.detail if row.detail else ''}"
        )
        body.append(f"<g><title>{escape(words)}</title>")
        if row.label:
            body.append(_text(label_width, y + 4, row.label, anchor="end"))
        body.append(
            f'<line x1="{_f(x(row.pre))}" x2="{_f(x(row.post))}" y1="{_f(y)}" y2="{_f(y)}" '
            f'stroke="{colour}" stroke-width="3"{dash} />'
            f'<circle cx="{_f(x(row.pre))}" cy="{_f(y)}" r="5" fill="#ffffff" '
            f'stroke="{PRE_COLOUR}" stroke-width="2.5" />'
            f'<circle cx="{_f(x(row.post))}" cy="{_f(y)}" r="5" fill="{colour}" />'
        )
        body.append(_text(right + 8, y + 4, f"{row.pre:.0f} → {row.post:.0f}"))
        body.append("</g>")
    return _svg(
        chart_id=chart_id,
        title=title,
        description="; ".join(
            f"{row.label or 'All'}: {row.pre:.1f}% to {row.post:.1f}%" for row in rows
        ),
        width=width,
        height=height,
        body=body,
    )


# --------------------------------------------------------------------------------------------
# Slope chart: each student's pre → post
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudentPrePost:
    name: str
    pre: float
    post: float


def slope_chart(students: Sequence[StudentPrePost], *, chart_id: str, title: str) -> SafeString:
    """A line per student from pre% (left axis) to post% (right axis), in name order.

    Rising lines are solid blue, falling ones dashed vermillion, flat ones dotted black.
    """
    width, height = 520, 380
    left, right, top, bottom = 110, 350, 24, 340

    def y(percentage: float) -> float:
        return bottom - (bottom - top) * percentage / 100

    body = []
    for tick in (0, 25, 50, 75, 100):
        body.append(
            f'<line x1="{left}" x2="{right}" y1="{_f(y(tick))}" y2="{_f(y(tick))}" '
            f'stroke="{GRID}" />'
        )
        body.append(_text(left - 8, y(tick) + 4, f"{tick}%", anchor="end"))
    body.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{bottom}" stroke="{BLACK}" />')
    body.append(f'<line x1="{right}" x2="{right}" y1="{top}" y2="{bottom}" stroke="{BLACK}" />')
    body.append(_text(left, bottom + 20, "Pre-assessment", anchor="middle"))
    body.append(_text(right, bottom + 20, "Post-assessment", anchor="middle"))
    body.append(
        _text(
            16,
            (top + bottom) / 2,
            "percentage",
            anchor="middle",
            extra=f' transform="rotate(-90 16 {_f((top + bottom) / 2)})"',
        )
    )
    for student in students:
        change = student.post - student.pre
        if change > 0:
            style = f'stroke="{BLUE}"'
        elif change < 0:
            style = f'stroke="{DECLINE_COLOUR}" stroke-dasharray="6 4"'
        else:
            style = f'stroke="{BLACK}" stroke-dasharray="2 3"'
        words = (
            f"{student.name}: pre {percentage_text(student.pre)} → post "
            f"{percentage_text(student.post)} ({_gain_words(student.pre, student.post)})"
        )
        body.append(
            f"<g><title>{escape(words)}</title>"
            f'<line x1="{left}" x2="{right}" y1="{_f(y(student.pre))}" '
            f'y2="{_f(y(student.post))}" {style} stroke-width="2" stroke-opacity="0.85" />'
            f'<circle cx="{left}" cy="{_f(y(student.pre))}" r="3.5" fill="#ffffff" '
            f'stroke="{PRE_COLOUR}" stroke-width="2" />'
            f'<circle cx="{right}" cy="{_f(y(student.post))}" r="3.5" fill="{POST_COLOUR}" />'
            "</g>"
        )
    grew = sum(1 for s in students if s.post > s.pre)
    fell = sum(1 for s in students if s.post < s.pre)
    body.append(_text(right + 12, top + 10, f"{grew} rose (solid)"))
    body.append(_text(right + 12, top + 26, f"{fell} fell (dashed)"))
    body.append(_text(right + 12, top + 42, f"{len(students) - grew - fell} unchanged (dotted)"))
    return _svg(
        chart_id=chart_id,
        title=title,
        description=(
            f"{len(students)} students with a pre and a post: {grew} rose, {fell} fell. "
            "Each student's values are in the table below."
        ),
        width=width,
        height=height,
        body=body,
    )


# --------------------------------------------------------------------------------------------
# Checkpoint trajectories
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrajectoryPoint:
    week: float
    percentage: float


@dataclass(frozen=True)
class StudentTrajectory:
    name: str
    points: tuple[TrajectoryPoint, ...]
    slope_per_week: float | None


@dataclass(frozen=True)
class AssessmentMean:
    week: int
    title: str
    mean: float | None
    n: int


def trajectory_chart(
    students: Sequence[StudentTrajectory],
    means: Sequence[AssessmentMean],
    *,
    weeks: int,
    chart_id: str,
    title: str,
) -> SafeString:
    """Each student's percentages week by week (thin sky-blue lines) under the class mean at
    each assessment (thick black line, labelled)."""
    width, height = 560, 340
    left, right, top, bottom = 56, 530, 20, 290

    def x(week: float) -> float:
        span = max(1, weeks - 1)
        return left + (right - left) * (week - 1) / span

    def y(percentage: float) -> float:
        return bottom - (bottom - top) * percentage / 100

    body = []
    for tick in (0, 25, 50, 75, 100):
        body.append(
            f'<line x1="{left}" x2="{right}" y1="{_f(y(tick))}" y2="{_f(y(tick))}" '
            f'stroke="{GRID}" />'
        )
        body.append(_text(left - 6, y(tick) + 4, f"{tick}%", anchor="end"))
    for week in range(1, weeks + 1):
        body.append(_text(x(week), bottom + 16, f"{week}", anchor="middle"))
    body.append(_text((left + right) / 2, bottom + 34, "week of the unit", anchor="middle"))
    body.append(
        _text(
            14,
            (top + bottom) / 2,
            "percentage",
            anchor="middle",
            extra=f' transform="rotate(-90 14 {_f((top + bottom) / 2)})"',
        )
    )
    for student in students:
        if not student.points:
            continue
        slope = (
            "no slope"
            if student.slope_per_week is None
            else f"slope {student.slope_per_week:+.1f} points per week"
        )
        words = (
            f"{student.name}: "
            + ", ".join(f"week {p.week:g} {p.percentage:.1f}%" for p in student.points)
            + f" ({slope})"
        )
        path = " ".join(
            f"{'M' if index == 0 else 'L'}{_f(x(p.week))},{_f(y(p.percentage))}"
            for index, p in enumerate(student.points)
        )
        body.append(
            f'<g><title>{escape(words)}</title><path d="{path}" fill="none" '
            f'stroke="{SKY_BLUE}" stroke-width="1.5" stroke-opacity="0.7" />'
            + "".join(
                f'<circle cx="{_f(x(p.week))}" cy="{_f(y(p.percentage))}" r="2" '
                f'fill="{SKY_BLUE}" />'
                for p in student.points
            )
            + "</g>"
        )
    shown = [mean for mean in means if mean.mean is not None]
    if shown:
        path = " ".join(
            f"{'M' if index == 0 else 'L'}{_f(x(m.week))},{_f(y(m.mean or 0))}"
            for index, m in enumerate(shown)
        )
        body.append(f'<path d="{path}" fill="none" stroke="{BLACK}" stroke-width="3" />')
        for mean in shown:
            value = mean.mean or 0.0
            words = f"{mean.title}, week {mean.week}: class mean {value:.1f}% ({mean.n} students)"
            body.append(
                f"<g><title>{escape(words)}</title>"
                f'<circle cx="{_f(x(mean.week))}" cy="{_f(y(value))}" r="5" fill="{BLACK}" />'
                + _text(x(mean.week), y(value) - 9, f"{value:.0f}%", anchor="middle")
                + "</g>"
            )
    return _svg(
        chart_id=chart_id,
        title=title,
        description="Class mean by assessment: "
        + "; ".join(f"{m.title} (week {m.week}) {percentage_text(m.mean)}" for m in means),
        width=width,
        height=height,
        body=body,
    )


# --------------------------------------------------------------------------------------------
# Distribution of normalized gain
# --------------------------------------------------------------------------------------------

G_BIN_LABELS = ("below 0", *(f"{k / 10:.1f}–{(k + 1) / 10:.1f}" for k in range(10)))


def g_bins(values: Iterable[float]) -> list[int]:
    """Counts per bin: below 0, then [0, 0.1), … [0.9, 1.0] (g never exceeds 1)."""
    counts = [0] * len(G_BIN_LABELS)
    for value in values:
        if value < 0:
            counts[0] += 1
        else:
            counts[1 + min(9, int(value * 10 + 1e-9))] += 1
    return counts


def g_histogram(
    values: Sequence[float], *, at_ceiling: int, chart_id: str, title: str
) -> SafeString:
    """Students per band of normalized gain g, with the Hake thresholds 0.3 and 0.7 marked.

    Students at the ceiling (pre = 100%) have no g; the description says how many.
    """
    counts = g_bins(values)
    width, height = 560, 260
    left, right, top, bottom = 44, 540, 28, 200
    tallest = max(counts) if any(counts) else 1
    slot = (right - left) / len(counts)

    def y(count: float) -> float:
        return bottom - (bottom - top) * count / tallest

    body = [f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="{BLACK}" />']
    for boundary, words in ((4, "medium from 0.3"), (8, "high from 0.7")):
        position = left + slot * boundary
        body.append(
            f'<line x1="{_f(position)}" x2="{_f(position)}" y1="{top - 10}" y2="{bottom}" '
            f'stroke="{MUTED}" stroke-dasharray="3 3" />'
        )
        body.append(_text(position + 3, top - 14, words))
    for index, (label, count) in enumerate(zip(G_BIN_LABELS, counts, strict=True)):
        x = left + slot * index
        colour = VERMILLION if index == 0 else (ORANGE if index < 4 else BLUE)
        body.append(
            f"<g><title>{escape(f'g {label}: {count} students')}</title>"
            f'<rect x="{_f(x + 3)}" y="{_f(y(count))}" width="{_f(slot - 6)}" '
            f'height="{_f(bottom - y(count))}" fill="{colour}" />'
            + _text(x + slot / 2, y(count) - 4, f"{count}", anchor="middle")
            + "</g>"
        )
        body.append(
            _text(
                x + slot / 2,
                bottom + 14,
                label,
                anchor="middle",
                size=9,
            )
        )
    body.append(
        _text((left + right) / 2, bottom + 34, "normalized gain g of each student", anchor="middle")
    )
    body.append(
        _text(
            12,
            (top + bottom) / 2,
            "students",
            anchor="middle",
            extra=f' transform="rotate(-90 12 {_f((top + bottom) / 2)})"',
        )
    )
    return _svg(
        chart_id=chart_id,
        title=title,
        description=(
            ", ".join(
                f"{label}: {count}" for label, count in zip(G_BIN_LABELS, counts, strict=True)
            )
            + f". {at_ceiling} at the ceiling (pre 100%) have no g and are not counted."
        ),
        width=width,
        height=height,
        body=body,
    )
