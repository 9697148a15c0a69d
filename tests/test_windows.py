"""Windowed decoding (engine/windows.py) on the embedded model: stitched windows sound like the
whole sentence (log-mel, seams, Whisper), the schedule keeps playback fed, and a hang-up drops
the windows still queued. The planning logic is pinned on a fake backend with a known speed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time

import numpy as np
import pytest

from wyoming_kokoro.config import load_config
from wyoming_kokoro.engine.base import HARMONICS, SAMPLES_PER_FRAME, Front
from wyoming_kokoro.engine.onnx import OnnxBackend
from wyoming_kokoro.engine.windows import (
    BACKGROUND_WINDOW,
    CONTEXT,
    CROSSFADE,
    CROWDED_RIGHT_CONTEXT,
    FRAME_SECONDS,
    LEFT_CONTEXT,
    MAX_WINDOW,
    MIN_WINDOW,
    RIGHT_CONTEXT,
    CostModel,
    Rendering,
    whole,
)
from wyoming_kokoro.model.kokoro import ModelSpec, load_model
from wyoming_kokoro.synthesis.render import Renderer, measure_decoder
from wyoming_kokoro.synthesis.scheduler import Scheduler
from wyoming_kokoro.synthesis.service import WARM_UP
from wyoming_kokoro.text.g2p import G2P
from wyoming_kokoro.voices import VoiceCatalog

from .asr import corpus_word_error_rate, normalize
from .support.logmel import distance

VOICE = "jf_alpha"  # for the planning and hang-up tests
SENTENCES = [
    "The upstairs bathroom fan will run for ten minutes.",
    "Heating is set to twenty one degrees in the living room.",
    "Your package was delivered to the front porch this morning.",
    "The garage door has been open for more than an hour.",
    "I turned off all the lights on the ground floor.",
    "Tomorrow will be cloudy with light rain in the afternoon.",
    "The washing machine finished its cycle five minutes ago.",
    "Someone rang the doorbell while you were away.",
    "The kitchen timer goes off in three minutes.",
    "Battery levels are low on the hallway motion sensor.",
]


@pytest.fixture(scope="module")
def model(kokoro_cache):
    model = load_model(ModelSpec(bundle=None, backend="onnx", cache_dir=kokoro_cache))
    yield model
    model.close()


@pytest.fixture(scope="module")
def g2p(kokoro_cache) -> G2P:
    return G2P(kokoro_cache)


VOICES = ["jf_alpha", "jm_kumo"]
# What the live schedule does, made repeatable, opening as a reply behind others does: the
# smallest first window, with the least right context, puts a seam inside the first word or two
# (12 frames lost "The" here).
GROWING = [MIN_WINDOW, 40, 80, 160]


def stitched(model, front: Front, gaps: np.ndarray, skip: int, sizes: list[int],
             first_right: int = RIGHT_CONTEXT) -> tuple[np.ndarray, list[int]]:
    """The sentence in windows of ``sizes`` frames (the last size repeats), the first with
    ``first_right`` context frames after it, and the sample index of every seam."""
    rendering = Rendering(model.backend, front, model.costs, gaps, skip)
    parts = [rendering.next(sizes[0], first_right)]
    while not rendering.finished:
        parts.append(rendering.next(sizes[min(len(parts), len(sizes) - 1)]))
    return np.concatenate(parts), list(np.cumsum([p.size for p in parts])[:-1])


@pytest.fixture(scope="module")
def renderings(model, g2p):
    """Per sentence and voice: the whole decode (its leading pad dropped as windows drop it),
    windows of 24 frames (many seams: the worst case) and growing windows."""
    out = []
    for i, text in enumerate(SENTENCES):
        voice = VOICES[i % 2]
        front, gaps, skip = model.front(g2p("en-us", text), model.voices[voice], 1.0)
        reference = whole(model.backend, front)[skip * SAMPLES_PER_FRAME:]
        small, seams = stitched(model, front, gaps, skip, [24])
        growing, _ = stitched(model, front, gaps, skip, GROWING, CROWDED_RIGHT_CONTEXT)
        out.append((text, reference, small, seams, growing))
    return out


def pcm(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def test_the_embedded_model_splits_and_decodes_in_windows(model):
    assert model.windowed


def test_windows_give_exactly_the_whole_sentences_samples(renderings):
    for text, reference, small, seams, growing in renderings:
        assert small.size == reference.size == growing.size, text
        assert len(seams) >= 2, text


def test_windows_sound_like_the_whole_sentence(renderings):
    distances = [distance(reference, small) for _, reference, small, _, _ in renderings]
    assert np.mean(distances) <= 6.0, distances
    # not trivially equal either: the same samples would mean no windows were cut
    assert all(not np.array_equal(r, s) for _, r, s, _, _ in renderings)


def test_no_seam_jumps_more_than_the_signal_itself(renderings):
    for text, _, small, seams, _ in renderings:
        steps = np.abs(np.diff(small))
        limit = 3 * np.percentile(steps, 99)
        for seam in seams:
            assert steps[seam - 2:seam + 2].max() <= limit, (text, seam)


def edges_heard(text: str, hypothesis: str) -> bool:
    words, got = normalize(text).split(), normalize(hypothesis).split()
    return bool(got) and got[0] == words[0] and got[-1] == words[-1]


def test_whisper_hears_windows_as_well_as_the_whole_sentence(renderings, whisper):
    heard = {kind: [(r[0], whisper(pcm(r[column]), 24_000)) for r in renderings]
             for kind, column in (("whole", 1), ("small", 2), ("growing", 4))}
    words = sum(len(normalize(text).split()) for text in SENTENCES)
    base = corpus_word_error_rate(heard["whole"])
    # The gate, 1 word in 100 (in whole words), holds for the windows served. Windows
    # of 24 frames throughout, a stress case, put a seam in every other word and lose about 2
    # in 100 ("delivered to the front porch" -> "from porch", "will" -> "would", with either
    # DECODER); Whisper tiny's own swing on these 95 words of accented speech is +-2 words,
    # so they are held to 4 in 100.
    for kind, per_100 in (("growing", 1), ("small", 4)):
        slack = math.ceil(words * per_100 / 100) / words
        assert corpus_word_error_rate(heard[kind]) <= base + slack, (kind, heard)
        # The first and last words: windows lose none the whole sentence has (Whisper tiny
        # mishears some of the accented voices' first words, windowed or not).
        lost = [(h, w) for h, w in zip(heard[kind], heard["whole"], strict=True)
                if edges_heard(*w) and not edges_heard(*h)]
        assert not lost, lost
    assert sum(edges_heard(*w) for w in heard["whole"]) >= len(SENTENCES) - 1, heard


def test_silence_caps_cut_the_tails_not_the_speech(model, g2p):
    phonemes = g2p("en-us", SENTENCES[0])
    full, _, skip_full = model.front(phonemes, model.voices[VOICE], 1.0, cap_silence=False)
    capped, _, skip = model.front(phonemes, model.voices[VOICE], 1.0)
    assert skip_full == 0 and skip > 0
    inner = slice(1, -3)  # every token but the pads, the last sound and the final "."
    assert np.array_equal(full.durations[inner], capped.durations[inner])
    assert capped.frames < full.frames - 10  # ~0.5 s of rendered silence gone
    assert capped.durations[0] <= 8 and capped.durations[-1] == 0


# -- planning, on a fake decoder whose speed is known -------------------------------------------

class Clockwork:
    """A windowed backend that records its calls; its audio is each frame's index."""

    def __init__(self, steps_per_frame: float = 0.0) -> None:
        self.calls: list[tuple[int, int, np.ndarray]] = []
        self.steps_per_frame = steps_per_frame

    def decode(self, front: Front, start: int, end: int, phase: np.ndarray):
        self.calls.append((start, end, np.array(phase)))
        audio = np.repeat(np.arange(start, end, dtype=np.float32), SAMPLES_PER_FRAME)
        rows = np.arange(2 * (end - start) + 1, dtype=np.float64)[:, None]
        return audio, np.repeat(rows * self.steps_per_frame / 2, HARMONICS, axis=1)


class Fixed(CostModel):
    """A decoder speed that does not learn (the fake decodes in no time)."""

    def observe(self, frames: int, seconds: float) -> None:
        pass


def fake_front(frames: int) -> Front:
    return Front(np.zeros((512, frames), np.float32), np.zeros(2 * frames, np.float32),
                 np.zeros(2 * frames, np.float32), np.array([frames], np.int64),
                 np.zeros(256, np.float32))


def test_the_warm_up_times_the_decoder_so_the_first_reply_is_planned_on_it(model, g2p,
                                                                           monkeypatch):
    """Without it the first reply after a start was planned on the slow prior (a 134-frame
    first window: 3 s of silence on a machine that decodes it in 0.8 s)."""
    monkeypatch.setattr(model, "costs", CostModel())  # as a model comes from load_model
    measure_decoder(model, model.voices[VOICE], g2p("en-us", WARM_UP))
    ((frames, seconds),) = model.costs.observations
    assert frames >= 40  # the whole warm-up sentence, one window
    assert model.costs.cost(frames) == pytest.approx(seconds)


def test_the_cost_model_learns_the_decoders_speed():
    costs = CostModel()
    for frames in (40, 80, 120, 60, 160, 100):
        costs.observe(frames, 0.03 + 0.005 * frames)
    assert costs.base == pytest.approx(0.03, abs=1e-6)
    assert costs.per_frame == pytest.approx(0.005, rel=1e-6)
    assert costs.frames_within(0.5301) == 100


@pytest.mark.parametrize("gaps", [None, np.arange(7, 400, 9)], ids=["no gaps", "word gaps"])
def test_the_first_window_is_small_and_the_schedule_never_starves(gaps):
    """With word gaps, cuts land earlier than asked: the first window must keep up as cut."""
    costs = Fixed(base=0.02, per_frame=0.005)
    rendering = Rendering(Clockwork(), fake_front(400), costs, gaps)
    first = rendering.first_frames(0.0)
    assert MIN_WINDOW <= first < 80
    # Simulate: each window takes its modelled time; playback starts after the first.
    played_until = clock = costs.cost(first + RIGHT_CONTEXT)
    rendering.next(first)
    first = rendering.done  # where it was really cut
    played_until += first * FRAME_SECONDS
    while not rendering.finished:
        n = rendering.frames_for(played_until - clock)
        before = rendering.done
        rendering.next(n)
        clock += costs.cost(rendering.done - before + CONTEXT)
        assert clock <= played_until, "the listener ran out of audio"
        played_until += (rendering.done - before) * FRAME_SECONDS
    sizes = [w.end - w.start for w in rendering.windows]
    growing = sizes[:-1]  # the last holds what is left (e.g. 19, 21, 45, 144, 160, then 11)
    assert growing == sorted(growing) and growing[-1] > 4 * growing[0]
    assert max(sizes) <= MAX_WINDOW


def test_a_reply_already_behind_gets_the_largest_windows():
    rendering = Rendering(Clockwork(), fake_front(400), Fixed(base=0.05, per_frame=0.01))
    assert rendering.frames_for(0.0) == MAX_WINDOW


def test_a_decoder_too_slow_for_any_first_window_still_decodes_at_most_the_largest():
    """Keeping up would take the whole sentence at once; memory is bounded by the window."""
    backend = Clockwork()
    rendering = Rendering(backend, fake_front(400), Fixed(base=0.1, per_frame=0.05), skip=6)
    assert rendering.first_frames(0.0) == rendering.opening(0.0) == MAX_WINDOW
    while not rendering.finished:
        rendering.next(rendering.frames_for(0.0))
    assert max(end - start for start, end, _ in backend.calls) <= MAX_WINDOW + CONTEXT


@pytest.mark.parametrize("frames", [MAX_WINDOW + 1, MAX_WINDOW + CONTEXT])
def test_a_sentence_just_over_the_largest_window_is_one_window_once_audio_is_queued(frames):
    """Two windows would decode its seam's context twice (and cost two calls); one window of
    the whole sentence decodes no more frames than a largest window with its context."""
    backend = Clockwork()
    rendering = Rendering(backend, fake_front(frames), Fixed(base=0.02, per_frame=0.005))
    assert rendering.next(rendering.opening(30.0)).size == frames * SAMPLES_PER_FRAME
    assert rendering.finished and [c[:2] for c in backend.calls] == [(0, frames)]


def test_a_longer_sentence_or_a_first_window_nothing_is_queued_for_is_still_cut():
    backend = Clockwork()
    rendering = Rendering(backend, fake_front(MAX_WINDOW + CONTEXT + 1),
                          Fixed(base=0.02, per_frame=0.005))
    rendering.next(rendering.opening(30.0))
    assert backend.calls[0][:2] == (0, MAX_WINDOW + RIGHT_CONTEXT)
    rendering.next(rendering.frames_for(30.0))
    assert rendering.finished and backend.calls[1][:2] == (MAX_WINDOW - LEFT_CONTEXT,
                                                           MAX_WINDOW + CONTEXT + 1)
    short = Rendering(Clockwork(), fake_front(MAX_WINDOW), Fixed(base=0.02, per_frame=0.005))
    assert short.opening(0.0) < MAX_WINDOW  # the listener waits: the first window stays small


def test_work_nobody_listens_to_yet_comes_in_short_windows():
    """Prerendering (no deadline) must not hold the decoder long when a reply arrives."""
    rendering = Rendering(Clockwork(), fake_front(400), Fixed(base=0.05, per_frame=0.01))
    sizes = [rendering.opening(math.inf)]
    rendering.next(sizes[0])
    while not rendering.finished:
        before = rendering.done
        rendering.next(rendering.frames_for(math.inf))
        sizes.append(rendering.done - before)
    assert sizes[0] == BACKGROUND_WINDOW < MAX_WINDOW
    assert max(sizes) <= BACKGROUND_WINDOW + MIN_WINDOW  # a short tail may join the last one
    assert sum(sizes) == 400


def test_a_reply_that_others_wait_behind_opens_with_the_smallest_window():
    rendering = Rendering(Clockwork(), fake_front(400), Fixed(base=0.02, per_frame=0.008))
    assert rendering.opening(0.0, crowded=True) == MIN_WINDOW < rendering.opening(0.0)
    assert rendering.opening(2.0, crowded=True) == rendering.opening(2.0)  # audio is queued


@pytest.mark.parametrize(("crowded", "buffered", "right"), [
    (True, 0.0, CROWDED_RIGHT_CONTEXT), (False, 0.0, RIGHT_CONTEXT), (True, 2.0, RIGHT_CONTEXT)],
    ids=["crowded", "alone", "crowded-with-audio-queued"])
def test_the_smallest_first_window_decodes_less_context_after_it(crowded, buffered, right):
    backend = Clockwork()
    rendering = Rendering(backend, fake_front(400), Fixed(base=0.02, per_frame=0.008), skip=6)
    planned = rendering.opening(buffered, crowded)
    audio = rendering.begin(buffered, crowded)
    assert backend.calls[0][:2] == (0, 6 + planned + right)
    assert audio.size == planned * SAMPLES_PER_FRAME - CROSSFADE // 2  # the rest is blended


def test_the_scheduler_counts_the_work_already_overdue():
    scheduler = Scheduler(0)  # no workers: everything stays queued
    try:
        now = time.monotonic()
        for due in (now - 1, now - 0.5, now + 5):
            scheduler.submit(due, print)
        assert scheduler.overdue(now) == 2 and scheduler.pending == 3
    finally:
        scheduler.close()


def test_windows_decode_with_context_cut_in_word_gaps_and_carry_the_phase():
    backend = Clockwork(steps_per_frame=0.3)
    rendering = Rendering(backend, fake_front(200), Fixed(), gaps=np.array([37, 90]),
                          skip=6)
    out = [rendering.next(40), rendering.next(60), rendering.rest()]
    assert [(w.start, w.end) for w in rendering.windows][:2] == [(6, 37), (37, 90)]
    assert backend.calls[0][:2] == (0, 37 + RIGHT_CONTEXT)
    assert backend.calls[1][:2] == (37 - LEFT_CONTEXT, 90 + RIGHT_CONTEXT)
    # the second window's decode starts 37 - LEFT_CONTEXT frames into the first's: two phase
    # steps of 0.15 cycles a frame
    assert np.allclose(backend.calls[1][2], np.mod(2 * (37 - LEFT_CONTEXT) * 0.15, 1.0))
    assert np.allclose(backend.calls[0][2], 0.0)
    audio = np.concatenate(out)
    assert audio.size == (200 - 6) * SAMPLES_PER_FRAME
    frames = np.rint(audio[200::SAMPLES_PER_FRAME])  # away from the fades and crossfades
    assert np.array_equal(frames[:-1], np.arange(6, 199))


# -- the renderer: a hang-up drops what is queued -----------------------------------------------

def test_a_hang_up_drops_the_queued_windows(model, g2p):
    text = " ".join(SENTENCES[:4]).replace(".", ",")[:-1] + "."
    phonemes = g2p("en-us", text)
    voice = VoiceCatalog(model.voices, load_config(None, {})).resolve(VOICE)
    calls: list[int] = []
    decode = model.backend.decode

    def counted(*args):
        calls.append(1)
        return decode(*args)

    async def main() -> None:
        renderer = Renderer(g2p, workers=1, cache_mb=8)
        model.backend.decode = counted
        try:
            # A listener with nothing queued: small windows, one job each.
            stream = renderer.speak(time.monotonic, model, voice, phonemes, 1.0, True)
            async with contextlib.aclosing(stream):
                first = await anext(stream)
                assert first
            decoded = len(calls)
            await asyncio.sleep(0.5)
            assert len(calls) == decoded, "windows were decoded after the hang-up"
            assert renderer.cache_stats()["memory"].entries == 0  # half a sentence: not cached
        finally:
            model.backend.decode = decode
            renderer.close()

    asyncio.run(main())


def test_a_graph_that_does_not_split_renders_whole_pieces(tmp_path, caplog):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Cast", ["style"], ["audio"], to=TensorProto.FLOAT)], "tiny",
        [helper.make_tensor_value_info("tokens", TensorProto.INT64, [1, "t"]),
         helper.make_tensor_value_info("style", TensorProto.FLOAT, [1, 256]),
         helper.make_tensor_value_info("speed", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("audio", TensorProto.FLOAT, [1, 256])])
    path = tmp_path / "tiny.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9),
              path)
    with caplog.at_level(logging.INFO, logger="wyoming_kokoro.engine.onnx"):
        backend = OnnxBackend(path, threads=1, sha256="0" * 64, cache_dir=tmp_path)
    assert not backend.windowed
    assert [r.message for r in caplog.records if "whole pieces" in r.message]
    audio = backend.synthesize(np.array([1, 2, 3]), np.ones(256, np.float32), 1.0)
    assert audio.size == 256
    assert not (tmp_path / "split").exists()
