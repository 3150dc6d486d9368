"""Typed errors of the Spotify client: each one says what happened and what to do about it."""

from __future__ import annotations


class SpotifyError(Exception):
    """Base class of everything the client raises on purpose."""


class SpotifyConfigError(SpotifyError):
    """The client was configured in a way that cannot work (a missing credential, a bad URL)."""


class SpotifyCredentialsError(SpotifyError):
    """The token endpoint rejected the client id or secret (OAuth `invalid_client`)."""


class SpotifyHTTPError(SpotifyError):
    """The API answered with an error status that the client does not retry."""

    def __init__(self, message: str, *, status: int, url: str) -> None:
        super().__init__(message)
        self.status = status
        self.url = url


class SpotifyAuthError(SpotifyHTTPError):
    """The API kept answering 401 even with a freshly issued token."""


class SpotifyForbiddenError(SpotifyHTTPError):
    """The API answered 403: this app may not use the endpoint (Development Mode, since 2026)."""


class SpotifyAppForbiddenError(SpotifyHTTPError):
    """The API refused the whole app (403: the owner lacks Premium, or the country is not served):
    no other endpoint can help, so the run stops at the first refusal."""


class SpotifyNotFoundError(SpotifyHTTPError):
    """The API answered 404 for a resource (an album id that does not exist, for instance)."""


class SpotifyRequestError(SpotifyHTTPError):
    """The API refused the request as malformed (400 and other 4xx); retrying cannot help."""


class SpotifyRateLimitError(SpotifyHTTPError):
    """Spotify kept answering 429 (more than the request may wait out, or the run's retry budget
    is spent); a stop of the whole run is the subclass SpotifyRunStoppedError."""

    def __init__(
        self,
        message: str,
        *,
        url: str,
        retry_after_s: float | None,
        max_retry_after_s: float,
        reason: str | None = None,
    ) -> None:
        super().__init__(message, status=429, url=url)
        self.retry_after_s = retry_after_s
        self.max_retry_after_s = max_retry_after_s
        self.reason = reason


class SpotifyRunStoppedError(SpotifyRateLimitError):
    """Spotify asked the app to stop (a day-long Retry-After, or its quota is spent): the client
    stopped every worker at once, since requests sent during a ban can lengthen it."""


class SpotifyUnavailableError(SpotifyError):
    """Server errors, timeouts or dropped connections outlasted the retries or the retry budget."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class SpotifyRetryBudgetError(SpotifyUnavailableError):
    """The run's retry budget for outages is spent: the service is failing for the whole run, not
    for one album, so the client asks nothing more (what it fetched is kept, see AlbumTracks)."""


class SpotifyProtocolError(SpotifyError):
    """The API answered something the client cannot interpret (not JSON, a missing field)."""


class SpotifyPagingError(SpotifyError):
    """Paging could not be completed safely: a foreign `next` host, a loop, or persistent drift."""
