"""What ``torch==2.13.0`` from the default package index pulls onto a Linux x86_64 host, against the CPU wheel
the image uses.

    python3 deploy/torch_sizes.py                      # writes deploy/REPORT.md's "torch" section
    INDEX_URL=<index> python3 deploy/torch_sizes.py    # against another index than pip's built-in default

Resolves ``torch==<pin in requirements.txt>`` against that index alone (``pip install --dry-run --report``,
this machine's pip configuration ignored except its CA bundle: metadata only, nothing installed) and
asks the index for the size of every file it would download (HTTP HEAD).  No package host is written here.  The CPU wheel's size is that of
the file pip on this machine resolves for ``torch==<pin>+cpu`` (``pip download``).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CUDA_NAMES = re.compile(r"^(nvidia-|cuda-|triton$)")


def pinned_torch() -> str:
    for line in (REPO / "requirements.txt").read_text().splitlines():
        m = re.match(r"^torch==([\w.]+)\s*$", line.strip())
        if m:
            return m.group(1)
    raise SystemExit("requirements.txt has no torch==X pin")


def ca_bundle() -> str:
    out = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.cert"], capture_output=True, text=True)
    return out.stdout.strip() or os.environ.get("PIP_CERT") or "/etc/ssl/certs/ca-certificates.crt"


def head_size(url: str) -> int:
    with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=60) as r:
        return int(r.headers.get("Content-Length", 0))


def main() -> None:
    version, cert = pinned_torch(), ca_bundle()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        env["PIP_CONFIG_FILE"] = os.devnull
        index = ["--index-url", os.environ["INDEX_URL"]] if os.environ.get("INDEX_URL") else []  # else pip's default
        cmd = [sys.executable, "-m", "pip", "install", "--isolated", "--dry-run", "--ignore-installed", "--quiet",
               *index, "--cert", cert, "--report", str(report), f"torch=={version}"]
        subprocess.run(cmd, check=True, env=env)
        items = json.loads(report.read_text())["install"]
        cpu_dir = Path(tmp) / "cpu"
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--quiet",
                        "-d", str(cpu_dir), f"torch=={version}+cpu"], check=True)
        cpu_wheel = next(cpu_dir.glob("torch-*.whl"))
        cpu_size = cpu_wheel.stat().st_size
    rows = [(i["metadata"]["name"], i["metadata"]["version"], head_size(i["download_info"]["url"])) for i in items]
    total = sum(size for *_, size in rows)
    cuda = [(n, v, s) for n, v, s in rows if CUDA_NAMES.match(n)]
    torch_row = next(r for r in rows if r[0] == "torch")
    mib = lambda b: f"{b / 2**20:,.0f} MiB"  # noqa: E731
    body = f"""## The torch wheel (written by `deploy/torch_sizes.py`)

`torch=={version}` resolved against {"INDEX_URL" if os.environ.get("INDEX_URL") else "pip's default index"} alone for this machine (Linux x86_64, Python
{sys.version_info.major}.{sys.version_info.minor}): **{len(rows)} files, {total / 2**30:.2f} GiB to download**, of which
torch itself {mib(torch_row[2])} and {len(cuda)} CUDA packages ({', '.join(n for n, *_ in cuda[:6])}, ...)
{mib(sum(s for *_, s in cuda))}. The CPU build `torch=={version}+cpu` (`{cpu_wheel.name}`) is {mib(cpu_size)}, with no
CUDA dependencies.

```bash
PIP_CONFIG_FILE=/dev/null pip install --isolated --dry-run --ignore-installed{' --index-url "$INDEX_URL"' if os.environ.get("INDEX_URL") else ""} --cert {cert} --report R.json torch=={version}
pip download --no-deps --only-binary :all: torch=={version}+cpu     # this machine: from pip's find-links
```"""
    subprocess.run([sys.executable, str(REPO / "deploy" / "report.py"), "torch"], input=body, text=True, check=True)
    print(body)


if __name__ == "__main__":
    main()
