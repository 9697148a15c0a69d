"""The OpenAPI 3.1 description served at ``/openapi.json``, built from the running config.

Built, not static, so that its limits are the server's own (``input`` up to
``text.max_chars``) and its security matches ``http.token`` / ``http.auth``. The tests check
that it names exactly the routes the server has, and fuzz the server from it.
"""

from __future__ import annotations

from typing import Any

from ... import __version__
from ...config import Config, field_of
from .control import max_threads
from .encode import FORMATS
from .speech import MODEL_IDS, SPEED_RANGE

JSON = "application/json"
PROTECTED = {("post", "/reload"), ("post", "/model"), ("post", "/cache/clear")}
PUBLIC = {"/", "/health", "/openapi.json"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _obj(properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any
         ) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = list(required)
    return schema


_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_NUM = {"type": "number"}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}


def _choices(key: str) -> list[str]:
    return list(field_of(key)[1]["choices"])


def _schemas(config: Config) -> dict[str, Any]:
    lo, hi = SPEED_RANGE
    return {
        "Error": _obj({"error": _obj({
            "message": _STR, "type": _STR, "param": _NSTR, "code": _NSTR},
            ("message", "type", "param", "code"))}, ("error",)),
        "SpeechRequest": _obj({
            "model": {"type": "string", "enum": list(MODEL_IDS), "default": "kokoro",
                      "description": "all names mean the active Kokoro model"},
            "input": {"type": "string", "minLength": 1, "maxLength": config.text.max_chars,
                      "pattern": r"\S", "description": "the text to speak (text.max_chars)"},
            "voice": {"type": "string", "minLength": 1, "maxLength": 200,
                      "description": "a voice, a mix, or a blend such as "
                                     "jf_alpha(2)+jm_kumo(1); default: default_voice"},
            "response_format": {"type": "string", "enum": list(FORMATS), "default": "mp3"},
            "speed": {"type": "number", "minimum": lo, "maximum": hi, "default": 1.0,
                      "description": "multiplies the voice's and audio.speed's rate"},
            "stream": {"type": "boolean", "default": True,
                       "description": "stream sentences as they are synthesized (chunked); "
                                      "false: one whole file with its length"},
            "stream_format": {"type": "string", "enum": ["audio"], "default": "audio"},
            "instructions": {"type": "string", "description": "accepted and ignored"},
        }, ("input",)),
        "Health": _obj({
            "status": {"type": "string", "enum": ["ok", "loading"]}, "version": _STR,
            "uptime_s": _NUM,
            "model": _obj({"loaded": _BOOL, "name": _NSTR, "backend": _NSTR, "device": _NSTR,
                           "sample_rate": {"type": ["integer", "null"]}, "decoder": _NSTR}),
            "wyoming_uri": _STR, "requests_active": _INT, "queue_pending": _INT,
            "reloads": _INT,
            "cache": {"type": "object", "description": "phrase cache tiers (memory, disk)",
                      "additionalProperties": _obj({"entries": _INT, "bytes": _INT},
                                                   ("entries", "bytes"))}},
            ("status", "model", "uptime_s")),
        "CacheCleared": _obj({"ok": _BOOL, "dropped": _INT}, ("ok", "dropped")),
        "Phonemes": _obj({
            "voice": _STR, "lexicon": {"type": "string", "description": "the pronunciation "
                                       "lexicon's fingerprint (changes with its entries)"},
            "inline_phonemes": _BOOL,
            "sentences": {"type": "array", "items": _obj({
                "text": _STR, "language": _STR, "normalized": _STR, "phonemes": _STR,
                "hits": {"type": "array", "items": _obj({
                    "source": {"type": "string", "enum": ["lexicon", "inline"]},
                    "text": _STR, "start": _INT, "end": _INT, "phonemes": _STR,
                    "respelling": _STR, "scope": _STR, "key": _STR, "value": _STR},
                    ("source", "text", "start", "end"))}},
                ("text", "language", "normalized", "phonemes", "hits"))}},
            ("voice", "lexicon", "inline_phonemes", "sentences")),
        "Voices": _obj({
            "default": _STR,
            "voices": {"type": "array", "items": _obj({
                "name": _STR, "language": _STR, "languages": {"type": "array", "items": _STR},
                "description": _STR, "speed": _NUM, "volume": _NUM, "mix": _NSTR},
                ("name", "language", "languages", "description", "speed", "volume", "mix"))},
            "blend_syntax": _STR}, ("default", "voices")),
        "Config": {"type": "object", "description": "the effective config (see config.yaml); "
                   "http.token shows as <redacted>"},
        "Applied": _obj({"ok": _BOOL, "message": _STR,
                         "changed": {"type": "array", "items": _STR}},
                        ("ok", "message", "changed")),
        "ModelRequest": _obj({
            "backend": {"type": "string", "enum": _choices("model.backend")},
            "bundle": {"type": ["string", "null"], "description": "bundle directory on the "
                       "server; null or empty: the embedded model"},
            "device": {"type": "string", "enum": _choices("model.device")},
            "threads": {"type": "integer", "minimum": field_of("model.threads")[1]["lo"],
                        "maximum": max_threads(),
                        "description": "0 = all cores; at most the machine's cores"},
            "decoder": {"type": "string", "enum": _choices("model.decoder"),
                        "description": "the onnx decoder: int8, float, int8-static, or auto "
                        "(the fastest here)"},
        }, additionalProperties=False),
        "ModelSwapped": _obj({
            "ok": _BOOL, "message": _STR, "changed": {"type": "array", "items": _STR},
            "model": _obj({"name": _STR, "backend": _STR, "device": _STR, "decoder": _STR})},
            ("ok", "message", "changed", "model")),
        "Models": _obj({"object": {"const": "list"}, "data": {"type": "array", "items": _obj({
            "id": _STR, "object": {"const": "model"}, "created": _INT, "owned_by": _STR},
            ("id", "object", "created", "owned_by"))}}, ("object", "data")),
        "OpenAIVoices": _obj({"voices": {"type": "array", "items": _STR}}, ("voices",)),
        **_status_schemas(),
    }


_NNUM = {"type": ["number", "null"]}
_PERCENTILES = {"type": ["object", "null"], "description": "nearest-rank p50 and p95; null "
                "without values", "properties": {"p50": _NUM, "p95": _NUM},
                "required": ["p50", "p95"]}
_OK_FAILED = _obj({"ok": _INT, "failed": _INT}, ("ok", "failed"))


def _status_schemas() -> dict[str, Any]:
    """GET /stats (live status for the page) and GET /model (what a swap can choose)."""
    bucket = _obj({
        "age_s": {"type": "number", "description": "how long ago the bucket began"},
        "requests": _INT, "failed": _INT,
        "first_audio_s": _PERCENTILES, "rtf": _PERCENTILES,
        "cache_hit_ratio": {"type": "object", "additionalProperties": _NNUM,
                            "description": "per cache: hits / lookups in the bucket; null "
                                           "without lookups"}},
        ("age_s", "requests", "failed", "first_audio_s", "rtf", "cache_hit_ratio"))
    cache = _obj({"hits": _INT, "misses": _INT, "hit_ratio": _NNUM, "bytes": _INT,
                  "entries": _INT}, ("hits", "misses", "hit_ratio", "bytes", "entries"))
    return {
        "Stats": _obj({
            "uptime_s": _NUM, "requests_active": _INT, "queue_pending": _INT,
            "workers_busy": _INT, "workers": _INT, "queue_limit": _INT,
            "model": {"type": ["object", "null"], "properties": {
                "name": _STR, "backend": _STR, "device": _STR}},
            "caches": {"type": "object", "additionalProperties": cache,
                       "description": "per cache (audio, phoneme, ...): totals since start"},
            "model_swaps": _OK_FAILED, "reloads": _OK_FAILED,
            "recent": _obj({
                "window_s": _NUM, "bucket_s": _NUM, "requests": _INT,
                "outcomes": {"type": "object", "additionalProperties": _INT},
                "sources": {"type": "object", "additionalProperties": _INT},
                "audio_s": _NUM, "first_audio_s": _PERCENTILES, "rtf": _PERCENTILES,
                "series": {"type": "array", "items": bucket,
                           "description": "oldest bucket first"}},
                ("window_s", "bucket_s", "requests", "outcomes", "first_audio_s", "rtf",
                 "series"))},
            ("uptime_s", "requests_active", "queue_pending", "caches", "model_swaps",
             "reloads", "recent")),
        "ModelChoices": _obj({
            "active": _obj({"loaded": _BOOL, "name": _NSTR, "backend": _STR,
                            "device": _NSTR, "bundle": _NSTR, "requested_device": _STR,
                            "threads": _INT}, ("loaded", "name", "backend", "bundle")),
            "backends": {"type": "array", "items": _obj({
                "name": _STR, "available": _BOOL, "reason": _NSTR},
                ("name", "available", "reason"))},
            "bundles_dir": _NSTR,
            "bundles": {"type": "array", "items": _obj({
                "path": {"type": ["string", "null"], "description": "null: the embedded "
                         "model"},
                "name": _STR, "description": _STR,
                "backends": {"type": "array", "items": _STR}, "error": _NSTR,
                "embedded": _BOOL}, ("path", "name", "backends", "error"))},
            "devices": {"type": "array", "items": _STR},
            "max_threads": _INT},
            ("active", "backends", "bundles", "devices", "max_threads")),
    }


def _status_operations() -> dict[str, dict[str, Any]]:
    return {
        "/stats": {"get": {
            "summary": "Live status and the last minutes (requests in progress, queue, "
                       "first-audio time and real-time factor p50/p95, cache hit ratio, "
                       "swaps, reloads)", "operationId": "stats",
            "responses": {"200": _json(_ref("Stats"), "Status")}}},
        "/model": {"get": {
            "summary": "The active model and what POST /model can switch to: backends this "
                       "install runs, bundles in model.bundles_dir, devices, threads",
            "operationId": "modelChoices",
            "responses": {"200": _json(_ref("ModelChoices"), "Choices")}}},
    }


def _operations() -> dict[str, dict[str, Any]]:
    audio = {f.content_type.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
             for f in FORMATS.values()}
    operations: dict[str, dict[str, Any]] = {
        "/": {"get": {"summary": "The web page (below X-Ingress-Path from a trusted proxy)",
                      "operationId": "page", "responses": {
            "200": {"description": "HTML", "content": {"text/html": {"schema": _STR}}},
            "400": _error("X-Ingress-Path from a trusted proxy is not a plain path")}}},
        "/openapi.json": {"get": {"summary": "This description", "operationId": "openapi",
                                  "responses": {"200": _json({"type": "object"}, "OpenAPI")}}},
        "/health": {"get": {"summary": "Model loaded, backend, uptime", "operationId": "health",
                            "responses": {"200": _json(_ref("Health"), "Serving"),
                                          "503": _json(_ref("Health"), "Loading")}}},
        "/voices": {"get": {"summary": "Voices and mixes of the active model",
                            "operationId": "voices",
                            "responses": {"200": _json(_ref("Voices"), "Voices")}}},
        "/config": {"get": {"summary": "Effective config, secrets redacted",
                            "operationId": "config",
                            "responses": {"200": _json(_ref("Config"), "Config")}}},
        "/reload": {"post": {
            "summary": "Re-read the config file (as SIGHUP does)", "operationId": "reload",
            "responses": {"200": _json(_ref("Applied"), "Applied (or nothing changed)"),
                          "409": _error("Started without --config"),
                          "422": _error("Refused: the validation error; the running config "
                                        "keeps serving")}}},
        "/model": {"post": {
            "summary": "Hot-swap the model; answers when it serves or was refused",
            "operationId": "swapModel",
            "requestBody": {"required": False, "content": {JSON: {
                "schema": _ref("ModelRequest")}}},
            "responses": {"200": _json(_ref("ModelSwapped"), "Swapped (or nothing changed)"),
                          "400": _error("Invalid request"),
                          "422": _error("The model could not be loaded; the old one serves")}}},
        "/phonemes": {"get": {
            "summary": "How a text is read: language, normalized text and phonemes per "
                       "sentence, with the pronunciation lexicon's and inline hits",
            "operationId": "phonemes",
            "parameters": [
                {"name": "text", "in": "query", "required": True,
                 "schema": {"type": "string", "minLength": 1, "pattern": r"\S"}},
                {"name": "voice", "in": "query", "required": False,
                 "schema": {"type": "string", "minLength": 1, "maxLength": 200}}],
            "responses": {"200": _json(_ref("Phonemes"), "The reading"),
                          "400": _error("Empty text, unknown voice or bad inline phonemes"),
                          "413": _error("Text longer than text.max_chars")}}},
        "/cache/clear": {"post": {
            "summary": "Forget every synthesized phrase, in memory and on disk",
            "operationId": "clearCache",
            "responses": {"200": _json(_ref("CacheCleared"), "Cleared")}}},
        "/metrics": {"get": {"summary": "Prometheus metrics", "operationId": "metrics",
                             "responses": {"200": {"description": "Prometheus text format",
                                                   "content": {"text/plain": {
                                                       "schema": _STR}}}}}},
        "/v1/models": {"get": {"summary": "OpenAI: model list", "operationId": "listModels",
                               "responses": {"200": _json(_ref("Models"), "Models")}}},
        "/v1/audio/voices": {"get": {"summary": "Voice names (as Kokoro-FastAPI)",
                                     "operationId": "listVoices",
                                     "responses": {"200": _json(_ref("OpenAIVoices"),
                                                                "Voices")}}},
        "/v1/audio/speech": {"post": {
            "summary": "OpenAI: text to speech", "operationId": "createSpeech",
            "requestBody": {"required": True, "content": {JSON: {
                "schema": _ref("SpeechRequest")}}},
            "responses": {
                "200": {"description": "Audio, streamed as sentences finish unless "
                        "stream is false", "content": audio,
                        "headers": {"X-Sample-Rate": {"schema": _INT}}},
                "400": _error("Invalid request (unknown voice, empty input, ...)"),
                "413": _error("Input longer than text.max_chars, or body too large"),
                "422": _error("The voice's language cannot be phonemized here"),
                "503": _error("Busy (limits.queue requests in progress)")}}},
    }
    for path, item in _status_operations().items():
        operations.setdefault(path, {}).update(item)
    return operations


def openapi(config: Config, ingress: bool = False) -> dict[str, Any]:
    """The description; ``ingress``: as the ingress listener serves it (no token asked)."""
    http = config.http
    paths = _operations()
    for path, item in paths.items():
        for method, op in item.items():
            if method == "post":
                op["responses"]["403"] = _error("A browser request from another origin")
            if not http.token or ingress:
                continue
            if (method, path) in PROTECTED or (http.auth == "all" and path not in PUBLIC):
                op["security"] = [{"bearer": []}]
                op["responses"]["401"] = _error("Missing or wrong bearer token")
    return {
        "openapi": "3.1.0",
        "info": {"title": "wyoming-kokoro HTTP API", "version": __version__,
                 "description": "Kokoro-82M text to speech: control API, OpenAI-compatible "
                                "speech, web page. Errors use OpenAI's JSON error shape."},
        "paths": paths,
        "components": {"schemas": _schemas(config),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
