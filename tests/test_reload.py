"""config.yaml reloads while the server runs: on file change and SIGHUP, all or nothing."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time

import pytest

from wyoming_kokoro.client import describe, synthesize
from wyoming_kokoro.model.embedded import MODEL_FILE

BASE = """
server:
  watch_config: {watch}
default_voice: jf_alpha
voices:
  jf_alpha:
    speed: {speed}
mixes: {mixes}
model:
  threads: {threads}
  decoder: {decoder}
  bundle: {bundle}
"""
TEXT = "The washing machine has finished and the dryer is running."


def config_text(speed=1.0, mixes="{}", threads=0, bundle="", watch="true",
                decoder="auto") -> str:
    return BASE.format(speed=speed, mixes=mixes, threads=threads, bundle=bundle, watch=watch,
                       decoder=decoder)


class Reloading:
    """A server with a config file; ``write`` edits the file and waits for the server's verdict."""

    def __init__(self, server):
        self.server = server

    def verdicts(self) -> list[str]:
        return [line for line in self.server.log.splitlines() if "Config reload" in line
                or "Model swap refused" in line]

    def wait_verdict(self, before: int, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            verdicts = self.verdicts()
            if len(verdicts) > before:
                return "\n".join(verdicts[before:])
            time.sleep(0.1)
        raise TimeoutError(f"no reload verdict in the log:\n{self.server.log[-3000:]}")

    def write(self, text: str, signal_hup: bool = False) -> str:
        before = len(self.verdicts())
        tmp = self.server.config_path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.server.config_path)  # as editors do: write, then rename
        if signal_hup:
            self.server.proc.send_signal(signal.SIGHUP)
        return self.wait_verdict(before)


@pytest.fixture(scope="module")
def reloading(start_server):
    return Reloading(start_server(config=config_text()))


def seconds(uri: str, text: str = TEXT, voice: str | None = None) -> float:
    speech = asyncio.run(synthesize(uri, text, voice))
    assert speech.error is None, speech.error
    return speech.seconds


def voice_names(uri: str) -> set[str]:
    return {v.name for v in asyncio.run(describe(uri)).tts[0].voices}


def test_editing_the_file_while_clients_synthesize_applies_without_failures(reloading):
    uri = reloading.server.uri
    reloading.write(config_text(speed=1.0))
    normal = seconds(uri)
    results: list = []

    async def client():
        for _ in range(3):
            results.append(await synthesize(uri, TEXT))

    async def scenario():
        clients = [asyncio.create_task(client()) for _ in range(2)]
        await asyncio.sleep(0.5)  # both clients are mid-request when the file changes
        verdict = await asyncio.to_thread(
            reloading.write, config_text(speed=1.6, mixes="{duo: jf_alpha+jm_kumo}"))
        await asyncio.gather(*clients)
        return verdict

    verdict = asyncio.run(scenario())
    assert "Config reloaded (file changed)" in verdict
    assert len(results) == 6
    assert all(r.error is None and r.seconds > 1.0 for r in results)
    assert "duo" in voice_names(uri)
    faster = seconds(uri)
    assert 0.5 < faster / normal < 0.75, (faster, normal)  # speed 1.6 -> about 1/1.6
    # A request names the new mix.
    assert seconds(uri, voice="duo") > 1.0


def test_requests_in_flight_keep_the_config_they_started_with(reloading):
    uri = reloading.server.uri
    long_text = " ".join([TEXT] * 6)
    reloading.write(config_text(speed=1.0))
    slow = seconds(uri, long_text)

    async def scenario():
        task = asyncio.create_task(synthesize(uri, long_text))
        await asyncio.sleep(1.0)  # the first sentences are out, most are still to come
        await asyncio.to_thread(reloading.write, config_text(speed=2.0))
        return await task

    in_flight = asyncio.run(scenario())
    assert in_flight.error is None
    assert abs(in_flight.seconds - slow) < 0.05 * slow, (in_flight.seconds, slow)
    assert seconds(uri, long_text) < 0.7 * slow


@pytest.mark.parametrize(
    ("bad_text", "problem"),
    [
        ("voices: [unclosed\n", "invalid YAML"),
        (config_text(speed=5), "voices.jf_alpha.speed: must be between 0.5 and 2.0, got 5"),
        (config_text().replace("default_voice: jf_alpha", "default_voice: af_nobody"),
         "default_voice: unknown voice 'af_nobody'"),
        (config_text(mixes="{duo: jf_alpha+af_nobody}"), "mixes.duo: unknown voice"),
        (config_text() + "\nvoicez: {}\n", "voicez: unknown key (did you mean 'voices'?)"),
    ],
    ids=["yaml", "range", "default-voice", "mix", "unknown-key"],
)
def test_an_invalid_file_is_refused_and_the_old_config_keeps_serving(reloading, bad_text,
                                                                     problem):
    uri = reloading.server.uri
    reloading.write(config_text(speed=1.0, mixes="{trio: jf_alpha+jm_kumo+jf_nezumi}"))
    before = seconds(uri)
    verdict = reloading.write(bad_text)
    assert "refused, still serving the previous config" in verdict
    assert problem in verdict
    assert "trio" in voice_names(uri)
    assert abs(seconds(uri) - before) < 0.1 * before


def test_sighup_reloads_the_file(start_server):
    server = start_server(config=config_text(watch="false"))
    reloading = Reloading(server)
    assert "duo" not in voice_names(server.uri)
    verdict = reloading.write(config_text(watch="false", mixes="{duo: jf_alpha+jm_kumo}"),
                              signal_hup=True)
    assert "Config reloaded (SIGHUP): mixes" in verdict
    assert "duo" in voice_names(server.uri)
    assert "Watching" not in server.log


def test_a_model_change_swaps_the_model_under_load_without_errors(reloading):
    uri = reloading.server.uri
    reloading.write(config_text(threads=0))
    results: list = []
    swapping = True

    async def client():
        while swapping or not results:
            results.append(await synthesize(uri, TEXT))

    async def scenario():
        nonlocal swapping
        clients = [asyncio.create_task(client()) for _ in range(3)]
        verdicts = []
        for change in ({"threads": 1}, {"threads": 1, "decoder": "int8"}):
            await asyncio.sleep(0.5)
            verdicts.append(await asyncio.to_thread(reloading.write, config_text(**change)))
        swapping = False
        await asyncio.gather(*clients)
        return verdicts

    verdicts = asyncio.run(scenario())
    assert "Config reloaded (file changed): model.threads" in verdicts[0], verdicts
    assert "Config reloaded (file changed): model.decoder" in verdicts[1], verdicts
    assert results and all(r.error is None and r.seconds > 1.0 for r in results)
    assert reloading.server.log.count("Releasing model") >= 2  # the old models were let go


def test_a_corrupt_model_is_refused_and_the_old_model_keeps_answering(reloading, cache_dir,
                                                                      tmp_path):
    uri = reloading.server.uri
    reloading.write(config_text())
    bundle = tmp_path / "corrupt"
    shutil.copytree(cache_dir / "wyoming-kokoro" / "kokoro-v1.0-int8-ja", bundle)
    with open(bundle / MODEL_FILE, "r+b") as f:
        f.seek(4096)
        f.write(b"\0" * 64)
    verdict = reloading.write(config_text(bundle=str(bundle)))
    assert "Model swap refused, still serving kokoro-v1.0-int8-ja" in verdict
    assert f"{MODEL_FILE}: sha256 mismatch" in verdict
    assert seconds(uri) > 1.0
    assert voice_names(uri) >= {"jf_alpha", "jm_kumo"}


def test_zeroconf_settings_need_a_restart(reloading):
    reloading.write(config_text())
    before = len(reloading.verdicts())
    text = config_text().replace("server:\n", "server:\n  zeroconf_name: elsewhere\n")
    reloading.write(text)
    assert "server.zeroconf_name changed: restart the server to apply it" in reloading.server.log
    assert len(reloading.verdicts()) > before
    assert seconds(reloading.server.uri) > 1.0


def test_the_voices_in_describe_follow_the_active_model(reloading, cache_dir, tmp_path):
    import numpy as np

    from wyoming_kokoro.model.bundle import write_manifest
    from wyoming_kokoro.model.embedded import NAME

    bundle = tmp_path / "two-voices"
    shutil.copytree(cache_dir / "wyoming-kokoro" / NAME, bundle)
    with np.load(bundle / "voices.npz") as npz:
        np.savez(bundle / "voices.npz", jf_alpha=npz["jf_alpha"], jm_kumo=npz["jm_kumo"])
    write_manifest(bundle, "two-voices", {"onnx": MODEL_FILE, "voices": "voices.npz",
                                          "vocab": "vocab.json"})
    verdict = reloading.write(config_text(bundle=str(bundle)))
    assert "Config reloaded (file changed): model.bundle" in verdict
    assert voice_names(reloading.server.uri) == {"jf_alpha", "jm_kumo"}
    reloading.write(config_text())
    assert len(voice_names(reloading.server.uri)) == 5
