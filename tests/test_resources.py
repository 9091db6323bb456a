"""The warehouse connection: DuckDB's memory is bounded by configuration, not by 80% of the machine."""
import yaml

from cohaesie_pipeline.paths import DBT_PROJECT_DIR, DEFAULT_DUCKDB_MEMORY_LIMIT
from cohaesie_pipeline.resources import Warehouse


def test_memory_limit_default_and_override(tmp_path, monkeypatch):
    monkeypatch.delenv("COHAESIE_DUCKDB_MEMORY_LIMIT", raising=False)
    with Warehouse(path=str(tmp_path / "a.duckdb")).connect() as con:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "3.7 GiB"  # 4GB
    monkeypatch.setenv("COHAESIE_DUCKDB_MEMORY_LIMIT", "1GB")
    with Warehouse(path=str(tmp_path / "b.duckdb")).connect() as con:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "953.6 MiB"


def test_dbt_profile_uses_the_same_limit():
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    setting = profile["cohaesie"]["outputs"]["warehouse"]["settings"]["memory_limit"]
    assert "COHAESIE_DUCKDB_MEMORY_LIMIT" in setting and f"'{DEFAULT_DUCKDB_MEMORY_LIMIT}'" in setting
