"""Schemathesis against the central server's OpenAPI, over real HTTP on 127.0.0.1.

Every operation gets generated requests (valid and invalid bodies, odd parameters) with a
valid device token: the server must never answer with a 5xx, and its answers must match the
documented schema. Bounded: a fixed number of examples per operation, derandomized.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from postgres_support import ENGINES
from sync_support import Central

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import checks  # noqa: E402

EXAMPLES = 40


@pytest.fixture(params=ENGINES)
def central_engine(request: pytest.FixtureRequest) -> str:
    """The central server in this module runs on SQLite and on PostgreSQL."""
    return str(request.param)


def test_the_api_never_answers_5xx_and_matches_its_schema(central: Central) -> None:
    token = central.add_device("A101", "B201")
    headers = {"Authorization": f"Bearer {token}"}
    import httpx

    # A bound device, so pushes reach the store's per-event validation (not just 409).
    hello = httpx.post(
        central.url + "/api/v1/sync/hello",
        json={"device_id": "fuzz", "ref_prefix": "FUZZ", "issued": 0},
        headers=headers,
        timeout=5.0,
    )
    assert hello.status_code == 200
    schema = schemathesis.openapi.from_dict(central.app.openapi())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/sync/push", "/api/v1/sync/pull"}
    seen: dict[str, set[int]] = {}
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def exercise(case: schemathesis.Case) -> None:
            response = case.call(base_url=central.url, headers=headers, timeout=10)
            seen.setdefault(f"{case.method.upper()} {case.path}", set()).add(response.status_code)
            case.validate_response(
                response,
                checks=[
                    checks.not_a_server_error,
                    checks.status_code_conformance,
                    checks.content_type_conformance,
                    checks.response_schema_conformance,
                ],
            )

        exercise()
    # The push operation was really exercised, and accepted valid batches at least once.
    assert 200 in seen["POST /api/v1/sync/push"]
    assert all(code < 500 for codes in seen.values() for code in codes)
