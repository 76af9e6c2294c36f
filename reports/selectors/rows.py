"""One stored summary row as the pages show it, build status, and the shared chart helpers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils.safestring import SafeString

from reports import charts, growth
from reports.models import (
    GrowthBuild,
    GrowthSummary,
    SuppressionReason,
)

BAND_ORDER = [band.value for band in growth.ProficiencyBand]


# One stored summary row, as shown


@dataclass(frozen=True)
class SkillCell:
    """One skill of a summary: means over the students with it at pre and post, or hidden."""

    code: str
    description: str = ""
    is_suppressed: bool = False
    n: int | None = None
    mean_pre: float | None = None
    mean_post: float | None = None

    @property
    def gain(self) -> float | None:
        if self.mean_pre is None or self.mean_post is None:
            return None
        return self.mean_post - self.mean_pre


@dataclass(frozen=True)
class SkillGap:
    code: str
    is_suppressed: bool
    pre_gap: float | None = None
    post_gap: float | None = None
    gap_change: float | None = None


@dataclass(frozen=True)
class Transition:
    """Students who started in one proficiency band, counted by the band they ended in."""

    pre_band: str
    counts: tuple[int, ...]


@dataclass(frozen=True)
class Summary:
    """The shown statistics of one stored summary row; its moments are never read."""

    is_suppressed: bool
    is_small: bool
    n: int | None
    incomplete_count: int | None
    mean_pre: float | None
    mean_post: float | None
    mean_gain: float | None
    mean_gain_lower: float | None
    mean_gain_upper: float | None
    class_average_normalized_gain: float | None
    hake_band: str
    mean_individual_normalized_gain: float | None
    at_ceiling_count: int | None
    little_room_to_grow_count: int | None
    effect_size_d_av: float | None
    target_met_count: int | None
    share_meeting_target: float | None
    transitions: tuple[Transition, ...]
    skills: tuple[SkillCell, ...]
    pre_gap: float | None
    post_gap: float | None
    gap_change: float | None
    skill_gaps: tuple[SkillGap, ...]
    built_at: datetime

    @property
    def has_growth(self) -> bool:
        """Shown, with at least one student who has both a pre and a post."""
        return not self.is_suppressed and bool(self.n)


def summary_of(row: GrowthSummary, skill_descriptions: dict[str, str] | None = None) -> Summary:
    descriptions = skill_descriptions or {}
    skills = []
    for code, means in sorted(row.skill_means.items()):
        if means.get("suppressed"):
            skills.append(
                SkillCell(code=code, description=descriptions.get(code, ""), is_suppressed=True)
            )
        else:
            skills.append(
                SkillCell(
                    code=code,
                    description=descriptions.get(code, ""),
                    n=means["n"],
                    mean_pre=means["pre"],
                    mean_post=means["post"],
                )
            )
    return Summary(
        is_suppressed=row.is_suppressed,
        is_small=row.suppression_reason == SuppressionReason.FEWER_THAN_MINIMUM,
        n=row.n,
        incomplete_count=row.incomplete_count,
        mean_pre=row.mean_pre_percentage,
        mean_post=row.mean_post_percentage,
        mean_gain=row.mean_gain,
        mean_gain_lower=row.mean_gain_lower,
        mean_gain_upper=row.mean_gain_upper,
        class_average_normalized_gain=row.class_average_normalized_gain,
        hake_band=row.hake_band,
        mean_individual_normalized_gain=row.mean_individual_normalized_gain,
        at_ceiling_count=row.at_ceiling_count,
        little_room_to_grow_count=row.little_room_to_grow_count,
        effect_size_d_av=row.effect_size_d_av,
        target_met_count=row.target_met_count,
        share_meeting_target=row.share_meeting_target,
        transitions=tuple(
            Transition(
                pre_band=before,
                counts=tuple(
                    int(row.band_transitions.get(f"{before}>{after}", 0)) for after in BAND_ORDER
                ),
            )
            for before in BAND_ORDER
        )
        if row.band_transitions
        else (),
        skills=tuple(skills),
        pre_gap=row.pre_gap,
        post_gap=row.post_gap,
        gap_change=row.gap_change,
        skill_gaps=tuple(
            SkillGap(code=code, is_suppressed=True)
            if gaps.get("suppressed")
            else SkillGap(
                code=code,
                is_suppressed=False,
                pre_gap=gaps["pre"],
                post_gap=gaps["post"],
                gap_change=gaps["change"],
            )
            for code, gaps in sorted(row.skill_gaps.items())
        ),
        built_at=row.built_at,
    )


def summary_pre_post(
    label: str, summary: Summary | None, detail: str = ""
) -> charts.PrePost | None:
    if summary is None or not summary.has_growth:
        return None
    if summary.mean_pre is None or summary.mean_post is None:
        return None
    return charts.PrePost(label=label, pre=summary.mean_pre, post=summary.mean_post, detail=detail)


def chart_or_none(
    rows: Iterable[charts.PrePost | None],
    *,
    chart_id: str,
    title: str,
    plot_width: int = 220,
    is_small: bool = False,
) -> SafeString | None:
    shown = [row for row in rows if row is not None]
    if not shown:
        return None
    return charts.pre_post_chart(
        shown,
        chart_id=chart_id,
        title=title,
        plot_width=plot_width,
        axis_title="" if is_small else "mean percentage (pre ○ → post ●)",
    )


# Build status


@dataclass(frozen=True)
class BuildStatus:
    """When the shown rows were built, whether a score change is waiting to be built, and
    whether the update of some classroom units failed (their rows are those last built)."""

    built_at: datetime | None
    pending_count: int
    pending_since: datetime | None
    failed_count: int = 0
    failed_at: datetime | None = None
    failure_message: str = ""

    @property
    def is_pending(self) -> bool:
        return self.pending_count > 0

    @property
    def is_failed(self) -> bool:
        return self.failed_count > 0


def _has_failed(build: GrowthBuild) -> bool:
    """A recorded failure counts until a build started after it."""
    if build.failed_at is None:
        return False
    return build.built_at is None or build.built_at < build.failed_at


def _failed_at(build: GrowthBuild) -> datetime:
    assert build.failed_at is not None  # noqa: S101 - only failed builds are sorted by it
    return build.failed_at


def build_status_of(builds: Iterable[GrowthBuild]) -> BuildStatus:
    builds = list(builds)
    built = [build.built_at for build in builds if build.built_at is not None]
    failed = sorted((build for build in builds if _has_failed(build)), key=_failed_at)
    pending = [
        build.stale_since
        for build in builds
        if build.stale_since is not None and not _has_failed(build)
    ]
    return BuildStatus(
        built_at=max(built) if built else None,
        pending_count=len(pending),
        pending_since=min(pending) if pending else None,
        failed_count=len(failed),
        failed_at=failed[-1].failed_at if failed else None,
        failure_message=failed[-1].failure_message if failed else "",
    )
