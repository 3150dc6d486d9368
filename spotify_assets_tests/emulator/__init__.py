"""Tests of the Spotify emulator."""
