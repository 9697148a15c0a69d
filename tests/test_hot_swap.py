"""Model hot swap between backends under load: no request fails, old models are released."""

from __future__ import annotations

import asyncio
import shutil

from wyoming_kokoro.client import describe, synthesize

from .support.onnx_to_torch import TORCH_FILE
from .test_reload import Reloading

TEXT = "The washing machine has finished and the dryer is running."


def config(bundle, backend: str) -> str:
    return f"model:\n  bundle: {bundle}\n  backend: {backend}\n"


def test_swapping_onnx_torch_onnx_under_load_drops_nothing(start_server, torch_bundle):
    server = start_server(config=config(torch_bundle, "onnx"))
    reloading = Reloading(server)
    results: list = []
    swapping = True

    async def client(i: int):
        voice = ("jf_alpha", "jm_kumo", "jf_nezumi", "jf_alpha+jm_kumo")[i]
        while swapping or len(results) < 4:
            results.append(await synthesize(server.uri, TEXT, voice=voice, stream=i % 2 == 1))

    async def scenario():
        nonlocal swapping
        clients = [asyncio.create_task(client(i)) for i in range(4)]
        verdicts = []
        for swaps, backend in enumerate(("torch", "onnx"), start=1):
            await asyncio.sleep(1.0)
            verdicts.append(await asyncio.to_thread(reloading.write, config(torch_bundle, backend)))
            # The old model goes once the requests that started on it have finished.
            while server.log.count("Releasing model") < swaps:
                await asyncio.sleep(0.1)
            info = await describe(server.uri)
            assert {v.name for v in info.tts[0].voices} >= {"jf_alpha", "jm_kumo"}
        swapping = False
        await asyncio.gather(*clients)
        return verdicts

    verdicts = asyncio.run(scenario())
    assert all("Config reloaded (file changed): model.backend" in v for v in verdicts), verdicts
    assert len(results) >= 4
    for speech in results:
        assert speech.error is None, speech.error
        assert speech.formats == {(24000, 2, 1)} and speech.seconds > 2.0
    assert server.log.count("Releasing model") == 2
    assert server.log.count("Torch backend on cpu") == 1
    assert "Traceback" not in server.log


def test_memory_comes_back_when_the_torch_model_is_released(torch_bundle, tmp_path):
    # In a process of its own, so the measurement is not blurred by other work.
    code = f"""
import json
from pathlib import Path
from wyoming_kokoro.model.kokoro import ModelSpec, load_model
from wyoming_kokoro.model.manager import ModelManager

def rss():
    return int(Path('/proc/self/status').read_text().split('VmRSS:')[1].split()[0]) // 1024

bundle = Path({str(torch_bundle)!r})
manager = ModelManager()
seen = {{}}
for backend in ("onnx", "torch", "onnx"):
    model = load_model(ModelSpec(bundle=bundle, backend=backend))
    model.infer("həlˈO wˈɜɹld.", model.voices["jf_alpha"], 1.0)
    manager.install(model)  # releases the previous model
    seen.setdefault(backend, []).append(rss())
print(json.dumps(seen))
"""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    # The float weights (about 330 MB) are given back; torch's libraries stay loaded.
    assert seen["onnx"][1] < seen["torch"][0] - 200, seen


def test_a_corrupt_torch_file_is_refused_and_onnx_keeps_answering(start_server, torch_bundle,
                                                                   tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(torch_bundle, bundle)
    server = start_server(config=config(bundle, "onnx"))
    with open(bundle / TORCH_FILE, "r+b") as f:
        f.seek(10_000)
        f.write(b"\xff" * 32)
    verdict = Reloading(server).write(config(bundle, "torch"))
    assert "Model swap refused, still serving" in verdict
    assert f"{TORCH_FILE}: sha256 mismatch" in verdict
    speech = asyncio.run(synthesize(server.uri, TEXT))
    assert speech.error is None and speech.seconds > 2.0
