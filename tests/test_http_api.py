"""The HTTP API of a real server on loopback, spoken to with real clients (httpx, openai)."""

from __future__ import annotations

import asyncio
import os
import random
import struct
import subprocess
import sys
import time
import wave
from io import BytesIO

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from wyoming_kokoro.__main__ import overrides_from_args, parse_args
from wyoming_kokoro.client import synthesize
from wyoming_kokoro.config import HTTP_TOKEN_ENV, is_loopback
from wyoming_kokoro.frontends.http.server import ROUTES

from .asr import word_error_rate
from .httpapi import TOKEN, auth, decode, error_of, wait_http
from .launch import Launched
from .serverproc import free_port, server_env

EMBEDDED_VOICES = {"jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"}
SENTENCE = "The living room lights are now turned off."


def get(server, path: str, **kwargs) -> httpx.Response:
    return httpx.get(server.http + path, timeout=120, **kwargs)


def post(server, path: str, **kwargs) -> httpx.Response:
    return httpx.post(server.http + path, timeout=120, **kwargs)


def speech(server, **body) -> httpx.Response:
    return post(server, "/v1/audio/speech", json=body)


def fresh_text(sentences: int) -> str:
    """Text no cache has seen, so it is really synthesized."""
    rng = random.Random()
    return " ".join(f"Reading item {rng.randint(100, 9999)} of the list now."
                    for _ in range(sentences))


def wait_idle(server, timeout: float = 60) -> None:
    """Until no request is in progress (cancelled streams end a moment after they close)."""
    deadline = time.monotonic() + timeout
    while get(server, "/health").json()["requests_active"]:
        assert time.monotonic() < deadline, "requests still active"
        time.sleep(0.05)


def metrics(server) -> dict[str, list]:
    response = get(server, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {f.name: f.samples for f in text_string_to_metric_families(response.text)}


def sample(families: dict, name: str, suffix: str = "", **labels: str) -> float:
    return sum(s.value for s in families.get(name, []) if s.name == name + suffix
               and all(s.labels.get(k) == v for k, v in labels.items()))


# -- control -----------------------------------------------------------------------------------


def test_health_reports_the_loaded_model_backend_and_uptime(http_server):
    response = get(http_server, "/health")
    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok"
    decoder = health["model"].pop("decoder")
    assert health["model"] == {"loaded": True, "name": "kokoro-v1.0-int8-ja", "backend": "onnx",
                               "device": "cpu", "sample_rate": 24000}
    assert decoder in ("int8", "float", "int8-static")  # model.decoder auto: the fastest here
    assert health["uptime_s"] > 0
    assert health["wyoming_uri"] == http_server.uri


def test_voices_list_the_model_voices_and_the_configured_mixes(http_server):
    listing = get(http_server, "/voices").json()
    by_name = {v["name"]: v for v in listing["voices"]}
    assert EMBEDDED_VOICES | {"narrator"} == set(by_name)
    assert listing["default"] == "jf_alpha"
    assert by_name["narrator"]["mix"] == "jf_alpha(0.7)+jm_kumo(0.3)"
    assert by_name["jm_kumo"]["mix"] is None
    assert "en_US" in by_name["jf_alpha"]["languages"]
    assert "a(2)+b(1)" in listing["blend_syntax"]
    openai_voices = get(http_server, "/v1/audio/voices").json()
    assert openai_voices == {"voices": [v["name"] for v in listing["voices"]]}


def test_config_is_the_effective_config_with_the_token_redacted(http_server):
    response = get(http_server, "/config")
    assert response.status_code == 200
    assert TOKEN not in response.text
    config = response.json()
    assert config["http"]["token"] == "<redacted>"
    assert config["http"]["enabled"] is True
    assert config["mixes"] == {"narrator": "jf_alpha(0.7)+jm_kumo(0.3)"}
    assert config["text"]["max_chars"] == 2000
    assert config["server"]["uri"] == http_server.uri
    assert TOKEN not in http_server.log


@pytest.mark.parametrize("path", ["/reload", "/model"])
@pytest.mark.parametrize("headers", [{}, auth("not-the-token"), {"Authorization": TOKEN},
                                     {"Authorization": f"Basic {TOKEN}"}],
                         ids=["none", "wrong", "no-scheme", "basic"])
def test_mutating_endpoints_refuse_requests_without_the_token(http_server, path, headers):
    response = post(http_server, path, headers=headers, json={})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    error = error_of(response)
    assert error["type"] == "authentication_error"
    assert error["code"] == "invalid_api_key"


def test_reading_endpoints_and_speech_need_no_token_by_default(http_server):
    for path in ("/", "/health", "/voices", "/config", "/metrics", "/openapi.json",
                 "/v1/models", "/v1/audio/voices"):
        assert get(http_server, path).status_code == 200, path
    assert speech(http_server, input="Hi.", response_format="pcm").status_code == 200


def test_reload_applies_the_file_or_answers_with_its_validation_error(http_server):
    path = http_server.config_path
    original = path.read_text()
    try:
        path.write_text(original + "voices:\n  jf_alpha:\n    speed: 5\n")
        response = post(http_server, "/reload", headers=auth(TOKEN))
        assert response.status_code == 422
        error = error_of(response)
        assert "voices.jf_alpha.speed: must be between 0.5 and 2.0, got 5" in error["message"]
        assert error["code"] == "invalid_config"
        assert "narrator" in {v["name"] for v in get(http_server, "/voices").json()["voices"]}

        path.write_text(original.replace("narrator:", "storyteller:"))
        response = post(http_server, "/reload", headers=auth(TOKEN))
        assert response.status_code == 200
        assert response.json() == {"ok": True, "message": "applied", "changed": ["mixes"]}
        names = {v["name"] for v in get(http_server, "/voices").json()["voices"]}
        assert "storyteller" in names and "narrator" not in names
        assert speech(http_server, input="Hi.", voice="storyteller",
                      response_format="pcm").status_code == 200
    finally:
        path.write_text(original)
        assert post(http_server, "/reload", headers=auth(TOKEN)).status_code == 200


def test_a_reload_can_rotate_the_token(http_server):
    path = http_server.config_path
    original = path.read_text()
    new = "rotated-" + TOKEN
    try:
        path.write_text(original.replace(f"token: {TOKEN}", f"token: {new}"))
        response = post(http_server, "/reload", headers=auth(TOKEN))
        assert response.status_code == 200
        assert response.json()["changed"] == ["http.token"]
        assert post(http_server, "/reload", headers=auth(TOKEN)).status_code == 401
        path.write_text(original)
        assert post(http_server, "/reload", headers=auth(new)).status_code == 200
    finally:
        path.write_text(original)
    assert post(http_server, "/reload", headers=auth(TOKEN)).json()["message"] == "nothing changed"
    assert new not in http_server.log and TOKEN not in http_server.log


def test_model_swap_answers_when_done_and_keeps_the_old_model_on_failure(http_server, tmp_path):
    before = metrics(http_server)
    try:
        response = post(http_server, "/model", headers=auth(TOKEN), json={"threads": 1})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["changed"] == ["model.threads"]
        assert body["model"]["backend"] == "onnx"
        assert get(http_server, "/config").json()["model"]["threads"] == 1
        response = post(http_server, "/model", headers=auth(TOKEN), json={"decoder": "int8"})
        assert response.status_code == 200, response.text
        assert response.json()["changed"] == ["model.decoder"]
        assert response.json()["model"]["decoder"] == "int8"
        assert get(http_server, "/health").json()["model"]["decoder"] == "int8"

        missing = tmp_path / "no-such-bundle"
        response = post(http_server, "/model", headers=auth(TOKEN), json={"bundle": str(missing)})
        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "model_swap_failed"
        assert error["message"].startswith("model not loaded:")
        assert speech(http_server, input="Still here.", response_format="pcm").status_code == 200
        assert get(http_server, "/config").json()["model"]["bundle"] is None

        for body, message in (({"backend": "tensorflow"}, "model.backend: must be one of"),
                              ({"threads": 257}, "model.threads: must be between 0 and 256"),
                              ({"decoder": "fp16"}, "model.decoder: must be one of"),
                              ({"colour": "blue"}, "unknown key 'colour'"),
                              ([1], "must be a JSON object")):
            response = post(http_server, "/model", headers=auth(TOKEN), json=body)
            assert response.status_code == 400, body
            assert message in error_of(response)["message"]
        cores = os.cpu_count() or 1
        if cores < 256:  # more threads than cores only thrash: the API refuses them
            response = post(http_server, "/model", headers=auth(TOKEN),
                            json={"threads": cores + 1})
            assert response.status_code == 400
            assert f"at most {cores}" in error_of(response)["message"]
    finally:
        assert post(http_server, "/model", headers=auth(TOKEN),
                    json={"threads": 0, "decoder": "auto"}).status_code == 200
    after = metrics(http_server)
    swaps = "kokoro_model_swaps"
    assert (sample(after, swaps, "_total", outcome="ok")
            - sample(before, swaps, "_total", outcome="ok")) == 3
    assert (sample(after, swaps, "_total", outcome="failed")
            - sample(before, swaps, "_total", outcome="failed")) == 1


def test_metrics_count_wyoming_and_http_requests_latencies_and_cache_hits(http_server):
    before = metrics(http_server)
    wyoming = asyncio.run(synthesize(http_server.uri, "Counting a Wyoming request."))
    assert wyoming.error is None
    for _ in range(2):  # the second is answered from the audio cache
        assert speech(http_server, input="Counting an HTTP request.",
                      response_format="wav").status_code == 200
    assert speech(http_server, input="Hi.", voice="af_nobody").status_code == 400
    after = metrics(http_server)

    def grew(name: str, suffix: str = "", **labels: str) -> float:
        return sample(after, name, suffix, **labels) - sample(before, name, suffix, **labels)

    assert grew("kokoro_requests", "_total", source="wyoming", outcome="ok") == 1
    assert grew("kokoro_requests", "_total", source="http", outcome="ok") == 2
    assert grew("kokoro_requests", "_total", source="http", outcome="unknown-voice") == 1
    for source, count in (("wyoming", 1), ("http", 2)):
        assert grew("kokoro_first_audio_seconds", "_count", source=source) == count
        assert grew("kokoro_request_seconds", "_count", source=source) == count
        assert grew("kokoro_real_time_factor", "_count", source=source) == count
    assert grew("kokoro_audio_seconds", "_total", source="http") > 1.0
    assert grew("kokoro_audio_cache_hits", "_total", tier="memory") >= 1
    assert sample(after, "kokoro_audio_cache_misses", "_total", tier="memory") >= 1
    assert sample(after, "kokoro_audio_cache_entries", tier="disk") >= 1
    assert sample(after, "kokoro_queue_pending") == 0
    assert "kokoro_requests_active" in after
    assert "kokoro_workers_busy" in after
    (info,) = after["kokoro_model_info"]
    assert info.labels == {"name": "kokoro-v1.0-int8-ja", "backend": "onnx", "device": "cpu"}
    assert sample(after, "kokoro_uptime_seconds") > 0


# -- OpenAI-compatible speech ------------------------------------------------------------------


def test_the_openai_client_speaks_through_the_server_and_whisper_understands(http_server,
                                                                            whisper):
    from openai import OpenAI

    client = OpenAI(base_url=f"{http_server.http}/v1", api_key=TOKEN, max_retries=0,
                    timeout=120)
    assert {"tts-1", "kokoro"} <= {m.id for m in client.models.list()}

    wav = client.audio.speech.create(model="tts-1", voice="jm_kumo", input=SENTENCE,
                                     response_format="wav").content
    assert wav[:4] == b"RIFF" and wav[8:16] == b"WAVEfmt "
    assert struct.unpack("<I", wav[24:28])[0] == 24000
    heard = whisper(wav[44:], 24000)
    print(f"\nWhisper heard (wav, jm_kumo): {heard!r}")
    assert word_error_rate(SENTENCE, heard) <= 0.2, heard

    text = "Your package from the hardware store is out for delivery."
    with client.audio.speech.with_streaming_response.create(
            model="kokoro", voice="jf_alpha(2)+jm_kumo(1)", input=text, response_format="mp3",
            speed=1.1) as response:
        assert response.headers["content-type"] == "audio/mpeg"
        mp3 = b"".join(response.iter_bytes())
    samples, rate = decode(mp3)
    heard = whisper(samples.tobytes(), rate)
    print(f"Whisper heard (mp3, blend, speed 1.1): {heard!r}")
    assert word_error_rate(text, heard) <= 0.2, heard


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_every_response_format_carries_the_same_speech(http_server, stream):
    pcm = speech(http_server, input=SENTENCE, voice="jf_alpha", response_format="pcm",
                 stream=stream)
    assert pcm.status_code == 200
    assert pcm.headers["content-type"] == "audio/pcm"
    assert pcm.headers["x-sample-rate"] == "24000"
    seconds = len(pcm.content) / 48000
    assert seconds > 1.0
    for fmt, content_type in (("wav", "audio/wav"), ("mp3", "audio/mpeg"),
                              ("opus", "audio/ogg"), ("flac", "audio/flac")):
        response = speech(http_server, input=SENTENCE, voice="jf_alpha", response_format=fmt,
                          stream=stream)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(content_type)
        if stream:
            assert response.headers["transfer-encoding"] == "chunked"
            assert "content-length" not in response.headers
        else:
            assert int(response.headers["content-length"]) == len(response.content)
        samples, rate = decode(response.content)
        assert abs(len(samples) / rate - seconds) < 0.2, fmt  # mp3 adds encoder padding
        assert np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 300, fmt  # speech, not silence
        if fmt == "wav" and stream:  # a stream's header cannot know the length
            assert struct.unpack("<I", response.content[4:8])[0] == 0xFFFFFFFF
            assert struct.unpack("<I", response.content[40:44])[0] == 0xFFFFFFFF
            assert response.content[44:] == pcm.content
        elif fmt == "wav":
            with wave.open(BytesIO(response.content)) as wav:
                assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (24000, 2, 1)
                assert wav.readframes(wav.getnframes()) == pcm.content


def test_speech_streams_the_first_sentence_while_the_rest_is_synthesized(http_server):
    with httpx.stream("POST", f"{http_server.http}/v1/audio/speech", timeout=120,
                      json={"input": fresh_text(12), "response_format": "pcm"}) as response:
        assert response.status_code == 200
        assert response.headers["transfer-encoding"] == "chunked"
        chunks = response.iter_raw()
        first = next(chunks)
        assert first
        # The first audio is out; the request is still synthesizing the other sentences.
        assert get(http_server, "/health").json()["requests_active"] >= 1
        rest = b"".join(chunks)
    assert len(rest) > len(first)
    wait_idle(http_server)


def test_a_busy_server_answers_503_with_retry_after(http_server):
    with httpx.Client(timeout=120) as client:
        streams, readers = [], []  # kept referenced: a dropped reader closes its connection
        try:
            for _ in range(2):  # limits.queue = 2
                stream = client.stream("POST", f"{http_server.http}/v1/audio/speech",
                                       json={"input": fresh_text(40), "response_format": "pcm"})
                response = stream.__enter__()
                streams.append(stream)
                readers.append(response.iter_raw())
                assert next(readers[-1])
            busy = speech(http_server, input="One more, please.")
            assert busy.status_code == 503
            assert busy.headers["Retry-After"] == "1"
            error = error_of(busy)
            assert (error["type"], error["code"]) == ("server_error", "busy")
        finally:
            for stream in streams:
                stream.__exit__(None, None, None)
    wait_idle(http_server)
    assert speech(http_server, input="Served again.", response_format="pcm").status_code == 200


BAD_SPEECH = [
    ("not-json", b"{nope", 400, "invalid_json", None),
    ("no-object", b"[1, 2]", 400, "invalid_json", None),
    ("no-body", b"", 400, "invalid_json", None),
    ("no-input", {"voice": "jf_alpha"}, 400, "invalid_type", "input"),
    ("blank-input", {"input": "  \n "}, 400, "empty_input", "input"),
    ("nothing-to-speak", {"input": "🙂 🙂"}, 400, "empty_input", "input"),
    ("unknown-voice", {"input": "Hi.", "voice": "af_nobody"}, 400, "unknown_voice", "voice"),
    ("bad-blend", {"input": "Hi.", "voice": "jf_alpha(2)+"}, 400, "unknown_voice", "voice"),
    ("voice-type", {"input": "Hi.", "voice": 7}, 400, "invalid_type", "voice"),
    ("aac", {"input": "Hi.", "response_format": "aac"}, 400, "unsupported_format",
     "response_format"),
    ("format", {"input": "Hi.", "response_format": "ogg"}, 400, "invalid_value",
     "response_format"),
    ("speed", {"input": "Hi.", "speed": 9}, 400, "invalid_value", "speed"),
    ("speed-type", {"input": "Hi.", "speed": "fast"}, 400, "invalid_value", "speed"),
    ("model", {"input": "Hi.", "model": "whisper-1"}, 400, "model_not_found", "model"),
    ("sse", {"input": "Hi.", "stream_format": "sse"}, 400, "unsupported_value",
     "stream_format"),
    ("stream-type", {"input": "Hi.", "stream": "yes"}, 400, "invalid_type", "stream"),
    ("too-long", {"input": "word " * 500}, 413, "too_long", "input"),
]


@pytest.mark.parametrize(("body", "status", "code", "param"),
                         [case[1:] for case in BAD_SPEECH], ids=[case[0] for case in BAD_SPEECH])
def test_bad_speech_requests_get_openai_shaped_errors(http_server, body, status, code, param):
    if isinstance(body, bytes):
        response = post(http_server, "/v1/audio/speech", content=body)
    else:
        response = speech(http_server, **body)
    assert response.status_code == status, response.text
    error = error_of(response)
    assert (error["code"], error["param"]) == (code, param)
    assert error["type"] == "invalid_request_error"


def test_unknown_paths_wrong_methods_and_huge_bodies_get_openai_shaped_errors(http_server):
    response = get(http_server, "/v1/audio/nothing")
    assert response.status_code == 404
    assert error_of(response)["type"] == "not_found_error"
    response = post(http_server, "/health")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert error_of(response)["code"] == "method_not_allowed"
    response = post(http_server, "/v1/audio/speech", content=b"x" * (5 << 20))
    assert response.status_code == 413
    error_of(response)


def test_browsers_cannot_post_from_another_origin(http_server):
    for path, body in (("/v1/audio/speech", {"input": "Hi."}), ("/reload", {})):
        response = post(http_server, path, json=body,
                        headers={"Origin": "http://evil.example", **auth(TOKEN)})
        assert response.status_code == 403
        assert error_of(response)["code"] == "cross_origin"
    same = http_server.http.removeprefix("http://")
    response = post(http_server, "/v1/audio/speech", headers={"Origin": f"http://{same}"},
                    json={"input": "Hi.", "response_format": "pcm"})
    assert response.status_code == 200


def test_the_openapi_description_names_exactly_the_served_routes(http_server):
    spec = get(http_server, "/openapi.json").json()
    documented = {(method.upper(), path) for path, item in spec["paths"].items()
                  for method in item}
    assert documented == {(route.method, route.path) for route in ROUTES}
    schema = spec["components"]["schemas"]["SpeechRequest"]["properties"]
    assert schema["input"]["maxLength"] == 2000  # text.max_chars of this server
    assert set(schema["response_format"]["enum"]) == {"mp3", "opus", "flac", "wav", "pcm"}
    secured = {path for path, item in spec["paths"].items() for op in item.values()
               if "security" in op}
    assert secured == {"/reload", "/model", "/cache/clear"}


def test_clearing_the_phrase_cache_needs_the_token_and_empties_both_tiers(http_server):
    assert speech(http_server, input="Clearing the cache soon.",
                  response_format="wav").status_code == 200
    cache = get(http_server, "/health").json()["cache"]
    assert cache["memory"]["entries"] >= 1 and cache["memory"]["bytes"] > 0
    assert set(cache) == {"memory", "disk"}
    assert post(http_server, "/cache/clear").status_code == 401
    response = post(http_server, "/cache/clear", headers=auth(TOKEN))
    assert response.status_code == 200 and response.json()["dropped"] >= 1
    cache = get(http_server, "/health").json()["cache"]
    assert cache["memory"]["entries"] == 0 and cache["disk"]["entries"] == 0


# -- start-up and the token --------------------------------------------------------------------


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("", False), ("::", False), ("192.168.1.20", False),
    ("kokoro.example", False)])
def test_only_loopback_addresses_count_as_local(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(("value", "overrides"), [
    ("", {"enabled": True}),
    ("9000", {"enabled": True, "port": 9000}),
    ("0.0.0.0:9000", {"enabled": True, "host": "0.0.0.0", "port": 9000}),
    ("[::1]:9000", {"enabled": True, "host": "::1", "port": 9000})])
def test_the_http_flag_takes_an_optional_host_and_port(value, overrides, monkeypatch):
    monkeypatch.delenv(HTTP_TOKEN_ENV, raising=False)
    args = parse_args(["--http", value] if value else ["--http"])
    assert overrides_from_args(args)["http"] == overrides


def test_serving_the_api_on_the_network_without_a_token_is_refused(cache_dir):
    env = server_env(cache_dir)
    env.pop(HTTP_TOKEN_ENV, None)
    result = subprocess.run(
        [sys.executable, "-m", "wyoming_kokoro", "--uri", f"tcp://127.0.0.1:{free_port()}",
         "--http", f"0.0.0.0:{free_port()}"],
        capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "http.host: refusing to serve the HTTP API on '0.0.0.0' without a token" in lines[0]
    assert "Traceback" not in result.stderr


def test_a_token_from_the_environment_can_guard_every_endpoint(tmp_path, cache_dir):
    from openai import AuthenticationError, OpenAI

    secret = "env-secret-" + "".join(random.choices("abcdef0123456789", k=16))
    uri, port = f"tcp://127.0.0.1:{free_port()}", free_port()
    base = f"http://127.0.0.1:{port}"
    config = tmp_path / "config.yaml"
    config.write_text("http:\n  auth: all\n")
    env = server_env(cache_dir) | {HTTP_TOKEN_ENV: secret}
    server = Launched([sys.executable, "-m", "wyoming_kokoro", "--uri", uri, "--config",
                       str(config), "--http", f"127.0.0.1:{port}"], env,
                      tmp_path / "server.log", uri)
    try:
        server.wait_ready()
        wait_http(base, server)
        for path in ("/", "/health", "/openapi.json"):  # public: the page asks for the token
            assert httpx.get(base + path).status_code == 200, path
        for path in ("/voices", "/config", "/metrics", "/v1/models"):
            assert httpx.get(base + path).status_code == 401, path
            assert httpx.get(base + path, headers=auth(secret)).status_code == 200, path
        assert httpx.get(base + "/config", headers=auth(secret)).json()["http"] == {
            "enabled": True, "host": "127.0.0.1", "port": port, "token": "<redacted>",
            "auth": "all", "trusted_proxies": [], "ingress_port": None,
            "ingress_host": "0.0.0.0"}
        good = OpenAI(base_url=f"{base}/v1", api_key=secret, max_retries=0)
        audio = good.audio.speech.create(model="tts-1", voice="jf_alpha", input="Hi.",
                                         response_format="pcm")
        assert len(audio.content) > 4800
        with pytest.raises(AuthenticationError):
            OpenAI(base_url=f"{base}/v1", api_key="wrong", max_retries=0).audio.speech.create(
                model="tts-1", voice="jf_alpha", input="Hi.")
    finally:
        server.stop()
    assert secret not in server.log
