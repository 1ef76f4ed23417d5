"""Text UTF-8 cannot encode (lone surrogates, as ``os.fsdecode`` makes of a non-UTF-8 file name)
is stored escaped: a run that logs, records or raises such text keeps its whole history."""

from __future__ import annotations

import os
from typing import Any

import deras as dg
from deras._core.events import EventRecord, EventType
from deras._core.records import RunRecord
from deras._core.status import RunStatus
from deras._daemon.run_factory import RunFactory
from deras._daemon.run_worker import execute_stored_run
from deras._storage import MetadataStore

NAME = os.fsdecode(b"caf\xe9.csv")  # what os.listdir returns for that file name
ESCAPED = "caf\\udce9.csv"  # what is stored: the surrogate's Python escape


def test_events_with_surrogates_in_message_and_data_are_stored_escaped(store: MetadataStore) -> None:
    store.create_run(RunRecord("r", "assets:a", tags={"file": NAME}, partition_key=NAME))
    store.store_events(
        [
            EventRecord("r", EventType.RUN_START),
            EventRecord("r", EventType.LOG, "a", 0, f"read {NAME}", "INFO", data={NAME: [NAME]}),
        ]
    )
    run = store.get_run("r")
    assert run is not None and run.tags == {"file": ESCAPED} and run.partition_key == ESCAPED
    log = store.get_events("r", event_types=[EventType.LOG])[0]
    assert log.message == f"read {ESCAPED}"
    assert log.data == {ESCAPED: [ESCAPED]}


def test_looking_up_by_text_with_surrogates_finds_what_was_stored_for_it(store: MetadataStore) -> None:
    store.create_run(RunRecord("r", "assets:a", tags={"file": NAME}, idempotency_key=NAME))
    store.add_dynamic_partitions("files", [NAME])
    assert [r.run_id for r in store.get_runs(tags={"file": NAME})] == ["r"]
    found = store.get_run_by_idempotency_key(NAME)
    assert found is not None and found.run_id == "r"
    assert store.get_dynamic_partition_indices("files") == {ESCAPED: 1}
    store.delete_dynamic_partition("files", NAME)
    assert store.get_dynamic_partitions("files") == []


def test_text_that_is_valid_unicode_is_stored_as_is(store: MetadataStore) -> None:
    store.create_run(RunRecord("r", "assets:a", tags={"file": "café ☕ \\udce9"}))
    store.store_events([EventRecord("r", EventType.LOG, message="naïve 😀", data={"k": "é"})])
    run = store.get_run("r")
    assert run is not None and run.tags == {"file": "café ☕ \\udce9"}
    (log,) = store.get_events("r")
    assert (log.message, log.data) == ("naïve 😀", {"k": "é"})


@dg.asset
def listed(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    context.log.info(f"found {NAME}")
    print(NAME)
    return dg.MaterializeResult(metadata={NAME: NAME})


@dg.asset
def unreadable() -> None:
    raise ValueError(f"cannot read {NAME}")


def test_a_run_that_logs_records_and_raises_surrogate_text_keeps_its_history(instance: Any) -> None:
    ok = dg.materialize([listed], instance=instance)
    failed = dg.materialize([unreadable], instance=instance, raise_on_error=False)
    assert ok.success and not failed.success
    assert {r.run_id: r.status for r in instance.get_runs()} == {
        ok.run_id: RunStatus.SUCCESS,
        failed.run_id: RunStatus.FAILURE,
    }
    assert f"found {ESCAPED}" in instance.get_logs(ok.run_id)
    assert instance.get_latest_materialization("listed").metadata[ESCAPED] == ESCAPED
    (attempt,) = instance.get_attempts(failed.run_id)
    assert f"cannot read {ESCAPED}" in attempt.error


CODE = """
import os
import deras as dg

@dg.asset
def listed(context):
    name = os.fsdecode(b"caf\\xe9.csv")
    context.log.info(name)
    print(name)
    return name

defs = dg.Definitions(assets=[listed])
"""


def test_a_daemon_run_that_logs_surrogate_text_succeeds_and_is_listed(
    make_instance: Any, write_code: Any
) -> None:
    instance = make_instance()
    loaded = write_code(CODE)
    run = RunFactory(loaded.definitions, loaded.location, instance).for_assets(["listed"], key="k")
    instance.store.create_runs([run])
    assert execute_stored_run(instance, run.run_id) == RunStatus.SUCCESS
    assert [(r.run_id, r.status) for r in instance.get_runs()] == [(run.run_id, RunStatus.SUCCESS)]
    assert ESCAPED in instance.get_logs(run.run_id)
