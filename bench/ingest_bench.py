#!/usr/bin/env python3
"""Side-by-side ingest benchmark: nhanluc against calamine alone and peer tools.

Generates the workloads (cached under target/bench/workloads/<name>/), runs
every tool R times on the same files and prints, per tool, the median wall
time, rows/s, the peak memory of its whole process tree and the ratio to
nhanluc, as a Markdown table (also written to target/bench/results-<name>.md).

Run it through bench/run.sh, which builds the release binaries and the venv:

    bench/run.sh [province|big|country|all ...] [--runs N] [--tools a,b,...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pyarrow.parquet as pq

import gen_workload

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")).resolve()
WORK = TARGET / "bench"
BUILT = {"nhanluc": TARGET / "release" / "nhanluc",
         "calamine_floor": TARGET / "release" / "examples" / "calamine_floor"}
BIN = WORK / "bin"  # the binaries measured: copied at start, so a rebuild meanwhile changes nothing
NHANLUC = BIN / "nhanluc"
FLOOR = BIN / "calamine_floor"
MAXRSS = WORK / "maxrss"  # bench/maxrss.rs: reports a tool's ru_maxrss from wait4

SEED = 20251231  # gen_workload.py's default --seed
PREFIX = "dv"    # gen_workload.py's default --prefix
MARKER = ".complete"
SAMPLE_SECONDS = 0.01
MIB = 1024 * 1024


@dataclass(frozen=True)
class Workload:
    name: str
    files: int
    rows: int  # data rows per file

    @property
    def total_rows(self) -> int:
        return self.files * self.rows


WORKLOADS = {
    "province": Workload("province", 200, 200),
    "big": Workload("big", 1, 300_000),
    "country": Workload("country", 20_000, 200),
}


@dataclass(frozen=True)
class Tool:
    key: str
    label: str
    kind: str                   # "nhanluc" | "floor" | "peer"
    args: tuple[str, ...] = ()  # nhanluc command, floor flags, or peers.py tool + flags


TOOLS = {t.key: t for t in (
    Tool("nhanluc", "nhanluc ingest", "nhanluc", ("ingest",)),
    Tool("nhanluc-nightly", "nhanluc run nightly", "nhanluc", ("run", "nightly")),
    Tool("floor", "calamine floor (stream, 2 threads)", "floor", ("--threads", "2")),
    Tool("floor-grid", "calamine grid (worksheet_range, 2 threads)", "floor", ("--threads", "2", "--grid")),
    Tool("polars-1", "polars (fastexcel) --jobs 1", "peer", ("polars", "--jobs", "1")),
    Tool("polars-2", "polars (fastexcel) --jobs 2", "peer", ("polars", "--jobs", "2")),
    Tool("pandas-calamine", "pandas + python-calamine", "peer", ("pandas-calamine",)),
    Tool("pandas-openpyxl", "pandas + openpyxl", "peer", ("pandas-openpyxl",)),
    Tool("duckdb", "duckdb read_xlsx", "peer", ("duckdb",)),
)}
DEFAULT_TOOLS = {
    "province": ["nhanluc", "floor", "floor-grid", "polars-1", "polars-2", "pandas-calamine", "pandas-openpyxl"],
    "big": ["nhanluc", "floor", "floor-grid", "polars-1", "polars-2", "pandas-calamine", "pandas-openpyxl"],
    "country": ["nhanluc-nightly", "nhanluc", "floor", "polars-2"],
}
REFERENCE = ("nhanluc", "nhanluc-nightly")  # the nhanluc row peers are compared with, first present


# --- workloads ---------------------------------------------------------------

def _write_one(job: tuple[str, int, int]) -> None:
    """File n exactly as gen_workload.py's main() writes it."""
    outdir, rows, n = job
    path = os.path.join(outdir, f"{PREFIX}{n + 1:05d}_dao-tao_2025.xlsx")
    gen_workload.write_file(path, random.Random(SEED * 1_000_003 + n), rows, n)


def ensure_workload(wl: Workload, root: Path) -> Path:
    """The folder of wl's workbooks, generated unless its marker matches wl."""
    folder = root / wl.name
    spec = json.dumps({"files": wl.files, "rows": wl.rows, "seed": SEED})
    marker = folder / MARKER
    if marker.is_file() and marker.read_text() == spec:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    log(f"generating {wl.name}: {wl.files} file(s) x {wl.rows} rows into {folder}")
    started = time.perf_counter()
    jobs = [(str(folder), wl.rows, n) for n in range(wl.files)]
    with multiprocessing.Pool(min(2, wl.files)) as pool:
        for _ in pool.imap_unordered(_write_one, jobs, chunksize=8):
            pass
    marker.write_text(spec)
    log(f"generated {wl.name} in {time.perf_counter() - started:.0f} s")
    return folder


def workbooks(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.xlsx"))


def department_code(book: Path) -> str:
    """dv00001_dao-tao_2025.xlsx -> DV00001: one department per file."""
    return book.name.split("_", 1)[0].upper()


def sheet_xml_bytes(book: Path) -> int:
    with zipfile.ZipFile(book) as z:
        return z.getinfo("xl/worksheets/sheet1.xml").file_size


# --- nhanluc configuration and data dir ---------------------------------------

NHANLUC_TOML = """\
# Generated by bench/ingest_bench.py. Paths are relative to this file's folder.
[paths]
inbox = "../data/inbox"
archive = "../data/archive"
quarantine = "../data/quarantine"
warehouse = "../data/warehouse"
outbox = "../data/outbox"
state = "../data/state.sqlite3"
departments = "departments.toml"
jobs = "../jobs"

[digest]
organisation = "Sở Nội vụ"
from = "Sở Nội vụ <bao-cao@snv.example.gov.vn>"

[ingest]
settle_seconds = 0

[[recipient]]
email = "chu-tich@ubnd.example.gov.vn"
scope = "province"
language = "vi"
"""
LEVELS = ("province", "district", "commune")


def departments_toml(codes: list[str]) -> str:
    entries = [
        f'[[department]]\ncode = "{code}"\nname = "Đơn vị {code}"\nlevel = "{LEVELS[i % len(LEVELS)]}"\n'
        f'contacts = ["{code.lower()}@bench.example.gov.vn"]\n'
        for i, code in enumerate(codes)
    ]
    return "# Generated by bench/ingest_bench.py: one department per workload file.\n\n" + "\n".join(entries)


def write_nhanluc_config(home: Path, books: list[Path]) -> Path:
    """home/config/nhanluc.toml (+ departments, jobs/nightly.toml as bundled)."""
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "jobs").mkdir(exist_ok=True)
    shutil.copyfile(REPO / "jobs" / "nightly.toml", home / "jobs" / "nightly.toml")
    (home / "config" / "departments.toml").write_text(
        departments_toml(sorted({department_code(b) for b in books})), encoding="utf-8")
    config = home / "config" / "nhanluc.toml"
    config.write_text(NHANLUC_TOML, encoding="utf-8")
    return config


def link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


# A roster for the nightly job: the workloads hold training records only, and
# the digest is not sent without a staff headcount for its scope.
ROSTER = REPO / "fixtures" / "inbox" / "SNV" / "danh-sach-can-bo_2025.xlsx"
TRASH = WORK / "trash"


def fresh_data_dir(home: Path, books: list[Path], with_roster: bool = False) -> None:
    """An empty data dir and an inbox of hard links: inbox/<DEPT>/<file>.

    The previous run's data is moved aside, not deleted, and everything is
    flushed to disk before the run: deleting tens of thousands of files just
    before a run makes the file system slow to create new ones (ext4 keeps
    recently freed inodes for a while) and leaves dirty data that the run's
    own flushes would pay for.
    """
    data = home / "data"
    if data.exists():
        TRASH.mkdir(parents=True, exist_ok=True)
        data.rename(TRASH / f"{home.name}-{time.monotonic_ns()}")
    for book in books:
        folder = data / "inbox" / department_code(book)
        folder.mkdir(parents=True, exist_ok=True)
        link_or_copy(book, folder / book.name)
    if with_roster and books:
        shutil.copyfile(ROSTER, data / "inbox" / department_code(books[0]) / ROSTER.name)
    os.sync()


def empty_trash() -> None:
    shutil.rmtree(TRASH, ignore_errors=True)


def parquet_rows(folder: Path) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in folder.glob("**/*.parquet"))


def count_files(folder: Path, pattern: str = "**/*") -> int:
    return sum(1 for p in folder.glob(pattern) if p.is_file())


def nhanluc_outcome(home: Path) -> tuple[int, str]:
    """Rows nhanluc stored (training Parquet) and a note on the rest."""
    data = home / "data"
    rows = parquet_rows(data / "warehouse" / "training")
    rejects = parquet_rows(data / "warehouse" / "rejects")
    quarantined = count_files(data / "quarantine", "**/*.reason.txt")
    accepted = count_files(data / "archive")
    left = count_files(data / "inbox")
    note = f"accepted {accepted}, rejects {rejects}, quarantined {quarantined}"
    if left:
        note += f", left in inbox {left}"
    if (outbox := data / "outbox").is_dir():
        note += f", .eml {count_files(outbox, '**/*.eml')}"
    return rows, note


# --- measuring -----------------------------------------------------------------

def tree_pids(root: int) -> list[int]:
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
            except OSError:
                pass
    return pids


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0  # gone, or a zombie


class TreePeak(threading.Thread):
    """Samples the RSS sum of root's descendants (not root) every SAMPLE_SECONDS."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak_kib = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak_kib = max(self.peak_kib, sum(rss_kib(p) for p in tree_pids(self.root)[1:]))
            self.done.wait(SAMPLE_SECONDS)

    def stop(self) -> int:
        self.done.set()
        self.join()
        return self.peak_kib


@dataclass
class Run:
    wall: float
    tree_peak_mib: float
    maxrss_mib: float  # largest single process (ru_maxrss from wait4, via MAXRSS)
    rc: int
    out_line: str  # the last line of stdout
    err_line: str  # the last line of stderr


def measure(cmd: list[str], logs: Path) -> Run:
    """Runs cmd under MAXRSS; only the process's own life is timed."""
    logs.parent.mkdir(parents=True, exist_ok=True)
    out_path, err_path, rss_path = (logs.with_suffix(s) for s in (".out", ".err", ".maxrss"))
    rss_path.unlink(missing_ok=True)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen([str(MAXRSS), str(rss_path), *cmd], stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
        sampler = TreePeak(proc.pid)
        sampler.start()
        rc = proc.wait()
        wall = time.perf_counter() - started
    peak_kib = sampler.stop()
    maxrss_kib = int(rss_path.read_text()) if rss_path.is_file() else 0
    return Run(wall, peak_kib / 1024, maxrss_kib / 1024, rc, last_line(out_path), last_line(err_path))


@dataclass
class Result:
    tool: Tool
    runs: list[Run] = field(default_factory=list)
    rows: list[int | None] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)


class Bench:
    """Runs the tools of one workload, each from a clean start."""

    def __init__(self, wl: Workload, folder: Path, python: str) -> None:
        self.wl = wl
        self.folder = folder
        self.books = workbooks(folder)
        self.python = python
        self.home = WORK / "runs" / wl.name
        self.config = write_nhanluc_config(self.home, self.books)

    def once(self, tool: Tool, n: int, result: Result) -> None:
        logs = WORK / "logs" / self.wl.name / f"{tool.key}-{n}"
        if tool.kind == "nhanluc":
            fresh_data_dir(self.home, self.books, with_roster="nightly" in tool.args)
            run = measure([str(NHANLUC), "--config", str(self.config), *tool.args], logs)
            rows, note = nhanluc_outcome(self.home)
        elif tool.kind == "floor":
            run = measure([str(FLOOR), *tool.args, str(self.folder)], logs)
            rows, note = None, run.out_line.removeprefix("calamine-floor ")
        else:
            out = WORK / "peer-out" / self.wl.name / tool.key
            if out.exists():  # moved aside like nhanluc's data, for the same reasons
                TRASH.mkdir(parents=True, exist_ok=True)
                out.rename(TRASH / f"{tool.key}-{time.monotonic_ns()}")
            os.sync()
            name, *flags = tool.args
            run = measure([self.python, str(BENCH / "peers.py"), name, str(self.folder), str(out), *flags], logs)
            rows, note = peer_rows(run.out_line), ""
        if run.rc != 0:
            note = f"**exit {run.rc}**: {run.err_line[:200]} (log: {logs}.err); {note}"
        result.runs.append(run)
        result.rows.append(rows)
        result.notes.append(note)
        log(f"  {tool.key} #{n + 1}: {run.wall:.2f} s, peak {run.tree_peak_mib:.0f} MiB, rows {rows}; {note}")

    def run(self, tools: list[Tool], runs: int) -> list[Result]:
        results = {t.key: Result(t) for t in tools}
        for n in range(runs):  # round-robin, so drift hits every tool alike
            for tool in tools:
                self.once(tool, n, results[tool.key])
        return list(results.values())


def last_line(path: Path, tail_bytes: int = 4096) -> str:
    with open(path, "rb") as f:
        f.seek(max(0, f.seek(0, os.SEEK_END) - tail_bytes))
        lines = f.read().decode("utf-8", errors="replace").strip().splitlines()
    return lines[-1] if lines else ""


def peer_rows(line: str) -> int | None:
    match = re.search(r" rows=(\d+)$", line)
    return int(match.group(1)) if match else None


# --- report ----------------------------------------------------------------------

def snapshot_binaries() -> None:
    BIN.mkdir(parents=True, exist_ok=True)
    for name, built in BUILT.items():
        if not built.is_file():
            sys.exit(f"{built} is missing: run bench/run.sh (it builds the release binaries)")
        shutil.copy2(built, BIN / f"{name}.tmp")
        os.replace(BIN / f"{name}.tmp", BIN / name)
    if not MAXRSS.is_file():
        sys.exit(f"{MAXRSS} is missing: run bench/run.sh (it builds bench/maxrss.rs)")


def machine_header() -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:"))
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in
                         ("polars", "fastexcel", "pandas", "python-calamine", "openpyxl", "pyarrow"))
    return [
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}",
        f"- machine: {len(os.sched_getaffinity(0))} CPUs (nproc), {cpu}, {mem_kib / MIB:.1f} GiB RAM",
        f"- nhanluc: {git_describe()} (release build)",
        f"- peers: Python {platform.python_version()}; {versions}",
    ]


def git_describe() -> str:
    try:
        return subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"


def reference(results: list[Result], keys: tuple[str, ...]) -> Result | None:
    by_key = {r.tool.key: r for r in results}
    return next((by_key[k] for k in keys if k in by_key), None)


def rows_cell(result: Result, expected: int) -> str:
    counts = set(result.rows)
    if counts == {None}:
        return f"({expected:,} in files)"
    if len(counts) > 1:
        return "**differs between runs: " + ", ".join(f"{c:,}" if c is not None else "?" for c in result.rows) + "**"
    (rows,) = counts
    if rows is None:
        return "?"
    return f"{rows:,}" if rows == expected else f"**{rows:,} (expected {expected:,}: {rows - expected:+,})**"


def ratio_cell(result: Result, ref: Result | None, floor: Result | None) -> str:
    if result.tool.kind == "nhanluc":
        return f"{result.wall / floor.wall:.2f}× floor" if floor else "–"
    return f"{result.wall / ref.wall:.2f}×" if ref else "–"


def table(wl: Workload, results: list[Result]) -> list[str]:
    ref = reference(results, REFERENCE)
    floor = reference(results, ("floor",))
    lines = [
        "| tool | wall s (median) | rows stored | rows/s | peak MiB (tree) | max process MiB "
        f"| time ÷ {ref.tool.label if ref else 'nhanluc'} | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        stored = next((n for n in reversed(r.rows) if n is not None), wl.total_rows)
        notes = "; ".join(dict.fromkeys(n for n in r.notes if n)).replace("|", "\\|")
        lines.append(
            f"| {r.tool.label} | {r.wall:.2f} | {rows_cell(r, wl.total_rows)} | {stored / r.wall:,.0f} "
            f"| {max(x.tree_peak_mib for x in r.runs):,.0f} | {max(x.maxrss_mib for x in r.runs):,.0f} "
            f"| {ratio_cell(r, ref, floor)} | {notes} |")
    return lines


def footer(runs: int) -> list[str]:
    return [
        "",
        f"wall: median of {runs} run(s), process start to exit, setup (inbox, output dirs) excluded. "
        "rows/s: rows stored ÷ wall (the calamine floor stores nothing: rows in the files ÷ wall). "
        f"peak MiB (tree): the largest sum of VmRSS over the tool's whole process tree, sampled every "
        f"{SAMPLE_SECONDS * 1000:.0f} ms, max over runs; max process MiB: the largest single process "
        "(ru_maxrss from wait4, read by the small launcher bench/maxrss.rs; the harness's own mark would "
        "be inherited on exec otherwise). time ÷: median wall over the reference nhanluc row's; nhanluc rows "
        "are compared with the calamine floor (stream). Every nhanluc run starts from an empty data dir "
        "and a fresh inbox; its rows are counted from warehouse/training/**/*.parquet.",
    ]


def sheet_xml_note(wl: Workload, folder: Path, results: list[Result]) -> list[str]:
    if wl.files != 1:
        return []
    size = sheet_xml_bytes(workbooks(folder)[0])
    lines = ["", f"Sheet XML (xl/worksheets/sheet1.xml) uncompressed: {size / MIB:,.1f} MiB."]
    for r in results:
        if r.tool.kind == "nhanluc":
            peak = max(x.tree_peak_mib for x in r.runs)
            lines.append(f"{r.tool.label} peak = {peak * MIB / size:.2f}× the sheet XML.")
    return lines


def report(wl: Workload, folder: Path, results: list[Result], runs: int) -> str:
    title = f"## {wl.name}: {wl.files:,} file(s) × {wl.rows:,} rows = {wl.total_rows:,} rows"
    return "\n".join([title, "", *table(wl, results), *footer(runs),
                      *sheet_xml_note(wl, folder, results)]) + "\n"


# --- command line -------------------------------------------------------------

def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="tools: " + ", ".join(TOOLS) + ". Defaults: "
               + "; ".join(f"{w}: {','.join(t)}" for w, t in DEFAULT_TOOLS.items())
               + ". duckdb needs DUCKDB_EXCEL_EXT (a local excel extension) and duckdb in the venv.")
    ap.add_argument("workloads", nargs="*", metavar="WORKLOAD",
                    help="province, big, country or all (default: province big)")
    ap.add_argument("--runs", type=int, default=3, help="runs per tool (default 3)")
    ap.add_argument("--tools", help="comma-separated tool keys (default: per workload, see below)")
    # Hidden: reuse workload folders generated elsewhere (used as they are), shrink country.
    ap.add_argument("--workloads-dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--country-files", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    names = args.workloads or ["province", "big"]
    if "all" in names:
        names = list(WORKLOADS)
    if unknown := [n for n in names if n not in WORKLOADS]:
        ap.error(f"unknown workload(s): {', '.join(unknown)} (choose from {', '.join(WORKLOADS)}, all)")
    args.workloads = list(dict.fromkeys(names))
    if args.runs < 1:
        ap.error("--runs must be >= 1")
    if args.tools:
        keys = [k.strip() for k in args.tools.split(",") if k.strip()]
        if unknown := [k for k in keys if k not in TOOLS]:
            ap.error(f"unknown tool(s): {', '.join(unknown)} (known: {', '.join(TOOLS)})")
        if "duckdb" in keys and not os.environ.get("DUCKDB_EXCEL_EXT"):
            ap.error("duckdb needs DUCKDB_EXCEL_EXT: its excel extension cannot be downloaded offline")
        args.tools = keys
    return args


def workload_folder(wl: Workload, override: Path | None) -> Path:
    if override is None:
        return ensure_workload(wl, WORK / "workloads")
    folder = override / wl.name
    if not workbooks(folder):
        sys.exit(f"no .xlsx in {folder}")
    return folder


def bench_workload(name: str, args: argparse.Namespace) -> str:
    """Runs one workload's tools; returns its Markdown report."""
    wl = WORKLOADS[name]
    if name == "country" and args.country_files:
        wl = Workload(name, args.country_files, wl.rows)
    folder = workload_folder(wl, args.workloads_dir)
    wl = Workload(wl.name, len(workbooks(folder)), wl.rows)
    tools = [TOOLS[k] for k in (args.tools or DEFAULT_TOOLS[name])]
    log(f"{name}: {wl.files} file(s) in {folder}; tools {', '.join(t.key for t in tools)}; {args.runs} run(s)")
    results = Bench(wl, folder, sys.executable).run(tools, args.runs)
    return report(wl, folder, results, args.runs)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    snapshot_binaries()
    header = "\n".join(["# Ingest benchmark", "", *machine_header()]) + "\n"
    print(header, flush=True)
    for name in args.workloads:
        text = bench_workload(name, args)
        (WORK / f"results-{name}.md").write_text(header + "\n" + text, encoding="utf-8")
        print(text, flush=True)
        empty_trash()
    return 0


if __name__ == "__main__":
    sys.exit(main())
