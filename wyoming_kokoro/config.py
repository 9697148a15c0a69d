"""Typed, validated, immutable configuration snapshots.

A :class:`Config` is built whole from YAML (plus CLI overrides) and never mutated: a reload builds
a new snapshot and swaps it in one assignment, so work in flight keeps the snapshot it started with.
Validation errors name the key path and the reason, e.g.
``voices.jf_alpha.speed: must be between 0.5 and 2.0, got 5``.
"""

from __future__ import annotations

import dataclasses
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

from .suggest import did_you_mean
from .text.language import LANGUAGES
from .text.normalize import SWITCHES, NormalizeOptions
from .text.pronunciations import ALL, PronunciationError, check_entries


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the key path and the reason."""


def _opt(default: Any = None, *, lo: float | None = None, hi: float | None = None,
         choices: tuple[str, ...] | None = None) -> Any:
    """A field with its default and its limits: ``lo``/``hi`` for numbers, ``choices`` for text
    (for a mapping: the keys it may have). What each key means is documented in config.yaml."""
    meta = {"lo": lo, "hi": hi, "choices": choices}
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ServerConfig:
    uri: str = _opt("tcp://0.0.0.0:10200")
    zeroconf: bool = _opt(False)
    zeroconf_name: str | None = _opt(None)
    watch_config: bool = _opt(True)


@dataclass(frozen=True)
class ModelConfig:
    backend: str = _opt("onnx", choices=("onnx", "torch"))
    bundle: Path | None = _opt(None)
    bundles_dir: Path | None = _opt(None)
    cache_dir: Path | None = _opt(None)
    device: str = _opt("auto", choices=("auto", "cpu", "cuda", "mps"))
    threads: int = _opt(0, lo=0, hi=256)
    decoder: str = _opt("auto", choices=("auto", "int8", "float", "int8-static"))


@dataclass(frozen=True)
class VoiceSettings:
    language: str | None = _opt(None, choices=tuple(LANGUAGES))
    speed: float = _opt(1.0, lo=0.5, hi=2.0)
    volume: float = _opt(1.0, lo=0.0, hi=4.0)
    description: str | None = _opt(None)


def _switches(name: str, overrides: bool) -> type:
    """The normalization switches (text.normalize.SWITCHES) as config fields: with their
    defaults, or as overrides that are all None (= not overridden)."""
    return dataclasses.make_dataclass(name, [
        (s.name, (s.type | None) if overrides else s.type,
         _opt(None if overrides else s.default, choices=s.choices))
        for s in SWITCHES], frozen=True)


@dataclass(frozen=True)
class NormalizeRules(_switches("NormalizeSwitchOverrides", overrides=True)):  # type: ignore[misc]
    """Per-language overrides of the normalization switches; empty = as in text.normalize."""


@dataclass(frozen=True)
class NormalizeConfig(_switches("NormalizeSwitches", overrides=False)):  # type: ignore[misc]
    """text.normalize: rewrite numbers, units, markdown ... as words before phonemizing."""

    languages: dict[str, NormalizeRules] = _opt({}, choices=tuple(LANGUAGES))

    def options(self, language: str) -> NormalizeOptions:
        """The switches for ``language``: these, with its overrides applied."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(NormalizeOptions)}
        if (override := self.languages.get(language)) is not None:
            values.update({k: v for k, v in dataclasses.asdict(override).items()
                           if v is not None})
        return NormalizeOptions(**values)


@dataclass(frozen=True)
class TextConfig:
    fallback_language: str = _opt("en-us", choices=tuple(LANGUAGES))
    max_chars: int = _opt(100_000, lo=1)
    quick_start: bool = _opt(True)
    inline_phonemes: bool = _opt(True)
    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)


@dataclass(frozen=True)
class AudioConfig:
    speed: float = _opt(1.0, lo=0.5, hi=2.0)
    sentence_silence: float = _opt(0.1, lo=0, hi=10)
    leading_silence: float = _opt(0.0, lo=0, hi=10)
    trailing_silence: float = _opt(0.0, lo=0, hi=10)
    cap_silence: bool = _opt(True)
    samples_per_chunk: int = _opt(1024, lo=64, hi=96000)


@dataclass(frozen=True)
class LimitsConfig:
    workers: int = _opt(1, lo=1, hi=64)
    queue: int = _opt(16, lo=1, hi=10_000)
    cache_mb: int = _opt(16, lo=0, hi=4096)


@dataclass(frozen=True)
class PrerenderPhrase:
    """A phrase rendered in the background, so its first request is a cache hit; in config.yaml a
    plain string or ``{text: ..., voice: ...}``."""

    text: str = _opt("")
    voice: str | None = _opt(None)

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

    disk_mb: int = _opt(200, lo=0, hi=1_000_000)
    prerender: tuple[PrerenderPhrase, ...] = _opt(())
    prerender_home_assistant: bool = _opt(False)


HTTP_TOKEN_ENV = "WYOMING_KOKORO_HTTP_TOKEN"


@dataclass(frozen=True)
class HttpConfig:
    """The HTTP API (control, OpenAI-compatible speech, web page); off unless enabled."""

    enabled: bool = _opt(False)
    host: str = _opt("127.0.0.1")
    port: int = _opt(8880, lo=0, hi=65535)
    token: str | None = field(default=None, repr=False,  # a secret: never printed
                              metadata={"lo": None, "hi": None, "choices": None})
    auth: str = _opt("mutating", choices=("mutating", "all"))
    trusted_proxies: tuple[str, ...] = _opt(())
    ingress_port: int | None = _opt(None, lo=0, hi=65535)
    ingress_host: str = _opt("0.0.0.0")

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
    default_voice: str = _opt("jf_alpha")
    voices: dict[str, VoiceSettings] = _opt({})
    mixes: dict[str, str] = _opt({})
    text: TextConfig = field(default_factory=TextConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    pronunciations: dict[str, dict[str, str]] = _opt({}, choices=(*LANGUAGES, ALL))
    debug: bool = _opt(False)

    def __post_init__(self) -> None:
        try:  # the shape; the phonemes are checked against the vocabulary with the model
            check_entries(self.pronunciations)
        except PronunciationError as err:
            raise ConfigError(str(err)) from None

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
        raise ConfigError(f"{path or 'config'}: must be a mapping, got {show_value(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        key_path = f"{path}.{key}" if path else str(key)
        if key not in fields:
            raise ConfigError(f"{key_path}: unknown key{did_you_mean(key, fields)}; "
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
    if isinstance(typ, type) and dataclasses.is_dataclass(typ):
        if hasattr(typ, "from_config"):  # a type with a shorthand form of its own
            return typ.from_config(value, path)
        return build(typ, value, path)
    if origin is tuple:  # a list in YAML
        if value is None:
            return ()
        if not isinstance(value, list):
            raise ConfigError(f"{path}: must be a list, got {show_value(value)}")
        return tuple(_convert(item, args[0], f"{path}[{i}]", {}) for i, item in enumerate(value))
    if origin is dict:
        value_type = args[1]
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"{path}: must be a mapping, got {show_value(value)}")
        keys = meta.get("choices")  # for a mapping: the keys it may have
        for k in value:
            if keys and k not in keys:
                raise ConfigError(f"{path}.{k}: unknown key; must be one of {', '.join(keys)}")
        return {str(k): _convert(v, value_type, f"{path}.{k}", {}) for k, v in value.items()}
    if typ is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{path}: must be true or false, got {show_value(value)}")
    if typ in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{path}: must be a number, got {show_value(value)}")
        if not math.isfinite(value):
            raise ConfigError(f"{path}: must be a finite number, got {value}")
        if typ is int and int(value) != value:
            raise ConfigError(f"{path}: must be a whole number, got {show_value(value)}")
        value = typ(value)
        lo, hi = meta.get("lo"), meta.get("hi")
        if lo is not None and hi is not None and not lo <= value <= hi:
            raise ConfigError(f"{path}: must be between {lo} and {hi}, got {show_value(value)}")
        if lo is not None and value < lo:
            raise ConfigError(f"{path}: must be at least {lo}, got {show_value(value)}")
        return value
    if typ is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: must be text, got {show_value(value)}")
        choices = meta.get("choices")
        if choices and value not in choices:
            raise ConfigError(f"{path}: must be one of {', '.join(choices)}, "
                              f"got {show_value(value)}{did_you_mean(value, choices)}")
        return value
    if typ is Path:
        if not isinstance(value, (str, Path)):
            raise ConfigError(f"{path}: must be a path, got {show_value(value)}")
        return Path(value).expanduser()
    raise TypeError(f"unsupported config type {typ!r} at {path}")  # pragma: no cover


def field_of(path: str) -> tuple[Any, Mapping[str, Any]]:
    """The type and limits (``lo``, ``hi``, ``choices``) of a dotted config key such as
    ``audio.speed``: what other schemas (the add-on's options, the OpenAPI description) derive
    their limits from, so each limit is stated once, here."""
    cls: Any = Config
    *sections, name = path.split(".")
    for section in sections:
        cls = typing.get_type_hints(cls)[section]
    spec = {f.name: f for f in dataclasses.fields(cls)}[name]
    return typing.get_type_hints(cls)[name], spec.metadata


def check_value(path: str, value: Any, name: str | None = None) -> Any:
    """``value`` validated and converted as config key ``path`` would be; a ConfigError names
    ``name`` (default: the path)."""
    typ, meta = field_of(path)
    return _convert(value, typ, name or path, meta)


def show_value(value: Any) -> str:
    """A value as an error message quotes it."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"  # as YAML and JSON write it
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, bool)) or value is None:
        return str(value)
    return type(value).__name__
