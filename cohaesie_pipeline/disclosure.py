"""RULES.md, Disclosure: the one place that decides what a cross-practice output may show.

Counts from 1 to `threshold - 1` are shown as `<threshold`, and suppression is complementary: nothing shown
beside a suppressed count may give it back. For a total with parts that add up to it (assessed = with care +
empty records), one suppressed part would be the total minus the others, so a second part is suppressed with
it; any rate from a suppressed count is suppressed too (a denominator times a rate gives the numerator back).
"""
from __future__ import annotations

from cohaesie_pipeline.reports import format as f


def small(n, threshold: int) -> bool:
    return f.is_suppressed(n, threshold)


def parts_of_a_total(total: int, parts: dict[str, int], threshold: int) -> tuple[str, dict[str, str], bool]:
    """(total shown, each part shown, whether a rate computed from them may be shown).

    A small total hides everything. A small part hides itself and, complementary, the smallest other part
    that is not yet hidden (even if that one is large or zero: otherwise the total minus it gives the small
    part back)."""
    if small(total, threshold):
        return f"<{threshold}", {k: "–" for k in parts}, False
    hidden = {k for k, v in parts.items() if small(v, threshold)}
    if len(hidden) == 1:
        others = sorted((v, k) for k, v in parts.items() if k not in hidden)
        if others:
            hidden.add(others[0][1])
    shown = {k: ("<" + str(threshold) if small(v, threshold) else "–") if k in hidden else f.num(v)
             for k, v in parts.items()}
    return f.num(total), shown, not hidden


def count(n, threshold: int) -> str:
    """A count standing alone (no total or rate beside it)."""
    return f.suppress_count(n, threshold)


def rate_shown(numerator: int, denominator: int, threshold: int) -> bool:
    """Whether a practice's rate may stand beside (or be plotted against) its denominator."""
    return not (small(denominator, threshold) or small(numerator, threshold)) and bool(denominator)


def rate(numerator: int, denominator: int, threshold: int) -> str:
    """A rate shown beside its denominator: hidden when either count is small (denominator x rate would give a
    small numerator back)."""
    if not rate_shown(numerator, denominator, threshold):
        return f"<{threshold}" if small(denominator, threshold) else "–"
    return f.pct(numerator / denominator)
