"""Renders report.html files in headless Chromium (Debian's, through Playwright's driver) and
checks what a supervisor would see: no console error, no network request, every section
present, nothing wider than the page (on screen at A4 width, and in print at A4's printable width), a
screenshot and an A4 PDF saved beside the build. Usage: check_report.py OUT_DIR SECTION,SECTION,... REPORT...
Exit 0 when every report passes; otherwise the failures, one per line."""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
A4_WIDTH_PX = 794  # 210 mm at 96 px per inch
A4_PRINT_WIDTH_PX = 680  # 180 mm: A4 less the report's 15 mm @page margins


def check(page, report: Path, sections: list[str], out: Path) -> list[str]:
    problems, requests, console = [], [], []
    page.on("console", lambda m: console.append(m) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file://", "data:", "about:")) else None)
    page.goto(report.resolve().as_uri(), wait_until="load")
    for m in console:
        problems.append(f"console {m.type}: {m.text}")
    for url in requests:
        problems.append(f"network request: {url}")
    for s in sections:
        if page.locator(f"section#{s}").count() != 1:
            problems.append(f"section #{s} missing")
        elif not page.locator(f"section#{s} h2").inner_text().strip():
            problems.append(f"section #{s} has no heading")
    for media, width in (("screen", A4_WIDTH_PX), ("print", A4_PRINT_WIDTH_PX)):
        page.set_viewport_size({"width": width, "height": 1123})
        page.emulate_media(media=media)
        wide = page.evaluate(
            """() => {
                const limit = document.documentElement.clientWidth;
                const out = [];
                for (const e of document.body.querySelectorAll('*')) {
                    const r = e.getBoundingClientRect();
                    if (r.width > 0 && (r.right > limit + 0.5 || r.left < -0.5)) out.push(e.tagName + ' ' + Math.round(r.right));
                }
                return {limit, scroll: document.documentElement.scrollWidth, out: out.slice(0, 5)};
            }"""
        )
        if wide["scroll"] > wide["limit"] or wide["out"]:
            problems.append(f"{media}: wider than the page ({wide['scroll']} > {wide['limit']} px): {wide['out']}")
    page.set_viewport_size({"width": A4_WIDTH_PX, "height": 1123})
    page.emulate_media(media="screen")
    svg_without_titles = page.evaluate(
        "() => [...document.querySelectorAll('svg')].filter(s => s.querySelectorAll('text[font-weight=bold]').length < 2).length"
    )
    if svg_without_titles:
        problems.append(f"{svg_without_titles} chart(s) without both axis titles")
    stem = f"{report.parent.name}-{report.stem}"
    page.screenshot(path=str(out / f"{stem}.png"), full_page=True)
    page.pdf(path=str(out / f"{stem}.pdf"), format="A4", print_background=True)
    return [f"{report}: {p}" for p in problems]


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    sections = sys.argv[2].split(",")
    failures = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for report in map(Path, sys.argv[3:]):
            context = browser.new_context(viewport={"width": A4_WIDTH_PX, "height": 1123}, offline=True)
            failures += check(context.new_page(), report, sections, out)
            context.close()
        browser.close()
    for f in failures:
        print(f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
