"""URLs, bare domains and e-mail addresses, read shortly: host and a short path, never the query.

    "https://www.example.com/docs" -> "example dot com slash docs"
    "john@example.com" -> "john at example dot com"
"""

from __future__ import annotations

import re

from .lexicon import Lexicon

_TLDS = "com|org|net|io|dev|app|ai|gov|edu|info|uk|de|fr|eu|nl|br|ch|tv"
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'`]+", re.IGNORECASE)
_EMAIL = re.compile(r"(?:mailto:)?(?<![\w.+-])(?P<local>[\w.+-]+)@(?P<host>[\w-]+(?:\.[\w-]+)+)")
_DOMAIN = re.compile(
    rf"(?<![\w@./-])(?P<host>(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+(?:{_TLDS}))"
    r"(?P<path>/[^\s]*)?(?![\w-])")
_PATH_WORD = re.compile(r"[A-Za-z][A-Za-z_-]{0,19}")
_TRAILING = ".,;:!?)]}'\""  # sentence punctuation after an address is not part of it


class Web:
    def __init__(self, lex: Lexicon) -> None:
        self.lex = lex

    def urls(self, text: str) -> str:
        text = _URL.sub(self._speak_url, text)
        text = _EMAIL.sub(self._speak_email, text)
        return _DOMAIN.sub(self._speak_url, text)

    def _speak_url(self, match: re.Match[str]) -> str:
        url = match.group(0)
        stripped = url.rstrip(_TRAILING)
        trail = url[len(stripped):]
        address = re.sub(r"^(?:https?://)?(?:www\.)?", "", stripped, flags=re.IGNORECASE)
        host, _, path = address.partition("/")
        host = host.split("@")[-1].split(":")[0]
        words = [self._host(host)]
        segments = [s for s in re.split(r"[?#]", path, maxsplit=1)[0].split("/") if s]
        if 0 < len(segments) <= 2 and all(_PATH_WORD.fullmatch(s) for s in segments):
            words += [f"{self.lex.slash} {re.sub(r'[-_]', ' ', s)}" for s in segments]
        return " ".join(words) + trail

    def _host(self, host: str) -> str:
        labels = [label.replace("-", " ") for label in host.split(".") if label]
        return f" {self.lex.dot} ".join(labels)

    def _speak_email(self, match: re.Match[str]) -> str:
        local = re.sub(r"\.", f" {self.lex.dot} ", match.group("local"))
        local = re.sub(r"[_-]", " ", local).replace("+", f" {self.lex.plus} ")
        host = match.group("host")
        stripped = host.rstrip(_TRAILING)
        return f"{local} {self.lex.at} {self._host(stripped)}{host[len(stripped):]}"
