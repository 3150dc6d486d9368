"""system_prerequisites.sh (run by `make test`): quiet when all is there; without root, names what
to install and stops. Its root path (apt-get install) is not run here: it would change the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).with_name("system_prerequisites.sh")
SYSTEM_PATH = "/usr/bin:/bin"
"""A PATH without /usr/local/bin, where some machines link initdb."""
UNPRIVILEGED = "nobody"


def run_script(env: dict[str, str], *, unprivileged: bool) -> subprocess.CompletedProcess[str]:
    """Run the script with only `env` (plus PATH): as ourselves, or when `unprivileged` as a user
    who is not root (nobody, if we are root)."""
    user = UNPRIVILEGED if os.geteuid() == 0 and unprivileged else None
    return subprocess.run(
        ["/bin/bash", str(SCRIPT)],
        env={"PATH": SYSTEM_PATH, **env},
        cwd="/",
        capture_output=True,
        text=True,
        timeout=30,
        user=user,
        check=False,
    )


def test_it_does_nothing_when_chromium_and_a_postgres_server_are_there(tmp_path: Path) -> None:
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    initdb = tmp_path / "postgresql" / "17" / "bin" / "initdb"
    initdb.parent.mkdir(parents=True)
    initdb.write_text("#!/bin/sh\n")
    initdb.chmod(0o755)

    done = run_script(
        {"CHROMIUM": str(chromium), "POSTGRES_LIB": str(tmp_path / "postgresql")},
        unprivileged=False,
    )

    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_without_root_it_names_the_packages_to_install_and_stops(tmp_path: Path) -> None:
    assert shutil.which("initdb", path=SYSTEM_PATH) is None, "initdb on the system PATH"
    missing = tmp_path / "nowhere"

    done = run_script(
        {"CHROMIUM": str(missing / "chromium"), "POSTGRES_LIB": str(missing)}, unprivileged=True
    )

    assert done.returncode == 1
    assert "missing here: chromium postgresql" in done.stderr
    assert "sudo apt-get install -y chromium postgresql" in done.stderr
    assert done.stdout == ""
