"""Pandera schemas of the data contract's files, checked on the text cells as delivered.

Each check has a key; `MESSAGES` turns a failing key into the end of a sentence a data engineer can act
on ("'82,5O' is not an amount (expected e.g. 82,50)"). Checks run on text so that a bad cell is reported
with exactly the characters the file holds.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pandera.pandas as pa

from cohaesie_pipeline.quarters import Quarter

PROGRAMS = ("DM2", "COPD", "ASTMA", "CVRM")
VISIT_KINDS = ("kwartaalbezoek", "jaargesprek", "verbetergesprek", "functioneringsgesprek", "overig")
STEPS = ("1_bindend_verbetergesprek", "2_intensief_traject", "3a_compliment", "3b_functioneringsgesprek",
         "4_financiele_verrekening")


def parse_dates(s: pd.Series) -> pd.Series:
    """dd-mm-jjjj as Dutch exports write it; ISO jjjj-mm-dd also accepted."""
    s = s.astype(str)
    nl = pd.to_datetime(s.where(s.str.fullmatch(r"\d{1,2}-\d{1,2}-\d{4}")), format="%d-%m-%Y", errors="coerce")
    iso = pd.to_datetime(s.where(s.str.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}")), format="%Y-%m-%d", errors="coerce")
    out = nl.fillna(iso)
    return out.where((out.dt.year >= 1900) & (out.dt.year <= 2100))


def _passes_eleven_test(digits: np.ndarray) -> np.ndarray:
    weights = np.array([9, 8, 7, 6, 5, 4, 3, 2, -1])
    return ((digits @ weights) % 11 == 0) & (digits.sum(axis=1) > 0)


def looks_like_bsn(s: pd.Series) -> pd.Series:
    """The BSN eleven-test (9 digits d1..d9 with 9*d1 + 8*d2 + ... + 2*d8 - d9 divisible by 11) on every run of
    exactly nine digits inside an id, so that 'BSN111222333', '111222333-01' or 'NL_111222333' are caught too.
    An id of only 8 digits is tested with its leading zero restored, as spreadsheets drop it."""
    s = s.astype(str)
    out = pd.Series(False, index=s.index)
    runs = s.str.extractall(r"(?<!\d)(\d{9})(?!\d)")[0]
    eight = s[s.str.fullmatch(r"\d{8}")].str.zfill(9)
    cand = pd.concat([runs.droplevel("match"), eight])
    if len(cand):
        digits = np.array([list(x) for x in cand], dtype=int)
        hit = cand.index[_passes_eleven_test(digits)]
        out[out.index.isin(hit)] = True
    return out


def _amount_ok(s: pd.Series) -> pd.Series:
    return s.str.fullmatch(r"\d{1,9}([.,]\d{1,2})?")


def _opt(check):
    """A check that lets an empty cell through (optional columns)."""
    return lambda s: (s == "") | check(s)


@dataclass(frozen=True)
class Context:
    """What a check needs to know about the delivery it is looking at."""

    quarter: Quarter | None = None

    @property
    def peildatum(self) -> date:
        return self.quarter.peildatum

    @property
    def last_day(self) -> date:
        return self.quarter.last_day


def messages(ctx: Context) -> dict[str, str]:
    m = {
        "pseudonym": "is not a valid pseudonymised patient id (expected 6-64 letters, digits, '-' or '_')",
        "not_bsn": "holds nine digits that pass the BSN eleven-test (a citizen service number, also inside a longer "
                   "id); deliver pseudonymised patient ids only",
        "agb": "is not an AGB code (expected 8 digits, e.g. 01051234)",
        "program": "is not a known program (expected one of DM2, COPD, ASTMA, CVRM)",
        "uzovi": "is not a UZOVI insurer code (expected 4 digits, e.g. 9664)",
        "sex": "is not a sex code (expected M, V or O)",
        "main_practitioner": "is not a main practitioner code (expected HA or SP)",
        "date": "is not a date (expected dd-mm-jjjj, e.g. 01-07-2024)",
        "date_optional": "is not a date (expected dd-mm-jjjj, e.g. 01-07-2024, or empty)",
        "code": "is not an NHG measurement number (expected a whole number, e.g. 3266)",
        "amount": "is not an amount (expected e.g. 82,50)",
        "text": "is empty (expected a value)",
        "visit_kind": f"is not a visit kind (expected one of {', '.join(VISIT_KINDS)})",
        "step": f"is not a trajectory step (expected one of {', '.join(STEPS)})",
        "end_before_start": "is before the start date in the same row (expected an end on or after the start)",
        "confirmed_before_talk": "is before the date of the talk in the same row (a confirmation follows the talk)",
    }
    if ctx.quarter is not None:
        p, last = ctx.peildatum.strftime("%d-%m-%Y"), ctx.last_day.strftime("%d-%m-%Y")
        m.update({
            "birth_year": f"is not a plausible year of birth (expected a year from 1900 to {ctx.quarter.year})",
            "start_in_time": f"is after the delivery's quarter {ctx.quarter} (expected a start on or before "
                             f"the peildatum {p})",
            "measured_in_time": f"is after the delivery's quarter {ctx.quarter} ended on {last}; a measurement "
                                f"cannot be dated after its extraction (expected a date before {p})",
            "in_quarter": f"is outside the quarter {ctx.quarter} (expected a date from {p} to {last})",
        })
    return m


def _col(*checks: str, ctx: Context, nullable_text: bool = False) -> pa.Column:
    funcs = {
        "pseudonym": lambda s: s.str.fullmatch(r"[A-Za-z0-9_-]{6,64}"),
        "not_bsn": lambda s: ~looks_like_bsn(s),
        "agb": lambda s: s.str.fullmatch(r"\d{8}"),
        "program": lambda s: s.str.upper().isin(PROGRAMS),
        "uzovi": lambda s: s.str.fullmatch(r"\d{4}"),
        "sex": lambda s: s.str.upper().isin(["M", "V", "O"]),
        "main_practitioner": lambda s: s.str.upper().isin(["HA", "SP"]),
        "date": lambda s: parse_dates(s).notna(),
        "date_optional": _opt(lambda s: parse_dates(s).notna()),
        "code": lambda s: s.str.fullmatch(r"\d{1,6}"),
        "amount": _amount_ok,
        "text": lambda s: s != "",
        "visit_kind": lambda s: s.str.lower().isin(VISIT_KINDS),
        "step": lambda s: s.str.lower().isin(STEPS),
    }
    if ctx.quarter is not None:
        peil, last = pd.Timestamp(ctx.peildatum), pd.Timestamp(ctx.last_day)
        year = ctx.quarter.year
        funcs.update({
            "birth_year": lambda s: s.str.fullmatch(r"\d{4}") & pd.to_numeric(s, errors="coerce").between(1900, year),
            # the date check reports unparseable cells; these only judge the ones that parse
            "start_in_time": lambda s: ~(parse_dates(s) > last),
            "measured_in_time": lambda s: ~(parse_dates(s) > last),
            "in_quarter": lambda s: parse_dates(s).isna() | parse_dates(s).between(peil, last),
        })
    return pa.Column(str, nullable=nullable_text, coerce=False,
                     checks=[pa.Check(funcs[c], error=c) for c in checks])


def _row_order(first: str, second: str, key: str, optional_second: bool = True) -> pa.Check:
    def check(df: pd.DataFrame) -> pd.Series:
        a, b = parse_dates(df[first]), parse_dates(df[second])
        return ~(b < a)  # NaT compares False: empty or unparseable cells are judged by their own checks

    return pa.Check(check, error=f"{key}:{second}")


@dataclass(frozen=True)
class FileSpec:
    kind: str
    columns: list[str]
    schema: pa.DataFrameSchema


def delivery_specs(quarter: Quarter) -> dict[str, FileSpec]:
    ctx = Context(quarter)
    c = lambda *checks: _col(*checks, ctx=ctx)  # noqa: E731
    return {
        "patienten": FileSpec("patienten", [
            "patientnummer", "praktijk_agb", "zorgprogramma", "uzovi", "geboortejaar", "geslacht", "startdatum",
            "einddatum", "hoofdbehandelaar"], pa.DataFrameSchema({
                "patientnummer": c("pseudonym", "not_bsn"), "praktijk_agb": c("agb"), "zorgprogramma": c("program"),
                "uzovi": c("uzovi"), "geboortejaar": c("birth_year"), "geslacht": c("sex"),
                "startdatum": c("date", "start_in_time"), "einddatum": c("date_optional"),
                "hoofdbehandelaar": c("main_practitioner")},
                checks=[_row_order("startdatum", "einddatum", "end_before_start")])),
        "meetwaarden": FileSpec("meetwaarden", [
            "patientnummer", "praktijk_agb", "bepalingnummer", "memocode", "datum", "waarde", "eenheid"],
            pa.DataFrameSchema({
                "patientnummer": c("pseudonym", "not_bsn"), "praktijk_agb": c("agb"), "bepalingnummer": c("code"),
                "memocode": _col(ctx=ctx), "datum": c("date", "measured_in_time"), "waarde": _col(ctx=ctx),
                "eenheid": _col(ctx=ctx)})),
        "declaraties": FileSpec("declaraties", [
            "patientnummer", "praktijk_agb", "zorgprogramma", "uzovi", "periode_start", "periode_eind", "bedrag"],
            pa.DataFrameSchema({
                "patientnummer": c("pseudonym", "not_bsn"), "praktijk_agb": c("agb"), "zorgprogramma": c("program"),
                "uzovi": c("uzovi"), "periode_start": c("date", "in_quarter"), "periode_eind": c("date", "in_quarter"),
                "bedrag": c("amount")},
                checks=[_row_order("periode_start", "periode_eind", "end_before_start")])),
    }


def register_specs() -> dict[str, FileSpec]:
    ctx = Context(None)
    c = lambda *checks: _col(*checks, ctx=ctx)  # noqa: E731
    return {
        "praktijken": FileSpec("praktijken", ["praktijk_agb", "praktijk_naam", "hagro", "plaats"], pa.DataFrameSchema({
            "praktijk_agb": c("agb"), "praktijk_naam": c("text"), "hagro": _col(ctx=ctx), "plaats": _col(ctx=ctx)})),
        "praktijkhouders": FileSpec("praktijkhouders", ["praktijk_agb", "huisarts_agb", "huisarts_naam", "van", "tot"],
                                    pa.DataFrameSchema({
            "praktijk_agb": c("agb"), "huisarts_agb": c("agb"), "huisarts_naam": c("text"), "van": c("date"),
            "tot": c("date_optional")}, checks=[_row_order("van", "tot", "end_before_start")])),
        "praktijkbezoeken": FileSpec("praktijkbezoeken", ["praktijk_agb", "datum", "soort"], pa.DataFrameSchema({
            "praktijk_agb": c("agb"), "datum": c("date"), "soort": c("visit_kind")})),
        "verbetertrajecten": FileSpec("verbetertrajecten", [
            "praktijk_agb", "zorgprogramma", "stap", "datum", "bevestigd_op", "afspraken"], pa.DataFrameSchema({
                "praktijk_agb": c("agb"), "zorgprogramma": c("program"), "stap": c("step"), "datum": c("date"),
                "bevestigd_op": c("date_optional"), "afspraken": _col(ctx=ctx)},
                checks=[_row_order("datum", "bevestigd_op", "confirmed_before_talk")])),
    }


REFERENCE_KINDS_NL = ("landelijk", "streefwaarde")  # soort in a reference file -> national / target


def reference_messages(indicators: list[str]) -> dict[str, str]:
    return {
        "reference_kind": f"is not a kind of reference value (expected one of {', '.join(REFERENCE_KINDS_NL)})",
        "indicator": f"is not an indicator code of the indicator table (expected e.g. {indicators[0]}; all codes: "
                     f"{', '.join(indicators)})",
        "year": "is not a year (expected a year from 2000 to 2100, e.g. 2024)",
        "percentage": "is not a percentage (expected a number from 0 to 100 with a decimal comma, e.g. 74,5)",
        "text": "is empty (expected the source, e.g. InEen Transparante Ketenzorg 2024)",
    }


def percentage_value(s: pd.Series) -> pd.Series:
    """'74,5', '74.5' or '74,5%' as a number of percent; NaN when not one."""
    text = s.astype(str).str.strip().str.removesuffix("%").str.strip()
    ok = text.str.fullmatch(r"\d{1,3}([.,]\d{1,4})?")
    return pd.to_numeric(text.where(ok).str.replace(",", ".", regex=False), errors="coerce")


def reference_spec(indicators: list[str]) -> FileSpec:
    """`cohaesie reference import`: one row per kind x indicator x year (RULES.md, Reference after InEen)."""
    known = {i.upper() for i in indicators}
    checks = {
        "reference_kind": lambda s: s.str.lower().isin(REFERENCE_KINDS_NL),
        "indicator": lambda s: s.str.upper().isin(known),
        "year": lambda s: s.str.fullmatch(r"\d{4}") & pd.to_numeric(s, errors="coerce").between(2000, 2100),
        "percentage": lambda s: percentage_value(s).between(0, 100),
        "text": lambda s: s != "",
    }

    def col(key: str) -> pa.Column:
        return pa.Column(str, coerce=False, checks=[pa.Check(checks[key], error=key)])

    return FileSpec("referentie", ["soort", "indicator", "jaar", "percentage", "bron"], pa.DataFrameSchema({
        "soort": col("reference_kind"), "indicator": col("indicator"), "jaar": col("year"),
        "percentage": col("percentage"), "bron": col("text")}))
