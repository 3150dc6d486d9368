"""The check evaluations, called directly on small frames: what passes, what fails, what's named."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from dagster import AssetCheckResult

from spotify_assets.contract import names, rows
from spotify_assets.defs.spotify import checks
from spotify_assets.spotify import NewReleases
from spotify_assets.spotify.results import Duplicate

DAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def album(album_id: str | None, total_tracks: int | None = 2, **fields: Any) -> dict[str, Any]:
    return {
        "id": album_id,
        "name": f"Album {album_id}",
        "album_type": "album",
        "release_date": "2026-11",
        "release_date_precision": "month",
        "total_tracks": total_tracks,
        "artists": [{"id": "a1", "name": "Ålborg Ensemble"}],
        "images": [],
        "external_urls": {"spotify": f"https://open.spotify.com/album/{album_id}"},
        "uri": f"spotify:album:{album_id}",
        **fields,
    }


def feed(
    *albums: dict[str, Any],
    total: int | None = None,
    reachable: int | None = None,
    market: str | None = None,
    duplicates: tuple[Duplicate, ...] = (),
    unsent: int = 0,
) -> NewReleases:
    """A feed of `albums` whose total (and reachable part) Spotify reports as given, all of
    them by default, with the `duplicates` and null places (`unsent`) Spotify sent."""
    total = len(albums) if total is None else total
    reachable = total if reachable is None else reachable
    return NewReleases(
        list(albums),
        total,
        reachable,
        "browse",
        duplicates=duplicates,
        unsent=unsent,
        market=market,
    )


def releases(*albums: dict[str, Any]) -> pd.DataFrame:
    return rows.new_releases_frame([feed(*albums)], DAY, NOW)


def judged(*feeds: NewReleases) -> dict[str, AssetCheckResult]:
    """The new_releases checks of the partition the feeds make, by name."""
    return by_name(checks.check_new_releases(rows.new_releases_frame(feeds, DAY, NOW), feeds))


def tracks(listing: dict[str, list[tuple[int, int]]]) -> pd.DataFrame:
    """Tracks per album as (disc, number) pairs."""
    return rows.album_tracks_frame(
        {
            album_id: [
                {
                    "id": f"{album_id}-{disc}-{number}",
                    "name": "t",
                    "disc_number": disc,
                    "track_number": number,
                    "duration_ms": 1000,
                    "explicit": False,
                    "is_local": False,
                }
                for disc, number in keys
            ]
            for album_id, keys in listing.items()
        },
        DAY,
        NOW,
    )


def by_name(results: list[AssetCheckResult]) -> dict[str, AssetCheckResult]:
    return {result.check_name or "": result for result in results}


def offending(result: AssetCheckResult) -> Any:
    return result.metadata["offending_albums"].value


def test_a_clean_partition_passes_every_new_releases_check() -> None:
    results = judged(feed(album("A"), album("B")))
    assert all(r.passed for r in results.values())
    assert len(results) == len(checks.NEW_RELEASES_CHECKS)


def test_a_total_that_differs_from_the_rows_fails_with_both_numbers() -> None:
    total = judged(feed(album("A"), total=3))[names.ROWS_MATCH_API_TOTAL]
    assert not total.passed
    assert (total.metadata["rows"].value, total.metadata["api_total"].value) == (1, 3)
    assert total.description == "1 albums stored, but Spotify reported a total of 3"


def test_search_is_complete_at_its_depth_whatever_total_it_reports() -> None:
    albums = (album("A"), album("B"))
    total = judged(feed(*albums, total=98_765, reachable=2))[names.ROWS_MATCH_API_TOTAL]
    assert total.passed
    short = judged(feed(*albums, total=98_765, reachable=3))[names.ROWS_MATCH_API_TOTAL]
    assert not short.passed
    assert short.description == (
        "2 albums stored, but Spotify reported a total of 98765, 3 of them reachable"
    )


def test_duplicates_and_missing_fields_name_the_albums() -> None:
    result = judged(feed(album("A"), album("B", total_tracks=None), album("A"), album(None)))
    assert offending(result[names.ALBUM_IDS_UNIQUE]) == ["A"]
    assert offending(result[names.REQUIRED_FIELDS_PRESENT]) == ["(no id) at position 4", "B"]
    assert result[names.REQUIRED_FIELDS_PRESENT].metadata["offending_albums_count"].value == 2


def test_album_tracks_checks_pass_when_every_album_is_complete() -> None:
    results = checks.check_album_tracks(
        tracks({"A": [(1, 1), (1, 2)], "B": [(1, 1), (2, 1)]}), releases(album("A"), album("B"))
    )
    assert all(r.passed for r in results) and len(results) == len(checks.ALBUM_TRACKS_CHECKS)


def test_album_tracks_checks_name_every_kind_of_offender() -> None:
    result = by_name(
        checks.check_album_tracks(
            tracks({"A": [(1, 1)], "C": [(1, 1), (1, 1)], "X": [(1, 1)]}),
            releases(album("A"), album("B"), album("C")),
        )
    )
    counts = result[names.TRACK_COUNTS_MATCH_TOTAL_TRACKS]
    assert offending(counts) == ["A"]
    assert counts.metadata["expected_vs_stored"].value == {"A": [2, 1]}
    assert offending(result[names.EVERY_ALBUM_PRESENT]) == ["B"]
    assert offending(result[names.NO_UNKNOWN_ALBUMS]) == ["X"]
    assert offending(result[names.TRACK_KEYS_UNIQUE]) == ["C"]


def test_a_deduplicated_feed_is_complete_and_one_that_lost_an_album_is_not() -> None:
    albums = (album("A"), album("B"), album("C"))
    twice = (Duplicate("B", (2, 4)),)
    # Spotify's total (4) counts the album it listed twice; the day keeps it once.
    complete = judged(feed(*albums, total=4, duplicates=twice))[names.ROWS_MATCH_API_TOTAL]
    assert complete.passed
    lost = judged(feed(*albums, total=5, duplicates=twice))[names.ROWS_MATCH_API_TOTAL]
    assert not lost.passed
    assert lost.severity.value == "ERROR"
    # Places Spotify answered null for: published with a warning, but an album lost besides
    # them fails the check.
    sent_null = judged(feed(*albums, total=5, unsent=2))[names.ROWS_MATCH_API_TOTAL]
    assert not sent_null.passed and sent_null.severity.value == "WARN"
    assert "it sent null for 2 places" in (sent_null.description or "")
    also_lost = judged(feed(*albums, total=6, unsent=2))[names.ROWS_MATCH_API_TOTAL]
    assert also_lost.severity.value == "ERROR"


def test_every_album_present_names_why_each_album_is_missing() -> None:
    reasons = {"B": "unknown to Spotify (404)", "C": "unavailable: Spotify answered 503"}
    result = by_name(
        checks.check_album_tracks(
            tracks({"A": [(1, 1), (1, 2)]}),
            releases(album("A"), album("B"), album("C"), album("D")),
            reasons,
        )
    )[names.EVERY_ALBUM_PRESENT]
    assert offending(result) == ["B", "C", "D"]
    assert result.metadata["reasons"].value == {**reasons, "D": checks.NO_TRACKS_STORED}
    assert result.description == (
        "3 albums: of new_releases have no tracks; 1 unknown to Spotify (404); 1 unavailable; "
        f"1 {checks.NO_TRACKS_STORED}"
    )


def test_each_market_is_counted_against_its_own_total_and_named_when_short() -> None:
    us = feed(album("A"), album("B"), market="US")
    se = feed(album("B"), album("C"), total=3, market="SE")
    result = judged(us, se, feed(album("A"), market="DE"))
    total = result[names.ROWS_MATCH_API_TOTAL]
    assert not total.passed
    assert total.description == "SE: 2 albums stored, but Spotify reported a total of 3"
    assert total.metadata["markets_differing"].value == ["SE"]
    assert total.metadata[names.BY_MARKET].value == {
        market: {"rows": rows, "api_total": total, "reachable": total, "expected": total}
        | {"shortfall": 0, "extra_listings": 0, "repeated_places": 0, "null_places_skipped": 0}
        for market, rows, total in (("US", 2, 2), ("SE", 2, 3), ("DE", 1, 1))
    }
    assert (total.metadata["rows"].value, total.metadata["api_total"].value) == (5, 6)
    assert result[names.ALBUM_IDS_UNIQUE].passed, "an album listed in two markets is no duplicate"
    assert all(judged(us, feed(album("B"), album("C"), market="SE")).values())


def test_a_duplicate_within_a_market_is_named_with_its_market() -> None:
    result = judged(
        feed(album("A"), album("B"), market="US"), feed(album("B"), album("B"), market="SE")
    )
    unique = result[names.ALBUM_IDS_UNIQUE]
    assert (unique.passed, offending(unique)) == (False, ["B"])
    assert unique.metadata[names.BY_MARKET].value == {"SE": ["B"]}
    assert unique.description == "1 albums: appear more than once in a market's feed (in SE)"


def test_album_tracks_name_the_markets_whose_albums_lack_tracks() -> None:
    frame = rows.new_releases_frame(
        [
            feed(album("A"), album("B"), market="US"),
            feed(album("B"), album("C"), market="SE"),
            feed(album("C"), album("D"), market="DE"),
        ],
        DAY,
        NOW,
    )
    complete = tracks({album_id: [(1, 1), (1, 2)] for album_id in "ABCD"})
    assert all(r.passed for r in checks.check_album_tracks(complete, frame))
    result = by_name(checks.check_album_tracks(tracks({"A": [(1, 1), (1, 2)]}), frame))
    present = result[names.EVERY_ALBUM_PRESENT]
    assert offending(present) == ["B", "C", "D"]
    assert present.metadata[names.BY_MARKET].value == {
        "US": ["B"],
        "SE": ["B", "C"],
        "DE": ["C", "D"],
    }
