"""End to end: the Dagster UI in a real `dg dev` and a real headless Chromium."""
