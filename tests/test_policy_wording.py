"""Policy numbers as Dutch words (policy/wording.py): the only place report texts get them from."""
from __future__ import annotations

import dataclasses

from cohaesie_pipeline.policy.wording import Wording, months, percent, points
from tests.policy_fixtures import POLICY


def test_percentages_keep_the_policys_precision():
    assert percent(0.9) == "90%" and percent(0.85) == "85%" and percent(0.875) == "87,5%" and percent(0.2) == "20%"
    assert points(5) == "5 procentpunt" and points(7.5) == "7,5 procentpunt"


def test_months_in_words():
    assert months(6) == "zes maanden" and months(3) == "drie maanden" and months(1) == "één maand"
    assert months(4) == "vier maanden" and months(18) == "18 maanden"


def test_the_rule_follows_the_config():
    w = Wording.of(dataclasses.replace(POLICY, coverage_norm=0.85, lag_threshold=0.25, intensive_months=4))
    assert w.norm_label == "85%-norm"
    # RULES.md: lagging is strictly "more than" the threshold behind, never "or more"
    assert w.lag_rule == "meer dan 25% onder het landelijk gemiddelde"
    assert w.intensive == "vier maanden" and w.final == "drie maanden"
