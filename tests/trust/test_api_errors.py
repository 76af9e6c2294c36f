"""The API's error answers that the fuzzer relies on: JSON, and stated in the schema."""

from __future__ import annotations

from typing import Any

from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import World


def _api(world: World, user_key: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users[user_key])
    return client


def test_an_unknown_api_url_is_a_json_404(world: World) -> None:
    response = _api(world, "teacher_a1").get("/api/schools/not-a-number.5/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_page_url_outside_the_api_keeps_the_html_404(db: Any) -> None:
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_empty_page_number_is_refused_like_any_page_that_is_not_a_number(world: World) -> None:
    client = _api(world, "admin_a")

    assert client.get("/api/schools/", {"page": ""}).status_code == 404
    assert client.get("/api/schools/", {"page": "x"}).status_code == 404
    assert client.get("/api/schools/", {"page": "1"}).status_code == 200


def test_api_bodies_are_json_only(world: World) -> None:
    client = _api(world, "admin_a")
    form = client.post(
        "/api/exports/", "kind=scores", content_type="application/x-www-form-urlencoded"
    )
    multipart = client.post("/api/exports/", {"kind": "scores"}, format="multipart")

    assert form.status_code == 415
    # The size-limit middleware has read a multipart body already; DRF then sees no fields.
    assert multipart.status_code == 400


def test_a_score_filter_that_is_not_a_number_is_refused_not_ignored(world: World) -> None:
    response = _api(world, "admin_a").get("/api/scores/", {"classroom_unit": "1x"})

    assert response.status_code == 400
    assert "classroom_unit" in response.json()


def test_the_schema_documents_the_error_answers(world: World) -> None:
    schema = _api(world, "teacher_a1").get("/api/schema/?format=json").json()
    student = schema["paths"]["/api/students/{id}/"]["get"]["responses"]
    token = schema["paths"]["/api/token/"]["post"]

    assert {"200", "401", "403", "404"} <= set(student)
    assert student["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert token["security"] == []
    assert {"200", "400", "429"} <= set(token["responses"])
