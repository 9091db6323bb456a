"""The demo generator: deterministic, in the contract's format, and realistic where the pipeline cares."""
from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pandas as pd

from cohaesie_pipeline.demo.generator import Generator, generate
from cohaesie_pipeline.ingestion.loader import load_delivery, load_registers
from cohaesie_pipeline.ingestion.reader import detect_encoding
from cohaesie_pipeline.quarters import Quarter


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.suffix in (".csv", ".xlsx")}


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    a = generate(tmp_path / "a", practices=4, first="2024Q1", last="2024Q2", seed=7)
    b = generate(tmp_path / "b", practices=4, first="2024Q1", last="2024Q2", seed=7)
    generate(tmp_path / "c", practices=4, first="2024Q1", last="2024Q2", seed=8)
    ha, hb, hc = _hashes(tmp_path / "a"), _hashes(tmp_path / "b"), _hashes(tmp_path / "c")
    assert a.rows == b.rows
    # xlsx files carry a creation timestamp inside; compare the CSVs byte for byte
    assert {k: v for k, v in ha.items() if k.endswith(".csv")} == {k: v for k, v in hb.items() if k.endswith(".csv")}
    assert ha["inbox/2024Q1/meetwaarden.csv"] != hc["inbox/2024Q1/meetwaarden.csv"]


def test_generated_root_passes_the_contract(tmp_path):
    root = tmp_path / "root"
    generate(root, practices=6, first="2023Q1", last="2024Q4", seed=3)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    regs = load_registers(con, root / "registers").by_kind()
    assert regs["praktijken"].rows_loaded == 6
    encodings, suffixes = set(), set()
    for folder in sorted((root / "inbox").iterdir()):
        res = load_delivery(con, Quarter.parse(folder.name), folder)
        for f in res.files:
            assert f.rows_loaded == f.rows_read > 0
            encodings.add(f.encoding)
            suffixes.add(f.path.suffix)
    # the dialect variants the contract allows are all exercised by the demo
    assert {"utf-8", "utf-8-sig", "cp1252", "xlsx"} <= encodings
    assert suffixes == {".csv", ".xlsx"}
    assert detect_encoding(root / "registers" / "praktijken.csv") == "cp1252"
    # decimal commas and Dutch dates, as exported
    text = (root / "inbox" / "2023Q1" / "declaraties.csv").read_text(encoding="utf-8-sig").splitlines()
    assert text[0].split(";") == ["patientnummer", "praktijk_agb", "zorgprogramma", "uzovi", "periode_start",
                                  "periode_eind", "bedrag"]
    assert text[1].split(";")[4] == "01-01-2023" and "," in text[1].split(";")[6]
    # no DM2 patient enrolled in CVRM; minors only in astma; specialists present
    both = con.execute("""select count(*) from raw.patienten a join raw.patienten b using (quarter, patientnummer)
                          where a.zorgprogramma = 'DM2' and b.zorgprogramma = 'CVRM'""").fetchone()[0]
    assert both == 0
    minors = con.execute("""select distinct zorgprogramma from raw.patienten
                            where cast(left(quarter, 4) as int) - geboortejaar < 18""").fetchall()
    assert {m[0] for m in minors} <= {"ASTMA"}
    assert con.execute("select count(*) from raw.patienten where hoofdbehandelaar = 'SP'").fetchone()[0] > 0
    # some non-numeric results among measurements
    assert con.execute("select count(*) from raw.meetwaarden where waarde in ('volgt', 'n.b.', '>90')").fetchone()[0] > 0


def test_registers_at_national_scale_are_valid(tmp_path):
    """--practices 5000: practice names stay unique (the name lists run out near 2,400; the generator
    used to loop forever) and ~10,000 GP codes stay valid 8-digit AGB codes. Only the registers: the
    deliveries are the benchmark's job."""
    Generator(tmp_path, practices=5000, first="2024Q4", last="2024Q4").write_registers()
    regs = load_registers(duckdb.connect(), tmp_path / "registers").by_kind()
    assert regs["praktijken"].rows_loaded == 5000
    assert regs["praktijkhouders"].rows_loaded > 9_000


def test_demo_care_group_is_close_to_the_annual_report(demo_db):
    q = "2024Q4"
    sizes = dict(demo_db.execute(
        "select zorgprogramma, count(*) from raw.patienten where quarter = ? group by 1", [q]).fetchall())
    targets = {"DM2": 7_750, "CVRM": 11_275, "ASTMA": 850, "COPD": 1_075}
    for prog, target in targets.items():
        assert 0.75 * target <= sizes[prog] <= 1.25 * target, (prog, sizes[prog])
    practices = dict(demo_db.execute(
        "select zorgprogramma, count(distinct praktijk_agb) from raw.patienten where quarter = ? group by 1",
        [q]).fetchall())
    assert practices == {"DM2": 45, "CVRM": 38, "ASTMA": 29, "COPD": 27}
    shares = demo_db.execute("""select uzovi, count(*) / sum(count(*)) over () from raw.declaraties
                                where quarter = ? group by 1""", [q]).df().set_index("uzovi").iloc[:, 0]
    assert abs(shares["9664"] - 0.36) < 0.03 and abs(shares["3311"] - 0.26) < 0.03
    # yearly chain-care revenue near the 2019 figure (EUR 4.9 million)
    revenue = demo_db.execute("""select sum(bedrag) from raw.declaraties where quarter like '2024%'""").fetchone()[0]
    assert 4_000_000 <= float(revenue) <= 5_800_000
    # registers: a takeover in 2024 and a GP who stops without successor
    holders = demo_db.execute("select * from raw.praktijkhouders").df()
    ended_2024 = holders[holders.tot.notna() & (pd.to_datetime(holders.tot).dt.year == 2024)]
    assert len(ended_2024) == 2
    steps = demo_db.execute("select stap, bevestigd_op from raw.verbetertrajecten").df()
    assert {"1_bindend_verbetergesprek", "2_intensief_traject", "3b_functioneringsgesprek",
            "4_financiele_verrekening"} <= set(steps.stap)
    assert (steps[steps.stap == "1_bindend_verbetergesprek"].bevestigd_op.isna()).sum() == 1
