"""Every body the emulator serves validates against Spotify's official OpenAPI description."""

# Known gaps between the official file and live Spotify, each handled explicitly where it applies:
# - Development Mode apps (2026) get album objects without `available_markets`, `label` and
#   `popularity`, although AlbumBase/AlbumObject list them as required. Development Mode bodies
#   are validated against the official schemas with exactly those names removed from `required`,
#   and strict validation must fail for those missing fields and nothing else.
# - `GET /albums?ids=` answers `null` for unknown ids, but ManyAlbums does not say its items are
#   nullable: non-null items are validated, nulls are checked to sit exactly at the unknown ids.
# - The token endpoint is not part of the Web API description: its bodies are validated against
#   a small schema written from the facts in spotify-web-api/README.md.

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from spotify_assets.emulator import Fault
from spotify_assets_tests.conftest import EmulatorFactory

from .helpers import Api

DEV_MODE_MISSING = frozenset({"available_markets", "label", "popularity"})
TOKEN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in"],
    "additionalProperties": False,
    "properties": {
        "access_token": {"type": "string", "minLength": 1},
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "expires_in": {"type": "integer", "minimum": 1},
    },
}
OAUTH_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "error_description"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "string",
            "enum": [
                "invalid_client",
                "unsupported_grant_type",
                "invalid_request",
                "server_error",
                "temporarily_unavailable",
            ],
        },
        "error_description": {"type": "string", "minLength": 1},
    },
}


class Conformance:
    """Validates bodies against components of the OpenAPI document (optionally relaxed)."""

    def __init__(self, components: dict[str, Any]) -> None:
        """Use these components as the $ref target."""
        self.components = components

    def errors(self, ref: str, body: Any) -> list[Any]:
        """Validation errors of `body` against "schemas/X" or "responses/X" (its JSON schema)."""
        kind, name = ref.split("/")
        if kind == "responses":
            schema = self.components["responses"][name]["content"]["application/json"]["schema"]
        else:
            schema = {"$ref": f"#/components/schemas/{name}"}
        validator = OAS30Validator({**schema, "components": self.components})
        return list(validator.iter_errors(body))

    def check(self, ref: str, body: Any) -> None:
        """Assert `body` is valid, listing every error otherwise."""
        errors = self.errors(ref, body)
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:20])


@pytest.fixture(scope="module")
def strict(openapi_spec: dict[str, Any]) -> Conformance:
    """The official schemas as published."""
    return Conformance(openapi_spec["components"])


@pytest.fixture(scope="module")
def relaxed(openapi_spec: dict[str, Any]) -> Conformance:
    """The official schemas minus the fields Development Mode no longer sends."""
    components = copy.deepcopy(openapi_spec["components"])
    for name in ("AlbumBase", "AlbumObject"):
        schema = components["schemas"][name]
        schema["required"] = [
            field for field in schema["required"] if field not in DEV_MODE_MISSING
        ]
    return Conformance(components)


@pytest.fixture
def api_for(emulator_factory: EmulatorFactory) -> Iterator[Callable[..., Api]]:
    """Raw clients of emulators started with the given config."""
    clients: list[Api] = []

    def start(**config: Any) -> Api:
        client = Api(emulator_factory(**config))
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()


def _big_album(api: Api) -> str:
    """Id of an album with more than 100 tracks."""
    return next(a.id for a in api.emulator.catalog.albums if a.total_tracks > 100)


def _pages(api: Api, path: str, key: str | None = None, **params: Any) -> list[Any]:
    """Every body from `path` following next links."""
    bodies = [api.json(path, **params)]
    while (bodies[-1][key] if key else bodies[-1])["next"]:
        bodies.append(api.json((bodies[-1][key] if key else bodies[-1])["next"]))
    return bodies


def _served_bodies(api: Api) -> list[tuple[str, Any]]:
    """(response schema, body) for the routes both modes serve, with and without market."""
    album_id = _big_album(api)
    bodies: list[tuple[str, Any]] = []
    bodies += [
        ("responses/SearchItems", b)
        for b in _pages(api, "/search", "albums", q="tag:new", type="album", limit=10)
    ]
    bodies += [
        ("responses/PagingSimplifiedTrackObject", b)
        for b in _pages(api, f"/albums/{album_id}/tracks", limit=50)
    ]
    bodies += [
        ("responses/PagingSimplifiedTrackObject", b)
        for b in _pages(api, f"/albums/{album_id}/tracks", market="SE")
    ]
    for album in api.emulator.catalog.albums[:15]:
        bodies.append(("responses/OneAlbum", api.json(f"/albums/{album.id}")))
        bodies.append(("responses/OneAlbum", api.json(f"/albums/{album.id}", market="US")))
    return bodies + _market_bodies(api, "US")  # fmt: skip


def _market_bodies(api: Api, market: str) -> list[tuple[str, Any]]:
    """Search for `market` and an album not sold there (tracks restricted) as both serve them."""
    unsold = next(a for a in api.emulator.catalog.albums if not a.available_in(market))
    search = _pages(api, "/search", "albums", q="tag:new", type="album", limit=10, market=market)
    tracks = _pages(api, f"/albums/{unsold.id}/tracks", market=market)
    assert tracks[0]["items"][0]["restrictions"] == {"reason": "market"}
    full = api.json(f"/albums/{unsold.id}", market=market)
    assert full["restrictions"] == {"reason": "market"}
    return [
        *(("responses/SearchItems", body) for body in search),
        *(("responses/PagingSimplifiedTrackObject", body) for body in tracks),
        ("responses/OneAlbum", full),
    ]


def test_extended_mode_bodies_are_valid(api_for: Callable[..., Api], strict: Conformance) -> None:
    api = api_for()
    bodies = _served_bodies(api)
    bodies += [("responses/PagedAlbums", b) for b in _pages(api, "/browse/new-releases", "albums")]
    ids = ",".join(album.id for album in api.emulator.catalog.albums[:20])
    bodies.append(("responses/ManyAlbums", api.json("/albums", ids=ids)))
    bodies.append(("responses/ManyAlbums", api.json("/albums", ids=ids, market="JP")))
    for ref, body in bodies:
        strict.check(ref, body)
    assert len(bodies) > 40


@pytest.mark.parametrize("mode", ["extended", "development"])
def test_bodies_of_a_market_list_are_valid(
    api_for: Callable[..., Api], strict: Conformance, relaxed: Conformance, mode: str
) -> None:
    api = api_for(albums=30, markets=("US", "SE", "DE"), mode=mode)
    nowhere = next(a for a in api.emulator.catalog.albums if not a.available_markets)
    bodies = [body for market in ("SE", "DE") for body in _market_bodies(api, market)]
    bodies.append(("responses/OneAlbum", api.json(f"/albums/{nowhere.id}")))
    if mode == "extended":
        ids = ",".join(album.id for album in api.emulator.catalog.albums[:20])
        bodies.append(("responses/ManyAlbums", api.json("/albums", ids=ids, market="US")))
        assert bodies[-2][1]["available_markets"] == []
    for ref, body in bodies:
        (strict if mode == "extended" else relaxed).check(ref, body)


def test_development_mode_bodies_miss_only_documented_fields(
    api_for: Callable[..., Api], strict: Conformance, relaxed: Conformance
) -> None:
    api = api_for(mode="development")
    missing: set[str] = set()
    for ref, body in _served_bodies(api):
        relaxed.check(ref, body)
        for error in strict.errors(ref, body):
            assert error.validator == "required", error.message
            missing.add(error.message.split("'")[1])
    # Album objects (search items, album/{id}) lack all three; plain track pages lack none.
    assert missing == DEV_MODE_MISSING


def test_unknown_ids_are_null_and_the_rest_valid(
    api_for: Callable[..., Api], strict: Conformance
) -> None:
    api = api_for()
    known = [album.id for album in api.emulator.catalog.albums[:3]]
    unknown = "0000000000000000000000"
    body = api.json("/albums", ids=",".join([known[0], unknown, *known[1:]]))
    assert body["albums"][1] is None
    present = [album for album in body["albums"] if album is not None]
    assert [album["id"] for album in present] == known
    strict.check("responses/ManyAlbums", {"albums": present})


def test_error_bodies_are_valid(api_for: Callable[..., Api], strict: Conformance) -> None:
    api = api_for()
    album_id = api.emulator.catalog.albums[0].id
    cases: list[tuple[str, int, Any]] = [
        ("responses/BadRequest", 400, api.get("/browse/new-releases", limit=0)),
        ("responses/BadRequest", 400, api.get("/albums/not-an-id")),
        ("responses/NotFound", 404, api.get("/albums/0000000000000000000000")),
        ("responses/NotFound", 404, api.get("/no/such/route")),
        ("responses/Unauthorized", 401, api.get("/browse/new-releases", auth=False)),
        ("responses/Unauthorized", 401, api.get("/browse/new-releases", token="forged")),
    ]
    api.emulator.add_fault(Fault("album", "expire_token"))
    expiring = api.new_token()
    cases.append(("responses/Unauthorized", 401, api.get(f"/albums/{album_id}", token=expiring)))
    api.emulator.add_fault(Fault("*", "rate_limit", retry_after_s=86400))
    cases.append(("responses/TooManyRequests", 429, api.get(f"/albums/{album_id}")))
    api.emulator.configure(rate_limit=(1, 60.0))
    api.get(f"/albums/{album_id}")
    cases.append(("responses/TooManyRequests", 429, api.get(f"/albums/{album_id}")))
    api.emulator.configure(rate_limit=None, error_rate=1.0)
    server_error = api.get(f"/albums/{album_id}")
    assert server_error.status_code in (500, 502, 503)
    strict.check("schemas/ErrorObject", server_error.json()["error"])
    api.emulator.configure(error_rate=0.0, mode="development")
    cases.append(("responses/Forbidden", 403, api.get("/browse/new-releases")))
    cases.append(("responses/Forbidden", 403, api.get("/albums", ids=album_id)))
    for ref, status, response in cases:
        assert response.status_code // 100 == status // 100, response.text
        assert response.headers["content-type"].startswith("application/json")
        strict.check(ref, response.json())
        assert response.json()["error"]["status"] == response.status_code


def test_token_bodies_match_the_readme(api_for: Callable[..., Api]) -> None:
    api = api_for()
    token_ok = OAS30Validator(TOKEN_SCHEMA)
    oauth_error = OAS30Validator(OAUTH_ERROR_SCHEMA)
    emulator = api.emulator
    good = api.request_token(
        grant_type="client_credentials",
        client_id=emulator.client_id,
        client_secret=emulator.client_secret,
    )
    assert good.status_code == 200
    token_ok.validate(good.json())
    emulator.add_fault(Fault("token", "status", status=503))
    failures = [
        api.request_token(grant_type="client_credentials", client_id="nope", client_secret="x"),
        api.request_token(grant_type="client_credentials", client_id=emulator.client_id),
        api.request_token(client_id=emulator.client_id),
    ]
    assert [response.status_code for response in failures] == [503, 400, 400]
    for response in failures:
        oauth_error.validate(response.json())


def test_new_knobs_serve_valid_bodies(api_for: Callable[..., Api], strict: Conformance) -> None:
    api = api_for(
        albums=30, feed_day=2, feed_track_changes=3, search_total=25_000, feed_shortfall=10
    )
    bodies = [("responses/PagedAlbums", b) for b in _pages(api, "/browse/new-releases", "albums")]
    bodies += [
        ("responses/SearchItems", b)
        for b in _pages(api, "/search", "albums", q="tag:new", type="album", limit=10)
    ]
    assert bodies[-1][1]["albums"]["items"] == []  # the short listing's empty last page
    changed = [
        album for album in api.emulator.catalog.albums if album not in api.emulator.catalog.feed(1)
    ]
    ids = ",".join(album.id for album in changed[:20])
    bodies.append(("responses/ManyAlbums", api.json("/albums", ids=ids)))
    for album in changed[:5]:
        bodies.append(("responses/OneAlbum", api.json(f"/albums/{album.id}")))
        bodies.append(
            ("responses/PagingSimplifiedTrackObject", api.json(f"/albums/{album.id}/tracks"))
        )
    api.emulator.add_fault(Fault("*", "same_next"))
    bodies.append(("responses/PagedAlbums", api.json("/browse/new-releases")))
    for ref, body in bodies:
        strict.check(ref, body)
    errors: list[tuple[str, Any]] = [
        ("responses/Unauthorized", api.get("/browse/new-releases", token="forged"))
    ]
    api.emulator.configure(auth_errors="2026")
    errors.append(("responses/Unauthorized", api.get("/browse/new-releases", token="forged")))
    api.emulator.configure(app_forbidden="premium")
    errors.append(("responses/Forbidden", api.get("/browse/new-releases")))
    api.emulator.configure(app_forbidden=None, quota=0)
    errors.append(("responses/TooManyRequests", api.get("/browse/new-releases")))
    for ref, response in errors:
        assert response.headers["content-type"].startswith("application/json")
        strict.check(ref, response.json())
