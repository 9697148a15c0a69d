"""The lean install: the built wheel, installed as a user would (no extras, no dev tools), serves
Wyoming with the embedded ONNX model, and refuses the torch backend with what to install."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from wyoming_kokoro.client import synthesize

from .launch import Launched
from .serverproc import free_port, server_env

ROOT = Path(__file__).resolve().parent.parent
UV = str(Path(sys.executable).parent / "uv")  # a dev dependency


def uv(*args: str, cwd: Path = ROOT) -> str:
    done = subprocess.run([UV, *args], cwd=cwd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_locked_server_dependencies_have_no_torch():
    exported = uv("export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project")
    names = {line.split("==")[0].strip().lower() for line in exported.splitlines()
             if "==" in line and not line.startswith("#")}
    assert "onnxruntime" in names
    assert not names & {"torch", "kokoro", "transformers", "triton", "pyopenjtalk-plus",
                        "jieba"}
    assert not any(name.startswith("nvidia-") for name in names)


@pytest.fixture(scope="module")
def lean_venv(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("lean")
    uv("build", "--wheel", "--out-dir", str(work / "dist"))
    [wheel] = (work / "dist").glob("*.whl")
    uv("venv", "--python", sys.executable, str(work / "venv"), cwd=work)
    uv("pip", "install", "--python", str(work / "venv" / "bin" / "python"), str(wheel),
       cwd=work)
    return work / "venv"


def test_the_wheel_without_extras_speaks_with_the_embedded_model(lean_venv, cache_dir,
                                                                 tmp_path):
    python = lean_venv / "bin" / "python"
    missing = subprocess.run([python, "-c", "import torch"], capture_output=True)
    assert missing.returncode != 0  # really without the extra
    uri = f"tcp://127.0.0.1:{free_port()}"
    server = Launched([str(lean_venv / "bin" / "wyoming-kokoro"), "--uri", uri],
                      server_env(cache_dir), tmp_path / "server.log", uri, cwd=tmp_path)
    try:
        server.wait_ready()
        speech = asyncio.run(synthesize(uri, "Hello from the lean install."))
        assert speech.error is None and speech.seconds > 1.0
    finally:
        server.stop()


SPLIT = """
from wyoming_kokoro.engine.onnx_split import derive, float_decoder
from wyoming_kokoro.model.embedded import embedded_bundle
import onnxruntime.quantization  # what the calibrated DECODER is made with (onnx_quantize.py)

front, decoder = derive(embedded_bundle().require("onnx"))
print(len(front) > 0 and len(float_decoder(decoder)) > len(decoder))
"""


def test_the_wheel_without_extras_splits_the_graph_for_windowed_decoding(lean_venv, cache_dir,
                                                                        tmp_path):
    """The split is derived at first start, by the install's own libraries: without them every
    sentence would be decoded whole (first audio after the whole sentence)."""
    done = subprocess.run([lean_venv / "bin" / "python", "-c", SPLIT], capture_output=True,
                          text=True, env=server_env(cache_dir), timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True"]


def test_the_torch_backend_without_the_extra_says_what_to_install(lean_venv, cache_dir,
                                                                  tmp_path):
    done = subprocess.run([lean_venv / "bin" / "wyoming-kokoro", "--backend", "torch",
                           "--uri", f"tcp://127.0.0.1:{free_port()}"], capture_output=True,
                          text=True, env=server_env(cache_dir), timeout=120, cwd=tmp_path)
    assert done.returncode == 2
    assert "pip install 'wyoming-kokoro[torch]'" in done.stderr
    assert "Traceback" not in done.stderr
