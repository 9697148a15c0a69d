"""Home Assistant ingress: trusted proxies, the X-Ingress-Path prefix, the ingress listener."""

from __future__ import annotations

import re

import httpx
import pytest

from wyoming_kokoro.__main__ import overrides_from_args, parse_args
from wyoming_kokoro.config import ConfigError, HttpConfig, is_trusted, load_config
from wyoming_kokoro.frontends.http.ingress import valid_prefix

from .httpapi import TRUSTED_PROXY, auth, error_of, from_address


@pytest.mark.parametrize(
    ("address", "proxies", "trusted"),
    [
        ("172.30.32.2", ("172.30.32.2",), True),
        ("172.30.33.7", ("172.30.32.0/23",), True),
        ("172.30.34.1", ("172.30.32.0/23",), False),
        ("::ffff:172.30.32.2", ("172.30.32.2",), True),  # an IPv4 peer on a dual-stack socket
        ("fd00::2", ("fd00::/64",), True),
        ("127.0.0.1", ("127.0.0.2",), False),
        ("127.0.0.1", (), False),
        (None, ("127.0.0.1",), False),
        ("not-an-address", ("127.0.0.1",), False),
    ],
)
def test_a_peer_is_trusted_only_when_its_address_is_listed(address, proxies, trusted):
    assert is_trusted(address, proxies) is trusted


@pytest.mark.parametrize(
    ("http", "message"),
    [
        ({"trusted_proxies": ["supervisor"]},
         "http.trusted_proxies[0]: not an IP address or network (such as 172.30.32.2 or "
         "172.30.32.0/23), got 'supervisor'"),
        ({"trusted_proxies": ["172.30.32.2", "10.0.0.0/33"]}, "http.trusted_proxies[1]"),
        ({"ingress_port": 8099},
         "http.ingress_port: the ingress listener lets in only http.trusted_proxies, and none "
         "is set"),
        ({"enabled": True, "port": 8099, "ingress_port": 8099, "trusted_proxies": ["1.2.3.4"]},
         "http.ingress_port: 8099 is http.port too"),
        ({"ingress_port": 70000, "trusted_proxies": ["1.2.3.4"]},
         "http.ingress_port: must be between 0 and 65535, got 70000"),
    ],
)
def test_ingress_settings_are_validated_naming_the_key(tmp_path, http, message):
    import yaml

    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"http": http}))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value)


def test_the_ingress_listener_needs_no_token_even_on_all_interfaces():
    http = HttpConfig(ingress_port=8099, trusted_proxies=("172.30.32.2",))
    assert http.ingress_host == "0.0.0.0" and not http.enabled and http.token is None


def test_flags_set_the_ingress_listener_trusted_proxies_and_bundles_dir():
    args = parse_args(["--ingress", "0.0.0.0:8099", "--trusted-proxy", "172.30.32.2",
                       "--trusted-proxy", "fd00::/8", "--bundles-dir", "/config/models"])
    overrides = overrides_from_args(args)
    assert overrides["http"] == {"ingress_port": 8099, "ingress_host": "0.0.0.0",
                                 "trusted_proxies": ["172.30.32.2", "fd00::/8"]}
    assert overrides["model"] == {"bundles_dir": "/config/models"}
    config = load_config(None, overrides)
    assert config.http.trusts("172.30.32.2") and not config.http.enabled
    assert overrides_from_args(parse_args(["--ingress", "8099"]))["http"] == {
        "ingress_port": 8099}
    with pytest.raises(SystemExit):
        parse_args(["--ingress", "somewhere"])


@pytest.mark.parametrize(
    ("prefix", "valid"),
    [
        ("/api/hassio_ingress/Zk3_-x9Q", True),
        ("/api/hassio_ingress/Zk3_-x9Q/", True),
        ("/a/b%2Fc/d.e~f", True),
        ("", False),
        ("/", False),
        ('/api/hassio_ingress/x"><script>alert(1)</script>', False),
        ("/api/hassio_ingress/x'onload='alert(1)", False),
        ("/a b", False),
        ("//evil.example/x", False),  # a "network-path" URL would send the page's calls away
        ("https://evil.example/x", False),
        ("javascript:alert(1)", False),
        ("/a/../b", False),
        ("/a/./b", False),
        ("/a/%zz", False),
        ("/a\\b", False),
        ("/" + "a" * 600, False),
    ],
)
def test_an_ingress_prefix_must_be_a_plain_path(prefix, valid):
    assert valid_prefix(prefix) is valid


def test_the_ingress_port_lets_in_only_the_trusted_proxy_and_asks_it_for_no_token(
        ingress_server):
    with from_address("127.0.0.1") as other:
        for path in ("/", "/health", "/stats"):
            response = other.get(f"{ingress_server.ingress}{path}")
            assert response.status_code == 403
            assert error_of(response)["code"] == "not_ingress_proxy"
        assert other.post(f"{ingress_server.ingress}/reload").status_code == 403
    refusals = [line for line in ingress_server.log.splitlines()
                if "Ingress: refused a connection from 127.0.0.1" in line]
    assert len(refusals) == 1  # once per address, not once per request
    with from_address(TRUSTED_PROXY) as proxy:
        assert proxy.get(f"{ingress_server.ingress}/health").status_code == 200
        # changes need no token here: Home Assistant has authenticated the user
        reload = proxy.post(f"{ingress_server.ingress}/reload")
        assert reload.status_code == 200, reload.text
        # ... while the API port keeps its token rules, for the proxy's address too
        refused = proxy.post(f"{ingress_server.http}/reload")
        assert refused.status_code == 401
        assert proxy.post(f"{ingress_server.http}/reload",
                          headers=auth(ingress_server.token)).status_code == 200


def base_href(html: str) -> str | None:
    match = re.search(r"<base href=\"([^\"]*)\">", html)
    return match.group(1) if match else None


def test_x_ingress_path_is_honoured_only_from_a_trusted_proxy_and_only_as_a_path(
        ingress_server):
    prefix = "/api/hassio_ingress/Zk3_-x9Q"
    markup = '/api/hassio_ingress/x"><script>alert(1)</script>'
    with from_address(TRUSTED_PROXY) as proxy:
        page = proxy.get(f"{ingress_server.ingress}/", headers={"X-Ingress-Path": prefix})
        assert page.status_code == 200
        assert base_href(page.text) == prefix + "/"
        assert 'data-ingress="true"' in page.text
        assert base_href(proxy.get(f"{ingress_server.http}/",
                                   headers={"X-Ingress-Path": prefix}).text) == prefix + "/"
        for bad in (markup, "//evil.example", "/a/../b"):
            refused = proxy.get(f"{ingress_server.ingress}/", headers={"X-Ingress-Path": bad})
            assert refused.status_code == 400, bad
            assert error_of(refused)["code"] == "invalid_ingress_path"
            assert "<script>" not in refused.text
        plain = proxy.get(f"{ingress_server.ingress}/")
        assert base_href(plain.text) is None  # no prefix: relative to the page's own URL
    with from_address("127.0.0.1") as other:  # anyone else: the header is ignored
        for spoofed in (prefix, markup):
            page = other.get(f"{ingress_server.http}/", headers={"X-Ingress-Path": spoofed})
            assert page.status_code == 200
            assert base_href(page.text) is None and "<script>alert" not in page.text
            assert 'data-ingress="false"' in page.text


def test_a_browser_post_through_the_proxy_is_same_origin_by_its_forwarded_host(ingress_server):
    """Home Assistant passes the browser's Host on, and says it in X-Forwarded-Host too; a proxy
    that rewrites Host is still recognised by the latter, and only when it is trusted."""
    headers = {"Origin": "http://homeassistant.local:8123", "Host": "172.30.33.5:8099",
               "X-Forwarded-Host": "homeassistant.local:8123"}
    with from_address(TRUSTED_PROXY) as proxy:
        assert proxy.post(f"{ingress_server.ingress}/reload", headers=headers).status_code == 200
    with from_address("127.0.0.1") as other:
        response = other.post(f"{ingress_server.http}/reload",
                              headers={**headers, **auth(ingress_server.token)})
        assert response.status_code == 403 and error_of(response)["code"] == "cross_origin"


def test_both_listeners_serve_the_described_routes_with_stats_and_model_choices(
        ingress_server):
    with from_address(TRUSTED_PROXY) as proxy:
        via_ingress = proxy.get(f"{ingress_server.ingress}/openapi.json").json()
    direct = httpx.get(f"{ingress_server.http}/openapi.json").json()
    assert set(via_ingress["paths"]) == set(direct["paths"])
    assert direct["paths"]["/model"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in via_ingress["paths"]["/model"]["post"]  # no token on ingress
    assert {"/stats", "/model"} <= set(direct["paths"]) and "get" in direct["paths"]["/model"]


def test_a_reload_cannot_drop_the_trusted_proxies_of_a_running_ingress_listener(
        ingress_server):
    config = ingress_server.config_path.read_text()
    assert f"trusted_proxies: [{TRUSTED_PROXY}]" in config
    ingress_server.config_path.write_text(config.replace(f"[{TRUSTED_PROXY}]", "[]"))
    try:
        response = httpx.post(f"{ingress_server.http}/reload", headers=auth(ingress_server.token),
                              timeout=60)
    finally:
        ingress_server.config_path.write_text(config)
    assert response.status_code == 422
    assert "http.ingress_port: the ingress listener lets in only http.trusted_proxies" in \
        error_of(response)["message"]
    with from_address(TRUSTED_PROXY) as proxy:  # still let in
        assert proxy.get(f"{ingress_server.ingress}/health").status_code == 200
