"""Iceberg tables beside the default Parquet files: SPOTIFY_ASSETS_TABLE_FORMAT=iceberg.

Both assets become `<namespace>.new_releases` and `<namespace>.album_tracks` in pyiceberg's
SqlCatalog (SQLite beside a local data dir, PostgreSQL or any SQLAlchemy database otherwise), so
no catalog service is needed; the warehouse (data and metadata files) is `<data dir>/iceberg/`,
locally or on S3. `location` says where, `tables` reads and writes, `io_manager` is the
Dagster side.
"""
