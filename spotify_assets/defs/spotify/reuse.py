"""Track reuse: album_tracks takes an album's tracks from a recent stored copy, not from Spotify.

`tag:new` lists two weeks of albums, so most of a day's albums were in the day before's feed and
their tracks are already stored; asking Spotify again spends the app's daily quota for nothing.
A copy is reused when it is the album's most recent one fetched for the market the album is
assigned today (the first of the day's markets that lists it), at most `max_age_days` old (by its
`fetched_at`, so reuse never carries a copy along day after day), and has exactly the
`total_tracks` of the day's feed. Every other album is fetched.

Copies are read where the IO manager stores them (the same data storage, its `partition_path`
layout), only the files of the days inside the window and never one after the day being built,
only the columns and albums needed. A self-dependency of the asset would do the same reading
through Dagster, but the UI would then draw album_tracks as its own upstream and each day would
wait for the day before; reading storage directly keeps the graph new_releases -> album_tracks.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from dagster import ConfigurableResource, MetadataValue
from pydantic import Field
from upath import UPath

from spotify_assets.contract import names, schemas
from spotify_assets.defs.io_manager import partition_path
from spotify_assets.defs.spotify.markets import assigned_markets
from spotify_assets.defs.spotify.request_cost import tracks_cost
from spotify_assets.defs.storage import DataStorage
from spotify_assets.spotify.results import AlbumTracks

TRACK_REUSE = "track_reuse"
"""The resource key of `TrackReuse`."""
DEFAULT_MAX_AGE_DAYS = 7


class TrackReuse(ConfigurableResource):  # type: ignore[type-arg]
    """Where album_tracks finds stored copies (the IO manager's storage) and how old a copy may
    be to be reused. `max_age_days=0` turns reuse off: every album is fetched from Spotify.
    """

    storage: DataStorage = Field(
        description="Where the IO manager stores the partitions (the data_storage resource)."
    )
    max_age_days: int = Field(
        default=DEFAULT_MAX_AGE_DAYS,
        ge=0,
        description="Oldest copy reused, in days before the day built (by fetched_at); 0: off.",
    )

    def plan(self, day: date, releases: pd.DataFrame) -> "Reuse":
        """What the stored copies cover of `day`'s albums (from its `new_releases` frame), each
        for the market it is assigned."""
        wanted = expected_tracks(releases)
        if self.max_age_days == 0:
            nothing = pa.Table.from_pylist([], schemas.ALBUM_TRACKS)
            return Reuse(nothing, list(wanted), {}, {"reuse_off": len(wanted)})
        return plan_reuse(
            self.storage.root(), day, self.max_age_days, wanted, assigned_markets(releases)
        )


@dataclass(frozen=True)
class Copy:
    """One stored copy of an album's tracks: the file, its day, when fetched, how many tracks."""

    album_id: str
    path: UPath
    day: date
    fetched_at: datetime
    tracks: int
    market: str | None


@dataclass(frozen=True)
class Reuse:
    """The reused rows of a day (already dated that day) and the albums left to fetch."""

    tracks: pa.Table
    to_fetch: list[str]
    reused_from: dict[str, int] = field(default_factory=dict)
    """Albums reused per day of the stored copy (ISO date)."""
    fetch_reasons: dict[str, int] = field(default_factory=dict)
    """Why albums are fetched: no_copy, stale_copy, track_count_differs, or reuse_off."""
    unreadable: dict[str, str] = field(default_factory=dict)
    """Stored files in the window that could not be read (path -> error); their albums are
    fetched, so a damaged old file never stops the day's refresh."""

    @property
    def albums_reused(self) -> int:
        """How many albums' tracks come from stored copies."""
        return sum(self.reused_from.values())

    def complete(self, fetched: pd.DataFrame, album_order: Sequence[str]) -> pd.DataFrame:
        """The day's partition: reused and fetched rows, albums in `album_order` (the feed's),
        each album's tracks in the order Spotify gave them, as a full fetch would."""
        table = pa.concat_tables(
            [
                self.tracks.cast(schemas.ALBUM_TRACKS),
                pa.Table.from_pandas(fetched, schema=schemas.ALBUM_TRACKS, preserve_index=False),
            ]
        )
        position = {album_id: index for index, album_id in enumerate(album_order)}
        keys = [position.get(album_id, len(position)) for album_id in table["album_id"].to_pylist()]
        return schemas.to_frame(table.take(np.argsort(np.asarray(keys), kind="stable")))

    def metadata(
        self,
        releases: pd.DataFrame,
        fetched: AlbumTracks | None,
        spent_requests: int,
        page_size: int,
    ) -> dict[str, Any]:
        """Albums fetched and reused, the requests reuse saved, and how the rest was fetched.

        Saved = what a full fetch of the day's albums would cost through the endpoint the
        client used, minus the requests sent. When nothing was fetched, the endpoint is the one
        a full fetch would have used: /albums?ids= when the feed came from browse (Spotify
        withdrew both from Development Mode apps together), /albums/{id}/tracks otherwise.
        """
        if fetched is not None:
            endpoint = fetched.endpoint
        else:
            endpoint = "albums" if (releases["source"] == "browse").any() else "album_tracks"
        full_cost = tracks_cost(expected_tracks(releases).values(), endpoint, page_size)
        return {
            names.ALBUMS_FETCHED: len(self.to_fetch),
            names.ALBUMS_REUSED: self.albums_reused,
            names.REQUESTS_SAVED: full_cost - spent_requests,
            names.REUSED_FROM: MetadataValue.json(self.reused_from),
            names.FETCH_REASONS: MetadataValue.json(self.fetch_reasons),
            names.TRACKS_ENDPOINT: fetched.endpoint if fetched is not None else "",
            names.FALLBACK_REASON: (fetched.fallback_reason if fetched is not None else None) or "",
        }


def expected_tracks(releases: pd.DataFrame) -> dict[str, int | None]:
    """Each album of a `new_releases` frame (feed order, first occurrence) -> its total_tracks."""
    known = releases.dropna(subset=["album_id"]).drop_duplicates("album_id")
    return {
        str(album_id): None if pd.isna(total) else int(total)
        for album_id, total in zip(known["album_id"], known["total_tracks"], strict=True)
    }


def plan_reuse(
    root: UPath,
    day: date,
    max_age_days: int,
    wanted: Mapping[str, int | None],
    market_of: Mapping[str, str | None],
) -> Reuse:
    """Reuse each album's most recent copy for its market (`market_of`) when it was fetched at
    most `max_age_days` before `day` and has exactly `wanted[album]` tracks; fetch the others."""
    oldest = day - timedelta(days=max_age_days)
    latest, unreadable = latest_copies(root, day, max_age_days, market_of)
    reasons: Counter[str] = Counter()
    chosen: dict[str, Copy] = {}
    for album_id, total in wanted.items():
        found = latest.get(album_id)
        if found is None:
            reasons["no_copy"] += 1
        elif found.fetched_at.date() < oldest:
            reasons["stale_copy"] += 1
        elif total is None or found.tracks != total:
            reasons["track_count_differs"] += 1
        else:
            chosen[album_id] = found
    tracks = read_reused(chosen, day)
    reused_from = Counter(copy.day.isoformat() for copy in chosen.values())
    to_fetch = [album_id for album_id in wanted if album_id not in chosen]
    return Reuse(tracks, to_fetch, dict(sorted(reused_from.items())), dict(reasons), unreadable)


def latest_copies(
    root: UPath, day: date, max_age_days: int, market_of: Mapping[str, str | None]
) -> tuple[dict[str, Copy], dict[str, str]]:
    """The most recent copy (by fetched_at) of each album for its market, from the files stored
    for the days `day - max_age_days` to `day` (a later day is never read); and the files that
    could not be read, with why."""
    latest: dict[str, Copy] = {}
    unreadable: dict[str, str] = {}
    for age in range(max_age_days + 1):
        stored_day = day - timedelta(days=age)
        path = partition_path(root, names.ALBUM_TRACKS, stored_day.isoformat())
        try:
            copies = copies_in(path, stored_day, market_of)
        except FileNotFoundError:
            continue  # no file stored that day: one request to the storage, not two
        except (OSError, pa.ArrowException) as exc:
            unreadable[str(path)] = f"{type(exc).__name__}: {exc}"
            continue
        for copy in copies:
            best = latest.get(copy.album_id)
            if best is None or (copy.fetched_at, copy.day) > (best.fetched_at, best.day):
                latest[copy.album_id] = copy
    return latest, unreadable


def stored_market(parquet: pq.ParquetFile) -> str | None:
    """The market a stored file written before the market column was fetched for ("" without
    one), from its key-value metadata; None when it does not say (written before that too)."""
    value = (parquet.metadata.metadata or {}).get(names.PARQUET_MARKET)
    return None if value is None else value.decode()


def copies_in(path: UPath, day: date, market_of: Mapping[str, str | None]) -> list[Copy]:
    """The copies in one stored file of the albums of `market_of` fetched for the album's
    market, read from three columns.

    A file written before the market column gives its market in its metadata (stored_market),
    or, older still, not at all: such a copy counts only for an album assigned no market, and
    only when every stored track has a null is_playable, which is what a fetch without a market
    gives (Spotify fills is_playable whenever a market is given).
    """
    with path.open("rb") as source:
        parquet = pq.ParquetFile(source)
        has_column = names.MARKET in parquet.schema_arrow.names
        recorded = None if has_column else stored_market(parquet)
        unknown = not has_column and recorded is None
        third = names.MARKET if has_column else "is_playable"
        table = parquet.read(columns=["album_id", "fetched_at", third])
    wanted = pa.array(list(market_of), pa.string())
    table = table.filter(pc.is_in(table["album_id"], value_set=wanted))
    if not has_column:
        table = table.append_column(
            names.MARKET, pa.array([recorded or None] * len(table), pa.string())
        )
    aggregates = [("fetched_at", "max"), ("fetched_at", "count")]
    if unknown:
        aggregates.append(("is_playable", "count"))
    summary = table.group_by(["album_id", names.MARKET]).aggregate(aggregates).to_pylist()
    return [
        Copy(row["album_id"], path, day, row["fetched_at_max"], row["fetched_at_count"], market)
        for row in summary
        if (market := row[names.MARKET]) == market_of[row["album_id"]]
        and row.get("is_playable_count", 0) == 0
    ]


def read_reused(chosen: Mapping[str, Copy], day: date) -> pa.Table:
    """The rows of the chosen copies, file by file, dated `day` (fetched_at kept as stored),
    each marked with the market its copy was fetched for (files written before the market
    column read back without it)."""
    by_file: dict[UPath, list[str]] = {}
    for album_id, copy in chosen.items():
        by_file.setdefault(copy.path, []).append(album_id)
    tables = [pa.Table.from_pylist([], schemas.ALBUM_TRACKS)]
    for path, album_ids in by_file.items():
        with path.open("rb") as source:
            table = pq.read_table(
                source, schema=schemas.ALBUM_TRACKS, filters=[("album_id", "in", album_ids)]
            )
        for column, values in (
            ("snapshot_date", pa.array([day] * len(table), pa.date32())),
            (names.MARKET, pa.array([chosen[a].market for a in table["album_id"].to_pylist()])),
        ):
            index = table.schema.get_field_index(column)
            table = table.set_column(
                index, table.schema.field(index), values.cast(table.schema.field(index).type)
            )
        tables.append(table)
    return pa.concat_tables(tables)
