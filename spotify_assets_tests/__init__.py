"""The test suite: client, emulator, Dagster layer, the UI end to end, and the deployment."""
