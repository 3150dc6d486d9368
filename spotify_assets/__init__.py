"""spotify_assets: a Dagster code location for Spotify new releases and their tracks."""
