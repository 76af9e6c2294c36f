"""CSV upload of one checkpoint: template download, preview with row-level problems, apply.

Every refused file shows why and writes nothing; a valid file is previewed, then applied through
scores_save (all or nothing, with history); a co-teacher's change made meanwhile is a conflict.
"""

from __future__ import annotations

import datetime
import html
from decimal import Decimal

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assessments import score_csv
from assessments.models import Score, ScoreChange
from assessments.services import ScoreEntry, scores_save
from tests import factories

pytestmark = pytest.mark.django_db


# --- helpers -------------------------------------------------------------------------------------


class Class:
    """Class a1 of the world with three named students and the week-3 checkpoint (A /4, B /6)."""

    def __init__(self, world):
        self.world = world
        self.classroom_unit = world.classroom_units["a1"]
        self.classroom = world.classrooms["a1"]
        self.checkpoint = self.classroom_unit.unit.assessments.get(title="Check week 3")
        self.teacher = world.users["teacher_a1"]
        district = world.districts["a"]
        self.students = {
            key: factories.EnrollmentFactory(
                classroom=self.classroom,
                student__district=district,
                student__sis_id=sis_id,
                student__family_name=family,
                student__given_name=given,
            ).student
            for key, sis_id, family, given in (
                ("ann", "1001", "Abel", "Ann"),
                ("ben", "1002", "Baker", "Ben"),
                ("cy", "1003", "Cole", "Cy"),
            )
        }

    @property
    def upload_url(self) -> str:
        return reverse("score-csv-upload", args=[self.classroom_unit.pk, self.checkpoint.pk])

    @property
    def template_url(self) -> str:
        return reverse("score-csv-template", args=[self.classroom_unit.pk, self.checkpoint.pk])

    def save(self, actor, student_key: str, code: str, value: str, version=None) -> None:
        result = scores_save(
            actor=actor,
            classroom_unit=self.classroom_unit,
            assessment=self.checkpoint,
            entries=[ScoreEntry(self.students[student_key].pk, code, value, version)],
        )
        assert result.is_applied, result.problems

    def scores(self) -> dict[tuple[str, str], str]:
        """The checkpoint's scores as {(sis id, code): shown value}."""
        return {
            (score.student.sis_id, score.assessment_skill.skill.code): (
                score_csv._shown(score)  # noqa: SLF001 - the grid's way of showing a value
            )
            for score in Score.objects.filter(
                classroom_unit=self.classroom_unit, assessment_skill__assessment=self.checkpoint
            ).select_related("student", "assessment_skill__skill")
        }


@pytest.fixture
def klass(world):
    return Class(world)


def _csv(*lines: str, newline: str = "\n", bom: bool = False, encoding: str = "utf-8") -> bytes:
    text = newline.join(lines) + newline
    return (("\ufeff" if bom else "") + text).encode(encoding)


def _upload(client, url: str, data: bytes, name: str = "scores.csv"):
    return client.post(url, {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def _logged_in(client, user):
    client.force_login(user)
    return client


def _token(response) -> str:
    return response.context["apply_form"]["token"].value()


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _nothing_written(before: tuple[int, int]) -> bool:
    return (Score.objects.count(), ScoreChange.objects.count()) == before


def _counts() -> tuple[int, int]:
    return Score.objects.count(), ScoreChange.objects.count()


# --- a valid file ------------------------------------------------------------------------------


def test_valid_upload_previews_without_writing_then_applies_and_scores_equal_the_file(
    client, klass
):
    _logged_in(client, klass.teacher)
    klass.save(klass.teacher, "ann", "A", "1")
    before = _counts()
    data = _csv(
        "sis_id,family_name,given_name,A,B",
        "1001,Abel,Ann,3.5,6",
        "1002,Baker,Ben,A,X",
        "1003,Cole,Cy,0,2.25",
    )

    preview_response = _upload(client, klass.upload_url, data)

    assert preview_response.status_code == 200
    preview = preview_response.context["preview"]
    assert preview.is_valid
    assert preview.change_count == 6
    assert [(c.code, c.current, c.new, c.state) for c in preview.rows[0].cells] == [
        ("A", "1", "3.5", "change"),
        ("B", "", "6", "change"),
    ]
    assert [row.student_name for row in preview.rows] == ["Abel, Ann", "Baker, Ben", "Cole, Cy"]
    assert "Apply 6 changes" in _page(preview_response)
    assert _nothing_written(before)

    applied = client.post(klass.upload_url, {"token": _token(preview_response)})

    assert applied.status_code == 302
    assert applied["Location"] == reverse(
        "score-grid", args=[klass.classroom_unit.pk, klass.checkpoint.pk]
    )
    assert klass.scores() == {
        ("1001", "A"): "3.5",
        ("1001", "B"): "6",
        ("1002", "A"): "A",
        ("1002", "B"): "X",
        ("1003", "A"): "0",
        ("1003", "B"): "2.25",
    }
    # Every change went through scores_save: one history row each, by the teacher.
    assert ScoreChange.objects.count() == before[1] + 6
    assert (
        Score.objects.get(
            student=klass.students["ann"],
            assessment_skill__skill__code="A",
            classroom_unit=klass.classroom_unit,
        ).version
        == 2
    )
    messages = [str(m) for m in applied.wsgi_request._messages]  # noqa: SLF001
    assert messages == ["Saved 6 changes to Check week 3 from scores.csv."]


def test_empty_cells_keep_the_current_score_and_are_never_sent(client, klass):
    _logged_in(client, klass.teacher)
    klass.save(klass.teacher, "ann", "A", "2")
    data = _csv("sis_id,A,B", "1001,,5", "1002,,")

    response = _upload(client, klass.upload_url, data)

    preview = response.context["preview"]
    assert [(c.state, c.current) for c in preview.rows[0].cells] == [("blank", "2"), ("change", "")]
    assert preview.blank_count == 3
    assert "to clear one, use the" in _page(response)
    client.post(klass.upload_url, {"token": _token(response)})
    assert klass.scores() == {("1001", "A"): "2", ("1001", "B"): "5"}


def test_bom_and_crlf_are_accepted(client, klass):
    _logged_in(client, klass.teacher)
    data = _csv("sis_id,A,B", "1001,1,2", newline="\r\n", bom=True)

    response = _upload(client, klass.upload_url, data)

    preview = response.context["preview"]
    assert preview.is_valid
    assert preview.change_count == 2
    assert "Columns were read as separated by commas." in preview.notes


@pytest.mark.parametrize(
    ("lines", "separated_by"),
    [
        (("sis_id;family_name;A;B", "1001;Abel;3,5;4"), "semicolons"),
        (("sis_id\tfamily_name\tA\tB", "1001\tAbel\t3.5\t4"), "tabs"),
    ],
)
def test_semicolon_and_tab_separated_files_are_read_and_the_page_says_so(
    client, klass, lines, separated_by
):
    _logged_in(client, klass.teacher)

    response = _upload(client, klass.upload_url, _csv(*lines))

    preview = response.context["preview"]
    assert preview.is_valid, preview.problems
    assert f"Columns were read as separated by {separated_by}." in _page(response)
    client.post(klass.upload_url, {"token": _token(response)})
    assert klass.scores() == {("1001", "A"): "3.5", ("1001", "B"): "4"}


def test_empty_trailing_columns_and_blank_lines_a_spreadsheet_adds_are_ignored(client, klass):
    _logged_in(client, klass.teacher)

    response = _upload(client, klass.upload_url, _csv("sis_id,A,B,,", "1001,1,2,,", ",,,,", ""))

    preview = response.context["preview"]
    assert preview.is_valid
    assert [row.line for row in preview.rows] == [2]
    assert preview.change_count == 2


def test_windows_1252_file_is_read_with_a_note(client, klass):
    _logged_in(client, klass.teacher)
    klass.students["ben"].family_name = "Bäker"
    klass.students["ben"].save()
    data = _csv("sis_id,family_name,A", "1001,Abel,2", "1002,Bäker,3", encoding="cp1252")

    response = _upload(client, klass.upload_url, data)

    preview = response.context["preview"]
    assert preview.is_valid
    assert preview.notes[0].startswith("The file is not UTF-8, so it was read as Windows-1252")
    # Bäker was decoded as written, so it matches the roster.
    assert not preview.warning_rows


def test_leading_zeros_dropped_by_a_spreadsheet_still_find_the_student(client, klass):
    _logged_in(client, klass.teacher)
    zero = factories.EnrollmentFactory(
        classroom=klass.classroom,
        student__district=klass.world.districts["a"],
        student__sis_id="00042",
    ).student

    response = _upload(client, klass.upload_url, _csv("sis_id,A", "42,3"))

    (row,) = response.context["preview"].rows
    assert row.student_id == zero.pk
    assert row.warnings == ["Read as SIS id 00042: a spreadsheet dropped its leading zeros."]


def test_a_family_name_that_differs_from_the_roster_is_flagged_but_does_not_block(client, klass):
    _logged_in(client, klass.teacher)

    response = _upload(client, klass.upload_url, _csv("sis_id,family_name,A", "1001,Baker,3"))

    preview = response.context["preview"]
    assert preview.can_apply
    assert preview.rows[0].warnings == [
        "The file says family name 'Baker'; SIS id 1001 is Abel. The scores go to Abel, Ann: "
        "check the SIS id."
    ]


# --- refused files: the reason, and nothing written ----------------------------------------------


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        pytest.param(b"", score_csv.EMPTY_FILE, id="empty"),
        pytest.param("\ufeff\r\n".encode(), score_csv.EMPTY_FILE, id="only-bom"),
        pytest.param(
            _csv("sis_id,A,B"), "The file has a header line but no student rows.", id="no-rows"
        ),
        pytest.param(
            _csv("id,A,B", "1001,1,2"),
            "The file has no sis_id column. Its first line reads “id,A,B”, which was read as 3 "
            "column(s) separated by commas: 'id', 'A', 'B'. The first line must name the "
            "columns: sis_id, then one column per skill code (A, B), separated by commas, "
            "semicolons or tabs.",
            id="missing-sis-id",
        ),
        pytest.param(
            _csv("sis_id|A|B", "1001|1|2"),
            "The file has no sis_id column. Its first line reads “sis_id|A|B”, which was read as "
            "1 column(s) separated by commas: 'sis_id|A|B'. The first line must name the "
            "columns: sis_id, then one column per skill code (A, B), separated by commas, "
            "semicolons or tabs.",
            id="unknown-delimiter",
        ),
        pytest.param(
            _csv("sis_id,A,C", "1001,1,2"),
            "Unknown column 'C': it is neither sis_id, family_name, given_name nor a skill this "
            "assessment measures (A, B). Rename or remove it.",
            id="unknown-column",
        ),
        pytest.param(
            _csv("sis_id,A,A", "1001,1,2"), "The column 'A' appears twice.", id="column-twice"
        ),
        pytest.param(
            _csv("sis_id,A,", "1001,1,5"),
            "Column 3 has values but no name in the first line.",
            id="unnamed-column",
        ),
        pytest.param(
            _csv("sis_id,family_name", "1001,Abel"),
            "The file has no skill columns: add one per skill code (A, B).",
            id="no-skill-columns",
        ),
        pytest.param(
            "sis_id,A\n1001,1\n".encode("utf-16"),
            'The file is in UTF-16 (Excel\'s "Unicode Text") or is not a text file, not UTF-8. '
            + score_csv.SAVE_AS_UTF8,
            id="utf-16",
        ),
        pytest.param(
            b"sis_id,A\n1001,\x81\x8d\n",
            "The file is not UTF-8 text (byte 15 cannot be read). " + score_csv.SAVE_AS_UTF8,
            id="not-text",
        ),
        pytest.param(
            b"PK\x03\x04rest-of-a-workbook",
            "This is an Excel workbook (.xlsx), not a CSV file. " + score_csv.SAVE_AS_UTF8,
            id="xlsx",
        ),
        pytest.param(
            b"sis_id,A\n" + b"1001,1\n" * 150_000,
            "The file is larger than 1 MB, the most this page accepts. One checkpoint for one "
            "class is a few kilobytes: check that you chose the right file, and save it as CSV "
            "rather than a workbook.",
            id="too-large",
        ),
    ],
)
def test_a_file_that_cannot_be_used_says_why_and_writes_nothing(client, klass, data, problem):
    _logged_in(client, klass.teacher)
    before = _counts()

    response = _upload(client, klass.upload_url, data)

    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.problems == [problem]
    assert problem in _page(response)
    assert "Nothing has been saved." in _page(response)
    assert response.context["apply_form"] is None
    assert _nothing_written(before)


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        pytest.param("9999,1,2", "No student with SIS id '9999' in this district.", id="unknown"),
        pytest.param(
            "{other},1,2",
            "The student with SIS id '{other}' is not enrolled in this classroom.",
            id="not-enrolled",
        ),
        pytest.param(
            "{outside},1,2",
            "No student with SIS id '{outside}' in this district.",
            id="other-district",
        ),
        pytest.param(",1,2", "No SIS id in this row.", id="no-sis-id"),
        pytest.param("1002,5,2", "A: 5 is outside 0 to 4 points.", id="out-of-range"),
        pytest.param("1002,1.234,2", "A: '1.234' has more than 2 decimals.", id="decimals"),
        pytest.param(
            "1002,1,lots",
            "B: 'lots' is not a score: type points from 0 to 6, A for absent or X for exempt.",
            id="not-a-number",
        ),
        pytest.param(
            "1001,4,4",
            "SIS id '1001' is also on row 2: keep one row per student.",
            id="duplicate",
        ),
        pytest.param(
            "1002,1,2,9", "This row has 4 values but the first line names 3 columns.", id="extra"
        ),
    ],
)
def test_a_row_problem_is_shown_on_its_row_and_nothing_is_written(client, klass, row, problem):
    _logged_in(client, klass.teacher)
    other = klass.world.students["a2"].sis_id  # enrolled in another class of the district
    outside = klass.world.students["b1"].sis_id  # another district's student
    row = row.format(other=other, outside=outside)
    problem = problem.format(other=other, outside=outside)
    before = _counts()

    response = _upload(client, klass.upload_url, _csv("sis_id,A,B", "1001,1,2", row))

    preview = response.context["preview"]
    assert not preview.problems
    assert [r.problems for r in preview.problem_rows] == [[problem]]
    assert preview.problem_rows[0].line == 3
    assert problem in _page(response)
    assert "Fix these rows in your file and upload it again." in _page(response)
    assert response.context["apply_form"] is None
    assert _nothing_written(before)


def test_values_on_a_row_without_a_student_of_the_class_are_not_counted_as_changes(client, klass):
    _logged_in(client, klass.teacher)

    response = _upload(client, klass.upload_url, _csv("sis_id,A,B", "1001,1,", "9999,2,3"))

    preview = response.context["preview"]
    assert [c.state for c in preview.rows[1].cells] == ["unmatched", "unmatched"]
    assert preview.change_count == 1
    assert [(row.student_name, cell.code) for row, cell in preview.changes] == [("Abel, Ann", "A")]


def test_an_altered_token_is_refused_and_writes_nothing(client, klass):
    _logged_in(client, klass.teacher)
    response = _upload(client, klass.upload_url, _csv("sis_id,A", "1001,1"))
    token = _token(response)
    before = _counts()

    refused = client.post(klass.upload_url, {"token": token[:-3] + "abc"})

    assert refused.status_code == 400
    assert "This preview cannot be read. Upload the file again." in _page(refused)
    assert _nothing_written(before)


def test_a_token_made_for_another_teacher_is_refused(client, klass):
    co_teacher = factories.UserFactory(district=klass.teacher.district)
    klass.classroom.teachers.add(co_teacher)
    _logged_in(client, co_teacher)
    response = _upload(client, klass.upload_url, _csv("sis_id,A", "1001,1"))
    token = _token(response)
    client.force_login(klass.teacher)

    refused = client.post(klass.upload_url, {"token": token})

    assert refused.status_code == 400
    assert "This preview was made for another page." in _page(refused)
    assert not klass.scores()


def test_a_signed_token_is_still_checked_again_when_applied(klass):
    """Even a validly signed file is read and checked again: nothing from the preview is trusted."""
    result = score_csv.score_csv_apply(
        actor=klass.teacher,
        classroom_unit=klass.classroom_unit,
        assessment=klass.checkpoint,
        text="sis_id,A\n1001,9\n",
        versions={f"{klass.students['ann'].pk}:A": None},
    )
    assert not result.is_applied
    assert result.preview.problem_rows[0].problems == ["A: 9 is outside 0 to 4 points."]
    assert not klass.scores()


# --- conflicts ---------------------------------------------------------------------------------


def test_a_co_teacher_change_between_preview_and_apply_is_a_conflict_and_nothing_is_applied(
    client, klass
):
    co_teacher = factories.UserFactory(
        district=klass.teacher.district, first_name="Cam", last_name="Co"
    )
    klass.classroom.teachers.add(co_teacher)
    klass.save(klass.teacher, "ben", "A", "1")
    _logged_in(client, klass.teacher)
    preview_response = _upload(client, klass.upload_url, _csv("sis_id,A,B", "1001,2,2", "1002,3,3"))
    assert preview_response.context["preview"].change_count == 4

    klass.save(co_teacher, "ben", "A", "4", version=1)  # meanwhile, in the grid
    before = _counts()
    refused = client.post(klass.upload_url, {"token": _token(preview_response)})

    assert refused.status_code == 200
    assert refused.context["refused"]
    preview = refused.context["preview"]
    assert preview.conflicts == ["Row 3 (Baker, Ben), A: Changed meanwhile by Cam Co: it is now 4."]
    assert "Nothing was saved: a score changed since your preview" in _page(refused)
    assert _nothing_written(before)
    assert klass.scores() == {("1002", "A"): "4"}

    # The page now compares the file with the current scores; applying again is a choice.
    ben_a = preview.rows[1].cells[0]
    assert (ben_a.current, ben_a.new, ben_a.conflict) == (
        "4",
        "3",
        "Changed meanwhile by Cam Co: it is now 4.",
    )
    again = client.post(klass.upload_url, {"token": _token(refused)})
    assert again.status_code == 302
    assert klass.scores()[("1002", "A")] == "3"


def test_a_cell_the_co_teacher_set_to_the_file_value_is_not_a_conflict(client, klass):
    co_teacher = factories.UserFactory(district=klass.teacher.district)
    klass.classroom.teachers.add(co_teacher)
    _logged_in(client, klass.teacher)
    response = _upload(client, klass.upload_url, _csv("sis_id,A,B", "1001,2,2"))
    klass.save(co_teacher, "ann", "A", "2")

    applied = client.post(klass.upload_url, {"token": _token(response)})

    assert applied.status_code == 302
    assert klass.scores() == {("1001", "A"): "2", ("1001", "B"): "2"}
    assert (
        Score.objects.get(
            student=klass.students["ann"],
            assessment_skill__skill__code="A",
            classroom_unit=klass.classroom_unit,
        ).entered_by
        == co_teacher
    )


# --- who may upload ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (None, 302),
        ("teacher_a2", 404),
        ("teacher_b1", 404),
        ("admin_b", 404),
        ("coach_a1", 403),
        ("no_role_a", 404),
        ("teacher_a1", 200),
        ("admin_a", 200),
    ],
)
def test_only_the_classrooms_teachers_and_district_admins_may_upload(client, klass, who, status):
    if who:
        client.force_login(klass.world.users[who])
    before = _counts()

    page = client.get(klass.upload_url)
    template = client.get(klass.template_url)
    posted = _upload(client, klass.upload_url, _csv("sis_id,A", "1001,1"))

    assert page.status_code == status
    assert template.status_code == status
    assert posted.status_code == status
    if who is None:
        assert page["Location"].startswith(reverse("login"))
    if status == 403:
        assert "Only this classroom's teachers or a district admin can enter scores." in _page(page)
    assert _nothing_written(before)


def test_a_coach_cannot_apply_a_token_made_by_the_teacher(client, klass):
    _logged_in(client, klass.teacher)
    token = _token(_upload(client, klass.upload_url, _csv("sis_id,A", "1001,1")))
    client.force_login(klass.world.users["coach_a1"])

    refused = client.post(klass.upload_url, {"token": token})

    assert refused.status_code == 403
    assert not klass.scores()


def test_an_assessment_of_another_unit_is_not_found(client, klass):
    other = factories.make_unit(klass.world.districts["a"], title="Other unit")
    _logged_in(client, klass.teacher)
    url = reverse(
        "score-csv-upload",
        args=[klass.classroom_unit.pk, other.assessments.get(kind="pre").pk],
    )
    assert client.get(url).status_code == 404


# --- the template ------------------------------------------------------------------------------


def test_template_lists_the_class_in_family_name_order_with_current_values(client, klass):
    _logged_in(client, klass.teacher)
    klass.save(klass.teacher, "ben", "A", "3.5")
    klass.save(klass.teacher, "ben", "B", "X")
    klass.save(klass.teacher, "cy", "A", "a")
    # Someone who left before today is not in the template.
    factories.EnrollmentFactory(
        classroom=klass.classroom,
        student__district=klass.world.districts["a"],
        student__family_name="Aardvark",
        end_date=datetime.date(2026, 9, 1),
    )

    response = client.get(klass.template_url)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"] == 'attachment; filename="class-a1-check-week-3-scores.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    world_student = klass.world.students["a1"]
    lines = response.content.decode("utf-8-sig").split("\r\n")
    assert lines == [
        "sis_id,family_name,given_name,A,B",
        "1001,Abel,Ann,,",
        "1002,Baker,Ben,3.5,X",
        "1003,Cole,Cy,A,",
        f"{world_student.sis_id},{world_student.family_name},{world_student.given_name},,",
        "",
    ]


def test_template_round_trips_to_a_preview_with_no_changes(client, klass):
    _logged_in(client, klass.teacher)
    klass.save(klass.teacher, "ann", "A", "4")
    klass.save(klass.teacher, "ann", "B", "5.25")
    klass.save(klass.teacher, "ben", "B", "x")
    klass.students["cy"].family_name = '=HYPERLINK("http://evil.example")'
    klass.students["cy"].save()
    downloaded = client.get(klass.template_url).content

    response = _upload(client, klass.upload_url, downloaded, name="class-a1.csv")

    preview = response.context["preview"]
    assert preview.is_valid
    assert preview.change_count == 0
    assert preview.same_count == 3
    assert not preview.warning_rows  # the neutralised name still matches the roster
    assert response.context["apply_form"] is None
    assert "Nothing to apply: every value in class-a1.csv matches the current scores" in _page(
        response
    )


def test_template_neutralises_cells_a_spreadsheet_would_run_as_formulas(client, klass):
    _logged_in(client, klass.teacher)
    klass.students["ann"].family_name = "=1+2"
    klass.students["ann"].given_name = "@SUM(A1)"
    klass.students["ann"].save()

    lines = client.get(klass.template_url).content.decode("utf-8-sig").split("\r\n")

    assert lines[1] == "1001,'=1+2,'@SUM(A1)" + ",,"


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=cmd", "'=cmd"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Abel", "Abel"),
        ("3.5", "3.5"),
        ("", ""),
        # Excel set to ";" as its separator would split the cell and run what follows it.
        ("Smith;=1+1;", "Smith;'=1+1;"),
        ("a,@b", "a,'@b"),
        ("x|+1", "x|'+1"),
        ("x; -y", "x; '-y"),
        ("O'Brien, Jr.", "O'Brien, Jr."),
        # Fullwidth signs, which Japanese and Chinese spreadsheets read as formula signs.
        ("＝1+1", "'＝1+1"),
        ("＋1", "'＋1"),
        ("Lee;＠x", "Lee;'＠x"),
    ],
)
def test_spreadsheet_safe_prefixes_formula_starts_with_a_quote(text, safe):
    assert score_csv.spreadsheet_safe(text) == safe
    assert score_csv.spreadsheet_unquote(safe) == text


def test_an_expired_preview_asks_for_the_file_again(client, klass, monkeypatch):
    _logged_in(client, klass.teacher)
    token = _token(_upload(client, klass.upload_url, _csv("sis_id,A", "1001,1")))
    monkeypatch.setattr(score_csv, "TOKEN_MAX_AGE_SECONDS", -1)

    refused = client.post(klass.upload_url, {"token": token})

    assert refused.status_code == 400
    assert "This preview is more than an hour old. Upload the file again." in _page(refused)
    assert not klass.scores()
    assert signing.loads(token, salt=score_csv.TOKEN_SALT)["text"] == "sis_id,A\n1001,1\n"


def test_nothing_to_apply_when_every_value_matches(client, klass):
    _logged_in(client, klass.teacher)
    klass.save(klass.teacher, "ann", "A", "2")

    response = _upload(client, klass.upload_url, _csv("sis_id,A", "1001,2.00"))

    assert response.context["preview"].same_count == 1
    assert response.context["apply_form"] is None
    assert Decimal("2") == Score.objects.get(student=klass.students["ann"]).points
