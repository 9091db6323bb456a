"""What the Dagster UI shows a data engineer (issue 14): checks that can fail, with the reason as metadata."""
from __future__ import annotations

from dagster import DagsterEventType, DagsterInstance

from cohaesie_pipeline.definitions import defs
from cohaesie_pipeline.demo.generator import generate


def _check_evaluations(result) -> list:
    return [e.event_specific_data for e in result.all_events
            if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION]


def _load(env_root, edit) -> tuple:
    """Generate a two-practice delivery, break declaraties with `edit(lines, header)`, run load_delivery."""
    generate(env_root, practices=2, first="2024Q3", last="2024Q3", seed=7)
    decl = next((env_root / "inbox" / "2024Q3").glob("declaraties.*"))
    lines = decl.read_text(encoding="utf-8").splitlines()
    edit(lines, lines[0].lstrip("\ufeff").split(";"))
    decl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("quarter", ["2024Q3"])
    result = defs.resolve_job_def("load_delivery").execute_in_process(
        instance=instance, partition_key="2024Q3", raise_on_error=False)
    return decl, instance, result


def test_a_bad_delivery_fails_its_contract_check_with_file_line_column_and_count(env_root):
    def bad_amount(lines, header):
        row = lines[3].split(";")
        row[header.index("bedrag")] = "82,5O"
        lines[3] = ";".join(row)

    decl, instance, result = _load(env_root, bad_amount)
    assert not result.success
    evals = {e.asset_key.path[-1]: e for e in _check_evaluations(result)}
    declaraties = evals["declaraties"]
    assert not declaraties.passed and declaraties.check_name == "passes_data_contract"
    meta = {k: v.value for k, v in declaraties.metadata.items()}
    assert meta["quarter"] == "2024Q3" and meta["rows_with_problems"] == 1
    assert f"| {decl.name} | 4 | bedrag | 82,5O | is not an amount" in meta["problems"]
    assert "declaraties.csv line 4, column bedrag: '82,5O' is not an amount" in meta["message"].replace(decl.name, "declaraties.csv")
    # the files without problems are not blamed
    assert set(evals) == {"declaraties"}
    instance.dispose()


def test_a_patient_identifier_never_reaches_the_event_log(env_root):
    pid = []

    def duplicate(lines, header):
        pid.append(lines[5].split(";")[header.index("patientnummer")])
        lines.append(lines[5])

    _decl, instance, result = _load(env_root, duplicate)
    assert not result.success
    meta = {k: v.value for k, v in _check_evaluations(result)[0].metadata.items()}
    assert "the value appears more than once" in meta["message"]
    assert "(value withheld: patient identifier)" in meta["problems"]
    logs = instance.all_logs(result.run_id)
    assert logs and all(pid[0] not in str(e) for e in logs)
    instance.dispose()


def test_a_partition_without_a_delivery_fails_plainly_and_can_be_removed(env_root, capsys, monkeypatch):
    from cohaesie_pipeline.cli import main
    from cohaesie_pipeline.partitions import PartitionRefused, partition_status, remove_partition

    generate(env_root, practices=2, first="2024Q3", last="2024Q3", seed=7)
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("quarter", ["2024Q3", "2025Q1"])  # 2025Q1 "added" in the UI by mistake
    result = defs.resolve_job_def("load_delivery").execute_in_process(
        instance=instance, partition_key="2025Q1", raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE)
    assert "no delivery folder for 2025Q1" in str(failure.event_specific_data.error.message)
    assert "cohaesie partitions remove 2025Q1" in str(failure.event_specific_data.error.message)
    assert _check_evaluations(result) == []  # the raw tables' contract checks are not turned red by it

    status = {r["quarter"]: r for r in partition_status(instance, loaded={"2024Q3"}, inbox=env_root / "inbox")}
    assert status["2025Q1"] == {"quarter": "2025Q1", "valid": True, "inbox_folder": False, "loaded": False}
    try:
        remove_partition(instance, "2024Q3", loaded=set(), inbox=env_root / "inbox")
        raise AssertionError("a quarter with a delivery folder must not be removed")
    except PartitionRefused as exc:
        assert "has a delivery folder" in str(exc)
    try:
        remove_partition(instance, "2023Q1", loaded=set(), inbox=env_root / "inbox")
        raise AssertionError("unknown partition")
    except PartitionRefused as exc:
        assert "there is no partition" in str(exc)
    remove_partition(instance, "2025Q1", loaded=set(), inbox=env_root / "inbox")
    assert instance.get_dynamic_partitions("quarter") == ["2024Q3"]
    instance.dispose()

    # the CLI on a DAGSTER_HOME instance: list, refuse, remove
    home = env_root.parent / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with DagsterInstance.get() as inst:
        inst.add_dynamic_partitions("quarter", ["2024Q3", "2026Q4"])
    assert main(["partitions", "list"]) == 0
    out = capsys.readouterr().out
    assert "2024Q3: inbox folder, not loaded" in out and "2026Q4: NO inbox folder, not loaded" in out
    assert main(["partitions", "remove", "2024Q3", "2026Q4"]) == 2
    captured = capsys.readouterr()
    assert "removed partition 2026Q4" in captured.out and "2024Q3 has a delivery folder" in captured.err
