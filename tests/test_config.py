"""Config snapshots: documented defaults, validation messages that name the key."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from wyoming_kokoro.config import Config, ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent


def _leaf_keys(obj, prefix=""):
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from _leaf_keys(value, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}"


def test_the_documented_config_file_holds_exactly_the_defaults():
    assert load_config(ROOT / "config.yaml") == Config()


def test_every_config_key_is_documented_in_config_yaml():
    data = yaml.safe_load((ROOT / "config.yaml").read_text())
    for key in _leaf_keys(Config()):
        node = data
        for part in key.split("."):
            assert isinstance(node, dict) and part in node, f"{key} missing from config.yaml"
            node = node[part]


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("voices:\n  jf_alpha:\n    speed: 5\n",
         "voices.jf_alpha.speed: must be between 0.5 and 2.0, got 5"),
        ("server:\n  urii: tcp://x:1\n", "server.urii: unknown key (did you mean 'uri'?)"),
        ("model:\n  backend: tensorflow\n", "model.backend: must be one of onnx, torch"),
        ("model:\n  threads: two\n", "model.threads: must be a number, got 'two'"),
        ("model:\n  threads: 1.5\n", "model.threads: must be a whole number"),
        ("model:\n  decoder: fp16\n", "model.decoder: must be one of auto, int8, float"),
        ("audio:\n  sentence_silence: -1\n", "audio.sentence_silence: must be between 0"),
        ("text:\n  fallback_language: english\n", "text.fallback_language: must be one of"),
        ("server: [1, 2]\n", "server: must be a mapping, got list"),
        ("voices:\n  jf_alpha:\n    language: klingon\n", "voices.jf_alpha.language"),
        ("- just\n- a list\n", "the top level must be a mapping"),
        ("server:\n  uri: [unclosed\n", "invalid YAML"),
        ("server:\n  zeroconf: yes please\n", "server.zeroconf: must be true or false"),
    ],
)
def test_invalid_config_names_the_key_and_the_reason(tmp_path, yaml_text, message):
    path = tmp_path / "config.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value)


def test_overrides_win_over_the_file_and_snapshots_are_immutable(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("server:\n  uri: tcp://127.0.0.1:1\n  zeroconf: true\nmodel:\n  threads: 2\n")
    config = load_config(path, {"server": {"uri": "tcp://127.0.0.1:2"}})
    assert config.server.uri == "tcp://127.0.0.1:2"
    assert config.server.zeroconf is True  # the rest of the section is kept
    assert config.model.threads == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.server.uri = "tcp://elsewhere:3"


def test_the_decoder_flag_sets_model_decoder_and_is_checked_like_the_file(tmp_path):
    from wyoming_kokoro.__main__ import overrides_from_args, parse_args

    path = tmp_path / "config.yaml"
    path.write_text("model:\n  decoder: float\n")
    overrides = overrides_from_args(parse_args(["--decoder", "int8"]))
    assert load_config(path, overrides).model.decoder == "int8"
    with pytest.raises(ConfigError, match=r"model\.decoder: must be one of auto, int8, float"):
        load_config(path, overrides_from_args(parse_args(["--decoder", "fp16"])))


def test_an_empty_file_means_all_defaults(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("# nothing\n")
    assert load_config(path) == Config()


def test_the_cli_refuses_a_bad_config_with_the_key_in_one_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("voices:\n  jf_alpha:\n    speed: 5\n")
    result = subprocess.run(
        [sys.executable, "-m", "wyoming_kokoro", "--config", str(path)],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "voices.jf_alpha.speed: must be between 0.5 and 2.0, got 5" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_cli_refuses_an_unknown_default_voice(tmp_path, cache_dir):
    from .serverproc import free_port, server_env

    result = subprocess.run(
        [sys.executable, "-m", "wyoming_kokoro", "--voice", "af_nobody",
         "--uri", f"tcp://127.0.0.1:{free_port()}"],
        capture_output=True, text=True, timeout=120, env=server_env(cache_dir))
    assert result.returncode == 2
    assert "default_voice: unknown voice 'af_nobody'" in result.stderr
    assert "Traceback" not in result.stderr
