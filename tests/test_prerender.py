"""Prerendering: which phrases (config.yaml, Home Assistant's fixed responses), and a background
run that skips what is cached, goes on past a failure, pauses, stops and restarts."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path

import pytest

from wyoming_kokoro.config import CacheConfig, Config, ConfigError, PrerenderPhrase, load_config
from wyoming_kokoro.synthesis.prerender import (
    HOME_ASSISTANT,
    Phrase,
    Prerenderer,
    home_assistant_responses,
    prerender_phrases,
)

intents = pytest.importorskip("home_assistant_intents")


def package_responses(language: str) -> set[str]:
    """Every response text the package holds for ``language``, whitespace collapsed."""
    data = json.loads((Path(intents.__file__).parent / "data" / f"{language}.json").read_text())
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            found.add(" ".join(node.split()))

    walk(data["responses"])
    return found


# -- config ----------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_phrases_are_strings_or_text_with_a_voice(tmp_path):
    config = load_config(write(tmp_path, """
cache:
  disk_mb: 50
  prerender:
    - Good morning!
    - {text: Dinner is ready., voice: jf_nezumi}
    - {text: Hello., voice: jf_alpha(2)+jm_kumo}
  prerender_home_assistant: true
"""))
    assert config.cache == CacheConfig(
        disk_mb=50, prerender_home_assistant=True,
        prerender=(PrerenderPhrase("Good morning!"),
                   PrerenderPhrase("Dinner is ready.", "jf_nezumi"),
                   PrerenderPhrase("Hello.", "jf_alpha(2)+jm_kumo")))
    assert Config().cache == CacheConfig(disk_mb=200, prerender=(),
                                         prerender_home_assistant=False)


@pytest.mark.parametrize(("yaml_text", "message"), [
    ("cache:\n  prerender: Good morning\n", "cache.prerender: must be a list, got 'Good morning'"),
    ("cache:\n  prerender: [Hi, {voice: jf_alpha}]\n",
     "cache.prerender[1].text: a phrase to prerender must have some text"),
    ("cache:\n  prerender: ['  ']\n", "cache.prerender[0]: a phrase to prerender must have"),
    ("cache:\n  prerender: [{text: Hi, voise: jf_alpha}]\n",
     "cache.prerender[0].voise: unknown key (did you mean 'voice'?)"),
    ("cache:\n  prerender: [5]\n", "cache.prerender[0]: must be a mapping, got 5"),
    ("cache:\n  prerender: [{text: [a]}]\n", "cache.prerender[0].text: must be text, got list"),
    ("cache:\n  disk_mb: -1\n", "cache.disk_mb: must be between 0 and 1000000, got -1"),
    ("cache:\n  prerender_home_assistant: yes please\n",
     "cache.prerender_home_assistant: must be true or false"),
])
def test_bad_cache_settings_name_the_key(tmp_path, yaml_text, message):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, yaml_text))
    assert message in str(err.value)


# -- Home Assistant's responses --------------------------------------------------------------


def test_home_assistant_fixed_responses_are_real_and_never_templates():
    english = home_assistant_responses("en-us")
    assert {"Done", "Sorry, I couldn't understand that", "Turned on the lights", "Timer cancelled",
            "An unexpected error occurred"} <= set(english)
    assert set(english) <= package_responses("en")  # verbatim from the package
    assert not [t for t in english if "{" in t or "}" in t or not t.strip()]
    assert not [t for t in package_responses("en") - set(english) if "{" not in t and t]
    assert len(english) == len(set(english))
    assert home_assistant_responses("en_US") == home_assistant_responses("en-gb") == english


@pytest.mark.parametrize(("ours", "theirs"), [("ja", "ja"), ("fr_FR", "fr"), ("pt-br", "pt-BR"),
                                              ("zh", "zh-CN")])
def test_each_of_our_languages_reads_its_own_responses(ours, theirs):
    texts = home_assistant_responses(ours)
    assert texts and set(texts) <= package_responses(theirs)


def test_a_language_home_assistant_lacks_yields_nothing():
    assert home_assistant_responses("klingon") == []


def test_the_plan_puts_configured_phrases_first_and_drops_duplicates():
    cache = CacheConfig(prerender_home_assistant=True, prerender=(
        PrerenderPhrase("Done"), PrerenderPhrase("Hello  there."),
        PrerenderPhrase("Hello there."), PrerenderPhrase("Done", "jm_kumo")))
    plan = prerender_phrases(cache, ["ja_JP", "en_US", "en_US"])
    assert plan[:3] == [Phrase("Done", None, "cache.prerender[0]"),
                        Phrase("Hello  there.", None, "cache.prerender[1]"),
                        Phrase("Done", "jm_kumo", "cache.prerender[3]")]
    ha = [p.text for p in plan[3:]]
    assert all(p.source == HOME_ASSISTANT and p.voice is None for p in plan[3:])
    assert "Done" not in ha and "Turned on the lights" in ha
    assert set(home_assistant_responses("ja")) <= set(ha)  # the voice's languages, both
    assert len(plan) == len({(" ".join(p.text.split()), p.voice) for p in plan})
    assert prerender_phrases(cache, ["ja_JP", "en_US"]) == plan  # deterministic
    assert prerender_phrases(CacheConfig(prerender=cache.prerender), ["en_US"]) == plan[:3]


def test_without_the_package_home_assistant_phrases_are_skipped_with_one_line(monkeypatch,
                                                                             caplog):
    monkeypatch.setitem(sys.modules, "home_assistant_intents", None)  # import fails
    assert home_assistant_responses("en-us") is None
    cache = CacheConfig(prerender_home_assistant=True, prerender=(PrerenderPhrase("Hi."),))
    with caplog.at_level(logging.INFO):
        assert prerender_phrases(cache, ["ja_JP", "en_US"]) == [
            Phrase("Hi.", None, "cache.prerender[0]")]
    assert caplog.text.count("home-assistant-intents package is not installed") == 1


# -- the background run ----------------------------------------------------------------------


class FakeService:
    """Renders by recording; a phrase is cached once rendered (or when seeded so)."""

    def __init__(self, cached=(), fail=(), block=()) -> None:
        self.cache = set(cached)
        self.fail = set(fail)
        self.block = set(block)
        self.rendered: list[tuple[str, str | None]] = []
        self.cancelled: list[str] = []
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def render(self, text: str, voice: str | None) -> None:
        self.started.set()
        if text in self.fail:
            raise ValueError(f"unknown voice {voice!r}")
        if text in self.block:
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                self.cancelled.append(text)
                raise
        await asyncio.sleep(0)
        self.rendered.append((text, voice))
        self.cache.add(text)

    async def cached(self, text: str, voice: str | None) -> bool:
        return text in self.cache


def phrases(*texts: str) -> list[Phrase]:
    return [Phrase(t, "jf_alpha" if t.startswith("v:") else None, f"test[{i}]")
            for i, t in enumerate(texts)]


def test_cached_phrases_are_skipped_and_the_rest_rendered_in_order():
    async def scenario():
        service = FakeService(cached={"b"})
        prerenderer = Prerenderer(service.render, service.cached)
        await prerenderer.start(phrases("a", "b", "v:c", "a"))
        progress = await prerenderer.wait()
        return service, progress, prerenderer.running

    service, progress, running = asyncio.run(scenario())
    assert service.rendered == [("a", None), ("v:c", "jf_alpha")]
    assert (progress.total, progress.rendered, progress.skipped, progress.failed) == (4, 2, 2, 0)
    assert progress.done and not running


def test_a_failing_phrase_is_logged_and_the_run_goes_on(caplog):
    async def scenario():
        service = FakeService(fail={"b"})
        prerenderer = Prerenderer(service.render, service.cached)
        await prerenderer.start(phrases("a", "b", "c"))
        return service, await prerenderer.wait()

    with caplog.at_level(logging.WARNING):
        service, progress = asyncio.run(scenario())
    assert [t for t, _ in service.rendered] == ["a", "c"] and progress.failed == 1
    assert "Prerendering 'b' (test[1]) failed: unknown voice None" in caplog.text


def test_a_cancelled_run_stops_in_the_middle_of_a_phrase():
    async def scenario():
        service = FakeService(block={"b"})
        prerenderer = Prerenderer(service.render, service.cached)
        await prerenderer.start(phrases("a", "b", "c"))
        await asyncio.sleep(0.01)  # "a" is rendered, "b" is under way
        await prerenderer.cancel()
        service.release.set()
        await asyncio.sleep(0.01)
        return service, prerenderer.progress, prerenderer.running

    service, progress, running = asyncio.run(scenario())
    assert [t for t, _ in service.rendered] == ["a"] and service.cancelled == ["b"]
    assert not progress.done and not running


def test_a_restart_replaces_the_run_under_way():
    async def scenario():
        service = FakeService(block={"b"})
        prerenderer = Prerenderer(service.render, service.cached)
        await prerenderer.start(phrases("a", "b", "c"))
        await asyncio.sleep(0.01)
        await prerenderer.start(phrases("a", "d"))  # a model swap: a new list
        return service, await prerenderer.wait()

    service, progress = asyncio.run(scenario())
    assert [t for t, _ in service.rendered] == ["a", "d"] and service.cancelled == ["b"]
    assert (progress.total, progress.rendered, progress.skipped, progress.done) == (2, 1, 1, True)


def test_a_paused_run_waits_until_resumed():
    async def scenario():
        service = FakeService()
        prerenderer = Prerenderer(service.render, service.cached)
        prerenderer.pause()
        await prerenderer.start(phrases("a", "b"))
        await asyncio.sleep(0.02)
        before = list(service.rendered)
        prerenderer.resume()
        await prerenderer.wait()
        return before, service.rendered, prerenderer.paused

    before, after, paused = asyncio.run(scenario())
    assert before == [] and [t for t, _ in after] == ["a", "b"] and not paused


def test_without_a_cache_check_every_phrase_is_rendered():
    async def scenario():
        service = FakeService()
        prerenderer = Prerenderer(service.render)
        await prerenderer.start(phrases("a", "a"))
        return service, await prerenderer.wait()

    service, progress = asyncio.run(scenario())
    assert len(service.rendered) == 2 and progress.rendered == 2


def test_an_empty_list_is_done_at_once():
    async def scenario():
        prerenderer = Prerenderer(FakeService().render)
        await prerenderer.start([])
        return prerenderer.running, await prerenderer.wait()

    running, progress = asyncio.run(scenario())
    assert not running and progress.done and progress.total == 0
