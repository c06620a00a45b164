"""Time the dashboard's pages at 100,000 activities, beside the service's floor.

On the database `query.py` loaded (`bench/corpus/query-corpus-1300.sqlite`, or
PostgreSQL's), a real `iati-ec serve` is started and each page is asked for once on the
fresh server (`first`: nothing kept yet, every aggregate computed) and then `--repeat`
times (`again`: answers kept until the store changes, see `service.services.memo`).
`GET /health` is timed in the same run as the floor of HTTP and the framework.

By default the server's page warming is off, so that `first` is the cost of computing a
page. With `--warm` it is on: the script waits until the server has warmed its pages
(`pages_warmed_at` in `GET /health`), reports how long that took, and `first` is then
what the first visitor after a change is served.

With `--after-push N`, once every page has been timed, N activities of the corpus's first
file are pushed again with new titles (`iati-ec import`, as their publisher), and each
page is asked for once more (`after push`): what a page costs when the store has just
changed, with what the server keeps of every activity (`service.services.following`)
brought up to date. The benchmark database keeps those new versions.

Run from the repository root, after `python bench/query.py --load-only` (or a full run):

    python bench/pages.py                       # SQLite
    python bench/pages.py --database postgresql
    python bench/pages.py --warm                # as served after a push
    python bench/pages.py --after-push 20       # computed just after a push of 20

Progress goes to standard error, the Markdown table to standard output.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from ingest import code, progress, serve  # bench/, beside this script
from lxml import etree
from parse import TOOLS, build_corpus
from query_load import chunks, cli, reused

HERE = Path(__file__).resolve().parent
PAGES = (
    "/health",
    "/",
    "/?basis=gross",
    # Filtered overviews, never warmed: each computes five aggregates on demand.
    "/?year=2023",
    "/?q=security",
    "/?sector=152",
    "/?reporting_org=US-GOV-1&year=2022",
    "/?sector=152&province=08&year=2025",
    "/actividades",
    "/actividades?q=health",
    "/actividades?sector=122",
    "/organizaciones",
    "/organizaciones/US-GOV-1",
    "/coordinacion",
    "/resultados",
    "/calidad",
)


def timed(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    answer = client.get(path)
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        sys.exit(f"GET {path}: {answer.status_code} {answer.text[:300]}")
    return elapsed


def warmed(client: httpx.Client, limit: float = 3600) -> float:
    """Seconds until the server says it has warmed its pages."""
    started = time.perf_counter()
    while client.get("/health").json().get("pages_warmed_at") is None:
        if time.perf_counter() - started > limit:
            sys.exit(f"the server did not warm its pages in {limit:.0f} s")
        time.sleep(0.5)
    return time.perf_counter() - started


def republished(chunk: Path, count: int, target: Path) -> tuple[Path, str]:
    """The first `count` activities of `chunk` that its first activity's publisher reports,
    their titles changed so that a push updates them; the file and the publisher."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    tree = etree.parse(str(chunk), parser)
    root = tree.getroot()
    everything = root.findall("iati-activity")
    publisher = reported_by(everything[0])
    chosen = [a for a in everything if reported_by(a) == publisher][:count]
    for activity in everything:
        if not any(activity is kept for kept in chosen):
            root.remove(activity)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    for activity in chosen:
        title = activity.find("title/narrative")
        if title is not None:
            title.text = f"{title.text or ''} ({stamp})"
    tree.write(str(target), xml_declaration=True, encoding="utf-8")
    return target, publisher


def reported_by(activity: etree._Element) -> str:
    org = activity.find("reporting-org")
    return (org.get("ref") or "").strip() if org is not None else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=10, help="timed requests after the first")
    parser.add_argument("--size", type=float, default=1300.0, help="corpus size in MB")
    parser.add_argument("--corpus-dir", type=Path, default=HERE / "corpus")
    parser.add_argument("--warm", action="store_true",
                        help="let the server warm its pages first, and say how long it took")
    parser.add_argument("--after-push", type=int, default=0, metavar="N",
                        help="then push N activities again and ask for each page once more")
    args = parser.parse_args(argv)
    corpus = build_corpus(args.size, args.corpus_dir, TOOLS)
    loaded = reused(args.database, args.corpus_dir, corpus)
    if loaded is None:
        sys.exit(f"No {args.database} database loaded: run "
                 f"`python bench/query.py --load-only --databases {args.database}` first")
    lines = [
        f"{loaded.stored:,} activities on {args.database}; times in ms; `again`: the median "
        f"and the slowest of {args.repeat} requests after the first",
        "",
        "| page | first | again (median) | again (max) |"
        + (" after push |" if args.after_push else ""),
        "|---|---:|---:|---:|" + ("---:|" if args.after_push else ""),
    ]
    rows: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="iati-ec-pages-") as scratch:
        source = code(None, Path(scratch) / "code")
        progress(f"measuring {source.description}")
        warming = {"IATI_EC_WARM_PAGES": "true" if args.warm else "false",
                   "IATI_EC_WARM_POLL_SECONDS": "1"}
        with serve(loaded.url, Path(scratch), source, **warming) as server, httpx.Client(
            base_url=server.base, timeout=600, headers={"Accept-Encoding": "identity"}
        ) as client:
            if args.warm:
                took = warmed(client)
                progress(f"pages warmed in {took:.1f} s")
                lines.insert(1, f"\nThe server warmed its pages in {took:.1f} s after it started.")
            for path in PAGES:
                first = timed(client, path)
                again = [timed(client, path) for _ in range(args.repeat)]
                median = statistics.median(again)
                progress(f"{path}: {first * 1000:.0f} ms, then {median * 1000:.0f} ms")
                rows[path] = (f"| `{path}` | {first * 1000:,.0f} | {median * 1000:,.1f} | "
                              f"{max(again) * 1000:,.1f} |")
            if args.after_push:
                pushed, publisher = republished(chunks(corpus, TOOLS)[0], args.after_push,
                                                Path(scratch) / "republished.xml")
                started = time.perf_counter()
                cli(loaded.url, Path(scratch), source, "import", str(pushed), "--org",
                    publisher, accept=(0, 1))
                progress(f"pushed {args.after_push} activities again in "
                         f"{time.perf_counter() - started:.1f} s")
                for path in PAGES:
                    after = timed(client, path)
                    progress(f"{path} after the push: {after * 1000:.0f} ms")
                    rows[path] += f" {after * 1000:,.0f} |"
    print("\n".join([*lines, *rows.values()]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
