"""`verrekeningen.xlsx` for finance: settlements per practice x GP x program (year to date), the quarter
detail to reconcile against, the reserve, and how the numbers were made. Euro format, frozen header, filters."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import xlsxwriter

from cohaesie_pipeline.policy.config import Policy
from cohaesie_pipeline.policy.holders import HolderIndex
from cohaesie_pipeline.policy.wording import Wording
from cohaesie_pipeline.reports.data import QuarterData, exact_sum
from cohaesie_pipeline.reports.fingerprint import render_fingerprint


def insurer_sheets(data: QuarterData, names: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The year's settlement per practice x program x insurer (the mart), each row with the status of that
    practice-program's GP rows: toegepast or potentieel when they agree, gemengd when a holder change split
    them (the Verrekeningen sheet has the rows); and the totals per insurer finance invoices."""
    s = data.settlements[data.settlements.settlement_amount > 0]
    statuses = s.groupby(["practice_agb", "program"]).settlement_status.agg(lambda v: sorted(set(v)))
    status = {k: (v[0] if len(v) == 1 else "gemengd") for k, v in statuses.items()}
    i = data.insurers.copy()
    i["practice_name"] = i.practice_agb.map(names)
    # money of a practice-program without any GP row: every month of it without a practice holder
    i["status"] = [status.get((a, p), "niet toegewezen") if Decimal(str(amount)) else "geen"
                   for a, p, amount in zip(i.practice_agb, i.program, i.settlement_amount)]
    totals = []
    for (uzovi, name), g in i.groupby(["insurer_uzovi", "insurer_name"], sort=True):
        totals.append({"insurer_uzovi": uzovi, "insurer_name": name, "fees_declared": exact_sum(g.fees_declared),
                       "settlement_amount": exact_sum(g.settlement_amount),
                       **{column: exact_sum(g[g.status == status].settlement_amount)
                          for column, status in (("applied", "toegepast"), ("potential", "potentieel"),
                                                 ("mixed", "gemengd"), ("unassigned", "niet toegewezen"))}})
    columns = ["insurer_uzovi", "insurer_name", "fees_declared", "settlement_amount", "applied", "potential", "mixed",
               "unassigned"]
    return i, pd.DataFrame(totals, columns=columns)


def _sheet(wb, name: str, df: pd.DataFrame, headers: dict[str, str], money: set[str], pct: set[str], fmt, widths):
    ws = wb.add_worksheet(name)
    cols = list(headers)
    for j, c in enumerate(cols):
        ws.write(0, j, headers[c], fmt["head"])
        ws.set_column(j, j, widths.get(c, 14), fmt["money"] if c in money else fmt["pct"] if c in pct else None)
    for i, row in enumerate(df[cols].itertuples(index=False), start=1):
        for j, (c, v) in enumerate(zip(cols, row)):
            if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT:
                ws.write_blank(i, j, None)
            elif c in money:
                ws.write_number(i, j, float(Decimal(str(v))), fmt["money"])
            elif isinstance(v, (bool,)):
                ws.write(i, j, "ja" if v else "nee")
            elif isinstance(v, str):
                ws.write_string(i, j, v)  # never a formula: a name like "=HYPERLINK(...)" in a register stays text
            elif hasattr(v, "item"):
                ws.write(i, j, v.item())
            elif isinstance(v, (int, float)):
                ws.write_number(i, j, v)
            else:
                ws.write_string(i, j, str(v))
    n = len(df)
    if n:
        total_row = n + 1
        ws.write(total_row, 0, "Totaal", fmt["total"])
        for j, c in enumerate(cols):
            if c in money:
                col = xlsxwriter.utility.xl_col_to_name(j)
                total = exact_sum(df[c])
                ws.write_formula(total_row, j, f"=SUBTOTAL(109,{col}2:{col}{n + 1})", fmt["money_total"], float(total))
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(n, 1), len(cols) - 1)
    return ws


def holder_months(data: QuarterData, names: dict) -> pd.DataFrame:
    """Who held each practice on the first day of each month of the year through the quarter: the months the
    settlement assigns to each GP (co-holders share a month)."""
    index = HolderIndex(data.holders.assign(
        held_from=pd.to_datetime(data.holders.held_from).dt.date,
        held_until=[None if pd.isna(v) else pd.Timestamp(v).date() for v in data.holders.held_until]))
    rows = []
    for agb in sorted(names):
        for m in range(1, 3 * data.quarter.q + 1):
            day = date(data.quarter.year, m, 1)
            gps = index.on(agb, day)
            for gp, name in gps or [("", "geen praktijkhouder")]:
                rows.append({"month": f"{data.quarter.year}-{m:02d}", "practice_agb": agb, "practice_name": names[agb],
                             "huisarts_agb": gp, "huisarts_naam": name, "share": 1 / len(gps) if gps else 0.0})
    return pd.DataFrame(rows, columns=["month", "practice_agb", "practice_name", "huisarts_agb", "huisarts_naam",
                                       "share"])


def write_workbook(path: Path, data: QuarterData, policy: Policy) -> dict:
    names = data.practices.set_index("practice_agb").practice_name.to_dict()
    s = data.settlements.copy()
    # a cent between the GP rows (each rounded from its own exact value) and the practice total: its own line,
    # with the difference in fees paid and in settlement each in its own column
    if len(data.rounding):
        diffs: dict[tuple, dict[str, Decimal]] = {}
        for r in data.rounding.itertuples():  # Decimals kept exact (a pivot would turn them into floats)
            diffs.setdefault((r.year, r.practice_agb, r.program), {})[r.amount] = Decimal(str(r.rounding_difference))
        zero = Decimal("0.00")
        lines = pd.DataFrame([{
            "year": year, "practice_agb": agb, "huisarts_agb": "", "huisarts_naam": "Afrondingsverschil",
            "program": program, "fees_paid": d.get("fees_paid", zero), "settlement_amount": d.get("settlement_amount", zero),
            "fees_entitled": d.get("fees_paid", zero) - d.get("settlement_amount", zero),
            "fees_not_assessable": zero, "fees_double_declared": zero,
            "settlement_status": "afronding", "status_reason": "afgerond praktijktotaal min som van de huisartsregels"}
            for (year, agb, program), d in sorted(diffs.items())])
        s = pd.concat([s, lines], ignore_index=True)
    s["practice_name"] = s.practice_agb.map(names)
    s["_rounding"] = s.huisarts_agb == ""
    s = s.sort_values(["practice_agb", "program", "_rounding", "huisarts_agb"])
    d = data.settlement_detail.copy()
    d["practice_name"] = d.practice_agb.map(names)
    d = d.sort_values(["quarter", "practice_agb", "program"])
    r = data.reserve.copy()
    r["practice_name"] = r.practice_agb.map(names)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    fmt = {"head": wb.add_format({"bold": True, "bg_color": "#DDE6F0", "border": 1, "text_wrap": True}),
           "money": wb.add_format({"num_format": "€ #,##0.00"}),
           "money_total": wb.add_format({"num_format": "€ #,##0.00", "bold": True, "top": 1}),
           "pct": wb.add_format({"num_format": "0.0%"}), "total": wb.add_format({"bold": True, "top": 1})}
    widths = {"practice_name": 36, "huisarts_naam": 22, "input_fingerprint": 26, "policy_version": 22,
              "status_reason": 48}
    _sheet(wb, "Verrekeningen", s, {
        "year": "Jaar", "practice_agb": "Praktijk AGB", "practice_name": "Praktijk", "huisarts_agb": "Huisarts AGB",
        "huisarts_naam": "Huisarts", "program": "Programma", "months_held": "Maanden praktijkhouder",
        "quarters_included": "Kwartalen", "fees_paid": "Vergoeding betaald", "settlement_amount": "Verrekening",
        "fees_entitled": "Recht op vergoeding", "fees_not_assessable": "Vergoeding niet te beoordelen (apart)",
        "fees_double_declared": "Vergoeding CVRM naast DM2 (apart)", "settlement_status": "Status",
        "applied": "Toegepast (stap 4)", "status_reason": "Reden status",
        "policy_version": "Beleidsversie", "input_fingerprint": "Invoer (vingerafdruk)"},
        {"fees_paid", "settlement_amount", "fees_entitled", "fees_not_assessable", "fees_double_declared"}, set(),
        fmt, widths)
    _sheet(wb, "Kwartaaldetail", d, {
        "quarter": "Kwartaal", "practice_agb": "Praktijk AGB", "practice_name": "Praktijk", "program": "Programma",
        "declared_patients": "Gedeclareerd", "double_declared_patients": "CVRM naast DM2",
        "declared_not_assessable": "Niet te beoordelen", "grace_patients": "Nieuw (niet beoordeeld)",
        "assessed_patients": "Beoordeeld", "patients_with_care": "Met zorg", "patients_without_care": "Zonder zorg",
        "coverage": "Dekking", "meets_norm": "Voldoet aan norm", "fees_declared": "Vergoeding gedeclareerd",
        "fees_double_declared": "Vergoeding CVRM naast DM2", "fees_not_assessable": "Vergoeding niet te beoordelen",
        "fees_without_care": "Vergoeding zonder zorg", "settlement_amount": "Verrekening kwartaal",
        "months_without_holder": "Maanden zonder praktijkhouder", "unassigned_amount": "Niet toegewezen",
        "input_fingerprint": "Aanlevering (vingerafdruk)"},
        {"fees_declared", "fees_double_declared", "fees_not_assessable", "fees_without_care", "settlement_amount",
         "unassigned_amount"}, {"coverage"}, fmt, widths)
    b = data.booking.copy()
    b["to_book"] = [Decimal(str(n)) - Decimal(str(o)) for n, o in zip(b.booked_now, b.booked_before)]
    b = b[b.to_book != 0]
    b["practice_name"] = b.practice_agb.map(names)
    _sheet(wb, "Te boeken", b.sort_values(["year", "practice_agb", "program", "huisarts_agb"]), {
        "year": "Jaar", "practice_agb": "Praktijk AGB", "practice_name": "Praktijk", "huisarts_agb": "Huisarts AGB",
        "huisarts_naam": "Huisarts", "program": "Programma", "booked_before": f"Toegepast t/m {data.quarter - 1}",
        "booked_now": f"Toegepast t/m {data.q}", "to_book": "Te boeken dit kwartaal", "status_reason": "Reden"},
        {"booked_before", "booked_now", "to_book"}, set(), fmt, widths)
    per_insurer, insurer_totals = insurer_sheets(data, names)
    _sheet(wb, "Per verzekeraar", per_insurer, {
        "year": "Jaar", "practice_agb": "Praktijk AGB", "practice_name": "Praktijk", "program": "Programma",
        "insurer_uzovi": "UZOVI", "insurer_name": "Verzekeraar", "quarters_included": "Kwartalen",
        "fees_declared": "Vergoeding gedeclareerd", "settlement_amount": "Verrekening (terug naar verzekeraar)",
        "status": "Status verrekening", "input_fingerprint": "Invoer (vingerafdruk)"},
        {"fees_declared", "settlement_amount"}, set(), fmt, widths)
    _sheet(wb, "Totaal per verzekeraar", insurer_totals, {
        "insurer_uzovi": "UZOVI", "insurer_name": "Verzekeraar", "fees_declared": "Vergoeding gedeclareerd",
        "settlement_amount": "Verrekening", "applied": "Waarvan toegepast", "potential": "Waarvan potentieel",
        "mixed": "Gemengd (zie Verrekeningen)", "unassigned": "Niet toegewezen (geen praktijkhouder)"},
        {"fees_declared", "settlement_amount", "applied", "potential", "mixed", "unassigned"}, set(), fmt, widths)
    _sheet(wb, "Praktijkhouders per maand", holder_months(data, names), {
        "month": "Maand", "practice_agb": "Praktijk AGB", "practice_name": "Praktijk", "huisarts_agb": "Huisarts AGB",
        "huisarts_naam": "Huisarts", "share": "Aandeel"}, set(), {"share"}, fmt, widths)
    _sheet(wb, "Reserve", r, {"year": "Jaar", "practice_agb": "Praktijk AGB", "practice_name": "Praktijk",
                              "program": "Programma", "reserved_amount": "Gereserveerd voor verbetering"},
           {"reserved_amount"}, set(), fmt, widths)
    ws = wb.add_worksheet("Toelichting")
    ws.set_column(0, 0, 110)
    lines = [
        f"Verrekeningen {data.quarter.year} tot en met {data.q}, zoals bekend na {data.q}. Beleidsversie {policy.label}. "
        f"Kenmerk invoer: {render_fingerprint(data, policy)}.",
        f"Regel (contract art. 4.17): bij een dekking onder {Wording.of(policy).norm} heeft de praktijk alleen recht "
        "op de vergoeding van beoordeelde patiënten die zorg kregen (en van nieuwe patiënten); de verrekening is de "
        "vergoeding van beoordeelde patiënten zonder zorg.",
        f"Te boeken: alleen toegepaste verrekeningen worden geboekt. Het blad 'Te boeken' geeft per huisartsregel "
        f"het verschil tussen toegepast zoals bekend na {data.q} en zoals bekend na {data.quarter - 1}: wie elk "
        "kwartaal dat verschil boekt, boekt elke euro één keer (een negatief bedrag is een correctie). In het "
        "eerste kwartaal staat ook de definitieve verrekening van het vorige jaar.",
        "Per verzekeraar: de verrekening gaat terug naar de verzekeraar die de vergoeding betaalde. Per kwartaal onder "
        "de norm is dat de vergoeding van de beoordeelde patiënten zonder zorg, en elke declaratie noemt haar "
        "verzekeraar (UZOVI): het aandeel van een verzekeraar is dus exact, zonder verdeelsleutel. Per praktijk en "
        "programma tellen de verzekeraars op tot de kwartaalverrekeningen (ook maanden zonder praktijkhouder). De "
        "status is die van de huisartsregels van die praktijk en dat programma ('gemengd' als een wisseling van "
        "praktijkhouder ze splitst: zie het blad Verrekeningen).",
        "Een kwartaal wordt gelijk over zijn drie maanden verdeeld; een maand hoort bij de huisarts(en) die op de "
        "eerste dag van die maand praktijkhouder was (gedeeld bij meerdere praktijkhouders).",
        "Niet te beoordelen: gedeclareerde patiënten die niet in het patiëntenbestand staan, op de peildatum niet "
        "ingeschreven zijn of de specialist als hoofdbehandelaar hebben, tellen niet mee in de dekking en niet als "
        "'zonder zorg'. Hun vergoeding staat apart ('Vergoeding niet te beoordelen'), net als een CVRM-declaratie "
        "naast een DM2-declaratie in hetzelfde kwartaal ('Vergoeding CVRM naast DM2'); beide worden niet "
        "verrekend maar ter beoordeling aan financiën getoond.",
        "Afronding: exact gerekend; elke huisartsregel wordt vanuit zijn eigen exacte bedrag half omhoog op centen "
        "afgerond. Wijkt de som van de huisartsregels daardoor een cent af van het afgeronde praktijktotaal, dan "
        "staat dat verschil op een eigen regel 'Afrondingsverschil'.",
        "Status 'toegepast': stap 4 (financiële verrekening) in het verbetertraject bereikt vóór het einde van het "
        "jaar, in een traject dat nog open is (geen later compliment of nieuw bindend verbetergesprek), en alleen "
        "voor een huisarts die praktijkhouder was op de datum van het bindend verbetergesprek (stap 1) van dat "
        "traject; een opvolger was geen partij bij de afspraken. 'Potentieel': berekend, niet geboekt; de reden "
        "staat in de kolom 'Reden status'. Toegepast geld wordt gereserveerd voor verbetering van de zorg.",
        "De vingerafdruk van een regel identificeert alles waaruit hij is berekend: de aangeleverde bestanden "
        "(sha256-inhoudshashes), de registerregels (praktijkhouders, verbetertraject) en de beleidsversie.",
    ]
    for i, line in enumerate(lines):
        ws.write_string(i, 0, line)
    wb.close()
    return {"settlement_total": exact_sum(s.settlement_amount), "rows": len(s)}
