"""Render time of every page at district scale (the demo district), measured with AppTest.

    python bench/pages.py [--runs N]

Each page is opened by a signed-in admin on a fresh demo database; the first render (cold
caches) and the median of the following renders (warm caches, as a user clicking around
sees it) are printed as a Markdown table. A baseline in the same run: a page with one
st.metric, so the figures can be read against AppTest's own cost.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Every page, in the order app.py registers them: no second list to keep in step.
PAGES = re.findall(r'st\.Page\("app_pages/([a-z_]+)\.py"', (ROOT / "app.py").read_text("utf-8"))
TARGET_MS = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    os.environ["MONITOR_DATABASE_URL"] = f"sqlite:///{tmp / 'monitor.db'}"
    os.environ["MONITOR_DATA_DIR"] = str(tmp)

    from sqlmodel import Session
    from streamlit.testing.v1 import AppTest

    from monitor.admin.accounts import actor_for
    from monitor.core.config import Settings
    from monitor.core.permissions import Actor
    from monitor.demo.district import load_demo
    from monitor.evidence.photo_store import open_store
    from monitor.store.db import get_engine, init_db

    engine = get_engine(os.environ["MONITOR_DATABASE_URL"])
    init_db(engine)
    with Session(engine) as s:
        load_demo(session=s, actor=Actor(name="bench", role="admin"), store=open_store(Settings.from_env()))
        admin = actor_for(session=s, name="admin")
    os.chdir(ROOT)

    baseline_script = tmp / "baseline.py"
    baseline_script.write_text("import streamlit as st\nst.metric('x', 1)\n", encoding="utf-8")
    baseline = []
    at = AppTest.from_file(str(baseline_script))
    for _ in range(args.runs + 1):  # rerun like the pages are; the first run is left out
        started = time.perf_counter()
        at.run()
        baseline.append((time.perf_counter() - started) * 1000)
    baseline = baseline[1:]

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["actor"] = admin
    at.session_state["f_start"], at.session_state["f_end"] = "2025-01", "2025-12"
    # The first run opens the default page, the overview, on cold caches: that is its first render.
    started = time.perf_counter()
    at.run()
    opened = (time.perf_counter() - started) * 1000
    rows = []
    for page in PAGES:
        title = re.search(r'st\.title\("([^"]+)"\)', (ROOT / "app_pages" / f"{page}.py").read_text("utf-8"))
        timings = [opened] if page == "overview" else []
        while len(timings) < args.runs + 1:
            started = time.perf_counter()
            at.switch_page(f"app_pages/{page}.py").run()
            timings.append((time.perf_counter() - started) * 1000)
            if at.exception:
                raise SystemExit(f"{page}: {at.exception[0].value}")
            if title is None or [t.value for t in at.title] != [title.group(1)]:
                raise SystemExit(f"{page}: the page did not open (titles {[t.value for t in at.title]})")
        warm = statistics.median(timings[1:])
        rows.append((page, timings[0], warm))

    print(
        f"| page (district, 2025-01..2025-12) | first render ms | later renders ms (median of {args.runs}) "
        "| target | met |"
    )
    print("|---|---|---|---|---|")
    print(f"| baseline: one st.metric | — | {statistics.median(baseline):.0f} | — | — |")
    for page, cold, warm in rows:
        met = "yes" if max(cold, warm) < TARGET_MS else "no"
        print(f"| {page} | {cold:.0f} | {warm:.0f} | < {TARGET_MS} | {met} |")


if __name__ == "__main__":
    main()
