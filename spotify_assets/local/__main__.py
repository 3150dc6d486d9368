"""`python -m spotify_assets.local run|dev`: what `make run` and `make dev` call."""

import sys

from spotify_assets.local.cli import main

sys.exit(main())
