"""Typed, validated, immutable configuration snapshots.

A :class:`Config` is built whole from YAML (plus CLI overrides) and never mutated: a reload builds
a new snapshot and swaps it in one assignment, so work in flight keeps the snapshot it started with.
Validation errors name the key path and the reason, e.g.
``voices.jf_alpha.speed: must be between 0.5 and 2.0, got 5``.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import ipaddress
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml

from .text.language import LANGUAGES
from .text.normalize import SWITCHES, NormalizeOptions


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the key path and the reason."""


def _opt(default: Any = None, *, doc: str = "", lo: float | None = None,
         hi: float | None = None, choices: tuple[str, ...] | None = None) -> Any:
    meta = {"doc": doc, "lo": lo, "hi": hi, "choices": choices}
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ServerConfig:
    uri: str = _opt("tcp://0.0.0.0:10200", doc="where the Wyoming server listens")
    zeroconf: bool = _opt(False, doc="advertise the server over mDNS as _wyoming._tcp")
    zeroconf_name: str | None = _opt(None, doc="mDNS service name (default kokoro-<hostname>)")
    watch_config: bool = _opt(True, doc="reload the config file when it changes")


@dataclass(frozen=True)
class ModelConfig:
    backend: str = _opt("onnx", doc="inference backend", choices=("onnx", "torch"))
    bundle: Path | None = _opt(None, doc="model bundle directory; empty = embedded default")
    bundles_dir: Path | None = _opt(
        None, doc="folder whose bundles the web page offers; empty = the bundle's parent folder")
    cache_dir: Path | None = _opt(
        None, doc="where the embedded model is assembled and the English lexicon cached")
    device: str = _opt("auto", doc="torch device", choices=("auto", "cpu", "cuda", "mps"))
    threads: int = _opt(0, doc="inference threads per worker, 0 = all cores", lo=0, hi=256)


@dataclass(frozen=True)
class VoiceSettings:
    language: str | None = _opt(None, doc="language code", choices=tuple(LANGUAGES))
    speed: float = _opt(1.0, doc="speaking rate", lo=0.5, hi=2.0)
    volume: float = _opt(1.0, doc="gain applied to the audio", lo=0.0, hi=4.0)
    description: str | None = _opt(None, doc="name shown in Home Assistant")


def _switches(name: str, overrides: bool) -> type:
    """The normalization switches (text.normalize.SWITCHES) as config fields: with their
    defaults, or as overrides that are all None (= not overridden)."""
    return dataclasses.make_dataclass(name, [
        (s.name, (s.type | None) if overrides else s.type,
         _opt(None if overrides else s.default, doc=s.doc, choices=s.choices))
        for s in SWITCHES], frozen=True)


@dataclass(frozen=True)
class NormalizeRules(_switches("NormalizeSwitchOverrides", overrides=True)):  # type: ignore[misc]
    """Per-language overrides of the normalization switches; empty = as in text.normalize."""


@dataclass(frozen=True)
class NormalizeConfig(_switches("NormalizeSwitches", overrides=False)):  # type: ignore[misc]
    """text.normalize: rewrite numbers, units, markdown ... as words before phonemizing."""

    languages: dict[str, NormalizeRules] = _opt(
        {}, doc="per-language overrides, keyed by language code", choices=tuple(LANGUAGES))

    def options(self, language: str) -> NormalizeOptions:
        """The switches for ``language``: these, with its overrides applied."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(NormalizeOptions)}
        if (override := self.languages.get(language)) is not None:
            values.update({k: v for k, v in dataclasses.asdict(override).items()
                           if v is not None})
        return NormalizeOptions(**values)


@dataclass(frozen=True)
class TextConfig:
    fallback_language: str = _opt(
        "en-us", doc="language for text whose script the voice's language cannot read",
        choices=tuple(LANGUAGES))
    max_chars: int = _opt(100_000, doc="longest text accepted in one request", lo=1)
    quick_start: bool = _opt(True, doc="speak a reply's first phrase as soon as it is ready")
    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)


@dataclass(frozen=True)
class AudioConfig:
    speed: float = _opt(1.0, doc="speaking rate for every voice (times the voice's own)",
                        lo=0.5, hi=2.0)
    sentence_silence: float = _opt(0.1, doc="seconds of silence after each sentence", lo=0, hi=10)
    leading_silence: float = _opt(0.0, doc="seconds of silence before the first sentence",
                                  lo=0, hi=10)
    trailing_silence: float = _opt(0.0, doc="seconds of silence after the last sentence",
                                   lo=0, hi=10)
    samples_per_chunk: int = _opt(1024, doc="samples per audio-chunk event", lo=64, hi=96000)


@dataclass(frozen=True)
class LimitsConfig:
    workers: int = _opt(1, doc="pieces synthesized at the same time", lo=1, hi=64)
    queue: int = _opt(16, doc="requests in progress at once; more are refused", lo=1,
                      hi=10_000)
    cache_mb: int = _opt(16, doc="memory for recently synthesized phrases, in MB", lo=0,
                         hi=4096)


@dataclass(frozen=True)
class PrerenderPhrase:
    """A phrase rendered in the background, so its first request is a cache hit; in config.yaml a
    plain string or ``{text: ..., voice: ...}``."""

    text: str = _opt("", doc="the phrase, as a client would send it")
    voice: str | None = _opt(None, doc="voice or blend it is spoken in; empty = default_voice")

    @classmethod
    def from_config(cls, value: Any, path: str) -> PrerenderPhrase:
        phrase = build(cls, {"text": value} if isinstance(value, str) else value, path)
        if not phrase.text.strip():
            where = path if isinstance(value, str) else f"{path}.text"
            raise ConfigError(f"{where}: a phrase to prerender must have some text")
        return phrase


@dataclass(frozen=True)
class CacheConfig:
    """The phrase cache's disk tier and prerendering (limits.cache_mb is the memory tier)."""

    disk_mb: int = _opt(200, doc="disk space for synthesized phrases, in MB; 0 = off", lo=0,
                        hi=1_000_000)
    prerender: tuple[PrerenderPhrase, ...] = _opt(
        (), doc="phrases rendered in the background after start, a model swap or a reload")
    prerender_home_assistant: bool = _opt(
        False, doc="prerender Home Assistant's fixed responses (home-assistant-intents)")


HTTP_TOKEN_ENV = "WYOMING_KOKORO_HTTP_TOKEN"


@dataclass(frozen=True)
class HttpConfig:
    """The HTTP API (control, OpenAI-compatible speech, web page); off unless enabled."""

    enabled: bool = _opt(False, doc="serve the HTTP API and the web page")
    host: str = _opt("127.0.0.1", doc="address the HTTP server binds to")
    port: int = _opt(8880, doc="HTTP port", lo=0, hi=65535)
    token: str | None = field(default=None, repr=False, metadata={  # a secret: never printed
        "doc": "bearer token for the protected endpoints", "lo": None, "hi": None,
        "choices": None})
    auth: str = _opt("mutating", doc="what the token protects", choices=("mutating", "all"))
    trusted_proxies: tuple[str, ...] = _opt(
        (), doc="proxy addresses or networks whose X-Ingress-Path is honoured; on the ingress "
                "port the only ones let in")
    ingress_port: int | None = _opt(
        None, doc="Home Assistant ingress listener (no token, trusted_proxies only); empty = off",
        lo=0, hi=65535)
    ingress_host: str = _opt("0.0.0.0", doc="address the ingress listener binds to")

    def __post_init__(self) -> None:
        if self.enabled and not self.token and not is_loopback(self.host):
            raise ConfigError(f"http.host: refusing to serve the HTTP API on {self.host!r} "
                              f"without a token; set http.token (or ${HTTP_TOKEN_ENV}) or "
                              f"bind to 127.0.0.1")
        for i, proxy in enumerate(self.trusted_proxies):
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ConfigError(f"http.trusted_proxies[{i}]: not an IP address or network "
                                  f"(such as 172.30.32.2 or 172.30.32.0/23), got {proxy!r}"
                                  ) from None
        if self.ingress_port is not None:
            if not self.trusted_proxies:
                raise ConfigError("http.ingress_port: the ingress listener lets in only "
                                  "http.trusted_proxies, and none is set (Home Assistant's "
                                  "ingress proxy is 172.30.32.2)")
            if self.enabled and self.ingress_port == self.port != 0:
                raise ConfigError(f"http.ingress_port: {self.ingress_port} is http.port too; "
                                  f"the ingress listener needs a port of its own")

    def trusts(self, address: str | None) -> bool:
        """Whether ``address`` (a peer's IP) is one of ``trusted_proxies``."""
        return is_trusted(address, self.trusted_proxies)


def is_trusted(address: str | None, proxies: tuple[str, ...]) -> bool:
    if not address or not proxies:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d
    return any(ip in network for network in _networks(proxies))


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network,
                                                 ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name or "" (all interfaces)


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    default_voice: str = _opt("jf_alpha", doc="voice used when a request names none")
    voices: dict[str, VoiceSettings] = _opt({}, doc="per-voice settings")
    mixes: dict[str, str] = _opt({}, doc="named voice blends")
    text: TextConfig = field(default_factory=TextConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    debug: bool = _opt(False, doc="verbose logging")

    def voice_settings(self, name: str) -> VoiceSettings:
        return self.voices.get(name) or _DEFAULT_VOICE_SETTINGS

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)


_DEFAULT_VOICE_SETTINGS = VoiceSettings()


# --------------------------------------------------------------------------------------------
# Loading and validation


def load_config(path: Path | None = None, overrides: Mapping[str, Any] | None = None) -> Config:
    """Read YAML (if a path is given), apply nested overrides, validate; raise ConfigError."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"{path}: cannot read config file: {err.strerror or err}") from err
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: invalid YAML: {err}") from err
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of sections, "
                              f"got {type(loaded).__name__}")
        data = loaded
    if overrides:
        data = merge(data, overrides)
    return build(Config, data)


def merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``overrides`` onto ``base`` (mappings merge, everything else replaces)."""
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def build(cls: type, data: Any, path: str = "") -> Any:
    """Build dataclass ``cls`` from plain data, validating every field."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path or 'config'}: must be a mapping, got {_show(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        key_path = f"{path}.{key}" if path else str(key)
        if key not in fields:
            hint = difflib.get_close_matches(str(key), list(fields), n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ConfigError(f"{key_path}: unknown key{suggestion}; "
                              f"known keys: {', '.join(fields)}")
        f = fields[key]
        kwargs[key] = _convert(value, hints[key], key_path, f.metadata)
    return cls(**kwargs)


def _convert(value: Any, typ: Any, path: str, meta: Mapping[str, Any]) -> Any:
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if (value is None or value == "") and type(None) in args:
            return None
        return _convert(value, inner[0], path, meta)
    if dataclasses.is_dataclass(typ):
        if hasattr(typ, "from_config"):  # a type with a shorthand form of its own
            return typ.from_config(value, path)
        return build(typ, value, path)
    if origin is tuple:  # a list in YAML
        if value is None:
            return ()
        if not isinstance(value, list):
            raise ConfigError(f"{path}: must be a list, got {_show(value)}")
        return tuple(_convert(item, args[0], f"{path}[{i}]", {}) for i, item in enumerate(value))
    if origin is dict:
        value_type = args[1]
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"{path}: must be a mapping, got {_show(value)}")
        keys = meta.get("choices")  # for a mapping: the keys it may have
        for k in value:
            if keys and k not in keys:
                raise ConfigError(f"{path}.{k}: unknown key; must be one of {', '.join(keys)}")
        return {str(k): _convert(v, value_type, f"{path}.{k}", {}) for k, v in value.items()}
    if typ is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{path}: must be true or false, got {_show(value)}")
    if typ in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{path}: must be a number, got {_show(value)}")
        if not math.isfinite(value):
            raise ConfigError(f"{path}: must be a finite number, got {value}")
        if typ is int and int(value) != value:
            raise ConfigError(f"{path}: must be a whole number, got {_show(value)}")
        value = typ(value)
        lo, hi = meta.get("lo"), meta.get("hi")
        if lo is not None and hi is not None and not lo <= value <= hi:
            raise ConfigError(f"{path}: must be between {lo} and {hi}, got {_show(value)}")
        if lo is not None and value < lo:
            raise ConfigError(f"{path}: must be at least {lo}, got {_show(value)}")
        return value
    if typ is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: must be text, got {_show(value)}")
        choices = meta.get("choices")
        if choices and value not in choices:
            hint = difflib.get_close_matches(value, choices, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ConfigError(f"{path}: must be one of {', '.join(choices)}, "
                              f"got {_show(value)}{suggestion}")
        return value
    if typ is Path:
        if not isinstance(value, (str, Path)):
            raise ConfigError(f"{path}: must be a path, got {_show(value)}")
        return Path(value).expanduser()
    raise TypeError(f"unsupported config type {typ!r} at {path}")  # pragma: no cover


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, bool)) or value is None:
        return str(value)
    return type(value).__name__
