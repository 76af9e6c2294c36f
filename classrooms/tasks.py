"""Tasks of the classrooms app: sending invitation emails."""

from __future__ import annotations

from celery import shared_task

from classrooms.signin.invitations import invitation_emails_send


@shared_task(autoretry_for=(OSError,), max_retries=3, retry_backoff=True)
def invitations_send_task(user_ids: list[int], base_url: str) -> int:
    """Send invitations to these accounts; a mail server that is down is tried again."""
    return invitation_emails_send(user_ids=user_ids, base_url=base_url)
