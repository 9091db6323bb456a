"""Charts as compact SVG images, with their titles and legends in HTML.

Why not matplotlib: WeasyPrint draws SVG in pure Python at roughly a millisecond per element, and a
matplotlib small-multiples figure has ~800 elements (every tick a <use>, every label a group), which made a
practice report take ~10 s. These charts draw the same content with a tenth of the elements: lines are
polylines, many dots are one <path>, heat-map cells are one path per colour band.

Why titles and legends are HTML: WeasyPrint lays out and draws SVG text one letter at a time (a Pango layout
per character), so a 30-letter title costs as much as a table of text. Text left inside the SVGs is short
axis labels in "Cohaesie Sans" (a DejaVu Sans subset), which the report stylesheet maps to the shipped font.
"""
from __future__ import annotations

import base64
import math
from html import escape

from markupsafe import Markup

from cohaesie_pipeline.reports.format import missing

PRACTICE, CARE_GROUP, NATIONAL, OTHERS, LIMIT = "#1f5fa8", "#e07b00", "#555555", "#b9c3cf", "#c0392b"
FONT = 'font-family="Cohaesie Sans"'
DASH = ' stroke-dasharray="3,2"'


def as_image(svg: str, alt: str) -> Markup:
    """The chart as an <img> with a data URI rather than inline SVG: inline, every SVG element is parsed by
    the HTML parser and cascaded against the stylesheet like a paragraph (~0.15 s per practice report)."""
    if not svg:
        return Markup("")
    data = base64.b64encode(svg.encode()).decode()
    return Markup('<img alt="{}" src="data:image/svg+xml;base64,{}">').format(alt, Markup(data))


def _pct(v: float) -> str:
    return f"{round(v * 100):d}%"


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


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



def _svg(width: float, height: float, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" height="{height:.0f}">' + "".join(body) + "</svg>")


def _valid(v) -> bool:
    return not missing(v)


def _row_floor(panels: list[dict]) -> float:
    """The bottom of a row's shared y-axis: 5 points below the lowest value or lag limit, at most 60%, on a 10%
    step (an interval reaching lower is cut at the axis: it would flatten every line of the row)."""
    values = [v for p in panels for s in ("practice", "care_group", "national", "limit")
              for v in p.get(s, {}).values() if _valid(v)]
    lo = max(0.0, min([min(values) - 0.05, 0.6]) if values else 0.6)
    return math.floor(lo * 10) / 10


def _y_scale(lo: float, top: float, bottom: float):
    """Rate -> y on an axis from `lo` (at `bottom`) to 100% (at `top`); values outside are cut at the axis."""
    return lambda v: bottom - (bottom - top) * ((max(lo, min(1.0, v)) - lo) / (1 - lo))


def _polyline(points, close: bool = False) -> str:
    return "M" + "L".join(f"{a:.1f},{b:.1f}" for a, b in points) + ("Z" if close else "")


def quarter_label(q: str) -> str:
    """'2025Q1' -> "'25 Q1": short enough for a panel's axis."""
    return f"'{q[2:4]} Q{q[-1]}" if len(q) == 6 and q[4] == "Q" else q


_PW, _PH, _GAP = 170.0, 94.0, 14.0


def trend_panels(panels: list[dict], quarters: list[str], show_practice: bool = True,
                 cols: int = 3) -> list[dict]:
    """Small multiples of the key indicators over the quarters: per row of panels the titles (for HTML
    cells above it) and one image. Each series of a row is one <path> over all its panels, because
    WeasyPrint's cost is per SVG element and per image.

    Each panel: title, practice {q: rate}, care_group {q: rate}, national {q: rate}, and optionally band
    {q: (ci_low, ci_high)} (the practice's 95% interval, a shaded band) and limit {q: lag limit} (the
    policy's line, from the mart). The panels of a row share their y-axis, labelled once at the left; the
    x-axis has a tick per quarter and the first and last quarter written under it."""
    left, top, bottom = 26.0, 4.0, _PH - 16
    span = max(len(quarters) - 1, 1)
    rows = []
    for start in range(0, len(panels), cols):
        row = panels[start:start + cols]
        lo = _row_floor(row)
        y = _y_scale(lo, top, bottom)
        grid, ticks, labels, bands, limits = [], [], [], [], []
        lines, dots = {"national": [], "care_group": [], "practice": []}, []
        for j, p in enumerate(row):
            x0 = j * (_PW + _GAP) + left
            x1 = j * (_PW + _GAP) + _PW - 4
            x = lambda k: x0 + (x1 - x0) * k / span  # noqa: E731
            grid += [f"M{x0:.0f},{y(v):.1f}H{x1:.0f}" for v in (lo, (lo + 1) / 2, 1.0)]
            ticks += [f"M{x(k):.1f},{bottom:.1f}v2.5" for k in range(len(quarters))]
            if quarters:
                labels += [_text(x(0), bottom + 10, quarter_label(quarters[0]), 6.3, "start", "#667"),
                           _text(x(len(quarters) - 1), bottom + 10, quarter_label(quarters[-1]), 6.3, "end", "#667")]
            for key in lines:
                pts = [(x(k), y(p[key][q])) for k, q in enumerate(quarters) if q in p[key] and _valid(p[key][q])]
                if pts:
                    lines[key].append(_polyline(pts))
                    if key == "practice":
                        dots += pts
            band = p.get("band", {})
            upper = [(x(k), y(band[q][1])) for k, q in enumerate(quarters) if q in band]
            lower = [(x(k), y(band[q][0])) for k, q in enumerate(quarters) if q in band]
            if len(upper) > 1:
                bands.append(_polyline(upper + lower[::-1], close=True))
            limit = [(x(k), y(p["limit"][q])) for k, q in enumerate(quarters)
                     if q in p.get("limit", {}) and _valid(p["limit"][q])]
            if limit:
                limits.append(_polyline(limit))
        body = [f'<path d="{"".join(grid)}" stroke="#e3e7ec" stroke-width="0.6" fill="none"/>',
                f'<path d="{"".join(ticks)}" stroke="#99a3ad" stroke-width="0.6" fill="none"/>']
        body += [_text(left - 3, y(v) + 2.3, _pct(v), 7, "end", "#667") for v in (lo, 1.0)] + labels
        if show_practice and bands:
            body.append(f'<path d="{"".join(bands)}" fill="{PRACTICE}" fill-opacity="0.14" stroke="none"/>')
        if show_practice and limits:
            body.append(f'<path d="{"".join(limits)}" fill="none" stroke="{LIMIT}" stroke-width="0.9"/>')
        series = [("national", NATIONAL, 1.0, True), ("care_group", CARE_GROUP, 1.4, False)]
        if show_practice:
            series.append(("practice", PRACTICE, 2.0, False))
        for key, color, w, dash in series:
            if lines[key]:
                body.append(f'<path d="{"".join(lines[key])}" fill="none" stroke="{color}" stroke-width="{w}"'
                            f'{DASH if dash else ""}/>')
        if show_practice and dots:
            body.append(_dot_path(dots, 1.6, PRACTICE))
        titles = [p["title"] for p in row] + [""] * (cols - len(row))
        rows.append({"titles": titles,
                     "img": as_image(_svg(cols * (_PW + _GAP), _PH, body), "Trend: " + ", ".join(titles[:len(row)]))})
    return rows


# funnel limits: two-sided 95% and 99.8% of a normal distribution (Spiegelhalter 2005; PHE Fingertips)
Z95, Z998 = 1.959964, 3.090232
FUNNEL_LEVELS = {"inner": "95%", "outer": "99,8%"}  # how the report names the two limits
_FW, _FH = 170.0, 104.0


def funnel_limit(p0: float, n: float, z: float) -> tuple[float, float]:
    """The funnel around the group's rate p0 at denominator n: p0 ± z·√(p0(1−p0)/n), within [0, 1]. The normal
    approximation of the binomial; its limits are drawn only from the care group's smallest shown
    denominator (at least the disclosure threshold) on."""
    half = z * math.sqrt(max(p0 * (1 - p0), 0.0) / n)
    return max(0.0, p0 - half), min(1.0, p0 + half)


def funnel_side(rate: float, p0: float, n: float) -> str:
    """'laag998' below the 99.8% funnel, 'laag95' below the 95% one, 'hoog95'/'hoog998' above, else ''."""
    lo95, hi95 = funnel_limit(p0, n, Z95)
    lo998, hi998 = funnel_limit(p0, n, Z998)
    if rate < lo998:
        return "laag998"
    if rate < lo95:
        return "laag95"
    if rate > hi998:
        return "hoog998"
    if rate > hi95:
        return "hoog95"
    return ""


def funnel_panels(panels: list[dict], cols: int = 3) -> list[dict]:
    """Funnel plots of the key indicators: per practice its rate against its denominator, around the care
    group's rate with the 95% (dashed) and 99.8% (solid) limits. A practice below the 99.8% limit is red,
    below the 95% limit orange, the others grey: a practice far from the group at a large denominator stands
    out, a small practice's chance swing does not. Dots are anonymous; the caller lists the red ones by name.

    Each panel: title, center (the group's rate), points [(denominator, rate)], n_min (the smallest
    denominator drawn). A row's panels share the y-axis; each panel's x-axis runs from 0 to its largest
    denominator, written under it."""
    left, top, bottom = 26.0, 4.0, _FH - 16
    colors = {"laag998": LIMIT, "laag95": CARE_GROUP, "": OTHERS, "hoog95": OTHERS, "hoog998": OTHERS}
    rows = []
    for start in range(0, len(panels), cols):
        row = panels[start:start + cols]
        values = [r for p in row for _, r in p["points"]]
        lo = math.floor(max(0.0, min(values + [0.6]) - 0.05) * 10) / 10 if values else 0.6
        y = _y_scale(lo, top, bottom)
        grid, center, l95, l998, labels = [], [], [], [], []
        dots: dict[str, list] = {c: [] for c in dict.fromkeys(colors.values())}
        for j, p in enumerate(row):
            x0 = j * (_FW + _GAP) + left
            x1 = j * (_FW + _GAP) + _FW - 4
            n_max = max([n for n, _ in p["points"]] + [p["n_min"] + 1])
            n_max = math.ceil(n_max / 50) * 50
            x = lambda n: x0 + (x1 - x0) * n / n_max  # noqa: E731
            grid += [f"M{x0:.0f},{y(v):.1f}H{x1:.0f}" for v in (lo, (lo + 1) / 2, 1.0)]
            labels += [_text(x0, bottom + 10, "0", 6.3, "start", "#667"),
                       _text(x1, bottom + 10, f"{n_max} patiënten", 6.3, "end", "#667")]
            p0 = p["center"]
            if not _valid(p0):
                continue
            center.append(f"M{x(p['n_min']):.1f},{y(p0):.1f}H{x1:.1f}")
            steps = [p["n_min"] + (n_max - p["n_min"]) * (k / 24) ** 2 for k in range(25)]  # denser where it bends
            for z, out in ((Z95, l95), (Z998, l998)):
                for side in (0, 1):
                    out.append(_polyline((x(n), y(funnel_limit(p0, n, z)[side])) for n in steps))
            for n, r in p["points"]:
                dots[colors[funnel_side(r, p0, n)]].append((x(n), y(r)))
        body = [f'<path d="{"".join(grid)}" stroke="#e3e7ec" stroke-width="0.6" fill="none"/>']
        body += [_text(left - 3, y(v) + 2.3, _pct(v), 7, "end", "#667") for v in (lo, 1.0)] + labels
        if l95:
            body.append(f'<path d="{"".join(l95)}" fill="none" stroke="{NATIONAL}" stroke-width="0.7"{DASH}/>')
            body.append(f'<path d="{"".join(l998)}" fill="none" stroke="{NATIONAL}" stroke-width="0.8"/>')
            body.append(f'<path d="{"".join(center)}" fill="none" stroke="{CARE_GROUP}" stroke-width="1.2"/>')
        for color, pts in dots.items():
            if pts:
                body.append(_dot_path(pts, 1.9, color))
        titles = [p["title"] for p in row] + [""] * (cols - len(row))
        rows.append({"titles": titles,
                     "img": as_image(_svg(cols * (_FW + _GAP), _FH, body), "Funnelplot: " + ", ".join(titles[:len(row)]))})
    return rows


_STRIP_W, _STRIP_H, _STRIP_PAD, _AXIS_H = 340.0, 19.0, 10.0, 10.0
POSITION_WIDTH_MM = 120.0


def _strip_x(v: float) -> float:
    return _STRIP_PAD + (_STRIP_W - 2 * _STRIP_PAD) * max(0.0, min(1.0, v))


def position_chart(rows: list[dict]) -> dict:
    """Per key indicator a strip: every other practice as a grey dot (anonymous), this practice highlighted
    with its 95% interval as whiskers, the reference (dashed) and the policy's lag limit (red, from the mart).
    rows: title, others [rates], own or None, ci (low, high) or None, national (the reference), limit. The
    reference and limit ticks are drawn over this practice's dot, so a limit under the dot stays visible. Each
    kind of mark is one <path> over all strips.

    One image for all strips; the titles are HTML cells whose heights (row_mm) match the strips exactly
    when the image is drawn POSITION_WIDTH_MM wide."""
    n = len(rows)
    height = n * _STRIP_H + _AXIS_H
    others, own, whiskers, nat, lim = [], [], [], [], []
    for i, r in enumerate(rows):
        mid = i * _STRIP_H + _STRIP_H / 2
        others += [(_strip_x(v), mid + ((j % 5) - 2) * 1.4)
                   for j, v in enumerate(sorted(v for v in r["others"] if _valid(v)))]
        if _valid(r.get("national")):
            nat.append(f"M{_strip_x(r['national']):.1f},{mid - 7.5:.1f}v15")
        if _valid(r.get("limit")):
            lim.append(f"M{_strip_x(r['limit']):.1f},{mid - 7.5:.1f}v15")
        if _valid(r.get("own")):
            own.append((_strip_x(r["own"]), mid))
            ci = r.get("ci")
            if ci is not None and _valid(ci[0]) and _valid(ci[1]):
                a, b = _strip_x(ci[0]), _strip_x(ci[1])
                whiskers.append(f"M{a:.1f},{mid:.1f}H{b:.1f}M{a:.1f},{mid - 3:.1f}v6M{b:.1f},{mid - 3:.1f}v6")
    out = [f'<path d="{"".join(f"M{_strip_x(v):.1f},0V{n * _STRIP_H}" for v in (0, 0.25, 0.5, 0.75, 1.0))}" '
           f'stroke="#e3e7ec" stroke-width="0.6"/>', _dot_path(others, 1.9, OTHERS)]
    if whiskers:
        out.append(f'<path d="{"".join(whiskers)}" stroke="{PRACTICE}" stroke-width="1.1" fill="none"/>')
    if own:
        out.append(_dot_path(own, 3.6, PRACTICE, ring="white"))
    if nat:
        out.append(f'<path d="{"".join(nat)}" stroke="{NATIONAL}" stroke-width="1.2" stroke-dasharray="2,1.5"/>')
    if lim:
        out.append(f'<path d="{"".join(lim)}" stroke="{LIMIT}" stroke-width="1.1"/>')
    y = n * _STRIP_H + 8
    out += [_text(_strip_x(0), y, "0%", 6.5, "start", "#667"), _text(_strip_x(0.5), y, "50%", 6.5, "middle", "#667"),
            _text(_strip_x(1), y, "100%", 6.5, "end", "#667")]
    mm = POSITION_WIDTH_MM / _STRIP_W
    return {"titles": [r["title"] for r in rows], "row_mm": round(_STRIP_H * mm, 3), "axis_mm": round(_AXIS_H * mm, 3),
            "width_mm": POSITION_WIDTH_MM, "height_mm": round(height * mm, 3),
            "img": as_image(_svg(_STRIP_W, height, out), "Positie tussen de praktijken: " + ", ".join(
                r["title"] for r in rows)) if rows else ""}


_BANDS = [(-1e9, -20, "#b2182b"), (-20, -10, "#e8836b"), (-10, -3, "#f6c7b5"), (-3, 3, "#f2f2f2"),
          (3, 10, "#c6dbef"), (10, 1e9, "#6a9fcf")]
HEATMAP_GRID_WIDTH_MM = 128.0
_CELL_W, _CELL_H, _HEAD_H = 46.0, 11.0, 135.0


def heatmap(matrix, suppressed, row_labels: list[str], col_labels: list[str], lagging=None) -> dict:
    """Gap to the national average in percentage points; suppressed cells (n < threshold) hatched; "!" on the
    cells lagging by the policy's rule (`lagging`, from the mart: relative to national, not a fixed pp band).

    The grid and its rotated column headers are one image, drawn HEATMAP_GRID_WIDTH_MM wide (the same scale
    for every program); the practice names are HTML cells of row_mm each beside it, and the colour legend
    is HTML (legend_bands)."""
    rows, cols = len(row_labels), len(col_labels)
    width, height = 8 * _CELL_W + 70, _HEAD_H + rows * _CELL_H
    bands = {c: [] for _, _, c in _BANDS}
    hatched, marks = [], []
    for i in range(rows):
        for j in range(cols):
            x0, y0 = j * _CELL_W, _HEAD_H + i * _CELL_H
            cell = f"M{x0:.1f},{y0:.1f}h{_CELL_W - 1:.1f}v{_CELL_H - 1:.1f}h{-(_CELL_W - 1):.1f}z"
            v = matrix[i][j]
            if suppressed[i][j] or not _valid(v):
                hatched.append(cell)
                continue
            for lo, hi, color in _BANDS:
                if lo <= v < hi:
                    bands[color].append(cell)
            if lagging is not None and lagging[i][j]:
                marks.append(_text(x0 + _CELL_W / 2, y0 + 8, "!", 7, "middle", "white", "bold"))
    out = [f'<path d="{"".join(cells)}" fill="{color}"/>' for color, cells in bands.items() if cells]
    if hatched:
        out.append(f'<path d="{"".join(hatched)}" fill="#ffffff" stroke="#c8c8c8" stroke-width="0.5"/>')
    out += marks
    for j, label in enumerate(col_labels):
        cx, cy = j * _CELL_W + _CELL_W / 2, _HEAD_H - 4
        out.append(f'<text transform="translate({cx:.1f},{cy:.1f}) rotate(-55)" font-size="6.3" {FONT} '
                   f'fill="#1d2430">{escape(_clip(label, 44))}</text>')
    mm = HEATMAP_GRID_WIDTH_MM / width
    return {"labels": row_labels, "row_mm": round(_CELL_H * mm, 3), "head_mm": round(_HEAD_H * mm, 3),
            "width_mm": HEATMAP_GRID_WIDTH_MM, "height_mm": round(height * mm, 3),
            "img": as_image(_svg(width, height, out), "Heatmap verschil met landelijk: " + ", ".join(col_labels))}


def legend_bands() -> list[dict]:
    """The heat map's colour bands for an HTML legend."""
    return [{"color": color, "label": (f"≤ {hi:+.0f}" if lo < -100 else f"≥ {lo:+.0f}" if hi > 100
                                       else f"{lo:+.0f} tot {hi:+.0f}") + " pp"} for lo, hi, color in _BANDS]
