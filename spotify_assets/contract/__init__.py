"""The data contract: asset and check names, Arrow schemas, rows, metadata keys (no Dagster)."""
