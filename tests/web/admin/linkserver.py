"""A news site on loopback for the link checks: HTTPS (digest links are always https)
with a self-signed certificate that the test trusts through SSL_CERT_FILE.

``/story/N`` answers 200, ``/gone/N`` 404, ``/nohead/N`` refuses HEAD (405) but answers GET.
"""

from __future__ import annotations

import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_SEEN: list[str] = []


def requests_seen() -> int:
    """How many requests the news sites of this process have answered."""
    return len(_SEEN)


class _Handler(BaseHTTPRequestHandler):
    def _answer(self, with_body: bool) -> None:
        _SEEN.append(self.path)
        if self.path.startswith("/gone/"):
            code = 404
        elif self.path.startswith("/nohead/") and not with_body:
            code = 405
        else:
            code = 200
        body = b"<html><body>news</body></html>"
        self.send_response(code)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def log_message(self, *args: object) -> None:
        pass


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextmanager
def news_site(folder: Path) -> Iterator[tuple[str, Path]]:
    """Serve the site; yields its base URL and the certificate to trust."""
    cert, key = make_certificate(folder)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()
