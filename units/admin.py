"""Set-up pages for units: skills and the thin-slice assessment plan on one page.

The page's inline forms are turned into a PlanSpec, checked and saved by units.services, so the
admin shows the same messages the API gives and never saves half a plan.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import construct_change_message
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from classrooms.admin_scoping import ScopedAdmin, ScopedInline, site
from units import services
from units.models import Assessment, ClassroomUnit, Skill, Unit


class AssessmentInlineForm(forms.ModelForm):
    measures = forms.CharField(
        label="Skills measured",
        help_text="Skill code = max points, separated by commas, e.g. FR.1=4, FR.2=6",
        widget=forms.TextInput(attrs={"size": 30}),
    )

    class Meta:
        model = Assessment
        fields = ["kind", "week", "title"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["measures"].initial = services.format_measures(self.instance)

    def clean_measures(self) -> tuple[services.MeasureSpec, ...]:
        return services.parse_measures(self.cleaned_data["measures"])

    def _post_clean(self) -> None:
        # Plan-level rules are checked by the formset through the service; unique and check
        # constraints that span the plan (one pre, one post) are among them.
        pass


class _PlanFormSetMixin:
    """Lets the assessment formset read the skill formset of the same page."""

    def __init__(self, *args: Any, plan_forms: dict[str, Any] | None = None, **kwargs: Any):
        self.plan_forms = plan_forms if plan_forms is not None else {}
        super().__init__(*args, **kwargs)

    def kept_forms(self) -> list[Any]:
        return [
            form
            for form in self.forms  # type: ignore[attr-defined]
            if form.has_changed() or form.instance.pk
            if not (self.can_delete and self._should_delete_form(form))  # type: ignore[attr-defined]
        ]


class SkillFormSet(_PlanFormSetMixin, BaseInlineFormSet):
    def clean(self) -> None:
        self.plan_forms["skills"] = self


class AssessmentFormSet(_PlanFormSetMixin, BaseInlineFormSet):
    def clean(self) -> None:
        self.plan_forms["assessments"] = self
        skill_formset = self.plan_forms.get("skills")
        unit = self.instance
        if skill_formset is None or unit.district_id is None:
            return
        if any(form.errors for form in self.forms) or any(f.errors for f in skill_formset.forms):
            return
        plan = services.PlanSpec(
            weeks=unit.weeks,
            skills=tuple(
                services.SkillSpec(
                    code=form.cleaned_data.get("code", ""),
                    description=form.cleaned_data.get("description", ""),
                    id=form.instance.pk,
                )
                for form in skill_formset.kept_forms()
            ),
            assessments=tuple(
                services.AssessmentSpec(
                    kind=form.cleaned_data.get("kind", ""),
                    week=form.cleaned_data.get("week") or 0,
                    title=form.cleaned_data.get("title", ""),
                    measures=form.cleaned_data.get("measures", ()),
                    id=form.instance.pk,
                )
                for form in self.kept_forms()
            ),
        )
        problems = services.assessment_plan_check(unit=unit, plan=plan)
        if problems:
            raise ValidationError(problems)
        self.plan_forms["plan"] = plan


class SkillInline(ScopedInline):
    model = Skill
    formset = SkillFormSet
    fields = ["code", "description"]
    extra = 1


class AssessmentInline(ScopedInline):
    model = Assessment
    form = AssessmentInlineForm
    formset = AssessmentFormSet
    fields = ["kind", "week", "title", "measures"]
    extra = 1


@admin.register(Unit, site=site)
class UnitAdmin(ScopedAdmin):
    list_display = ["title", "version", "subject", "grade_level", "weeks"]
    # A unit's lineage and version are the service's to set (a new unit starts a lineage; a
    # change to a scored plan becomes the next version).
    exclude = ["lineage", "version"]
    list_filter = ["subject", "grade_level"]
    search_fields = ["title"]
    inlines = [SkillInline, AssessmentInline]

    def get_formset_kwargs(
        self, request: HttpRequest, obj: Any, inline: Any, prefix: str
    ) -> dict[str, Any]:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        kwargs["plan_forms"] = request.__dict__.setdefault("_unit_plan_forms", {})
        return kwargs

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The unit is saved together with its plan in save_related, by the service.
        pass

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        plan = request.__dict__["_unit_plan_forms"]["plan"]
        services.unit_plan_save(actor=request.user, unit=form.instance, plan=plan)

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> list[dict[str, Any]]:
        # The inline formsets never save (the service does), so only the unit's own fields count.
        return construct_change_message(form, [], add)


@admin.register(ClassroomUnit, site=site)
class ClassroomUnitAdmin(ScopedAdmin):
    list_display = ["unit", "classroom", "start_date"]
    autocomplete_fields = ["classroom"]
    list_select_related = ["unit", "classroom__school"]
