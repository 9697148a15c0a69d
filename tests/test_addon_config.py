"""The Home Assistant add-on files, checked against the Supervisor's rules.

The rules are those of home-assistant/supervisor (2026-08, commit 090ef31e):
``supervisor/apps/validate.py`` (add-on config and build schemas, map entries),
``supervisor/apps/options.py`` (option schema elements and how options are validated),
``supervisor/validate.py`` (ports, image names) and ``supervisor/const.py`` (architectures).
The Supervisor silently drops unknown keys, so a typo would go unnoticed: unknown keys fail here.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from wyoming_kokoro.addon import CONFIG_KEYS as OPTION_KEYS
from wyoming_kokoro.addon import AddonOptions
from wyoming_kokoro.config import field_of
from wyoming_kokoro.model.sources import builtin, load_sources

ROOT = Path(__file__).resolve().parent.parent
ADDON = ROOT / "addon"
S6 = ADDON / "rootfs" / "etc" / "s6-overlay" / "s6-rc.d"

ARCHES = {"aarch64", "amd64"}  # ARCH_ALL; armhf, armv7 and i386 are deprecated
CONFIG_KEYS = {  # the keys _SCHEMA_APP_CONFIG knows
    "name", "version", "slug", "description", "arch", "machine", "url", "startup", "boot",
    "init", "advanced", "stage", "ports", "ports_description", "watchdog", "webui", "ingress",
    "ingress_port", "ingress_entry", "ingress_stream", "panel_icon", "panel_title",
    "panel_admin", "homeassistant", "host_network", "host_pid", "host_ipc", "host_uts",
    "host_dbus", "devices", "udev", "tmpfs", "map", "environment", "privileged", "apparmor",
    "full_access", "audio", "video", "gpio", "usb", "uart", "devicetree", "kernel_modules",
    "realtime", "hassio_api", "hassio_role", "homeassistant_api", "stdin", "legacy",
    "docker_api", "auth_api", "services", "discovery", "backup_exclude", "backup_pre",
    "backup_post", "backup", "options", "schema", "image", "ulimits", "timeout", "journald",
    "breaking_versions",
}
REQUIRED = {"name", "version", "slug", "description", "arch"}
RE_SLUG = re.compile(r"^[-_.A-Za-z0-9]+$")
RE_PORT = re.compile(r"^\d+(?:/tcp|/udp)?$")
RE_VOLUME = re.compile(
    r"^(data|config|ssl|local_apps|addons|backup|share|media|homeassistant_config"
    r"|all_app_configs|all_addon_configs|app_config|addon_config)(?::(rw|ro))?$")
RE_SCHEMA_ELEMENT = re.compile(
    r"^(?:|bool|email|url|port|device(?:\((?P<filter>subsystem=[a-z]+)\))?"
    r"|str(?:\((?P<s_min>\d+)?,(?P<s_max>\d+)?\))?"
    r"|password(?:\((?P<p_min>\d+)?,(?P<p_max>\d+)?\))?"
    r"|int(?:\((?P<i_min>-?\d+)?,(?P<i_max>-?\d+)?\))?"
    r"|float(?:\((?P<f_min>-?\d*\.?\d+)?,(?P<f_max>-?\d*\.?\d+)?\))?"
    r"|match\((?P<match>.*)\)|list\((?P<list>.+)\))\??$")
RE_BUILD_IMAGE = re.compile(r"^([a-zA-Z\-\.:\d{}]+/)*?([\-\w{}]+)/([\-\w{}]+)(:[\.\-\w{}]+)?$")
BUILD_KEYS = {"build_from", "squash", "args", "labels"}


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return load(ADDON / "config.yaml")


def validate_option(typ: str, value: Any) -> None:
    """What the Supervisor's option validation does for the element types we use."""
    match = RE_SCHEMA_ELEMENT.match(typ)
    assert match, f"unknown schema element {typ!r}"
    groups = match.groupdict()
    low = next((float(v) for k, v in groups.items() if k.endswith("_min") and v), None)
    high = next((float(v) for k, v in groups.items() if k.endswith("_max") and v), None)
    if typ.startswith("list("):
        assert str(value) in match.group("list").split("|"), (typ, value)
    elif typ.startswith("bool"):
        assert isinstance(value, bool)
    elif typ.startswith(("int", "float")):
        number = int(value) if typ.startswith("int") else float(value)
        assert (low is None or number >= low) and (high is None or number <= high), (typ, value)
    elif typ.startswith(("str", "password")):
        assert isinstance(value, str)
    else:  # pragma: no cover - not used by this add-on
        pytest.fail(f"no check for {typ}")


def test_required_keys_and_formats(config):
    assert set(config) >= REQUIRED
    assert set(config) <= CONFIG_KEYS, set(config) - CONFIG_KEYS
    assert all(isinstance(config[k], str) and config[k] for k in ("name", "description"))
    assert RE_SLUG.match(config["slug"])
    assert re.match(r"^\d+\.\d+\.\d+$", str(config["version"]))
    assert config["arch"] and set(config["arch"]) == ARCHES
    assert config["init"] is False  # s6-overlay in the base image is PID 1
    assert "image" not in config  # built locally from addon/Dockerfile (see build.yaml)


def test_ports_map_and_discovery(config):
    assert config["ports"] == {"10200/tcp": None, "8880/tcp": None}  # 8880: the HTTP API
    for port, host in config["ports"].items():
        assert RE_PORT.match(port) and (host is None or 1 <= host <= 65535)
    entries = [RE_VOLUME.match(entry) for entry in config["map"]]
    assert all(entries), config["map"]
    # the add-on config folder, read-write, so the add-on can seed config.yaml and users edit it
    assert [(m.group(1), m.group(2)) for m in entries] == [("addon_config", "rw")]
    assert config["discovery"] == ["wyoming"]


RE_MDI = re.compile(r"^mdi:[a-z0-9]+(?:-[a-z0-9]+)*$")  # a Material Design Icons name


def test_ingress_serves_the_page_in_the_sidebar_on_a_port_of_its_own(config):
    from wyoming_kokoro.addon import INGRESS, INGRESS_PROXY

    assert config["ingress"] is True
    port = config["ingress_port"]  # network_port (1-65535); 0 would be a dynamic port
    assert isinstance(port, int) and 1 <= port <= 65535
    assert f"0.0.0.0:{port}" == INGRESS and INGRESS_PROXY == "172.30.32.2"
    # never mapped to the host: only the Supervisor's proxy may reach it (it asks no token)
    assert all(int(p.partition("/")[0]) != port for p in config["ports"])
    assert isinstance(config["panel_icon"], str) and RE_MDI.match(config["panel_icon"])
    assert isinstance(config["panel_title"], str) and config["panel_title"]
    assert config.get("panel_admin", True) is True  # model switching is for administrators
    assert "ingress_entry" not in config and "webui" not in config


def test_options_match_the_schema(config):
    options, schema = config["options"], config["schema"]
    optional = {key for key, typ in schema.items() if typ.endswith("?")}
    assert set(schema) - optional <= set(options) <= set(schema)
    for key, typ in schema.items():
        assert isinstance(typ, str) and RE_SCHEMA_ELEMENT.match(typ), (key, typ)
        if key in options:
            validate_option(typ, options[key])
    # the add-on's defaults are the Python defaults; an optional option left out is None there
    defaults = asdict(AddonOptions())
    assert options == {k: v for k, v in defaults.items() if k in options}
    assert all(defaults[k] is None for k in set(defaults) - set(options))


def test_the_voice_list_is_the_baked_in_voices(config):
    voices = config["schema"]["voice"].removeprefix("list(").removesuffix(")?").split("|")
    assert voices == [p.name for p in load_sources(builtin()).packs]


def test_translations_cover_every_option_and_port(config):
    translations = load(ADDON / "translations" / "en.yaml")
    assert set(translations) <= {"configuration", "network"}
    assert set(translations["configuration"]) == set(config["schema"])
    for key, entry in translations["configuration"].items():
        assert isinstance(entry.get("name"), str) and entry["name"], key
        assert isinstance(entry.get("description"), str) and entry["description"], key
        assert set(entry) <= {"name", "description", "fields"}
    assert set(translations["network"]) == set(config["ports"])
    assert all(isinstance(v, str) for v in translations["network"].values())


def test_build_names_a_base_image_per_arch(config):
    build = load(ADDON / "build.yaml")
    assert set(build) <= BUILD_KEYS
    assert set(build["build_from"]) == set(config["arch"])
    for arch, image in build["build_from"].items():
        assert RE_BUILD_IMAGE.match(image), image
        assert image.startswith(f"ghcr.io/home-assistant/{arch}-base"), image
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in build["args"].items())


def test_versions_agree(config):
    package = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    image = load(ADDON / "build.yaml")["args"]["KOKORO_IMAGE"]
    dockerfile = (ADDON / "Dockerfile").read_text()
    assert config["version"] == package
    assert image.endswith(f":{package}") and RE_BUILD_IMAGE.match(image)
    assert f"ARG KOKORO_IMAGE={image}\n" in dockerfile
    assert f"## {package}\n" in (ADDON / "CHANGELOG.md").read_text()


def test_s6_services(config):
    assert (S6 / "kokoro" / "type").read_text().strip() == "longrun"
    assert (S6 / "discovery" / "type").read_text().strip() == "oneshot"
    assert (S6 / "discovery" / "up").read_text().strip() == "/etc/s6-overlay/s6-rc.d/discovery/run"
    assert (S6 / "discovery" / "dependencies.d" / "kokoro").is_file()
    assert (S6 / "kokoro" / "dependencies.d" / "base").is_file()
    assert {p.name for p in (S6 / "user" / "contents.d").iterdir()} == {"kokoro", "discovery"}
    for script in (S6 / "kokoro" / "run", S6 / "kokoro" / "finish", S6 / "discovery" / "run"):
        assert os.access(script, os.X_OK), script
        assert script.read_text().startswith("#!/command/with-contenv bashio\n")
    assert "wyoming_kokoro.addon" in (S6 / "kokoro" / "run").read_text()
    discovery = (S6 / "discovery" / "run").read_text()
    assert "wyoming_kokoro.client" in discovery and "describe" in discovery
    assert 'bashio::discovery "wyoming"' in discovery and "tcp://$(hostname):10200" in discovery


def test_the_repository_is_an_addon_repository():
    repository = load(ROOT / "repository.yaml")
    assert isinstance(repository["name"], str) and repository["name"]
    docs = (ADDON / "DOCS.md").read_text()
    for option in asdict(AddonOptions()):
        assert f"### Option: `{option}`" in docs


@pytest.mark.parametrize(
    ("typ", "value"),
    [("float(0.5,2.0)", 3.0), ("int(0,256)", -1), ("list(onnx|torch)", "cuda"), ("bool", "yes")],
)
def test_the_option_check_rejects_what_the_supervisor_rejects(typ, value):
    with pytest.raises(AssertionError):
        validate_option(typ, value)


@pytest.mark.parametrize("option", sorted(OPTION_KEYS))
def test_the_supervisor_schema_states_the_limits_of_the_config_key_behind_each_option(
        config, option):
    """The Supervisor checks options before the add-on starts; its limits are the server's."""
    typ, meta = field_of(OPTION_KEYS[option])
    element = config["schema"][option]
    if typ is bool:
        assert element == "bool"
    elif meta.get("choices"):
        assert element == f"list({'|'.join(meta['choices'])})"
    else:
        kind = "int" if typ is int else "float"
        assert element == f"{kind}({meta['lo']},{meta['hi']})"
