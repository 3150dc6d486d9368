"""The one-screen summary `make run` prints: files, rows, requests and check results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dagster import AssetCheckEvaluation, AssetCheckSeverity, ExecuteInProcessResult

from spotify_assets.contract import names


@dataclass(frozen=True)
class Summary:
    """The printed summary and whether everything (run and checks) succeeded."""

    text: str
    ok: bool


def _value(metadata: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """The raw value of a metadata entry."""
    entry = metadata.get(key)
    return default if entry is None else getattr(entry, "value", entry)


def summarize(result: ExecuteInProcessResult, backend: str) -> Summary:
    """Summarize an in-process run of the daily job."""
    materialized = {
        event.asset_key.path[-1]: event.step_materialization_data.materialization.metadata
        for event in result.get_asset_materialization_events()
        if event.asset_key is not None
    }
    evaluations = result.get_asset_check_evaluations()
    failed_checks = [
        e for e in evaluations if not e.passed and e.severity == AssetCheckSeverity.ERROR
    ]
    warned = [e for e in evaluations if not e.passed and e.severity == AssetCheckSeverity.WARN]
    lines = [
        f"Run {result.run_id} {'succeeded' if result.success else 'FAILED'} "
        f"(partition {result.dagster_run.tags.get('dagster/partition', '?')}, {backend})",
        "",
    ]
    totals = dict.fromkeys(names.REQUEST_COUNTERS, 0.0)
    for asset in names.ASSETS:
        metadata = materialized.get(asset)
        if metadata is None:
            lines.append(f"  {asset:<13} not materialized")
            continue
        rows = _value(metadata, names.PARTITION_ROW_COUNT, 0)
        lines.append(f"  {asset:<13} {rows:>7,} rows {_how(metadata):<22} {_where(metadata)}")
        if asset == names.NEW_RELEASES and _markets(metadata):
            lines.append(f"  {'':<13} {_markets(metadata)}")
        if asset == names.ALBUM_TRACKS:
            lines.append(f"  {'':<13} {_reuse(metadata)}")
        for counter in names.REQUEST_COUNTERS:
            totals[counter] += float(_value(metadata, counter, 0))
    lines += [
        "",
        f"  requests      {int(totals[names.REQUESTS])} to the API + "
        f"{int(totals[names.TOKEN_REQUESTS])} for tokens, {int(totals[names.RETRIES])} retries, "
        f"{int(totals[names.HTTP_429])} x 429, {totals[names.WAITED_S]:.1f} s waited",
        f"  checks        {len(evaluations) - len(failed_checks) - len(warned)} passed, "
        f"{len(failed_checks)} failed" + (f", {len(warned)} warned" if warned else ""),
    ]
    lines += [
        f"    {_verdict(e)} {e.asset_key.path[-1]}.{e.check_name}"
        + ("" if e.passed else f": {e.description or ''}")
        for e in evaluations
    ]
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        why = data.user_failure_data.description if data.user_failure_data else None
        message = why or (data.error.message.strip() if data.error else "unknown error")
        lines.append(f"  step {event.step_key} failed: {message}")
    return Summary("\n".join(lines), ok=result.success and not failed_checks)


def _where(metadata: Mapping[str, Any]) -> str:
    """Where the day went: the Parquet file, or the Iceberg table and its snapshot."""
    path = _value(metadata, names.PATH)
    if path is not None:
        return str(path)
    return f"{_value(metadata, names.TABLE_NAME)} (snapshot {_value(metadata, names.SNAPSHOT_ID)})"


def _how(metadata: Mapping[str, Any]) -> str:
    """Where an asset's rows came from: the feed's source, or the tracks endpoint (none when
    every album's tracks were reused)."""
    if _value(metadata, names.SOURCE) is not None:
        return f"from {_value(metadata, names.SOURCE)}"
    endpoint = _value(metadata, names.TRACKS_ENDPOINT)
    return f"via {endpoint}" if endpoint else "all reused"


def _markets(metadata: Mapping[str, Any]) -> str:
    """new_releases' rows per market, "" for the one feed read without a market."""
    by_market: dict[str, dict[str, int]] = _value(metadata, names.BY_MARKET, {})
    if list(by_market) in ([], [names.NO_MARKET]):
        return ""
    return "markets: " + ", ".join(f"{m} {f['rows']:,}" for m, f in by_market.items()) + " rows"


def _reuse(metadata: Mapping[str, Any]) -> str:
    """Albums fetched and reused by album_tracks, and the requests reuse saved."""
    fetched = int(_value(metadata, names.ALBUMS_FETCHED, 0))
    reused = int(_value(metadata, names.ALBUMS_REUSED, 0))
    saved = int(_value(metadata, names.REQUESTS_SAVED, 0))
    return (
        f"albums: {fetched:,} fetched, {reused:,} reused from stored copies "
        f"({saved:,} requests saved)"
    )


def _verdict(evaluation: AssetCheckEvaluation) -> str:
    """ok, WARN or FAIL, as wide as each other."""
    if evaluation.passed:
        return "ok  "
    return "WARN" if evaluation.severity == AssetCheckSeverity.WARN else "FAIL"
