"""Scoped querysets: scores are seen through their classroom; export jobs by their requester and
the district's admins."""

from __future__ import annotations

from typing import Any, Self

from django.db.models import Q

from classrooms import access
from classrooms.querysets import ScopedQuerySet


class ScoreQuerySet(ScopedQuerySet):
    scope_level = "classroom"
    scope_path = "classroom_unit__classroom"


class ScoreChangeQuerySet(ScopedQuerySet):
    scope_level = "classroom"
    scope_path = "classroom_unit__classroom"


class ExportJobQuerySet(ScopedQuerySet):
    """Export jobs: a district's admins see all of the district's; anyone else only their own.

    The file a job wrote holds what its requester could see when it ran, so beyond the
    district's admins only the requester (while an active member of the district) reaches it.
    """

    scope_level = "district_admin"
    scope_path = "district"

    def visible_to(self, user: Any) -> Self:
        district_admin_rows = access.district_admin_q(user, "district")
        if not district_admin_rows:  # an empty Q: a platform operator sees every row
            return self.filter(district_admin_rows)
        requested_by_user = access.district_q(user, "district") & Q(requested_by_id=user.pk)
        return self.filter(district_admin_rows | requested_by_user)
