"""Quarter arithmetic. A quarter is written `YYYYQn` wherever a person reads it; its peildatum
(reference date) is its first day, as for the chain-care fee."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    q: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        m = _QUARTER_RE.match(text.strip().upper())
        if not m:
            raise ValueError(f"'{text}' is not a quarter (expected YYYYQn, e.g. 2024Q3)")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, d: date) -> Quarter:
        return cls(d.year, (d.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.q}"

    @property
    def peildatum(self) -> date:
        return date(self.year, 3 * (self.q - 1) + 1, 1)

    @property
    def last_day(self) -> date:
        return (self + 1).peildatum - timedelta(days=1)

    @property
    def months(self) -> list[date]:
        """First days of the quarter's three months."""
        return [date(self.year, 3 * (self.q - 1) + 1 + i, 1) for i in range(3)]

    def __add__(self, n: int) -> Quarter:
        idx = self.year * 4 + (self.q - 1) + n
        return Quarter(idx // 4, idx % 4 + 1)

    def __sub__(self, n: int) -> Quarter:
        return self + (-n)


def quarter_range(first: Quarter | str, last: Quarter | str) -> list[Quarter]:
    first = Quarter.parse(first) if isinstance(first, str) else first
    last = Quarter.parse(last) if isinstance(last, str) else last
    out, q = [], first
    while q <= last:
        out.append(q)
        q = q + 1
    return out


def add_months(d: date, months: int) -> date:
    """Calendar month arithmetic, clamping the day (31 Jan + 1 month = 29 Feb in a leap year)."""
    idx = d.year * 12 + d.month - 1 + months
    y, m = divmod(idx, 12)
    m += 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(y, m, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")
