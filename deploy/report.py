"""Replace one generated section of deploy/REPORT.md, keeping the others.

    python3 deploy/report.py SECTION < section.md

Each script that measures something owns one section, between
``<!-- SECTION:begin -->`` and ``<!-- SECTION:end -->``; a rerun rewrites only its own.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

REPORT = Path(__file__).resolve().parent / "REPORT.md"
HEADER = ("# Deployment report\n\nGenerated: every section below is written by the script it names, from "
          "commands that section lists; rerun the script to refresh it. Do not edit by hand.\n")
ORDER = ("image", "torch", "replicas", "compose")  # sections in the order they appear


def replace(text: str, name: str, body: str) -> str:
    block = f"<!-- {name}:begin -->\n{body.strip()}\n<!-- {name}:end -->"
    pattern = re.compile(rf"<!-- {re.escape(name)}:begin -->.*?<!-- {re.escape(name)}:end -->", re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text)
    sections = {n: m.group(0) for n in ORDER
                for m in [re.search(rf"<!-- {n}:begin -->.*?<!-- {n}:end -->", text, re.S)] if m}
    sections[name] = block
    return HEADER + "\n" + "\n\n".join(sections[n] for n in ORDER if n in sections) + "\n"


def main() -> None:
    if len(sys.argv) != 2 or sys.argv[1] not in ORDER:
        sys.exit(f"usage: python3 deploy/report.py {{{'|'.join(ORDER)}}} < section.md")
    text = REPORT.read_text() if REPORT.exists() else HEADER
    REPORT.write_text(replace(text, sys.argv[1], sys.stdin.read()))


if __name__ == "__main__":
    main()
