"""wyoming-kokoro-fetch against a real HTTP server on 127.0.0.1: verification, refusal, resume."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wyoming_kokoro.model.bundle import read_bundle
from wyoming_kokoro.model.download import Downloader, DownloadError
from wyoming_kokoro.model.embedded import expected_model_sha256
from wyoming_kokoro.model.fetch import FetchError, fetch_bundle
from wyoming_kokoro.model.sources import Remote, SourceError, builtin, load_sources

from .fileserver import FileServer, Served

VOICES = ("af_test", "bm_test")
FAST = Downloader(timeout=10, retries=2, backoff=0)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def payload(tmp_path_factory) -> dict[str, bytes]:
    """Small stand-ins for the model files, and real torch-saved voice packs."""
    import torch

    rng = np.random.default_rng(5)
    out = {
        "/model.onnx": rng.bytes(300_000),
        "/weights.pth": rng.bytes(100_000),
        "/config.json": json.dumps({"vocab": {"a": 1, "b": 2}, "n_token": 178}).encode(),
    }
    folder = tmp_path_factory.mktemp("packs")
    for i, name in enumerate(VOICES):
        torch.save(torch.full((510, 1, 256), float(i + 1)), folder / f"{name}.pt")
        out[f"/voices/{name}.pt"] = (folder / f"{name}.pt").read_bytes()
    return out


@pytest.fixture
def server(payload):
    with FileServer() as server:
        for path, data in payload.items():
            server.files[path] = Served(data)
        yield server


def manifest(server: FileServer, payload: dict[str, bytes], **changes) -> dict:
    def entry(name: str, path: str) -> dict:
        return {"name": name, "url": server.url(path), "sha256": sha(payload[path]),
                "size": len(payload[path])}

    data = {
        "format": 1, "name": "test-bundle", "description": "small files", "sample_rate": 24000,
        "roles": {"onnx": "model.onnx", "torch": "weights.pth", "torch_config": "config.json",
                  "vocab": "config.json", "voices": "voices.npz"},
        "files": [entry("model.onnx", "/model.onnx"), entry("weights.pth", "/weights.pth"),
                  entry("config.json", "/config.json")],
        "voices": {"file": "voices.npz",
                   "packs": [entry(v, f"/voices/{v}.pt") for v in VOICES]},
    }
    data.update(changes)
    return data


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "sources.json"
    path.write_text(json.dumps(data))
    return path


def leftovers(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.rglob("*") if p.name.endswith(".part")
                  or p.name.startswith("."))


def test_the_command_fetches_a_verified_bundle(server, payload, tmp_path):
    dest = tmp_path / "bundle"
    sources = write(tmp_path, manifest(server, payload))
    result = subprocess.run([sys.executable, "-m", "wyoming_kokoro.model.fetch", str(dest),
                             "--manifest", str(sources)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "verified" in result.stderr
    bundle = read_bundle(dest)
    assert set(bundle.roles) == {"onnx", "torch", "torch_config", "voices", "vocab"}
    assert bundle.files["model.onnx"] == sha(payload["/model.onnx"])
    assert (dest / "weights.pth").read_bytes() == payload["/weights.pth"]
    with np.load(dest / "voices.npz") as npz:
        assert sorted(npz.files) == sorted(VOICES)
        assert npz["af_test"].shape == (510, 1, 256) and npz["af_test"].dtype == np.float32
        assert float(npz["bm_test"][0, 0, 0]) == 2.0
    assert leftovers(dest) == []


def test_a_bad_checksum_is_refused_and_leaves_no_file(server, payload, tmp_path):
    data = manifest(server, payload)
    data["files"][0]["sha256"] = "0" * 64
    dest = tmp_path / "bundle"
    result = subprocess.run([sys.executable, "-m", "wyoming_kokoro.model.fetch", str(dest),
                             "--manifest", str(write(tmp_path, data))],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "model.onnx: sha256 mismatch" in result.stderr and "refusing" in result.stderr
    assert not (dest / "model.onnx").exists()
    assert not (dest / "manifest.json").exists()
    assert leftovers(dest) == []


def test_a_truncated_transfer_is_resumed_with_a_range_request(server, payload, tmp_path):
    server.files["/model.onnx"].faults = [100_000]
    bundle = fetch_bundle(load_sources(write(tmp_path, manifest(server, payload))),
                          tmp_path / "bundle", FAST)
    assert (bundle.root / "model.onnx").read_bytes() == payload["/model.onnx"]
    assert ("/model.onnx", "bytes=100000-") in server.requests


def test_a_transfer_that_keeps_failing_gives_up_and_resumes_on_the_next_run(
        server, payload, tmp_path):
    server.files["/model.onnx"].faults = [50_000, 0, 0]  # three short replies: 1 + 2 retries
    sources = load_sources(write(tmp_path, manifest(server, payload)))
    dest = tmp_path / "bundle"
    with pytest.raises(FetchError, match=r"giving up after 3 attempts.*Run the command again"):
        fetch_bundle(sources, dest, FAST)
    assert not (dest / "model.onnx").exists() and not (dest / "manifest.json").exists()
    assert (dest / "model.onnx.part").stat().st_size == 50_000
    fetch_bundle(sources, dest, FAST)
    assert ("/model.onnx", "bytes=50000-") in server.requests
    assert read_bundle(dest).files["model.onnx"] == sha(payload["/model.onnx"])


def test_an_existing_part_file_is_resumed(server, payload, tmp_path):
    dest = tmp_path / "bundle"
    dest.mkdir()
    (dest / "weights.pth.part").write_bytes(payload["/weights.pth"][:40_000])
    fetch_bundle(load_sources(write(tmp_path, manifest(server, payload))), dest, FAST)
    assert ("/weights.pth", "bytes=40000-") in server.requests
    assert (dest / "weights.pth").read_bytes() == payload["/weights.pth"]
    assert leftovers(dest) == []


def test_a_corrupt_part_file_is_discarded_not_kept(server, payload, tmp_path):
    dest = tmp_path / "bundle"
    dest.mkdir()
    (dest / "weights.pth.part").write_bytes(b"x" * 40_000)  # not a prefix of the file
    fetch_bundle(load_sources(write(tmp_path, manifest(server, payload))), dest, FAST)
    ranges = [r for p, r in server.requests if p == "/weights.pth"]
    assert ranges == ["bytes=40000-", None]  # resumed, failed verification, started over
    assert (dest / "weights.pth").read_bytes() == payload["/weights.pth"]


def test_a_server_that_ignores_range_sends_the_whole_file(server, payload, tmp_path):
    dest = tmp_path / "bundle"
    dest.mkdir()
    (dest / "model.onnx.part").write_bytes(payload["/model.onnx"][:1000])
    server.files["/model.onnx"].faults = ["no-range"]
    fetch_bundle(load_sources(write(tmp_path, manifest(server, payload))), dest, FAST)
    assert (dest / "model.onnx").read_bytes() == payload["/model.onnx"]


def test_server_errors_are_retried_and_missing_files_reported(server, payload, tmp_path):
    server.files["/config.json"].faults = ["503"]
    bundle = fetch_bundle(load_sources(write(tmp_path, manifest(server, payload))),
                          tmp_path / "a", FAST)
    assert bundle.roles["vocab"] == "config.json"
    data = manifest(server, payload)
    data["files"][2]["url"] = server.url("/missing.json")
    with pytest.raises(FetchError, match=r"/missing\.json: HTTP 404"):
        fetch_bundle(load_sources(write(tmp_path, data)), tmp_path / "b", FAST)


def test_nothing_listening_is_a_clear_error(tmp_path):
    from .serverproc import free_port

    remote = Remote("x.bin", f"http://127.0.0.1:{free_port()}/x.bin", "0" * 64)
    with pytest.raises(DownloadError, match=r"giving up after 1 attempts: cannot connect"):
        Downloader(timeout=5, retries=0).fetch(remote, tmp_path / "x.bin")
    assert not (tmp_path / "x.bin").exists()


def test_more_bytes_than_pinned_are_refused(server, tmp_path):
    server.files["/big"] = Served(b"y" * 5000)
    remote = Remote("big", server.url("/big"), sha(b"y" * 1000), size=1000)
    with pytest.raises(DownloadError, match="more than the 1000 bytes"):
        FAST.fetch(remote, tmp_path / "big")
    assert list(tmp_path.iterdir()) == []


def test_a_verified_file_is_not_downloaded_again(server, payload, tmp_path):
    sources = load_sources(write(tmp_path, manifest(server, payload)))
    fetch_bundle(sources, tmp_path / "bundle", FAST)
    before = len(server.requests)
    fetch_bundle(sources, tmp_path / "bundle", FAST)
    assert [p for p, _ in server.requests[before:]] == [f"/voices/{v}.pt" for v in VOICES]


def test_selecting_voices_and_leaving_out_torch(server, payload, tmp_path):
    sources = load_sources(write(tmp_path, manifest(server, payload)))
    bundle = fetch_bundle(sources.select(["bm_*"], torch=False), tmp_path / "bundle", FAST)
    assert set(bundle.roles) == {"onnx", "voices", "vocab"}
    assert not (tmp_path / "bundle" / "weights.pth").exists()
    with np.load(bundle.root / "voices.npz") as npz:
        assert npz.files == ["bm_test"]
    with pytest.raises(SourceError, match="no voice matches zz_"):
        sources.select(["zz_*"])


def test_a_voice_pack_of_the_wrong_shape_is_refused(server, payload, tmp_path):
    import torch

    torch.save(torch.zeros(10, 256), tmp_path / "bad.pt")
    server.files["/voices/af_test.pt"] = Served((tmp_path / "bad.pt").read_bytes())
    data = manifest(server, payload)
    data["voices"]["packs"][0]["sha256"] = sha((tmp_path / "bad.pt").read_bytes())
    data["voices"]["packs"][0]["size"] = None
    with pytest.raises(FetchError, match=r"af_test\.pt: voice pack has shape \(10, 256\)"):
        fetch_bundle(load_sources(write(tmp_path, data)), tmp_path / "bundle", FAST)
    assert not (tmp_path / "bundle" / "manifest.json").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m["roles"].pop("vocab"), "names no vocab file"),
        (lambda m: m["roles"].pop("voices"), "names no voices file"),
        (lambda m: [m["roles"].pop(r) for r in ("onnx", "torch")], "neither an onnx nor a torch"),
        (lambda m: m["roles"].update(onnx="other.onnx"), "role onnx names 'other.onnx'"),
        (lambda m: m["roles"].update(speaker="x"), "unknown roles speaker"),
        (lambda m: m["files"][0].update(sha256="abc"), r"files\[0\]: sha256 must be 64 hex"),
        (lambda m: m["files"][0].update(url="file:///etc/passwd"), "must be an http"),
        (lambda m: m["files"][0].update(name="../escape"), "not a plain file name"),
        (lambda m: m["files"][0].update(name="manifest.json"), "not a plain file name"),
        (lambda m: m["files"].append(dict(m["files"][0])), "'model.onnx' is listed twice"),
        (lambda m: m["voices"].update(file="voices.bin"), "must name an .npz"),
        (lambda m: m["voices"]["packs"][0].update(name="../x"), "is not a voice name"),
        (lambda m: m.update(format=2), "not a format-1"),
    ],
)
def test_a_manifest_that_would_not_make_a_valid_bundle_is_refused(
        server, payload, tmp_path, change, message):
    data = manifest(server, payload)
    change(data)
    with pytest.raises(SourceError, match=message):
        load_sources(write(tmp_path, data))


def test_a_bad_manifest_exits_2_naming_the_problem(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("{not json")
    result = subprocess.run([sys.executable, "-m", "wyoming_kokoro.model.fetch",
                             str(tmp_path / "b"), "--manifest", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "unreadable model manifest" in result.stderr


# --------------------------------------------------------------------------------------------
# The manifest the package ships (the Docker image fetches this one)

LANGUAGE_PREFIXES = "abefhijpz"  # en-us en-gb es fr hi it ja pt-br zh
IMMUTABLE = re.compile(
    r"^https://huggingface\.co/hexgrad/Kokoro-82M/resolve/[0-9a-f]{40}/"
    r"|^https://github\.com/thewh1teagle/kokoro-onnx/releases/download/model-files-v1\.0/")


def test_the_shipped_manifest_pins_kokoro_v1_0():
    sources = load_sources(builtin())
    assert set(sources.roles) == {"onnx", "torch", "torch_config", "voices", "vocab"}
    remotes = [*sources.files, *sources.packs]
    assert all(IMMUTABLE.match(r.url) for r in remotes), [r.url for r in remotes]
    assert all(r.size for r in remotes)
    files = {r.name: r for r in sources.files}
    assert files["kokoro-v1.0.int8.onnx"].sha256 == expected_model_sha256()
    names = {p.name for p in sources.packs}
    assert {n[0] for n in names} == set(LANGUAGE_PREFIXES)
    english = {n for n in names if n[:2] in ("af", "am", "bf", "bm")}
    assert len(english) == 28 and {"af_heart", "bf_emma", "bm_george"} <= english
    assert len({r.sha256 for r in remotes}) == len(remotes)
    assert os.path.basename(sources.voices_file or "") == "voices.npz"
