"""The OpenAPI schema states every answer the API gives, errors included.

drf-spectacular documents the success responses each view declares. The error answers come
from DRF and the project's middleware, the same for every view, so they are added here, once,
to every operation that can give them (a postprocessing hook, SPECTACULAR_SETTINGS):

- 400 with field errors, for an operation that takes a body or a filter (an operation that
  documents a 400 of its own may also answer with field errors, when the body has the wrong
  shape);
- 401 and 403 for an operation that needs a signed-in caller (401 without credentials, 403
  without the role the action needs);
- 404 for an operation with an id in its path (a row the caller may not see is not found) and
  for a paginated list (a page past the end);
- 413 and 415 for an operation that takes a body (too large; a media type it does not read);
- 429 for the token endpoint (too many failed attempts: config/lockout.py).

Each error's body is ``{"detail": "..."}``, except field errors: ``{"<field>": ["..."]}``.
The API's own 404 for an unknown URL is JSON too (config.api.not_found).
"""

from __future__ import annotations

from typing import Any

ERROR = "Error"
FIELD_ERRORS = "FieldErrors"
SIGN_IN_PATH = "/api/token/"

SCHEMAS: dict[str, dict[str, Any]] = {
    ERROR: {
        "type": "object",
        "description": "Why the request was refused.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    FIELD_ERRORS: {
        "type": "object",
        "description": (
            "Field errors: each field's name with its messages (``non_field_errors`` for the "
            "request as a whole), or ``detail`` when the body could not be read at all."
        ),
        "additionalProperties": {},
    },
}
DESCRIPTIONS = {
    "400": "The request is not valid; nothing was changed.",
    "401": "No valid credentials (a token or a session).",
    "403": "The caller may not do this.",
    "404": "Not found, or not visible to the caller.",
    "413": "The request body is too large.",
    "415": "The request body's media type is not one this operation reads.",
    "429": "Too many failed attempts: this username is paused for a while.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _add(responses: dict[str, Any], status: str, schema_name: str) -> None:
    response = responses.setdefault(status, {"description": DESCRIPTIONS[status]})
    content = response.setdefault("content", {})
    media = content.setdefault("application/json", {})
    declared = media.get("schema")
    if declared is None:
        media["schema"] = _ref(schema_name)
    elif declared != _ref(schema_name):
        media["schema"] = {"anyOf": [declared, _ref(schema_name)]}


def add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: document the error answers of every operation."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(SCHEMAS)
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            parameters = operation.get("parameters", [])
            if path == SIGN_IN_PATH:
                # Getting a token is how one signs in: it needs no credentials.
                operation["security"] = []
                _add(responses, "429", ERROR)
            elif operation.get("security"):
                _add(responses, "401", ERROR)
                _add(responses, "403", ERROR)
            if any(parameter["in"] == "path" for parameter in parameters) or any(
                parameter["in"] == "query" and parameter["name"] == "page"
                for parameter in parameters
            ):
                _add(responses, "404", ERROR)
            if any(
                parameter["in"] == "query" and parameter["name"] != "page"
                for parameter in parameters
            ):
                _add(responses, "400", FIELD_ERRORS)
            if "requestBody" in operation:
                _add(responses, "400", FIELD_ERRORS)
                _add(responses, "413", ERROR)
                _add(responses, "415", ERROR)
            for status, response in responses.items():
                # Errors a view declared without a body (409, 410 ...) say why in "detail".
                if status.startswith("4") and "content" not in response:
                    response["content"] = _json(_ref(ERROR))
    return result
