"""Prerendering: phrases synthesized in the background so their first request is a cache hit.

Which phrases: ``cache.prerender`` in config.yaml, and with ``cache.prerender_home_assistant``
Home Assistant's own fixed responses ("Done", "Turned on the lights", "Sorry, I couldn't
understand that") in the default voice's languages, read from the ``home-assistant-intents``
package when it is installed. A response with a placeholder or any template logic (``{{ }}``,
``{% %}``) depends on the home and is left out.

:class:`Prerenderer` renders them one at a time through a ``render(text, voice)`` callable the
service provides (a whole reply through the ordinary pipeline, so the pieces and their cache keys
are exactly those of a live request), skips those already cached, and can be paused, cancelled
and restarted with a new list (after a model swap or a config reload). Priority is the caller's:
its render should run at the scheduler's lowest priority, and it may pause the prerenderer while
live requests are in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from ..config import CacheConfig
from ..text.language import parse_language

_LOGGER = logging.getLogger(__name__)

HOME_ASSISTANT = "home-assistant"
"""The :attr:`Phrase.source` of Home Assistant's responses."""

# Our language codes -> the language files of home-assistant-intents
_HA_LANGUAGES = {"en-us": "en", "en-gb": "en", "es": "es", "fr": "fr", "hi": "hi", "it": "it",
                 "ja": "ja", "pt-br": "pt-BR", "zh": "zh-CN"}
_WARNINGS_PER_RUN = 3  # failures logged as warnings per run; the rest at debug level


@dataclass(frozen=True)
class Phrase:
    text: str
    voice: str | None = None  # None: the default voice
    source: str = ""  # where it came from, for the log: "cache.prerender[2]", "home-assistant"


def configured_phrases(cache: CacheConfig) -> list[Phrase]:
    return [Phrase(p.text.strip(), p.voice, f"cache.prerender[{i}]")
            for i, p in enumerate(cache.prerender)]


def home_assistant_responses(language: str) -> list[str] | None:
    """Home Assistant's fixed responses in ``language`` (ours or a Wyoming/HA code): errors
    first, then intents by name and response key, without duplicates. None when the
    ``home-assistant-intents`` package is not installed; [] when it has no such language."""
    try:
        import home_assistant_intents
    except ImportError:
        return None
    code = _HA_LANGUAGES.get(parse_language(language) or "")
    data = home_assistant_intents.get_intents(code) if code else None
    if not data:
        return []
    responses = data.get("responses") or {}
    texts: list[str] = []
    errors = responses.get("errors") or {}
    texts += [t for key in sorted(errors) for t in _fixed(errors[key])]
    intents = responses.get("intents") or {}
    for intent in sorted(intents):
        keyed = intents[intent] if isinstance(intents[intent], dict) else {}
        texts += [t for key in sorted(keyed) for t in _fixed(keyed[key])]
    return list(dict.fromkeys(texts))


def _fixed(response: object) -> list[str]:
    """The response's text if it is fixed (no template at all); a list gives each of its texts."""
    if isinstance(response, list):
        return [t for item in response for t in _fixed(item)]
    if not isinstance(response, str) or "{" in response or "}" in response:
        return []
    text = " ".join(response.split())
    return [text] if text else []


def prerender_phrases(cache: CacheConfig, languages: Iterable[str]) -> list[Phrase]:
    """What to prerender: the configured phrases, then (when switched on) Home Assistant's fixed
    responses in ``languages`` (the default voice's: ``Voice.languages``) for the default voice;
    deduplicated, in a stable order."""
    phrases = configured_phrases(cache)
    if cache.prerender_home_assistant:
        for language in dict.fromkeys(languages):
            texts = home_assistant_responses(language)
            if texts is None:
                _LOGGER.info("cache.prerender_home_assistant: the home-assistant-intents "
                             "package is not installed; Home Assistant's responses are not "
                             "prerendered (pip install 'wyoming-kokoro[home-assistant]')")
                break
            phrases += [Phrase(text, None, HOME_ASSISTANT) for text in texts]
    unique: dict[tuple[str, str | None], Phrase] = {}
    for phrase in phrases:
        unique.setdefault((" ".join(phrase.text.split()), phrase.voice), phrase)
    return list(unique.values())


Render = Callable[[str, str | None], Awaitable[object]]
Cached = Callable[[str, str | None], Awaitable[bool]]


@dataclass
class Progress:
    total: int = 0
    rendered: int = 0
    skipped: int = 0  # already cached
    failed: int = 0
    done: bool = False  # the run went through every phrase

    @property
    def handled(self) -> int:
        return self.rendered + self.skipped + self.failed


class Prerenderer:
    """Runs one list of phrases at a time through ``render``, in the background of the loop.

    ``cached(text, voice)``, if given, says whether a phrase's audio is all cached already (the
    service can answer from its cache index without synthesizing); such phrases are skipped.
    A phrase whose render fails is logged with its source and the run goes on.
    """

    def __init__(self, render: Render, cached: Cached | None = None) -> None:
        self._render = render
        self._cached = cached
        self._task: asyncio.Task[Progress] | None = None
        self._go = asyncio.Event()
        self._go.set()
        self.progress = Progress(done=True)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    async def start(self, phrases: Sequence[Phrase]) -> None:
        """Cancel the run under way (waiting for it to stop), then start one over ``phrases``."""
        await self.cancel()
        self.progress = Progress(total=len(phrases), done=not phrases)
        if phrases:
            self._task = asyncio.create_task(self._run(list(phrases), self.progress),
                                             name="prerender")

    def pause(self) -> None:
        """Hold before the next phrase (the one being rendered finishes)."""
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    async def cancel(self) -> None:
        """Stop the run under way, the phrase being rendered included; returns once stopped."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def wait(self) -> Progress:
        """Until the run under way ends (at once if none); its progress."""
        task = self._task
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        return self.progress

    async def _run(self, phrases: list[Phrase], progress: Progress) -> Progress:
        started = time.monotonic()
        _LOGGER.info("Prerendering %d phrases in the background", len(phrases))
        for phrase in phrases:
            await self._go.wait()
            try:
                if self._cached is not None and await self._cached(phrase.text, phrase.voice):
                    progress.skipped += 1
                    continue
                await self._render(phrase.text, phrase.voice)
                progress.rendered += 1
            except Exception as err:  # one bad phrase (an unknown voice) must not stop the rest
                progress.failed += 1
                level = logging.WARNING if progress.failed <= _WARNINGS_PER_RUN else logging.DEBUG
                _LOGGER.log(level, "Prerendering %r (%s) failed: %s", phrase.text,
                            phrase.source or "phrase", err)
        progress.done = True
        _LOGGER.info("Prerendered %d phrases in %.1f s (%d already cached, %d failed)",
                     progress.rendered, time.monotonic() - started, progress.skipped,
                     progress.failed)
        return progress
