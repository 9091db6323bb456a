"""Classification (RULES.md): each status with hand-computed inputs. Peildatum 2024-07-01; national 0.90,
so a key indicator lags below 0.72."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from cohaesie_pipeline.policy.classification import classify_quarter, visits_in_12_months
from cohaesie_pipeline.quarters import Quarter
from tests.policy_fixtures import POLICY, frame, indicator_rows, visits

Q = Quarter.parse("2024Q3")
VISITED = visits(("A", date(2024, 3, 1)))


def _status(now: dict, before: dict | None, vis=VISITED, denominator=100) -> pd.Series:
    ind = frame(indicator_rows("2024Q3", "A", now, denominator))
    prev = frame(indicator_rows("2023Q3", "A", before)) if before is not None else frame([])
    return classify_quarter(Q, ind, prev, vis, POLICY).iloc[0]


def test_no_data_when_no_denominator():
    assert _status({"K1": 0.0}, None, denominator=0).status == "no_data"


def test_on_track_when_nothing_lags():
    row = _status({"K1": 0.80, "K2": 0.95}, {"K1": 0.50})
    assert row.status == "on_track" and row.lagging_key_indicators == "" and not row.is_lagging


def test_watch_when_lagging_now_but_not_a_year_earlier_or_no_data_then():
    assert _status({"K1": 0.70}, {"K1": 0.75}).status == "watch"
    assert _status({"K1": 0.70}, None).status == "watch"


def test_lagging_no_visits_when_the_care_group_did_not_visit():
    row = _status({"K1": 0.60}, {"K1": 0.60}, vis=visits(("A", date(2023, 6, 30)), ("B", date(2024, 3, 1))))
    assert row.status == "lagging_no_visits" and row.visits_12m == 0


def test_improving_with_at_least_five_points_on_the_key_indicators_lagging_a_year_earlier():
    # lagging a year earlier: K1 (0.54 -> 0.60, +6pp) and K2 (0.66 -> 0.70, +4pp) -> mean 5.0pp;
    # K3 did not lag then (0.80 -> 0.95) and is left out
    row = _status({"K1": 0.60, "K2": 0.70, "K3": 0.95}, {"K1": 0.54, "K2": 0.66, "K3": 0.80})
    assert row.status == "improving"
    assert row.improvement_pp == 5.0
    assert row.lagging_key_indicators == "K1,K2" and row.n_lagging_key_indicators == 2


def test_improvement_counts_indicators_that_recovered_not_only_those_still_lagging():
    # a year earlier K1-K3 lagged at 0.40 and K4 at 0.50; now K1-K3 recovered to 0.80 (+40pp each, no longer
    # lagging) and K4 still lags at 0.52 (+2pp): (40 + 40 + 40 + 2) / 4 = 30.5pp, improving
    row = _status({"K1": 0.80, "K2": 0.80, "K3": 0.80, "K4": 0.52}, {"K1": 0.40, "K2": 0.40, "K3": 0.40, "K4": 0.50})
    assert row.lagging_key_indicators == "K4"
    assert row.improvement_pp == 30.5 and row.status == "improving"


def test_underperformer_when_still_lagging_with_little_improvement_despite_visits():
    row = _status({"K1": 0.60, "K2": 0.70}, {"K1": 0.55, "K2": 0.66})  # mean 4.5pp
    assert row.status == "underperformer" and row.improvement_pp == 4.5 and row.visits_12m == 1
    assert row.lagging_year_earlier


def test_visit_window_includes_twelve_months_back_excludes_peildatum():
    v = visits(("A", date(2023, 7, 1)), ("A", date(2024, 6, 30)), ("A", date(2024, 7, 1)), ("A", date(2023, 6, 30)))
    assert visits_in_12_months(v, "A", date(2024, 7, 1)) == 2


def test_too_small_indicators_never_make_a_practice_lag():
    assert _status({"K1": 0.10}, {"K1": 0.10}, denominator=9).status == "on_track"


def test_only_the_visit_kinds_the_policy_counts_count():
    """An `overig` contact is not a practice visit for the rule (policy visit_kinds_counted)."""
    lagging = ({"K1": 0.60}, {"K1": 0.60})
    other = pd.DataFrame([{"practice_agb": "A", "visited_on": date(2024, 3, 1), "visit_kind": "overig"}])
    row = _status(*lagging, vis=other)
    assert row.status == "lagging_no_visits" and row.visits_12m == 0
    talk = other.assign(visit_kind="verbetergesprek")
    row = _status(*lagging, vis=talk)
    assert row.status == "underperformer" and row.visits_12m == 1
    assert "overig" not in POLICY.visit_kinds_counted and "kwartaalbezoek" in POLICY.visit_kinds_counted


def test_visit_kinds_in_the_policy_are_validated(tmp_path):
    import pytest

    from cohaesie_pipeline.policy.config import PolicyConfigError, load_policy

    text = Path(POLICY.source).read_text(encoding="utf-8")
    bad = tmp_path / "policy.yaml"
    bad.write_text(text.replace("    - jaargesprek\n", "    - telefoontje\n"), encoding="utf-8")
    with pytest.raises(PolicyConfigError, match="visit_kinds_counted"):
        load_policy(bad)


def test_traffic_light_is_the_status_colour_except_green_below_the_coverage_norm():
    """Issue 13: the colour is a policy rule in the classification mart, not the report's; on track but under
    the coverage norm (money at stake) is orange, and says so."""
    from cohaesie_pipeline.policy.classification import traffic_light

    assert traffic_light("on_track", True) == ("groen", False)
    assert traffic_light("on_track", None) == ("groen", False)  # not judged on coverage
    assert traffic_light("on_track", False) == ("oranje", True)
    assert traffic_light("watch", False) == ("oranje", False)  # orange anyway: not because of coverage
    assert traffic_light("underperformer", False) == ("rood", False)
    assert traffic_light("lagging_no_visits", True) == ("rood", False)
    assert traffic_light("no_data", None) == ("grijs", False)

