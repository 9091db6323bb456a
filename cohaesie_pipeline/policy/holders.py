"""Who held a practice when (`praktijkhouders`): settlements assign months by it, trajectories compare the holder
at the binding talk with the holder now."""
from __future__ import annotations

from collections import defaultdict
from datetime import date

import pandas as pd


class HolderIndex:
    """Who held a practice on a day, from rows grouped by practice once (a pandas filter per month cost
    seconds once every year is settled as of every quarter)."""

    def __init__(self, holders: pd.DataFrame):
        self.rows: dict[str, list[tuple]] = defaultdict(list)
        for r in holders.itertuples():
            until = None if r.held_until is None or pd.isna(r.held_until) else r.held_until
            self.rows[r.practice_agb].append((r.held_from, until, r.gp_agb, r.gp_name))

    def on(self, practice_agb: str, day: date) -> list[tuple[str, str]]:
        return sorted((gp, name) for start, until, gp, name in self.rows.get(practice_agb, ())
                      if start <= day and (until is None or until >= day))

    def text(self, practice_agb: str, first: date, last: date) -> str:
        """The practice's rows as seen through the months [first, last]: only what can change an assignment
        of those months goes into a fingerprint (a later takeover date leaves an earlier quarter alone)."""
        seen = []
        for start, until, gp, name in self.rows.get(practice_agb, ()):
            if start > last or (until is not None and until < first):
                continue
            seen.append(f"{gp}|{name}|{max(start, first)}|{'' if until is None or until >= last else until}")
        return "\n".join(sorted(seen))
