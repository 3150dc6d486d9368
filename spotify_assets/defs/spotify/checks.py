"""Asset checks on the totals of each day's partition.

The checks are declared as `check_specs` on the assets and evaluated on the frame the asset just
built, so each check sees exactly one partition (a plain @asset_check on a partitioned asset would
load them all) and the totals Spotify reported in that run. The evaluations are plain functions of
frames, so tests call them directly. A failing check names the offending albums in its metadata,
and per market (`by_market`) where a market's feed is what it judges.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    MetadataValue,
    PreviewWarning,
)

from spotify_assets.contract.names import (
    ALBUM_IDS_UNIQUE,
    ALBUM_TRACKS,
    API_TOTAL,
    BY_MARKET,
    EVERY_ALBUM_PRESENT,
    EXPECTED,
    EXTRA_LISTINGS,
    MARKET,
    NEW_RELEASES,
    NO_MARKET,
    NO_UNKNOWN_ALBUMS,
    NULL_PLACES_SKIPPED,
    REACHABLE,
    REPEATED_PLACES,
    REQUIRED_FIELDS_PRESENT,
    ROWS_MATCH_API_TOTAL,
    SHORTFALL,
    TRACK_COUNTS_MATCH_TOTAL_TRACKS,
    TRACK_KEYS_UNIQUE,
)
from spotify_assets.defs.spotify.markets import (
    albums_by_market,
    feed_figures,
    label,
    market_labels,
)
from spotify_assets.defs.spotify.partitions import DAILY
from spotify_assets.spotify import NewReleases

REQUIRED_ALBUM_FIELDS = (
    "album_id",
    "album_name",
    "album_type",
    "release_date",
    "release_date_precision",
    "total_tracks",
    "uri",
)
TRACK_KEY = ["album_id", "disc_number", "track_number"]
NO_TRACKS_STORED = "no tracks stored (Spotify listed none)"
MAX_LISTED = 50
"""Offending albums listed in a check's metadata; the count is always complete."""

with warnings.catch_warnings():
    # Partitioned check specs are a preview in Dagster 1.13. Without them a check result is
    # stored without its day, and Dagster adds a never-evaluated execution for the run's
    # partition (shown as SKIPPED or EXECUTION_FAILED in the UI).
    warnings.simplefilter("ignore", PreviewWarning)
    NEW_RELEASES_CHECKS = [
        AssetCheckSpec(
            ROWS_MATCH_API_TOTAL,
            asset=NEW_RELEASES,
            blocking=True,
            partitions_def=DAILY,
            description=(
                "The day has every album of each market's feed Spotify reported, as deep as it "
                "lets one page."
            ),
        ),
        AssetCheckSpec(
            ALBUM_IDS_UNIQUE,
            asset=NEW_RELEASES,
            blocking=True,
            partitions_def=DAILY,
            description="No album appears twice in a market's feed.",
        ),
        AssetCheckSpec(
            REQUIRED_FIELDS_PRESENT,
            asset=NEW_RELEASES,
            blocking=True,
            partitions_def=DAILY,
            description="Every album has " + ", ".join(REQUIRED_ALBUM_FIELDS) + ".",
        ),
    ]

    ALBUM_TRACKS_CHECKS = [
        AssetCheckSpec(
            TRACK_COUNTS_MATCH_TOTAL_TRACKS,
            asset=ALBUM_TRACKS,
            additional_deps=[NEW_RELEASES],
            partitions_def=DAILY,
            description="Every album has exactly as many tracks as its total_tracks says.",
        ),
        AssetCheckSpec(
            EVERY_ALBUM_PRESENT,
            asset=ALBUM_TRACKS,
            additional_deps=[NEW_RELEASES],
            partitions_def=DAILY,
            description="Every album of the day's new_releases, in every market, has tracks.",
        ),
        AssetCheckSpec(
            NO_UNKNOWN_ALBUMS,
            asset=ALBUM_TRACKS,
            additional_deps=[NEW_RELEASES],
            partitions_def=DAILY,
            description="No track points to an album missing from the day's new_releases.",
        ),
        AssetCheckSpec(
            TRACK_KEYS_UNIQUE,
            asset=ALBUM_TRACKS,
            partitions_def=DAILY,
            description="(album_id, disc_number, track_number) is unique.",
        ),
    ]


def failed_blocking(results: Iterable[AssetCheckResult]) -> list[str]:
    """Names of the results that failed with ERROR severity on a blocking check (a WARN failure
    is reported but blocks nothing, as in Dagster)."""
    blocking = {spec.name for spec in [*NEW_RELEASES_CHECKS, *ALBUM_TRACKS_CHECKS] if spec.blocking}
    return [
        r.check_name or ""
        for r in results
        if not r.passed and r.severity == AssetCheckSeverity.ERROR and r.check_name in blocking
    ]


def _result(
    name: str,
    offending: Iterable[str],
    description: str,
    by_market: Mapping[str, list[str]] | None = None,
    **metadata: MetadataValue[Any],
) -> AssetCheckResult:
    """A result that passes when nothing is offending, listing the offending albums otherwise;
    `by_market` names them per market too (in the description, the markets only, when there
    are markets to name)."""
    albums = sorted(dict.fromkeys(str(a) for a in offending))
    named = [market for market in by_market or {} if market != NO_MARKET]
    where = f" (in {', '.join(named)})" if named else ""
    per_market = {} if by_market is None else {BY_MARKET: MetadataValue.json(dict(by_market))}
    return AssetCheckResult(
        check_name=name,
        passed=not albums,
        description=None if not albums else f"{len(albums)} albums: {description}{where}",
        metadata={
            "offending_albums_count": len(albums),
            "offending_albums": MetadataValue.json(albums[:MAX_LISTED]),
            **per_market,
            **metadata,
        },
    )


def _counted(figures: Mapping[str, int], feed: NewReleases) -> tuple[bool, str]:
    """Whether a market's rows fall short of what its complete feed holds only by what Spotify
    did not send (a listing that ran out, null places, places that repeated another album), and
    what to say about the count."""
    rows, expected = figures["rows"], feed.expected
    held_back = feed.shortfall + feed.unsent + feed.repeated_places
    sent_less = held_back > 0 and rows == expected - held_back
    explained = [
        f"{feed.extra_listings} of its places list an album again (kept once)"
        if feed.extra_listings
        else "",
        f"its listing ran out {feed.shortfall} albums early (empty last page)"
        if feed.shortfall
        else "",
        f"it sent null for {feed.unsent} places (skipped)" if feed.unsent else "",
        f"{feed.repeated_places} of its places listed an album again in another's place, "
        "differently on each read (kept once)"
        if feed.repeated_places
        else "",
    ]
    said = (
        f"{rows} albums stored, but Spotify reported a total of {feed.total}"
        + ("" if feed.reachable == feed.total else f", {feed.reachable} of them reachable")
        + "".join(f"; {why}" for why in explained if why)
        + ("; published with what Spotify sent" if sent_less else "")
    )
    return sent_less, said


def check_new_releases(
    releases: pd.DataFrame, feeds: Sequence[NewReleases]
) -> list[AssetCheckResult]:
    """Evaluate the checks of a `new_releases` partition against each market's feed: its rows
    against the total Spotify reported, or the part of it Spotify lets a client page through
    (`reachable`: search stops at 1,000); album ids unique within each market.

    A complete market holds every reachable place once per album: Spotify's total counts the
    extra listings of an album it lists twice, which the day keeps once. A market short only by
    what Spotify did not send (a listing that ran out before its total, an empty last page;
    places it answered null for; or places that listed another album again, differently on each
    read) makes the count check warn instead of fail: the day holds all Spotify sent. Any other
    difference fails it.
    """
    markets = market_labels(releases)
    counts = feed_figures(releases, feeds)
    differ = {
        label(feed.market): _counted(counts[label(feed.market)], feed)
        for feed in feeds
        if counts[label(feed.market)]["rows"] != feed.expected
    }
    ids = releases["album_id"]
    duplicated = ids[releases.duplicated([MARKET, "album_id"], keep=False) & ids.notna()]
    missing = releases[list(REQUIRED_ALBUM_FIELDS)].isna().any(axis=1) | (ids == "")
    labels = ids.fillna("(no id) at position " + releases["position"].astype("string"))
    whole = {
        key: sum(count[key] for count in counts.values())
        for key in (
            API_TOTAL,
            REACHABLE,
            EXPECTED,
            SHORTFALL,
            EXTRA_LISTINGS,
            REPEATED_PLACES,
            NULL_PLACES_SKIPPED,
        )
    }
    return [
        AssetCheckResult(
            check_name=ROWS_MATCH_API_TOTAL,
            passed=not differ,
            severity=AssetCheckSeverity.WARN
            if differ and all(sent_less for sent_less, _ in differ.values())
            else AssetCheckSeverity.ERROR,
            description=None
            if not differ
            else "; ".join(
                said if market == NO_MARKET else f"{market}: {said}"
                for market, (_, said) in differ.items()
            ),
            metadata={
                "rows": len(releases),
                API_TOTAL: whole[API_TOTAL],
                REACHABLE: whole[REACHABLE],
                EXPECTED: whole[EXPECTED],
                "difference": len(releases) - whole[EXPECTED],
                SHORTFALL: whole[SHORTFALL],
                EXTRA_LISTINGS: whole[EXTRA_LISTINGS],
                REPEATED_PLACES: whole[REPEATED_PLACES],
                NULL_PLACES_SKIPPED: whole[NULL_PLACES_SKIPPED],
                BY_MARKET: MetadataValue.json(counts),
                "markets_differing": MetadataValue.json(list(differ)),
            },
        ),
        _result(
            ALBUM_IDS_UNIQUE,
            duplicated,
            "appear more than once in a market's feed",
            albums_by_market(duplicated, markets, MAX_LISTED),
        ),
        _result(
            REQUIRED_FIELDS_PRESENT,
            labels[missing],
            "miss a required field",
            albums_by_market(labels[missing], markets, MAX_LISTED),
            required_fields=MetadataValue.json(list(REQUIRED_ALBUM_FIELDS)),
        ),
    ]


def check_album_tracks(
    tracks: pd.DataFrame, releases: pd.DataFrame, reasons: Mapping[str, str] | None = None
) -> list[AssetCheckResult]:
    """Evaluate the checks of an `album_tracks` partition against that day's `new_releases`:
    the albums of every market's feed (each once), and per market which of its albums lack
    tracks; `reasons` says why the client could not get an album's tracks, for the albums it
    names."""
    known = releases.dropna(subset=["album_id"]).drop_duplicates("album_id")
    expected = known.set_index("album_id")["total_tracks"]
    counted = tracks.groupby("album_id").size()
    present = expected.index.intersection(counted.index)
    mismatched = [
        album
        for album in present
        if pd.isna(expected[album]) or int(expected[album]) != int(counted[album])
    ]
    absent = expected.index.difference(counted.index)
    why_absent = {
        str(album): (reasons or {}).get(str(album), NO_TRACKS_STORED) for album in sorted(absent)
    }
    listed = releases["album_id"]
    absent_listed = listed[listed.isin(absent)]
    unknown = counted.index.difference(expected.index)
    duplicate_keys = tracks.loc[tracks.duplicated(TRACK_KEY, keep=False), "album_id"]
    return [
        _result(
            TRACK_COUNTS_MATCH_TOTAL_TRACKS,
            mismatched,
            "have a track count different from total_tracks",
            expected_vs_stored=MetadataValue.json(
                {a: [_int(expected[a]), int(counted[a])] for a in mismatched[:MAX_LISTED]}
            ),
        ),
        _result(
            EVERY_ALBUM_PRESENT,
            absent,
            "of new_releases have no tracks"
            + "".join(
                f"; {n} {kind}" for kind, n in Counter(map(kind_of, why_absent.values())).items()
            ),
            albums_by_market(absent_listed, market_labels(releases), MAX_LISTED),
            reasons=MetadataValue.json(dict(list(why_absent.items())[:MAX_LISTED])),
        ),
        _result(NO_UNKNOWN_ALBUMS, unknown, "have tracks but are not in new_releases"),
        _result(TRACK_KEYS_UNIQUE, duplicate_keys, "repeat an (album, disc, track number) key"),
    ]


def kind_of(reason: str) -> str:
    """The kind of reason an album is missing, without its details: what precedes a colon."""
    return reason.partition(":")[0]


def _int(value: Any) -> int | None:
    """An integer from a pandas scalar, None for NA."""
    return None if pd.isna(value) else int(value)
