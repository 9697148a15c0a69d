"""Fuzz the HTTP API from its own OpenAPI description (schemathesis + hypothesis): no request,
valid or not, gets a server error, and every answer matches the description (status code,
content type, JSON schema)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from wyoming_kokoro.frontends.http.server import ROUTES

from .httpapi import auth, start_http

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Operations without inputs get one example whatever the number; a valid /model body loads and
# warms up a real model, so fewer of those.
EXAMPLES = {"/v1/audio/speech": 200, "/reload": 40, "/model": 12}
DEFAULT_EXAMPLES = 20


@pytest.fixture(scope="module")
def fuzz_server(start_server):
    # Short texts keep synthesized examples quick; a token, so that /reload and /model are
    # fuzzed behind it (the test sends it).
    return start_http(start_server, max_chars=60, queue=8)


@pytest.fixture(scope="module")
def api_schema(fuzz_server):
    return schemathesis.openapi.from_url(f"{fuzz_server.http}/openapi.json")


# The routes come from the server; test_http_api checks that the description has exactly these.
@pytest.mark.parametrize("route", [f"{r.method} {r.path}" for r in ROUTES])
def test_fuzzed_requests_get_no_server_error_and_match_the_description(route, api_schema,
                                                                       fuzz_server):
    method, path = route.split()
    operation = api_schema[path][method]
    strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    if method == "POST":  # invalid bodies too: wrong types, missing fields, out of range
        strategy = st.one_of(strategy, operation.as_strategy(
            generation_mode=GenerationMode.NEGATIVE))

    @settings(max_examples=EXAMPLES.get(path, DEFAULT_EXAMPLES), deadline=None,
              derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def fuzz(case):
        case.call_and_validate(headers=auth(fuzz_server.token), checks=CHECKS, timeout=120)

    fuzz()

