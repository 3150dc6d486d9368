"""Local tooling of `make run` and `make dev`: it runs the code location, which never imports it."""
