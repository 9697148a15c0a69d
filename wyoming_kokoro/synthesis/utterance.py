"""One reply: text in (whole, streamed, or SSML), ordered 16-bit PCM out.

Text is cut into sentences (clauses too, when streamed), phonemized on the G2P thread one step
ahead of synthesis, cut into pieces within the phoneme budget (the reply's first piece short, so
its first words play at once), and each piece is synthesized by the scheduler's workers, most
urgent first across all replies. The reply keeps the config snapshot, the model and the voice
catalogue it started with until it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from ..config import Config
from ..model.kokoro import KEPT_SILENCE, KokoroModel
from ..text.g2p import G2PUnavailable
from ..text.inline import strip_inline
from ..text.language import pick_language
from ..text.phonemes import PhonemeError
from ..text.pronunciations import Pronunciations
from ..text.split import SentenceSplitter, split_head, split_phonemes, split_sentences
from ..text.ssml import SsmlError, parse_ssml
from ..voices import UnknownVoice, Voice, VoiceCatalog
from .errors import RequestError
from .pcm import AudioFormat, silence
from .render import Renderer

_LOGGER = logging.getLogger(__name__)

PIECE_PHONEMES = 120
"""Longest piece synthesized at once by a whole-piece backend (of Kokoro's 510): memory grows
with a piece's audio length."""
SENTENCE_PHONEMES = 500
"""Longest piece when decoding in windows: memory is bounded by the window, so a sentence is
one piece up to Kokoro's limit (with room for the few symbols tokenizing adds or drops)."""
LOOKAHEAD = 3  # pieces phonemized ahead of synthesis, per reply
SPEED_RANGE = (0.25, 4.0)
"""The effective rate (voice x audio.speed x request x SSML prosody) is kept within Kokoro's."""

CONTROL = re.compile(  # not spoken, never passed on
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


# What flows from the text side to the audio side of a reply, in order.

@dataclass(frozen=True)
class Sentence:
    """A sentence to speak, with the voice, language and rate it is spoken in."""

    text: str
    voice: Voice
    language: str | None = None  # None: picked from the text and the voice
    rate: float = 1.0
    pause: float | None = None  # silence after it; None: audio.sentence_silence
    ssml: bool = False  # from SSML: its <phoneme> elements arrive as inline phonemes


@dataclass(frozen=True)
class Piece:
    """Phonemes synthesized in one go."""

    phonemes: str
    voice: Voice
    speed: float
    ends_sentence: bool
    pause: float | None  # with ends_sentence: silence after it; None: audio.sentence_silence


@dataclass(frozen=True)
class Pause:
    """Silence on its own (an SSML break with no text around it)."""

    seconds: float


@dataclass(frozen=True)
class Failed:
    """The text side failed; the audio side raises ``error`` in the reply's task."""

    error: BaseException


class End:
    """No more items."""


END = End()
TextItem = Sentence | Pause | End
AudioItem = Piece | Pause | Failed | End


class Utterance:
    """Text for one reply goes in (``feed`` / ``feed_ssml``, then ``finish``); PCM comes out
    of ``audio()`` in order."""

    def __init__(self, renderer: Renderer, model: KokoroModel, catalog: VoiceCatalog,
                 pronunciations: Pronunciations, voice: Voice, config: Config,
                 streaming: bool = False, speed: float = 1.0,
                 background: bool = False) -> None:
        self._renderer = renderer
        self.model = model
        self.catalog = catalog
        self.pronunciations = pronunciations
        self.voice = voice
        self.config = config
        self.request_speed = speed  # the request's own rate (OpenAI's speed), on top of the rest
        self.background = background  # nobody listens (prerendering): after all live work
        self.format = AudioFormat(rate=model.sample_rate)
        self.chars = 0
        self.started = time.monotonic()
        self.first_audio: float | None = None
        self.produced = 0.0  # seconds of audio handed out
        self.synthesis_wait = 0.0  # seconds spent waiting for pieces (queue + inference)
        self.outcome: str | None = None  # "ok", an error code or "cancelled", once it is known
        self._splitter = SentenceSplitter(clauses=streaming)
        self._sentences: asyncio.Queue[TextItem] = asyncio.Queue()
        self._finished = False
        self._unheard = False  # counted in the renderer's ``unheard``

    # -- text in -----------------------------------------------------------------------------

    def _count(self, text: str) -> None:
        if self._finished:
            raise RequestError("text arrived after the end of the request", "bad-sequence")
        self.chars += len(text)
        limit = self.config.text.max_chars
        if self.chars > limit:
            self.outcome = self.outcome or "too-long"
            raise RequestError(f"text is longer than the limit of {limit} characters "
                               f"(text.max_chars)", "too-long")

    def feed(self, text: str) -> None:
        self._count(text)
        for sentence in self._splitter.add(CONTROL.sub(" ", text)):
            self._sentences.put_nowait(Sentence(sentence, self.voice))

    def feed_ssml(self, document: str) -> None:
        """A whole SSML document: voice, language, rate and breaks as it says."""
        self._count(document)
        try:
            segments = parse_ssml(document, self.voice.language,
                                  max_chars=self.config.text.max_chars, vocab=self.model.vocab,
                                  inline_phonemes=self.config.text.inline_phonemes)
        except SsmlError as err:
            raise RequestError(str(err), "bad-ssml") from err
        for segment in segments:
            try:
                voice = self.catalog.resolve(segment.voice) if segment.voice else self.voice
            except UnknownVoice as err:
                raise RequestError(f"SSML: {err}", "unknown-voice") from err
            sentences = split_sentences(CONTROL.sub(" ", segment.text))
            for i, sentence in enumerate(sentences):
                last = i == len(sentences) - 1
                pause = segment.pause_after if last and segment.pause_after > 0 else None
                self._sentences.put_nowait(
                    Sentence(sentence, voice, segment.language, segment.rate, pause, ssml=True))
            if not sentences and segment.pause_after > 0:
                self._sentences.put_nowait(Pause(segment.pause_after))

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        for sentence in self._splitter.finish():
            self._sentences.put_nowait(Sentence(sentence, self.voice))
        self._sentences.put_nowait(END)

    def end(self, err: BaseException | None = None) -> None:
        """Record how the reply ended (the first verdict stands)."""
        if self.outcome is not None:
            return
        if err is None:
            self.outcome = "ok"
        elif isinstance(err, RequestError):
            self.outcome = err.code
        elif isinstance(err, (asyncio.CancelledError, GeneratorExit, ConnectionError)):
            self.outcome = "cancelled"
        else:
            self.outcome = "error"

    # -- audio out ---------------------------------------------------------------------------

    def _deadline(self) -> float:
        """When the listener runs out of audio: now for the first piece, later for the rest."""
        if self.background:
            return math.inf
        if self.first_audio is None:
            return time.monotonic()
        return self.first_audio + self.produced

    def _speed(self, voice: Voice, rate: float) -> float:
        lo, hi = SPEED_RANGE
        return max(lo, min(hi, voice.speed * self.config.audio.speed * self.request_speed
                           * rate))

    def _out(self, pcm: bytes) -> bytes:
        """``pcm`` as it goes out, counted toward the listener's deadline (the reply's first
        audio starts with audio.leading_silence)."""
        if self.first_audio is None:
            self.first_audio = time.monotonic()
            self._heard()
            pcm = silence(self.config.audio.leading_silence, self.format.rate) + pcm
        self.produced += self.format.seconds(pcm)
        return pcm

    async def audio(self) -> AsyncGenerator[bytes, None]:
        """16-bit PCM as each piece is ready, in order; ends after ``finish``."""
        audio = self.config.audio
        rate = self.format.rate
        pieces: asyncio.Queue[AudioItem] = asyncio.Queue(maxsize=LOOKAHEAD)
        phonemizer = asyncio.create_task(self._phonemize_all(pieces))
        try:
            while not isinstance(item := await pieces.get(), End):
                if isinstance(item, Failed):
                    raise item.error
                if isinstance(item, Pause):
                    yield self._out(silence(item.seconds, rate))
                    continue
                spoke = False
                async with contextlib.aclosing(self._renderer.speak(
                        self._deadline, self.model, item.voice, item.phonemes, item.speed,
                        item.ends_sentence, audio.cap_silence)) as stream:
                    while True:  # each window as soon as it is ready: a sentence streams
                        waited = time.monotonic()
                        pcm = await anext(stream, None)
                        self.synthesis_wait += time.monotonic() - waited
                        if pcm is None:
                            break
                        if pcm:
                            spoke = True
                            yield self._out(pcm)
                if spoke and item.ends_sentence:  # nothing speakable in it: no pause either
                    pause = audio.sentence_silence if item.pause is None else item.pause
                    if item.pause is not None and audio.cap_silence and self.model.windowed:
                        pause = max(0.0, pause - KEPT_SILENCE)
                    yield self._out(silence(pause, rate))
            if self.first_audio is not None and audio.trailing_silence > 0:
                yield silence(audio.trailing_silence, rate)
            self.end()
        except BaseException as err:
            self.end(err)
            raise
        finally:
            phonemizer.cancel()
            try:
                await asyncio.gather(phonemizer, return_exceptions=True)
            finally:
                self._heard()

    def _waiting(self) -> None:
        """Text to speak is in and the listener has heard nothing: other replies' first
        windows are kept short meanwhile (``Renderer.unheard``)."""
        if not self._unheard and self.first_audio is None and not self.background:
            self._unheard = True
            self._renderer.unheard += 1

    def _heard(self) -> None:
        if self._unheard:
            self._unheard = False
            self._renderer.unheard -= 1

    async def _phonemize_all(self, pieces: asyncio.Queue[AudioItem]) -> None:
        """Sentences -> phoneme pieces, one step ahead of synthesis (bounded lookahead)."""
        # Windowed decoding gives first audio from a sentence's first window: no need to cut
        # the text (which changes how it sounds). quick_start is for whole-piece backends.
        first = self.config.text.quick_start and not self.model.windowed
        try:
            while not isinstance(item := await self._sentences.get(), End):
                if isinstance(item, Pause):
                    await pieces.put(item)
                    continue
                self._waiting()
                chunks = await self._phonemize(item)
                if first and chunks:
                    chunks = split_head(chunks[0]) + chunks[1:]
                    first = False
                speed = self._speed(item.voice, item.rate)
                for i, chunk in enumerate(chunks):
                    last = i == len(chunks) - 1
                    await pieces.put(Piece(chunk, item.voice, speed, last,
                                           item.pause if last else None))
                if not chunks and item.pause:
                    await pieces.put(Pause(item.pause))
            await pieces.put(END)
        except asyncio.CancelledError:
            raise
        except BaseException as err:
            await pieces.put(Failed(err))

    async def _phonemize(self, sentence: Sentence) -> list[str]:
        text = self.config.text
        language = sentence.language or pick_language(
            strip_inline(sentence.text), sentence.voice.language, text.fallback_language)
        try:
            phonemes = await self._renderer.phonemize(
                language, sentence.text, text.normalize.options(language), self.pronunciations,
                inline=sentence.ssml or text.inline_phonemes)
        except G2PUnavailable as err:
            raise RequestError(str(err), "language-unavailable") from err
        except PhonemeError as err:
            raise RequestError(str(err), "bad-phonemes") from err
        _LOGGER.debug("[%s] %r -> %r", language, sentence.text, phonemes)
        limit = SENTENCE_PHONEMES if self.model.windowed else PIECE_PHONEMES
        return split_phonemes(phonemes, limit) if phonemes else []
