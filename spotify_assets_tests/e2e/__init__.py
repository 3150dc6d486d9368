"""End to end: the Dagster UI in a real `dagster dev` and a real headless Chromium."""
