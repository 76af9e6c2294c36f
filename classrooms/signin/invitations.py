"""Invitations: a district admin sends rostered staff a one-time link to set a password.

Who may be invited is decided here once: active people of the admin's own district, never a
superuser (platform operators belong to no district). The emails go out after the commit, in a
Celery task (inline without a broker), through the SMTP settings from the environment.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from classrooms import access
from classrooms.models import School, User
from classrooms.signin.tokens import invitation_token_generator


def people_without_sign_in(*, actor: User) -> QuerySet[User]:
    """Active staff of the actor's district who have no password yet (rostered with an
    unusable one) and an email address to invite them at."""
    return (
        User.objects.visible_to(actor)
        .filter(is_active=True, is_superuser=False, district__isnull=False)
        .filter(password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .exclude(email="")
    )


def invitation_recipients(
    *, actor: User, whom: str, person: User | None = None, school: School | None = None
) -> list[User]:
    """The people an invitation of ``whom`` ("person", "school" or "everyone") goes to."""
    if whom == "person":
        if person is None:
            return []
        return [person]
    waiting = people_without_sign_in(actor=actor)
    if whom == "school":
        if school is None:
            return []
        at_school = Q(taught_classrooms__school=school) | Q(coached_schools=school)
        waiting = waiting.filter(at_school)
    return list(waiting.distinct().order_by("last_name", "first_name", "pk"))


@transaction.atomic
def invitations_send(*, actor: User, recipients: list[User], base_url: str) -> list[User]:
    """Queue one invitation per recipient with an email address; returns those without one
    (they cannot be invited by email). Refused for anyone outside the actor's district, a
    superuser, or when the actor is not that district's admin."""
    for person in recipients:
        if person.is_superuser:
            raise PermissionDenied(_("A platform operator's account cannot be invited."))
        access.require(actor, "manage_district", person)
    reachable = [person.pk for person in recipients if person.email and person.is_active]
    if reachable:
        from classrooms.tasks import invitations_send_task

        transaction.on_commit(lambda: invitations_send_task.delay(reachable, base_url))
    return [person for person in recipients if not person.email]


def invitation_link(*, user: User, base_url: str) -> str:
    """The one-time address where ``user`` sets their password."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = invitation_token_generator.make_token(user)
    path = reverse("invitation-accept", kwargs={"uidb64": uid, "token": token})
    return base_url.rstrip("/") + path


def invitation_emails_send(*, user_ids: list[int], base_url: str) -> int:
    """Send the invitation emails (over one SMTP connection); returns how many went out."""
    # cross-tenant: a task of the invitations checked above; it reads the accounts by id.
    people = User.objects.all_schools().filter(pk__in=user_ids, is_active=True).exclude(email="")
    messages = []
    for person in people.select_related("district"):
        context = {
            "person": person,
            "district": person.district,
            "link": invitation_link(user=person, base_url=base_url),
            "sign_in_link": base_url.rstrip("/") + sign_in_path(person),
        }
        subject = render_to_string("registration/invitation_subject.txt", context).strip()
        body = render_to_string("registration/invitation_email.txt", context)
        messages.append(EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [person.email]))
    if not messages:
        return 0
    with get_connection() as connection:
        return connection.send_messages(messages) or 0


def sign_in_path(user: User) -> str:
    """The sign-in address of the person's district, or the platform's."""
    district = user.district
    if district is not None and district.slug:
        return reverse("district-login", kwargs={"slug": district.slug})
    return reverse("login")
