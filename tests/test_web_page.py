"""The web page in headless Chromium (Debian's chromium, driven by Playwright's Python driver)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .httpapi import TOKEN

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="chromium is not installed (.ci/run installs it)")

PLAYABLE = """() => {
  const audio = document.querySelector('#player');
  return audio.src.startsWith('blob:') && audio.readyState >= 1 && audio.duration > 0.5;
}"""


def test_the_web_page_composes_a_blend_speaks_it_and_plays_the_audio(http_server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 860})
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.goto(f"{http_server.http}/")
            page.wait_for_function(
                "document.querySelector('#model').textContent.includes('onnx on cpu')")
            page.wait_for_function("document.querySelectorAll('#blend select').length === 1")
            assert page.input_value("#voice") == "jf_alpha"
            options = page.eval_on_selector_all("#blend select option", "o => o.map(x => x.value)")
            assert {"jf_alpha", "jm_kumo", "narrator"} <= set(options)

            page.click("#add-voice")
            rows = page.locator("#blend .blend-row")
            rows.nth(1).locator("select").select_option("jm_kumo")
            rows.nth(0).locator("input").fill("2")
            assert page.input_value("#voice") == "jf_alpha(2)+jm_kumo(1)"

            page.fill("#text", "Good morning. The coffee is ready and the kitchen lights are on.")
            page.click("#speak")
            page.wait_for_function(PLAYABLE, timeout=120_000)
            assert "first byte" in page.inner_text("#message")
            assert page.evaluate("document.querySelector('#player').duration") > 2.0
            assert page.get_attribute("#download", "download") == "speech.mp3"

            page.click("#reload")  # without the token: refused, and the page says why
            page.wait_for_function("document.querySelector('#notice').textContent"
                                   ".includes('refused')")
            assert "bearer token" in page.inner_text("#notice")
            page.fill("#token", TOKEN)
            page.click("#reload")
            page.wait_for_function("document.querySelector('#notice').textContent"
                                   ".includes('config reload: nothing changed')")

            page.fill("#text", "Good evening.")
            page.fill("#voice", "jf_alpha(2)+")
            page.click("#speak")
            page.wait_for_function("document.querySelector('#message').className"
                                   ".includes('bad')")
            assert "malformed voice blend" in page.inner_text("#message")

            page.fill("#voice", "jf_alpha(2)+jm_kumo(1)")
            page.click("#speak")
            page.wait_for_function("document.querySelector('#message').className"
                                   ".includes('good')", timeout=120_000)
            page.wait_for_function(PLAYABLE, timeout=120_000)
            assert rows.count() == 2  # the hand-written blend shows in the rows
            assert rows.nth(0).locator("input").input_value() == "2"
            assert rows.nth(1).locator("select").input_value() == "jm_kumo"
            page.screenshot(path=str(ARTIFACTS / "web-page.png"), full_page=True)
        finally:
            browser.close()
    assert not errors


def test_the_phoneme_view_marks_hits_and_plays_the_edited_phonemes(http_server, whisper):
    from playwright.sync_api import sync_playwright

    from .asr import normalize

    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 860})
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.goto(f"{http_server.http}/#phonemes")
            page.wait_for_function("document.querySelectorAll('#blend select').length === 1")
            page.fill("#phoneme-text", "[Kokoro](/kˈOkəɹO/) is on. I would like a pear.")
            page.click("#show-phonemes")
            page.wait_for_function("document.querySelectorAll('#readings li').length === 2")
            assert page.inner_text("#readings li:first-child mark") == "Kokoro"
            pear = page.input_value("#phonemes-1")
            assert "pˈɛɹ" in pear
            banana = "bənˈænə"
            page.fill("#phonemes-1", pear.replace("pˈɛɹ", banana))
            page.click("#play-phonemes")
            page.wait_for_function(
                "document.querySelector('#phoneme-player').duration > 1"
                " || document.querySelector('#phoneme-message').className.includes('bad')",
                timeout=120_000)
            message = page.inner_text("#phoneme-message")
            assert "bad" not in page.get_attribute("#phoneme-message", "class"), message
            wav = page.evaluate("""async () => {
                const r = await fetch(document.querySelector('#phoneme-player').src);
                return Array.from(new Uint8Array(await r.arrayBuffer()));
            }""")
            page.screenshot(path=str(ARTIFACTS / "web-phonemes.png"), full_page=True)
        finally:
            browser.close()
    assert not errors
    heard = normalize(whisper(bytes(wav[44:]), 24000))
    assert "banana" in heard and "pear" not in heard, heard
