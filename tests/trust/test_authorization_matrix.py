"""The authorization matrix: every route of the URL configuration × every person × every object.

What each role may do is written as a table in tests/trust/policy.py (``READ``,
``ENTER_SCORES`` …), from the product's description of the roles, in terms of where rows live in
the trust world (tests/trust/conftest.py): it does not ask classrooms/access.py anything. Every
route found by ``django.urls.get_resolver()`` must have probes in tests/trust/routes.py, or
``test_every_route_is_in_the_matrix`` fails.

Each probe is one request: a list, an object by its id in the URL, or ids placed in a request
body or query (another district's student, another classroom's unit …). Every probe is tried by
every person of both districts and anonymous, each request inside a savepoint rolled back after
it, so every request meets the same database. For each request the runner compares what
happened (reached or refused) with the table, and:

- counts a **mismatch** when they differ, and a **cross-district success** when a request that
  got through named a row of another district;
- fingerprints every data table after each **refused** request (row counts and a hash of every
  row): a difference is a database change caused by a denied request;
- searches every response that got through for the names of students, classrooms, schools,
  districts and audit entries the reader may not see (a **leak**);
- records which rows each list shows and which rows each person reaches by id, so lists and
  object checks can be compared pair by pair.

Run with ``-s`` to see the figures (docs/trust.md lists them).
"""

from __future__ import annotations

import copy
import io
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection, transaction
from django.http import HttpResponseBase
from django.template.base import Template
from django.test import Client

from classrooms.admin_scoping import site
from classrooms.models import (
    Classroom,
    District,
    School,
    Student,
)
from tests.trust import harness
from tests.trust.conftest import (
    Thing,
    TrustWorld,
    audit_marker,
    classroom_marker,
    district_marker,
    role_of,
    school_marker,
    student_markers,
    user_keys,
)
from tests.trust.policy import may_read
from tests.trust.routes import API_MODELS, Probe, all_probes, collect_admin_forms, route_keys

pytestmark = pytest.mark.django_db


# =============================================================================================
# The runner
# =============================================================================================


def markers(world: TrustWorld) -> list[tuple[str, Thing]]:
    """Each marker string and the row it names."""
    found: list[tuple[str, Thing]] = []
    for thing in world.things.values():
        model = type(thing.obj)
        if model is Student:
            found += [(m, thing) for m in student_markers(thing.district, thing.area)]
        elif model is Classroom:
            found.append((classroom_marker(thing.district, thing.area), thing))
        elif model is School:
            found.append((school_marker(thing.district, thing.area), thing))
        elif model is District:
            found.append((district_marker(thing.district), thing))
        elif thing.kind == "audit":
            found.append((audit_marker(thing.district), thing))
    return found


@dataclass
class Tally:
    requests: int = 0
    by_route: Counter = field(default_factory=Counter)
    by_kind: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)
    allowed: int = 0
    denied: int = 0
    denied_with_write_statements: int = 0
    mismatches: list[str] = field(default_factory=list)
    cross_district: list[str] = field(default_factory=list)
    denied_changes: list[str] = field(default_factory=list)
    allowed_writes: int = 0
    allowed_writes_changed: int = 0
    leaks: list[str] = field(default_factory=list)
    rows_shown: int = 0  # names of rows found in responses (the leak search does find names)
    server_errors: list[str] = field(default_factory=list)
    listed: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    reached: dict[tuple[str, str], set[int]] = field(default_factory=lambda: defaultdict(set))
    tried: dict[tuple[str, str], set[int]] = field(default_factory=lambda: defaultdict(set))


def _send(client: Client, probe: Probe, user_key: str) -> HttpResponseBase:
    data = probe.body(user_key)
    method = getattr(client, probe.method)
    if probe.content_type == "json":
        return method(
            probe.path, json.dumps(data), content_type="application/json", follow=probe.follow
        )
    if probe.content_type == "multipart":
        files = {
            name: io.BytesIO(content) if isinstance(content, bytes) else content
            for name, (filename, content) in data.items()
        }
        for name, (filename, _content) in data.items():
            files[name].name = filename
        return method(probe.path, files, follow=probe.follow)
    if probe.method == "get":
        return method(probe.path, follow=probe.follow)
    if probe.method in ("post",):
        return method(probe.path, data or {}, follow=probe.follow)
    return method(probe.path, data=json.dumps(data or {}), content_type="application/json")


def run_probe(
    world: TrustWorld,
    tally: Tally,
    client: Client,
    probe: Probe,
    user_key: str,
    baseline: dict[str, tuple[int, str]],
    marker_list: list[tuple[str, Thing]],
) -> None:
    """Send one probe as one person inside a savepoint, judge it, and roll it back."""
    where = f"{user_key} {probe.method.upper()} {probe.path} ({probe.route}, {probe.probe})"
    tally.requests += 1
    tally.by_route[probe.route] += 1
    tally.by_kind[probe.probe] += 1
    started = time.perf_counter()
    # Signing out or changing a password gives the client another session, which the rollback
    # below removes: the client keeps the session it had.
    cookies = copy.deepcopy(client.cookies)
    with transaction.atomic():
        before = baseline
        writes = harness.WriteStatements()
        try:
            with connection.execute_wrapper(writes):
                response = _send(client, probe, user_key)
                body = harness.body_of(response)
        except Exception as error:  # noqa: BLE001 - a server error is a finding, not a crash
            tally.server_errors.append(f"{where}: {type(error).__name__}: {error}")
            transaction.set_rollback(True)
            client.cookies = cookies
            return
        _judge(world, tally, probe, user_key, response, body, writes, before, marker_list, where)
        transaction.set_rollback(True)
    client.cookies = cookies
    tally.seconds[probe.route] += time.perf_counter() - started


def _judge(
    world: TrustWorld,
    tally: Tally,
    probe: Probe,
    user_key: str,
    response: HttpResponseBase,
    body: bytes,
    writes: harness.WriteStatements,
    before: dict[str, tuple[int, str]],
    marker_list: list[tuple[str, Thing]],
    where: str,
) -> None:
    got_through = probe.judge(response)
    if response.status_code >= 500:
        tally.server_errors.append(f"{where}: {response.status_code}")
    expected = probe.allowed(user_key)
    if got_through != expected:
        tally.mismatches.append(
            f"{where}: expected {'allowed' if expected else 'refused'}, got {response.status_code}"
        )
    if got_through:
        tally.allowed += 1
        user_district = role_of(user_key)[0]
        named = [t for t in (probe.target, *probe.named) if t is not None]
        if any(t.district != user_district for t in named):
            tally.cross_district.append(f"{where}: {response.status_code}")
        _check_leaks(tally, probe, user_key, body, marker_list, where)
    if not got_through:
        tally.denied += 1
        if writes.statements:
            # It wrote something: did anything stay changed?
            tally.denied_with_write_statements += 1
            changed = harness.changed_tables(before, harness.fingerprint())
            if changed:
                tally.denied_changes.append(f"{where}: changed {changed}")
    elif probe.method != "get" and probe.route not in ("logout", "admin:logout"):
        tally.allowed_writes += 1
        tally.allowed_writes_changed += bool(harness.changed_tables(before, harness.fingerprint()))
    if probe.listing is not None:
        label = probe.listing.label
        shown = probe.listing.rows(response, body) if got_through else set()
        tally.listed[(user_key, label)] = shown
        wanted = probe.listing.expected(user_key) if expected else set()
        if shown != wanted:
            tally.mismatches.append(f"{where}: lists {sorted(shown)}, expected {sorted(wanted)}")
    if probe.reaches and probe.target is not None:
        tally.tried[(user_key, probe.reaches)].add(probe.target.pk)
        if got_through:
            tally.reached[(user_key, probe.reaches)].add(probe.target.pk)


def _check_leaks(
    tally: Tally,
    probe: Probe,
    user_key: str,
    body: bytes,
    marker_list: list[tuple[str, Thing]],
    where: str,
) -> None:
    text = body.decode("utf-8", errors="replace")
    shown = [(marker, thing) for marker, thing in marker_list if marker in text]
    tally.rows_shown += len(shown)
    for marker, thing in shown:
        if marker not in probe.echo and not may_read(user_key, thing):
            tally.leaks.append(f"{where}: shows {marker!r}")


def figures_line(tally: Tally, list_pairs: int, list_disagreements: int) -> str:
    kinds = tally.by_kind
    return (
        f"authorization matrix: {tally.requests} requests over {len(tally.by_route)} routes "
        f"({kinds['list']} lists, {kinds['direct']} objects by id, {kinds['body']} with other "
        f"rows' ids in the body or query, {kinds['page']} pages) as {len(user_keys())} "
        "callers, "
        f"{len(tally.mismatches)} mismatches, {len(tally.cross_district)} cross-district "
        f"successes, {len(tally.denied_changes)} database changes by {tally.denied} denied "
        f"requests ({tally.denied_with_write_statements} of them issued a write statement), "
        f"{len(tally.leaks)} leaks, {len(tally.server_errors)} server errors, "
        f"{list_pairs} person-row pairs with {list_disagreements} list/detail disagreements "
        f"({tally.allowed_writes_changed} of {tally.allowed_writes} allowed writes changed data)"
    )


# =============================================================================================
# Tests
# =============================================================================================


def _render_without_instrumentation(self: Template, context: Any) -> Any:
    """Django's own Template._render, without the test client's copy of every context: the
    matrix reads pages as text, and copying the context of every template of ten thousand pages
    costs a good part of its run."""
    return self.nodelist.render(context)


@pytest.fixture(scope="module")
def matrix_tally(trust_world: TrustWorld, django_db_blocker: Any) -> Iterator[Tally]:
    """Every probe × every person, once per module (each request rolled back)."""
    with django_db_blocker.unblock():
        forms = collect_admin_forms(trust_world)  # read from the pages' contexts
        probes = all_probes(trust_world, forms)
        marker_list = markers(trust_world)
        clients = {key: harness.session_client(trust_world, key) for key in user_keys()}
        baseline = harness.fingerprint()
        tally = Tally()
        instrumented = Template._render
        Template._render = _render_without_instrumentation  # type: ignore[method-assign]
        try:
            for user_key in user_keys():
                for probe in probes:
                    client = clients[user_key]
                    run_probe(trust_world, tally, client, probe, user_key, baseline, marker_list)
        finally:
            Template._render = instrumented  # type: ignore[method-assign]
        assert harness.fingerprint() == baseline
    yield tally


def test_every_route_is_in_the_matrix(trust: TrustWorld) -> None:
    probed = {probe.route for probe in all_probes(trust, collect_admin_forms(trust))}

    assert route_keys() - probed == set(), "routes without probes"
    assert probed - route_keys() == set(), "probes of routes that do not exist"


def test_every_person_gets_exactly_what_the_table_allows(
    matrix_tally: Tally, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs, disagreements = _list_agreement(matrix_tally)
    with capsys.disabled():
        print("\n" + figures_line(matrix_tally, pairs, len(disagreements)))

    assert matrix_tally.server_errors == []
    assert matrix_tally.mismatches == []


def test_no_request_succeeds_across_districts(matrix_tally: Tally) -> None:
    assert matrix_tally.requests > 10_000
    assert matrix_tally.cross_district == []


def test_denied_requests_change_nothing_in_the_database(matrix_tally: Tally) -> None:
    assert matrix_tally.denied > 5_000
    assert matrix_tally.denied_changes == []
    # The fingerprint does see writes: allowed writes changed data.
    assert matrix_tally.allowed_writes_changed > 100


def test_no_response_shows_a_row_its_reader_may_not_see(matrix_tally: Tally) -> None:
    assert matrix_tally.rows_shown > 1_000  # the search finds the names readers may see
    assert matrix_tally.leaks == []


def _list_agreement(tally: Tally) -> tuple[int, list[str]]:
    """For every person and list: a row is listed iff its own page (or API detail) opens."""
    pairs = 0
    disagreements = []
    for (user_key, label), tried in tally.tried.items():
        listed = tally.listed.get((user_key, label))
        if listed is None:
            continue
        reached_ids = tally.reached[(user_key, label)]
        for pk in tried:
            pairs += 1
            if (pk in listed) != (pk in reached_ids):
                disagreements.append(
                    f"{user_key} {label} #{pk}: listed {pk in listed}, opens {pk in reached_ids}"
                )
    return pairs, disagreements


def test_lists_and_object_checks_agree_for_every_person_and_row(matrix_tally: Tally) -> None:
    pairs, disagreements = _list_agreement(matrix_tally)

    assert pairs > 1_000
    assert disagreements == []


def test_every_list_was_read_for_every_person(matrix_tally: Tally) -> None:
    labels = Counter(label for _user, label in matrix_tally.listed)

    assert set(labels.values()) == {len(user_keys())}
    assert {f"api:{basename}" for basename in API_MODELS} <= set(labels)
    assert {f"admin:{model.__name__}" for model in site._registry} <= set(labels)
