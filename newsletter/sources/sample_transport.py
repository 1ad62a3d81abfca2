"""Serves the feeds bundled with the package at ``sample://NAME`` URLs.

The demo's sources point there, so the demo exercises the real fetch path (httpx client,
status handling, feed parsing) with no network.
"""

from __future__ import annotations

from importlib import resources

import httpx

SCHEME = "sample"


class SampleFeedTransport(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        name = request.url.host + request.url.path
        resource = resources.files("newsletter.sources") / "samples" / name
        if "/.." in f"/{name}" or not resource.is_file():
            return httpx.Response(404, request=request)
        return httpx.Response(
            200,
            content=resource.read_bytes(),
            headers={"Content-Type": "application/xml; charset=utf-8"},
            request=request,
        )


def sample_url(name: str) -> str:
    return f"{SCHEME}://{name}"
