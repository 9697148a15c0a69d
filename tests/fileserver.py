"""A small HTTP file server on 127.0.0.1 for download tests: Range requests, and scripted faults."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Served:
    """One file. ``faults`` are consumed one per request: an int N sends only the first N bytes of
    the reply (then closes), ``"no-range"`` ignores a Range header, ``"503"``/``"404"`` answer
    with that status."""

    data: bytes
    faults: list[int | str] = field(default_factory=list)


class FileServer:
    """``with FileServer() as server: server.files["/a"] = Served(b"...")``; ``server.url("/a")``.
    ``server.requests`` records (path, Range header) for every request."""

    def __init__(self) -> None:
        self.files: dict[str, Served] = {}
        self.requests: list[tuple[str, str | None]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                owner.requests.append((self.path, self.headers.get("Range")))
                served = owner.files.get(self.path)
                if served is None:
                    self._status(404)
                    return
                fault = served.faults.pop(0) if served.faults else None
                if isinstance(fault, str) and fault.isdigit():
                    self._status(int(fault))
                    return
                data, start = served.data, 0
                wanted = self.headers.get("Range")
                if wanted and fault != "no-range":
                    start = int(wanted.removeprefix("bytes=").split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range",
                                     f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if isinstance(fault, int):
                    body = body[:fault]
                    self.close_connection = True
                self.wfile.write(body)
                self.wfile.flush()

            def _status(self, code: int) -> None:
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler
