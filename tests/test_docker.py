"""The container scripts, run here: entrypoint and healthcheck against a real server on loopback,
the CPU-torch install plan, and the Dockerfile conventions that cannot be built on this machine."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wyoming_kokoro.model.embedded import embedded_bundle

from .launch import VENV_BIN, Launched
from .serverproc import free_port, server_env

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
HEALTHCHECK = ROOT / "docker" / "healthcheck.sh"


@pytest.fixture(scope="module")
def bundle(cache_dir, tmp_path_factory) -> Path:
    """The embedded bundle (assembled once per session), copied as the image's baked bundle."""
    source = embedded_bundle(cache_dir / "wyoming-kokoro")
    root = tmp_path_factory.mktemp("image") / "model"
    shutil.copytree(source.root, root)
    return root


def container_env(cache_dir: Path, **values: str) -> dict[str, str]:
    env = server_env(cache_dir)
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    env.update(values)
    return env


def healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(HEALTHCHECK)], env=env, capture_output=True, text=True,
                          timeout=60)


def test_the_entrypoint_serves_the_bundle_with_config_and_extra_args(bundle, cache_dir,
                                                                     tmp_path):
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text("voices:\n  jf_nezumi:\n    description: Nezumi from config\n")
    env = container_env(cache_dir, KOKORO_BUNDLE=str(bundle),
                        KOKORO_URI=f"tcp://127.0.0.1:{port}", KOKORO_CONFIG=str(config))
    server = Launched(["sh", str(ENTRYPOINT), "--voice", "jf_nezumi", "--debug"], env,
                      tmp_path / "entrypoint.log", f"tcp://127.0.0.1:{port}", cwd=tmp_path)
    try:
        info = server.wait_ready()
        voices = {v.name: v.description for v in info.tts[0].voices}
        assert voices["jf_nezumi"] == "Nezumi from config"  # --config was passed
        assert len(voices) == 5
        assert "DEBUG" in server.log  # extra arguments reach the server
        assert str(bundle) in server.log
        # the HEALTHCHECK: describe on the port of KOKORO_URI, asked on loopback
        ok = healthcheck(container_env(cache_dir, KOKORO_URI=f"tcp://0.0.0.0:{port}"))
        assert ok.returncode == 0, ok.stderr
    finally:
        assert server.stop() == 0


def test_the_healthcheck_fails_without_a_server(cache_dir):
    down = healthcheck(container_env(cache_dir, KOKORO_URI=f"tcp://0.0.0.0:{free_port()}"))
    assert down.returncode == 1 and "error" in down.stderr
    bad = healthcheck(container_env(cache_dir, KOKORO_URI="unix:///run/kokoro.sock"))
    assert bad.returncode == 1 and "cannot read a TCP port" in bad.stderr


def test_the_entrypoint_refuses_a_missing_bundle(cache_dir, tmp_path):
    env = container_env(cache_dir, KOKORO_BUNDLE=str(tmp_path / "nothing"))
    run = Launched(["sh", str(ENTRYPOINT)], env, tmp_path / "log", "tcp://127.0.0.1:1")
    assert run.wait() == 2
    assert f"no model bundle in {tmp_path / 'nothing'}" in run.log and "KOKORO_BUNDLE" in run.log


def test_the_entrypoint_without_config_file_passes_flags_to_the_server(bundle, cache_dir,
                                                                         tmp_path):
    env = container_env(cache_dir, KOKORO_BUNDLE=str(bundle),
                        KOKORO_CONFIG=str(tmp_path / "missing.yaml"))
    run = Launched(["sh", str(ENTRYPOINT), "--speed", "9"], env, tmp_path / "log",
                   "tcp://127.0.0.1:1")
    assert run.wait() == 2  # the server refused the flag: it got it
    assert "no config file at" in run.log
    assert "audio.speed: must be between 0.5 and 2.0, got 9" in run.log


def test_the_image_installs_cpu_torch_and_no_cuda():
    lock = (ROOT / "uv.lock").read_text()
    torch = re.search(r'\nname = "torch"\nversion = "([^"]+)"', lock)
    assert torch
    gpu = set(re.findall(r'\nname = "((?:nvidia|cuda)-[^"]+|triton)"', lock))
    assert gpu  # the lock does pull CUDA on Linux: the image must leave it out
    env = {**os.environ, "DRY_RUN": "1", "PATH": f"{_uv_dir()}:{os.environ.get('PATH', '')}"}
    plan = {}
    for step in ("deps", "project"):
        out = subprocess.run(["bash", str(ROOT / "docker" / "install-python.sh"), step],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        plan[step] = out.stdout.splitlines()
    sync, torch_install = plan["deps"]
    assert sync.startswith("uv sync --frozen --no-dev --no-install-project ")
    skipped = set(re.findall(r"--no-install-package (\S+)", sync))
    assert skipped == gpu | {"torch"}
    assert torch_install.endswith(
        f"--no-deps --index-url https://download.pytorch.org/whl/cpu torch=={torch.group(1)}")
    [project] = plan["project"]
    assert "--no-editable --inexact" in project
    assert set(re.findall(r"--no-install-package (\S+)", project)) == skipped


def _uv_dir() -> str:
    """Where the uv binary is: on PATH, or in the Python package .ci/run installs."""
    found = shutil.which("uv")
    if found:
        return str(Path(found).parent)
    for python in ("python3", sys.executable):
        out = subprocess.run([python, "-c", "import uv; print(uv.find_uv_bin())"],
                             capture_output=True, text=True, timeout=60)
        if out.returncode == 0:
            return str(Path(out.stdout.strip()).parent)
    pytest.skip("no uv binary found (neither on PATH nor as the uv Python package)")


def test_dockerfile_conventions():
    dockerfile = (ROOT / "Dockerfile").read_text()
    final = dockerfile.rsplit("\nFROM ", 1)[1]  # the runtime stage
    assert "docker/install-python.sh deps" in dockerfile
    assert "wyoming_kokoro.model.fetch /opt/kokoro/model" in dockerfile
    assert "EXPOSE 10200" in final
    assert "HF_HUB_OFFLINE=1" in final
    assert re.search(r"\nUSER (\d+)", final) and "USER 0" not in final
    assert 'CMD ["/opt/kokoro/bin/healthcheck.sh"]' in final
    assert 'ENTRYPOINT ["/usr/bin/tini", "--", "/opt/kokoro/bin/entrypoint.sh"]' in final
    # the English lexicon's tries are built as the runtime user, into its own cache
    user_at = final.index("\nUSER ")
    assert final.index("RUN python -m wyoming_kokoro.text.english_lexicon") > user_at
    # everything the Dockerfile copies from the context passes .dockerignore
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, re.MULTILINE):
        for path in source.replace("\\\n", " ").split():
            assert path.split("/")[0] in allowed, path


def test_the_model_stage_has_every_module_fetch_needs(tmp_path):
    """The Dockerfile's model stage copies only the fetch code (so source edits do not download
    the model again); the fetch must run from exactly those files."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    stage = dockerfile.split(" AS model\n", 1)[1].split("\nFROM ", 1)[0]
    for copy in re.findall(r"^COPY ((?:.*\\\n)*.*)$", stage, re.MULTILINE):
        *sources, dest = copy.replace("\\\n", " ").split()
        for source in sources:  # Docker semantics: a directory's contents go to dest
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, tmp_path / dest, dirs_exist_ok=True)
            else:
                (tmp_path / dest).mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / source, tmp_path / dest)
    probe = ("import sys, wyoming_kokoro.model.fetch as f, wyoming_kokoro.model.sources as s;"
             "assert f.__file__.startswith(sys.argv[1]), f.__file__;"
             "print(len(s.load_sources(s.builtin()).packs))")
    out = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "54"
