"""The body deadline at its edge, on urllib3's own response object: a body whole when the
deadline passed is kept, one with bytes still to come is a timeout and its connection closed."""

from __future__ import annotations

import io
import time

import pytest
import requests
import urllib3

from spotify_assets.spotify.transport import BODY_READ_SIZE, read_whole


def streamed(body: bytes) -> requests.Response:
    """A response whose body has not been read, with its true Content-Length."""
    response = requests.Response()
    response.raw = urllib3.HTTPResponse(
        body=io.BytesIO(body),
        headers={"Content-Length": str(len(body))},
        preload_content=False,
    )
    return response


def test_a_body_whose_last_bytes_came_after_the_deadline_is_kept() -> None:
    response = streamed(b'{"items": []}')
    read_whole(response, by=time.monotonic() - 1)
    assert response.content == b'{"items": []}'


def test_a_body_with_bytes_still_to_come_after_the_deadline_is_a_timeout_and_closed() -> None:
    response = streamed(b"[" + b" " * (2 * BODY_READ_SIZE) + b"]")
    with pytest.raises(requests.Timeout, match="not whole within the read timeout"):
        read_whole(response, by=time.monotonic() - 1)
    assert response.raw.closed
