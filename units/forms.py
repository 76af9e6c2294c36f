"""Forms of the unit planner: they check the shape of what was typed; the plan rules are
units.services' (a PlanSpec built here is checked and saved there, so the planner, the set-up
admin and the API give the same messages)."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from classrooms.models import GradeLevel
from units.models import MAX_UNIT_WEEKS, REFLECTION_MAX_LENGTH, AssessmentKind
from units.services import AssessmentSpec, MeasureSpec, PlanSpec, SkillSpec, parse_measures


class UnitDetailsForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    subject = forms.CharField(label=_("Subject"), max_length=80)
    grade_level = forms.ChoiceField(label=_("Grade"), choices=GradeLevel.choices)
    weeks = forms.IntegerField(
        label=_("Weeks"),
        min_value=2,
        max_value=MAX_UNIT_WEEKS,
        help_text=_("The post-assessment falls in the last week."),
    )


class SkillRowForm(forms.Form):
    code = forms.CharField(
        label=_("Skill code"),
        max_length=40,
        required=False,
        help_text=_("Letters, digits, '.', '-' and '_', e.g. RL.3.2"),
    )
    description = forms.CharField(label=_("Short description"), max_length=300, required=False)

    def is_blank(self) -> bool:
        return not any((self.cleaned_data.get(name) or "").strip() for name in self.fields)


class AssessmentRowForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AssessmentKind.choices)
    week = forms.IntegerField(label=_("Week"), required=False, min_value=1, max_value=99)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    measures = forms.CharField(
        label=_("Skills measured"),
        required=False,
        help_text=_("Skill code = max points, separated by commas, e.g. RL.3.2=4, RL.3.3=6"),
    )

    def clean_measures(self) -> tuple[MeasureSpec, ...]:
        return parse_measures(self.cleaned_data.get("measures") or "")

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("title") or "").strip() and not data.get("measures")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.is_blank() and data.get("week") is None and "week" not in self.errors:
            self.add_error("week", _("Give the week of this assessment."))
        return data


SkillFormSet = forms.formset_factory(SkillRowForm, extra=0)
AssessmentFormSet = forms.formset_factory(AssessmentRowForm, extra=0)


def plan_from_forms(
    details: UnitDetailsForm,
    skills: Any,
    assessments: Any,
    *,
    skill_ids: dict[str, int],
    assessment_ids: dict[str, int],
) -> PlanSpec:
    """The plan the valid forms describe; blank rows are left out. ``skill_ids`` (by code) and
    ``assessment_ids`` (by title) keep the rows of the version being edited, so a kept skill or
    assessment stays the same row."""
    return PlanSpec(
        weeks=details.cleaned_data["weeks"],
        skills=tuple(
            SkillSpec(
                code=form.cleaned_data["code"].strip(),
                description=form.cleaned_data["description"].strip(),
                id=skill_ids.get(form.cleaned_data["code"].strip()),
            )
            for form in skills
            if not form.is_blank()
        ),
        assessments=tuple(
            AssessmentSpec(
                kind=form.cleaned_data["kind"],
                week=form.cleaned_data["week"],
                title=form.cleaned_data["title"].strip(),
                measures=form.cleaned_data["measures"],
                id=assessment_ids.get(form.cleaned_data["title"].strip()),
            )
            for form in assessments
            if not form.is_blank()
        ),
    )


def lenient_assessments(data: Any) -> list[AssessmentSpec]:
    """The assessment rows as drawn so far, for the data burden: rows with a title or measures,
    each with the measures that already read well (the rest are counted once they do)."""
    specs = []
    try:
        total = min(int(data.get("assessments-TOTAL_FORMS", 0)), 40)
    except ValueError:
        total = 0
    for index in range(total):
        prefix = f"assessments-{index}-"
        title = (data.get(prefix + "title") or "").strip()
        measures: list[MeasureSpec] = []
        for item in (data.get(prefix + "measures") or "").replace(";", ",").split(","):
            try:
                measures += parse_measures(item)
            except ValidationError:
                continue
        if not title and not measures:
            continue
        week_text = data.get(prefix + "week") or ""
        week = int(week_text) if week_text.isdigit() else 0
        kind = data.get(prefix + "kind") or AssessmentKind.FORMATIVE
        specs.append(AssessmentSpec(kind=kind, week=week, title=title, measures=tuple(measures)))
    return specs


class SectionStartForm(forms.Form):
    """One of my sections on the start page: whether to start the unit there, and from when."""

    chosen = forms.BooleanField(required=False)
    start_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label=_("Start date")
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("chosen") and not data.get("start_date") and "start_date" not in self.errors:
            self.add_error("start_date", _("Give the date this section starts the unit."))
        return data


class ReflectionForm(forms.Form):
    reflection = forms.CharField(
        label=_("One line for next time"), max_length=REFLECTION_MAX_LENGTH, required=False
    )


class RolloverForm(forms.Form):
    from_year: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=None, label=_("Shared units of")
    )
    to_year: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=None, label=_("Copy them into")
    )

    def __init__(self, *args: Any, years: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from_year"].queryset = years  # type: ignore[attr-defined]
        self.fields["to_year"].queryset = years  # type: ignore[attr-defined]


def default_start(today: datetime.date) -> datetime.date:
    """The Monday of next week: when a unit planned today usually starts."""
    return today + datetime.timedelta(days=7 - today.weekday())
