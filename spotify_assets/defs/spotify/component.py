"""SpotifyAssetsComponent: the whole Spotify code location, configured in a `defs.yaml`.

This project's own `defs/spotify/defs.yaml` is an instance of it, and any `dg` project gets one
with `dg scaffold defs spotify_assets.defs.spotify.component.SpotifyAssetsComponent <folder>`
(the module is registered under the `dagster_dg_cli.registry_modules` entry point). An attribute
the YAML leaves out falls back to its environment variable (settings.py), then to its default;
credentials have no attribute: the Spotify resource reads them through EnvVar at run time.
"""

from typing import Any

import dagster as dg
from dagster.components import scaffold_component
from pydantic import ConfigDict, Field, field_validator

from spotify_assets import settings
from spotify_assets.defs.spotify.assets import GROUP, POOL, freshness_policy, spotify_assets
from spotify_assets.defs.spotify.partitions import (
    DAILY_CRON,
    FRESHNESS_DEADLINE_CRON,
    deadline_after,
)
from spotify_assets.defs.spotify.resources import SpotifyResource, TableFormatConfig, resources
from spotify_assets.defs.spotify.reuse import DEFAULT_MAX_AGE_DAYS
from spotify_assets.defs.spotify.schedules import spotify_daily

CREDENTIALS = {"client_id": settings.CLIENT_ID, "client_secret": settings.CLIENT_SECRET}
KNOBS = frozenset(SpotifyResource.model_fields) - {*CREDENTIALS, "storage"}
"""The Spotify resource's fields `spotify:` may set (the storage block sets its storage)."""


class ScheduleConfig(dg.Resolvable, dg.Model):
    """When the daily job runs, and by when each day is due."""

    cron: str = Field(
        default=DAILY_CRON,
        description="When spotify_daily_schedule runs that day's partition (UTC).",
    )
    freshness_deadline_cron: str | None = Field(
        default=None,
        description="By when each day should be materialized (UTC); default: two hours after "
        "`cron`, for a cron that ticks once a day at a fixed time.",
    )

    def deadline(self) -> str:
        """The freshness deadline's cron: as given, or two hours after `cron`."""
        deadline = self.freshness_deadline_cron or deadline_after(self.cron)
        if deadline is None:
            raise ValueError(
                f"schedule.cron {self.cron!r} in defs.yaml does not tick once a day at a fixed "
                "time early enough to derive by when a day is due (two hours later, the same "
                "day): set schedule.freshness_deadline_cron too."
            )
        return deadline


class StorageConfig(dg.Resolvable, dg.Model):
    """Where the data lives (the data_storage resource)."""

    data_dir: str | None = Field(
        default=None,
        description=f"A folder or fsspec URL such as s3://bucket/prefix; default "
        f"{settings.DATA_DIR}, else {settings.DEFAULT_DATA_DIR}.",
    )
    storage_options: dict[str, Any] = Field(
        default_factory=dict,
        description="fsspec storage options, e.g. endpoint_url; keep secrets out (S3 keys come "
        "from the AWS_* variables).",
    )


class ReuseConfig(dg.Resolvable, dg.Model):
    """How album_tracks reuses stored tracks (the track_reuse resource)."""

    max_age_days: int = Field(
        default=DEFAULT_MAX_AGE_DAYS,
        ge=0,
        description="Reuse an album's stored tracks fetched at most this many days before; 0: "
        "fetch every album.",
    )


class SpotifyAssetsScaffolder(dg.Scaffolder):
    """Writes a defs.yaml that explains every attribute, with the defaults filled in."""

    def scaffold(self, request: dg.ScaffoldRequest) -> None:
        """The commented defs.yaml (or, asked for Python, Dagster's component.py stub)."""
        if request.scaffold_format != "yaml":
            scaffold_component(request)
            return
        (request.target_path / "defs.yaml").write_text(defs_yaml(request.type_name))


def defs_yaml(type_name: str) -> str:
    """A defs.yaml of component `type_name` at its defaults, each attribute explained."""
    return f"""\
# Spotify's new releases and every track of their albums, one Parquet file per asset per UTC
# day: the assets new_releases and album_tracks, their checks, the job spotify_daily and its
# schedule, and the resources data_storage, io_manager, track_reuse and spotify.
# Credentials never go here: set {settings.CLIENT_ID} and {settings.CLIENT_SECRET} in the
# environment (or .env); the spotify resource reads them at run time. An attribute left out
# falls back to its environment variable ({settings.DATA_DIR}, {settings.API_BASE_URL},
# ...), then to its default.
type: {type_name}

attributes:
  group_name: {GROUP}  # the asset group of both assets
  pool: {POOL}  # the concurrency pool of the steps that call Spotify; limit it to 1 run
  schedule:
    cron: "{DAILY_CRON}"  # when spotify_daily_schedule runs that day's partition (UTC)
    # freshness_deadline_cron: "{FRESHNESS_DEADLINE_CRON}"  # when a day is due; default: cron + 2 h
  reuse:
    max_age_days: {DEFAULT_MAX_AGE_DAYS}  # reuse tracks stored up to this many days ago; 0: off
  # storage:
  #   data_dir: s3://bucket/spotify  # a folder or fsspec URL; default {settings.DATA_DIR}
  #   storage_options:  # fsspec options; S3 keys come from the AWS_* variables
  #     endpoint_url: http://127.0.0.1:8333
  # spotify:  # fields of the spotify resource, e.g.:
  #   new_releases_source: auto  # browse, search or auto
  #   max_requests_per_second: 5
"""


@dg.scaffold_with(SpotifyAssetsScaffolder)
class SpotifyAssetsComponent(dg.Component, dg.Resolvable, dg.Model):
    """Spotify's daily new releases and every track of their albums, as Parquet, with their
    checks, the daily job and schedule, the concurrency pool and the resources."""

    # A refused value is named, never echoed: it may be a secret put where it does not belong.
    model_config = ConfigDict(hide_input_in_errors=True)

    group_name: str = Field(default=GROUP, description="The asset group of both assets.")
    pool: str = Field(
        default=POOL, description="The concurrency pool of every step that calls Spotify."
    )
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    reuse: ReuseConfig = Field(default_factory=ReuseConfig)
    spotify: dict[str, Any] = Field(
        default_factory=dict,
        description="Fields of the spotify resource (page sizes, workers, pace, retries, "
        "timeouts, API and token URLs, ...), never its credentials.",
    )

    @field_validator("spotify")
    @classmethod
    def _knobs_only(cls, knobs: dict[str, Any]) -> dict[str, Any]:
        """Refuse credentials and fields the resource does not have, naming what to do."""
        for field, variable in CREDENTIALS.items():
            if field in knobs:
                raise ValueError(
                    f"spotify.{field}: credentials never go in defs.yaml; set {variable} in the "
                    "environment (or .env), which the spotify resource reads at run time"
                )
        unknown = sorted(set(knobs) - KNOBS)
        if unknown:
            raise ValueError(
                f"spotify: no field {', '.join(unknown)} on the spotify resource; it has "
                + ", ".join(sorted(KNOBS))
            )
        return knobs

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """The definitions, the environment (read now) filling in what the YAML leaves out."""
        environ = settings.Settings.from_environ()
        origins = {field: name for name, field in settings.CLIENT_FIELDS.items()}
        origins |= {field: f"spotify.{field} in defs.yaml" for field in self.spotify}
        return dg.Definitions(
            assets=spotify_assets(
                self.group_name, self.pool, freshness_policy(self.schedule.deadline())
            ),
            schedules=[spotify_daily(self.schedule.cron)],
            resources=resources(
                self.storage.data_dir or environ.data_dir,
                self.storage.storage_options,
                {**environ.client, **self.spotify},
                self.reuse.max_age_days,
                origins,
                tables=TableFormatConfig(
                    environ.table_format,
                    settings.ICEBERG_CATALOG_URI if environ.iceberg_catalog_uri else None,
                    environ.iceberg_namespace,
                ),
            ),
        )
