"""The generated catalog: deterministic, and full of the edge cases a pipeline must survive."""

from __future__ import annotations

import re
import unicodedata

import pytest

from spotify_assets.emulator.catalog import Catalog, generate_catalog
from spotify_assets.emulator.records import is_base62_id


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The default catalog (100 albums, seed 42)."""
    return generate_catalog(100, 42)


def _all_names(catalog: Catalog) -> list[str]:
    """Every album, track and artist name."""
    out = [album.name for album in catalog.albums]
    out += [track.name for album in catalog.albums for track in album.tracks]
    out += [artist.name for artist in catalog.artists]
    return out


def test_same_seed_same_catalog_other_seed_other_ids() -> None:
    assert generate_catalog(30, 7) == generate_catalog(30, 7)
    first = {album.id for album in generate_catalog(30, 7).albums}
    other = {album.id for album in generate_catalog(30, 8).albums}
    assert not first & other


@pytest.mark.parametrize(("albums", "seed"), [(100, 42), (10, 1), (10, 2), (250, 3)])
def test_sizes_cover_the_paging_edges(albums: int, seed: int) -> None:
    catalog = generate_catalog(albums, seed)
    sizes = [album.total_tracks for album in catalog.albums]
    assert len(sizes) == albums
    assert 50 in sizes
    assert 51 in sizes
    assert max(sizes) > 100
    assert sizes.count(1) >= 2
    assert min(sizes) >= 1
    assert max(sizes) <= 160


def test_size_distribution(catalog: Catalog) -> None:
    sizes = [album.total_tracks for album in catalog.albums]
    small = sum(1 <= size <= 20 for size in sizes)
    medium = sum(21 <= size <= 50 for size in sizes)
    large = sum(51 <= size <= 100 for size in sizes)
    huge = sum(size > 100 for size in sizes)
    assert small > 40
    assert medium >= 10
    assert 8 <= large <= 25
    assert 1 <= huge <= 10


def test_ids_are_unique_base62(catalog: Catalog) -> None:
    ids = [album.id for album in catalog.albums]
    ids += [track.id for album in catalog.albums for track in album.tracks]
    ids += [artist.id for artist in catalog.artists]
    assert len(ids) == len(set(ids))
    assert all(is_base62_id(value) for value in ids)


def test_album_types_follow_size(catalog: Catalog) -> None:
    types = {album.album_type for album in catalog.albums}
    assert types == {"album", "single", "compilation"}
    for album in catalog.albums:
        if album.total_tracks <= 3:
            assert album.album_type == "single"
        if album.total_tracks > 6:
            assert album.album_type in ("album", "compilation")


def test_discs_restart_track_numbers(catalog: Catalog) -> None:
    multi_disc = [album for album in catalog.albums if album.tracks[-1].disc_number > 1]
    assert multi_disc
    assert any(album.total_tracks > 100 for album in multi_disc)
    for album in catalog.albums:
        discs: dict[int, list[int]] = {}
        for track in album.tracks:
            discs.setdefault(track.disc_number, []).append(track.track_number)
        assert sorted(discs) == list(range(1, len(discs) + 1))
        for numbers in discs.values():
            assert numbers == list(range(1, len(numbers) + 1))


def test_artists(catalog: Catalog) -> None:
    counts = {len(album.artists) for album in catalog.albums}
    assert counts == {1, 2, 3}
    featured = 0
    for album in catalog.albums:
        for track in album.tracks:
            assert track.artists[: len(album.artists)] == album.artists
            featured += len(track.artists) > len(album.artists)
            assert [name for _, name in track.artists]
    assert featured > 0


def test_names_are_never_empty_and_full_of_unicode(catalog: Catalog) -> None:
    names = _all_names(catalog)
    assert all(name and name.strip() == name for name in names)
    text = "".join(names)
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]", text), "CJK"
    assert re.search(r"[\u0400-\u04ff]", text), "Cyrillic"
    assert re.search(r"[\u0590-\u06ff]", text), "Hebrew or Arabic (RTL)"
    assert any(unicodedata.category(char) == "So" for char in text), "emoji"
    assert any(char in "éñçüøå" for char in text), "accents"
    assert any('"' in name for name in names)
    assert any("," in name for name in names)
    assert any("'" in name for name in names)


def test_release_dates_mix_precisions(catalog: Catalog) -> None:
    shapes = {"year": r"\d{4}", "month": r"\d{4}-\d{2}", "day": r"\d{4}-\d{2}-\d{2}"}
    precisions = [album.release_date_precision for album in catalog.albums]
    assert set(precisions) == {"year", "month", "day"}
    assert precisions.count("day") > len(precisions) / 2
    for album in catalog.albums:
        assert re.fullmatch(shapes[album.release_date_precision], album.release_date)


def test_images_and_nulls(catalog: Catalog) -> None:
    covers = [album.images for album in catalog.albums]
    assert sum(len(images) == 3 for images in covers) > 80
    assert () in covers
    assert any(image.height is None and image.width is None for i in covers for image in i)
    for images in covers:
        widths = [image.width for image in images if image.width is not None]
        assert widths == sorted(widths, reverse=True)
    previews = [t.preview_url for album in catalog.albums for t in album.tracks]
    assert previews.count(None) > 0.8 * len(previews)
    assert any(url and url.startswith("https://p.scdn.co/") for url in previews)
    explicit = [t.explicit for album in catalog.albums for t in album.tracks]
    assert 0 < sum(explicit) < len(explicit)


def test_drift_album_is_new_and_deterministic(catalog: Catalog) -> None:
    grown = catalog.with_new_release()
    assert grown.albums[1:] == catalog.albums
    assert catalog.album(grown.albums[0].id) is None
    assert grown.album(grown.albums[0].id) == grown.albums[0]
    assert grown == catalog.with_new_release()
    assert grown.with_new_release().albums[0].id != grown.albums[0].id


def test_ground_truth_json(catalog: Catalog) -> None:
    document = catalog.to_json("http://example.test/v1")
    assert [album["id"] for album in document["albums"]] == [a.id for a in catalog.albums]
    first = document["albums"][0]
    assert len(first["tracks"]) == first["total_tracks"]
    assert first["href"] == f"http://example.test/v1/albums/{first['id']}"
