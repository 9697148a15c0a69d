"""The ``info`` answer to ``describe``: one ``tts`` program with the current voices.

Home Assistant re-describes every 30 s and rebuilds its voice list when the answer changes, so
it is deterministic and built once per voice catalogue (a model swap or reload makes a new one).
"""

from __future__ import annotations

from wyoming.event import Event
from wyoming.info import Attribution, Info, TtsProgram, TtsVoice

from ... import __version__
from ...synthesis.service import SynthesisService
from ...voices import VoiceCatalog

KOKORO_ATTRIBUTION = Attribution(name="hexgrad/Kokoro-82M",
                                 url="https://huggingface.co/hexgrad/Kokoro-82M")


def build_info(catalog: VoiceCatalog, model_name: str) -> Info:
    voices = [
        TtsVoice(name=voice.name, attribution=KOKORO_ATTRIBUTION, installed=True,
                 description=voice.description, version=model_name,
                 languages=list(voice.languages))
        for voice in catalog
    ]
    program = TtsProgram(name="kokoro", attribution=KOKORO_ATTRIBUTION, installed=True,
                         description="Kokoro-82M text to speech", version=__version__,
                         voices=voices, supports_synthesize_streaming=True)
    return Info(tts=[program])


class InfoSource:
    """The ``info`` event for the service's current catalogue, rebuilt only when it changes."""

    def __init__(self, service: SynthesisService) -> None:
        self._service = service
        self._cached: tuple[VoiceCatalog, Event] | None = None

    def event(self) -> Event:
        catalog = self._service.catalog()
        cached = self._cached
        if cached is None or cached[0] is not catalog:
            stats = self._service.stats()
            name = stats.model.name if stats.model else ""
            cached = self._cached = (catalog, build_info(catalog, name).event())
        return cached[1]
