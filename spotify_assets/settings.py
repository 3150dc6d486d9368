"""The environment variables users set, read in one place into one frozen value.

Credentials are not read here: the Spotify resource takes them through EnvVar at run time, so
their values never appear in run config. Blank values count as unset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, get_args

CLIENT_ID: Final = "SPOTIFY_CLIENT_ID"
CLIENT_SECRET: Final = "SPOTIFY_CLIENT_SECRET"
API_BASE_URL: Final = "SPOTIFY_API_BASE_URL"
TOKEN_URL: Final = "SPOTIFY_TOKEN_URL"
DATA_DIR: Final = "SPOTIFY_ASSETS_DATA_DIR"
NEW_RELEASES_SOURCE: Final = "SPOTIFY_NEW_RELEASES_SOURCE"
MARKETS: Final = "SPOTIFY_MARKETS"
MARKET: Final = "SPOTIFY_MARKET"
"""The one-market alias of SPOTIFY_MARKETS (what configured the market before there were
several)."""
TABLE_FORMAT: Final = "SPOTIFY_ASSETS_TABLE_FORMAT"
ICEBERG_CATALOG_URI: Final = "SPOTIFY_ASSETS_ICEBERG_CATALOG_URI"
ICEBERG_NAMESPACE: Final = "SPOTIFY_ASSETS_ICEBERG_NAMESPACE"
GIT_URL: Final = "SPOTIFY_ASSETS_GIT_URL"
GIT_BRANCH: Final = "SPOTIFY_ASSETS_GIT_BRANCH"
COUNTRY_CODES: Final = frozenset((
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "XK", "YE", "YT", "ZA", "ZM", "ZW",
))  # fmt: skip
"""The officially assigned ISO 3166-1 alpha-2 codes, and XK (Kosovo), which Spotify serves too:
what `market` takes. Checked here, where the variable can be named; the client checks the shape."""

CLIENT_FIELDS: Final = {
    API_BASE_URL: "api_base_url",
    TOKEN_URL: "token_url",
    NEW_RELEASES_SOURCE: "new_releases_source",
}
"""Variables that set a field of the Spotify resource (whose defaults are the client's)."""
DEFAULT_DATA_DIR: Final = "./data"
TableFormat = Literal["parquet", "iceberg"]
TABLE_FORMATS: Final[tuple[TableFormat, ...]] = get_args(TableFormat)
DEFAULT_TABLE_FORMAT: Final[TableFormat] = "parquet"
DEFAULT_ICEBERG_NAMESPACE: Final = "spotify"
LOCAL_PROTOCOLS: Final = frozenset({"", "file", "local"})
"""fsspec protocols of a folder on this machine (a path without `://` has the protocol "")."""
DEFAULT_GIT_BRANCH: Final = "main"


def is_local(data_dir: str) -> bool:
    """Whether a data dir (path or fsspec URL) is a folder on this machine, not object storage."""
    protocol = data_dir.split("://", 1)[0] if "://" in data_dir else ""
    return protocol in LOCAL_PROTOCOLS


def table_format(value: str) -> TableFormat:
    """The table format SPOTIFY_ASSETS_TABLE_FORMAT names; anything else fails, saying what
    it may be."""
    for known in TABLE_FORMATS:
        if value.lower() == known:
            return known
    raise ValueError(
        f"{TABLE_FORMAT}={value!r} is not a table format: use {' or '.join(TABLE_FORMATS)} "
        f"(unset: {DEFAULT_TABLE_FORMAT})."
    )


@dataclass(frozen=True)
class Settings:
    """What the environment configures: resource fields it sets, the data folder, credentials,
    the markets (empty: one feed without a market), the table format (with Iceberg's catalog and
    namespace), and the git repository the UI links the assets' code to (unset: links to local
    files)."""

    client: Mapping[str, str] = field(default_factory=dict)
    data_dir: str = DEFAULT_DATA_DIR
    credentials_given: tuple[str, ...] = ()
    table_format: TableFormat = DEFAULT_TABLE_FORMAT
    iceberg_catalog_uri_set: bool = False
    """Whether SPOTIFY_ASSETS_ICEBERG_CATALOG_URI is set (unset: SQLite under a local data dir).
    Its value, which may hold a password, is read by the IO manager's EnvVar, not kept here."""
    iceberg_namespace: str = DEFAULT_ICEBERG_NAMESPACE
    git_url: str | None = None
    git_branch: str = DEFAULT_GIT_BRANCH
    markets: tuple[str, ...] = ()
    markets_variable: str | None = None
    """The variable that set `markets` (SPOTIFY_MARKETS or its alias SPOTIFY_MARKET), to name it
    when the Spotify resource refuses them; None when neither is set."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the variables from `environ` (default: this process's environment); a table
        format that is not one fails at once, naming the variable. Whether a catalog URI is
        needed (Iceberg on object storage) the component judges, knowing the YAML's values too."""
        values = {
            name: value.strip()
            for name, value in (os.environ if environ is None else environ).items()
            if name.startswith("SPOTIFY_") and value.strip()
        }
        return cls(
            client={key: values[name] for name, key in CLIENT_FIELDS.items() if name in values},
            data_dir=values.get(DATA_DIR, DEFAULT_DATA_DIR),
            credentials_given=tuple(name for name in (CLIENT_ID, CLIENT_SECRET) if name in values),
            table_format=table_format(values.get(TABLE_FORMAT, DEFAULT_TABLE_FORMAT)),
            iceberg_catalog_uri_set=ICEBERG_CATALOG_URI in values,
            iceberg_namespace=values.get(ICEBERG_NAMESPACE, DEFAULT_ICEBERG_NAMESPACE),
            git_url=values.get(GIT_URL),
            git_branch=values.get(GIT_BRANCH, DEFAULT_GIT_BRANCH),
            markets=markets_from(values),
            markets_variable=next((name for name in (MARKETS, MARKET) if name in values), None),
        )

    @property
    def has_credentials(self) -> bool:
        """Whether both app credentials are set to something non-blank."""
        return len(self.credentials_given) == 2


def markets_from(values: Mapping[str, str]) -> tuple[str, ...]:
    """The markets SPOTIFY_MARKETS lists (or SPOTIFY_MARKET names), in order; a value that is
    not a list of distinct ISO codes fails, naming the variable and what it must hold."""
    if MARKETS in values and MARKET in values:
        raise ValueError(
            f"Both {MARKETS} and {MARKET} are set: {MARKET} is the one-market alias of "
            f"{MARKETS}; keep only {MARKETS}={values[MARKETS]} (or put {values[MARKET]} in it)."
        )
    name = MARKETS if MARKETS in values else MARKET
    if name not in values:
        return ()
    markets = tuple(code.strip() for code in values[name].split(","))
    if name == MARKET and len(markets) > 1:
        raise ValueError(f"{MARKET} names one market; list several in {MARKETS}={values[MARKET]}")
    wrong = [code for code in markets if code not in COUNTRY_CODES]
    if wrong or len(set(markets)) != len(markets):
        raise ValueError(
            f"{name} must list distinct ISO 3166-1 alpha-2 country codes in capitals, separated "
            f"by commas (e.g. US,SE,DE), not {values[name]!r}"
            + (f": {', '.join(map(repr, wrong))} is not such a code" if wrong else "")
            + (" (the United Kingdom is GB)" if "UK" in wrong else "")
            + ". Fix it (in the environment or .env), or unset it to read one feed without a "
            "market."
        )
    return markets
