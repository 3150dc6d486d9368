"""SpotifyAssetsComponent from YAML to Definitions: the scaffolded defs.yaml, every attribute, the
environment filling in what the YAML leaves out, and what it refuses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import (
    AssetKey,
    Definitions,
    EnvVar,
    FreshnessPolicy,
    OpDefinition,
    in_process_executor,
)
from dagster.components.testing import DefsFolderSandbox, create_defs_folder_sandbox

from spotify_assets import settings
from spotify_assets.defs.iceberg.io_manager import IcebergIOManager
from spotify_assets.defs.io_manager import ParquetIOManager
from spotify_assets.defs.spotify.component import SpotifyAssetsComponent
from spotify_assets.defs.spotify.schedules import DAILY_JOB_NAME, DAILY_SCHEDULE_NAME

DOCS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "component.md"
YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```$", re.MULTILINE | re.DOTALL)
SECRET = "a-secret-put-in-yaml"
RESOURCES = {"data_storage", "io_manager", "track_reuse", "spotify"}
FOLDER = "spotify"
TABLE_VARIABLES = [
    settings.DATA_DIR,
    settings.TABLE_FORMAT,
    settings.ICEBERG_CATALOG_URI,
    settings.ICEBERG_NAMESPACE,
]
CATALOG_VARIABLE = "TEAM_ICEBERG_CATALOG_URI"
CATALOG_URI = f"postgresql+psycopg2://team:{SECRET}@db.internal:5432/lake"
EVERY_ATTRIBUTE: dict[str, Any] = {
    "group_name": "music",
    "markets": ["US", "SE"],
    "pool": "music_api",
    "schedule": {"cron": "30 4 * * 1-5"},
    "storage": {"data_dir": "s3://lake/spotify", "storage_options": {"endpoint_url": "http://s3"}},
    "reuse": {"max_age_days": 2},
    "spotify": {"new_releases_source": "search", "max_workers": 3},
}


@pytest.fixture(autouse=True)
def unset_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Spotify setting of this process's environment reaches the component unless a test
    sets it."""
    for variable in [*settings.CLIENT_FIELDS, settings.MARKETS, settings.MARKET, *TABLE_VARIABLES]:
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def sandbox() -> Iterator[DefsFolderSandbox]:
    """A throwaway dg project's defs folder holding the component as `dg scaffold defs` writes
    it."""
    with create_defs_folder_sandbox() as folder:
        folder.scaffold_component(component_cls=SpotifyAssetsComponent, defs_path=FOLDER)
        yield folder


def built(sandbox: DefsFolderSandbox, attributes: dict[str, Any] | None = None) -> Definitions:
    """The definitions of the scaffolded component, its attributes replaced when given."""
    defs_yaml = sandbox.defs_folder_path / FOLDER / "defs.yaml"
    if attributes is not None:
        scaffolded = yaml.safe_load(defs_yaml.read_text())
        defs_yaml.write_text(yaml.safe_dump({**scaffolded, "attributes": attributes}))
    return loaded(sandbox)


def loaded(sandbox: DefsFolderSandbox) -> Definitions:
    """The definitions of the component's defs.yaml as it stands."""
    with sandbox.load_component_and_build_defs(defs_path=Path(FOLDER)) as (component, defs):
        assert isinstance(component, SpotifyAssetsComponent)
        return defs


def pools(defs: Definitions) -> set[str | None]:
    """The concurrency pools of the daily job's steps."""
    job = defs.resolve_job_def(DAILY_JOB_NAME)
    return {op.pool for op in job.graph.node_defs if isinstance(op, OpDefinition)}


def resource_fields(defs: Definitions, key: str) -> dict[str, Any]:
    """The fields a resource of `defs` is configured with."""
    resource = (defs.resources or {})[key]
    fields: dict[str, Any] = resource.data if hasattr(resource, "data") else dict(resource)
    return fields


def test_the_scaffolded_defs_yaml_explains_itself_and_sets_the_defaults(
    sandbox: DefsFolderSandbox,
) -> None:
    text = (sandbox.defs_folder_path / FOLDER / "defs.yaml").read_text()
    assert "Credentials never go here: set SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET" in text
    assert "# storage:" in text and "# spotify:" in text
    scaffolded = yaml.safe_load(text)
    assert scaffolded["type"] == "spotify_assets.defs.spotify.component.SpotifyAssetsComponent"
    defaults = SpotifyAssetsComponent().model_dump()
    assert scaffolded["attributes"] == {
        key: defaults[key] if key != "schedule" else {"cron": defaults["schedule"]["cron"]}
        for key in scaffolded["attributes"]
    }

    defs = built(sandbox)
    specs = {spec.key: spec for spec in defs.resolve_all_asset_specs()}
    assert set(specs) == {AssetKey("new_releases"), AssetKey("album_tracks")}
    assert {spec.group_name for spec in specs.values()} == {"spotify"}
    assert {frozenset(spec.kinds) for spec in specs.values()} == {frozenset({"python", "parquet"})}
    assert len(defs.resolve_asset_graph().asset_check_keys) == 7
    job = defs.resolve_job_def(DAILY_JOB_NAME)
    assert job.executor_def is in_process_executor
    assert pools(defs) == {"spotify_api"}
    assert defs.resolve_schedule_def(DAILY_SCHEDULE_NAME).cron_schedule == "0 6 * * *"
    assert set(defs.resources or {}) == RESOURCES
    assert isinstance((defs.resources or {})["io_manager"], ParquetIOManager)
    assert resource_fields(defs, "data_storage")["data_dir"] == settings.DEFAULT_DATA_DIR
    assert resource_fields(defs, "track_reuse")["max_age_days"] == 7


def test_every_attribute_reaches_its_definition(sandbox: DefsFolderSandbox) -> None:
    defs = built(sandbox, EVERY_ATTRIBUTE)
    specs = list(defs.resolve_all_asset_specs())
    assert {spec.group_name for spec in specs} == {"music"}
    assert {spec.freshness_policy for spec in specs} == {
        FreshnessPolicy.cron(deadline_cron="30 6 * * 1-5", lower_bound_delta=timedelta(hours=2))
    }
    assert pools(defs) == {"music_api"}
    assert defs.resolve_schedule_def(DAILY_SCHEDULE_NAME).cron_schedule == "30 4 * * 1-5"
    storage = resource_fields(defs, "data_storage")
    assert storage == {
        "data_dir": "s3://lake/spotify",
        "storage_options": {"endpoint_url": "http://s3"},
    }
    assert resource_fields(defs, "track_reuse")["max_age_days"] == 2
    spotify = (defs.resources or {})["spotify"]
    assert (spotify.new_releases_source, spotify.max_workers) == ("search", 3)
    assert spotify.markets == ["US", "SE"]


@pytest.mark.parametrize(
    ("variables", "attributes", "markets"),
    [
        ({}, {}, []),
        ({settings.MARKETS: "US,DE"}, {}, ["US", "DE"]),
        ({settings.MARKET: "SE"}, {}, ["SE"]),
        ({settings.MARKETS: "US,DE"}, {"markets": ["SE"]}, ["SE"]),
        ({settings.MARKETS: "US,DE"}, {"markets": []}, []),
    ],
)
def test_the_markets_come_from_the_yaml_else_from_the_environment(
    sandbox: DefsFolderSandbox,
    monkeypatch: pytest.MonkeyPatch,
    variables: dict[str, str],
    attributes: dict[str, Any],
    markets: list[str],
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    spotify = (built(sandbox, attributes).resources or {})["spotify"]
    assert spotify.markets == markets


def test_the_environment_fills_in_what_the_yaml_leaves_out(
    sandbox: DefsFolderSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(settings.DATA_DIR, "s3://from-the-environment")
    monkeypatch.setenv(settings.API_BASE_URL, "http://proxy.internal/v1")
    monkeypatch.setenv(settings.NEW_RELEASES_SOURCE, "browse")
    defs = built(sandbox, {"spotify": {"new_releases_source": "search"}})
    assert resource_fields(defs, "data_storage")["data_dir"] == "s3://from-the-environment"
    spotify = (defs.resources or {})["spotify"]
    assert (spotify.api_base_url, spotify.new_releases_source) == (
        "http://proxy.internal/v1",
        "search",
    )
    defs = built(sandbox, {"storage": {"data_dir": "/srv/lake"}})
    assert resource_fields(defs, "data_storage")["data_dir"] == "/srv/lake"


def kinds(defs: Definitions) -> set[frozenset[str]]:
    """The kinds tags of the assets of `defs`."""
    return {frozenset(spec.kinds) for spec in defs.resolve_all_asset_specs()}


def test_iceberg_in_the_yaml_picks_the_iceberg_io_manager_on_the_catalog_it_references(
    sandbox: DefsFolderSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CATALOG_VARIABLE, CATALOG_URI)
    iceberg = {"catalog_uri": f"{{{{ env.{CATALOG_VARIABLE} }}}}", "namespace": "music"}
    storage = {"data_dir": "s3://lake/spotify", "table_format": "iceberg", "iceberg": iceberg}
    defs = built(sandbox, {"storage": storage})

    resources = defs.resources or {}
    assert set(resources) == RESOURCES
    io_manager = resources["io_manager"]
    assert isinstance(io_manager, IcebergIOManager)
    catalog = io_manager.catalog
    assert isinstance(catalog.uri, EnvVar) and catalog.uri.env_var_name == CATALOG_VARIABLE
    assert catalog.namespace == "music"
    assert catalog.storage is resources["data_storage"]
    assert resources["track_reuse"].iceberg is catalog
    assert kinds(defs) == {frozenset({"python", "iceberg"})}
    assert SECRET not in repr(resources)
    function_form = {**iceberg, "catalog_uri": f"{{{{ env('{CATALOG_VARIABLE}') }}}}"}
    defs = built(sandbox, {"storage": {**storage, "iceberg": function_form}})
    uri = (defs.resources or {})["io_manager"].catalog.uri
    assert isinstance(uri, EnvVar) and uri.env_var_name == CATALOG_VARIABLE


def test_the_environment_sets_the_table_format_the_yaml_leaves_out(
    sandbox: DefsFolderSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(settings.TABLE_FORMAT, "iceberg")
    monkeypatch.setenv(settings.ICEBERG_CATALOG_URI, CATALOG_URI)
    monkeypatch.setenv(settings.ICEBERG_NAMESPACE, "catalog_data")
    defs = built(sandbox, {})
    catalog = (defs.resources or {})["io_manager"].catalog
    assert isinstance(catalog.uri, EnvVar)
    assert catalog.uri.env_var_name == settings.ICEBERG_CATALOG_URI
    assert catalog.namespace == "catalog_data"
    assert kinds(defs) == {frozenset({"python", "iceberg"})}

    defs = built(sandbox, {"storage": {"table_format": "parquet"}})
    assert isinstance((defs.resources or {})["io_manager"], ParquetIOManager)
    assert (defs.resources or {})["track_reuse"].iceberg is None
    assert kinds(defs) == {frozenset({"python", "parquet"})}

    monkeypatch.delenv(settings.ICEBERG_CATALOG_URI)
    defs = built(sandbox, {"storage": {"data_dir": "/srv/lake"}})
    assert (defs.resources or {})["io_manager"].catalog.uri is None, "SQLite under the data dir"


def test_iceberg_on_object_storage_without_a_catalog_names_the_variables(
    sandbox: DefsFolderSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(settings.TABLE_FORMAT, "iceberg")
    monkeypatch.setenv(settings.DATA_DIR, "s3://bucket/prefix")
    with pytest.raises(Exception) as refused:
        built(sandbox, {})
    assert (
        "SPOTIFY_ASSETS_TABLE_FORMAT=iceberg with SPOTIFY_ASSETS_DATA_DIR='s3://bucket/prefix' "
        "(object storage) needs a catalog: set SPOTIFY_ASSETS_ICEBERG_CATALOG_URI"
    ) in causes(refused.value)
    monkeypatch.setenv(settings.TABLE_FORMAT, "delta")
    with pytest.raises(Exception) as refused:
        built(sandbox, {"storage": {"table_format": "iceberg", "data_dir": "/srv/lake"}})
    assert "SPOTIFY_ASSETS_TABLE_FORMAT='delta' is not a table format" in causes(refused.value)


def causes(error: BaseException) -> str:
    """The messages of `error` and of every exception that caused it."""
    messages: list[str] = []
    current: BaseException | None = error
    while current is not None:
        messages.append(str(current))
        current = current.__cause__
    return "\n".join(messages)


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        (
            {"spotify": {"client_secret": SECRET}},
            "spotify.client_secret: credentials never go in defs.yaml; set "
            "SPOTIFY_CLIENT_SECRET in the environment",
        ),
        ({"spotify": {"max_worker": 3}}, "no field max_worker on the spotify resource"),
        ({"spotify": {"markets": ["US"]}}, "spotify.markets: the markets are set at the top"),
        (
            {"markets": ["US", "UK"]},
            "markets in defs.yaml must list distinct ISO 3166-1 alpha-2 country codes in "
            "capitals, e.g. [US, SE, DE], not ['US', 'UK']: 'UK' is not such a code (the United "
            "Kingdom is GB)",
        ),
        ({"markets": ["SE", "SE"]}, "markets in defs.yaml must list distinct ISO 3166-1"),
        ({"spotify": {"page_size": "many"}}, "spotify.page_size in defs.yaml='many'"),
        ({"reuse": {"max_age_days": -1}}, "greater than or equal to 0"),
        (
            {"storage": {"storage_options": {"key": "AKIA", "secret": "wJalr"}}},
            "storage.storage_options.key, storage.storage_options.secret: credentials never go "
            "in defs.yaml",
        ),
        (
            {"storage": {"storage_options": {"client_kwargs": {"aws_secret_access_key": "wJalr"}}}},
            "storage.storage_options.client_kwargs.aws_secret_access_key: credentials never go",
        ),
        ({"schedule": {"cron": "0 */6 * * *"}}, "set schedule.freshness_deadline_cron too"),
        ({"group": "music"}, "group"),
        (
            {"storage": {"table_format": "delta"}},
            "storage.table_format in defs.yaml is not a table format: use parquet or iceberg",
        ),
        (
            {"storage": {"table_format": "iceberg", "iceberg": {"catalog_uri": CATALOG_URI}}},
            "storage.iceberg.catalog_uri in defs.yaml takes only a reference to an environment "
            "variable, such as '{{ env.TEAM_ICEBERG_CATALOG_URI }}'",
        ),
        (
            {"storage": {"data_dir": "s3://lake/spotify", "table_format": "iceberg"}},
            "storage.table_format in defs.yaml=iceberg with storage.data_dir in "
            "defs.yaml='s3://lake/spotify' (object storage) needs a catalog: set "
            "SPOTIFY_ASSETS_ICEBERG_CATALOG_URI (or storage.iceberg.catalog_uri:",
        ),
    ],
)
def test_a_wrong_attribute_is_refused_saying_what_to_do(
    sandbox: DefsFolderSandbox, attributes: dict[str, Any], message: str
) -> None:
    with pytest.raises(Exception) as refused:
        built(sandbox, attributes)
    assert message in causes(refused.value)
    assert SECRET not in causes(refused.value)


def test_a_cron_that_is_not_daily_takes_an_explicit_freshness_deadline(
    sandbox: DefsFolderSandbox,
) -> None:
    schedule = {"cron": "0 */6 * * *", "freshness_deadline_cron": "0 23 * * *"}
    defs = built(sandbox, {"schedule": schedule})
    [policy] = {spec.freshness_policy for spec in defs.resolve_all_asset_specs()}
    assert policy == FreshnessPolicy.cron(
        deadline_cron="0 23 * * *", lower_bound_delta=timedelta(hours=2)
    )
    assert defs.resolve_schedule_def(DAILY_SCHEDULE_NAME).cron_schedule == "0 */6 * * *"


def test_the_defs_yaml_of_the_docs_builds_what_it_says(
    sandbox: DefsFolderSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://seaweedfs:8333")
    monkeypatch.setenv(CATALOG_VARIABLE, CATALOG_URI)
    [documented] = YAML_BLOCK.findall(DOCS_PAGE.read_text())
    (sandbox.defs_folder_path / FOLDER / "defs.yaml").write_text(documented)
    defs = loaded(sandbox)
    specs = list(defs.resolve_all_asset_specs())
    assert {spec.group_name for spec in specs} == {"music_catalog"}
    assert {tuple(spec.owners) for spec in specs} == {("team:music-analytics",)}
    assert defs.resolve_schedule_def(DAILY_SCHEDULE_NAME).cron_schedule == "30 5 * * *"
    assert resource_fields(defs, "data_storage") == {
        "data_dir": "s3://lake/raw/spotify",
        "storage_options": {"endpoint_url": "http://seaweedfs:8333"},
    }
    spotify = (defs.resources or {})["spotify"]
    assert (spotify.new_releases_source, spotify.max_requests_per_second) == ("search", 5)
    assert spotify.markets == ["US", "SE"]
    catalog = (defs.resources or {})["io_manager"].catalog
    assert (catalog.uri.env_var_name, catalog.namespace) == (CATALOG_VARIABLE, "music")
    assert kinds(defs) == {frozenset({"python", "iceberg"})}
