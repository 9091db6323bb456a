"""Charts as compact inline SVG.

Why not matplotlib: WeasyPrint draws SVG in pure Python at roughly a millisecond per element, and a
matplotlib small-multiples figure has ~800 elements (every tick a <use>, every label a group), which made a
practice report take ~10 s. These charts draw the same content with a tenth of the elements: lines are
polylines, many dots are one <path>, heat-map cells are one path per colour band. Text uses "Cohaesie Sans" (a DejaVu Sans subset),
which the report stylesheet maps to the shipped font files.
"""
from __future__ import annotations

import math
from html import escape

PRACTICE, CARE_GROUP, NATIONAL, OTHERS, LIMIT = "#1f5fa8", "#e07b00", "#555555", "#b9c3cf", "#c0392b"
FONT = 'font-family="Cohaesie Sans"'
DASH = ' stroke-dasharray="3,2"'


def _pct(v: float) -> str:
    return f"{round(v * 100):d}%"


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _short(q: str) -> str:
    return f"{q[2:4]}-{q[-2:]}"


def _text(x, y, s, size=7, anchor="start", fill="#1d2430", weight="normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}" {FONT}>{escape(str(s))}</text>')


def _dots(points) -> str:
    """Many dots as one path of zero-length segments; drawn with a round cap of the dot's diameter, they are
    circles, without the arcs that are slow to draw."""
    return "".join(f"M{x:.1f},{y:.1f}h0.01" for x, y in points)


def _dot_path(points, r: float, color: str, ring: str = "") -> str:
    out = ""
    if ring:
        out += (f'<path d="{_dots(points)}" stroke="{ring}" stroke-width="{2 * r + 1.6}" stroke-linecap="round" '
                f'fill="none"/>')
    return out + f'<path d="{_dots(points)}" stroke="{color}" stroke-width="{2 * r}" stroke-linecap="round" fill="none"/>'



def _legend(items, x, y) -> list[str]:
    out = []
    for label, color, dash in items:
        out.append(f'<line x1="{x}" y1="{y - 2.5}" x2="{x + 14}" y2="{y - 2.5}" stroke="{color}" stroke-width="2"'
                   f'{DASH if dash else ""}/>')
        out.append(_text(x + 17, y, label, 8))
        x += 17 + 6 * len(label) + 14
    return out


def trend_chart(panels: list[dict], quarters: list[str], show_practice: bool = True, cols: int = 4) -> str:
    """Small multiples; each panel: title, practice {q: rate}, care_group {q: rate}, national {q: rate}."""
    n = max(len(panels), 1)
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    pw, ph, gap = 170.0, 98.0, 14.0
    width, height = cols * (pw + gap), rows * (ph + gap) + 18
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
           f'width="{width:.0f}" height="{height:.0f}">']
    for i, p in enumerate(panels):
        ox, oy = (i % cols) * (pw + gap), (i // cols) * (ph + gap)
        values = [v for s in ("practice", "care_group", "national") for v in p[s].values() if v is not None
                  and not math.isnan(v)]
        lo = max(0.0, min([min(values) - 0.05, 0.6]) if values else 0.6)
        lo = math.floor(lo * 10) / 10
        left, top, right, bottom = ox + 26, oy + 14, ox + pw - 4, oy + ph - 14

        def xy(k, v):
            x = left + (right - left) * (k / max(len(quarters) - 1, 1))
            y = bottom - (bottom - top) * ((v - lo) / (1 - lo))
            return x, y

        out.append(_text(ox, oy + 8, _clip(p["title"], 36), 8, weight="bold"))
        grid = "".join(f"M{left},{xy(0, v)[1]:.1f}H{right}" for v in (lo, (lo + 1) / 2, 1.0))
        out.append(f'<path d="{grid}" stroke="#e3e7ec" stroke-width="0.6" fill="none"/>')
        for v in (lo, 1.0):
            out.append(_text(left - 3, xy(0, v)[1] + 2.3, _pct(v), 7, "end", "#667"))
        if quarters:
            out.append(_text(left, bottom + 10, _short(quarters[0]), 7, "start", "#667"))
            out.append(_text(right, bottom + 10, _short(quarters[-1]), 7, "end", "#667"))
        series = [("national", NATIONAL, 1.0, True), ("care_group", CARE_GROUP, 1.4, False)]
        if show_practice:
            series.append(("practice", PRACTICE, 2.0, False))
        for key, color, w, dash in series:
            pts = [xy(k, p[key][q]) for k, q in enumerate(quarters)
                   if q in p[key] and p[key][q] is not None and not math.isnan(p[key][q])]
            if pts:
                d = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
                out.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="{w}"'
                           f'{DASH if dash else ""}/>')
                if key == "practice":
                    out.append(_dot_path(pts, 1.6, color))
    items = [("landelijk", NATIONAL, True), ("zorggroep", CARE_GROUP, False)]
    if show_practice:
        items.append(("praktijk", PRACTICE, False))
    out += _legend(items, 0, height - 4)
    out.append("</svg>")
    return "".join(out)


def position_chart(rows: list[dict]) -> str:
    """Per key indicator: every practice's rate as a grey dot (anonymous), this practice highlighted, the
    national average (dashed) and 20% below it (red). rows: title, others [rates], own or None, national."""
    n = max(len(rows), 1)
    label_w, plot_w, row_h = 190.0, 330.0, 19.0
    width, height = label_w + plot_w + 10, n * row_h + 34
    left, right = label_w, label_w + plot_w
    x = lambda v: left + (right - left) * max(0.0, min(1.0, v))  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
           f'width="{width:.0f}" height="{height:.0f}">']
    ticks = "".join(f"M{x(v):.1f},4V{n * row_h + 4}" for v in (0, 0.25, 0.5, 0.75, 1.0))
    out.append(f'<path d="{ticks}" stroke="#e3e7ec" stroke-width="0.6"/>')
    for v in (0, 0.25, 0.5, 0.75, 1.0):
        out.append(_text(x(v), n * row_h + 13, _pct(v), 6, "middle", "#667"))
    dots, nat, lim, own = [], [], [], []
    for i, r in enumerate(rows):
        y = 4 + i * row_h + row_h / 2
        out.append(_text(left - 6, y + 2.5, r["title"][:40], 6.8, "end"))
        vals = sorted(v for v in r["others"] if v is not None and not math.isnan(v))
        dots += [(x(v), y + ((j % 5) - 2) * 1.4) for j, v in enumerate(vals)]
        if r.get("national") is not None:
            nat.append(f"M{x(r['national']):.1f},{y - 6:.1f}v12")
            lim.append(f"M{x(r['national'] * 0.8):.1f},{y - 6:.1f}v12")
        if r.get("own") is not None:
            own.append((x(r["own"]), y))
    out.append(_dot_path(dots, 1.9, OTHERS))
    out.append(f'<path d="{"".join(nat)}" stroke="{NATIONAL}" stroke-width="1.2" stroke-dasharray="2,1.5"/>')
    out.append(f'<path d="{"".join(lim)}" stroke="{LIMIT}" stroke-width="1"/>')
    out.append(_dot_path(own, 3.6, PRACTICE, ring="white"))
    ly = height - 4
    out.append(_dot_path([(6, ly - 2.5)], 3.2, PRACTICE) + _text(13, ly, "deze praktijk", 6.6))
    out.append(_dot_path([(78, ly - 2.5)], 1.9, OTHERS) + _text(84, ly, "andere praktijken (anoniem)", 6.6))
    out += _legend([("landelijk gemiddelde", NATIONAL, True), ("20% onder landelijk", LIMIT, False)], 190, ly)
    out.append("</svg>")
    return "".join(out)


_BANDS = [(-1e9, -20, "#b2182b"), (-20, -10, "#e8836b"), (-10, -3, "#f6c7b5"), (-3, 3, "#f2f2f2"),
          (3, 10, "#c6dbef"), (10, 1e9, "#6a9fcf")]


def heatmap(matrix, suppressed, row_labels: list[str], col_labels: list[str]) -> str:
    """Gap to the national average in percentage points; suppressed cells (n < threshold) hatched."""
    rows, cols = len(row_labels), len(col_labels)
    # a fixed width, so every program's map is drawn at the same scale on the page
    label_w, cell_w, cell_h, head_h = 170.0, 46.0, 11.0, 100.0
    width, height = label_w + 8 * cell_w + 70, head_h + rows * cell_h + 22
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
           f'width="{width:.0f}" height="{height:.0f}">']
    bands = {c: [] for _, _, c in _BANDS}
    hatched, marks = [], []
    for i in range(rows):
        for j in range(cols):
            x0, y0 = label_w + j * cell_w, head_h + i * cell_h
            cell = f"M{x0:.1f},{y0:.1f}h{cell_w - 1:.1f}v{cell_h - 1:.1f}h{-(cell_w - 1):.1f}z"
            v = matrix[i][j]
            if suppressed[i][j] or v is None or (isinstance(v, float) and math.isnan(v)):
                hatched.append(cell)
                continue
            for lo, hi, color in _BANDS:
                if lo <= v < hi:
                    bands[color].append(cell)
            if v <= -20:
                marks.append(_text(x0 + cell_w / 2, y0 + 8, "!", 7, "middle", "white", "bold"))
    for color, cells in bands.items():
        if cells:
            out.append(f'<path d="{"".join(cells)}" fill="{color}"/>')
    if hatched:
        out.append(f'<path d="{"".join(hatched)}" fill="#ffffff" stroke="#c8c8c8" stroke-width="0.5"/>')
    out += marks
    for i, label in enumerate(row_labels):
        out.append(_text(label_w - 4, head_h + i * cell_h + 8, label[:42], 6.3, "end"))
    for j, label in enumerate(col_labels):
        cx, cy = label_w + j * cell_w + cell_w / 2, head_h - 4
        out.append(f'<text transform="translate({cx:.1f},{cy:.1f}) rotate(-55)" font-size="6.3" {FONT} '
                   f'fill="#1d2430">{escape(_clip(label, 28))}</text>')
    lx, ly = label_w, height - 6
    for lo, hi, color in _BANDS:
        name = f"≤ {hi:+.0f}" if lo < -100 else (f"≥ {lo:+.0f}" if hi > 100 else f"{lo:+.0f} tot {hi:+.0f}")
        out.append(f'<rect x="{lx}" y="{ly - 7}" width="9" height="8" fill="{color}"/>' + _text(lx + 12, ly, name + " pp", 6))
        lx += 62
    out.append(f'<rect x="{lx}" y="{ly - 7}" width="9" height="8" fill="#fff" stroke="#c8c8c8"/>'
               + _text(lx + 12, ly, "te klein", 6))
    out.append("</svg>")
    return "".join(out)
