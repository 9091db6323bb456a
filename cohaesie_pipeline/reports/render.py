"""Rendering the quarter's reports: HTML from Jinja2 templates, PDF by WeasyPrint, practices in parallel
processes.

A quarter is rendered whole into a temporary folder beside its final one and then swapped in with two
renames, so a crash or a full disk leaves the previous reports complete (`recover_interrupted` finishes or
undoes a swap that was cut short). The folder's `.rendered.json` records the fingerprint of exactly the
inputs the reports were made from (the quarter's as-of data, the policy, this package's report code): a
run renders a quarter again exactly when that fingerprint changed.
"""
from __future__ import annotations

import atexit
import gc
import json
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape

from cohaesie_pipeline.policy.config import Policy
from cohaesie_pipeline.processes import die_with_parent
from cohaesie_pipeline.reports.board_report import board_context
from cohaesie_pipeline.reports.data import QuarterData
from cohaesie_pipeline.reports.fingerprint import REPORT_CODE_VERSION, render_fingerprint
from cohaesie_pipeline.reports.letters import letter_context, letter_events, letter_filename
from cohaesie_pipeline.reports.practice_report import practice_context, programs_in_report
from cohaesie_pipeline.reports.workbook import write_workbook
from cohaesie_pipeline.reports.worklists import PRIVATE, write_worklist

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
FONTS = Path(__file__).parent / "fonts"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))


@dataclass
class Rendered:
    path: Path
    pages: int
    bytes: int


_STYLE = None


def package_assets_only():
    """A WeasyPrint URL fetcher that loads only the package's own templates, stylesheet and fonts, and data:
    URIs (the charts). A report is rendered from data that came from outside (names in the registers): were
    any of it ever to reach a URL, nothing would be fetched from the network or the rest of the disk."""
    from weasyprint import URLFetcher

    class PackageAssetsOnly(URLFetcher):
        def fetch(self, url, headers=None):
            scheme = urlsplit(url).scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                path = Path(unquote(urlsplit(url).path)).resolve()
                if any(path.is_relative_to(root.resolve()) for root in (TEMPLATES, STATIC, FONTS)):
                    return super().fetch(url, headers)
            raise ValueError(f"reports fetch only the package's own assets, not {url}")

    return PackageAssetsOnly()


def _stylesheet():
    """Parsing the stylesheet and its fonts costs about a second: once per process, not once per PDF."""
    global _STYLE
    if _STYLE is None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        fonts = FontConfiguration()
        _STYLE = (CSS(filename=str(STATIC / "report.css"), font_config=fonts, url_fetcher=package_assets_only()),
                  fonts)
        # the @font-face files are copied to a temp folder that WeasyPrint only removes when the configuration
        # is garbage collected, which module globals never are
        atexit.register(lambda: fonts._folder and shutil.rmtree(fonts._folder, ignore_errors=True))
    return _STYLE


def _warm_up() -> None:
    """Fonts are loaded and the stylesheet parsed on first use. Done once in the parent before the render
    workers fork, each worker inherits them instead of paying for it again (~1 s per worker)."""
    from weasyprint import HTML

    css, fonts = _stylesheet()
    HTML(string="<p>Aa <b>Bb</b> <i>Cc</i> ë</p>").render(stylesheets=[css], font_config=fonts).write_pdf()


def render_pdf(template: str, context: dict, path: Path) -> Rendered:
    from weasyprint import HTML

    css, fonts = _stylesheet()
    html = _env.get_template(template).render(**context)
    doc = HTML(string=html, base_url=str(TEMPLATES) + "/", url_fetcher=package_assets_only()).render(
        stylesheets=[css], font_config=fonts)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.write_pdf(str(path))
    return Rendered(path, len(doc.pages), path.stat().st_size)


# Set once per worker process by _start_worker: the quarter's data is sent to each worker once, not with
# every practice (pickling it per job cost more than some reports took to draw).
_WORKER: dict = {}


# WeasyPrint allocates millions of small objects per PDF, so the cyclic garbage collector runs its full
# passes often, and each one walks everything in the process: the quarter's frames, the stylesheet.
# Freezing what exists (none of it is garbage) and collecting young objects less often cut a report's CPU
# time by ~5% in the workers (~25% in one process holding more data); cycles are still collected.
_GC_THRESHOLD = (50_000, 20, 20)


def _start_worker(data: QuarterData, policy: Policy, produced: date, temp_root: str, worklists: dict | None = None
                  ) -> None:
    die_with_parent()  # a killed run leaves no render workers behind
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLD)
    # worker processes end with os._exit, so nothing they leave in /tmp would be removed: keep it under a
    # folder the parent deletes
    tempfile.tempdir = tempfile.mkdtemp(dir=temp_root)
    _WORKER.update(data=data, policy=policy, produced=produced, worklists=worklists or {})
    _stylesheet()


def _job(job: tuple[str, str, Path]) -> list:
    """One file set of the quarter, drawn in a worker: a practice report, the board report, or a practice's
    private worklist (xlsx + PDF)."""
    kind, agb, path = job
    w = _WORKER
    if kind == "practice":
        return [render_pdf("practice.html.j2", practice_context(w["data"], agb, w["policy"], w["produced"]), path)]
    if kind == "board":
        return [render_pdf("board.html.j2", board_context(w["data"], w["policy"], w["produced"]), path)]
    names = w["data"].practices.set_index("practice_agb").practice_name
    return write_worklist(path, w["data"].q, agb, names.get(agb, agb), w["worklists"][agb], w["produced"], render_pdf)


def practices_with_data(data: QuarterData) -> list[str]:
    return sorted(set(data.indicators[data.indicators.quarter == data.q].practice_agb))


def _run_jobs(data: QuarterData, policy: Policy, produced: date, jobs: list[tuple[str, str, Path]],
              worklists: dict | None = None, workers: int | None = None) -> list[list]:
    """Every job of `jobs` in a pool of forked workers (one per CPU), results in the order of `jobs`."""
    workers = workers or min(len(jobs), os.cpu_count() or 1) or 1
    if workers == 1:
        _WORKER.update(data=data, policy=policy, produced=produced, worklists=worklists or {})
        try:
            return [_job(j) for j in jobs]
        finally:
            _WORKER.clear()
    _warm_up()
    programs = programs_in_report(data, policy)  # also groups the data the forked workers inherit
    # the biggest first, one at a time, so that both workers finish close together instead of one drawing the
    # board report or a 4-program practice report alone at the end
    size = {"board": -100, "practice": -10, "worklist": 0}
    order = sorted(range(len(jobs)), key=lambda i: size[jobs[i][0]] - len(programs.get(jobs[i][1], ())))
    with tempfile.TemporaryDirectory(prefix="cohaesie-render-") as temp_root, ProcessPoolExecutor(
            max_workers=workers, initializer=_start_worker,
            initargs=(data, policy, produced, temp_root, worklists)) as pool:
        done = dict(zip(order, pool.map(_job, [jobs[i] for i in order], chunksize=1)))
    return [done[i] for i in range(len(jobs))]


def render_practice_reports(data: QuarterData, policy: Policy, out: Path, produced: date,
                            workers: int | None = None) -> list[Rendered]:
    folder = out / "praktijken"
    if folder.exists():
        shutil.rmtree(folder)
    jobs = [("practice", agb, folder / f"{agb}.pdf") for agb in practices_with_data(data)]
    return [r[0] for r in _run_jobs(data, policy, produced, jobs, workers=workers)]


def render_board_report(data: QuarterData, policy: Policy, out: Path, produced: date) -> Rendered:
    return render_pdf("board.html.j2", board_context(data, policy, produced), out / "bestuursrapportage.pdf")


def render_letters(data: QuarterData, policy: Policy, out: Path, produced: date) -> list[Rendered]:
    folder = out / "brieven"
    if folder.exists():
        shutil.rmtree(folder)
    fingerprint = render_fingerprint(data, policy)
    return [render_pdf("letter.html.j2", letter_context(data, ev, produced, policy, fingerprint), folder / letter_filename(ev))
            for ev in letter_events(data).itertuples()]


def render_workbook(data: QuarterData, policy: Policy, out: Path) -> tuple[Path, dict]:
    path = out / "verrekeningen.xlsx"
    return path, write_workbook(path, data, policy)


MANIFEST = ".rendered.json"


def rendered_fingerprint(folder: Path) -> str | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("fingerprint")
    except (OSError, ValueError):
        return None


def recover_interrupted(root: Path) -> list[str]:
    """Undo what a killed render left: a swap cut short between its two renames gets its previous folder
    back, and half-written temporary folders go."""
    done = []
    if not root.is_dir():
        return done
    for old in sorted(root.glob(".old-*")):
        final = root / old.name.split("-")[1]
        if not final.exists():
            old.rename(final)
            done.append(f"restored {final.name}")
        else:
            shutil.rmtree(old, ignore_errors=True)
    for tmp in root.glob(".tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)
        done.append(f"removed {tmp.name}")
    return done


@dataclass
class QuarterRender:
    quarter: str
    folder: Path
    fingerprint: str
    practices: list[Rendered]
    board: Rendered
    letters: list[Rendered]
    workbook: Path
    totals: dict
    private: list[Path]


def _moved(r: Rendered, tmp: Path, final: Path) -> Rendered:
    return Rendered(final / r.path.relative_to(tmp), r.pages, r.bytes)


def _worklist_jobs(data: QuarterData, worklists: dict | None, out: Path) -> list[tuple[str, str, Path]]:
    """The private per-practice worklists (reports/worklists.py) under out/prive/<agb>/."""
    return [("worklist", agb, out / PRIVATE / agb) for agb in practices_with_data(data) if agb in (worklists or {})]


def render_quarter(data: QuarterData, policy: Policy, root: Path, produced: date,
                   worklists: dict | None = None) -> QuarterRender:
    """Render every report of the quarter into a temporary folder, then swap it in. `worklists`
    (reports/worklists.load_worklists) adds the private per-practice worklists."""
    q = data.q
    final = root / q
    tmp = root / f".tmp-{q}-{os.getpid()}"
    fingerprint = render_fingerprint(data, policy)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        # every PDF of the quarter in one pool of workers: practice reports, the board report, the worklists
        jobs = ([("board", "", tmp / "bestuursrapportage.pdf")]
                + [("practice", agb, tmp / "praktijken" / f"{agb}.pdf") for agb in practices_with_data(data)]
                + _worklist_jobs(data, worklists, tmp))
        results = _run_jobs(data, policy, produced, jobs, worklists)
        board = results[0][0]
        practices = sorted((r[0] for job, r in zip(jobs, results) if job[0] == "practice"), key=lambda r: r.path)
        private = [p for job, r in zip(jobs, results) if job[0] == "worklist" for p in r]
        letters = render_letters(data, policy, tmp, produced)
        workbook, totals = render_workbook(data, policy, tmp)
        manifest = {"quarter": q, "fingerprint": fingerprint, "data_fingerprint": data.fingerprint,
                    "policy": policy.label, "report_code": REPORT_CODE_VERSION,
                    "deliveries": [f"{r.file_name}: {r.content_sha256}" for r in data.deliveries.itertuples()],
                    "produced": produced.isoformat(),
                    "files": sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = root / f".old-{q}-{os.getpid()}"
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return QuarterRender(q, final, fingerprint, [_moved(r, tmp, final) for r in practices],
                         _moved(board, tmp, final), [_moved(r, tmp, final) for r in letters],
                         final / workbook.relative_to(tmp), totals, [final / p.relative_to(tmp) for p in private])
