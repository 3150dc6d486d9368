"""The Spotify resource maps onto the client's configuration whole: same knobs, same defaults."""

from __future__ import annotations

from dataclasses import fields

import pytest
from dagster import Failure, Shape

from spotify_assets.defs.spotify.resources import SpotifyResource
from spotify_assets.defs.storage import DataStorage
from spotify_assets.spotify import ClientConfig
from spotify_assets.spotify.config import defaults

STORAGE = DataStorage(data_dir="data")


def test_the_resource_has_every_knob_of_the_client_with_the_clients_default() -> None:
    knobs = SpotifyResource.model_fields
    assert set(knobs) == {field.name for field in fields(ClientConfig)} | {"storage", "markets"}
    assert {name: knobs[name].default for name in defaults()} == defaults()


def test_the_resource_builds_the_configuration_its_fields_describe() -> None:
    resource = SpotifyResource(
        client_id="id", client_secret="secret", storage=STORAGE, max_workers=3
    )
    assert resource.client_config() == ClientConfig("id", "secret", max_workers=3)


def test_a_setting_the_client_refuses_fails_the_run_without_retries() -> None:
    resource = SpotifyResource(
        client_id="id", client_secret="secret", storage=STORAGE, page_size=51
    )
    with pytest.raises(Failure, match=r"page_size must be 1\.\.50, got 51") as refused:
        resource.client_config()
    assert refused.value.allow_retries is False


def test_the_client_secret_is_marked_secret_and_nothing_else_is() -> None:
    config = SpotifyResource.to_config_schema().as_field().config_type
    assert isinstance(config, Shape)
    assert {name for name, field in config.fields.items() if field.is_secret} == {"client_secret"}


def test_markets_are_read_in_order_and_none_means_one_feed_without_a_market() -> None:
    def markets(*codes: str) -> tuple[str | None, ...]:
        return SpotifyResource(
            client_id="id", client_secret="s", storage=STORAGE, markets=list(codes)
        ).feed_markets()

    assert markets("US", "SE", "DE") == ("US", "SE", "DE")
    assert markets() == (None,)
    for wrong, said in ((("US", "se"), "not 'se'"), (("SE", "SE"), "each market once")):
        with pytest.raises(Failure, match=said) as refused:
            markets(*wrong)
        assert refused.value.allow_retries is False
