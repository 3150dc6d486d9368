"""End to end: the production deployment (PostgreSQL, S3, code server, daemon, webserver)."""
