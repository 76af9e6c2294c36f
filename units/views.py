"""The unit planner: a person's units, writing and editing a plan with its data burden, starting
a unit in sections, using a unit again, sharing it, a class's reflection and moving a class to
a newer version, and the district's roll-over to a new school year.

Views check the shape of the input and call one service; who may do what is classrooms/access.py's
(through the services and ``visible_to``); the plan rules are units/services.py's. A refused write
shows the page again with every reason (status 400) and everything typed kept; a refusal of
rights is a 403 page that says why.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from classrooms import access
from classrooms.models import AcademicYear, District
from classrooms.scoped_views import ScopedView
from units import forms, library, selectors, services
from units.models import AssessmentKind, ClassroomUnit, Unit, UnitLineage

SKILL_ROWS = 5


def _forbidden(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "units/unit_forbidden.html", {"reason": reason}, status=403)


class _LibraryUnitView(ScopedView, View):
    """A page or action about one unit of the person's library (any version's id); a unit
    outside it is a 404. ``self.unit`` is the version named, ``self.latest`` the newest."""

    model = Unit
    unit: Unit
    latest: Unit

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        library = UnitLineage.objects.visible_to(self.request.user)
        return queryset.filter(lineage__in=library).select_related("lineage", "district")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.unit = get_object_or_404(self.get_queryset(), pk=kwargs["unit_id"])
        self.latest = services.unit_latest_version(self.unit)
        try:
            return super().dispatch(request, *args, **kwargs)
        except PermissionDenied as denied:
            return _forbidden(request, str(denied))


class UnitLibraryView(ScopedView, View):
    """My units, my school's shared units, the district's shared units (and for admins and
    coaches, the other units they may read), with what I may do with each."""

    model = UnitLineage

    def get(self, request: HttpRequest) -> HttpResponse:
        context = {
            "library": selectors.unit_library(user=request.user),
            "is_district_admin": bool(getattr(request.user, "is_district_admin", False)),
            "today": timezone.localdate(),
        }
        return render(request, "units/unit_library.html", context)


class _PlannerMixin:
    request: HttpRequest

    def planner_context(
        self, *, details: Any, skills: Any, assessments: Any, sections_chosen: list[int]
    ) -> dict[str, Any]:
        user: Any = self.request.user
        sections = list(selectors.my_sections(user=user))
        data = self.request.POST if self.request.method == "POST" else None
        specs = (
            forms.lenient_assessments(data)
            if data is not None
            else forms.lenient_assessments(_initial_as_data(assessments))
        )
        burden = selectors.plan_burden(
            assessments=specs,
            students=sum(
                counts
                for classroom_id, counts in selectors.section_student_counts(
                    user=user, classroom_ids=sections_chosen, today=timezone.localdate()
                ).items()
            ),
            sections=len(sections_chosen),
        )
        district = District.objects.get(pk=user.district_id) if user.district_id else None
        return {
            "details": details,
            "skills": skills,
            "assessments": assessments,
            "sections": sections,
            "sections_chosen": sections_chosen,
            "burden": burden,
            "formative_cap": district.formative_cap if district else None,
        }


def _initial_as_data(formset: Any) -> dict[str, str]:
    data = {"assessments-TOTAL_FORMS": str(len(formset.forms))}
    for index, form in enumerate(formset.forms):
        for name in ("kind", "week", "title", "measures"):
            value = form.initial.get(name, "")
            data[f"assessments-{index}-{name}"] = "" if value is None else str(value)
    return data


def _chosen_sections(request: HttpRequest, sections: list[Any] | None = None) -> list[int]:
    chosen = [int(value) for value in request.POST.getlist("sections") if value.isdigit()]
    visible = {section.pk for section in (sections or selectors.my_sections(user=request.user))}
    return [pk for pk in chosen if pk in visible]


def _with_more_rows(request: HttpRequest) -> Any:
    """The posted data with one more blank row of skills or assessments (the "add a row"
    buttons work without JavaScript)."""
    data = request.POST.copy()
    which = request.POST.get("more")
    if which in ("skills", "assessments"):
        key = f"{which}-TOTAL_FORMS"
        current = str(data.get(key, "0") or "0")
        total = int(current) + 1 if current.isdigit() else 1
        data[key] = str(total)
        if which == "assessments":
            data[f"assessments-{total - 1}-kind"] = AssessmentKind.FORMATIVE
    return data


class UnitPlanView(_PlannerMixin, ScopedView, View):
    """Write a new unit (``unit_id`` absent) or change the latest version of one I may edit.

    Saving a plan under which a class already has scores makes a new version; the page says so.
    """

    model = UnitLineage
    template_name = "units/unit_plan.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.editing: Unit | None = None
        if "unit_id" in kwargs:
            library = self.get_queryset()
            unit = get_object_or_404(
                Unit.objects.filter(lineage__in=library).select_related("lineage"),
                pk=kwargs["unit_id"],
            )
            self.editing = services.unit_latest_version(unit)
            if not access.can(request.user, "edit_unit", unit.lineage):
                return _forbidden(request, access.refusal_reason("edit_unit"))
        elif not request.user.district_id or not access.can(
            request.user, "write_units", request.user.district
        ):
            return _forbidden(request, access.refusal_reason("write_units"))
        return super().dispatch(request, *args, **kwargs)

    def _initial(self) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        if self.editing is None:
            user: Any = self.request.user
            district = user.district
            details: dict[str, Any] = {"weeks": 8}
            skills: list[dict[str, Any]] = [{} for _ in range(SKILL_ROWS)]
            assessments: list[dict[str, Any]] = [
                {"kind": AssessmentKind.PRE, "week": 1, "title": _("Pre-assessment")},
                *(
                    {"kind": AssessmentKind.FORMATIVE}
                    for _ in range(district.formative_cap if district else 3)
                ),
                {"kind": AssessmentKind.POST, "week": 8, "title": _("Post-assessment")},
            ]
            return details, skills, assessments
        unit = self.editing
        plan = services.plan_of(unit)
        details = {
            "title": unit.title,
            "subject": unit.subject,
            "grade_level": unit.grade_level,
            "weeks": unit.weeks,
        }
        skills = [{"code": s.code, "description": s.description} for s in plan.skills]
        skills += [{} for _ in range(2)]
        assessments = [
            {
                "kind": a.kind,
                "week": a.week,
                "title": a.title,
                "measures": ", ".join(
                    f"{m.skill_code}={services.format_points(m.max_points)}" for m in a.measures
                ),
            }
            for a in plan.assessments
        ]
        assessments.append({"kind": AssessmentKind.FORMATIVE})
        return details, skills, assessments

    def _render(self, context: dict[str, Any], status: int = 200) -> HttpResponse:
        context["editing"] = self.editing
        if self.editing is not None:
            context["lineage"] = self.editing.lineage
            context["is_frozen"] = services.unit_has_scores(self.editing)
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        details, skills, assessments = self._initial()
        context = self.planner_context(
            details=forms.UnitDetailsForm(initial=details),
            skills=forms.SkillFormSet(initial=skills, prefix="skills"),
            assessments=forms.AssessmentFormSet(initial=assessments, prefix="assessments"),
            sections_chosen=[],
        )
        return self._render(context)

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        data = _with_more_rows(request)
        details = forms.UnitDetailsForm(data)
        skills = forms.SkillFormSet(data, prefix="skills")
        assessments = forms.AssessmentFormSet(data, prefix="assessments")
        context = self.planner_context(
            details=details,
            skills=skills,
            assessments=assessments,
            sections_chosen=_chosen_sections(request),
        )
        if request.POST.get("more"):
            return self._render(context)
        if not (details.is_valid() & skills.is_valid() & assessments.is_valid()):
            context["problems"] = [_("Some fields need another look; they are marked below.")]
            return self._render(context, status=400)
        skill_ids: dict[str, int] = {}
        assessment_ids: dict[str, int] = {}
        if self.editing is not None:
            skill_ids = {s.code: s.pk for s in self.editing.skills.all()}
            assessment_ids = {a.title: a.pk for a in self.editing.assessments.all()}
        plan = forms.plan_from_forms(
            details, skills, assessments, skill_ids=skill_ids, assessment_ids=assessment_ids
        )
        user: Any = request.user
        unit = self.editing or Unit(district_id=user.district_id)
        for field in ("title", "subject", "grade_level"):
            setattr(unit, field, details.cleaned_data[field].strip())
        try:
            saved = services.unit_plan_save(actor=request.user, unit=unit, plan=plan)
        except ValidationError as refused:
            context["problems"] = refused.messages
            return self._render(context, status=400)
        except PermissionDenied as denied:
            return _forbidden(request, str(denied))
        if self.editing is not None and saved.pk != self.editing.pk:
            messages.success(
                request,
                _(
                    "Saved '%(title)s' as version %(version)s. Classes that already have scores "
                    "keep version %(old)s, exactly as it was."
                )
                % {"title": saved.title, "version": saved.version, "old": self.editing.version},
            )
        else:
            messages.success(request, _("Saved '%(title)s'.") % {"title": saved.title})
        return redirect("units:library")


class PlanBurdenView(ScopedView, View):
    """The data-burden line of the plan being drawn (htmx partial of the planner)."""

    model = UnitLineage

    def post(self, request: HttpRequest) -> HttpResponse:
        chosen = _chosen_sections(request)
        counts = selectors.section_student_counts(
            user=request.user, classroom_ids=chosen, today=timezone.localdate()
        )
        burden = selectors.plan_burden(
            assessments=forms.lenient_assessments(request.POST),
            students=sum(counts.values()),
            sections=len(chosen),
        )
        return render(request, "units/_burden.html", {"burden": burden})


class UnitStartView(_LibraryUnitView):
    """Start the unit's latest version in one or several of my sections, each from its date."""

    template_name = "units/unit_start.html"

    def _forms(self, data: Any = None) -> list[tuple[Any, forms.SectionStartForm]]:
        today = timezone.localdate()
        started = set(
            ClassroomUnit.objects.visible_to(self.request.user)
            .filter(unit__lineage_id=self.unit.lineage_id)
            .values_list("classroom_id", flat=True)
        )
        rows = []
        for section in selectors.my_sections(user=self.request.user):
            initial_date = max(forms.default_start(today), section.term.start_date)
            form = forms.SectionStartForm(
                data, prefix=f"section-{section.pk}", initial={"start_date": initial_date}
            )
            form.already_started = section.pk in started  # type: ignore[attr-defined]
            rows.append((section, form))
        return rows

    def _render(self, rows: list[Any], status: int = 200, problems: Any = ()) -> HttpResponse:
        counts = selectors.section_student_counts(
            user=self.request.user,
            classroom_ids=[section.pk for section, _form in rows],
            today=timezone.localdate(),
        )
        context = {
            "unit": self.latest,
            "rows": [(section, form, counts.get(section.pk, 0)) for section, form in rows],
            "problems": problems,
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return self._render(self._forms())

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        rows = self._forms(request.POST)
        if not all(form.is_valid() for _section, form in rows):
            return self._render(rows, 400, [_("Some dates need another look.")])
        starts = [
            services.SectionStart(classroom=section, start_date=form.cleaned_data["start_date"])
            for section, form in rows
            if form.cleaned_data.get("chosen")
        ]
        try:
            started = services.classroom_units_start(
                actor=request.user, unit=self.latest, starts=starts
            )
        except ValidationError as refused:
            return self._render(rows, 400, refused.messages)
        messages.success(
            request,
            _("Started '%(unit)s' in %(sections)s.")
            % {
                "unit": self.latest.title,
                "sections": ", ".join(cu.classroom.name for cu in started),
            },
        )
        return redirect("home")


class UnitCopyView(_LibraryUnitView):
    """ "Use again": a copy of the unit's latest version in my planner, with its reflections."""

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        year = None
        year_id = request.POST.get("academic_year", "")
        if year_id.isdigit():
            year = AcademicYear.objects.visible_to(request.user).filter(pk=int(year_id)).first()
        try:
            copy = library.unit_copy(actor=request.user, unit=self.latest, academic_year=year)
        except ValidationError as refused:
            messages.error(request, " ".join(refused.messages))
            return redirect("units:library")
        messages.success(
            request,
            _("'%(title)s' is now in your planner; change it as you need.") % {"title": copy.title},
        )
        return redirect("units:edit", unit_id=copy.pk)


class UnitShareView(_LibraryUnitView):
    """Share a unit with the district (admins) or with my schools (its author), or stop."""

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        audience: library.Audience = (
            "district" if request.POST.get("audience") == "district" else "school"
        )
        shared = request.POST.get("shared") == "1"
        library.unit_share(actor=request.user, unit=self.unit, audience=audience, shared=shared)
        messages.success(request, _("Sharing of '%(title)s' saved.") % {"title": self.latest})
        return redirect("units:library")


class ClassroomUnitAction(ScopedView, View):
    model = ClassroomUnit

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("classroom", "unit")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.classroom_unit = get_object_or_404(self.get_queryset(), pk=kwargs["classroom_unit_id"])
        try:
            return super().dispatch(request, *args, **kwargs)
        except PermissionDenied as denied:
            return _forbidden(request, str(denied))


class ClassroomUnitReflectView(ClassroomUnitAction):
    """Keep the teacher's one line about how the unit went; it travels with a copy."""

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        form = forms.ReflectionForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
            return redirect("home")
        library.classroom_unit_reflect(
            actor=request.user,
            classroom_unit=self.classroom_unit,
            reflection=form.cleaned_data["reflection"],
        )
        messages.success(request, _("Your reflection is kept with the unit."))
        return redirect(reverse("home") + f"#classroom-unit-{self.classroom_unit.pk}")


class RolloverView(ScopedView, View):
    """A district admin copies the district's shared units of one school year into the next:
    a dry run lists what would be created, then one step creates it."""

    model = AcademicYear
    template_name = "units/unit_rollover.html"
    district: District

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        user: Any = request.user
        district = District.objects.visible_to(user).filter(pk=user.district_id).first()
        if district is None or not access.can(user, "manage_district", district):
            return _forbidden(request, _("Only a district admin can roll units over."))
        self.district = district
        return super().dispatch(request, *args, **kwargs)

    def _form(self, data: Any = None) -> forms.RolloverForm:
        years = self.get_queryset().filter(district=self.district).order_by("start_date")
        return forms.RolloverForm(data, years=years)

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": self._form()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        dry_run = request.POST.get("apply") != "1"
        try:
            lines = library.units_roll_over(
                actor=request.user,
                district=self.district,
                from_year=form.cleaned_data["from_year"],
                to_year=form.cleaned_data["to_year"],
                dry_run=dry_run,
            )
        except ValidationError as refused:
            context = {"form": form, "problems": refused.messages}
            return render(request, self.template_name, context, status=400)
        context = {"form": form, "lines": lines, "dry_run": dry_run, "ran": True}
        return render(request, self.template_name, context)
