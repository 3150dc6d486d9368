"""The Dagster instance of `make run` / `make dev`: a DAGSTER_HOME with a local dagster.yaml."""

from __future__ import annotations

from pathlib import Path

from dagster import DagsterInstance

INSTANCE_YAML = """\
# Written by spotify_assets for `make run` / `make dev` into a new DAGSTER_HOME; edit freely.
concurrency:
  pools:
    # One run in the spotify_api pool at a time; the others wait in the queue: Spotify's rate
    # limit is per app, so parallel runs would only slow each other down with 429s. That holds
    # for runs launched in `make dev` (UI, schedule); `make run` executes in its own process,
    # outside the queue.
    default_limit: 1
    granularity: run
python_logs:
  managed_python_loggers:
    - spotify_assets
  python_log_level: INFO
run_monitoring:
  # Enforces the spotify_daily job's dagster/max_runtime tag.
  enabled: true
telemetry:
  enabled: false
# The "Join the Dagster community" dialog would open over the first page of every fresh home.
nux:
  enabled: false
"""


def limit_pool(home: Path, pool: str) -> None:
    """Give `pool` the default_limit of the instance's dagster.yaml now, unless it has a limit
    already (one set by hand stays) or the file sets none: the default takes effect only once
    the daemon has made the pool's row, and the pass that makes it launches every run queued
    by then at once."""
    with DagsterInstance.from_config(str(home)) as instance:
        limit = instance.get_concurrency_config().pool_config.default_pool_limit
        storage = instance.event_log_storage
        if limit is not None and pool not in storage.get_concurrency_keys():
            storage.set_concurrency_slots(pool, limit)


def prepare_dagster_home(home: Path) -> Path:
    """DAGSTER_HOME as an absolute path; a new or empty one gets the dagster.yaml above (an
    existing instance keeps its own configuration)."""
    home = home.resolve()
    if not home.exists() or not any(home.iterdir()):
        home.mkdir(parents=True, exist_ok=True)
        (home / "dagster.yaml").write_text(INSTANCE_YAML)
    return home
