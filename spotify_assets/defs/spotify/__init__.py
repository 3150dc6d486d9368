"""Spotify: the daily new releases and their albums' tracks, their checks, job and schedule."""
