"""Keeping the plan of a dry run on the server between its preview and its import, so the import
writes exactly what was previewed: the export is read and checked once, and the apply does not
parse it again (a second parse could differ, and costs as much as the first).

The plan is kept as a file with a random name in a server folder; the signed token that names it
carries the file's SHA-256, so only a plan this server wrote is ever loaded. Plans older than an
hour are removed.
"""

from __future__ import annotations

import hashlib
import pickle  # noqa: S403 (only files this server wrote, checked against a signed digest)
import re
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError

from classrooms.models import District, User
from classrooms.oneroster.plan import RosterPlan

UPLOAD_TOKEN_MAX_AGE_SECONDS = 60 * 60
UPLOAD_TOKEN_SALT = "classrooms.oneroster.plan"  # noqa: S105 (a signing namespace, not a secret)
_KEPT_NAME = re.compile(r"[0-9a-f]{32}\.plan")


@dataclass
class KeptPlan:
    plan: RosterPlan
    filename: str
    path: Path

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def _upload_folder() -> Path:
    configured = getattr(settings, "THINSLICE_ROSTER_UPLOAD_DIR", "")
    folder = Path(configured) if configured else Path(tempfile.gettempdir()) / "thinslice-roster"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def roster_plan_keep(*, actor: User, district: District, plan: RosterPlan, filename: str) -> str:
    """Keep a dry run's plan until it is imported; return a signed token that names it for this
    actor and district only."""
    folder = _upload_folder()
    oldest = time.time() - UPLOAD_TOKEN_MAX_AGE_SECONDS
    for stale in folder.glob("*.plan"):
        if stale.stat().st_mtime < oldest:
            stale.unlink(missing_ok=True)
    data = pickle.dumps(plan.for_keeping(), protocol=pickle.HIGHEST_PROTOCOL)
    name = f"{secrets.token_hex(16)}.plan"
    (folder / name).write_bytes(data)
    payload = {
        "file": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "filename": filename,
        "actor": actor.pk,
        "district": district.pk,
    }
    return signing.dumps(payload, salt=UPLOAD_TOKEN_SALT)


def roster_plan_take(*, token: str, actor: User, district: District) -> KeptPlan:
    """The plan a token names (the caller discards it once it is used).

    Raises ValidationError when the token is forged, expired, for someone else, or its plan is
    gone or changed."""
    try:
        payload = signing.loads(token, salt=UPLOAD_TOKEN_SALT, max_age=UPLOAD_TOKEN_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise ValidationError(
            "This preview is more than an hour old. Upload the file again."
        ) from None
    except signing.BadSignature:
        raise ValidationError("This preview cannot be read. Upload the file again.") from None
    if payload.get("actor") != actor.pk or payload.get("district") != district.pk:
        raise ValidationError("This preview belongs to someone else. Upload the file again.")
    name = str(payload.get("file", ""))
    if not _KEPT_NAME.fullmatch(name):
        raise ValidationError("This preview cannot be read. Upload the file again.")
    path = _upload_folder() / name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError(
            "This upload was imported already or has expired. Upload the file again."
        ) from None
    if hashlib.sha256(data).hexdigest() != payload.get("sha256"):
        path.unlink(missing_ok=True)
        raise ValidationError("The kept upload changed since its preview. Upload it again.")
    plan = pickle.loads(data)  # noqa: S301 (written by this server; its digest is signed)
    return KeptPlan(plan=plan, filename=str(payload.get("filename", "upload.zip")), path=path)
