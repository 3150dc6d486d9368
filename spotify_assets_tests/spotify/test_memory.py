"""The app's capabilities are remembered across runs, for a week, and never break a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spotify_assets.emulator import EmulatorServer, Fault
from spotify_assets.spotify import SpotifyRateLimitError
from spotify_assets.spotify.memory import FORBIDDEN_TTL_S, RECHECK_AFTER_S, AppMemory, FileStore
from spotify_assets.spotify.pacing import LearnedPace, Pacer
from spotify_assets_tests.conftest import EmulatorFactory
from spotify_assets_tests.spotify.conftest import ClientFactory, fewest_requests


def test_a_403_is_remembered_so_the_next_run_goes_straight_to_search(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    emu = emulator_factory(albums=30, mode="development")
    first = client_for(emu)
    first.album_tracks(a["id"] for a in first.new_releases().albums)
    emu.reset()

    second = client_for(emu)
    feed = second.new_releases()
    tracks = second.album_tracks(a["id"] for a in feed.albums)

    assert feed.source == "search" and len(tracks) == 30
    assert feed.fallback_reason is not None and feed.fallback_reason.startswith("remembered from")
    assert emu.stats()["by_endpoint"]["new_releases"] == 0
    assert second.stats.api_requests == fewest_requests(emu, "development")
    [stored] = json.loads((capability_cache / "app_memory.json").read_text()).values()
    assert set(stored) == {"forbidden"} and set(stored["forbidden"]) == {"browse", "albums"}
    assert emu.client_secret not in (capability_cache / "app_memory.json").read_text()


def test_an_extended_app_is_never_sent_to_search(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    emu = emulator_factory(albums=10, mode="extended")
    assert client_for(emu).new_releases().source == "browse"
    assert client_for(emu).new_releases().source == "browse"
    assert not (capability_cache / "app_memory.json").exists()


def test_memories_expire_so_an_upgraded_app_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / "app_memory.json"
    now = [1_000_000.0]
    AppMemory(FileStore(path), "app", clock=lambda: now[0]).forbid("browse", "403")
    assert AppMemory(FileStore(path), "app", clock=lambda: now[0]).reason("browse") is not None
    assert AppMemory(FileStore(path), "other-app", clock=lambda: now[0]).reason("browse") is None
    now[0] += FORBIDDEN_TTL_S + 1
    assert AppMemory(FileStore(path), "app", clock=lambda: now[0]).reason("browse") is None
    AppMemory(FileStore(path), "app", clock=lambda: now[0]).forbid("albums", "403")
    assert set(json.loads(path.read_text())["app"]["forbidden"]) == {"albums"}


def test_an_unusable_cache_costs_a_probe_but_never_the_run(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    emu = emulator_factory(albums=10, mode="development")
    client = client_for(emu, memory=FileStore(blocker / "app_memory.json"))
    assert len(client.new_releases().albums) == 10
    (tmp_path / "garbage.json").write_text("{not json")
    assert AppMemory(FileStore(tmp_path / "garbage.json"), "app").reason("browse") is None
    (tmp_path / "odd.json").write_text(
        '{"app": {"forbidden": {"browse": {"at": "yesterday"}}, "pace": 3}, "x": [1]}'
    )
    odd = AppMemory(FileStore(tmp_path / "odd.json"), "app")
    assert odd.reason("browse") is None and odd.stored_pace() is None
    odd.forbid("albums", "403")
    stored = json.loads((tmp_path / "odd.json").read_text())
    assert stored["app"]["forbidden"]["albums"]["reason"] == "403"


def test_an_older_or_hand_edited_saved_pace_loads_unconfirmed_and_a_damaged_one_is_ignored(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app_memory.json"
    pace = {"quota": 90, "window_s": "30", "at": 1_000_000.0}  # an older store, edited by hand
    path.write_text(json.dumps({"app": {"pace": pace}}))
    memory = AppMemory(FileStore(path), "app", clock=lambda: 1_000_000.0)
    assert Pacer(memory=memory).pace == LearnedPace(90, 30.0, confirmed=False)
    path.write_text(json.dumps({"app": {"pace": {"quota": "many", "at": 1_000_000.0}}}))
    assert Pacer(memory=AppMemory(FileStore(path), "app", clock=lambda: 1_000_000.0)).pace is None


def stored_refusals(capability_cache: Path) -> dict[str, bool]:
    """Endpoint -> whether the app memory holds its refusal as confirmed."""
    path = capability_cache / "app_memory.json"
    if not path.exists():
        return {}
    [stored] = json.loads(path.read_text()).values()
    return {e: entry["confirmed"] for e, entry in stored.get("forbidden", {}).items()}


def suspected_hours_ago(capability_cache: Path, hours: float) -> None:
    """Move every stored refusal's time back by `hours` (as if stored that much earlier)."""
    path = capability_cache / "app_memory.json"
    data = json.loads(path.read_text())
    for entry in data.values():
        for refusal in entry.get("forbidden", {}).values():
            refusal["at"] -= hours * 3600
    path.write_text(json.dumps(data))


def test_a_restricted_apps_429_on_browse_is_kept_once_a_run_an_hour_later_sees_it_too(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    emu = emulator_factory(albums=20, mode="extended")
    refusal = Fault(endpoint="new_releases", action="rate_limit", retry_after_s=0, times=99)

    def run() -> tuple[str, int]:
        emu.reset()
        emu.add_fault(refusal)
        feed = client_for(emu).new_releases()
        assert len(feed.albums) == 20
        return feed.source, emu.stats()["by_endpoint"]["new_releases"]

    assert run() == ("search", 3)
    assert stored_refusals(capability_cache) == {"browse": False, "albums": False}
    # A run retried at once meets the same answer, which may be the same burst: still suspected.
    assert run() == ("search", 3)
    assert stored_refusals(capability_cache) == {"browse": False, "albums": False}
    suspected_hours_ago(capability_cache, 1.0)
    assert run() == ("search", 3)
    assert stored_refusals(capability_cache) == {"browse": True, "albums": True}
    assert run() == ("search", 0)


def test_a_suspected_refusal_is_asked_about_once_a_run_however_many_reads(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    """Per market album_tracks reads: the batch endpoint is asked about by the first only."""
    emu = emulator_factory(albums=25, mode="extended")
    ids = [a.id for a in emu.catalog.albums]
    emu.add_fault(Fault(endpoint="albums", action="rate_limit", retry_after_s=0, times=99))
    client_for(emu).album_tracks(ids)
    assert stored_refusals(capability_cache) == {"albums": False}
    emu.reset()
    emu.add_fault(Fault(endpoint="albums", action="rate_limit", retry_after_s=0, times=99))
    client = client_for(emu)
    for _ in range(3):
        assert client.album_tracks(ids).endpoint == "album_tracks"
    assert emu.stats()["by_endpoint"]["albums"] == 3


def test_a_suspected_refusal_that_meets_a_403_is_confirmed_with_spotifys_words(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    emu = emulator_factory(albums=20, mode="development")
    emu.add_fault(Fault(endpoint="new_releases", action="rate_limit", retry_after_s=0, times=3))
    assert client_for(emu).new_releases().source == "search"
    assert stored_refusals(capability_cache) == {"browse": False, "albums": False}
    emu.reset()
    feed = client_for(emu).new_releases()
    assert feed.fallback_reason is not None and "403" in feed.fallback_reason
    assert "remembered" not in feed.fallback_reason
    assert stored_refusals(capability_cache) == {"browse": True, "albums": True}


def test_429s_after_browse_answered_are_the_rate_limit_not_a_refusal(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    """Browse's first page came; its second keeps answering 429: the run fails on the rate
    limit instead of calling browse refused."""
    emu = emulator_factory(albums=80, mode="extended")
    emu.add_fault(
        Fault(endpoint="new_releases", action="rate_limit", nth=2, retry_after_s=0, times=99)
    )
    with pytest.raises(SpotifyRateLimitError, match="kept answering 429"):
        client_for(emu, max_rate_limit_retries=2).new_releases()
    assert emu.stats()["by_endpoint"]["search"] == 0
    assert stored_refusals(capability_cache) == {}


def test_a_refusal_is_never_turned_back_into_a_suspicion_nor_dropped_along_another(
    tmp_path: Path,
) -> None:
    """Two clients of one store: one loaded before the other confirmed `albums` by a 403."""
    store = FileStore(tmp_path / "app_memory.json")
    early = AppMemory(store, "app", clock=lambda: 1e6)
    AppMemory(store, "app", clock=lambda: 1e6).forbid("albums", "403")
    early.forbid_all({"browse": "429s", "albums": "not tried"}, by_429=True)
    assert stored_refusals(tmp_path) == {"browse": False, "albums": True}
    AppMemory(store, "app", clock=lambda: 1e6).allow("browse", also_suspected=("albums",))
    assert stored_refusals(tmp_path) == {"albums": True}


def test_one_burst_of_429s_on_browse_costs_an_extended_app_one_run_of_search_not_a_week(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    emu = emulator_factory(albums=30, mode="extended")
    emu.add_fault(Fault(endpoint="new_releases", action="rate_limit", retry_after_s=0, times=3))
    assert client_for(emu).new_releases().source == "search"
    assert stored_refusals(capability_cache) == {"browse": False, "albums": False}

    emu.reset()
    client = client_for(emu)
    feed = client.new_releases()
    tracks = client.album_tracks(a["id"] for a in feed.albums)
    assert feed.source == "browse" and feed.fallback_reason is None
    assert tracks.endpoint == "albums" and len(tracks) == 30
    assert client.stats.api_requests == fewest_requests(emu, "extended")
    assert stored_refusals(capability_cache) == {}


def test_one_burst_of_429s_on_the_batch_probe_is_asked_again_by_the_next_run(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    emu = emulator_factory(albums=25, mode="extended")
    ids = [a.id for a in emu.catalog.albums]
    emu.add_fault(Fault(endpoint="albums", action="rate_limit", retry_after_s=0, times=3))
    assert client_for(emu).album_tracks(ids).endpoint == "album_tracks"
    assert stored_refusals(capability_cache) == {"albums": False}

    emu.reset()
    tracks = client_for(emu).album_tracks(ids)
    assert tracks.endpoint == "albums" and len(tracks) == 25
    assert emu.stats()["by_endpoint"]["albums"] == 2
    assert stored_refusals(capability_cache) == {}


def run_both(
    emu: EmulatorServer, client_for: ClientFactory, *faults: Fault
) -> tuple[str, str, int, int]:
    """A day's run of both reads from a reset emulator (with `faults`): the feed's source, the
    tracks' endpoint, and the requests browse and /albums?ids= got."""
    emu.reset()
    for fault in faults:
        emu.add_fault(fault)
    client = client_for(emu)
    feed = client.new_releases()
    tracks = client.album_tracks(a["id"] for a in feed.albums)
    assert len(tracks) == len(emu.catalog.albums)
    asked = emu.stats()["by_endpoint"]
    return feed.source, tracks.endpoint, asked["new_releases"], asked.get("albums", 0)


def held_refusals(capability_cache: Path) -> dict[str, bool]:
    """Endpoint -> whether its stored refusal is held for the week (seen again a day later)."""
    [stored] = json.loads((capability_cache / "app_memory.json").read_text()).values()
    return {e: entry["held"] for e, entry in stored.get("forbidden", {}).items()}


def test_a_403_that_outlasted_its_second_ask_costs_an_extended_app_a_day_not_a_week(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    """Browse refused twice, a moment apart, then never again (an incident of Spotify's): the
    refusal is believed until the first run a day later, which asks again and finds browse."""
    emu = emulator_factory(albums=30, mode="extended")
    incident = Fault("new_releases", "status", status=403, times=2)
    assert run_both(emu, client_for, incident)[:3] == ("search", "album_tracks", 2)
    assert held_refusals(capability_cache) == {"browse": False, "albums": False}
    assert run_both(emu, client_for) == ("search", "album_tracks", 0, 0)  # believed that day
    suspected_hours_ago(capability_cache, RECHECK_AFTER_S / 3600 - 0.1)
    assert run_both(emu, client_for) == ("search", "album_tracks", 0, 0)  # not quite a day
    suspected_hours_ago(capability_cache, 0.1)

    emu.reset()
    client = client_for(emu)
    client.album_tracks(a["id"] for a in client.new_releases().albums)
    assert client.stats.api_requests == fewest_requests(emu, "extended")
    assert stored_refusals(capability_cache) == {}


def test_a_403_seen_again_a_day_later_is_kept_for_the_week(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    """A Development Mode app: its refusals cost two requests the first day, two the next (browse
    asked again; /albums?ids= goes with it, unasked), then none for the week."""
    emu = emulator_factory(albums=20, mode="development")
    assert run_both(emu, client_for) == ("search", "album_tracks", 2, 0)
    suspected_hours_ago(capability_cache, RECHECK_AFTER_S / 3600)
    assert run_both(emu, client_for) == ("search", "album_tracks", 2, 0)
    assert held_refusals(capability_cache) == {"browse": True, "albums": True}
    suspected_hours_ago(capability_cache, RECHECK_AFTER_S / 3600)
    assert run_both(emu, client_for) == ("search", "album_tracks", 0, 0)
    suspected_hours_ago(capability_cache, FORBIDDEN_TTL_S / 3600)
    assert run_both(emu, client_for) == ("search", "album_tracks", 2, 0)  # a week on: asked


def test_a_refusal_stored_before_suspicions_were_kept_counts_as_confirmed(tmp_path: Path) -> None:
    path = tmp_path / "app_memory.json"
    path.write_text(json.dumps({"app": {"forbidden": {"browse": {"reason": "403", "at": 1e6}}}}))
    memory = AppMemory(FileStore(path), "app", clock=lambda: 1e6)
    assert memory.reason("browse") is not None and not memory.recheck("browse")


def test_a_429_on_browse_that_search_meets_too_is_the_rate_limit_and_not_remembered(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    emu = emulator_factory(albums=20, mode="extended")
    emu.add_fault(Fault(endpoint="new_releases", action="rate_limit", retry_after_s=0, times=99))
    emu.add_fault(Fault(endpoint="search", action="rate_limit", retry_after_s=0))
    feed = client_for(emu).new_releases()
    assert feed.source == "search" and len(feed.albums) == 20
    assert not (capability_cache / "app_memory.json").exists()


def test_a_restricted_apps_429_on_the_batch_probe_falls_back_to_one_listing_per_album(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    emu = emulator_factory(albums=25, mode="extended")
    emu.add_fault(Fault(endpoint="albums", action="rate_limit", retry_after_s=0, times=99))
    tracks = client_for(emu).album_tracks(a.id for a in emu.catalog.albums)
    assert tracks.endpoint == "album_tracks" and len(tracks) == 25
    assert tracks.fallback_reason is not None and "kept answering 429" in tracks.fallback_reason
    assert emu.stats()["by_endpoint"]["albums"] == 3
    assert stored_refusals(capability_cache) == {"albums": False}


def test_after_a_429_on_browse_the_batch_endpoint_is_not_probed_either(
    emulator_factory: EmulatorFactory, client_for: ClientFactory
) -> None:
    emu = emulator_factory(albums=25, mode="extended")
    emu.add_fault(Fault(endpoint="new_releases", action="rate_limit", retry_after_s=0, times=99))
    client = client_for(emu)
    tracks = client.album_tracks(a["id"] for a in client.new_releases().albums)
    assert tracks.endpoint == "album_tracks" and len(tracks) == 25
    assert emu.stats()["by_endpoint"]["albums"] == 0


def test_the_learned_pace_is_remembered_for_the_next_run(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    # 80 albums, about 85 requests: the pace read from the first full window holds one, then a
    # probe over it is refused, which confirms it; unless the first pause took a 429 from every
    # worker, and the pace is saved untested for the next run to test with its probe.
    emu = emulator_factory(albums=80, mode="development", latency_ms=40, rate_limit=(30, 3.0))
    first = client_for(emu)
    first.album_tracks(a["id"] for a in first.new_releases().albums)
    assert first.stats.http_429 >= 1
    [stored] = json.loads((capability_cache / "app_memory.json").read_text()).values()
    assert stored["pace"]["quota"] == 30 and 3.0 <= stored["pace"]["window_s"] < 3.5
    assert stored["pace"]["runs"] == 1
    tested = stored["pace"]["confirmed"]
    for runs in (2, 3):
        emu.reset()
        warm = client_for(emu)
        warm.album_tracks(a["id"] for a in warm.new_releases().albums)
        assert warm.stats.http_429 <= (0 if tested else 1)  # at most the probe that tests it
        [stored] = json.loads((capability_cache / "app_memory.json").read_text()).values()
        assert stored["pace"]["quota"] == 30 and stored["pace"]["confirmed"] is True
        assert stored["pace"]["runs"] == runs
        tested = True


def learned_days_ago(capability_cache: Path, days: float) -> float:
    """Move the stored pace's time back by `days` (as if learned that much earlier); its time."""
    path = capability_cache / "app_memory.json"
    data = json.loads(path.read_text())
    [key] = data
    data[key]["pace"]["at"] -= days * 24 * 3600
    path.write_text(json.dumps(data))
    return float(data[key]["pace"]["at"])


def test_a_pace_learned_from_a_shared_quota_expires_three_days_after_it_was_learned(
    emulator_factory: EmulatorFactory, client_for: ClientFactory, capability_cache: Path
) -> None:
    """Another client id of the account took two thirds of the quota while the pace was learned:
    later runs hold that pace without a 429 to correct it, and do not prolong it."""
    emu = emulator_factory(albums=60, mode="development", latency_ms=40, rate_limit=(10, 1.0))
    first = client_for(emu)
    first.album_tracks(a["id"] for a in first.new_releases().albums)
    [stored] = json.loads((capability_cache / "app_memory.json").read_text()).values()
    if not stored["pace"]["confirmed"]:  # untested: the next run's probe tests it
        emu.reset()
        tester = client_for(emu)
        tester.album_tracks(a["id"] for a in tester.new_releases().albums)
        [stored] = json.loads((capability_cache / "app_memory.json").read_text()).values()
    assert stored["pace"]["quota"] == 10 and stored["pace"]["confirmed"] is True
    runs_before = stored["pace"]["runs"]
    learned_at = learned_days_ago(capability_cache, 2.0)

    emu.configure(rate_limit=(30, 1.0))
    emu.reset()
    held = client_for(emu)
    held.album_tracks(a["id"] for a in held.new_releases().albums)
    [stored] = json.loads((capability_cache / "app_memory.json").read_text()).values()
    assert held.stats.http_429 == 0 and stored["pace"]["quota"] == 10
    assert stored["pace"]["runs"] == runs_before + 1 and stored["pace"]["at"] == learned_at

    learned_days_ago(capability_cache, 1.01)
    emu.reset()
    fresh = client_for(emu)
    fresh.album_tracks(a["id"] for a in fresh.new_releases().albums)
    [stored] = json.loads((capability_cache / "app_memory.json").read_text()).values()
    assert fresh.stats.http_429 >= 1 and stored["pace"]["quota"] == 30
    assert stored["pace"]["runs"] == 1
