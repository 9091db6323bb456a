"""Rendering the quarter's reports: HTML from Jinja2 templates, PDF by WeasyPrint, practices in parallel
processes. Output replaces whatever the quarter's folder held before."""
from __future__ import annotations

import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from cohaesie_pipeline.policy.config import Policy
from cohaesie_pipeline.reports.board_report import board_context
from cohaesie_pipeline.reports.data import QuarterData
from cohaesie_pipeline.reports.letters import letter_context, letter_events, letter_filename
from cohaesie_pipeline.reports.practice_report import practice_context
from cohaesie_pipeline.reports.workbook import write_workbook

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))


@dataclass
class Rendered:
    path: Path
    pages: int
    bytes: int


_STYLE = None


def _stylesheet():
    """Parsing the stylesheet and its fonts costs about a second: once per process, not once per PDF."""
    global _STYLE
    if _STYLE is None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        fonts = FontConfiguration()
        _STYLE = (CSS(filename=str(STATIC / "report.css"), font_config=fonts), fonts)
    return _STYLE


def render_pdf(template: str, context: dict, path: Path) -> Rendered:
    from weasyprint import HTML

    css, fonts = _stylesheet()
    html = _env.get_template(template).render(**context)
    doc = HTML(string=html, base_url=str(TEMPLATES) + "/").render(stylesheets=[css], font_config=fonts)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.write_pdf(str(path))
    return Rendered(path, len(doc.pages), path.stat().st_size)


def _practice_job(args) -> Rendered:
    data, agb, policy, produced, path = args
    return render_pdf("practice.html.j2", practice_context(data, agb, policy, produced), path)


def practices_with_data(data: QuarterData) -> list[str]:
    return sorted(set(data.indicators[data.indicators.quarter == data.q].practice_agb))


def render_practice_reports(data: QuarterData, policy: Policy, out: Path, produced: date,
                            workers: int | None = None) -> list[Rendered]:
    folder = out / "praktijken"
    if folder.exists():
        shutil.rmtree(folder)
    jobs = [(data, agb, policy, produced, folder / f"{agb}.pdf") for agb in practices_with_data(data)]
    workers = workers or min(len(jobs), os.cpu_count() or 1) or 1
    if workers == 1:
        return [_practice_job(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_practice_job, jobs, chunksize=max(1, len(jobs) // (workers * 4))))


def render_board_report(data: QuarterData, policy: Policy, out: Path, produced: date) -> Rendered:
    return render_pdf("board.html.j2", board_context(data, policy, produced), out / "bestuursrapportage.pdf")


def render_letters(data: QuarterData, out: Path, produced: date) -> list[Rendered]:
    folder = out / "brieven"
    if folder.exists():
        shutil.rmtree(folder)
    return [render_pdf("letter.html.j2", letter_context(data, ev, produced), folder / letter_filename(ev))
            for ev in letter_events(data).itertuples()]


def render_workbook(data: QuarterData, policy: Policy, out: Path) -> tuple[Path, dict]:
    path = out / "verrekeningen.xlsx"
    return path, write_workbook(path, data, policy)
