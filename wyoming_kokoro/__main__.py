"""Command line: flags -> Config -> App. The only module that knows argparse."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any

from . import __version__
from .config import HTTP_TOKEN_ENV, Config, ConfigError, load_config
from .memory import hand_back_large_blocks
from .model.bundle import BundleError

_LOGGER = logging.getLogger("wyoming_kokoro")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="wyoming-kokoro",
        description="Kokoro-82M text to speech over the Wyoming protocol. Flags override the "
                    "config file.")
    parser.add_argument("--config", type=Path, help="YAML config file (see config.yaml)")
    parser.add_argument("--uri", help="listen address, e.g. tcp://0.0.0.0:10200")
    parser.add_argument("--zeroconf", nargs="?", const="", metavar="NAME",
                        help="advertise over mDNS as _wyoming._tcp (optionally under NAME)")
    parser.add_argument("--voice", help="default voice")
    parser.add_argument("--speed", type=float, help="speaking rate for every voice (0.5 - 2.0)")
    parser.add_argument("--bundle", type=Path, help="model bundle directory (default: embedded)")
    parser.add_argument("--bundles-dir", type=Path,
                        help="folder of model bundles the web page offers to switch to")
    parser.add_argument("--backend", help="onnx or torch")
    parser.add_argument("--device", help="torch device: auto, cpu, cuda, mps")
    parser.add_argument("--threads", type=int, help="inference threads (0 = all cores)")
    parser.add_argument("--decoder",
                        help="onnx decoder: auto (the fastest here), int8, float or int8-static")
    parser.add_argument("--workers", type=int, help="sentences synthesized at the same time")
    parser.add_argument("--cache-dir", type=Path,
                        help="where the embedded model, the English lexicon and the phrase "
                             "cache live")
    parser.add_argument("--http", nargs="?", const="", metavar="[HOST:]PORT", type=_http_address,
                        help="serve the HTTP API and web page (default 127.0.0.1:8880); the "
                             f"token comes from http.token or ${HTTP_TOKEN_ENV}")
    parser.add_argument("--ingress", metavar="[HOST:]PORT", type=_ingress_address,
                        help="Home Assistant ingress listener: trusted proxies only, no token "
                             "(default host 0.0.0.0)")
    parser.add_argument("--trusted-proxy", action="append", metavar="ADDRESS",
                        help="a reverse proxy (IP or network) whose X-Ingress-Path is honoured "
                             "and that the ingress listener lets in (repeatable)")
    parser.add_argument("--debug", action="store_true", default=None, help="verbose logging")
    parser.add_argument("--version", action="version", version=__version__)
    return parser.parse_args(argv)


def _http_address(value: str) -> dict[str, Any]:
    """``PORT``, ``HOST:PORT`` or ``[V6]:PORT`` -> http overrides ("" -> just enabled)."""
    out: dict[str, Any] = {"enabled": True}
    if not value:
        return out
    host, sep, port = value.rpartition(":")
    if not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected [HOST:]PORT, got {value!r}")
    if sep:
        out["host"] = host.strip("[]")
    out["port"] = int(port)
    return out


def _ingress_address(value: str) -> dict[str, Any]:
    """``PORT`` or ``HOST:PORT`` -> http.ingress_* overrides."""
    address = _http_address(value)
    if "port" not in address:
        raise argparse.ArgumentTypeError(f"expected [HOST:]PORT, got {value!r}")
    out = {"ingress_port": address["port"]}
    if "host" in address:
        out["ingress_host"] = address["host"]
    return out


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Nested config overrides for the flags that were given."""
    pairs = {
        ("server", "uri"): args.uri,
        ("default_voice",): args.voice,
        ("audio", "speed"): args.speed,
        ("model", "bundle"): None if args.bundle is None else str(args.bundle),
        ("model", "bundles_dir"): None if args.bundles_dir is None else str(args.bundles_dir),
        ("model", "backend"): args.backend,
        ("model", "device"): args.device,
        ("model", "threads"): args.threads,
        ("model", "decoder"): args.decoder,
        ("model", "cache_dir"): None if args.cache_dir is None else str(args.cache_dir),
        ("limits", "workers"): args.workers,
        ("debug",): args.debug,
    }
    if args.zeroconf is not None:
        pairs[("server", "zeroconf")] = True
        pairs[("server", "zeroconf_name")] = args.zeroconf or None
    out: dict[str, Any] = {}
    for keys, value in pairs.items():
        if value is None and keys != ("server", "zeroconf_name"):
            continue
        node = out
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    if getattr(args, "http", None) is not None:
        out["http"] = dict(args.http)
    if getattr(args, "ingress", None) is not None:
        out.setdefault("http", {}).update(args.ingress)
    if getattr(args, "trusted_proxy", None):
        out.setdefault("http", {})["trusted_proxies"] = list(args.trusted_proxy)
    if token := os.environ.get(HTTP_TOKEN_ENV):  # keeps the secret off the command line
        out.setdefault("http", {})["token"] = token
    return out


def configure_logging(debug: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not debug:
        for noisy in ("jieba", "phonemizer", "numba", "watchfiles"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    # Nothing is downloaded at run time: should any library reach for the Hugging Face hub,
    # it fails at once instead of going to the network (read when huggingface_hub is imported).
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    hand_back_large_blocks()  # before anything large is allocated (the model, its sessions)
    args = parse_args(argv)
    configure_logging(bool(args.debug))
    overrides = overrides_from_args(args)
    try:
        config: Config = load_config(args.config, overrides)
    except ConfigError as err:
        _LOGGER.error("Invalid configuration: %s", err)
        return 2
    if config.debug:
        logging.getLogger().setLevel(logging.DEBUG)

    from .app import App  # heavy imports after the config is known to be valid

    app = App(config, args.config, overrides)
    try:
        asyncio.run(app.run())
    except (ConfigError, BundleError) as err:
        _LOGGER.error("Cannot start: %s", err)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
