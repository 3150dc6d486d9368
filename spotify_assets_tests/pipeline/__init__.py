"""Tests of the Dagster layer: assets materialized against the emulator into a temp folder."""
