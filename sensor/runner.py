"""Wiring for `shadowscope sensor read|live`: sources -> pipeline -> JSON lines, or usage events to the collector."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from rules.catalog import load_catalog
from rules.hidden_names import load_hidden_names
from sensor.capture.base import FrameBatch, PacketSource, frame_batches
from sensor.flows import FlowTable
from sensor.names import AnswerMap, NameResolver
from sensor.pipeline import Pipeline, PipelineStats

if TYPE_CHECKING:
    from events.models import NetworkUsageEvent

FLUSH_INTERVAL = 5.0  # seconds of capture time between checks for closed windows


@dataclass
class Summary:
    pipeline: PipelineStats
    source_problems: dict[str, int] = field(default_factory=dict)
    events: int = 0
    events_out_of_range: int = 0
    flows_evicted_for_space: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        stats = self.pipeline
        rate = stats.packets / self.seconds if self.seconds > 0 else 0.0
        out = [f"packets: {stats.packets} in {self.seconds:.1f}s ({rate:,.0f}/s)"]
        out.append("observations: " + (", ".join(f"{k} {v}" for k, v in sorted(stats.observations.items())) or "none"))
        out.append("AI tools seen: " + (", ".join(f"{k} ({v})" for k, v in stats.tools.most_common()) or "none"))
        skipped = stats.skipped + type(stats.skipped)(self.source_problems)
        if skipped:
            out.append("skipped: " + ", ".join(f"{reason} {count}" for reason, count in skipped.most_common()))
        if self.events or self.events_out_of_range:
            out.append(
                f"usage events: {self.events}"
                + (
                    f" ({self.events_out_of_range} outside the contract's time range, not sent)"
                    if self.events_out_of_range
                    else ""
                )
            )
        if self.flows_evicted_for_space:
            out.append(f"flows evicted early (table full): {self.flows_evicted_for_space}")
        return out


def chain(sources: Iterable[PacketSource]) -> Iterator[FrameBatch]:
    for source in sources:
        yield from frame_batches(source)


def with_progress(sources: list[PacketSource], batches: Iterator[FrameBatch]) -> Iterator[FrameBatch]:
    """A progress bar on standard error while reading files, when a person is watching (a terminal)."""
    sizes = [Path(path).stat().st_size for path in (getattr(s, "path", "-") for s in sources) if path != "-"]
    if not sys.stderr.isatty() or len(sizes) != len(sources):
        yield from batches
        return
    from rich.progress import BarColumn, Progress, TextColumn, TransferSpeedColumn  # noqa: PLC0415 - only on a tty

    columns = (TextColumn("reading"), BarColumn(), TransferSpeedColumn(), TextColumn("{task.fields[packets]} packets"))
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("read", total=sum(sizes), packets=0)
        count = shown = 0
        for batch in batches:
            # Each record costs its data plus a 16-byte header (pcap; pcapng's is larger, so this runs a bit slow).
            progress.advance(task, sum(len(data) for _ts, data in batch.records) + 16 * len(batch.records))
            count += len(batch.records)
            if count - shown >= 4096:  # sources without batches of their own give one frame at a time
                progress.update(task, packets=count)
                shown = count
            yield batch


def build_resolver() -> NameResolver:
    return NameResolver(load_catalog(), load_hidden_names())


def write_observations(sources: list[PacketSource], out: TextIO = sys.stdout) -> Summary:
    pipeline = Pipeline(build_resolver(), on_flow=lambda _flow: None)
    started = time.perf_counter()
    for observation in pipeline.run_batches(with_progress(sources, chain(sources))):
        out.write(observation.to_json() + "\n")
    return _summary(pipeline, sources, started)


def aggregate_usage(
    sources: list[PacketSource],
    sensor_id: str,
    emit: Callable[[NetworkUsageEvent], None],
    window_seconds: int = 300,
    run_id: str = "",
) -> Summary:
    from sensor.aggregate import UsageAggregator  # noqa: PLC0415 - the event contract (pydantic) only when needed

    resolver, flows, answers = build_resolver(), FlowTable(), AnswerMap()
    started = time.perf_counter()
    aggregator = UsageAggregator(sensor_id, resolver, answers, emit, window_seconds=window_seconds, run_id=run_id)

    def close_windows(now: float) -> float:
        aggregator.flush(now - flows.idle_timeout)
        return now + FLUSH_INTERVAL

    pipeline = Pipeline(resolver, on_flow=aggregator.add, flows=flows, answers=answers, on_time=close_windows)
    for linktype, records in with_progress(sources, chain(sources)):
        pipeline.process_batch(linktype, records)
    pipeline.finish()
    aggregator.flush()
    summary = _summary(pipeline, sources, started)
    summary.events, summary.events_out_of_range = aggregator.emitted, aggregator.dropped_out_of_range
    return summary


def _summary(pipeline: Pipeline, sources: list[PacketSource], started: float) -> Summary:
    problems: dict[str, int] = {}
    for source in sources:
        for reason, count in source.stats.problems.items():
            problems[reason] = problems.get(reason, 0) + count
    return Summary(
        pipeline=pipeline.stats,
        source_problems=problems,
        flows_evicted_for_space=pipeline.flows.evicted_for_space,
        seconds=time.perf_counter() - started,
    )
