"""How a materialization describes itself in the UI: column schema, preview, request counters."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa
from dagster import MetadataValue, TableColumn, TableColumnConstraints, TableSchema

from spotify_assets.contract import names, schemas
from spotify_assets.spotify import ClientStats


def column_schema(asset: str) -> TableSchema:
    """The asset's Arrow schema as Dagster column metadata (dagster/column_schema)."""
    schema: pa.Schema = schemas.SCHEMAS[asset]
    unique = schemas.UNIQUE_COLUMNS.get(asset, frozenset())
    return TableSchema(
        columns=[
            TableColumn(
                name=field.name,
                type=str(field.type),
                description=(field.metadata or {}).get(b"description", b"").decode(),
                constraints=TableColumnConstraints(
                    nullable=field.nullable, unique=field.name in unique
                ),
            )
            for field in schema
        ]
    )


def table(asset: str, frame: pd.DataFrame) -> dict[str, Any]:
    """Row count, column schema and a markdown preview of the first rows."""
    preview = frame[list(names.PREVIEW_COLUMNS[asset])].head(names.PREVIEW_ROWS)
    return {
        names.ROW_COUNT: len(frame),
        names.COLUMN_SCHEMA: column_schema(asset),
        names.PREVIEW: MetadataValue.md(preview.to_markdown(index=False)),
    }


def requests_made(stats: ClientStats) -> dict[str, Any]:
    """What the client did for this asset: requests, retries, 429s, waits, token refreshes."""
    return {
        names.REQUESTS: stats.api_requests,
        names.TOKEN_REQUESTS: stats.token_requests,
        names.RETRIES: stats.retries,
        names.HTTP_429: stats.http_429,
        names.WAITED_S: round(stats.waited_s, 3),
        names.TOKEN_REFRESHES: stats.token_refreshes,
    }
