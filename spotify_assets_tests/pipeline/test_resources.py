"""The Spotify resource maps onto the client's configuration whole: same knobs, same defaults."""

from __future__ import annotations

from dataclasses import fields

import pytest
from dagster import Failure

from spotify_assets.defs.spotify.resources import SpotifyResource
from spotify_assets.spotify import ClientConfig
from spotify_assets.spotify.config import defaults


def test_the_resource_has_every_knob_of_the_client_with_the_clients_default() -> None:
    knobs = SpotifyResource.model_fields
    assert set(knobs) == {field.name for field in fields(ClientConfig)} | {"memory_dir"}
    assert {name: knobs[name].default for name in defaults()} == defaults()


def test_the_resource_builds_the_configuration_its_fields_describe() -> None:
    resource = SpotifyResource(client_id="id", client_secret="secret", max_workers=3, market="SE")
    assert resource.client_config() == ClientConfig("id", "secret", max_workers=3, market="SE")


def test_a_setting_the_client_refuses_fails_the_run_without_retries() -> None:
    resource = SpotifyResource(client_id="id", client_secret="secret", page_size=51)
    with pytest.raises(Failure, match=r"page_size must be 1\.\.50, got 51") as refused:
        resource.client_config()
    assert refused.value.allow_retries is False
