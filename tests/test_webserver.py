"""The real Dagster webserver on loopback: its GraphQL API lists the assets, the schedule and the sensor."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cohaesie_pipeline.paths import REPO_ROOT

QUERY = """
{
  assetNodes { assetKey { path } groupName }
  repositoriesOrError {
    ... on RepositoryConnection { nodes { name schedules { name cronSchedule executionTimezone } sensors { name } } }
  }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_webserver_graphql_lists_assets_schedule_and_sensor(tmp_path):
    port = _free_port()
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home), "COHAESIE_DATA_DIR": str(tmp_path / "data")}
    exe = str(Path(sys.executable).parent / "dagster-webserver")
    proc = subprocess.Popen([exe, "-w", str(REPO_ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
                            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        data = None
        while time.time() < deadline:
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": QUERY}).encode(),
                                             headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=10) as resp:
                    data = json.loads(resp.read())["data"]
                if data["assetNodes"]:
                    break
            except (OSError, KeyError, TypeError):
                pass
            assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
            time.sleep(1)
        assert data and data["assetNodes"], "webserver did not answer with assets in time"
        keys = {"/".join(n["assetKey"]["path"]) for n in data["assetNodes"]}
        assert {"raw/patienten", "marts/practice_indicators", "marts/practice_classification",
                "reports/board_report"} <= keys
        repo = data["repositoriesOrError"]["nodes"][0]
        assert {s["name"] for s in repo["schedules"]} == {"quarterly_schedule"}
        assert repo["schedules"][0]["executionTimezone"] == "Europe/Amsterdam"
        assert {s["name"] for s in repo["sensors"]} == {"inbox_sensor", "dead_run_recovery", "delivery_deadline_sensor",
                                                        "run_failure_alert"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
