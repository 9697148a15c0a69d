"""Resumable, verified HTTP downloads (standard library only).

A file is downloaded into ``<name>.part`` next to its destination; an interrupted transfer resumes
from there with an HTTP ``Range`` request. Only a ``.part`` whose sha256 matches is renamed to the
final name, so a final file is always complete and verified; a mismatch is refused and deleted.
"""

from __future__ import annotations

import http.client
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..fsutil import sha256_file
from .sources import Remote

_LOGGER = logging.getLogger(__name__)
_BLOCK = 1 << 16
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
_PROGRESS_MIN = 16 << 20  # log progress for files of at least 16 MiB


class DownloadError(RuntimeError):
    """A file could not be downloaded, or its content does not match its sha256."""


class _Transient(Exception):
    """A failure worth retrying (network error, timeout, short transfer, 5xx)."""


@dataclass(frozen=True)
class Downloader:
    """Downloads :class:`Remote` files with timeouts, retries with backoff, and resume."""

    timeout: float = 30.0  # seconds per connect / read
    retries: int = 4  # further attempts after the first
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    sleep: Callable[[float], None] = time.sleep

    def fetch(self, remote: Remote, dest: Path) -> Path:
        """Make ``dest`` the verified content of ``remote``; reuse it if it already matches."""
        if dest.is_file() and sha256_file(dest) == remote.sha256:
            _LOGGER.info("%s: already present and verified", dest.name)
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        attempts = 0
        while True:
            attempts += 1
            resumed = part.is_file() and part.stat().st_size > 0
            try:
                self._transfer(remote, part)
            except _Transient as err:
                if attempts > self.retries:
                    raise DownloadError(
                        f"{remote.url}: giving up after {attempts} attempts: {err}. Run the "
                        f"command again to resume from the {_size(part)} already in {part}"
                    ) from None
                delay = self.backoff * 2 ** (attempts - 1)
                _LOGGER.warning("%s: %s; retrying in %.0f s", remote.name, err, delay)
                self.sleep(delay)
                continue
            actual = sha256_file(part)
            if actual == remote.sha256:
                os.replace(part, dest)
                _fsync_dir(dest.parent)
                return dest
            part.unlink(missing_ok=True)
            if resumed and attempts <= self.retries:
                _LOGGER.warning("%s: sha256 mismatch after resuming a partial download; "
                                "downloading it again from the start", remote.name)
                continue
            raise DownloadError(
                f"{remote.name}: sha256 mismatch (expected {remote.sha256}, got {actual}) "
                f"from {remote.url}; refusing the file (the server sent different content "
                f"than the manifest pins)")

    def _transfer(self, remote: Remote, part: Path) -> None:
        """Download (the rest of) ``remote`` into ``part``; raise _Transient on a short read."""
        offset = part.stat().st_size if part.is_file() else 0
        if remote.size is not None and offset > remote.size:
            part.unlink()  # longer than the file can be: not a prefix of it
            offset = 0
        if remote.size is not None and offset == remote.size:
            return  # complete from an earlier run; the caller verifies it
        request = urllib.request.Request(
            remote.url, headers={"User-Agent": f"wyoming-kokoro-fetch/{__version__}"})
        if offset:
            request.add_header("Range", f"bytes={offset}-")
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as err:
            err.close()
            if err.code == 416 and offset:
                return  # nothing after offset: complete, or not a prefix (the hash decides)
            if err.code in _RETRY_STATUS:
                raise _Transient(f"HTTP {err.code} {err.reason}") from None
            raise DownloadError(f"{remote.url}: HTTP {err.code} {err.reason}") from None
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", None) or err
            raise _Transient(f"cannot connect: {reason}") from None
        with response:
            if offset and response.status == 206 and _range_start(response) == offset:
                mode = "ab"
                _LOGGER.info("%s: resuming at %s", remote.name, _bytes(offset))
            else:
                offset, mode = 0, "wb"  # the server sent the whole file
                _LOGGER.info("Downloading %s (%s) from %s", remote.name,
                             _bytes(remote.size) if remote.size else "size unknown", remote.url)
            length = response.headers.get("Content-Length")
            expected = offset + int(length) if length and length.isdigit() else remote.size
            received = offset
            total = expected or 0
            step = total // 10 if total >= _PROGRESS_MIN else 0
            report = received + step
            try:
                with open(part, mode) as out:
                    while block := response.read(_BLOCK):
                        out.write(block)
                        received += len(block)
                        if remote.size is not None and received > remote.size:
                            break
                        if step and received >= report:
                            _LOGGER.info("%s: %d%%", remote.name, 100 * received // total)
                            report += step
                    out.flush()
                    os.fsync(out.fileno())
            except (OSError, http.client.HTTPException) as err:
                raise _Transient(f"transfer broke after {_bytes(received)}: "
                                 f"{err or type(err).__name__}") from None
        if remote.size is not None and received > remote.size:
            part.unlink()
            raise DownloadError(f"{remote.url}: the server sent more than the {remote.size} "
                                f"bytes the manifest pins; refusing the file")
        if expected is not None and received < expected:
            raise _Transient(f"connection closed after {_bytes(received)} of {_bytes(expected)}")


def _range_start(response: http.client.HTTPResponse) -> int | None:
    value = response.headers.get("Content-Range", "")  # "bytes START-END/TOTAL"
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _size(part: Path) -> str:
    return _bytes(part.stat().st_size) if part.is_file() else "nothing"


def _bytes(n: int | None) -> str:
    if n is None:
        return "?"
    if n < 1 << 20:
        return f"{n} bytes"
    return f"{n / (1 << 20):.1f} MiB"
