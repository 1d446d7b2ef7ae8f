"""The repository names no package-registry host.

Scripts take the package index and the Debian mirror from the client's own configuration (pip's config, the
host's apt sources) or from a variable the user sets (INDEX_URL, TORCH_INDEX_URL, MIRROR); the Dockerfile relies
on pip's default index.  A host written into a file would pin every user to it.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Package indexes and mirrors by domain (any subdomain): Python, PyTorch's wheels, Debian/Ubuntu, npm, conda, ...
HOSTS = re.compile(r"\b(?:[a-z0-9-]+\.)*(?:pypi\.org|pypi\.python\.org|pythonhosted\.org|pytorch\.org|debian\.org"
                   r"|ubuntu\.com|npmjs\.(?:org|com)|yarnpkg\.com|anaconda\.(?:org|com)|conda\.io|crates\.io"
                   r"|rubygems\.org|proxy\.golang\.org)\b", re.I)


def tracked_text_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    paths = [ROOT / p for p in out.decode().split("\0") if p]
    return [p for p in paths if p.is_file() and b"\0" not in p.read_bytes()[:8192]]


def registry_hosts(text: str) -> list[str]:
    return sorted({m.group(0) for m in HOSTS.finditer(text)})


def _host(*labels: str) -> str:
    """A host name built from its labels, so that this file does not name one itself."""
    return ".".join(labels)


def test_the_pattern_finds_hosts_and_spares_ordinary_words():
    index, mirror, files, torch = (_host("pypi", "org"), _host("deb", "debian", "org"),
                                   _host("files", "pythonhosted", "org"), _host("download", "pytorch", "org"))
    assert registry_hosts(f"pip install --index-url https://{index}/simple x") == [index]
    assert registry_hosts(f"from http://{mirror}/debian and {files}") == sorted([mirror, files])
    assert registry_hosts(f"--extra-index-url https://{torch}/whl/cpu") == [torch]
    assert registry_hosts("apt-get install docker.io; the dataset registry; PyPI's CUDA build") == []


def test_no_tracked_file_names_a_package_registry_host():
    files = tracked_text_files()
    assert any(p.name == "Dockerfile" for p in files)  # the listing works
    found = {str(p.relative_to(ROOT)): hosts for p in files
             if (hosts := registry_hosts(p.read_text(errors="replace")))}
    assert not found, (f"package-registry hosts written in the repo: {found}; take the index or mirror from the "
                       "client's configuration (pip config, /etc/apt) or a variable the user sets instead")
