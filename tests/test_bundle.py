"""Model bundles: the embedded assembly, verification, and refusal of damaged bundles."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from wyoming_kokoro.model.bundle import BundleError, read_bundle, write_manifest
from wyoming_kokoro.model.embedded import MODEL_FILE, embedded_bundle, expected_model_sha256
from wyoming_kokoro.model.kokoro import ModelSpec, load_model


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    return embedded_bundle(tmp_path_factory.mktemp("cache"))


def test_the_embedded_bundle_is_assembled_and_verified(embedded):
    assert embedded.files[MODEL_FILE] == expected_model_sha256()
    assert {"onnx", "voices", "vocab"} <= set(embedded.roles) and "torch" not in embedded.roles
    manifest = json.loads((embedded.root / "manifest.json").read_text())
    assert manifest["format"] == 1 and manifest["onnx"] == MODEL_FILE
    assert not list(embedded.root.glob("*.tmp")) and not list(embedded.root.glob(".*"))


def test_the_embedded_bundle_is_reused_and_rebuilt_when_damaged(embedded, caplog):
    model = embedded.root / MODEL_FILE
    before = model.stat().st_mtime_ns
    assert embedded_bundle(embedded.root.parent).root == embedded.root
    assert model.stat().st_mtime_ns == before  # reused, not re-assembled
    with open(model, "r+b") as f:  # flip one byte
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    rebuilt = embedded_bundle(embedded.root.parent)
    assert rebuilt.files[MODEL_FILE] == expected_model_sha256()
    assert "sha256 mismatch" in caplog.text


@pytest.fixture
def copy(embedded, tmp_path):
    root = tmp_path / "bundle"
    shutil.copytree(embedded.root, root)
    return root


def test_a_corrupt_model_file_is_refused_naming_the_file(copy):
    with open(copy / MODEL_FILE, "ab") as f:
        f.write(b"garbage")
    with pytest.raises(BundleError, match=f"{MODEL_FILE}: sha256 mismatch"):
        read_bundle(copy)


def test_a_missing_file_is_refused(copy):
    (copy / "voices.npz").unlink()
    with pytest.raises(BundleError, match=r"voices\.npz: file listed in the manifest is missing"):
        read_bundle(copy)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(format=2), "not a format-1 model bundle"),
        (lambda m: m.pop("voices"), "names no voices file"),
        (lambda m: m.update(onnx="other.onnx"), "is not listed in 'files'"),
        (lambda m: m["files"].update({"../escape": "0" * 64}), "not a plain file name"),
        (lambda m: m.pop("onnx"), "neither an onnx nor a torch model"),
    ],
)
def test_a_malformed_manifest_is_refused(copy, change, message):
    manifest = json.loads((copy / "manifest.json").read_text())
    change(manifest)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=message):
        read_bundle(copy)


def test_no_manifest_is_refused(tmp_path):
    with pytest.raises(BundleError, match="no model bundle manifest"):
        read_bundle(tmp_path)


def test_a_bundle_directory_loads_and_speaks(copy):
    model = load_model(ModelSpec(bundle=copy, backend="onnx", threads=1))
    try:
        assert sorted(model.voices) == ["jf_alpha", "jf_gongitsune", "jf_nezumi",
                                        "jf_tebukuro", "jm_kumo"]
        audio = model.infer("həlˈO wˈɜɹld.", model.voices["jf_alpha"], 1.0)
        assert audio.dtype == np.float32 and 0.3 < audio.size / 24000 < 3
        assert float(np.abs(audio).max()) > 0.05
        with pytest.raises(ValueError, match="exceed"):
            model.infer("a" * 511, model.voices["jf_alpha"], 1.0)
    finally:
        model.close()


def test_write_manifest_pins_every_file(copy):
    bundle = write_manifest(copy, "custom", {"onnx": MODEL_FILE, "voices": "voices.npz",
                                             "vocab": "vocab.json"})
    assert bundle.name == "custom"
    assert read_bundle(copy).files == bundle.files
