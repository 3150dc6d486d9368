"""`make bench`: the project's client against the lab's way and spotipy, on the emulator.

Speed here means what a daily refresh costs: wall time, requests spent against the app's quota,
and 429s wasted near the rate limit, all measured side by side in one run (see issue 5).
"""
