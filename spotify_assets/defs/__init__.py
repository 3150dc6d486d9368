"""The Dagster code location, loaded by `load_from_defs_folder`: one folder per source."""
