"""SpotifyAssetsComponent: the whole Spotify code location, configured in a `defs.yaml`.

This project's own `defs/spotify/defs.yaml` is an instance of it, and any `dg` project gets one
with `dg scaffold defs spotify_assets.defs.spotify.component.SpotifyAssetsComponent <folder>`
(the module is registered under the `dagster_dg_cli.registry_modules` entry point). An attribute
the YAML leaves out falls back to its environment variable (settings.py), then to its default;
credentials have no attribute: the Spotify resource reads them through EnvVar at run time, and
the Iceberg catalog's URI (which may hold a password) is given in YAML only as a reference to an
environment variable, `{{ env.NAME }}`, that the IO manager reads through EnvVar too.
"""

import re
from typing import Annotated, Any

import dagster as dg
from dagster.components import scaffold_component
from dagster.components.resolved.errors import ResolutionException
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
KNOBS = frozenset(SpotifyResource.model_fields) - {*CREDENTIALS, "storage", "markets"}
"""The Spotify resource's fields `spotify:` may set (the storage block sets its storage, the
top-level `markets` its markets)."""
CATALOG_URI_KEY = "storage.iceberg.catalog_uri"
ENV_REFERENCE = re.compile(r"\{\{\s*env(?:\.(\w+)|\(\s*['\"](\w+)['\"]\s*\))\s*\}\}")
"""`{{ env.NAME }}` or `{{ env('NAME') }}`, the templates dg components resolve from the
environment; for the catalog URI the component keeps the name, not the value."""


class ScheduleConfig(dg.Resolvable, dg.Model):
    """When the daily job runs, and by when each day is due."""

    cron: str = Field(
        default=DAILY_CRON,
        description="When spotify_daily_schedule runs that day's partition (UTC).",
    )
    freshness_deadline_cron: str | None = Field(
        default=None,
        description="By when each day should be materialized (UTC); default: two hours after "
        "`cron`, for a cron at one fixed minute and hour.",
    )

    def deadline(self) -> str:
        """The freshness deadline's cron: as given, or two hours after `cron`."""
        deadline = self.freshness_deadline_cron or deadline_after(self.cron)
        if deadline is None:
            raise ValueError(
                f"schedule.cron {self.cron!r} in defs.yaml does not run at one fixed minute and "
                "hour early enough to derive by when a day is due (two hours later, the same "
                "day): set schedule.freshness_deadline_cron too."
            )
        return deadline


def referenced_variable(context: dg.ResolutionContext, raw: str | None) -> str | None:
    """The environment variable that `{{ env.NAME }}` names; any other value is refused, and never
    echoed, since a catalog URI may hold the database's password, which never goes in YAML."""
    if raw is None:
        return None
    reference = ENV_REFERENCE.fullmatch(raw.strip())
    if reference is None:
        raise ResolutionException(
            f"{CATALOG_URI_KEY} in defs.yaml takes only a reference to an environment variable, "
            "such as '{{ env.TEAM_ICEBERG_CATALOG_URI }}': the URI may hold a password, which "
            f"never goes in YAML. Or leave it out and set {settings.ICEBERG_CATALOG_URI}."
        )
    return reference.group(1) or reference.group(2)


class IcebergConfig(dg.Resolvable, dg.Model):
    """The Iceberg tables' SQL catalog and namespace (with `table_format: iceberg`)."""

    model_config = ConfigDict(hide_input_in_errors=True)

    catalog_uri_variable: Annotated[
        str | None,
        dg.Resolver(
            referenced_variable,
            model_field_name="catalog_uri",
            model_field_type=str,
            inject_before_resolve=False,
            description="The SQLAlchemy URL of the SQL catalog, only as a reference to the "
            "environment variable holding it: '{{ env.NAME }}'. Default "
            f"{settings.ICEBERG_CATALOG_URI} when set, else SQLite under a local data dir.",
        ),
    ] = None
    namespace: str | None = Field(
        default=None,
        description=f"The namespace of the two tables; default {settings.ICEBERG_NAMESPACE}, "
        f"else {settings.DEFAULT_ICEBERG_NAMESPACE}.",
    )


CREDENTIAL_OPTIONS = ("key", "secret", "token")
"""s3fs storage options that hold credentials."""
CREDENTIAL_CLIENT_KWARGS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
"""botocore client arguments (under client_kwargs) that hold credentials."""


class StorageConfig(dg.Resolvable, dg.Model):
    """Where the data lives (the data_storage resource) and as what: Parquet files or Iceberg
    tables (the io_manager resource)."""

    # Storage options may hold keys: a refused value is named, never echoed.
    model_config = ConfigDict(hide_input_in_errors=True)

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
    table_format: settings.TableFormat | None = Field(
        default=None,
        description="parquet (a file per asset per day) or iceberg (two tables in a SQL "
        f"catalog, the warehouse under data_dir); default {settings.TABLE_FORMAT}, else "
        f"{settings.DEFAULT_TABLE_FORMAT}.",
    )
    iceberg: IcebergConfig = Field(default_factory=IcebergConfig)

    @field_validator("storage_options")
    @classmethod
    def _no_credentials(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Refuse S3 keys in the options: they would show in the run config and the UI."""
        nested = value.get("client_kwargs")
        found = [f"storage.storage_options.{key}" for key in CREDENTIAL_OPTIONS if key in value]
        if isinstance(nested, dict):
            found += [
                f"storage.storage_options.client_kwargs.{key}"
                for key in CREDENTIAL_CLIENT_KWARGS
                if key in nested
            ]
        if found:
            raise ValueError(
                f"{', '.join(found)}: credentials never go in defs.yaml, where the run config and "
                "the UI would show them; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and "
                "AWS_SESSION_TOKEN if any) in the environment instead"
            )
        return value

    @field_validator("table_format", mode="before")
    @classmethod
    def _a_table_format(cls, value: object) -> object:
        """Refuse anything but a known table format, naming the key and the choices."""
        if value is None or value in settings.TABLE_FORMATS:
            return value
        raise ValueError(
            f"storage.table_format in defs.yaml is not a table format: use "
            f"{' or '.join(settings.TABLE_FORMATS)} (left out: {settings.TABLE_FORMAT}, else "
            f"{settings.DEFAULT_TABLE_FORMAT})"
        )

    def tables(self, environ: settings.Settings, data_dir: str) -> TableFormatConfig:
        """The table format, catalog and namespace, each from the YAML or else `environ`.

        Iceberg on object storage without a catalog URI fails as the code location loads, naming
        the YAML keys or variables that chose the format and `data_dir`: the default SQLite
        catalog can only live in a local folder.
        """
        catalog = self.iceberg.catalog_uri_variable or (
            settings.ICEBERG_CATALOG_URI if environ.iceberg_catalog_uri_set else None
        )
        chosen = TableFormatConfig(
            table_format=self.table_format or environ.table_format,
            catalog_uri_variable=catalog,
            namespace=self.iceberg.namespace or environ.iceberg_namespace,
        )
        if chosen.table_format == "iceberg" and catalog is None and not settings.is_local(data_dir):
            table_format = (
                "storage.table_format in defs.yaml" if self.table_format else settings.TABLE_FORMAT
            )
            where = "storage.data_dir in defs.yaml" if self.data_dir else settings.DATA_DIR
            raise ValueError(
                f"{table_format}=iceberg with {where}={data_dir!r} (object storage) needs a "
                f"catalog: set {settings.ICEBERG_CATALOG_URI} (or {CATALOG_URI_KEY}: "
                "'{{ env.NAME }}' in defs.yaml) to a SQLAlchemy URL of a database every run "
                "reaches, e.g. postgresql+psycopg2://user:password@host:5432/iceberg; the "
                "default SQLite catalog can only live in a local folder."
            )
        return chosen


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
# Spotify's new releases and every track of their albums, per UTC day, as Parquet files or
# Iceberg tables: the assets new_releases and album_tracks, their checks, the job spotify_daily
# and its schedule, and the resources data_storage, io_manager, track_reuse and spotify.
# Credentials never go here: set {settings.CLIENT_ID} and {settings.CLIENT_SECRET} in the
# environment (or .env); the spotify resource reads them at run time. An attribute left out
# falls back to its environment variable ({settings.DATA_DIR}, {settings.MARKETS},
# {settings.API_BASE_URL}, ...), then to its default.
type: {type_name}

attributes:
  group_name: {GROUP}  # the asset group of both assets
  # markets: [US, SE]  # a feed per market (ISO codes); default {settings.MARKETS}, else one feed
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
  #   table_format: iceberg  # parquet or iceberg; default {settings.TABLE_FORMAT}, else parquet
  #   iceberg:
  #     # The catalog's SQLAlchemy URL may hold a password: only as a reference to a variable.
  #     # Default {settings.ICEBERG_CATALOG_URI}, else SQLite under a local data_dir.
  #     catalog_uri: "{{{{ env.TEAM_ICEBERG_CATALOG_URI }}}}"
  #     namespace: {settings.DEFAULT_ICEBERG_NAMESPACE}  # default {settings.ICEBERG_NAMESPACE}
  # spotify:  # fields of the spotify resource, e.g.:
  #   new_releases_source: auto  # browse, search or auto
  #   max_requests_per_second: 5
"""


@dg.scaffold_with(SpotifyAssetsScaffolder)
class SpotifyAssetsComponent(dg.Component, dg.Resolvable, dg.Model):
    """Spotify's daily new releases and every track of their albums, as Parquet files or Iceberg
    tables, with their checks, the daily job and schedule, the concurrency pool and the
    resources."""

    # A refused value is named, never echoed: it may be a secret put where it does not belong.
    model_config = ConfigDict(hide_input_in_errors=True)

    group_name: str = Field(default=GROUP, description="The asset group of both assets.")
    markets: list[str] | None = Field(
        default=None,
        description="ISO 3166-1 alpha-2 codes of the markets whose feeds are read, e.g. [US, "
        f"SE]; default {settings.MARKETS} (or {settings.MARKET}), else one feed without a "
        "market ([] too).",
    )
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

    @field_validator("markets")
    @classmethod
    def _country_codes(cls, markets: list[str] | None) -> list[str] | None:
        """Refuse a market that is not an ISO 3166-1 alpha-2 code, or one listed twice."""
        if markets is None:
            return None
        wrong = [code for code in markets if code not in settings.COUNTRY_CODES]
        if wrong or len(set(markets)) != len(markets):
            raise ValueError(
                "markets in defs.yaml must list distinct ISO 3166-1 alpha-2 country codes in "
                f"capitals, e.g. [US, SE, DE], not {markets}"
                + (f": {', '.join(map(repr, wrong))} is not such a code" if wrong else "")
                + (" (the United Kingdom is GB)" if "UK" in wrong else "")
                + f"; or leave markets out to use {settings.MARKETS}"
            )
        return markets

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
        if "markets" in knobs:
            raise ValueError(
                "spotify.markets: the markets are set at the top of the attributes, "
                "`markets: [US, SE]`, not under spotify"
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
        if self.markets is not None:
            markets, origins["markets"] = self.markets, "markets in defs.yaml"
        else:
            markets = list(environ.markets)
            origins["markets"] = environ.markets_variable or settings.MARKETS
        data_dir = self.storage.data_dir or environ.data_dir
        tables = self.storage.tables(environ, data_dir)
        freshness = freshness_policy(self.schedule.deadline())
        return dg.Definitions(
            assets=spotify_assets(self.group_name, self.pool, freshness, tables.table_format),
            schedules=[spotify_daily(self.schedule.cron)],
            resources=resources(
                data_dir,
                self.storage.storage_options,
                {**environ.client, **self.spotify, "markets": markets},
                self.reuse.max_age_days,
                origins,
                tables=tables,
            ),
        )
