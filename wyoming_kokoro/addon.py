"""Home Assistant add-on entry point: add-on options -> ``wyoming-kokoro`` arguments.

The Supervisor writes the options the user set (``addon/config.yaml`` schema) to
``/data/options.json``. This module validates them, seeds the user's ``config.yaml`` in the
add-on config folder (``/config`` in the container, ``addon_configs/<slug>`` on the host; the
server reloads it while running) from the documented default, and execs the server::

    python -m wyoming_kokoro.addon [--dry-run] [extra wyoming-kokoro flags]

What the server builds and caches (the English lexicon's tries, the disk tier of the phrase
cache) goes to ``/data/cache``: the add-on's persistent storage, so cached replies survive add-on
updates and host reboots (``addon/config.yaml`` keeps that folder out of backups).

The page also opens from Home Assistant's sidebar (ingress): the server always listens on
``0.0.0.0:8099`` for the Supervisor's ingress proxy (172.30.32.2), which alone may connect
there and needs no token; the ``http_api`` port stays optional, with its token. The page offers
the bundles in ``models/`` of the add-on config folder for a model switch.

Paths can be overridden by environment variables (tests, custom images): ``KOKORO_ADDON_OPTIONS``,
``KOKORO_ADDON_CONFIG_DIR``, ``KOKORO_BUNDLE`` (empty: the embedded model), ``KOKORO_CACHE_DIR``
(empty: the server's default), ``KOKORO_URI``, ``KOKORO_HTTP`` (the HTTP API's ``HOST:PORT``),
``KOKORO_INGRESS`` (the ingress listener's ``HOST:PORT``; empty: none) and
``KOKORO_INGRESS_PROXY`` (the trusted proxy). The HTTP token reaches the server in its
environment, never on its command line (which is logged and visible to ``ps``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from .config import HTTP_TOKEN_ENV, ConfigError, check_value, show_value
from .fsutil import write_atomic

_LOGGER = logging.getLogger("wyoming_kokoro.addon")

OPTIONS_FILE = Path("/data/options.json")
CONFIG_DIR = Path("/config")
BUNDLE = Path("/opt/kokoro/model")
CACHE_DIR = Path("/data/cache")
URI = "tcp://0.0.0.0:10200"
HTTP = "0.0.0.0:8880"
CONFIG_KEYS = {"speed": "audio.speed", "backend": "model.backend", "threads": "model.threads",
               "debug": "debug", "http_api": "http.enabled"}
"""Options that set a config key, validated by that key's rules (config.py)."""
INGRESS = "0.0.0.0:8099"  # addon/config.yaml ingress_port; reachable on the add-on network only
INGRESS_PROXY = "172.30.32.2"  # the Supervisor, which forwards Home Assistant's ingress
BUNDLES = "models"  # in the add-on config folder: bundles the web page can switch to
_VOICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

SEED_HEADER = """\
# wyoming-kokoro add-on configuration, reloaded while the add-on runs (no restart needed).
# The add-on options override default_voice (voice), audio.speed (speed), model.backend
# (backend), model.threads (threads), debug (debug) and, when http_api is on, the http section
# (0.0.0.0:8880, token http_token). Clear the voice option to use default_voice, e.g. a blend
# from mixes. The model bundle, the Wyoming listen address and the ingress listener (http.
# ingress_port, trusted_proxies) are set by the add-on; model.bundles_dir is the models folder
# beside this file (bundles there can be chosen on the web page).
# Delete this file to get the defaults back on the next start.
#
"""


class AddonError(ValueError):
    """An add-on option is invalid; the message names the option and the reason."""


@dataclass(frozen=True)
class AddonOptions:
    """The add-on's options, with the defaults of ``addon/config.yaml``. ``voice`` is optional:
    unset, the server uses ``default_voice`` from config.yaml (which may name a blend)."""

    voice: str | None = "af_heart"
    speed: float = 1.0
    backend: str = "onnx"
    threads: int = 0
    debug: bool = False
    http_api: bool = False
    http_token: str | None = field(default=None, repr=False)  # a secret: never printed


def parse_options(data: Mapping[str, Any]) -> AddonOptions:
    """Validate options.json content. A missing ``voice`` means "use config.yaml's
    default_voice"; other missing options take their defaults."""
    if not isinstance(data, Mapping):
        raise AddonError(f"options: must be a JSON object, got {type(data).__name__}")
    known = {f.name for f in fields(AddonOptions)}
    for key in data:
        if key not in known:
            _LOGGER.warning("Ignoring unknown add-on option '%s'", key)
    defaults = AddonOptions()
    values = {key: data.get(key, getattr(defaults, key)) for key in known}
    voice = data.get("voice")
    if voice is not None and (not isinstance(voice, str) or not _VOICE.match(voice)):
        raise AddonError(f"voice: must be a voice name such as af_heart, got {show_value(voice)}")
    try:  # the server's own limits, so the two never disagree
        for option, key in CONFIG_KEYS.items():
            values[option] = check_value(key, values[option], name=option)
    except ConfigError as err:
        raise AddonError(str(err)) from None
    token = values["http_token"]
    if token is not None and not isinstance(token, str):
        raise AddonError("http_token: must be text")
    token = token.strip() if token else None
    if values["http_api"] and not token:
        raise AddonError("http_token: required when http_api is on, because the HTTP API then "
                         "listens on your network; set it to a long random string")
    return AddonOptions(voice=voice, speed=values["speed"], backend=values["backend"],
                        threads=values["threads"], debug=values["debug"],
                        http_api=values["http_api"], http_token=token)


def load_options(path: Path) -> AddonOptions:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise AddonError(f"{path}: no add-on options file (the Supervisor writes it when the "
                         f"add-on starts)") from err
    except (OSError, ValueError) as err:
        raise AddonError(f"{path}: unreadable add-on options: {err}") from err
    return parse_options(data)


def server_args(options: AddonOptions, *, uri: str = URI, bundle: Path | None = BUNDLE,
                config: Path | None = None, http: str = HTTP,
                cache_dir: Path | None = CACHE_DIR, ingress: str | None = INGRESS,
                ingress_proxy: str = INGRESS_PROXY,
                bundles_dir: Path | None = None) -> list[str]:
    """The ``wyoming-kokoro`` flags for these options (the HTTP token is not one of them:
    see :func:`server_env`)."""
    args = ["--uri", uri]
    if bundle is not None:
        args += ["--bundle", str(bundle)]
    if config is not None:
        args += ["--config", str(config)]
    if cache_dir is not None:
        args += ["--cache-dir", str(cache_dir)]
    if bundles_dir is not None:
        args += ["--bundles-dir", str(bundles_dir)]
    if ingress:
        args += ["--ingress", ingress, "--trusted-proxy", ingress_proxy]
    if options.voice is not None:
        args += ["--voice", options.voice]
    args += ["--speed", f"{options.speed:g}", "--backend", options.backend,
             "--threads", str(options.threads)]
    if options.debug:
        args.append("--debug")
    if options.http_api:
        args += ["--http", http]
    return args


def server_env(options: AddonOptions, base: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: ``base`` with the HTTP token set, or removed when the HTTP API
    is off (so a token left in the container's environment cannot switch on auth by surprise)."""
    env = {k: v for k, v in base.items() if k != HTTP_TOKEN_ENV}
    if options.http_api and options.http_token:
        env[HTTP_TOKEN_ENV] = options.http_token
    return env


def default_config() -> str:
    """The documented default config.yaml (packaged in the wheel; the repo's in a checkout)."""
    packaged = resources.files(__package__) / "default_config.yaml"
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parent.parent / "config.yaml").read_text(encoding="utf-8")


def seed_config(config_dir: Path) -> Path | None:
    """``config_dir/config.yaml``, written from the default if absent; None if it cannot be."""
    path = config_dir / "config.yaml"
    if path.is_file():
        return path
    try:
        config_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(path, [(SEED_HEADER + default_config()).encode("utf-8")])
    except OSError as err:
        _LOGGER.warning("Cannot write the default config to %s (%s); running without a config "
                        "file", path, err.strerror or err)
        return None
    _LOGGER.info("Wrote the default configuration to %s", path)
    return path


def bundles_folder(config_dir: Path) -> Path:
    """``models/`` in the add-on config folder, created so a user finds where bundles go."""
    folder = config_dir / BUNDLES
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        _LOGGER.warning("Cannot create %s (%s); the web page lists no bundles from there",
                        folder, err.strerror or err)
    return folder


def command(options: AddonOptions, extra: list[str]) -> list[str]:
    """The full server command line, from the options and the environment."""
    config_dir = Path(os.environ.get("KOKORO_ADDON_CONFIG_DIR") or CONFIG_DIR)
    bundle = os.environ.get("KOKORO_BUNDLE", str(BUNDLE))
    cache_dir = os.environ.get("KOKORO_CACHE_DIR", str(CACHE_DIR))
    args = server_args(options, uri=os.environ.get("KOKORO_URI") or URI,
                       bundle=Path(bundle) if bundle else None, config=seed_config(config_dir),
                       http=os.environ.get("KOKORO_HTTP") or HTTP,
                       cache_dir=Path(cache_dir) if cache_dir else None,
                       ingress=os.environ.get("KOKORO_INGRESS", INGRESS),
                       ingress_proxy=os.environ.get("KOKORO_INGRESS_PROXY") or INGRESS_PROXY,
                       bundles_dir=bundles_folder(config_dir))
    return [sys.executable, "-m", "wyoming_kokoro", *args, *extra]


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    extra = list(sys.argv[1:] if argv is None else argv)
    dry_run = "--dry-run" in extra
    extra = [a for a in extra if a != "--dry-run"]
    options_path = Path(os.environ.get("KOKORO_ADDON_OPTIONS") or OPTIONS_FILE)
    try:
        options = load_options(options_path)
    except AddonError as err:
        _LOGGER.error("Invalid add-on option: %s", err)
        return 2
    cmd = command(options, extra)
    if dry_run:
        print(json.dumps(cmd))
        return 0
    _LOGGER.info("Starting %s", " ".join(cmd[1:]))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(cmd[0], cmd, server_env(options, os.environ))
    return 0  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main())
