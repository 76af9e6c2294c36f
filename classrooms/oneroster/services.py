"""The roster import service: plan an export against a district, and apply the plan unless it
is a dry run; audit either way."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, transaction

from classrooms import access
from classrooms.audit import audit_event_record
from classrooms.models import AuditEvent, AuditKind, District, User
from classrooms.oneroster.existing import roster_fingerprint
from classrooms.oneroster.plan import RosterPlan
from classrooms.oneroster.reading import RosterSource
from classrooms.oneroster.results import RosterImportError, RosterImportResult, RosterProblem
from classrooms.oneroster.spec import KNOWN_FILES
from classrooms.oneroster.undo import roster_import_record
from classrooms.oneroster.uploads import roster_plan_take

# How many problems an audit row keeps (the page and the command show them all).
AUDITED_PROBLEMS = 50


def roster_plan(*, district: District, source: RosterSource) -> RosterImportResult:
    """What importing ``source`` into ``district`` would do, without writing anything."""
    plan = RosterPlan(district, source)
    plan.build()
    result = _result(plan, dry_run=True)
    result.plan = plan
    return result


def _problem_order(problem: RosterProblem) -> tuple[int, int]:
    """Problems by file, in the order the files are read, then by line."""
    order = KNOWN_FILES.index(problem.file) if problem.file in KNOWN_FILES else -1
    return order, problem.line or 0


def _result(plan: RosterPlan, *, dry_run: bool) -> RosterImportResult:
    plan.problems.sort(key=_problem_order)
    return RosterImportResult(
        dry_run=dry_run,
        counts=plan.counts,
        problems=plan.problems,
        warnings=plan.warnings,
        modes=dict(plan.modes),
        row_count=plan.row_count,
        district_mismatch=plan.district_mismatch,
    )


def roster_import(
    *,
    actor: User | None,
    district: District,
    source: RosterSource,
    dry_run: bool,
    confirm_district: bool = False,
) -> RosterImportResult:
    """Import a OneRoster export into ``district`` (the rules: the package docstring, in
    classrooms/oneroster/__init__.py).

    Only a district admin of ``district`` (or a server operator, ``actor`` None) may import. A dry
    run plans and reports (its plan is on the result, to be kept for the import: uploads.py); an
    import plans inside one transaction and applies everything or, on any problem, nothing.
    Either way one AuditEvent records who, what, how many rows and the outcome: with the
    import's writes when it succeeds, after the rollback when it fails.
    """
    if actor is not None:
        access.require(actor, "manage_district", district)
    parameters: dict[str, Any] = {
        "source": source.label,
        "sha256": source.sha256,
        "dry_run": dry_run,
        "confirm_district": confirm_district,
    }
    plan = RosterPlan(district, source, confirm_district=confirm_district)
    if dry_run:
        plan.build()
        result = _result(plan, dry_run=True)
        result.plan = plan
        result.audit_event = _audit(
            district, actor, AuditKind.ROSTER_IMPORT_DRY_RUN, parameters, result
        )
        return result
    return _apply(actor, district, plan, parameters, planned=False)


def roster_import_kept(
    *, actor: User, district: District, token: str, confirm_district: bool
) -> tuple[RosterImportResult, str]:
    """Apply the plan a dry run kept (``token``: see uploads.py) and return the result and the
    upload's file name. The export is not read again: the plan is applied as previewed, while the
    district's roster is still as it was then (else nothing is written, and the admin previews
    again). Raises ValidationError for a token that names no plan of this admin's."""
    access.require(actor, "manage_district", district)
    kept = roster_plan_take(token=token, actor=actor, district=district)
    plan = kept.plan
    plan.district = district
    plan.confirm_district = confirm_district
    parameters: dict[str, Any] = {
        "source": plan.source.label,
        "sha256": plan.source.sha256,
        "dry_run": False,
        "confirm_district": confirm_district,
        "planned_in_dry_run": True,
    }
    result = _apply(actor, district, plan, parameters, planned=True)
    kept.discard()  # imported at most once; a refused plan is previewed again from the file
    return result, kept.filename


def _apply(
    actor: User | None,
    district: District,
    plan: RosterPlan,
    parameters: dict[str, Any],
    *,
    planned: bool,
) -> RosterImportResult:
    kind = AuditKind.ROSTER_IMPORT
    try:
        with transaction.atomic():
            # One import of a district at a time: a second waits here, then plans afresh.
            list(District.objects.select_for_update().filter(pk=district.pk).values_list("pk"))
            if not planned:
                plan.build()
            elif roster_fingerprint(district) != plan.fingerprint:
                plan.problems.append(
                    RosterProblem(
                        plan.source.label,
                        None,
                        "",
                        "the district's roster changed since this dry run (another import or an "
                        "edit), so nothing was changed. Upload the file again to see the "
                        "current plan.",
                    )
                )
                raise RosterImportError
            if plan.problems:
                raise RosterImportError
            plan.apply()
            result = _result(plan, dry_run=False)
            result.applied = True
            result.audit_event = _audit(district, actor, kind, parameters, result)
            result.roster_import = roster_import_record(
                district=district, audit_event=result.audit_event, log=plan.change_log
            )
            return result
    except RosterImportError:
        pass
    except DatabaseError as error:
        # A rule the plan did not foresee (or a change made meanwhile): nothing was written.
        plan.problems.append(
            RosterProblem(
                plan.source.label,
                None,
                "",
                f"the database refused the import, so nothing was changed ({error}). "
                "Run a dry run again to see the current plan.",
            )
        )
    result = _result(plan, dry_run=False)
    result.audit_event = _audit(district, actor, kind, parameters, result)
    return result


def _audit(
    district: District,
    actor: User | None,
    kind: str,
    parameters: dict[str, Any],
    result: RosterImportResult,
) -> AuditEvent:
    return audit_event_record(
        district=district,
        actor=actor,
        kind=kind,
        parameters={**parameters, "files": result.modes},
        row_count=result.row_count,
        succeeded=result.is_valid,
        message=result.summary(),
        result={
            "counts": {key: counts.as_dict() for key, counts in result.counts.items()},
            "applied": result.applied,
            "district_mismatch": result.district_mismatch,
            "problem_count": len(result.problems),
            "problems": [str(problem) for problem in result.problems[:AUDITED_PROBLEMS]],
            "warnings": [str(warning) for warning in result.warnings[:AUDITED_PROBLEMS]],
        },
    )
