"""W10 (issue 18): W7's week of daily runs of the assets, for four markets whose feeds overlap.

Each simulated day both assets are materialized for the markets MARKETS, with track reuse and
with reuse off (a full fetch), each arm in a data folder of its own, as W7 does. The emulator
counts each run's requests; each arm's Parquet files are judged against the emulator's own feed
of each market: every market's rows in feed order, and each album of the union with its tracks
once.

Beside the target, each day prints its floor: the fewest requests any client could send that day
knowing everything earlier days fetched. Every market's feed must be read whole (it changes every
day, and search pages hold 10 albums in Development Mode), and every album of the union must be
listed unless an earlier day listed the same tracks for the same market (an album's tracks are
fetched for the first market listing it, and is_playable is that market's). The floor comes from
the emulator's feeds alone, not from the assets' reuse rule, so it judges that rule rather than
repeating it; it holds for a week inside the reuse window (7 days).

What W10 needs from the assets (it is not run without it, and says so): the Spotify resource's
field `markets` (the list SPOTIFY_MARKETS fills). From the files it reads the data contract's
columns: new_releases `market`, `position`, `album_id`; album_tracks `album_id`, `track_id`,
`disc_number`, `track_number`. The emulator's ground truth of a market's feed is
`catalog.feed(market=...)`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from bench import week, week_report
from bench.summary import Measured
from bench.targets import Check
from bench.week import FULL, REUSE, TRACK_CHANGES, TURNOVER, Day
from bench.week_report import day_from_json, day_json, later_share_check, runs_check, share
from bench.workloads import EMBEDDED_TRACKS, SEARCH_DEPTH_MAX, SEARCH_PAGE_MAX
from spotify_assets.contract import names
from spotify_assets.defs.spotify.resources import SpotifyResource
from spotify_assets.emulator import Album, EmulatorConfig

W10 = dataclasses.replace(week.W7, name="W10")
"""W7's catalog, mode and latency."""
MARKETS = ("US", "SE", "DE", "GB")
MARKETS_FIELD = "markets"
"""SpotifyResource field: the markets the assets fetch (SPOTIFY_MARKETS)."""
COLUMNS = (
    "day",
    "date",
    "albums per market",
    "union",
    "N feeds + union",
    FULL,
    REUSE,
    "share",
    "floor",
    "floor share",
    "complete",
)


@dataclass(frozen=True)
class MarketDay:
    """One simulated day of W10: W7's figures (albums = the union, min_requests = N feeds plus a
    listing per album of the union), each market's feed size, and what each arm got wrong."""

    day: Day
    feeds: Mapping[str, int]
    wrong: Mapping[str, str | None]
    """Arm -> why its files differ from the markets' feeds or the union's tracks, None: exact."""
    floor: int
    """The fewest requests any client could send that day (see the module)."""

    @property
    def floor_share(self) -> float:
        """The floor as a share of what the full fetch sent that day."""
        full = self.day.runs[FULL].requests
        return self.floor / full if full else 0.0


def missing() -> str | None:
    """Why W10 cannot run on this code (the field it waits for), None when it can."""
    if MARKETS_FIELD not in SpotifyResource.model_fields:
        return (
            f"the Spotify resource has no field {MARKETS_FIELD} (SPOTIFY_MARKETS, issue 18): "
            "W10 runs once the assets fetch several markets"
        )
    return None


def config() -> EmulatorConfig:
    """W7's rolling feed (10 % new albums, one track change a day), albums sold in MARKETS."""
    return dataclasses.replace(week.config(), markets=MARKETS)


def run_week(days: int = week.DAYS) -> list[MarketDay]:
    """The week, day by day, both arms each day, each arm's memory warmed before day 1 (W7's)."""
    found: list[MarketDay] = []
    listed: Listed = {}
    for emu, number, day, folders, runs in week.days_of(
        config(), days, {MARKETS_FIELD: list(MARKETS)}
    ):
        feeds = {market: emu.catalog.feed(market=market) for market in MARKETS}
        union = union_of(feeds)
        floor, listed = floor_of(feeds, listed)
        found.append(
            MarketDay(
                day=Day(
                    number=number,
                    date=day,
                    albums=len(union),
                    min_requests=fewest_requests(feeds, union),
                    runs=runs,
                    difference=week.difference(folders, day),
                ),
                feeds={market: len(feed) for market, feed in feeds.items()},
                wrong={arm: wrong(folder, day, feeds, union) for arm, folder in folders.items()},
                floor=floor,
            )
        )
        week.progress(W10.name, found[-1].day)
    return found


def union_of(feeds: Mapping[str, Sequence[Album]]) -> dict[str, Album]:
    """Album id -> album, each album of any market's feed once, in market then feed order."""
    union: dict[str, Album] = {}
    for feed in feeds.values():
        for album in feed:
            union.setdefault(album.id, album)
    return union


Listed = dict[str, tuple[str, list[str]]]
"""Album id -> the market its tracks were listed for and their ids, as the latest day listed."""


def floor_of(feeds: Mapping[str, Sequence[Album]], listed: Listed) -> tuple[int, Listed]:
    """The day's floor (see the module), given what earlier days listed; and what is listed
    once the day is done."""
    union = union_of(feeds)
    first_market: dict[str, str] = {}
    for market, feed in feeds.items():
        for album in feed:
            first_market.setdefault(album.id, market)
    today: Listed = {
        album_id: (first_market[album_id], [track.id for track in album.tracks])
        for album_id, album in union.items()
    }
    unknown = {a: album for a, album in union.items() if listed.get(a) != today[a]}
    return fewest_requests(feeds, unknown), {**listed, **today}


def fewest_requests(feeds: Mapping[str, Sequence[Album]], albums: Mapping[str, Album]) -> int:
    """N feeds + one listing per album of `albums` (the union, or those of it no earlier day
    listed): every market's search pages (10 a page, no deeper than 1,000, an empty feed still
    one page) and every page of each album's tracks (50 a page)."""
    pages = sum(
        max(1, math.ceil(min(len(feed), SEARCH_DEPTH_MAX) / SEARCH_PAGE_MAX))
        for feed in feeds.values()
    )
    listings = sum(
        max(1, math.ceil(len(album.tracks) / EMBEDDED_TRACKS)) for album in albums.values()
    )
    return pages + listings


def wrong(
    folder: Path, day: date, feeds: Mapping[str, Sequence[Album]], union: Mapping[str, Album]
) -> str | None:
    """Why an arm's files of `day` differ from each market's feed or the union's tracks."""
    files = {
        asset: folder / "data" / asset / f"{day.isoformat()}.parquet"
        for asset in (names.NEW_RELEASES, names.ALBUM_TRACKS)
    }
    absent = [str(path) for path in files.values() if not path.exists()]
    if absent:
        return f"no file {', '.join(absent)}"
    listed = pq.read_table(files[names.NEW_RELEASES], columns=["market", "position", "album_id"])
    problems = []
    for market, feed in feeds.items():
        rows = sorted(
            (row["position"], row["album_id"])
            for row in listed.to_pylist()
            if row["market"] == market
        )
        if [album_id for _, album_id in rows] != [album.id for album in feed]:
            problems.append(f"{market}: {len(rows)} rows, its feed lists {len(feed)} albums")
    columns = ["album_id", "track_id", "disc_number", "track_number"]
    tracks: dict[str, list[tuple[int, int, str]]] = {}
    for row in pq.read_table(files[names.ALBUM_TRACKS], columns=columns).to_pylist():
        tracks.setdefault(row["album_id"], []).append(
            (row["disc_number"], row["track_number"], row["track_id"])
        )
    got = {album_id: [track for _, _, track in sorted(rows)] for album_id, rows in tracks.items()}
    want = {album_id: [track.id for track in album.tracks] for album_id, album in union.items()}
    if got != want:
        off = sum(got.get(album_id) != ids for album_id, ids in want.items())
        extra = len(set(got) - set(want))
        problems.append(
            f"union: {off} of {len(want)} albums without exactly their tracks, {extra} not listed"
        )
    return "; ".join(problems) or None


@dataclass(frozen=True)
class MarketWeek:
    """W10's days and when they were measured: a section of the report (report.Section)."""

    days: tuple[MarketDay, ...]
    measured: Measured

    @property
    def name(self) -> str:
        """W10."""
        return W10.name

    def describe(self) -> str:
        """W10's line above its table."""
        return (
            f"{W10.mode} mode, {W10.albums:,} albums sold in some of the markets "
            f"{', '.join(MARKETS)} (most in several), {W10.latency_ms:g} ms latency, "
            f"{TURNOVER:.0%} new albums and {TRACK_CHANGES} track change a day, {len(self.days)} "
            "days; the assets materialized for all markets each day with track reuse and with "
            "reuse off (a full fetch); N feeds + union = every market's search pages plus one "
            "tracks listing per album of the union; requests counted by the emulator"
        )

    def columns(self) -> Sequence[str]:
        """The table's header."""
        return COLUMNS

    def rows(self) -> list[list[str]]:
        """A row per day."""
        return [
            [
                str(market_day.day.number),
                market_day.day.date.isoformat(),
                "/".join(f"{count:,}" for count in market_day.feeds.values()),
                f"{market_day.day.albums:,}",
                f"{market_day.day.min_requests:,}",
                f"{market_day.day.runs[FULL].requests:,}",
                f"{market_day.day.runs[REUSE].requests:,}",
                f"{share(market_day.day):.1%}",
                f"{market_day.floor:,}",
                f"{market_day.floor_share:.1%}",
                _complete(market_day),
            ]
            for market_day in self.days
        ]

    def checks(self) -> list[Check]:
        """Issue 18's targets: day 1 within N feeds + union, later days at most 25 % of a full
        fetch, every day complete per market and for the union; later days at their floor; and
        every run and check passed."""
        days = [market_day.day for market_day in self.days]
        first = days[0]
        sent = first.runs[REUSE].requests
        wrong_days = [
            f"day {market_day.day.number} {arm}: {why}"
            for market_day in self.days
            for arm, why in market_day.wrong.items()
            if why
        ]
        return [
            Check(
                "W10: day 1 sends at most N feeds + one listing per album of the union",
                sent <= first.min_requests,
                f"{sent:,} requests, N feeds + union {first.min_requests:,}",
                (W10.name,),
            ),
            later_share_check(W10.name, days),
            floor_check(self.days),
            Check(
                "W10: every day complete per market and for the union",
                not wrong_days,
                "; ".join(wrong_days) or f"all {len(days)} days, both arms",
                (W10.name,),
            ),
            runs_check(W10.name, days),
        ]

    def to_json(self) -> dict[str, Any]:
        """The week as JSON data: when measured, settings, then each day's figures."""
        return {
            "measured": self.measured.to_json(),
            "emulator": settings(),
            "days": [
                {
                    **day_json(market_day.day),
                    "feeds": dict(market_day.feeds),
                    "wrong": dict(market_day.wrong),
                    "floor": market_day.floor,
                    "floor_share": round(market_day.floor_share, 4),
                }
                for market_day in self.days
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MarketWeek:
        """The week `to_json` wrote."""
        return cls(
            tuple(
                MarketDay(
                    day_from_json(day), dict(day["feeds"]), dict(day["wrong"]), int(day["floor"])
                )
                for day in data["days"]
            ),
            Measured.from_json(data["measured"]),
        )


def floor_check(days: Sequence[MarketDay]) -> Check:
    """Days 2 to 7 each send their floor: more is what reuse could have saved; less means the
    floor is no floor (or data is missing), and the check says so."""
    later = days[1:]
    off = [
        f"day {d.day.number}: {sent:,} {'above' if sent > d.floor else 'BELOW'} its floor "
        f"{d.floor:,}"
        for d in later
        if (sent := d.day.runs[REUSE].requests) != d.floor
    ]
    shares = ", ".join(f"day {d.day.number} {d.floor_share:.1%}" for d in later)
    return Check(
        f"{W10.name}: days 2 to {len(days)} each send their floor (every market's pages + a "
        "listing per album no earlier day listed for its market)",
        bool(later) and not off,
        "; ".join(off) or f"at the floor every day; the floor is {shares} of a full fetch",
        (W10.name,),
    )


def settings() -> dict[str, Any]:
    """W10's emulator settings, for the JSON report."""
    return {**week_report.settings(), **W10.settings(), "markets": list(MARKETS)}


def _complete(market_day: MarketDay) -> str:
    """yes, or what an arm got wrong."""
    wrong_arms = [f"{arm}: {why}" for arm, why in market_day.wrong.items() if why]
    return "yes" if not wrong_arms else "NO (" + "; ".join(wrong_arms) + ")"
