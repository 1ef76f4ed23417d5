"""DAG tasks give the same task-instance states and values whichever executor runs them."""

from __future__ import annotations

import os

import pytest

from etl_dag import DAY, load_etl, task_states


@pytest.mark.parametrize("executor", ["multiprocess", {"type": "multiprocess", "max_concurrent": 1}])
def test_dag_tasks_end_as_they_do_in_process(executor: object) -> None:
    in_process = load_etl().test(logical_date=DAY)
    pooled = load_etl().test(logical_date=DAY, executor=executor)
    assert task_states(pooled) == task_states(in_process)
    assert pooled.state == in_process.state == "failed"
    for task_id in ("total", "big", "cleanup", "alert", "bash"):
        assert pooled.xcom(task_id) == in_process.xcom(task_id)
    assert pooled.xcom("total", key="count") == 3
    assert [pooled.xcom("double", map_index=i) for i in range(3)] == [2, 4, 6]
    assert pooled.get_task_instance("small").state == "skipped"
    assert pooled.get_task_instance("after_fail").state == "upstream_failed"
    assert in_process.xcom("where") == os.getpid() != pooled.xcom("where")
