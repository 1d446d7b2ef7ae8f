"""Open every page of a running server in Chromium and count what a student would see go wrong.

    python3 deploy/smoke_pages.py http://127.0.0.1:18501 [--json out.json] [--shots DIR]
    python3 deploy/smoke_pages.py --summary out.json | --table out.json   # Markdown for deploy/REPORT.md

The pages are the ones app.py's ``st.navigation`` lists (exercises and lab, read from app.py itself, so a
page added there is opened here too).  Each is opened in a fresh browser session; an exercise's "predict
first" question is skipped so its results are drawn; the script waits (bounded) until the run is over and no
"Computing" note is left, then counts Streamlit exception elements, error messages and browser-side errors.
Exit status 1 when any page shows an exception or fails to draw.  deploy/build_local.sh runs it against the
container and writes the counts into deploy/REPORT.md.  The waits are tests/browser/conftest.py's.
"""
from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser.conftest import AppPage, launch_chromium, new_context  # noqa: E402 - after the path

SKIP = "Skip the question and show the results"  # the exercises' predict-first question (ui/teach.py SKIP_LABEL)


def nav_pages(app_py: Path = REPO / "app.py") -> list[tuple[str, str, str]]:
    """(title, url path, script) of every ``st.Page`` in app.py, in order; the default page's path is ""."""
    out = []
    for node in ast.walk(ast.parse(app_py.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page":
            kw = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg in ("title", "url_path", "default")}
            script = ast.literal_eval(node.args[0])
            stem = Path(script).stem
            path = "" if kw.get("default") else kw.get("url_path") or re.sub(r"^[0-9]+[_ -]*", "", stem)
            out.append((kw.get("title", stem), path, script))
    return out


def visit(browser, base_url: str, title: str, path: str, shots: Path | None) -> dict:
    context = new_context(browser)
    app = AppPage(context.new_page(), base_url)
    row = {"page": title, "path": path or "/"}
    try:
        app.goto(path)
        skip = app.main().get_by_role("button", name=SKIP)
        if skip.count():
            app.rerun(skip.first.click)
        alerts = app.main().locator('[data-testid="stAlertContentError"]')
        row.update(exceptions=app.exceptions(), errors=[alerts.nth(i).inner_text()[:300] for i in range(alerts.count())],
                   page_errors=app.page_errors, drawn=True)
        if shots:
            shots.mkdir(parents=True, exist_ok=True)
            app.page.screenshot(path=str(shots / f"{path or 'home'}.png"), full_page=True)
    except Exception as exc:  # noqa: BLE001 - a page that never finished drawing is a finding, not a crash
        row.update(exceptions=app.exceptions(), errors=[], page_errors=app.page_errors, drawn=False,
                   failure=f"{type(exc).__name__}: {str(exc)[:300]}")
    finally:
        context.close()
    return row


def summary_line(s: dict) -> str:
    return (f"{s['pages']} pages opened ({s['drawn']} drawn to the end), **{s['exceptions']} exceptions**, "
            f"{s['errors']} error messages, {s['page_errors']} browser-side errors")


def table(s: dict) -> str:
    return "\n".join(f"| {r['page']} | `{r['path']}` | {'yes' if r['drawn'] else 'no: ' + r.get('failure', '')[:80]} "
                     f"| {len(r['exceptions'])} | {len(r['errors'])} |" for r in s["rows"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url", nargs="?")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--shots", type=Path, help="save a screenshot of each page here")
    ap.add_argument("--summary", type=Path, help="print the one-line summary of a --json file and exit")
    ap.add_argument("--table", type=Path, help="print the rows of the report's table from a --json file and exit")
    args = ap.parse_args(argv)
    if args.summary or args.table:
        print(summary_line(json.loads(args.summary.read_text())) if args.summary else table(json.loads(args.table.read_text())))
        return 0
    if not args.url:
        ap.error("give the server's URL")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=90_000)
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        rows = [visit(browser, args.url.rstrip("/"), title, path, args.shots) for title, path, _ in nav_pages()]
        browser.close()
    summary = {"pages": len(rows), "drawn": sum(r["drawn"] for r in rows),
               "exceptions": sum(len(r["exceptions"]) for r in rows), "errors": sum(len(r["errors"]) for r in rows),
               "page_errors": sum(len(r["page_errors"]) for r in rows), "rows": rows}
    for r in rows:
        print(f"{r['path']:<22} drawn={r['drawn']} exceptions={len(r['exceptions'])} errors={len(r['errors'])}"
              + (f" ({r['failure']})" if "failure" in r else "")
              + "".join(f"\n    {e[:200]!r}" for e in r["exceptions"] + r["errors"]))
    print(json.dumps({k: v for k, v in summary.items() if k != "rows"}))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    return 0 if summary["exceptions"] == 0 and summary["drawn"] == summary["pages"] else 1


if __name__ == "__main__":
    sys.exit(main())
