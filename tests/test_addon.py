"""The add-on entry point: options.json -> server arguments, config seeding, and a real start."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from wyoming_kokoro.addon import (
    SEED_HEADER,
    AddonError,
    AddonOptions,
    parse_options,
    seed_config,
    server_args,
    server_env,
)
from wyoming_kokoro.config import HTTP_TOKEN_ENV
from wyoming_kokoro.model.embedded import embedded_bundle

from .httpapi import TRUSTED_PROXY, from_address, wait_http
from .launch import Launched
from .serverproc import free_port
from .serverproc import server_env as process_env

ROOT = Path(__file__).resolve().parent.parent
BASE = ["--uri", "tcp://0.0.0.0:10200", "--bundle", "/opt/kokoro/model",
        "--cache-dir", "/data/cache",  # persistent: cached replies survive add-on updates
        "--ingress", "0.0.0.0:8099", "--trusted-proxy", "172.30.32.2"]  # the sidebar panel
REST = ["--speed", "1", "--backend", "onnx", "--threads", "0"]  # defaults after --voice
HEART = ["--voice", "af_heart"]


@pytest.mark.parametrize(
    ("options", "flags"),
    [
        (dict(AddonOptions().__dict__), [*HEART, *REST]),  # the add-on's default options
        ({}, REST),  # no voice: config.yaml's default_voice (which may name a blend)
        ({"voice": "bf_emma"}, ["--voice", "bf_emma", *REST]),
        ({"voice": None}, REST),
        ({"speed": 1.25}, ["--speed", "1.25", *REST[2:]]),
        ({"speed": 2}, ["--speed", "2", *REST[2:]]),
        ({"backend": "torch"}, [*REST[:2], "--backend", "torch", *REST[4:]]),
        ({"threads": 2}, [*REST[:4], "--threads", "2"]),
        ({"voice": "af_heart", "debug": True}, [*HEART, *REST, "--debug"]),
        ({"voice": "af_heart", "old_option": 1}, [*HEART, *REST]),  # unknown: ignored
        ({"http_api": True, "http_token": "s3cret"}, [*REST, "--http", "0.0.0.0:8880"]),
        ({"http_api": False, "http_token": "s3cret"}, REST),
    ],
)
def test_options_map_to_server_flags(options, flags):
    assert server_args(parse_options(options)) == [*BASE, *flags]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"voice": ""}, "voice: must be a voice name such as af_heart, got ''"),
        ({"voice": "../x"}, "voice: must be a voice name"),
        ({"voice": 5}, "voice: must be a voice name such as af_heart, got 5"),
        ({"speed": 5}, "speed: must be between 0.5 and 2.0, got 5"),
        ({"speed": 0.1}, "speed: must be between 0.5 and 2.0, got 0.1"),
        ({"speed": "fast"}, "speed: must be a number, got 'fast'"),
        ({"speed": True}, "speed: must be a number, got true"),
        ({"backend": "cuda"}, "backend: must be one of onnx, torch, got 'cuda'"),
        ({"threads": -1}, "threads: must be between 0 and 256, got -1"),
        ({"threads": 1.5}, "threads: must be a whole number, got 1.5"),
        ({"threads": False}, "threads: must be a number, got false"),
        ({"debug": "yes"}, "debug: must be true or false, got 'yes'"),
        ({"http_api": "yes"}, "http_api: must be true or false, got 'yes'"),
        ({"http_api": True}, "http_token: required when http_api is on"),
        ({"http_api": True, "http_token": "  "}, "http_token: required when http_api is on"),
        ({"http_token": 5}, "http_token: must be text"),
        ([], "options: must be a JSON object, got list"),
    ],
)
def test_invalid_options_are_refused_naming_the_option(options, message):
    with pytest.raises(AddonError) as err:
        parse_options(options)
    assert message in str(err.value)


def test_the_http_token_travels_in_the_environment_only():
    options = parse_options({"http_api": True, "http_token": " s3cret "})
    assert "s3cret" not in " ".join(server_args(options)) and "s3cret" not in repr(options)
    env = server_env(options, {"PATH": "/bin"})
    assert env == {"PATH": "/bin", HTTP_TOKEN_ENV: "s3cret"}
    off = parse_options({"http_token": "s3cret"})  # API off: no token, not even an inherited one
    assert server_env(off, {"PATH": "/bin", HTTP_TOKEN_ENV: "old"}) == {"PATH": "/bin"}


def test_paths_and_config_are_passed_through():
    args = server_args(AddonOptions(), uri="tcp://127.0.0.1:1", bundle=None,
                       config=Path("/config/config.yaml"), cache_dir=None)
    assert args[:4] == ["--uri", "tcp://127.0.0.1:1", "--config", "/config/config.yaml"]
    assert "--bundle" not in args and "--cache-dir" not in args
    assert "--ingress" in args
    off = server_args(AddonOptions(), ingress=None, bundles_dir=Path("/config/models"))
    assert "--ingress" not in off and "--trusted-proxy" not in off
    assert off[off.index("--bundles-dir") + 1] == "/config/models"


def test_the_default_config_is_seeded_once(tmp_path):
    config_dir = tmp_path / "addon_config"
    path = seed_config(config_dir)
    assert path == config_dir / "config.yaml"
    text = path.read_text()
    assert text == SEED_HEADER + (ROOT / "config.yaml").read_text()
    assert yaml.safe_load(text)["server"]["uri"] == "tcp://0.0.0.0:10200"
    path.write_text("default_voice: bf_emma\n")  # the user's edits are kept
    assert seed_config(config_dir) == path and path.read_text() == "default_voice: bf_emma\n"


def test_an_unwritable_config_folder_runs_without_config(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert seed_config(blocker / "config") is None
    assert "Cannot write the default config" in caplog.text


def run_addon(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wyoming_kokoro.addon", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_entry_point_builds_the_command_from_the_environment(cache_dir, tmp_path):
    options = tmp_path / "options.json"
    options.write_text(json.dumps({"voice": "bf_emma", "speed": 0.9, "backend": "onnx",
                                   "threads": 1, "debug": True}))
    env = process_env(cache_dir) | {"KOKORO_ADDON_OPTIONS": str(options),
                                    "KOKORO_ADDON_CONFIG_DIR": str(tmp_path / "cfg"),
                                    "KOKORO_BUNDLE": "/b", "KOKORO_URI": "tcp://127.0.0.1:9",
                                    "KOKORO_CACHE_DIR": "/c"}
    out = run_addon(env, "--dry-run", "--workers", "2")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [
        sys.executable, "-m", "wyoming_kokoro", "--uri", "tcp://127.0.0.1:9", "--bundle", "/b",
        "--config", str(tmp_path / "cfg" / "config.yaml"), "--cache-dir", "/c",
        "--bundles-dir", str(tmp_path / "cfg" / "models"), "--ingress", "0.0.0.0:8099",
        "--trusted-proxy", "172.30.32.2", "--voice", "bf_emma", "--speed", "0.9", "--backend",
        "onnx", "--threads", "1", "--debug", "--workers", "2"]
    assert (tmp_path / "cfg" / "models").is_dir()  # where bundles for the web page go
    options.write_text(json.dumps({"speed": 9}))
    bad = run_addon(env)
    assert bad.returncode == 2
    assert "Invalid add-on option: speed: must be between 0.5 and 2.0, got 9" in bad.stderr
    options.unlink()
    missing = run_addon(env)
    assert missing.returncode == 2 and "no add-on options file" in missing.stderr


def test_the_addon_starts_the_server(cache_dir, tmp_path):
    bundle = tmp_path / "model"
    shutil.copytree(embedded_bundle(cache_dir / "wyoming-kokoro").root, bundle)
    options = tmp_path / "options.json"
    token = "addon-token-" + "x" * 20
    options.write_text(json.dumps({"voice": "jf_nezumi", "speed": 1.1, "backend": "onnx",
                                   "threads": 1, "debug": True, "http_api": True,
                                   "http_token": token}))
    port, http_port, ingress_port = free_port(), free_port(), free_port()
    env = process_env(cache_dir) | {"KOKORO_ADDON_OPTIONS": str(options),
                                    "KOKORO_ADDON_CONFIG_DIR": str(tmp_path / "addon_config"),
                                    "KOKORO_BUNDLE": str(bundle),
                                    "KOKORO_CACHE_DIR": str(cache_dir / "wyoming-kokoro"),
                                    "KOKORO_URI": f"tcp://127.0.0.1:{port}",
                                    "KOKORO_HTTP": f"127.0.0.1:{http_port}",
                                    "KOKORO_INGRESS": f"127.0.0.1:{ingress_port}",
                                    "KOKORO_INGRESS_PROXY": TRUSTED_PROXY}
    server = Launched([sys.executable, "-m", "wyoming_kokoro.addon"], env, tmp_path / "log",
                      f"tcp://127.0.0.1:{port}", cwd=tmp_path)
    try:
        info = server.wait_ready()
        assert "jf_nezumi" in {v.name for v in info.tts[0].voices}
        assert (tmp_path / "addon_config" / "config.yaml").is_file()
        assert "DEBUG" in server.log
        base = f"http://127.0.0.1:{http_port}"
        wait_http(base, server)
        assert httpx.post(f"{base}/reload").status_code == 401  # the option's token is in force
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.post(f"{base}/reload", headers=auth, timeout=30).status_code == 200
        assert httpx.get(f"{base}/config").json()["http"]["token"] == "<redacted>"
        ingress = f"http://127.0.0.1:{ingress_port}"  # the sidebar panel: the proxy only, no token
        with from_address(TRUSTED_PROXY) as proxy:
            assert proxy.post(f"{ingress}/reload", timeout=30).status_code == 200
            page = proxy.get(f"{ingress}/", headers={"X-Ingress-Path": "/api/hassio_ingress/t"})
            assert '<base href="/api/hassio_ingress/t/">' in page.text
        assert httpx.get(f"{ingress}/health").status_code == 403
    finally:
        assert server.stop() == 0
    assert token not in server.log
