"""A lineage with one large group (more than the page folds: 60 assets in "bulk", one of which
fails) beside a small one ("core": a source, a sink and an asset that always fails)."""

import deras as dg

BULK = 60


@dg.asset(group_name="core")
def source() -> int:
    return 1


def _bulk(i: int) -> dg.AssetsDefinition:
    @dg.asset(name=f"bulk_{i:02d}", group_name="bulk")
    def part(source: int) -> int:
        if i == 7:
            raise ValueError("bulk_07 always fails")
        return source + i

    return part


bulk = [_bulk(i) for i in range(BULK)]


@dg.asset(group_name="core", deps=["bulk_00", "bulk_01"])
def sink() -> int:
    return 0


@dg.asset(group_name="core")
def broken(source: int) -> int:
    raise ValueError("broken always fails")


defs = dg.Definitions(assets=[source, *bulk, sink, broken])
