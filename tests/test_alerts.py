"""Alerts (issue 14 items 4-5): a delivery deadline that turns red, and mails received by a real SMTP server
(aiosmtpd) started by the test."""
from __future__ import annotations

import socket
from datetime import date
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from dagster import DagsterEventType, DagsterInstance, build_run_status_sensor_context, build_sensor_context

from cohaesie_pipeline.alerts import delivery_deadline_sensor, late_deliveries, run_failure_alert
from cohaesie_pipeline.definitions import defs
from cohaesie_pipeline.demo.generator import generate


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(monkeypatch):
    inbox, port = _Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("COHAESIE_ALERT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("COHAESIE_ALERT_SMTP_PORT", str(port))
    monkeypatch.setenv("COHAESIE_ALERT_TO", "data@cohaesie.example, kwaliteit@cohaesie.example")
    monkeypatch.setenv("COHAESIE_ALERT_FROM", "pipeline@cohaesie.example")
    yield inbox
    controller.stop()


def test_late_deliveries_boundaries():
    present = {"2024Q1", "2024Q3"}
    # 2024Q2 was due 2024-04-22; 2024Q4 is due 2024-10-22: not late on that day itself, late the day after
    assert [x.quarter for x in late_deliveries(date(2024, 10, 22), present, 21)] == ["2024Q2"]
    late = late_deliveries(date(2024, 10, 23), present, 21)
    assert [(x.quarter, x.due, x.days_late) for x in late] == [("2024Q2", date(2024, 4, 22), 184),
                                                               ("2024Q4", date(2024, 10, 22), 1)]
    assert late_deliveries(date(2030, 1, 1), set(), 21) == []  # nothing delivered ever: nothing expected


def test_a_failed_run_mails_the_recipients_with_the_error(env_root, smtp):
    generate(env_root, practices=2, first="2024Q3", last="2024Q3", seed=7)
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("quarter", ["2025Q1"])
        result = defs.resolve_job_def("load_delivery").execute_in_process(
            instance=instance, partition_key="2025Q1", raise_on_error=False)
        assert not result.success
        failure = next(e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE)
        context = build_run_status_sensor_context(sensor_name="run_failure_alert", dagster_event=failure,
                                                  dagster_instance=instance,
                                                  dagster_run=instance.get_run_by_id(result.run_id))
        run_failure_alert(context.for_run_failure())
    assert len(smtp.messages) == 1
    rcpt, mail = smtp.messages[0]
    assert rcpt == ["data@cohaesie.example", "kwaliteit@cohaesie.example"]
    assert mail["Subject"] == "[cohaesie] run load_delivery 2025Q1 mislukt"
    body = mail.get_payload(decode=True).decode()
    assert "no delivery folder for 2025Q1" in body and result.run_id in body


def test_alerts_are_off_without_settings(env_root, monkeypatch):
    for k in ("COHAESIE_ALERT_SMTP_HOST", "COHAESIE_ALERT_TO"):
        monkeypatch.delenv(k, raising=False)
    generate(env_root, practices=2, first="2024Q3", last="2024Q3", seed=7)
    with DagsterInstance.ephemeral() as instance:
        out = delivery_deadline_sensor(build_sensor_context(instance=instance))
        assert "mail alerts off" in out.skip_message


def test_a_late_delivery_turns_the_check_red_and_mails_once(env_root, smtp):
    generate(env_root, practices=2, first="2024Q3", last="2024Q3", seed=7)  # nothing after 2024Q3 ever arrived
    with DagsterInstance.ephemeral() as instance:
        ctx = build_sensor_context(instance=instance)
        out = delivery_deadline_sensor(ctx)
        assert "late: 2024Q4" in out.skip_message
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [__import__("dagster").AssetCheckKey(__import__("dagster").AssetKey(["raw", "deliveries"]),
                                                 "delivery_deadline")])
        evaluation = next(iter(check.values())).event.dagster_event.event_specific_data
        assert not evaluation.passed and "2024Q4" in evaluation.metadata["late_quarters"].value
        assert len(smtp.messages) == 1
        mail = smtp.messages[0][1]
        assert mail["Subject"].startswith("[cohaesie] aanlevering te laat: 2024Q4")
        # the next tick: still late, no second mail
        delivery_deadline_sensor(build_sensor_context(instance=instance, cursor=ctx.cursor))
        assert len(smtp.messages) == 1
