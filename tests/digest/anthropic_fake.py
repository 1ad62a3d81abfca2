"""A fake Anthropic API on loopback that answers with recorded Messages API responses."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent.parent / "fixtures" / "anthropic"


def recorded(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))


class FakeAnthropic:
    """Answers each POST with the next queued recorded response (401 once none is left)
    and keeps the requests."""

    def __init__(self) -> None:
        self.queue: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.delay = 0.0  # seconds to wait before answering
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "json": json.loads(body) if body else None,
                    }
                )
                answer = fake.queue.pop(0) if fake.queue else recorded("unauthorized_401")
                time.sleep(fake.delay)
                if "lines" in answer:  # JSON Lines, as batch results come
                    text = "\n".join(json.dumps(line) for line in answer["lines"]) + "\n"
                else:
                    text = json.dumps(answer["body"])
                payload = text.replace("{base_url}", fake.url).encode()
                try:
                    self.send_response(answer["status"])
                    for name, value in answer["headers"].items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the time-budget test)

            do_GET = do_POST  # the batch endpoints: retrieve a batch, read its results

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, *names: str) -> None:
        self.queue += [recorded(name) for name in names]

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [request["json"] for request in self.requests if request["json"] is not None]
