"""Stats counting, the /_emulator control endpoints and EmulatorControl over them."""

from __future__ import annotations

import pytest
import requests

from spotify_assets.emulator import EmulatorControl, EmulatorServer, Fault

from .helpers import Api

NEW_RELEASES = "/browse/new-releases"


def test_stats_count_what_was_served(api: Api) -> None:
    album_id = api.emulator.catalog.albums[0].id
    api.emulator.add_fault(Fault("album", "status", status=502))
    api.get(NEW_RELEASES, auth=False)
    api.get(NEW_RELEASES, limit=1)
    api.get(f"/albums/{album_id}")
    api.get(f"/albums/{album_id}/tracks", market="US")
    api.get("/not/a/route")
    api.request_token(grant_type="client_credentials", client_id="wrong", client_secret="x")
    stats = api.emulator.stats()
    assert stats["requests"] == 7
    assert stats["api_requests"] == 5
    assert stats["token_requests"] == 2
    assert stats["tokens_issued"] == 1
    assert stats["by_endpoint"] == {
        "token": 2,
        "new_releases": 2,
        "search": 0,
        "album_tracks": 1,
        "album": 1,
        "albums": 0,
        "unknown": 1,
    }
    assert stats["by_status"] == {"401": 1, "200": 3, "502": 1, "404": 1, "400": 1}
    assert stats["http_429"] == 0
    assert stats["faults_fired"] == 1
    log = stats["log"]
    assert [entry["endpoint"] for entry in log] == [
        "new_releases",
        "token",
        "new_releases",
        "album",
        "album_tracks",
        "unknown",
        "token",
    ]
    assert log[0]["authorized"] is False
    assert log[1]["authorized"] is True
    assert log[3] | {"time": 0} == {
        "endpoint": "album",
        "method": "GET",
        "path": f"/v1/albums/{album_id}",
        "query": "",
        "status": 502,
        "authorized": True,
        "fault": "status",
        "time": 0,
        "reason": None,
    }
    assert log[4]["query"] == "market=US"
    api.emulator.reset()
    assert api.emulator.stats()["requests"] == 0


def test_control_endpoints_over_http(emulator: EmulatorServer) -> None:
    base = emulator.base_url + "/_emulator"
    health = requests.get(f"{base}/health", timeout=5).json()
    assert health == {"status": "ok", "mode": "extended", "albums": 100}
    config = requests.post(
        f"{base}/config",
        json={"mode": "development", "rate_limit": [20, 1], "drop_tracks": ["A" * 22]},
        timeout=5,
    )
    assert config.status_code == 200
    assert config.json()["rate_limit"] == [20, 1.0]
    assert emulator.config.rate_limit == (20, 1.0)
    assert emulator.config.drop_tracks == frozenset({"A" * 22})
    assert emulator.config.mode == "development"
    refused = requests.post(f"{base}/config", json={"seed": 3}, timeout=5)
    assert refused.status_code == 400
    assert "seed" in refused.json()["error"]["message"]
    fault = Fault("token", "status", status=503)
    assert requests.post(f"{base}/faults", json=fault.to_json(), timeout=5).status_code == 200
    bad_fault = requests.post(f"{base}/faults", json={"endpoint": "x"}, timeout=5)
    assert bad_fault.status_code == 400
    token = requests.post(emulator.token_url, data={"grant_type": "client_credentials"}, timeout=5)
    assert token.status_code == 503
    stats = requests.get(f"{base}/stats", timeout=5).json()
    assert stats["token_requests"] == 1
    assert stats["faults_fired"] == 1
    assert requests.post(f"{base}/reset", timeout=5).json() == {"status": "ok"}
    assert requests.get(f"{base}/stats", timeout=5).json()["requests"] == 0
    catalog = requests.get(f"{base}/catalog", timeout=5).json()
    assert catalog == emulator.catalog_json()
    first = catalog["albums"][0]
    assert first["id"] == emulator.catalog.albums[0].id
    assert [t["id"] for t in first["tracks"]] == [t.id for t in emulator.catalog.albums[0].tracks]
    assert first["href"].startswith(emulator.api_base_url)


def test_emulator_control_mirrors_the_in_process_api(emulator: EmulatorServer) -> None:
    control = EmulatorControl(emulator.base_url)
    api = Api(emulator)
    assert control.health()["status"] == "ok"
    control.configure(total_offset=2, drop_tracks={"B" * 22}, rate_limit=(50, 1.0))
    assert control.config()["total_offset"] == 2
    assert emulator.config.drop_tracks == frozenset({"B" * 22})
    assert api.json(NEW_RELEASES)["albums"]["total"] == 102
    control.add_fault(Fault("new_releases", "status", status=500))
    assert api.get(NEW_RELEASES).status_code == 500
    assert control.stats() == emulator.stats()
    assert control.stats()["by_status"] == {"200": 2, "500": 1}
    control.reset()
    assert emulator.stats()["requests"] == 0
    assert control.catalog_json()["albums"][5]["id"] == emulator.catalog.albums[5].id
    with pytest.raises(ValueError, match="error_rate"):
        control.configure(error_rate=2)
    api.close()
