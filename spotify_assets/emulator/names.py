"""Word pools and a seeded name maker: the awkward names real catalogs hold (scripts, emoji)."""

from __future__ import annotations

import itertools
import random

LATIN = (
    "Midnight", "Echoes", "Golden", "Hour", "Neon", "Rain", "Summer", "Ghost", "Velvet",
    "River", "Paper", "Moon", "Static", "Bloom", "Wild", "Heart", "Satellite", "City",
    "Lights", "Fever", "Dream", "Ocean", "Glass", "Fire", "Silver", "Road", "Electric",
    "Shadows", "Honey", "Gravity", "Northern", "Signal", "Tides", "Orbit", "Youth", "Parade",
)  # fmt: skip
ACCENTED = (
    "Café", "Déjà Vu", "Canción", "Mañana", "Señorita", "Coração", "Saudade", "Über",
    "Straße", "Fiançailles", "Ça Va", "Naïve", "Żółw", "Ångström", "Smørrebrød", "Ölüdeniz",
)  # fmt: skip
CJK = ("東京", "夜明け", "さくら", "愛してる", "月光", "北京", "你好", "서울", "사랑해", "별빛")
CYRILLIC = ("Москва", "Звезда", "Ночь", "Любовь", "Київ", "Весна")
GREEK = ("Αγάπη", "Θάλασσα")
RTL = ("مرحبا", "حبيبي", "ليلة", "שלום", "אהבה")
OTHER_SCRIPTS = ("नमस्ते", "สวัสดี", "ქართული")
EMOJI = ("🔥", "✨", "💔", "🌙", "🎧", "🚀", "🌊")

# (weight, pool): mostly Latin words, a steady share of everything a naive pipeline mangles.
POOLS: tuple[tuple[float, tuple[str, ...]], ...] = (
    (0.55, LATIN),
    (0.12, ACCENTED),
    (0.10, CJK),
    (0.07, CYRILLIC),
    (0.03, GREEK),
    (0.06, RTL),
    (0.03, OTHER_SCRIPTS),
    (0.04, EMOJI),
)

TITLE_SUFFIXES = (
    " (Live)",
    " - Remastered 2026",
    " (Acoustic)",
    ", Pt. 2",
    " (Deluxe Edition)",
    ' "Live at the Roxy"',
    " [Radio Edit]",
)
ARTIST_PREFIXES = ("DJ ", "MC ", "Los ", "The ", "Lil ", "")
ARTIST_SUFFIXES = (" & The Band", " Trio", " Orchestra", " y Su Banda", " Collective", "")


_WORD_LISTS = [words for _, words in POOLS]
_CUMULATIVE = list(itertools.accumulate(weight for weight, _ in POOLS))


def _word(rng: random.Random) -> str:
    """One word drawn from the weighted script pools."""
    return rng.choice(rng.choices(_WORD_LISTS, cum_weights=_CUMULATIVE)[0])


def title(rng: random.Random) -> str:
    """An album or track title: 1-3 words, sometimes quoted, comma-joined or suffixed."""
    words = [_word(rng) for _ in range(rng.randint(1, 3))]
    shape = rng.random()
    if shape < 0.08 and len(words) > 1:
        name = ", ".join(words)
    elif shape < 0.14:
        name = f'"{" ".join(words)}"'
    elif shape < 0.18:
        name = f"Don't {' '.join(words)}"
    else:
        name = " ".join(words)
    if rng.random() < 0.12:
        name += rng.choice(TITLE_SUFFIXES)
    return name


def artist_name(rng: random.Random) -> str:
    """An artist name: 1-2 words with the occasional prefix or suffix; never empty."""
    words = " ".join(_word(rng) for _ in range(rng.randint(1, 2)))
    if rng.random() < 0.25:
        return rng.choice(ARTIST_PREFIXES) + words + rng.choice(ARTIST_SUFFIXES)
    return words
