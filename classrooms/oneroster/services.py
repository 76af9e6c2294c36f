"""The roster import service: plan an export against a district, and apply the plan unless it
is a dry run; audit either way."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from classrooms import access
from classrooms.audit import audit_event_record
from classrooms.models import AuditEvent, AuditKind, District, User
from classrooms.oneroster.plan import RosterPlan
from classrooms.oneroster.reading import RosterSource
from classrooms.oneroster.results import RosterImportError, RosterImportResult, RosterProblem
from classrooms.oneroster.spec import KNOWN_FILES

# How many problems an audit row keeps (the page and the command show them all).
AUDITED_PROBLEMS = 50


def roster_plan(*, district: District, source: RosterSource) -> RosterImportResult:
    """What importing ``source`` into ``district`` would do, without writing anything."""
    plan = RosterPlan(district, source)
    plan.build()
    return _result(plan, dry_run=True)


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
    )


def roster_import(
    *, actor: User | None, district: District, source: RosterSource, dry_run: bool
) -> RosterImportResult:
    """Import a OneRoster 1.1 export into ``district`` (the rules: the package docstring, in
    classrooms/oneroster/__init__.py).

    Only a district admin of ``district`` (or a server operator, ``actor`` None) may import. A dry
    run plans and reports; an import plans again inside one transaction and applies everything
    or, on any problem, nothing. Either way one AuditEvent records who, what, how many rows and
    the outcome: with the import's writes when it succeeds, after the rollback when it fails.
    """
    if actor is not None:
        access.require(actor, "manage_district", district)
    parameters: dict[str, Any] = {
        "source": source.label,
        "sha256": source.sha256,
        "dry_run": dry_run,
    }
    kind = AuditKind.ROSTER_IMPORT_DRY_RUN if dry_run else AuditKind.ROSTER_IMPORT
    if dry_run:
        result = roster_plan(district=district, source=source)
        result.audit_event = _audit(district, actor, kind, parameters, result)
        return result
    plan = RosterPlan(district, source)
    try:
        with transaction.atomic():
            # One import of a district at a time: a second waits here, then plans afresh.
            list(District.objects.select_for_update().filter(pk=district.pk).values_list("pk"))
            plan.build()
            if plan.problems:
                raise RosterImportError
            plan.apply()
            result = _result(plan, dry_run=False)
            result.applied = True
            result.audit_event = _audit(district, actor, kind, parameters, result)
            return result
    except RosterImportError:
        pass
    except IntegrityError as error:
        # A rule the plan did not foresee (or a change made meanwhile): nothing was written.
        plan.problems.append(
            RosterProblem(
                source.label,
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
            "problem_count": len(result.problems),
            "problems": [str(problem) for problem in result.problems[:AUDITED_PROBLEMS]],
            "warnings": [str(warning) for warning in result.warnings[:AUDITED_PROBLEMS]],
        },
    )
