"""What the synthetic care group looks like: program sizes, care plans per program, practice roles.

Numbers follow the care group's 2019 annual report (programme sizes, participation, insurer shares) and
the plausible national ranges in `domain/REFERENCE.md`. Everything here is illustrative.
"""
from __future__ import annotations

from dataclasses import dataclass, field

PROGRAMS = ("DM2", "CVRM", "COPD", "ASTMA")

# Patients per programme in the 45-practice care group, and how many practices take part.
PROGRAM_SIZE = {"DM2": 7_750, "CVRM": 11_275, "ASTMA": 850, "COPD": 1_075}
PARTICIPATION = {"DM2": 45, "CVRM": 38, "ASTMA": 29, "COPD": 27}
REFERENCE_PRACTICES = 45


@dataclass(frozen=True)
class Concept:
    """One kind of measurement in a care plan: how often it is planned and how often it happens."""

    name: str
    codes: tuple[int, ...]
    code_weights: tuple[float, ...]
    slot_months: int  # planned every `slot_months` months
    # share of patients with at least one per year (slots up to 12 months) or per slot (longer slots),
    # at a typical practice
    annual_rate: float
    is_key: bool = False


def _c(name, codes, weights, slot, rate, key=False):
    return Concept(name, tuple(codes), tuple(weights), slot, rate, key)


CARE_PLANS: dict[str, list[Concept]] = {
    "DM2": [
        _c("hba1c", [3266, 2816, 3754], [0.9, 0.07, 0.03], 3, 0.985, True),
        _c("sbp", [1744, 2055, 3326], [0.92, 0.05, 0.03], 3, 0.98, True),
        _c("ldl", [542, 2683, 3826], [0.85, 0.1, 0.05], 12, 0.97, True),
        _c("egfr", [3907, 3583, 1919], [0.8, 0.15, 0.05], 12, 0.98, True),
        _c("albuminuria", [40, 38], [0.9, 0.1], 12, 0.9, True),
        _c("foot", [2196, 3609], [0.85, 0.15], 12, 0.93, True),
        _c("fundus", [2129, 1638, 1652], [0.8, 0.15, 0.05], 24, 0.9, True),
        _c("smoking", [1739, 4013], [0.9, 0.1], 12, 0.9),
        _c("activity", [3239, 3958], [0.7, 0.3], 12, 0.55),
        _c("weight", [357], [1.0], 6, 0.8),
    ],
    "CVRM": [
        _c("sbp", [1744, 2055, 3326], [0.92, 0.05, 0.03], 6, 0.97, True),
        _c("ldl", [542, 2683, 3826], [0.85, 0.1, 0.05], 12, 0.92, True),
        _c("egfr", [3907, 3583, 1919], [0.8, 0.15, 0.05], 12, 0.93, True),
        _c("smoking", [1739, 4013], [0.9, 0.1], 12, 0.92, True),
        _c("activity", [3239, 3958], [0.7, 0.3], 12, 0.6),
        _c("weight", [357], [1.0], 12, 0.7),
    ],
    "COPD": [
        _c("copd_burden", [2210, 2402], [0.6, 0.4], 12, 0.88, True),
        _c("smoking", [1739, 4013], [0.9, 0.1], 12, 0.94, True),
        _c("inhalation", [1608], [1.0], 12, 0.86, True),
        _c("activity", [3239, 3958], [0.7, 0.3], 12, 0.55),
    ],
    "ASTMA": [
        _c("inhalation", [1608], [1.0], 12, 0.85, True),
        _c("smoking", [1739, 4013], [0.9, 0.1], 12, 0.92, True),
        _c("activity", [3239, 3958], [0.7, 0.3], 12, 0.45),
    ],
}

MEMO = {
    3266: ("HBAP B", "mmol/mol"), 2816: ("HBAC B", "mmol/mol"), 3754: ("HBAP B PO", "mmol/mol"),
    1744: ("RRSY KA", "mmHg"), 2055: ("RRSY KA2", "mmHg"), 3326: ("RRSY TH", "mmHg"),
    542: ("LDL B", "mmol/l"), 2683: ("LDLD B", "mmol/l"), 3826: ("NHDL B", "mmol/l"),
    3907: ("EGFC B", "ml/min/1.73m2"), 3583: ("KREC O FB", "ml/min"), 1919: ("KREM O FB", "ml/min"),
    40: ("ALBK U MI", "mg/mmol"), 38: ("ALB U", "mg/l"), 2196: ("RIVU SQ", ""), 3609: ("ZPVU SQ", ""),
    2129: ("FUFO FA", ""), 1638: ("DAFU FZ", ""), 1652: ("DMRP FA LI", ""), 1739: ("ROOK AQ", ""),
    4013: ("ROST AQ", ""), 3239: ("NNGB AQ", ""), 3958: ("BWRL AQ", ""), 357: ("GEW AO", "kg"),
    1608: ("ASIT RQ", ""), 2210: ("MRCD RQ", ""), 2402: ("CCQT RQ", ""),
}

CODED_ANSWERS = {
    "foot": ["geen afwijkingen", "sims 0", "sims 1", "sims 2"],
    "fundus": ["geen retinopathie", "geen retinopathie, controle na één jaar", "achtergrondretinopathie"],
    "smoking": ["nee", "nee", "nee", "ja", "voorheen"],
    "activity": ["voldoet", "voldoet niet"],
    "inhalation": ["goed", "goed", "matig", "onvoldoende"],
}

INSURERS = (("9664", 0.36), ("3311", 0.26), ("7095", 0.17), ("3343", 0.10), ("3332", 0.06), ("3313", 0.05))

PLACES = [
    "Venlo", "Blerick", "Tegelen", "Venray", "Horst", "America", "Sevenum", "Grubbenvorst", "Arcen",
    "Belfeld", "Reuver", "Beesel", "Baarlo", "Maasbree", "Helden", "Panningen", "Kessel", "Meerlo",
    "Wanssum", "Swolgen", "Lottum", "Oostrum", "Ysselsteyn", "Velden", "Hegelsom", "Tienray", "Merselo",
]
NAME_STEMS = [
    "De Linde", "'t Zorghuus", "Maasoever", "De Kastanjehof", "Sint-Urbanus", "De Schakel", "Het Kloosterhof",
    "Zuiderpoort", "De Wieken", "Op de Berg", "Veulen", "Kloosterveld", "De Maaskant", "Révész", "Hoogveld",
    "Müller & Jansen", "De Egelantier", "Kerkeböske", "Het Ven", "De Peel", "Bökkerhof", "Ëverlaer",
]
NAME_PREFIXES = ["Huisartsenpraktijk", "Gezondheidscentrum", "Huisartsen", "Medisch Centrum"]
GP_FIRST = ["A.", "B.", "C.", "D.", "E.", "F.", "G.", "H.", "J.", "K.", "L.", "M.", "N.", "P.", "R.", "S.", "T.", "W."]
GP_LAST = [
    "Janssen", "Peeters", "Hendriks", "van den Berg", "Willems", "Verheijen", "Gommans", "Hermans", "Smeets",
    "Coenen", "Thijssen", "Verstappen", "Driessen", "Jacobs", "Linders", "Geurts", "Küppers", "Crijns",
    "Schreurs", "Kessels", "Vermeulen", "Ramaekers", "Ploumen", "Mulders", "Bößelmann", "Zeeuws",
]


@dataclass
class Role:
    """A scripted practice: how it performs over time and what the registers say about it."""

    kind: str  # persistent | improving | worsening | recovered
    program: str
    concepts: tuple[str, ...]
    factor: float = 0.62
    trajectory: str = ""  # step4 | step2_overdue | step1_unconfirmed | step3b | compliment | ""
    no_visits: bool = False
    empty_hazard: float | None = None
    notes: list[str] = field(default_factory=list)


# Scripted roles for the demo care group, by practice index. With more practices, roles are drawn at
# random for about 10% of them (see generator).
DEMO_ROLES: dict[int, Role] = {
    3: Role("persistent", "DM2", ("foot", "fundus"), trajectory="step4", empty_hazard=0.22),
    7: Role("persistent", "CVRM", ("smoking",), trajectory="step2_overdue"),
    11: Role("persistent", "DM2", ("albuminuria",), trajectory="step1_unconfirmed"),
    35: Role("improving", "DM2", ("ldl", "albuminuria")),
    15: Role("persistent", "COPD", ("inhalation",), trajectory="step3b", factor=0.55),
    19: Role("worsening", "DM2", ("foot",)),
    23: Role("persistent", "DM2", ("albuminuria", "foot"), no_visits=True),
    27: Role("improving", "CVRM", ("ldl",)),
    31: Role("recovered", "DM2", ("fundus",), trajectory="compliment"),
}
TAKEOVER_PRACTICE = 5  # GP hands over the practice mid-May 2024
STOPPING_PRACTICE = 9  # GP stops end of August 2024, no successor registered
HIGH_EMPTY = {3: 0.22, 5: 0.2, 9: 0.2, 40: 0.18}
CHILDREN_ONLY_ASTMA = 42  # asthma list with only children and specialist patients: no denominator
