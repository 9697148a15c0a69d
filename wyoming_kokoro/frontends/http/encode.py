"""16-bit mono PCM -> the response formats of the speech endpoint, whole or as a stream.

wav and pcm are written here; flac, mp3 and opus (in Ogg) by libsndfile through soundfile (its
wheels bundle libsndfile 1.2 with FLAC, LAME/mpg123 and Opus; aac is not among its formats).
A stream cannot seek back, so a streamed WAV header says "unknown length" (0xFFFFFFFF, as
Kokoro-FastAPI does) and libsndfile's closing rewrites of a header (FLAC's total sample count,
MP3's info tag) are dropped: FLAC's STREAMINFO then reads "length unknown", which its
specification allows, and the MP3 stays a plain sequence of frames.
"""

from __future__ import annotations

import io
import struct
import threading
from dataclasses import dataclass

import numpy as np

WAV_UNKNOWN = 0xFFFFFFFF


@dataclass(frozen=True)
class Format:
    name: str
    content_type: str
    sndfile: tuple[str, str] | None = None  # (format, subtype) for libsndfile
    threaded: bool = False  # encoding costs enough CPU to keep it off the event loop


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("mp3", "audio/mpeg", ("MP3", "MPEG_LAYER_III"), threaded=True),
    Format("opus", "audio/ogg; codecs=opus", ("OGG", "OPUS"), threaded=True),
    Format("flac", "audio/flac", ("FLAC", "PCM_16"), threaded=True),
    Format("wav", "audio/wav"),
    Format("pcm", "audio/pcm"),
)}
UNSUPPORTED = ("aac",)  # OpenAI formats libsndfile cannot write


def wav_header(rate: int, data_bytes: int | None = None, width: int = 2,
               channels: int = 1) -> bytes:
    """A 44-byte PCM WAV header; ``data_bytes=None`` for a stream of unknown length."""
    data = WAV_UNKNOWN if data_bytes is None else data_bytes
    riff = WAV_UNKNOWN if data_bytes is None else 36 + data_bytes
    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", riff, b"WAVE", b"fmt ", 16, 1, channels,
                       rate, rate * channels * width, channels * width, width * 8, b"data", data)


class Encoder:
    """Feed PCM, take bytes: ``encode`` returns what is ready, ``finish`` the rest.

    Calls may come from a worker thread; a lock keeps ``close`` (a cancelled reply, on the event
    loop) from freeing libsndfile's handle under an encode still running there.
    """

    def __init__(self, fmt: Format, rate: int, streaming: bool) -> None:
        self.format = fmt
        self.rate = rate
        self.streaming = streaming
        self._pcm = bytearray()  # wav, whole: the header needs the length first
        self._sink: _ForwardSink | io.BytesIO | None = None
        self._file = None
        self._started = False
        self._lock = threading.Lock()
        if fmt.sndfile is not None:
            import soundfile

            # Whole files get a seekable buffer, so their headers carry the length.
            self._sink = _ForwardSink() if streaming else io.BytesIO()
            self._file = soundfile.SoundFile(self._sink, "w", rate, 1, fmt.sndfile[1],
                                             format=fmt.sndfile[0])

    def encode(self, pcm: bytes) -> bytes:
        with self._lock:
            return self._encode(pcm)

    def _encode(self, pcm: bytes) -> bytes:
        if self._file is not None:
            self._file.write(np.frombuffer(pcm, dtype="<i2"))
            return self._sink.take() if isinstance(self._sink, _ForwardSink) else b""
        if self.format.name == "wav":
            if not self.streaming:
                self._pcm += pcm
                return b""
            if not self._started:
                self._started = True
                return wav_header(self.rate) + pcm
        return pcm

    def finish(self) -> bytes:
        with self._lock:
            return self._finish()

    def _finish(self) -> bytes:
        if self._file is not None:
            self._file.close()
            if isinstance(self._sink, io.BytesIO):
                return self._sink.getvalue()
            assert self._sink is not None
            return self._sink.take()
        if self.format.name == "wav" and not self.streaming:
            return wav_header(self.rate, len(self._pcm)) + bytes(self._pcm)
        if self.format.name == "wav" and not self._started:
            return wav_header(self.rate)
        return b""

    def close(self) -> None:
        """Release libsndfile's handle when a reply ends early."""
        with self._lock:
            if self._file is not None and not self._file.closed:
                self._file.close()


class _ForwardSink:
    """A write-only file for libsndfile whose bytes are taken as they come.

    Seeking is allowed (libsndfile seeks to patch headers); writes over bytes already taken
    are dropped, writes past them are kept until the next ``take``.
    """

    def __init__(self) -> None:
        self._pos = 0
        self._taken = 0
        self._buf = bytearray()

    def write(self, data: bytes) -> int:
        count = len(data)
        start, self._pos = self._pos, self._pos + count
        if start < self._taken:
            data = data[self._taken - start:]
            start = self._taken
        if data:
            offset = start - self._taken
            if offset > len(self._buf):
                self._buf.extend(bytes(offset - len(self._buf)))
            self._buf[offset:offset + len(data)] = data
        return count

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, self._taken + len(self._buf))[whence]
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        return b""

    def take(self) -> bytes:
        out = bytes(self._buf)
        self._taken += len(out)
        self._buf.clear()
        return out
