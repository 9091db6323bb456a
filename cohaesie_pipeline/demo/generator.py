"""Synthetic data root in the data contract's format: a quarterly inbox and the care group's registers.

Each practice is simulated on its own (its own random stream derived from the seed and its index), its
whole history at once, and then sliced into the quarterly deliveries; rows are appended to the files
practice by practice, so memory stays bounded by the largest practice whatever `practices` is.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from cohaesie_pipeline.demo import profiles as P
from cohaesie_pipeline.demo.sinks import CsvSink, XlsxSink
from cohaesie_pipeline.quarters import Quarter, add_months, quarter_range

PATIENT_COLUMNS = ["patientnummer", "praktijk_agb", "zorgprogramma", "uzovi", "geboortejaar", "geslacht",
                   "startdatum", "einddatum", "hoofdbehandelaar"]
MEASUREMENT_COLUMNS = ["patientnummer", "praktijk_agb", "bepalingnummer", "memocode", "datum", "waarde", "eenheid"]
DECLARATION_COLUMNS = ["patientnummer", "praktijk_agb", "zorgprogramma", "uzovi", "periode_start", "periode_eind",
                       "bedrag"]
HISTORY_MONTHS = 36  # the longest indicator window (fundus): each delivery goes back this far
EXTRACTION_DAYS = 20  # a delivery is extracted about three weeks after its peildatum
EPOCH = date(1970, 1, 1)


def _ord(d: date) -> int:
    return (d - EPOCH).days


@dataclass
class Summary:
    out: Path
    practices: int
    quarters: list[str]
    rows: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int) -> None:
        self.rows[key] = self.rows.get(key, 0) + n


def _fmt_dates(days: np.ndarray, iso: bool = False) -> np.ndarray:
    s = pd.Series(days.astype("datetime64[D]").astype(str))
    if iso:
        return s.to_numpy()
    return (s.str[8:10] + "-" + s.str[5:7] + "-" + s.str[0:4]).to_numpy()


def _fmt_decimal(values: np.ndarray, decimals: int) -> np.ndarray:
    return pd.Series(np.round(values, decimals)).map(f"{{:.{decimals}f}}".format).str.replace(".", ",").to_numpy()


def _tariffs() -> dict[tuple[int, str, str], float]:
    from cohaesie_pipeline.paths import DBT_PROJECT_DIR

    df = pd.read_csv(DBT_PROJECT_DIR / "seeds" / "ref_tariffs.csv", dtype={"uzovi": str})
    return {(int(r.year), r.program, r.uzovi if isinstance(r.uzovi, str) else ""): float(r.annual_tariff)
            for r in df.itertuples()}


class _Files:
    """The open sinks of every quarter's delivery, with the dialect variants spread over them."""

    def __init__(self, out: Path, quarters: list[Quarter], allow_xlsx: bool):
        self.sinks: dict[tuple[str, str], CsvSink | XlsxSink] = {}
        self.iso: dict[tuple[str, str], bool] = {}
        for i, q in enumerate(quarters):
            folder = out / "inbox" / str(q)
            folder.mkdir(parents=True, exist_ok=True)
            specs = {
                "patienten": ("utf-8-sig" if i % 2 == 0 else "utf-8", PATIENT_COLUMNS),
                "meetwaarden": ("cp1252" if i == 1 else "utf-8", MEASUREMENT_COLUMNS),
                "declaraties": ("cp1252" if i == 2 else "utf-8-sig", DECLARATION_COLUMNS),
            }
            for name, (enc, cols) in specs.items():
                key = (str(q), name)
                if name == "declaraties" and allow_xlsx and i == len(quarters) - 3:
                    self.sinks[key] = XlsxSink(folder / f"{name}.xlsx", cols)
                else:
                    self.sinks[key] = CsvSink(folder / f"{name}.csv", cols, enc)
                self.iso[key] = i == 3 and name == "declaraties"  # one export with ISO dates

    def write(self, q: Quarter, name: str, df: pd.DataFrame) -> None:
        self.sinks[(str(q), name)].write(df)

    def close(self) -> None:
        for s in self.sinks.values():
            s.close()


_LONG_DIGIT_RUN = re.compile(r"\d{9,}")


def _no_bsn_inside(pseudonym: str) -> str:
    """Ingestion refuses an id holding nine digits in a row that pass the BSN eleven-test; a hex pseudonym has
    such a run about once in 600. The fifth digit of a long run becomes a letter, so none is left."""
    while m := _LONG_DIGIT_RUN.search(pseudonym):
        i = m.start() + 4
        pseudonym = pseudonym[:i] + "GHIJKLMNOR"[int(pseudonym[i])] + pseudonym[i + 1:]
    return pseudonym


def _pseudonyms(seed: int, practice: int, start: int, n: int) -> np.ndarray:
    return np.array([
        _no_bsn_inside("P" + hashlib.blake2b(f"{seed}:{practice}:{k}".encode(), digest_size=7).hexdigest().upper())
        for k in range(start, start + n)
    ])


def _assign_programs(n: int, rng: np.random.Generator, roles: dict[int, P.Role]) -> dict[str, set[int]]:
    out = {}
    for prog in P.PROGRAMS:
        k = round(n * P.PARTICIPATION[prog] / P.REFERENCE_PRACTICES)
        forced = {i for i, r in roles.items() if r.program == prog and i < n}
        if prog == "ASTMA" and P.CHILDREN_ONLY_ASTMA < n:
            forced.add(P.CHILDREN_ONLY_ASTMA)
        pool = [i for i in range(n) if i not in forced]
        chosen = set(rng.choice(pool, size=max(0, min(len(pool), k - len(forced))), replace=False).tolist())
        out[prog] = chosen | forced
    return out


def _roles(n: int, rng: np.random.Generator) -> dict[int, P.Role]:
    if n <= P.REFERENCE_PRACTICES:
        return {i: r for i, r in P.DEMO_ROLES.items() if i < n}
    roles = dict(P.DEMO_ROLES)
    kinds = ["persistent", "improving", "worsening"]
    for i in range(P.REFERENCE_PRACTICES, n):
        if rng.random() < 0.10:
            prog = str(rng.choice(["DM2", "DM2", "CVRM", "COPD"]))
            keys = [c.name for c in P.CARE_PLANS[prog] if c.is_key]
            roles[i] = P.Role(str(rng.choice(kinds)), prog, (str(rng.choice(keys)),))
    return roles


class Generator:
    def __init__(self, out: Path, practices: int = 45, first: str = "2023Q1", last: str = "2024Q4", seed: int = 42):
        self.out = Path(out)
        self.n = practices
        self.quarters = quarter_range(first, last)
        if not self.quarters:
            raise ValueError(f"--from {first} is after --to {last}")
        self.seed = seed
        self.first = self.quarters[0].peildatum
        self.t0 = _ord(add_months(self.first, -HISTORY_MONTHS))
        self.t_end = _ord(self.quarters[-1].peildatum + timedelta(days=EXTRACTION_DAYS))
        self.tariffs = _tariffs()
        rng = np.random.default_rng([seed, 10_000_000])
        self.roles = _roles(practices, rng)
        self.programs = _assign_programs(practices, rng, self.roles)
        codes = rng.choice(np.arange(100_000, 1_000_000), size=practices, replace=False)
        self.agb = [f"01{c:06d}" for c in codes]
        self.summary = Summary(self.out, practices, [str(q) for q in self.quarters])

    # --- time-varying practice quality -----------------------------------------------------------
    def _role_factor(self, role: P.Role, t: np.ndarray) -> np.ndarray:
        f0 = _ord(self.first)
        m = 30.44

        def ramp(a_months, b_months, fa, fb):
            a, b = f0 + a_months * m, f0 + b_months * m
            return np.interp(t, [a, b], [fa, fb])

        if role.kind == "persistent":
            return np.full(t.shape, role.factor)
        if role.kind == "improving":
            return ramp(3, 18, role.factor, 0.97)
        if role.kind == "worsening":
            return ramp(3, 6, 1.0, role.factor)
        if role.kind == "recovered":
            return ramp(-12, 0, role.factor, 0.98)
        raise ValueError(role.kind)

    # --- one practice ----------------------------------------------------------------------------
    def _practice(self, i: int, files: _Files) -> dict:
        rng = np.random.default_rng([self.seed, i])
        agb = self.agb[i]
        size = float(np.clip(rng.lognormal(0, 0.35), 0.35, 2.8))
        role = self.roles.get(i)
        hazard = P.HIGH_EMPTY.get(i, float(rng.uniform(0.02, 0.06)))
        next_id = 0
        enrol = []  # one frame per programme
        dm_cvrm_people = None
        for prog in P.PROGRAMS:
            if i not in self.programs[prog]:
                continue
            mean = P.PROGRAM_SIZE[prog] / P.PARTICIPATION[prog]
            n_now = max(6, int(rng.normal(mean * size, mean * size * 0.1)))
            n0 = int(n_now * 0.88)
            years = (self.t_end - self.t0) / 365.25
            n_new = int(rng.poisson(n0 * 0.07 * years))
            n = n0 + n_new
            start = np.empty(n, dtype=np.int64)
            start[:n0] = self.t0 - rng.integers(1, 15 * 365, n0)
            start[n0:] = rng.integers(self.t0, self.t_end, n_new)
            # leaving (death, moving, transfer) is memoryless: count the stay from the later of start and t0
            stay = np.maximum(rng.exponential(1 / 0.045 * 365.25, n).astype(np.int64), 30)
            end = np.maximum(start, self.t0) + stay
            ids = _pseudonyms(self.seed, i, next_id, n)
            next_id += n
            if prog == "ASTMA" and i == P.CHILDREN_ONLY_ASTMA:
                age = rng.integers(6, 17, n)
            elif prog == "ASTMA":
                age = np.where(rng.random(n) < 0.06, rng.integers(8, 17, n), rng.integers(18, 80, n))
            else:
                age = np.clip(rng.normal(68 if prog != "COPD" else 70, 11, n), 19, 98).astype(int)
            birth = self.quarters[-1].year - age
            sex = rng.choice(["M", "V", "O"], n, p=[0.52, 0.4785, 0.0015])
            uzovi = rng.choice([u for u, _ in P.INSURERS], n, p=[s for _, s in P.INSURERS])
            sp_rate = {"DM2": 0.04, "CVRM": 0.06, "COPD": 0.05, "ASTMA": 0.03}[prog]
            if prog == "ASTMA" and i == P.CHILDREN_ONLY_ASTMA:
                sp_rate = 0.3
            hb = np.where(rng.random(n) < sp_rate, "SP", "HA")
            if prog == "COPD" and dm_cvrm_people is not None and len(dm_cvrm_people):
                # about a fifth of COPD patients are also in DM2 or CVRM: same person, same pseudonym
                k = min(len(dm_cvrm_people), int(n * 0.2))
                pick = rng.choice(len(dm_cvrm_people), k, replace=False)
                shared = dm_cvrm_people.iloc[pick]
                ids[:k] = shared.patientnummer.to_numpy()
                birth[:k] = shared.geboortejaar.to_numpy()
                sex[:k] = shared.geslacht.to_numpy()
                uzovi[:k] = shared.uzovi.to_numpy()
            frame = pd.DataFrame({"patientnummer": ids, "program": prog, "start": start, "end": end,
                                  "geboortejaar": birth, "geslacht": sex, "uzovi": uzovi, "hb": hb})
            enrol.append(frame)
            if prog in ("DM2", "CVRM"):
                dm_cvrm_people = frame if dm_cvrm_people is None else pd.concat([dm_cvrm_people, frame])
        if not enrol:
            return {"agb": agb, "size": size}
        enrol = pd.concat(enrol, ignore_index=True)
        events = self._measurements(i, rng, enrol, role, hazard)
        self._write_quarters(i, rng, agb, enrol, events, files)
        return {"agb": agb, "size": size}

    def _lost_mask(self, rng, n: int, hazard: float, t: np.ndarray, who: np.ndarray) -> np.ndarray:
        """Patients lost to follow-up for a spell of 12-30 months: the empty records of VIPLive."""
        span_years = (self.t_end - self.t0) / 365.25 + 2.5
        k = rng.poisson(hazard * span_years, n)
        lost = np.zeros(len(t), dtype=bool)
        for j in range(int(k.max()) if n else 0):
            a = rng.integers(self.t0 - 30 * 30, self.t_end, n)
            b = a + rng.integers(12 * 30, 30 * 30, n)
            has = k > j
            lost |= has[who] & (t >= a[who]) & (t < b[who])
        return lost

    def _measurements(self, i, rng, enrol: pd.DataFrame, role, hazard) -> pd.DataFrame:
        out = []
        for prog, grp in enrol.groupby("program", sort=False):
            idx = grp.index.to_numpy()
            n = len(idx)
            start = grp.start.to_numpy()
            end = grp.end.to_numpy()
            for concept in P.CARE_PLANS[prog]:
                slot = concept.slot_months * 30.44
                k = int(math.ceil((self.t_end - self.t0) / slot)) + 2
                phase = rng.uniform(0, slot, n)
                slot_start = self.t0 - phase[:, None] + np.arange(k)[None, :] * slot
                # planned controls come about one interval apart (a yearly check 11-13 months after the last)
                jitter = min(30.0, slot * 0.15)
                when = (slot_start + slot / 2 + rng.uniform(-jitter, jitter, (n, k))).astype(np.int64)
                noise = float(np.clip(rng.normal(1.0, 0.035), 0.88, 1.05))
                factor = np.full(when.shape, noise)
                if role is not None and role.program == prog and concept.name in role.concepts:
                    factor = factor * self._role_factor(role, when.astype(float))
                rate = np.clip(concept.annual_rate * factor, 0.01, 0.995)
                p = 1 - (1 - rate) ** (concept.slot_months / 12) if concept.slot_months <= 12 else rate
                done = rng.random(when.shape) < p
                ok = done & (when >= start[:, None]) & (when <= end[:, None]) & (when >= self.t0) & (when < self.t_end)
                rows, cols = np.nonzero(ok)
                if not len(rows):
                    continue
                code = rng.choice(concept.codes, len(rows), p=concept.code_weights)
                out.append(pd.DataFrame({"who": idx[rows], "concept": concept.name, "code": code,
                                         "t": when[rows, cols]}))
        if not out:
            return pd.DataFrame(columns=["who", "concept", "code", "t", "waarde"])
        ev = pd.concat(out, ignore_index=True)
        # lost spells are per person: one pseudonym, one follow-up history across programmes
        person = pd.factorize(enrol.patientnummer)[0]
        who_person = person[ev.who.to_numpy()]
        lost = self._lost_mask(rng, int(person.max()) + 1, hazard, ev.t.to_numpy(), who_person)
        ev = ev[~lost].reset_index(drop=True)
        ev["waarde"] = self._values(rng, ev, person)
        # a couple of local codes no reference table knows
        if len(ev) and rng.random() < 0.5:
            extra = ev.sample(2, random_state=int(rng.integers(1 << 31))).copy()
            extra["code"], extra["concept"], extra["waarde"] = 9001, "local", "x"
            ev = pd.concat([ev, extra], ignore_index=True)
        return ev

    def _values(self, rng, ev: pd.DataFrame, person: np.ndarray) -> np.ndarray:
        n_people = int(person.max()) + 1
        base = {  # per-person level, so a patient's values are consistent over time
            "hba1c": rng.normal(51.5, 9, n_people), "sbp": rng.normal(137, 12, n_people),
            "ldl": np.clip(rng.normal(2.45, 0.65, n_people), 0.8, 6), "egfr": np.clip(rng.normal(74, 18, n_people), 12, 125),
            "albuminuria": rng.lognormal(0.4, 0.9, n_people), "weight": rng.normal(86, 15, n_people),
        }
        vals = np.empty(len(ev), dtype=object)
        who = person[ev.who.to_numpy()]
        concept = ev.concept.to_numpy()
        code = ev.code.to_numpy()
        for name, sd, dec in (("hba1c", 4, 0), ("sbp", 9, 0), ("ldl", 0.25, 1), ("egfr", 5, 0),
                              ("albuminuria", 0.4, 1), ("weight", 1.5, 1)):
            sel = concept == name
            if not sel.any():
                continue
            v = base[name][who[sel]] + rng.normal(0, sd, sel.sum())
            if name == "ldl":
                v = np.where(code[sel] == 3826, v + 0.6, v)
            v = np.maximum(v, 0.1)
            s = _fmt_decimal(v, dec) if dec else np.round(v).astype(int).astype(str)
            if name == "egfr":
                s = np.where(v > 90, ">90", s)  # labs report high eGFR as ">90": not a number
            vals[sel] = s
        sel = concept == "copd_burden"
        if sel.any():
            mrc = rng.integers(1, 6, sel.sum()).astype(str)
            ccq = _fmt_decimal(rng.uniform(0, 5, sel.sum()), 1)
            vals[sel] = np.where(code[sel] == 2210, mrc, ccq)
        for name, answers in P.CODED_ANSWERS.items():
            sel = concept == name
            if sel.any():
                vals[sel] = rng.choice(answers, sel.sum())
        numeric = np.isin(concept, ["hba1c", "sbp", "ldl", "albuminuria", "weight"])
        junk = numeric & (rng.random(len(ev)) < 0.004)
        vals[junk] = rng.choice(["volgt", "n.b.", "zie brief", "<0,5"], junk.sum())
        return vals

    def _write_quarters(self, i, rng, agb, enrol: pd.DataFrame, ev: pd.DataFrame, files: _Files) -> None:
        ev_row = ev.who.to_numpy().astype(np.int64)
        ids = enrol.patientnummer.to_numpy()[ev_row]
        person = pd.factorize(enrol.patientnummer)[0]
        ev_person = person[ev_row]
        memos = {c: m for c, (m, _) in P.MEMO.items()}
        units = {c: u for c, (_, u) in P.MEMO.items()}
        for qi, q in enumerate(self.quarters):
            peil = _ord(q.peildatum)
            extracted = peil + EXTRACTION_DAYS
            listed = (enrol.start <= peil) & (enrol.end >= peil - 92)
            pat = enrol[listed]
            active = pat.end >= peil
            iso = files.iso[(str(q), "patienten")]
            einde = np.where(pat.end.to_numpy() < extracted, _fmt_dates(pat.end.to_numpy(), iso), "")
            files.write(q, "patienten", pd.DataFrame({
                "patientnummer": pat.patientnummer, "praktijk_agb": agb, "zorgprogramma": pat.program,
                "uzovi": pat.uzovi, "geboortejaar": pat.geboortejaar, "geslacht": pat.geslacht,
                "startdatum": _fmt_dates(pat.start.to_numpy(), iso), "einddatum": einde,
                "hoofdbehandelaar": pat.hb}))
            self.summary.add(f"{q}/patienten", len(pat))

            # declarations: everyone in GP-led care on the peildatum, with the usual slips
            dec = pat[active & (pat.hb == "HA") & (rng.random(len(pat)) > 0.004)]
            ended = pat[~active]
            if len(ended) and rng.random() < 0.15:
                dec = pd.concat([dec, ended.iloc[:1]])  # declared, though no longer enrolled
            if i == 2 and qi in (2, 5):
                dm2 = pat[active & (pat.program == "DM2") & (pat.hb == "HA")]
                if len(dm2):
                    dup = dm2.iloc[:1].copy()
                    dup["program"] = "CVRM"  # DM2 patient also declared for CVRM: a declaration error
                    dec = pd.concat([dec, dup])
            fee = np.array([self._fee(q, p, u) for p, u in zip(dec.program, dec.uzovi)])
            iso = files.iso[(str(q), "declaraties")]
            files.write(q, "declaraties", pd.DataFrame({
                "patientnummer": dec.patientnummer, "praktijk_agb": agb, "zorgprogramma": dec.program,
                "uzovi": dec.uzovi, "periode_start": _fmt_dates(np.full(len(dec), peil), iso),
                "periode_eind": _fmt_dates(np.full(len(dec), _ord(q.last_day)), iso),
                "bedrag": _fmt_decimal(fee, 2)}))
            self.summary.add(f"{q}/declaraties", len(dec))

            # measurements: the last 36 months of everyone listed, plus a few entered after the peildatum
            person_listed = np.zeros(int(person.max()) + 1, dtype=bool)
            person_listed[person[listed.to_numpy()]] = True
            in_window = (ev.t.to_numpy() >= _ord(add_months(q.peildatum, -HISTORY_MONTHS))) & (ev.t.to_numpy() < peil)
            late = (ev.t.to_numpy() >= peil) & (ev.t.to_numpy() < extracted) & (rng.random(len(ev)) < 0.01)
            sel = (in_window | late) & person_listed[ev_person]
            m = ev[sel]
            memo = m.code.map(memos).fillna("LOKAAL").to_numpy()
            unit = m.code.map(units).fillna("").to_numpy()
            iso = files.iso[(str(q), "meetwaarden")]
            files.write(q, "meetwaarden", pd.DataFrame({
                "patientnummer": ids[sel], "praktijk_agb": agb, "bepalingnummer": m.code,
                "memocode": memo, "datum": _fmt_dates(m.t.to_numpy(), iso), "waarde": m.waarde, "eenheid": unit}))
            self.summary.add(f"{q}/meetwaarden", int(sel.sum()))

    def _fee(self, q: Quarter, program: str, uzovi: str) -> float:
        annual = self.tariffs.get((q.year, program, uzovi)) or self.tariffs[(q.year, program, "")]
        return float(np.floor(annual / 4 * 100 + 0.5) / 100)

    # --- registers -------------------------------------------------------------------------------
    def write_registers(self) -> None:
        reg = self.out / "registers"
        reg.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng([self.seed, 20_000_000])
        first, last_q = self.first, self.quarters[-1]
        names, practices, holders, visits, steps = set(), [], [], [], []
        gp_counter = 0
        for i, agb in enumerate(self.agb):
            place = P.PLACES[i % len(P.PLACES)]
            # 88 base names x 27 places run out above ~2,400 practices: after a few draws, number the name
            for _ in range(20):
                base = f"{rng.choice(P.NAME_PREFIXES)} {rng.choice(P.NAME_STEMS)}"
                name = base if base not in names else f"{base} {place}"
                if name not in names:
                    break
            k = 2
            while name in names:
                name, k = f"{base} {place} {k}", k + 1
            names.add(name)
            hagro = f"Hagro {P.PLACES[(i // 4) % len(P.PLACES)]}"
            practices.append((agb, name, hagro, place))
            n_gp = 1 if i in (P.STOPPING_PRACTICE, P.TAKEOVER_PRACTICE) else int(rng.choice([1, 2, 2, 3]))
            for g in range(n_gp):
                gp_counter += 1
                gp = (f"{rng.choice(P.GP_FIRST)} {rng.choice(P.GP_LAST)}", f"01{gp_counter:06d}")
                van = date(int(rng.integers(1995, 2019)), int(rng.integers(1, 13)), 1)
                tot = ""
                if i == P.STOPPING_PRACTICE:
                    tot = date(last_q.year, 8, 31).isoformat()
                if i == P.TAKEOVER_PRACTICE and g == 0:
                    tot = date(last_q.year, 5, 15).isoformat()
                    gp_counter += 1
                    holders.append((agb, f"01{gp_counter:06d}", f"{rng.choice(P.GP_FIRST)} Verbeek-Özdemir",
                                    date(last_q.year, 5, 16).isoformat(), ""))
                holders.append((agb, gp[1], gp[0], van.isoformat(), tot))
            role = self.roles.get(i)
            for q in quarter_range(Quarter.of(add_months(first, -24)), last_q):
                if role is not None and role.no_visits and q >= Quarter.of(add_months(first, -6)):
                    continue
                if rng.random() < 0.1:
                    continue  # a missed quarterly visit
                d = q.peildatum + timedelta(days=int(rng.integers(10, 80)))
                soort = "jaargesprek" if q.q == 2 else "kwartaalbezoek"
                visits.append((agb, d.isoformat(), soort))
            if role is not None and role.trajectory:
                steps.extend(self._trajectory(agb, role, visits))
        pd.DataFrame(practices, columns=["praktijk_agb", "praktijk_naam", "hagro", "plaats"]).to_csv(
            reg / "praktijken.csv", sep=";", index=False, encoding="cp1252", lineterminator="\r\n")
        pd.DataFrame(holders, columns=["praktijk_agb", "huisarts_agb", "huisarts_naam", "van", "tot"]).to_csv(
            reg / "praktijkhouders.csv", sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n")
        pd.DataFrame(visits, columns=["praktijk_agb", "datum", "soort"]).to_csv(
            reg / "praktijkbezoeken.csv", sep=";", index=False, encoding="utf-8", lineterminator="\r\n")
        pd.DataFrame(steps, columns=["praktijk_agb", "zorgprogramma", "stap", "datum", "bevestigd_op", "afspraken"]
                     ).to_csv(reg / "verbetertrajecten.csv", sep=";", index=False, encoding="utf-8-sig",
                              lineterminator="\r\n")
        self.summary.rows.update({"registers/praktijken": len(practices), "registers/praktijkhouders": len(holders),
                                  "registers/praktijkbezoeken": len(visits),
                                  "registers/verbetertrajecten": len(steps)})

    def _trajectory(self, agb: str, role: P.Role, visits: list) -> list[tuple]:
        """Register rows telling each scripted practice's story, dated relative to the first quarter."""
        f = self.first
        what = {"foot": "voetonderzoek", "fundus": "fundusonderzoek", "albuminuria": "albuminurie",
                "smoking": "rookstatus", "inhalation": "inhalatie-instructie", "ldl": "LDL-controle"}
        goal = ", ".join(what.get(c, c) for c in role.concepts)
        agreed = f"Oproepsysteem voor {goal} inrichten; POH plant extra spreekuren; evaluatie met consulent."
        d = lambda months, days=0: (add_months(f, months) + timedelta(days=days)).isoformat()  # noqa: E731
        rows = {
            "step4": [("1_bindend_verbetergesprek", d(-9, 14), d(-9, 21)), ("2_intensief_traject", d(-8), ""),
                      ("3b_functioneringsgesprek", d(-3, 19), d(-3, 29)),
                      ("4_financiele_verrekening", d(16), "")],
            "step2_overdue": [("1_bindend_verbetergesprek", d(14, 9), d(14, 19)), ("2_intensief_traject", d(15), "")],
            "step1_unconfirmed": [("1_bindend_verbetergesprek", d(18, 4), "")],
            "step3b": [("1_bindend_verbetergesprek", d(5, 2), d(5, 12)), ("2_intensief_traject", d(6), ""),
                       ("3b_functioneringsgesprek", d(17), d(17, 9))],
            "compliment": [("1_bindend_verbetergesprek", d(-12), d(-12, 8)), ("2_intensief_traject", d(-11), ""),
                           ("3a_compliment", d(-5), d(-5, 3))],
        }[role.trajectory]
        out = []
        for stap, datum, bevestigd in rows:
            text = agreed if stap.startswith(("1_", "3b_")) else ""
            out.append((agb, role.program, stap, datum, bevestigd, text))
            if stap.startswith("1_"):
                visits.append((agb, datum, "verbetergesprek"))
            if stap.startswith("3b_"):
                visits.append((agb, datum, "functioneringsgesprek"))
        return out

    def run(self) -> Summary:
        self.out.mkdir(parents=True, exist_ok=True)
        files = _Files(self.out, self.quarters, allow_xlsx=self.n <= 200)
        try:
            for i in range(self.n):
                self._practice(i, files)
        finally:
            files.close()
        self.write_registers()
        return self.summary


DEMO_QUARTERS = 8


def default_demo_quarters(today: date | None = None) -> tuple[str, str]:
    """The demo reaches the present: the last eight quarters up to the latest one whose peildatum (its first
    day) has passed, as a care group running the pipeline today has them (2025Q1-2026Q4 in November 2026:
    after InEen's last benchmark year, so the reports show the frozen-benchmark warning)."""
    last = Quarter.of(today or date.today())
    return str(last - (DEMO_QUARTERS - 1)), str(last)


def generate(out: Path | str, practices: int = 45, first: str = "2023Q1", last: str = "2024Q4", seed: int = 42) -> Summary:
    return Generator(Path(out), practices, first, last, seed).run()
