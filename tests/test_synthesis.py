"""The synthesis service and the Wyoming front end in process, over a fake backend whose calls
the test releases one by one: scheduling order, cancellation, leases, reload and swap mid-reply,
admission, and the handler's state machine — without sleeps for ordering."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Info
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop

from wyoming_kokoro.client import describe, synthesize
from wyoming_kokoro.config import load_config
from wyoming_kokoro.frontends.wyoming.handler import KokoroEventHandler
from wyoming_kokoro.frontends.wyoming.info import InfoSource
from wyoming_kokoro.model.manager import ModelManager
from wyoming_kokoro.synthesis.errors import RequestError
from wyoming_kokoro.synthesis.scheduler import Scheduler
from wyoming_kokoro.synthesis.service import SynthesisService

from .support.fakes import FakeG2P, fake_model


def settings(**overrides: Any):
    base = {"default_voice": "af_test", "cache": {"disk_mb": 0},
            "text": {"quick_start": False}, "audio": {"sentence_silence": 0.0}}
    for key, value in overrides.items():
        base[key] = base.get(key, {}) | value if isinstance(value, dict) else value
    return load_config(None, base)


class Rig:
    """A service over fake models, run inside one event loop per test."""

    def __init__(self, gated: bool = True, **overrides: Any) -> None:
        self.model = fake_model("a", gated=gated)
        self.manager = ModelManager()
        self.manager.install(self.model)
        self.service = SynthesisService(self.manager, FakeG2P(), settings(**overrides))

    @property
    def backend(self):
        return self.model.backend

    async def wait(self, predicate, what: str) -> None:
        """Yield to the loop (and the worker thread) until ``predicate()`` holds."""
        for _ in range(20000):
            if predicate():
                return
            await asyncio.sleep(0.001)
        raise AssertionError(f"never: {what}")


def run(coro_fn, rig: Rig):
    async def main():
        await rig.service.start()
        try:
            return await coro_fn(rig)
        finally:
            rig.backend.gated = False
            rig.backend.release(100)
            await rig.service.stop()
    return asyncio.run(main())


async def collect(service: SynthesisService, text: str, voice: str | None = None,
                  chunks: list[bytes] | None = None) -> bytes:
    out = [] if chunks is None else chunks
    async with service.utterance(voice) as utterance:
        utterance.feed(text)
        utterance.finish()
        async for pcm in utterance.audio():
            out.append(pcm)
    return b"".join(out)


def test_the_earliest_deadline_runs_first():
    order: list[str] = []
    scheduler = Scheduler(1)
    try:
        gate = scheduler.submit(0.0, lambda: __import__("time").sleep(0.05))
        futures = [scheduler.submit(deadline, order.append, name)
                   for name, deadline in (("late", 30.0), ("now", 1.0), ("soon", 2.0))]
        gate.result(timeout=5)
        for future in futures:
            future.result(timeout=5)
        assert order == ["now", "soon", "late"]
    finally:
        scheduler.close()


def test_a_new_replys_first_sentence_goes_ahead_of_a_long_replys_next_ones():
    async def scenario(rig: Rig):
        long_reply = asyncio.create_task(collect(rig.service, "Aaa. Bbb. Ccc. Ddd."))
        await asyncio.to_thread(rig.backend.wait_started)  # "aaa." is being synthesized
        short = asyncio.create_task(collect(rig.service, "Zzz zzz."))
        await rig.wait(lambda: rig.service.stats().queue_pending == 1, "the short reply queued")
        rig.backend.gated = False
        rig.backend.release(10)
        await asyncio.gather(long_reply, short)
        return rig.backend.calls

    calls = run(scenario, Rig())
    assert calls[:2] == ["aaa.", "zzz zzz."]
    assert calls[2:] == ["bbb.", "ccc.", "ddd."]


def test_replies_that_have_heard_nothing_yet_make_first_windows_brief_until_they_hear():
    """Replies arriving together are counted from their text (the queue does not show them
    while they are still in G2P), and each stops counting at its first audio or its end."""
    async def scenario(rig: Rig):
        renderer = rig.service._renderer
        first: list[bytes] = []
        a = asyncio.create_task(collect(rig.service, "Aaa. Bbb.", chunks=first))
        await asyncio.to_thread(rig.backend.wait_started)  # "aaa." is being synthesized
        alone = (renderer.unheard, renderer._crowded())
        b = asyncio.create_task(collect(rig.service, "Zzz."))
        await rig.wait(lambda: renderer.unheard == 2, "the second reply counted")
        together = renderer._crowded()
        rig.backend.release()  # "aaa." done: the first reply is heard
        await rig.wait(lambda: first, "the first reply's audio")
        heard = renderer.unheard
        cancelled = asyncio.create_task(collect(rig.service, "Yyy."))
        await rig.wait(lambda: renderer.unheard == 2, "the third reply counted")
        cancelled.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await cancelled
        rig.backend.gated = False
        rig.backend.release(10)
        await asyncio.gather(a, b)
        return alone, together, heard, renderer.unheard

    alone, together, heard, after = run(scenario, Rig())
    assert alone == (1, False)  # a reply alone opens with the window that keeps up
    assert together is True
    assert heard == 1 and after == 0


def test_a_reply_whose_client_goes_away_drops_its_queued_work_and_releases_its_model():
    async def scenario(rig: Rig):
        chunks: list[bytes] = []
        reply = asyncio.create_task(collect(rig.service, "Aaa. Bbb. Ccc. Ddd. Eee.", chunks=chunks))
        await asyncio.to_thread(rig.backend.wait_started)
        rig.backend.release()  # "aaa." done
        await asyncio.to_thread(rig.backend.wait_started)  # "bbb." running
        await rig.wait(lambda: chunks, "the first audio")
        reply.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reply
        stats = rig.service.stats()
        assert stats.requests_active == 0 and rig.manager.leases(rig.model) == 0
        rig.backend.gated = False
        rig.backend.release(10)
        await collect(rig.service, "Zzz.")  # queued pieces left behind would run before it
        return rig.backend.calls, rig.service.stats().queue_pending

    calls, pending = run(scenario, Rig())
    assert calls == ["aaa.", "bbb.", "zzz."] and pending == 0


def test_a_model_swapped_mid_reply_serves_the_reply_to_its_end_and_closes_afterwards():
    async def scenario(rig: Rig):
        first = asyncio.create_task(collect(rig.service, "Aaa. Bbb."))
        await asyncio.to_thread(rig.backend.wait_started)
        new = fake_model("b")
        rig.manager.install(new)
        assert not rig.backend.closed  # the reply still holds it
        second = await collect(rig.service, "Ccc.")  # a new reply gets the new model
        assert new.backend.calls == ["ccc."] and second
        rig.backend.gated = False
        rig.backend.release(10)
        assert await first
        await rig.wait(lambda: rig.backend.closed, "the old model closed")
        return rig.backend.calls

    assert run(scenario, Rig(limits={"workers": 2})) == ["aaa.", "bbb."]


def test_a_reply_keeps_the_config_it_started_with_across_a_reload():
    async def scenario(rig: Rig):
        reference = await collect(rig.service, "Aaa. Bbb.")
        rig.backend.gated = True
        reply = asyncio.create_task(collect(rig.service, "Ccc. Ddd."))
        await asyncio.to_thread(rig.backend.wait_started)
        rig.service.configure(settings(audio={"sentence_silence": 1.0, "speed": 2.0}))
        rig.backend.gated = False
        rig.backend.release(10)
        during = await reply
        after = await collect(rig.service, "Eee. Fff.")
        return reference, during, after

    reference, during, after = run(scenario, Rig(gated=False))
    assert len(during) == len(reference)  # same text length, same settings
    assert len(after) > len(reference) + 2 * 24000  # two seconds of silence, at double speed


def test_requests_beyond_the_queue_limit_are_refused_as_busy():
    async def scenario(rig: Rig):
        async with rig.service.utterance():
            with pytest.raises(RequestError) as err:
                async with rig.service.utterance():
                    pass
            return err.value

    err = run(scenario, Rig(gated=False, limits={"queue": 1}))
    assert err.code == "busy" and "limits.queue = 1" in str(err)


# -- the Wyoming front end ---------------------------------------------------------------------


async def serving(rig: Rig):
    info = InfoSource(rig.service)

    async def connection(reader, writer):
        await KokoroEventHandler(rig.service, info, reader, writer).run()

    server = await asyncio.start_server(connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"tcp://127.0.0.1:{port}"


async def events_until(client: AsyncTcpClient, last: str) -> list[Event]:
    events = []
    while (event := await asyncio.wait_for(client.read_event(), 10)) is not None:
        events.append(event)
        if event.type in (last, "error"):
            break
    return events


def test_synthesize_answers_one_start_chunks_and_one_stop_and_streams_end_with_stopped():
    async def scenario(rig: Rig):
        server, uri = await serving(rig)
        async with server:
            whole = await synthesize(uri, "Aaa. Bbb. Ccc.")
            streamed = await synthesize(uri, "Ddd eee. Fff.", stream=True)
        return whole, streamed

    whole, streamed = run(scenario, Rig(gated=False))
    assert whole.error is None and whole.events[0] == "audio-start"
    assert whole.events.count("audio-start") == whole.events.count("audio-stop") == 1
    assert whole.events[-1] == "audio-stop" and whole.formats == {(24000, 2, 1)}
    assert streamed.events[-2:] == ["audio-stop", "synthesize-stopped"]
    assert streamed.events.count("audio-start") == 1  # the compatibility synthesize is ignored


def test_describe_is_answered_while_a_reply_waits_for_inference():
    async def scenario(rig: Rig):
        server, uri = await serving(rig)
        async with server:
            reply = asyncio.create_task(synthesize(uri, "Aaa. Bbb."))
            await asyncio.to_thread(rig.backend.wait_started)
            info = await describe(uri)
            assert not reply.done()
            rig.backend.gated = False
            rig.backend.release(10)
            return info, await reply

    info, reply = run(scenario, Rig())
    assert isinstance(info, Info)
    [program] = info.tts
    assert [v.name for v in program.voices] == ["af_test", "am_test"]
    assert program.supports_synthesize_streaming and reply.error is None


@pytest.mark.parametrize(("events", "code"), [
    ([SynthesizeChunk(text="Hi.").event()], "bad-sequence"),
    ([SynthesizeStop().event()], "bad-sequence"),
    ([SynthesizeStart().event(), SynthesizeStart().event()], "bad-sequence"),
    ([Synthesize(text="   ").event()], "empty-text"),
    ([Event("synthesize", {"text": 5})], "bad-request"),
    ([Event("synthesize", {"text": "Hi.", "voice": {"name": "nobody"}})], "unknown-voice"),
], ids=["chunk-first", "stop-first", "two-starts", "empty", "text-not-a-string",
        "unknown-voice"])
def test_a_request_out_of_order_gets_an_error_event_and_the_connection_closes(events, code):
    async def scenario(rig: Rig):
        server, uri = await serving(rig)
        async with server:
            async with AsyncTcpClient("127.0.0.1", int(uri.rsplit(":", 1)[1])) as client:
                for event in events:
                    await client.write_event(event)
                answered = await events_until(client, "error")
                closed = await asyncio.wait_for(client.read_event(), 10)
            after = await synthesize(uri, "Aaa.")  # the server serves others
        return answered, closed, after

    answered, closed, after = run(scenario, Rig(gated=False))
    assert answered[-1].type == "error" and answered[-1].data["code"] == code
    assert closed is None
    assert after.error is None and after.pcm


def test_a_stream_sends_audio_before_its_end_and_after_synthesize_stop_nothing_is_lost():
    async def scenario(rig: Rig):
        server, uri = await serving(rig)
        port = int(uri.rsplit(":", 1)[1])
        async with server, AsyncTcpClient("127.0.0.1", port) as client:
            await client.write_event(SynthesizeStart().event())
            await client.write_event(SynthesizeChunk(text="Aaa aaa aaa. Bbb").event())
            first = await asyncio.wait_for(client.read_event(), 10)
            await client.write_event(SynthesizeChunk(text=" bbb.").event())
            await client.write_event(SynthesizeStop().event())
            rest = await events_until(client, "synthesize-stopped")
        return first, rest, rig.backend.calls

    first, rest, calls = run(scenario, Rig(gated=False))
    assert first.type == "audio-start"  # the first sentence played before the stream ended
    assert rest[-2].type == "audio-stop" and rest[-1].type == "synthesize-stopped"
    assert calls == ["aaa aaa aaa.", "bbb bbb."]


def test_describe_lists_a_new_voice_after_a_reload():
    async def scenario(rig: Rig):
        before = InfoSource(rig.service).event()
        rig.service.configure(settings(mixes={"duo": "af_test+am_test"}))
        after = InfoSource(rig.service).event()
        return before, after

    before, after = run(scenario, Rig(gated=False))
    names = [v["name"] for v in after.data["tts"][0]["voices"]]
    assert "duo" in names and "duo" not in str(before.data)
