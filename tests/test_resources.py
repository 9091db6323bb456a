"""The warehouse connection: DuckDB's memory is bounded by configuration, not by 80% of the machine."""
import yaml

from cohaesie_pipeline.paths import DBT_PROJECT_DIR, DEFAULT_DUCKDB_MEMORY_LIMIT
from cohaesie_pipeline.resources import Warehouse


def test_memory_limit_default_and_override(tmp_path, monkeypatch):
    monkeypatch.delenv("COHAESIE_DUCKDB_MEMORY_LIMIT", raising=False)
    with Warehouse(path=str(tmp_path / "a.duckdb")).connect() as con:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "953.6 MiB"  # 1GB
    monkeypatch.setenv("COHAESIE_DUCKDB_MEMORY_LIMIT", "4GB")
    with Warehouse(path=str(tmp_path / "b.duckdb")).connect() as con:
        assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "3.7 GiB"


def test_dbt_profile_uses_the_same_limit():
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    setting = profile["cohaesie"]["outputs"]["warehouse"]["settings"]["memory_limit"]
    assert "COHAESIE_DUCKDB_MEMORY_LIMIT" in setting and f"'{DEFAULT_DUCKDB_MEMORY_LIMIT}'" in setting


def test_dbt_run_target_folders_are_pruned_to_the_newest_few(tmp_path):
    import os

    from cohaesie_pipeline.assets.transformation import prune_run_targets

    for i in range(8):
        folder = tmp_path / f"dbt_models-{i:07d}-abc"
        folder.mkdir()
        (folder / "manifest.json").write_text("{}")
        os.utime(folder, (1_000_000 + i, 1_000_000 + i))
    (tmp_path / "manifest.json").write_text("{}")  # the project's own manifest stays
    prune_run_targets(tmp_path, keep=3)
    assert sorted(p.name for p in tmp_path.glob("dbt_models-*")) == [f"dbt_models-{i:07d}-abc" for i in (5, 6, 7)]
    assert (tmp_path / "manifest.json").exists()
