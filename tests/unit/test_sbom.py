"""`make sbom` (a step of `make test`): the CycloneDX SBOM of requirements.txt, made with the
Makefile's own recipe, offline, lists every locked package with its version and hashes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")
HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")

# Loaded by every Python process started with this folder on PYTHONPATH: any connection or
# name lookup is written down, then refused.
NO_NETWORK = """
import socket

def _refused(*args, **kwargs):
    with open({log!r}, "a") as log:
        log.write(repr(args[:2]) + "\\n")
    raise OSError("no network here")

socket.socket.connect = _refused
socket.socket.connect_ex = _refused
socket.getaddrinfo = _refused
socket.create_connection = _refused
"""


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, tuple[str, set[str]]]:
    """requirements.txt: package -> (version, its hashes)."""
    packages: dict[str, tuple[str, set[str]]] = {}
    current = ""
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if match := PINNED.match(line):
            current = norm(match[1])
            packages[current] = (match[2], set())
        if current:
            packages[current][1].update(HASH.findall(line))
    return packages


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_sbom_lists_every_locked_package_offline(tmp_path: Path) -> None:
    offline, attempts = tmp_path / "offline", tmp_path / "connections.log"
    offline.mkdir()
    (offline / "sitecustomize.py").write_text(NO_NETWORK.format(log=str(attempts)))
    env = {**os.environ, "PYTHONPATH": str(offline)}
    probe = "import socket; socket.create_connection(('192.0.2.1', 443))"
    tried = subprocess.run(  # noqa: S603 - our own interpreter, a fixed script
        [sys.executable, "-c", probe], env=env, capture_output=True, check=False
    )
    assert tried.returncode != 0
    assert attempts.exists(), "the network is cut off for what make runs"
    attempts.unlink()

    sbom = tmp_path / "sbom.cdx.json"
    make = shutil.which("make") or "make"
    # `-o install`: the virtualenv running this test is used as it is, never rebuilt
    command = [make, "--no-print-directory", "-o", "install", "sbom", f"SBOM={sbom}"]
    made = subprocess.run(  # noqa: S603 - make, the project's Makefile, fixed arguments
        [*command, f"VENV={sys.prefix}"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    assert not attempts.exists(), f"make sbom tried the network: {attempts.read_text()}"

    document = json.loads(sbom.read_text())
    assert document["bomFormat"] == "CycloneDX"
    listed = {
        norm(c["name"]): (
            c["version"],
            {h["content"] for ref in c.get("externalReferences", []) for h in ref["hashes"]},
        )
        for c in document["components"]
    }
    assert locked(), "requirements.txt pins packages"
    assert listed == locked()
    for component in document["components"]:
        assert component["purl"] == f"pkg:pypi/{component['name']}@{component['version']}"
