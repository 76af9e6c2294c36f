"""Keeping an uploaded export on the server between its dry run (the preview) and its import, so
the import reads exactly the bytes that were previewed."""

from __future__ import annotations

import hashlib
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

UPLOAD_TOKEN_MAX_AGE_SECONDS = 60 * 60
UPLOAD_TOKEN_SALT = "classrooms.oneroster.upload"  # noqa: S105 (a signing namespace, not a secret)


@dataclass(frozen=True)
class RosterUpload:
    data: bytes
    filename: str


def _upload_folder() -> Path:
    configured = getattr(settings, "THINSLICE_ROSTER_UPLOAD_DIR", "")
    folder = Path(configured) if configured else Path(tempfile.gettempdir()) / "thinslice-roster"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def roster_upload_keep(*, actor: User, district: District, data: bytes, filename: str) -> str:
    """Keep an uploaded export on the server until it is imported; return a signed token that
    names it for this actor and district only. The file name is random and the token carries
    the file's SHA-256, so the import reads exactly the bytes that were previewed. Uploads older
    than an hour are removed."""
    folder = _upload_folder()
    oldest = time.time() - UPLOAD_TOKEN_MAX_AGE_SECONDS
    for stale in folder.glob("*.zip"):
        if stale.stat().st_mtime < oldest:
            stale.unlink(missing_ok=True)
    name = f"{secrets.token_hex(16)}.zip"
    (folder / name).write_bytes(data)
    payload = {
        "file": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "filename": filename,
        "actor": actor.pk,
        "district": district.pk,
    }
    return signing.dumps(payload, salt=UPLOAD_TOKEN_SALT)


def roster_upload_take(*, token: str, actor: User, district: District) -> RosterUpload:
    """The upload a token names, removed from the server so it is imported at most once.

    Raises ValidationError when the token is forged, expired, for someone else, or its file is
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
    if not re.fullmatch(r"[0-9a-f]{32}\.zip", name):
        raise ValidationError("This preview cannot be read. Upload the file again.")
    path = _upload_folder() / name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError(
            "This upload was imported already or has expired. Upload the file again."
        ) from None
    path.unlink(missing_ok=True)
    if hashlib.sha256(data).hexdigest() != payload.get("sha256"):
        raise ValidationError("The kept upload changed since its preview. Upload it again.")
    return RosterUpload(data=data, filename=str(payload.get("filename", "upload.zip")))
