"""POST /api/token/ with tokens that expire (apart from credentials.py: DRF's views read the
authentication classes, which live there, when they are defined)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response

from classrooms.signin.credentials import token_expires_at, token_lifetime


class ObtainExpiringToken(ObtainAuthToken):
    """POST /api/token/: the person's token, a new one once the old one has expired."""

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        Token.objects.filter(user=user, created__lte=timezone.now() - token_lifetime()).delete()
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key, "expires_at": token_expires_at(token)})
