"""The deterministic catalog: albums, tracks and artists generated from a seed (ground truth)."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal, NamedTuple

from spotify_assets.emulator import names, objects

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ID_LENGTH = 22

# Release dates count back from a fixed day, not from today, so a seed always yields the same
# catalog; the feed is "new releases", so most dates fall in the two weeks before it.
RELEASE_ANCHOR = date(2026, 11, 20)

AlbumType = Literal["album", "single", "compilation"]
DatePrecision = Literal["year", "month", "day"]
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


class Artist(NamedTuple):
    """An artist as albums and tracks reference it; unpacks as (id, name)."""

    id: str
    name: str


class Image(NamedTuple):
    """Cover art; height and width are null for some images, as Spotify sometimes leaves them."""

    url: str
    height: int | None
    width: int | None


class Copyright(NamedTuple):
    """A copyright line: type C (composition) or P (sound recording)."""

    text: str
    type: str


@dataclass(frozen=True)
class Track:
    """One track of an album; numbering restarts at 1 on each disc."""

    id: str
    name: str
    disc_number: int
    track_number: int
    duration_ms: int
    explicit: bool
    preview_url: str | None
    artists: tuple[Artist, ...]


@dataclass(frozen=True)
class Album:
    """One album of the feed with every track it holds."""

    id: str
    name: str
    album_type: AlbumType
    release_date: str
    release_date_precision: DatePrecision
    artists: tuple[Artist, ...]
    images: tuple[Image, ...]
    tracks: tuple[Track, ...]
    label: str
    popularity: int
    upc: str
    copyrights: tuple[Copyright, ...]
    available_markets: tuple[str, ...]

    @property
    def total_tracks(self) -> int:
        """How many tracks the album has (the truth, whatever a faulty listing shows)."""
        return len(self.tracks)


@dataclass(frozen=True)
class Catalog:
    """The albums of the new-releases feed, in feed order, plus what drift needs to add one more."""

    seed: int
    albums: tuple[Album, ...]
    artists: tuple[Artist, ...]
    drift_count: int = 0
    _by_id: dict[str, Album] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index albums by id once; the catalog never changes after construction."""
        object.__setattr__(self, "_by_id", {album.id: album for album in self.albums})

    def album(self, album_id: str) -> Album | None:
        """The album with this id, or None."""
        return self._by_id.get(album_id)

    def to_json(self, api_base: str) -> dict[str, Any]:
        """Ground truth as JSON: simplified albums in feed order, each with all its tracks."""
        return objects.catalog_document(self, api_base)

    def with_new_release(self) -> Catalog:
        """A copy with a brand-new album at the front of the feed (what drift between pages is)."""
        rng = random.Random(f"spotify-emulator:{self.seed}:drift:{self.drift_count}")
        taken = set(self._by_id)
        for album in self.albums:
            taken.update(track.id for track in album.tracks)
        taken.update(artist.id for artist in self.artists)
        album = _make_album(
            rng, taken, self.artists, size=rng.randint(5, 60), release=_recent_release(rng, 0)
        )
        return Catalog(self.seed, (album, *self.albums), self.artists, self.drift_count + 1)


def is_base62_id(value: str) -> bool:
    """True when `value` looks like a Spotify id: 22 base62 characters."""
    return len(value) == ID_LENGTH and all(char in BASE62 for char in value)


def generate_catalog(albums: int, seed: int) -> Catalog:
    """Build the catalog for (albums, seed); the same arguments always give the same catalog."""
    rng = random.Random(f"spotify-emulator:{seed}")
    taken: set[str] = set()
    artists = tuple(
        Artist(_new_id(rng, taken), names.artist_name(rng)) for _ in range(max(8, albums * 2 // 3))
    )
    sizes = [_album_size(rng) for _ in range(albums)]
    no_images: set[int] = set()
    null_image_sizes: set[int] = set()
    forced_multi_disc: set[int] = set()
    if albums >= 10:
        # Every catalog big enough to matter holds the edge cases a pipeline must get right:
        # exactly one page of 50, one track over a page, a multi-disc box set, singles, odd covers.
        at_50, at_51, big, single_a, single_b, bare, odd = rng.sample(range(albums), 7)
        sizes[at_50], sizes[at_51], sizes[big] = 50, 51, rng.randint(101, 160)
        sizes[single_a] = sizes[single_b] = 1
        forced_multi_disc.add(big)
        no_images.add(bare)
        null_image_sizes.add(odd)
    catalog_albums = tuple(
        _make_album(
            rng,
            taken,
            artists,
            size=size,
            release=_release(rng),
            cover="none"
            if index in no_images
            else "unsized"
            if index in null_image_sizes
            else "sized",
            multi_disc=index in forced_multi_disc,
        )
        for index, size in enumerate(sizes)
    )
    return Catalog(seed, catalog_albums, artists)


def _new_id(rng: random.Random, taken: set[str]) -> str:
    """A fresh 22-character base62 id, unique within the catalog."""
    while True:
        candidate = "".join(rng.choices(BASE62, k=ID_LENGTH))
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def _album_size(rng: random.Random) -> int:
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
    return _recent_release(rng, 13)


def _recent_release(rng: random.Random, max_days_back: int) -> tuple[str, DatePrecision]:
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


def _make_album(
    rng: random.Random,
    taken: set[str],
    artists: tuple[Artist, ...],
    *,
    size: int,
    release: tuple[str, DatePrecision],
    cover: CoverKind = "sized",
    multi_disc: bool = False,
) -> Album:
    """One album with its tracks, ids unique against `taken`."""
    album_id = _new_id(rng, taken)
    album_artists = tuple(rng.sample(artists, rng.choices((1, 2, 3), weights=(70, 20, 10))[0]))
    others = [artist for artist in artists if artist not in album_artists]
    tracks: list[Track] = []
    for disc_number, disc_size in enumerate(_disc_sizes(rng, size, multi_disc), start=1):
        for track_number in range(1, disc_size + 1):
            tracks.append(
                _make_track(
                    rng, taken, album_artists, others, disc=disc_number, number=track_number
                )
            )
    label = rng.choice(LABELS)
    release_date, precision = release
    year = release_date[:4]
    markets = MARKETS if rng.random() < 0.85 else tuple(sorted(rng.sample(MARKETS, 40)))
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
        available_markets=markets,
    )


def _make_track(
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
        id=_new_id(rng, taken),
        name=name,
        disc_number=disc,
        track_number=number,
        duration_ms=duration,
        explicit=rng.random() < 0.25,
        preview_url=preview,
        artists=track_artists,
    )
