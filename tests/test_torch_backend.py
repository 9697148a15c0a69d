"""The torch backend (kokoro's KModel) with real weights converted from the embedded ONNX model."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from wyoming_kokoro.client import describe, synthesize
from wyoming_kokoro.config import ConfigError
from wyoming_kokoro.model.bundle import read_bundle, write_manifest
from wyoming_kokoro.model.embedded import embedded_bundle

from .asr import corpus_word_error_rate, rms
from .serverproc import free_port, server_env
from .support.onnx_to_torch import (
    COMPONENTS,
    CONFIG_FILE,
    TORCH_FILE,
    fresh_kmodel,
    load_strict,
)

SENTENCES = [
    "The kitchen lights are now turned on.",
    "It will be sunny and warm this afternoon.",
    "The front door is locked and the garage is closed.",
    "I have added coffee and apples to your shopping list.",
]
VOICES = ["jf_alpha", "jm_kumo"]


def test_the_converted_weights_load_strictly_with_the_shapes_kmodel_expects(torch_bundle):
    import torch

    weights = torch.load(torch_bundle / TORCH_FILE, map_location="cpu", weights_only=True)
    model = fresh_kmodel(torch_bundle / CONFIG_FILE)
    assert set(weights) == set(COMPONENTS)
    for component in COMPONENTS:
        expected = getattr(model, component).state_dict()
        converted = weights[component]
        assert set(converted) == set(expected), component
        for key, tensor in converted.items():
            assert tensor.shape == expected[key].shape, f"{component}.{key}"
            assert tensor.dtype == torch.float32 and torch.isfinite(tensor).all(), key
    load_strict(model, weights)  # raises on any missing or unexpected key


def test_one_bundle_serves_both_backends(torch_bundle):
    bundle = read_bundle(torch_bundle)
    assert {"onnx", "torch", "torch_config"} <= set(bundle.roles)
    assert bundle.roles["torch"] == TORCH_FILE and bundle.roles["torch_config"] == CONFIG_FILE
    config = json.loads((torch_bundle / CONFIG_FILE).read_text(encoding="utf-8"))
    assert config["n_token"] == 178
    assert config["vocab"] == json.loads(bundle.require("vocab").read_text())["vocab"]


@pytest.fixture(scope="module")
def torch_server(start_server, torch_bundle):
    return start_server("--backend", "torch", "--bundle", str(torch_bundle))


@pytest.fixture(scope="module")
def sentences_by_backend(server, torch_server):
    """Each sentence from the torch server and the shared ONNX server (same weights), same voice."""
    out = {}
    for name, srv in (("torch", torch_server), ("onnx", server)):
        out[name] = []
        for i, sentence in enumerate(SENTENCES):
            speech = asyncio.run(synthesize(srv.uri, sentence, voice=VOICES[i % 2]))
            assert speech.error is None, speech.error
            out[name].append(speech)
    return out


def test_the_torch_server_describes_the_bundle_voices(torch_server):
    info = asyncio.run(describe(torch_server.uri))
    assert info.tts[0].name == "kokoro"
    assert {v.name for v in info.tts[0].voices} >= set(VOICES)
    assert "Torch backend on " in torch_server.log


def test_the_torch_server_speaks_english_with_a_japanese_voice(torch_server):
    speech = asyncio.run(synthesize(torch_server.uri, "Good evening, the front door is locked.",
                                    voice="jf_alpha"))
    assert speech.error is None, speech.error
    assert speech.rate == 24000 and speech.width == 2 and speech.channels == 1
    assert speech.seconds > 1.0
    assert rms(speech.pcm) > 300  # speech, not silence


def test_torch_speech_is_intelligible(sentences_by_backend, whisper):
    transcripts = [(sentence, whisper(speech.pcm, speech.rate))
                   for sentence, speech in zip(SENTENCES, sentences_by_backend["torch"],
                                               strict=True)]
    assert corpus_word_error_rate(transcripts) <= 0.10, transcripts


def test_torch_audio_is_as_long_as_onnx_audio(sentences_by_backend):
    torch_frames = sum(len(s.pcm) // 2 for s in sentences_by_backend["torch"])
    onnx_frames = sum(len(s.pcm) // 2 for s in sentences_by_backend["onnx"])
    assert abs(torch_frames / onnx_frames - 1) <= 0.03, (torch_frames, onnx_frames)


@pytest.fixture(scope="module")
def backend(torch_bundle):
    from wyoming_kokoro.engine.torch import TorchBackend

    backend = TorchBackend(torch_bundle / TORCH_FILE, torch_bundle / CONFIG_FILE, device="cpu")
    yield backend
    backend.close()


def _requests(torch_bundle) -> list[tuple[np.ndarray, np.ndarray]]:
    vocab = json.loads((torch_bundle / CONFIG_FILE).read_text(encoding="utf-8"))["vocab"]
    with np.load(torch_bundle / "voices.npz") as voices:
        pack = voices["jm_kumo"].reshape(510, 256)
    requests = []
    for phonemes in ("həlˈoʊ", "ðə lˈaɪts ɑɹ ˈɔn", "ɪt wɪl ɹˈeɪn tədˈeɪ"):
        tokens = np.array([vocab[p] for p in phonemes if p in vocab], dtype=np.int64)
        requests.append((tokens, pack[len(tokens) - 1]))
    return requests


def test_concurrent_calls_from_several_threads_give_what_sequential_calls_give(backend,
                                                                               torch_bundle):
    # Durations are deterministic (only the vocoder's noise is random), so lengths must match.
    requests = _requests(torch_bundle)
    sequential = [len(backend.synthesize(t, s, 1.0)) for t, s in requests]
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        results = list(pool.map(lambda r: backend.synthesize(r[0], r[1], 1.0), requests))
    assert [len(a) for a in results] == sequential
    assert all(a.dtype == np.float32 and np.isfinite(a).all() for a in results)


def test_torch_windows_sound_like_its_whole_sentence(backend, torch_bundle):
    from wyoming_kokoro.engine.windows import CostModel, Rendering, whole

    from .support.logmel import distance

    vocab = json.loads((torch_bundle / CONFIG_FILE).read_text(encoding="utf-8"))["vocab"]
    with np.load(torch_bundle / "voices.npz") as voices:
        pack = voices["jm_kumo"].reshape(510, 256)
    phonemes = "ðə kˈɪʧən lˈaɪts ɑɹ nˈaʊ tˈɜɹnd ˈɔn, ænd ðə dˈɔɹ ɪz lˈɑkt."
    tokens = np.array([vocab[p] for p in phonemes if p in vocab], dtype=np.int64)
    front = backend.front(tokens, pack[len(tokens) - 1], 1.0)
    reference = whole(backend, front)
    rendering = Rendering(backend, front, CostModel())
    parts = []
    while not rendering.finished:  # growing windows, as the live schedule makes them
        parts.append(rendering.next([20, 40, 80, 160][min(len(parts), 3)]))
    windows = np.concatenate(parts)
    assert len(parts) >= 3 and windows.size == reference.size == front.frames * 600
    again = whole(backend, front)  # the vocoder's noise is random: this is the floor
    assert distance(reference, windows) <= 6.0
    assert distance(reference, again) < distance(reference, windows)


def test_close_releases_the_model(torch_bundle):
    from wyoming_kokoro.engine.torch import TorchBackend

    backend = TorchBackend(torch_bundle / TORCH_FILE, torch_bundle / CONFIG_FILE, device="cpu")
    tokens, style = _requests(torch_bundle)[0]
    assert backend.synthesize(tokens, style, 1.0).size > 0
    model = weakref.ref(backend._model)
    backend.close()
    assert model() is None  # no reference left: the weights are freed
    with pytest.raises(RuntimeError, match="closed"):
        backend.synthesize(tokens, style, 1.0)
    backend.close()  # closing twice is harmless


@pytest.mark.parametrize("broken", ["no weights", "no config", "config not an object"])
def test_missing_torch_files_are_refused_and_never_fetched_from_the_hub(broken, torch_bundle,
                                                                      tmp_path):
    # KModel downloads its config and weights from the hub when it is not given them: the
    # backend must refuse instead, naming the file, before KModel is built.
    from wyoming_kokoro.engine.torch import TorchBackend

    weights, config = torch_bundle / TORCH_FILE, torch_bundle / CONFIG_FILE
    if broken == "no weights":
        weights, message = tmp_path / "missing.pth", "no weights file at"
    elif broken == "no config":
        config, message = tmp_path / "missing.json", "cannot read the model config"
    else:
        (config := tmp_path / "config.json").write_text("[]")
        message = "is not a JSON object"
    with pytest.raises(ConfigError, match=message) as err:
        TorchBackend(weights, config, device="cpu")
    assert str(err.value).startswith("torch backend: ")


def test_the_server_process_is_offline_for_the_hugging_face_hub(monkeypatch):
    from wyoming_kokoro.__main__ import main

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    assert main(["--speed", "9"]) == 2  # refused config: returns before loading anything
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_devices_resolve_to_what_this_machine_has():
    import torch

    from wyoming_kokoro.engine.torch import resolve_device

    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else
                                      "mps" if torch.backends.mps.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match=r"model\.device: cuda is not available"):
            resolve_device("cuda")
    if not torch.backends.mps.is_available():
        with pytest.raises(ConfigError, match=r"model\.device: mps is not available"):
            resolve_device("mps")


def test_the_onnx_path_imports_neither_torch_nor_kokoro(cache_dir):
    # Not even through spaCy, whose thinc imports torch whenever it is installed.
    code = ("import sys; from wyoming_kokoro.model.kokoro import ModelSpec, load_model; "
            "from wyoming_kokoro.text.g2p import G2P; "
            "load_model(ModelSpec(bundle=None, backend='onnx')).close(); "
            "assert G2P()('en-us', 'Hello there.'); "
            "print(sorted({'torch', 'kokoro'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env=server_env(cache_dir))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.fixture
def config_only_bundle(tmp_path, kokoro_cache, torch_bundle):
    """A bundle with config.json for the torch backend but no .pth."""
    embedded = embedded_bundle(kokoro_cache)
    roles = {}
    for role in ("onnx", "voices", "vocab"):
        shutil.copyfile(embedded.require(role), tmp_path / embedded.roles[role])
        roles[role] = embedded.roles[role]
    shutil.copyfile(torch_bundle / CONFIG_FILE, tmp_path / CONFIG_FILE)
    write_manifest(tmp_path, "no-pth", {**roles, "torch_config": CONFIG_FILE})
    return tmp_path


@pytest.mark.parametrize("bundle", ["embedded", "config-only"])
def test_the_cli_refuses_the_torch_backend_for_a_bundle_without_torch_weights(
        bundle, request, cache_dir):
    args = ["--backend", "torch"]
    if bundle == "config-only":
        args += ["--bundle", str(request.getfixturevalue("config_only_bundle"))]
        expected = "has no torch weights: the torch backend needs manifest role 'torch'"
    else:
        expected = ("has no torch weights: the torch backend needs manifest roles 'torch' and "
                    "'torch_config'")
    result = subprocess.run(
        [sys.executable, "-m", "wyoming_kokoro", *args, "--uri", f"tcp://127.0.0.1:{free_port()}"],
        capture_output=True, text=True, timeout=120, env=server_env(cache_dir))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and expected in errors[0], result.stderr
    assert "Traceback" not in result.stderr
