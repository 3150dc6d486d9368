"""Track reuse: album_tracks takes an album's tracks from a recent stored copy, not from Spotify.

`tag:new` lists two weeks of albums, so most of a day's albums were in the day before's feed and
their tracks are already stored; asking Spotify again spends the app's daily quota for nothing.
A copy is reused when it is the album's most recent one fetched for the market the album is
assigned today (the first of the day's markets that lists it), at most `max_age_days` old (by its
`fetched_at`, so reuse never carries a copy along day after day), and has exactly the
`total_tracks` of the day's feed. Every other album is fetched.

Copies are read where the IO manager stores them, through `storage.StoredDays` (Parquet files
under the data storage, or the Iceberg table), whatever the format: only the days inside the
window and never one after the day being built, only the columns and albums needed. A
self-dependency of the asset would do the same reading through Dagster, but the UI would then
draw album_tracks as its own upstream and each day would wait for the day before; reading
storage directly keeps the graph new_releases -> album_tracks.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from dagster import ConfigurableResource, MetadataValue
from pydantic import Field

from spotify_assets.contract import names, schemas
from spotify_assets.defs.iceberg.io_manager import IcebergCatalog
from spotify_assets.defs.io_manager import ParquetDays
from spotify_assets.defs.spotify.markets import assigned_markets
from spotify_assets.defs.spotify.request_cost import tracks_cost
from spotify_assets.defs.storage import DataStorage, StoredDay, StoredDays
from spotify_assets.spotify.results import AlbumTracks

TRACK_REUSE = "track_reuse"
"""The resource key of `TrackReuse`."""
DEFAULT_MAX_AGE_DAYS = 7
COPY_COLUMNS = ["album_id", "fetched_at", names.MARKET, "is_playable"]
"""What finding the copies reads of each stored day (is_playable only matters for a day written
before the market column that does not record its market either)."""


class TrackReuse(ConfigurableResource):  # type: ignore[type-arg]
    """Where album_tracks finds stored copies (where the IO manager stores: Parquet files under
    the data storage, or the Iceberg tables of `iceberg` when given) and how old a copy may be
    to be reused. `max_age_days=0` turns reuse off: every album is fetched from Spotify.
    """

    storage: DataStorage = Field(
        description="Where the IO manager stores the partitions (the data_storage resource)."
    )
    iceberg: IcebergCatalog | None = Field(
        default=None,
        description="The Iceberg tables' catalog when the IO manager stores them (table format "
        "iceberg); unset: Parquet files under the data storage.",
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
            self.stored_days(), day, self.max_age_days, wanted, assigned_markets(releases)
        )

    def stored_days(self) -> StoredDays:
        """What reads the stored days: the Iceberg tables, or the Parquet files."""
        if self.iceberg is not None:
            return self.iceberg.tables()
        return ParquetDays(self.storage.root())


@dataclass(frozen=True)
class Copy:
    """One stored copy of an album's tracks: its day, when fetched, how many tracks, and the
    market it was fetched for (None: without one)."""

    album_id: str
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
    """Stored days in the window that could not be read (where -> error); their albums are
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
        client used, minus the requests sent (`spent_requests`: without the asks of an endpoint
        Spotify refused, which a full fetch sends too). When nothing was fetched, the endpoint
        is the one a full fetch would have used: /albums?ids= when the feed came from browse
        (Spotify withdrew both from Development Mode apps together), /albums/{id}/tracks
        otherwise.
        """
        if fetched is not None:
            endpoint = fetched.endpoint
        else:
            endpoint = "albums" if (releases["source"] == "browse").any() else "album_tracks"
        known = releases.dropna(subset=["album_id"]).drop_duplicates("album_id")
        full_cost = sum(  # batches hold one market's albums: each market costs its own
            tracks_cost(expected_tracks(albums).values(), endpoint, page_size)
            for _, albums in known.groupby("market", sort=False, dropna=False)
        )
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
    stored: StoredDays,
    day: date,
    max_age_days: int,
    wanted: Mapping[str, int | None],
    market_of: Mapping[str, str | None],
) -> Reuse:
    """Reuse each album's most recent copy for its market (`market_of`) when it was fetched at
    most `max_age_days` before `day` and has exactly `wanted[album]` tracks; fetch the others."""
    oldest = day - timedelta(days=max_age_days)
    latest, unreadable = latest_copies(stored, day, max_age_days, market_of)
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
    tracks = read_reused(stored, chosen, day)
    reused_from = Counter(copy.day.isoformat() for copy in chosen.values())
    to_fetch = [album_id for album_id in wanted if album_id not in chosen]
    return Reuse(tracks, to_fetch, dict(sorted(reused_from.items())), dict(reasons), unreadable)


def latest_copies(
    stored: StoredDays, day: date, max_age_days: int, market_of: Mapping[str, str | None]
) -> tuple[dict[str, Copy], dict[str, str]]:
    """The most recent copy (by fetched_at) of each album for its market, from the days
    `day - max_age_days` to `day` (a later day is never read); and the days that could not be
    read, with why."""
    latest: dict[str, Copy] = {}
    unreadable: dict[str, str] = {}
    for age in range(max_age_days + 1):
        stored_day = day - timedelta(days=age)
        try:
            found = stored.read(names.ALBUM_TRACKS, stored_day, list(market_of), COPY_COLUMNS)
        except (OSError, pa.ArrowException) as exc:
            where = stored.where(names.ALBUM_TRACKS, stored_day)
            unreadable[where] = f"{type(exc).__name__}: {exc}"
            continue
        if found is None:
            continue  # nothing stored that day
        for copy in copies_in(found, stored_day, market_of):
            best = latest.get(copy.album_id)
            if best is None or (copy.fetched_at, copy.day) > (best.fetched_at, best.day):
                latest[copy.album_id] = copy
    return latest, unreadable


def copies_in(found: StoredDay, day: date, market_of: Mapping[str, str | None]) -> list[Copy]:
    """The copies in one stored day of the albums of `market_of` fetched for the album's market.

    A day stored before the market column gives its market for the whole day (`found.market`:
    the Parquet footer), or, older still, not at all: such a
    copy counts only for an album assigned no market, and only when every stored track has a
    null is_playable, which is what a fetch without a market gives (Spotify fills is_playable
    whenever a market is given).
    """
    rows = found.rows
    unknown = names.MARKET not in rows.column_names and found.market is None
    if names.MARKET not in rows.column_names:
        rows = rows.append_column(
            names.MARKET, pa.array([found.market or None] * len(rows), pa.string())
        )
    aggregates = [("fetched_at", "max"), ("fetched_at", "count"), ("is_playable", "count")]
    summary = rows.group_by(["album_id", names.MARKET]).aggregate(aggregates).to_pylist()
    return [
        Copy(row["album_id"], day, row["fetched_at_max"], row["fetched_at_count"], market)
        for row in summary
        if (market := row[names.MARKET]) == market_of.get(row["album_id"])
        and row["album_id"] in market_of
        and (not unknown or row["is_playable_count"] == 0)
    ]


def read_reused(stored: StoredDays, chosen: Mapping[str, Copy], day: date) -> pa.Table:
    """The rows of the chosen copies, day by day, dated `day` (fetched_at kept as stored), each
    marked with the market its copy was fetched for (days stored before the market column read
    back without it)."""
    by_day: dict[date, list[str]] = {}
    for album_id, copy in chosen.items():
        by_day.setdefault(copy.day, []).append(album_id)
    tables = [pa.Table.from_pylist([], schemas.ALBUM_TRACKS)]
    columns = schemas.ALBUM_TRACKS.names
    for stored_day, album_ids in by_day.items():
        found = stored.read(names.ALBUM_TRACKS, stored_day, album_ids, columns)
        if found is None:
            raise FileNotFoundError(
                f"{stored.where(names.ALBUM_TRACKS, stored_day)} was read a moment ago and is "
                "gone now: something deletes stored days while album_tracks runs. Run it again."
            )
        table = found.rows
        if names.MARKET not in table.column_names:
            table = table.append_column(names.MARKET, pa.nulls(len(table), pa.string()))
        table = table.select(columns).cast(schemas.ALBUM_TRACKS)
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
