"""Dagster's first tutorial in spirit: top story ids, their items, the most frequent words in
their titles, with metadata to look at. The network is replaced by a snapshot file, so the
project runs offline and its results are known."""

import json
from collections import Counter
from pathlib import Path

import dagster as dg

SNAPSHOT = Path(__file__).with_name("data") / "hn_snapshot.json"
OUT = Path(__file__).with_name("out")


@dg.asset(group_name="hackernews")
def top_story_ids() -> list[int]:
    """The ids of the top stories (the API's /topstories), the first 20."""
    return json.loads(SNAPSHOT.read_text())["top_ids"][:20]


@dg.asset(group_name="hackernews")
def top_stories(context: dg.AssetExecutionContext, top_story_ids: list[int]) -> dg.MaterializeResult:
    """Each story's item (the API's /item/ID), written as JSON lines."""
    items = {item["id"]: item for item in json.loads(SNAPSHOT.read_text())["items"]}
    stories = [items[i] for i in top_story_ids]
    OUT.mkdir(exist_ok=True)
    (OUT / "stories.jsonl").write_text("".join(json.dumps(s) + "\n" for s in stories))
    context.log.info("wrote %d stories", len(stories))
    preview = "\n".join(f"| {s['id']} | {s['title']} |" for s in stories[:5])
    return dg.MaterializeResult(
        metadata={
            "num_records": len(stories),
            "preview": dg.MetadataValue.md("| id | title |\n|---|---|\n" + preview),
        }
    )


@dg.asset(deps=[top_stories], group_name="hackernews")
def most_frequent_words() -> dg.MaterializeResult:
    """The 10 words found most often in the titles, short words left out."""
    stop = {"a", "an", "the", "to", "of", "and", "in", "on", "for", "is"}
    counts: Counter[str] = Counter()
    for line in (OUT / "stories.jsonl").read_text().splitlines():
        for word in json.loads(line)["title"].lower().split():
            if word not in stop and len(word) > 2:
                counts[word] += 1
    top = dict(counts.most_common(10))
    (OUT / "words.json").write_text(json.dumps(top))
    return dg.MaterializeResult(metadata={"top_word": next(iter(top)), "distinct_words": len(counts)})


hackernews_job = dg.define_asset_job("hackernews_job", selection=dg.AssetSelection.groups("hackernews"))
hackernews_schedule = dg.ScheduleDefinition(job=hackernews_job, cron_schedule="0 * * * *")
