"""What ``materialize()`` and re-execution return."""

from __future__ import annotations

from typing import Any

from .._core.events import EventRecord, EventType
from .._core.keys import AssetKey
from .._core.records import RunRecord
from .._core.status import NodeStatus, RunStatus
from .._defs.io_manager import InputContext
from .._defs.results import AssetCheckResult, AssetCheckSeverity
from .._graph.node import NodeKind
from .coordinator import RunExecution


class ExecutionResult:
    """The outcome of one run executed in this process.

    >>> # result = dg.materialize([a, b]); result.success; result.asset_value("b")
    """

    def __init__(self, execution: RunExecution) -> None:
        self._execution = execution
        self.run: RunRecord = execution.run
        self.run_id = execution.run.run_id

    @property
    def success(self) -> bool:
        return self.status == RunStatus.SUCCESS

    @property
    def status(self) -> RunStatus:
        return self.run.status

    @property
    def events(self) -> list[EventRecord]:
        """This run's stored events, in order."""
        return [e for e in self._execution.scope.events.written if e.run_id == self.run_id]

    @property
    def node_statuses(self) -> dict[str, NodeStatus]:
        return dict(self._execution.progress.outcomes)

    def asset_value(self, asset_key: AssetKey | str, partition_key: str | None = None) -> Any:
        """The value the run produced for an asset (loaded by its IO manager if not cached)."""
        key = AssetKey.coerce(asset_key)
        plan, scope = self._execution.plan, self._execution.scope
        if partition_key is None and len(plan.partition_keys) == 1:
            partition_key = plan.partition_keys[0]
        cached = scope.values.get((key, partition_key), _MISSING)
        if cached is not _MISSING:
            return cached
        node = plan.graph.node_for_asset(key)
        if node is None:
            raise KeyError(f"asset '{key}' is not part of this run")
        io_key = next(o.io_manager_key for o in node.outputs if o.asset_key == key)
        io_manager = scope.resources.get(io_key)
        return io_manager.load_input(InputContext(asset_key=key, partition_key=partition_key))

    def output_for_node(self, node_name: str, output_name: str = "result") -> Any:
        """An op's output by its name in the job (``"add_one"``, ``"inner_graph.op"``); for
        asset runs, a step's output: ``node_name`` is the asset's key for ``@asset``, the
        function's name for ``@multi_asset`` with ``output_name`` one of its outs (or the asset
        key's parts joined by ``__`` for ``specs=``)."""
        graph = self._execution.plan.graph
        step = next(
            (
                n.definition
                for n in graph.nodes.values()
                if n.kind == NodeKind.OP and n.definition.handle == node_name
            ),
            None,
        )
        if step is None:
            if any(n.kind == NodeKind.OP for n in graph.nodes.values()):
                handles = sorted(n.definition.handle for n in graph.nodes.values() if n.kind == NodeKind.OP)
                raise KeyError(f"no op '{node_name}' in this run (ops: {handles})")
            return self._asset_step_output(node_name, output_name)
        if output_name not in step.op.outs:
            raise KeyError(f"op '{node_name}' has no output '{output_name}' (outputs: {list(step.op.outs)})")
        store = self._execution.scope.instance.xcom_store
        return store.get(step.job_name, self.run_id, step.handle, output_name, -1)

    def _asset_step_output(self, node_name: str, output_name: str) -> Any:
        node = self._execution.plan.graph.nodes.get(node_name)
        if node is None or not node.outputs:
            return self.asset_value(node_name)
        outs = node.outputs
        chosen = next((o for o in outs if o.name == output_name), outs[0] if len(outs) == 1 else None)
        if chosen is None or chosen.asset_key is None:
            names = ", ".join(o.name for o in outs)
            raise KeyError(f"step '{node_name}' has no output '{output_name}' (its outputs: {names})")
        return self.asset_value(chosen.asset_key)

    @property
    def all_events(self) -> list[EventRecord]:
        """The run's events (Dagster's name for ``events``)."""
        return self.events

    def asset_materializations_for_node(self, node_name: str) -> list[EventRecord]:
        """The materialization events a step recorded (its outputs and the ones it logged)."""
        return [
            e for e in self.events if e.event_type == EventType.ASSET_MATERIALIZATION and e.node == node_name
        ]

    def get_asset_materialization_events(self) -> list[EventRecord]:
        return [e for e in self.events if e.event_type == EventType.ASSET_MATERIALIZATION]

    def check_results(self) -> list[AssetCheckResult]:
        out = []
        for e in self.events:
            if e.event_type == EventType.ASSET_CHECK_EVALUATION:
                out.append(
                    AssetCheckResult(
                        passed=e.data["passed"],
                        metadata=e.data.get("metadata") or {},
                        severity=AssetCheckSeverity(e.data.get("severity", "ERROR")),
                        check_name=e.data["check_name"],
                        asset_key=AssetKey.from_user_string(e.data["asset_key"]),
                        run_id=self.run_id,
                    )
                )
        return out

    def failure_events(self) -> list[EventRecord]:
        return [e for e in self.events if e.event_type == EventType.STEP_FAILURE]

    def __repr__(self) -> str:
        return f"<ExecutionResult run_id={self.run_id} status={self.run.status}>"


_MISSING = object()
