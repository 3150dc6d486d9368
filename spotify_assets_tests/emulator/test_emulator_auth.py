"""The token endpoint and bearer checks answer like accounts.spotify.com and api.spotify.com."""

from __future__ import annotations

import base64
import time

import pytest
import requests

from spotify_assets.emulator import Fault
from spotify_assets_tests.conftest import EmulatorFactory

from .helpers import TIMEOUT_S, Api

NEW_RELEASES = "/browse/new-releases"


def _basic(client_id: str, secret: str) -> dict[str, str]:
    """A Basic Authorization header."""
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def test_basic_auth_and_form_credentials_both_work(api: Api) -> None:
    emulator = api.emulator
    by_header = requests.post(
        emulator.token_url,
        data={"grant_type": "client_credentials"},
        headers=_basic(emulator.client_id, emulator.client_secret),
        timeout=TIMEOUT_S,
    )
    by_form = api.request_token(
        grant_type="client_credentials",
        client_id=emulator.client_id,
        client_secret=emulator.client_secret,
    )
    for response in (by_header, by_form):
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 3600
        assert api.get(NEW_RELEASES, token=body["access_token"]).status_code == 200
    assert by_header.json()["access_token"] != by_form.json()["access_token"]


def test_token_errors_in_oauth_shape(api: Api) -> None:
    emulator = api.emulator
    cases = [
        (
            {"grant_type": "client_credentials", "client_id": "who", "client_secret": "x"},
            {"error": "invalid_client", "error_description": "Invalid client"},
        ),
        (
            {
                "grant_type": "client_credentials",
                "client_id": emulator.client_id,
                "client_secret": "wrong",
            },
            {"error": "invalid_client", "error_description": "Invalid client secret"},
        ),
        (
            {"client_id": emulator.client_id, "client_secret": emulator.client_secret},
            {
                "error": "unsupported_grant_type",
                "error_description": "grant_type parameter is missing",
            },
        ),
    ]
    for form, expected in cases:
        response = api.request_token(**form)
        assert response.status_code == 400
        assert response.json() == expected
    other_grant = api.request_token(grant_type="authorization_code")
    assert other_grant.status_code == 400
    assert other_grant.json()["error"] == "unsupported_grant_type"
    wrong_basic = requests.post(
        emulator.token_url,
        data={"grant_type": "client_credentials"},
        headers=_basic(emulator.client_id, "wrong"),
        timeout=TIMEOUT_S,
    )
    assert wrong_basic.json()["error_description"] == "Invalid client secret"
    assert emulator.stats()["tokens_issued"] == 0


def test_each_401_message(api: Api) -> None:
    missing = api.get(NEW_RELEASES, auth=False)
    forged = api.get(NEW_RELEASES, token="not-a-token")
    assert (missing.status_code, forged.status_code) == (401, 401)
    assert missing.json() == {"error": {"status": 401, "message": "No token provided"}}
    assert forged.json() == {"error": {"status": 401, "message": "Invalid access token"}}
    assert "invalid_token" in forged.headers["WWW-Authenticate"]
    basic = api.session.get(
        api.emulator.api_base_url + NEW_RELEASES,
        headers=_basic("a", "b"),
        timeout=TIMEOUT_S,
    )
    assert basic.status_code == 400
    assert basic.json()["error"]["message"] == "Only valid bearer authentication supported"


def test_expire_token_fault(api: Api) -> None:
    token = api.new_token()
    api.emulator.add_fault(Fault("new_releases", "expire_token"))
    for _ in range(2):
        response = api.get(NEW_RELEASES, token=token)
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "The access token expired"
    assert api.get(NEW_RELEASES, token=api.new_token()).status_code == 200


def test_revoke_token_fault_is_forever(api: Api) -> None:
    token = api.new_token()
    assert api.get(NEW_RELEASES, token=token).status_code == 200
    api.emulator.add_fault(Fault("*", "revoke_token"))
    for path in (NEW_RELEASES, NEW_RELEASES, "/search"):
        response = api.get(path, token=token, q="tag:new", type="album")
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "Invalid access token"


def test_tokens_expire_after_their_ttl(emulator_factory: EmulatorFactory) -> None:
    api = Api(emulator_factory(token_ttl_s=0.3))
    issued_at = time.monotonic()
    response = api.session.post(
        api.emulator.token_url,
        data={"grant_type": "client_credentials"},
        auth=(api.emulator.client_id, api.emulator.client_secret),
        timeout=TIMEOUT_S,
    )
    token = response.json()["access_token"]
    assert response.json()["expires_in"] == 1  # whole seconds, rounded up
    assert api.get(NEW_RELEASES, token=token).status_code == 200
    deadline = issued_at + 5
    while (status := api.get(NEW_RELEASES, token=token)).status_code == 200:
        assert time.monotonic() < deadline, "token never expired"
        time.sleep(0.02)
    assert time.monotonic() - issued_at >= 0.3
    assert status.status_code == 401
    assert status.json()["error"]["message"] == "The access token expired"
    api.close()


def test_reset_forgets_tokens(api: Api) -> None:
    token = api.new_token()
    api.emulator.reset()
    response = api.get(NEW_RELEASES, token=token)
    assert response.json()["error"]["message"] == "Invalid access token"


def test_expires_in_told_says_zero_null_or_nothing_and_the_token_still_works(
    emulator_factory: EmulatorFactory,
) -> None:
    emulator = emulator_factory()
    api = Api(emulator)
    for told, expected in (("zero", 0), ("null", None), ("absent", "absent"), ("ttl", 3600)):
        emulator.configure(expires_in_told=told)
        body = api.session.post(
            emulator.token_url,
            data={"grant_type": "client_credentials"},
            auth=(emulator.client_id, emulator.client_secret),
            timeout=TIMEOUT_S,
        ).json()
        assert body.get("expires_in", "absent") == expected
        assert api.get(NEW_RELEASES, token=body["access_token"]).status_code == 200
    with pytest.raises(ValueError, match="expires_in_told must be one of"):
        emulator.configure(expires_in_told="soon")
