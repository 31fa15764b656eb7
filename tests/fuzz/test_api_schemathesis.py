"""Fuzz the collector's HTTP API: every operation of its OpenAPI spec (schemathesis), then arbitrary bodies.

Runs on SQLite only: the point is the HTTP layer (status codes, error shape, response schemas), and one database
keeps the module fast. Every bug the fuzzers found is fixed and pinned by a regression test at the end of this
module. Should a new one turn up that cannot be fixed at once, pin it with a strict xfail test and step the fuzz
tests around exactly that input, so they stay green and still catch anything else.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from httpx import Response as HttpxResponse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import CheckFunction
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    positive_data_acceptance,
)

from collector.app import create_app
from collector.keys import Scope, create_key
from collector.runtime import Runtime
from collector.settings import CollectorSettings
from events.models import BROWSER_KINDS, MAX_COUNT
from tests.factories import SENSOR_ID, batch, network_event, prompt_event

BATCHES = "/api/v1/batches"
INT64_MAX = 2**63 - 1
# Enough to reach every parameter of every operation, few enough that the module runs in seconds. For a longer,
# random (not derandomized) run: SHADOWSCOPE_FUZZ_EXAMPLES=2000 .venv/bin/python -m pytest tests/fuzz (fuzz/README.md).
_LONG_RUN = os.environ.get("SHADOWSCOPE_FUZZ_EXAMPLES")
EXAMPLES_PER_OPERATION = int(_LONG_RUN or 40)
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=not _LONG_RUN,  # CI sees the same cases on every run: a red build is reproducible, not a lottery
    database=None,
    deadline=None,  # the first request of a run migrates the database
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def examples(factor: float) -> int:
    return max(1, round(EXAMPLES_PER_OPERATION * factor))


def _sqlite_settings(directory: Path) -> CollectorSettings:
    return CollectorSettings(data_dir=directory / "data", database_url=f"sqlite+pysqlite:///{directory / 'c.db'}")


# Changing operations (the policy) need an admin key where the collector has that scope; reading needs read.
_ADMIN_SCOPE = next((scope for scope in Scope if scope.value == "admin"), Scope.READ)


@dataclass(frozen=True)
class FuzzKeys:
    sensor: str
    browser: str
    read: str
    admin: str

    @staticmethod
    def header(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def create_keys(runtime: Runtime) -> FuzzKeys:
    with runtime.sessions.begin() as session:
        return FuzzKeys(
            sensor=create_key(session, Scope.SENSOR, SENSOR_ID, "fuzz sensor").token,
            browser=create_key(session, Scope.BROWSER, None, "fuzz gateway").token,
            read=create_key(session, Scope.READ, None, "fuzz reader").token,
            admin=create_key(session, _ADMIN_SCOPE, None, "fuzz admin").token,
        )


# `@schema.parametrize()` needs the schema when the module is collected, so the app is built then, in its own
# directory. create_app() touches no database: the lifespan migrates it when the first request arrives.
_APP_DIR = Path(tempfile.mkdtemp(prefix="shadowscope-schemathesis-"))
atexit.register(shutil.rmtree, _APP_DIR, ignore_errors=True)
APP = create_app(_sqlite_settings(_APP_DIR))
SPEC: dict[str, Any] = APP.openapi()
schema = schemathesis.openapi.from_dict(SPEC)
# The test sends the right key itself; generated Authorization headers would only be overwritten by it, and a
# negative case whose "missing header" mutation is undone that way would be misread as accepted bad data.
schema.config.generation.update(with_security_parameters=False)
# A body over the size cap is refused with 413 before it is parsed; that is a rejection of bad data too.
_rejection = schema.config.checks.negative_data_rejection
_rejection.expected_statuses = [*_rejection.expected_statuses, "413"]
schema.app = APP  # requests go to the app in-process; checks that re-send (ignored_auth) reach it too


@pytest.fixture(scope="module")
def api_keys() -> Iterator[FuzzKeys]:
    """Start APP (migrations run), create a key per scope and store a few real events for the readers to page."""
    with asgi.get_client(APP) as client:
        keys = create_keys(APP.state.runtime)
        for token, body in [
            (keys.sensor, batch(network_event(), network_event(tool_id=None, client_ip="2001:db8::1"))),
            (keys.browser, batch(prompt_event(), prompt_event(kind="paste", user=None))),
        ]:
            response = client.post(BATCHES, json=body, headers=keys.header(token))
            assert response.status_code == 201, response.text
        yield keys
    asgi.shutdown_lifespans()


def _token_for(case: schemathesis.Case, keys: FuzzKeys) -> str:
    if case.path != BATCHES:
        return keys.read if case.method.upper() in {"GET", "HEAD"} else keys.admin
    # Browser events need a browser key; anything else goes with the sensor key (which may then answer 403).
    events = case.body.get("events") if isinstance(case.body, dict) else None
    kinds = [event.get("kind") for event in events if isinstance(event, dict)] if isinstance(events, list) else []
    if kinds and all(isinstance(kind, str) and kind in BROWSER_KINDS for kind in kinds):
        return keys.browser
    return keys.sensor


def _as_ints(value: object) -> list[int]:
    """The integers a query value would carry; a list is a repeated parameter."""
    if isinstance(value, list):
        return [number for item in value for number in _as_ints(item)]
    number = _as_int(value)
    return [] if number is None else [number]


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _is_number(value: object) -> bool:
    """True for what a query string would carry as a number; a list is a repeated parameter."""
    if isinstance(value, list):
        return any(_is_number(item) for item in value)
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            return math.isfinite(float(value))
        except ValueError:
            return False
    return False


# positive_data_acceptance cannot hold for this API: the spec cannot say what the contract checks across fields
# or against the clock, so schema-valid requests are rightly refused with 422. Timestamps must lie between
# 2020-01-01 and now + 24 h, last_seen >= first_seen, signals and event ids must not repeat, a prompt needs exactly
# one of text or findings, schema_version must have major 1, and a query's `until` must be later than `since`.
# (A documented 422 is still checked against the error schema by response_schema_conformance.)
EXCLUDED_CHECKS: list[CheckFunction] = [positive_data_acceptance]


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_answers_within_its_spec(case: schemathesis.Case, api_keys: FuzzKeys) -> None:
    """All default schemathesis checks but positive_data_acceptance: no 5xx, documented status codes, content types
    and bodies, schema-violating requests refused, no access without a key, 405 for undocumented methods."""
    headers = api_keys.header(_token_for(case, api_keys))
    response = case.call(headers=headers)
    case.validate_response(
        response,
        headers=headers,
        excluded_checks=EXCLUDED_CHECKS,
        transport_kwargs={"headers": headers},
    )


# --- Arbitrary bodies on POST /api/v1/batches ----------------------------------------------------------------

JSON_SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5),
    max_leaves=25,
)
# Shaped like a batch, so validation reaches the events union and the error formatter gets deep locations.
EVENT_LIKE = st.dictionaries(
    st.sampled_from([*network_event(), *prompt_event(), "file_name", "file_sha256", "findings", "verdict"]),
    JSON_VALUES,
    max_size=8,
).flatmap(
    lambda rest: st.sampled_from([*sorted(BROWSER_KINDS), "network_usage", "nope"]).map(
        lambda kind: {**rest, "kind": kind}
    )
)
BATCH_LIKE = st.fixed_dictionaries(
    {"events": st.lists(EVENT_LIKE, max_size=4) | JSON_VALUES},
    optional={"schema_version": st.just("1.0") | JSON_VALUES, "batch_id": JSON_VALUES, "sent_at": JSON_VALUES},
).map(lambda body: {**body, "fuzz": True})  # the unknown key guarantees the body is invalid
ARBITRARY_JSON = JSON_VALUES | BATCH_LIKE
CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", None]
)
ERROR_STATUSES = {400, 401, 403, 413, 422}


@pytest.fixture(scope="module")
def sqlite_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    # A 500 would raise out of the TestClient with the server's traceback: the most useful failure.
    with TestClient(create_app(_sqlite_settings(tmp_path_factory.mktemp("arbitrary")))) as client:
        yield client


@pytest.fixture(scope="module")
def sqlite_keys(sqlite_client: TestClient) -> FuzzKeys:
    return create_keys(sqlite_client.app.state.runtime)  # type: ignore[attr-defined]


def assert_json_error(response: HttpxResponse, statuses: set[int] = ERROR_STATUSES) -> None:
    assert response.status_code in statuses, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/json", response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"status", "code", "message", "details"}, error
    assert error["status"] == response.status_code
    assert isinstance(error["code"], str)
    assert error["code"]
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], list)
    for detail in error["details"]:
        assert set(detail) == {"field", "problem"}, detail
        assert isinstance(detail["field"], str)
        assert detail["field"]
        assert isinstance(detail["problem"], str)


def assert_still_serving(client: TestClient, keys: FuzzKeys) -> None:
    body = batch(network_event())
    response = client.post(BATCHES, json=body, headers=keys.header(keys.sensor))
    assert response.status_code == 201, response.text
    assert response.json()["batch_id"] == body["batch_id"]


def run_fuzz(client: TestClient, keys: FuzzKeys, fuzz: Callable[[], None]) -> None:
    """Run a hypothesis test against the shared app, then make sure the app still stores a valid batch."""
    fuzz()
    assert_still_serving(client, keys)


def test_arbitrary_json_gets_a_json_4xx(sqlite_client: TestClient, sqlite_keys: FuzzKeys) -> None:
    @settings(FUZZ_SETTINGS, max_examples=examples(4))
    @given(body=ARBITRARY_JSON, token=st.sampled_from([sqlite_keys.sensor, sqlite_keys.browser]))
    def post(body: Any, token: str) -> None:
        response = sqlite_client.post(
            BATCHES, content=json.dumps(body), headers={**sqlite_keys.header(token), "content-type": "application/json"}
        )
        # Always valid JSON, never a valid batch: only the contract can refuse it.
        assert_json_error(response, {422})

    run_fuzz(sqlite_client, sqlite_keys, post)


def test_arbitrary_bytes_get_a_json_4xx(sqlite_client: TestClient, sqlite_keys: FuzzKeys) -> None:
    @settings(FUZZ_SETTINGS, max_examples=examples(4))
    @given(body=st.binary(max_size=300), content_type=CONTENT_TYPES)
    def post(body: bytes, content_type: str | None) -> None:
        headers = sqlite_keys.header(sqlite_keys.sensor)
        if content_type is not None:
            headers["content-type"] = content_type
        response = sqlite_client.post(BATCHES, content=body, headers=headers)
        assert_json_error(response, {400, 422})

    run_fuzz(sqlite_client, sqlite_keys, post)


# --- Valid batches with one value swapped for arbitrary JSON: this reaches the database -----------------------


def _leaf_paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(value, dict):
        return [prefix] + [p for key, item in value.items() for p in _leaf_paths(item, (*prefix, key))]
    if isinstance(value, list):
        return [prefix] + [p for index, item in enumerate(value) for p in _leaf_paths(item, (*prefix, index))]
    return [prefix]


def _replace(value: Any, path: tuple[str | int, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, str(head): _replace(value[head], rest, new)}
    copy = list(value)
    copy[int(head)] = _replace(copy[int(head)], rest, new)
    return copy


def _browser_event(kind: str, **fields: Any) -> dict[str, Any]:
    event = prompt_event(kind=kind, **fields)
    if kind in {"visit", "upload"}:
        del event["text"]
    return event


def _valid_bodies() -> list[tuple[str, dict[str, Any]]]:
    upload = _browser_event("upload", file_name="q3.xlsx", file_size=4096, file_sha256="ab" * 32)
    findings = {"labels": ["pii"], "entity_counts": {"email": 2}, "text_hmac": "cd" * 32, "text_length": 120}
    return [
        ("sensor", batch(network_event(), network_event(client_name="laptop-7.corp.example", tool_id=None))),
        ("browser", batch(prompt_event(verdict={"action": "warn", "user_choice": "proceeded"}))),
        ("browser", batch(prompt_event(kind="paste", text=None, findings=findings))),
        ("browser", batch(upload, _browser_event("visit", user=None))),
    ]


@st.composite
def mutated_batches(draw: st.DrawFn) -> tuple[str, dict[str, Any], tuple[str | int, ...], Any]:
    scope, body = draw(st.sampled_from(_valid_bodies()))
    # Fresh ids, so a mutation that stays valid is stored rather than acknowledged as a duplicate.
    body = {**body, "batch_id": str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1))))}
    path = draw(st.sampled_from(_leaf_paths(body)))
    new = draw(JSON_VALUES | st.integers(min_value=-(2**64), max_value=2**64) | st.sampled_from(["", " ", "\x00"]))
    return scope, _replace(body, path, new), path, new


def test_valid_batches_with_one_value_swapped_never_get_a_5xx(sqlite_client: TestClient, sqlite_keys: FuzzKeys) -> None:
    @settings(FUZZ_SETTINGS, max_examples=examples(5))
    @given(mutation=mutated_batches())
    def post(mutation: tuple[str, dict[str, Any], tuple[str | int, ...], Any]) -> None:
        scope, body, _path, _new = mutation
        token = sqlite_keys.sensor if scope == "sensor" else sqlite_keys.browser
        response = sqlite_client.post(BATCHES, json=body, headers=sqlite_keys.header(token))
        if response.status_code in {200, 201}:  # the swap left the batch valid
            assert set(response.json()) == {"batch_id", "received", "stored", "duplicate_batch"}
            return
        assert_json_error(response, {403, 422})

    run_fuzz(sqlite_client, sqlite_keys, post)


# --- Bugs the fuzzers found, fixed and kept as regression tests ----------------------------------------------------


@pytest.fixture
def lenient_client(sqlite_client: TestClient) -> TestClient:
    """The same (already started) app, but a 500 comes back as a response instead of raising, so the assertion
    names the bug."""
    return TestClient(sqlite_client.app, raise_server_exceptions=False)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (path, parameter["name"])
        for path, item in SPEC["paths"].items()
        for parameter in item.get("get", {}).get("parameters", [])
        if parameter["name"] in {"offset", "after", "before"}
    ],
)
def test_integer_query_parameters_beyond_int64_are_refused_with_422(
    lenient_client: TestClient, sqlite_keys: FuzzKeys, path: str, name: str
) -> None:
    response = lenient_client.get(path, params={name: 2**63}, headers=sqlite_keys.header(sqlite_keys.read))
    assert_json_error(response, {422})


@pytest.mark.parametrize("field", ["bytes_up", "bytes_down"])
def test_batch_counters_beyond_the_contract_cap_are_refused_with_422(
    lenient_client: TestClient, sqlite_keys: FuzzKeys, field: str
) -> None:
    body = batch(network_event(**{field: 2**63}))
    response = lenient_client.post(BATCHES, json=body, headers=sqlite_keys.header(sqlite_keys.sensor))
    assert_json_error(response, {422})


def test_usage_sums_of_the_largest_counters_do_not_overflow_on_sqlite(tmp_path: Path) -> None:
    with TestClient(create_app(_sqlite_settings(tmp_path)), raise_server_exceptions=False) as client:
        keys = create_keys(client.app.state.runtime)  # type: ignore[attr-defined]
        big = batch(network_event(bytes_up=MAX_COUNT), network_event(bytes_up=MAX_COUNT))
        stored = client.post(BATCHES, json=big, headers=keys.header(keys.sensor))
        assert stored.status_code == 201, stored.text
        response = client.get("/api/v1/usage", headers=keys.header(keys.read))
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/usage"])
def test_time_filters_refuse_epoch_numbers(lenient_client: TestClient, sqlite_keys: FuzzKeys, path: str) -> None:
    response = lenient_client.get(path, params={"until": "0.5"}, headers=sqlite_keys.header(sqlite_keys.read))
    assert_json_error(response, {422})


MULTI_METHOD_PATHS = sorted(path for path, item in SPEC["paths"].items() if len(item) > 1)


@pytest.mark.parametrize("path", MULTI_METHOD_PATHS)
def test_a_405_allows_every_method_of_the_path(sqlite_client: TestClient, sqlite_keys: FuzzKeys, path: str) -> None:
    concrete = path.replace("{category}", "chat_assistant").replace("{tool_id}", "openai-chatgpt")
    response = sqlite_client.options(concrete, headers=sqlite_keys.header(sqlite_keys.admin))
    assert response.status_code == 405
    allowed = {method.strip() for method in response.headers["allow"].split(",")}
    assert allowed >= {method.upper() for method in SPEC["paths"][path]}, (allowed, path)


def test_the_bulk_path_is_not_read_as_an_alert_id(sqlite_client: TestClient, sqlite_keys: FuzzKeys) -> None:
    # Found by schemathesis: /api/v1/alerts/{alert_id} matched "bulk", so OPTIONS advertised GET and a GET got 422.
    headers = sqlite_keys.header(sqlite_keys.admin)
    for method in ("GET", "OPTIONS"):
        response = sqlite_client.request(method, "/api/v1/alerts/bulk", headers=headers)
        assert response.status_code == 405, (method, response.text)
        assert response.headers["allow"] == "POST"
