"""Scores over the API (read). Filter by classroom unit with ?classroom_unit=<id>."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments.api.serializers import (
    MAX_ID,
    ClassroomUnitVersionOutputSerializer,
    GridChangesOutputSerializer,
    ScoreBulkInputSerializer,
    ScoreBulkOutputSerializer,
    ScoreOutputSerializer,
    score_bulk_output,
    score_entries_parse,
)
from assessments.models import Score
from assessments.selectors import score_changes_since
from assessments.services import SaveResult, scores_save
from assessments.unit_versions import classroom_unit_version_move
from classrooms.scoped_views import ScopedViewSet
from units.models import Assessment, ClassroomUnit

CLASSROOM_UNIT_FILTER = serializers.IntegerField()
SINCE_FILTER = serializers.IntegerField(min_value=0, max_value=MAX_ID)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "classroom_unit",
                OpenApiTypes.INT,
                description="Only the scores of this classroom unit.",
            )
        ]
    )
)
class ScoreViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = Score
    serializer_class = ScoreOutputSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        classroom_unit = self.request.query_params.get("classroom_unit")
        if classroom_unit is not None:
            # Not a number is a 400, not every score: a typo must not widen the answer.
            try:
                classroom_unit_id = CLASSROOM_UNIT_FILTER.run_validation(classroom_unit)
            except ValidationError as invalid:
                raise ValidationError({"classroom_unit": invalid.detail}) from None
            queryset = queryset.filter(classroom_unit_id=classroom_unit_id)
        return queryset.select_related("assessment_skill__skill")


IDEMPOTENCY_HEADER = "Idempotency-Key"


class ScoreBulkSaveView(APIView):
    """Save one assessment's scores for a classroom unit in one request, all or nothing.

    200 with every saved cell and its new version; 400 with per-row problems (nothing saved);
    409 when the only problems are conflicts (someone changed a cell since it was read), with the
    current value and who set it. A request sent again with the same ``Idempotency-Key`` is not
    applied twice: the answer is 200 with the cells as they stand and ``Idempotent-Replayed``.

    GET ``?since=<cursor>`` answers the cells changed after that cursor (a co-teacher's saves),
    each as it stands now with who changed it, and the cursor to ask from next; the grid polls it.
    """

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "since",
                {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                description="The cursor of the last answer (or of the grid page); 0 for all.",
            )
        ],
        responses={200: GridChangesOutputSerializer},
    )
    def get(self, request: Request, classroom_unit_id: int, assessment_id: int) -> Response:
        classroom_unit = get_object_or_404(
            ClassroomUnit.objects.visible_to(request.user), pk=classroom_unit_id
        )
        try:
            since = SINCE_FILTER.run_validation(request.query_params.get("since", "0"))
        except ValidationError as invalid:
            raise ValidationError({"since": invalid.detail}) from None
        try:
            changes = score_changes_since(
                user=request.user,
                classroom_unit=classroom_unit,
                assessment_id=assessment_id,
                since=since,
            )
        except Assessment.DoesNotExist:
            raise exceptions.NotFound() from None
        return Response(GridChangesOutputSerializer(changes).data)

    @extend_schema(
        request=ScoreBulkInputSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                location=OpenApiParameter.HEADER,
                required=False,
                description=(
                    "Any unique string of up to 64 visible characters. Send the same key when "
                    "retrying the same request (e.g. after a timeout): it is applied once."
                ),
            )
        ],
        responses={
            200: OpenApiResponse(
                ScoreBulkOutputSerializer,
                description="Saved (or, with `Idempotent-Replayed: true`, saved before).",
            ),
            400: ScoreBulkOutputSerializer,
            409: ScoreBulkOutputSerializer,
        },
    )
    def post(self, request: Request, classroom_unit_id: int, assessment_id: int) -> Response:
        classroom_unit = get_object_or_404(
            ClassroomUnit.objects.visible_to(request.user).select_related("classroom__school"),
            pk=classroom_unit_id,
        )
        assessment = get_object_or_404(
            Assessment.objects.visible_to(request.user), pk=assessment_id
        )
        result = scores_save(
            actor=request.user,
            classroom_unit=classroom_unit,
            assessment=assessment,
            entries=score_entries_parse(request.data),
            request_key=_request_key(request),
        )
        response = Response(score_bulk_output(result), status=_status_of(result))
        if result.is_replay:
            response["Idempotent-Replayed"] = "true"
        return response


def _request_key(request: Request) -> str:
    key = request.headers.get(IDEMPOTENCY_HEADER, "")
    if key and (len(key) > 64 or not key.isascii() or not key.isprintable() or " " in key):
        raise exceptions.ValidationError(
            {IDEMPOTENCY_HEADER: ["Use up to 64 visible ASCII characters, without spaces."]}
        )
    return key


def _status_of(result: SaveResult) -> int:
    if result.is_applied:
        return status.HTTP_200_OK
    if all(problem.is_conflict for problem in result.problems):
        return status.HTTP_409_CONFLICT
    return status.HTTP_400_BAD_REQUEST


class ClassroomUnitMoveView(APIView):
    """Move a class onto its unit's latest version, with its scores; refused with every reason
    when a score would be stranded there (the class then keeps its version)."""

    @extend_schema(
        request=None,
        responses={
            200: ClassroomUnitVersionOutputSerializer,
            400: OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description="Not moved: it already follows the latest version, or a score "
                "entered in it has no place there (every reason given).",
            ),
        },
    )
    def post(self, request: Request, classroom_unit_id: int) -> Response:
        classroom_unit = get_object_or_404(
            ClassroomUnit.objects.visible_to(request.user).select_related("classroom", "unit"),
            pk=classroom_unit_id,
        )
        moved = classroom_unit_version_move(actor=request.user, classroom_unit=classroom_unit)
        return Response(ClassroomUnitVersionOutputSerializer(moved).data)
