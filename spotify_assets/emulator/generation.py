"""Seeded generation of albums, tracks and ids: the awkward shapes a real feed holds."""

from __future__ import annotations

import dataclasses
import random
from datetime import date, timedelta
from typing import Literal

from spotify_assets.emulator import names
from spotify_assets.emulator.records import (
    BASE62,
    ID_LENGTH,
    Album,
    AlbumType,
    Artist,
    Copyright,
    DatePrecision,
    Image,
    Track,
)

# Release dates count back from a fixed day, not from today, so a seed always yields the same
# catalog; the feed is "new releases", so most dates fall in the two weeks before it.
RELEASE_ANCHOR = date(2026, 11, 20)

CoverKind = Literal["sized", "none", "unsized"]

# Markets as Spotify lists them for a widely available album (the lab in seed/ shows this list).
MARKETS: tuple[str, ...] = (
    "AR", "AU", "AT", "BE", "BO", "BR", "BG", "CA", "CL", "CO", "CR", "CY", "CZ", "DK", "DO",
    "DE", "EC", "EE", "SV", "FI", "FR", "GR", "GT", "HN", "HK", "HU", "IS", "IE", "IT", "LV",
    "LT", "LU", "MY", "MT", "MX", "NL", "NZ", "NI", "NO", "PA", "PY", "PE", "PH", "PL", "PT",
    "SG", "SK", "ES", "SE", "CH", "TW", "TR", "UY", "US", "GB", "AD", "LI", "MC", "ID", "JP",
    "TH", "VN", "RO", "IL", "ZA", "SA", "AE", "BH", "QA", "OM", "KW", "EG", "MA", "DZ", "TN",
    "LB", "JO", "PS", "IN", "KZ", "MD", "UA", "AL", "BA", "HR", "ME", "MK", "RS", "SI", "KR",
    "BD", "PK", "LK", "GH", "KE", "NG", "TZ", "UG", "AG", "AM", "BS", "BB", "BZ", "BT", "BW",
    "BF", "CV", "CW", "DM", "FJ", "GM", "GE", "GD", "GW", "GY", "HT", "JM", "KI", "LS", "LR",
    "MW", "MV", "ML", "MH", "FM", "NA", "NR", "NE", "PW", "PG", "WS", "SM", "ST", "SN", "SC",
    "SL", "SB", "KN", "LC", "VC", "SR", "TL", "TO", "TT", "TV", "VU", "AZ", "BN", "BI", "KH",
    "CM", "TD", "KM", "GQ", "SZ", "GA", "GN", "KG", "LA", "MO", "MR", "MN", "NP", "RW", "TG",
    "UZ", "ZW", "BJ", "MG", "MU", "MZ", "AO", "CI", "DJ", "ZM", "CD", "CG", "IQ", "LY", "TJ",
    "VE", "ET", "XK",
)  # fmt: skip
# With a market list configured, how far each album reaches: all of the markets for most, several
# (not all) for some, one for fewer, none for a few; cumulative shares of albums.
REACH_ALL, REACH_SEVERAL, REACH_ONE = 0.60, 0.80, 0.93
LABELS = (
    "Blue Harbor Records",
    "Estudio Ñandú",
    "東京レコード",
    "Nordlys Musik AB",
    "Velvet Static, LLC",
    "Казань Саунд",
    "Independent",
)
# Spotify's image size codes inside i.scdn.co URLs, widest first as the API orders them.
IMAGE_SIZES = ((640, "ab67616d0000b273"), (300, "ab67616d00001e02"), (64, "ab67616d00004851"))


def first_feed(
    albums: int, seed: int, markets: tuple[str, ...] | None = None
) -> tuple[tuple[Album, ...], tuple[Artist, ...]]:
    """Day 0: the feed and the artist pool for (albums, seed), the same for the same pair;
    albums sold in `markets` when given (else in Spotify's whole list)."""
    rng = random.Random(f"spotify-emulator:{seed}")
    taken: set[str] = set()
    artists = tuple(
        Artist(new_id(rng, taken), names.artist_name(rng)) for _ in range(max(8, albums * 2 // 3))
    )
    sizes = [album_size(rng) for _ in range(albums)]
    covers: dict[int, CoverKind] = {}
    forced_multi_disc: set[int] = set()
    if albums >= 10:
        # Every catalog big enough to matter holds the edge cases a pipeline must get right:
        # exactly one page of 50, one track over a page, a multi-disc box set, singles, odd covers.
        at_50, at_51, big, single_a, single_b, bare, odd = rng.sample(range(albums), 7)
        sizes[at_50], sizes[at_51], sizes[big] = 50, 51, rng.randint(101, 160)
        sizes[single_a] = sizes[single_b] = 1
        forced_multi_disc.add(big)
        covers[bare], covers[odd] = "none", "unsized"
    feed = [
        make_album(
            rng,
            taken,
            artists,
            size=size,
            release=_release(rng),
            cover=covers.get(index, "sized"),
            multi_disc=index in forced_multi_disc,
            markets=markets,
        )
        for index, size in enumerate(sizes)
    ]
    if markets is not None and albums >= 10:
        # Market edge cases from a generator of their own (the rest of the catalog stays as it
        # is): an album sold in none of the markets, and one sold only in the last of them.
        nowhere, last_only = random.Random(f"spotify-emulator:{seed}:markets").sample(
            range(albums), 2
        )
        feed[nowhere] = dataclasses.replace(feed[nowhere], available_markets=())
        feed[last_only] = dataclasses.replace(feed[last_only], available_markets=markets[-1:])
    return tuple(feed), artists


def new_id(rng: random.Random, taken: set[str]) -> str:
    """A fresh 22-character base62 id, unique within the catalog."""
    while True:
        candidate = "".join(rng.choices(BASE62, k=ID_LENGTH))
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def album_size(rng: random.Random) -> int:
    """Track count: most 1-20, a good share 21-50, ~15% 51-100, a few 101-160."""
    draw = rng.random()
    if draw < 0.12:
        return 1
    if draw < 0.55:
        return rng.randint(2, 20)
    if draw < 0.80:
        return rng.randint(21, 50)
    if draw < 0.95:
        return rng.randint(51, 100)
    return rng.randint(101, 160)


def _release(rng: random.Random) -> tuple[str, DatePrecision]:
    """A release date with Spotify's precision mix: mostly day, some month, a few year only."""
    draw = rng.random()
    if draw < 0.08:
        return str(RELEASE_ANCHOR.year - rng.choice((0, 0, 1, 12, 31))), "year"
    if draw < 0.20:
        return RELEASE_ANCHOR.strftime("%Y-%m"), "month"
    return recent_release(rng, 13)


def recent_release(rng: random.Random, max_days_back: int) -> tuple[str, DatePrecision]:
    """A day-precision date within `max_days_back` days before the anchor."""
    day = RELEASE_ANCHOR - timedelta(days=rng.randint(0, max_days_back))
    return day.isoformat(), "day"


def _album_type(rng: random.Random, size: int) -> AlbumType:
    """Type fitting the size: up to 3 tracks single, EPs either, longer album or compilation."""
    if size <= 3:
        return "single"
    if size <= 6:
        return rng.choice(("single", "album"))
    return "compilation" if rng.random() < 0.12 else "album"


def _images(rng: random.Random, kind: CoverKind) -> tuple[Image, ...]:
    """Cover art: usually three sizes widest first; none, or one unsized image, when asked."""
    if kind == "none":
        return ()
    digest = f"{rng.getrandbits(96):024x}"
    if kind == "unsized":
        return (Image(f"https://i.scdn.co/image/{IMAGE_SIZES[0][1]}{digest}", None, None),)
    return tuple(
        Image(f"https://i.scdn.co/image/{code}{digest}", px, px) for px, code in IMAGE_SIZES
    )


def _disc_sizes(rng: random.Random, size: int, forced: bool) -> list[int]:
    """Split `size` tracks over discs: one disc mostly, 2-4 for some long albums."""
    if forced or (size >= 30 and rng.random() < 0.35):
        discs = rng.randint(2, max(2, min(4, size // 10)))
        base, extra = divmod(size, discs)
        return [base + (1 if disc < extra else 0) for disc in range(discs)]
    return [size]


def make_album(
    rng: random.Random,
    taken: set[str],
    artists: tuple[Artist, ...],
    *,
    size: int,
    release: tuple[str, DatePrecision],
    cover: CoverKind = "sized",
    multi_disc: bool = False,
    markets: tuple[str, ...] | None = None,
) -> Album:
    """One album with its tracks, ids unique against `taken`, sold in some of `markets` (when
    given) or of Spotify's whole list."""
    album_id = new_id(rng, taken)
    album_artists = tuple(rng.sample(artists, rng.choices((1, 2, 3), weights=(70, 20, 10))[0]))
    others = [artist for artist in artists if artist not in album_artists]
    tracks: list[Track] = []
    for disc_number, disc_size in enumerate(_disc_sizes(rng, size, multi_disc), start=1):
        for track_number in range(1, disc_size + 1):
            tracks.append(
                make_track(rng, taken, album_artists, others, disc=disc_number, number=track_number)
            )
    label = rng.choice(LABELS)
    release_date, precision = release
    year = release_date[:4]
    world = MARKETS if rng.random() < 0.85 else tuple(sorted(rng.sample(MARKETS, 40)))
    # Drawn even when `markets` is given, so a catalog's ids never depend on its market list.
    available = world if markets is None else market_reach(album_id, markets)
    return Album(
        id=album_id,
        name=names.title(rng),
        album_type=_album_type(rng, size),
        release_date=release_date,
        release_date_precision=precision,
        artists=album_artists,
        images=_images(rng, cover),
        tracks=tuple(tracks),
        label=label,
        popularity=rng.randint(0, 100),
        upc=f"{rng.randint(0, 10**12 - 1):012d}",
        copyrights=(Copyright(f"© {year} {label}", "C"), Copyright(f"℗ {year} {label}", "P")),
        available_markets=available,
    )


def market_reach(album_id: str, markets: tuple[str, ...]) -> tuple[str, ...]:
    """The markets of `markets` an album is sold in (all, several, one or none, in list order),
    drawn from its id alone so the rest of the catalog is the same whatever the list."""
    rng = random.Random(f"spotify-emulator:markets:{album_id}")
    draw = rng.random()
    if draw < REACH_ALL or (draw < REACH_SEVERAL and len(markets) < 3):
        return markets
    if draw < REACH_SEVERAL:
        chosen = set(rng.sample(markets, rng.randint(2, len(markets) - 1)))
        return tuple(market for market in markets if market in chosen)
    if draw < REACH_ONE:
        return (rng.choice(markets),)
    return ()


def make_track(
    rng: random.Random,
    taken: set[str],
    album_artists: tuple[Artist, ...],
    others: list[Artist],
    *,
    disc: int,
    number: int,
) -> Track:
    """One track: the album artists, sometimes a featured guest; previews are rare since 2024."""
    name = names.title(rng)
    track_artists = album_artists
    if others and rng.random() < 0.15:
        guest = rng.choice(others)
        track_artists = (*album_artists, guest)
        name = f"{name} (feat. {guest.name})"
    draw = rng.random()
    if draw < 0.1:
        duration = rng.randint(20_000, 90_000)
    elif draw < 0.9:
        duration = rng.randint(120_000, 300_000)
    else:
        duration = rng.randint(300_000, 900_000)
    preview = None
    if rng.random() < 0.1:
        preview = f"https://p.scdn.co/mp3-preview/{rng.getrandbits(160):040x}?cid=emulator"
    return Track(
        id=new_id(rng, taken),
        name=name,
        disc_number=disc,
        track_number=number,
        duration_ms=duration,
        explicit=rng.random() < 0.25,
        preview_url=preview,
        artists=track_artists,
    )
