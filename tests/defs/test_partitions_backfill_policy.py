"""BackfillPolicy: one run for a whole range, or runs of at most N partitions."""

from __future__ import annotations

import dataclasses

import pytest

from deras._core.errors import DefinitionError
from deras._defs.backfill_policy import BackfillPolicy, BackfillPolicyType


def test_single_run_policy_has_no_partition_limit() -> None:
    policy = BackfillPolicy.single_run()
    assert policy.max_partitions_per_run is None
    assert policy.policy_type is BackfillPolicyType.SINGLE_RUN


def test_multi_run_policy_defaults_to_one_partition_per_run() -> None:
    assert BackfillPolicy.multi_run() == BackfillPolicy(max_partitions_per_run=1)
    assert BackfillPolicy.multi_run(max_partitions_per_run=7).policy_type is BackfillPolicyType.MULTI_RUN


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_max_partitions_per_run_must_be_a_positive_int(bad: object) -> None:
    with pytest.raises(DefinitionError, match="max_partitions_per_run"):
        BackfillPolicy.multi_run(max_partitions_per_run=bad)  # type: ignore[arg-type]


def test_policies_are_frozen_values() -> None:
    policy = BackfillPolicy.multi_run(3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.max_partitions_per_run = 4  # type: ignore[misc]
    assert hash(policy) == hash(BackfillPolicy.multi_run(3))


def test_chunk_ranges_splits_index_ranges_into_runs() -> None:
    chunks = list(BackfillPolicy.multi_run(3).chunk_ranges([(0, 4), (10, 12)]))
    assert chunks == [[(0, 3)], [(3, 4), (10, 12)]]
    assert list(BackfillPolicy.single_run().chunk_ranges([(0, 4), (10, 12)])) == [[(0, 4), (10, 12)]]
    assert list(BackfillPolicy.multi_run(1).chunk_ranges([])) == []


def test_chunking_a_million_partitions_yields_one_range_per_run() -> None:
    chunks = list(BackfillPolicy.multi_run(250_000).chunk_ranges([(0, 1_000_000)]))
    assert chunks == [[(i, i + 250_000)] for i in range(0, 1_000_000, 250_000)]
