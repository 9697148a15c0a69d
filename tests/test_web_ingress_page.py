"""The web page as Home Assistant shows it: below /api/hassio_ingress/<token>/, through a reverse
proxy from the trusted address, in headless Chromium (as test_web_page.py): speaking, switching
the model (a refusal, then a switch), live charts, phone and desktop widths, the keyboard."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from .httpapi import DAMAGED_BUNDLE, GOOD_BUNDLE, TRUSTED_PROXY, from_address
from .ingressproxy import IngressProxy
from .test_web_page import ARTIFACTS, CHROMIUM, FLAGS, PLAYABLE

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="chromium is not installed (.ci/run installs it)")

EMBEDDED = "kokoro-v1.0-int8-ja"
TEXT = "The front door is locked and the porch light is on."
# Chrome logs a failed fetch as a console error; the refused switch and reload are, on purpose.
EXPECTED_CONSOLE = "Failed to load resource: the server responded with a status of 422"

WATCH_LOADING = """() => {
  window.sawLoading = false;
  new MutationObserver(() => {
    if (!document.querySelector('#loading-card').hidden) window.sawLoading = true;
  }).observe(document.querySelector('#loading-card'), { attributes: true });
}"""


def active_model(server) -> str:
    return httpx.get(f"{server.http}/health").json()["model"]["name"]


def text_of(selector: str, *parts: str) -> str:
    condition = " && ".join(f"t.includes({p!r})" for p in parts)
    return f"(() => {{ const t = document.querySelector({selector!r}).textContent; " \
           f"return {condition}; }})()"


def choose_bundle(page, name: str) -> None:
    label = page.eval_on_selector(
        "#bundle", "(s, name) => [...s.options].find(o => o.text.startsWith(name + ' ')).text",
        name)
    page.select_option("#bundle", label=label)


def test_the_page_speaks_switches_the_model_and_charts_below_the_ingress_prefix(ingress_server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    proxy = IngressProxy(ingress_server.ingress, source=TRUSTED_PROXY)
    url = proxy.start()
    errors: list[str] = []
    console: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.on("pageerror", lambda err: errors.append(str(err)))
                page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)

                # Without the trailing slash the page's relative URLs would leave the prefix:
                # the <base href> from X-Ingress-Path keeps them below it.
                page.goto(url.rstrip("/"))
                page.wait_for_function(text_of("#model", "onnx on cpu"))
                page.goto(url)
                page.wait_for_function(text_of("#model", "onnx on cpu"))
                page.wait_for_function("document.querySelectorAll('#blend select').length === 1")
                assert page.is_hidden("#token")  # Home Assistant has logged the user in
                assert {"GET /health", "GET /voices"} <= set(proxy.forwarded)

                page.fill("#text", TEXT)
                page.click("#speak")
                page.wait_for_function(PLAYABLE, timeout=120_000)
                assert "POST /v1/audio/speech" in proxy.forwarded

                # The keyboard moves between the views (arrow keys on the tabs, in the tab
                # order: Speak, Phonemes, Model, Status; ArrowLeft wraps, Home goes back).
                page.focus("#tab-speak")
                for key, view in (("ArrowLeft", "status"), ("Home", "speak"),
                                  ("ArrowRight", "phonemes"), ("ArrowRight", "model")):
                    page.keyboard.press(key)
                    assert page.get_attribute(f"#tab-{view}", "aria-selected") == "true", key
                    assert page.evaluate("document.activeElement.id") == f"tab-{view}", key
                    assert page.is_visible(f"#view-{view}"), key
                assert page.is_hidden("#view-speak") and page.is_hidden("#view-phonemes")
                assert page.get_attribute("#tab-speak", "aria-selected") == "false"
                page.wait_for_function("document.querySelectorAll('#bundle option').length >= 3")
                assert page.input_value("#backend") == "onnx"
                assert "GET /model" in proxy.forwarded

                # A damaged bundle: refused with the reason, the old model keeps serving.
                page.evaluate(WATCH_LOADING)
                choose_bundle(page, DAMAGED_BUNDLE)
                page.click("#switch")
                page.wait_for_function(
                    "document.querySelector('#switch-message').className.includes('bad')",
                    timeout=180_000)
                refusal = page.inner_text("#switch-message")
                assert "sha256 mismatch" in refusal and f"still serving {EMBEDDED}" in refusal
                assert page.evaluate("window.sawLoading")  # progress showed while it loaded
                assert page.is_hidden("#loading-card")
                assert active_model(ingress_server) == EMBEDDED
                assert EMBEDDED in page.inner_text("#serving")

                # A good one: loaded beside the old model, then shown as the one serving.
                page.evaluate(WATCH_LOADING)
                choose_bundle(page, GOOD_BUNDLE)
                page.fill("#threads", "1")
                page.keyboard.press("Enter")  # the form submits from the keyboard too
                page.wait_for_selector("#loading-card", state="visible")
                page.screenshot(path=str(ARTIFACTS / "ingress-model-loading-1280.png"))
                page.wait_for_function(
                    "document.querySelector('#switch-message').className.includes('good')",
                    timeout=180_000)
                assert f"Switched to {GOOD_BUNDLE} · onnx on cpu" in page.inner_text(
                    "#switch-message")
                assert page.evaluate("window.sawLoading")
                page.wait_for_function(text_of("#serving", GOOD_BUNDLE))
                page.wait_for_function(text_of("#model", GOOD_BUNDLE))
                assert active_model(ingress_server) == GOOD_BUNDLE
                assert page.input_value("#threads") == "1"

                # "Reload config" says why an invalid file is refused.
                config = ingress_server.config_path.read_text()
                ingress_server.config_path.write_text(
                    config + "voices:\n  jf_alpha:\n    speed: 5\n")
                try:
                    page.click("#reload")
                    page.wait_for_function(text_of("#notice", "refused"), timeout=60_000)
                finally:
                    ingress_server.config_path.write_text(config)
                assert ("voices.jf_alpha.speed: must be between 0.5 and 2.0, got 5"
                        in page.inner_text("#notice"))
                assert "bad" in page.get_attribute("#notice", "class")
                assert active_model(ingress_server) == GOOD_BUNDLE  # the refusal changed nothing

                # The new model speaks.
                page.click("#tab-speak")
                page.evaluate("document.querySelector('#player').removeAttribute('src')")
                page.click("#speak")
                page.wait_for_function(PLAYABLE, timeout=120_000)

                page.click("#tab-status")
                assert page.url.endswith("#status")
                page.wait_for_function(
                    "document.querySelectorAll('#chart-first circle.point').length > 0 && "
                    "document.querySelectorAll('#chart-rtf circle.point').length > 0 && "
                    "document.querySelectorAll('#chart-cache circle.point').length > 0")
                assert page.get_attribute("#chart-first path.series", "d").startswith("M")
                assert "p50" in page.get_attribute("#chart-first", "aria-label")
                tiles = page.inner_text("#tiles")
                assert "model swaps ok / failed" in tiles and "reloads ok / failed" in tiles
                stats = httpx.get(f"{ingress_server.http}/stats").json()
                assert stats["model_swaps"]["ok"] >= 1 and stats["model_swaps"]["failed"] >= 1
                assert stats["reloads"]["failed"] >= 1
                page.screenshot(path=str(ARTIFACTS / "ingress-status-1280.png"), full_page=True)

                page.set_viewport_size({"width": 360, "height": 780})
                page.wait_for_timeout(400)  # the charts redraw for the new width
                for view in ("status", "model", "speak"):
                    page.click(f"#tab-{view}")
                    assert page.evaluate("document.documentElement.scrollWidth") <= 360, view
                    page.screenshot(path=str(ARTIFACTS / f"ingress-{view}-360.png"),
                                    full_page=True)
                page.click("#tab-model")
                page.set_viewport_size({"width": 1280, "height": 900})
                page.screenshot(path=str(ARTIFACTS / "ingress-model-1280.png"), full_page=True)
            finally:
                browser.close()
    finally:
        proxy.stop()
        with from_address(TRUSTED_PROXY, timeout=180) as client:  # the embedded model again
            client.post(f"{ingress_server.ingress}/model", json={"bundle": None, "threads": 0})
    assert not errors
    assert all(EXPECTED_CONSOLE in line for line in console), console
