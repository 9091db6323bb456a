"""Telling the data engineer without them watching the UI: an e-mail when a run fails, and a delivery deadline
that turns red (and mails) when a quarter's export has not arrived in time.

Off by default: nothing is sent until `COHAESIE_ALERT_SMTP_HOST` and `COHAESIE_ALERT_TO` are set (settings in
README). Mails carry job names, quarters and step errors; ingestion errors already withhold patient
identifiers (ingestion/errors.py), so no identifier leaves by mail either.
"""
from __future__ import annotations

import json
import os
import smtplib
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    DefaultSensorStatus,
    MetadataValue,
    RunFailureSensorContext,
    SensorEvaluationContext,
    SkipReason,
    asset_check,
    run_failure_sensor,
    sensor,
)
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluation

from cohaesie_pipeline.inputs import delivery_status
from cohaesie_pipeline.partitions import loaded_quarters, quarters_in_inbox
from cohaesie_pipeline.paths import inbox_dir, warehouse_path
from cohaesie_pipeline.quarters import Quarter

DELIVERIES = AssetKey(["raw", "deliveries"])
DEADLINE_CHECK = "delivery_deadline"


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    ui_url: str

    @classmethod
    def from_env(cls) -> MailSettings:
        to = tuple(a.strip() for a in os.environ.get("COHAESIE_ALERT_TO", "").split(",") if a.strip())
        return cls(host=os.environ.get("COHAESIE_ALERT_SMTP_HOST", ""),
                   port=int(os.environ.get("COHAESIE_ALERT_SMTP_PORT", "25")),
                   sender=os.environ.get("COHAESIE_ALERT_FROM", "cohaesie-pipeline@localhost"),
                   recipients=to, ui_url=os.environ.get("COHAESIE_UI_URL", "http://127.0.0.1:3000"))

    @property
    def enabled(self) -> bool:
        return bool(self.host and self.recipients)


def send_mail(settings: MailSettings, subject: str, body: str) -> None:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject, settings.sender, ", ".join(settings.recipients)
    msg.set_content(body)
    with smtplib.SMTP(settings.host, settings.port, timeout=20) as smtp:
        smtp.send_message(msg)


def deadline_days() -> int:
    days = int(os.environ.get("COHAESIE_DELIVERY_DEADLINE_DAYS", "21"))
    if not 0 <= days <= 92:
        raise ValueError(f"COHAESIE_DELIVERY_DEADLINE_DAYS={days}: expected 0-92 days after the peildatum")
    return days


@dataclass(frozen=True)
class Late:
    quarter: str
    due: date
    days_late: int


def late_deliveries(today: date, present: set[str], days: int) -> list[Late]:
    """Quarters whose delivery was due (peildatum + `days`) before `today` and is neither complete in the inbox
    nor loaded: from the first quarter the care group ever delivered up to the latest one due. Before any
    delivery nothing is expected."""
    if not present:
        return []
    q, out = min(Quarter.parse(p) for p in present), []
    while q.peildatum + timedelta(days=days) < today:
        if str(q) not in present:
            due = q.peildatum + timedelta(days=days)
            out.append(Late(str(q), due, (today - due).days))
        q = q + 1
    return out


def _present() -> set[str]:
    """Quarters with a complete delivery in the inbox or loaded in the warehouse."""
    present = {str(q) for q in quarters_in_inbox() if delivery_status(inbox_dir() / str(q))[0]}
    return present | loaded_quarters(warehouse_path())


def _deadline_metadata(late: list[Late], days: int) -> dict:
    return {"deadline": f"{days} days after the peildatum", "late_deliveries": len(late),
            "late_quarters": ", ".join(x.quarter for x in late) or "none",
            "late": MetadataValue.md("\n".join(["| quarter | due | days late |", "|---|---|---|"]
                                               + [f"| {x.quarter} | {x.due:%d-%m-%Y} | {x.days_late} |" for x in late])
                                     if late else "_every delivery due has arrived_")}


@asset_check(asset=DELIVERIES, name=DEADLINE_CHECK, blocking=False,
             description="Every quarter's delivery arrived within COHAESIE_DELIVERY_DEADLINE_DAYS (default 21) days "
                         "after its peildatum. Evaluated hourly by the delivery_deadline_sensor; run it here any time.")
def delivery_deadline() -> AssetCheckResult:
    days = deadline_days()
    late = late_deliveries(date.today(), _present(), days)
    return AssetCheckResult(passed=not late, severity=AssetCheckSeverity.WARN, metadata=_deadline_metadata(late, days))


@sensor(name="delivery_deadline_sensor", minimum_interval_seconds=3600, default_status=DefaultSensorStatus.RUNNING,
        description="Hourly: reports the delivery_deadline check on raw/deliveries and mails (when alerts are "
                    "configured) once for each quarter that becomes late.")
def delivery_deadline_sensor(context: SensorEvaluationContext):
    days = deadline_days()
    late = late_deliveries(date.today(), _present(), days)
    context.instance.report_runless_asset_event(AssetCheckEvaluation(
        asset_key=DELIVERIES, check_name=DEADLINE_CHECK, passed=not late, severity=AssetCheckSeverity.WARN,
        metadata=_deadline_metadata(late, days)))
    alerted = set(json.loads(context.cursor)) if context.cursor else set()
    new = [x for x in late if x.quarter not in alerted]
    settings = MailSettings.from_env()
    if new and settings.enabled:
        send_mail(settings, f"[cohaesie] aanlevering te laat: {', '.join(x.quarter for x in new)}",
                  "De aanlevering van deze kwartalen is niet binnen "
                  f"{days} dagen na de peildatum ontvangen:\n\n"
                  + "\n".join(f"- {x.quarter}: uiterlijk {x.due:%d-%m-%Y}, {x.days_late} dagen te laat" for x in new)
                  + f"\n\nZet de export in {inbox_dir()}/<kwartaal>/. Dagster: {settings.ui_url}\n")
    # a quarter that arrives leaves the cursor, so it would be reported again were it ever missing again
    context.update_cursor(json.dumps(sorted({x.quarter for x in late} & (alerted | {x.quarter for x in new}))))
    if not late:
        return SkipReason("every delivery due has arrived")
    return SkipReason(f"late: {', '.join(f'{x.quarter} ({x.days_late} days)' for x in late)}"
                      + ("" if settings.enabled else " (mail alerts off: set COHAESIE_ALERT_SMTP_HOST and _TO)"))


def failure_mail(job: str, run_id: str, tags: dict, errors: list[str], ui_url: str) -> tuple[str, str]:
    quarter = tags.get("dagster/partition", "")
    subject = f"[cohaesie] run {job}{' ' + quarter if quarter else ''} mislukt"
    body = (f"De run {run_id} van {job}{' voor ' + quarter if quarter else ''} is mislukt.\n\n"
            + ("\n\n".join(errors) if errors else "(geen foutmelding)")
            + f"\n\nDetails: {ui_url}/runs/{run_id}\n")
    return subject, body


@run_failure_sensor(name="run_failure_alert", default_status=DefaultSensorStatus.RUNNING, monitor_all_code_locations=False,
                    description="Mails the data engineer (when alerts are configured) when any run fails, with "
                                "the failing steps' errors.")
def run_failure_alert(context: RunFailureSensorContext):
    settings = MailSettings.from_env()
    if not settings.enabled:
        return SkipReason("mail alerts off: set COHAESIE_ALERT_SMTP_HOST and COHAESIE_ALERT_TO")
    errors = [f"{e.step_key}: {e.event_specific_data.error.message.strip()}"
              for e in context.get_step_failure_events() if e.event_specific_data and e.event_specific_data.error]
    subject, body = failure_mail(context.dagster_run.job_name, context.dagster_run.run_id,
                                 dict(context.dagster_run.tags), errors, settings.ui_url)
    send_mail(settings, subject, body)
    return None
