#!/usr/bin/env python3
"""bench/run's helper: turns the benchmarks' JSON lines into one report.

Reads <raw>/runs.tsv (one line per benchmark run, written by bench/run) and
the JSON each run printed, then writes into <out>:
  results.json  every run's JSON, the summary rows and the machine;
  results.md    the table: benchmark, sizes, starjets, baseline, ratio, target, result;
  results.png   each ratio against its target (gnuplot), unless --no-chart.
With --readme FILE it also replaces the text between the markers
"<!-- bench/run results: begin -->" and "<!-- bench/run results: end -->" in FILE
with results.md. Exit status: 0 when every expected run printed valid JSON with
its ratios and reported a correct result; 1 otherwise (a ratio never fails it).
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys

# ---------------------------------------------------------------------------
# What the table shows of each benchmark. A row: label, sizes (a function of
# the JSON), starjets and baseline values (function, unit), the ratio (function)
# and what it means, the target (">=" / "<=" value, "~" value for a reference
# without a threshold, None), and whether the chart shows it.


def row(label, sizes, sj, base, base_name, ratio, meaning, target, chart=True):
    return dict(label=label, sizes=sizes, sj=sj, base=base, base_name=base_name, ratio=ratio,
                meaning=meaning, target=target, chart=chart)


def bw_entry(j, nbytes):
    for e in j["bandwidth_GBps"]:
        if e["bytes"] == nbytes:
            return e
    raise KeyError("bandwidth_GBps has no entry of %d bytes" % nbytes)


def pow2(n):
    n = int(n)
    if n >= 1024 and n & (n - 1) == 0:
        return "2^%d" % (n.bit_length() - 1)
    return str(n)


def mib(nbytes):
    return "%g KiB" % (nbytes / 1024) if nbytes < 1 << 20 else "%g MiB" % (nbytes / (1 << 20))


SPECS = {
    "blas_core": [
        row("OpenBLAS kernel (dgemm)", lambda j: "n = %d, %d threads; fastest correct: %s"
            % (j["n"], j["threads"], j["fastest"]),
            (lambda j: j["fastest_GFlops"], "GFlop/s"), (lambda j: j["default_GFlops"], "GFlop/s"),
            "OpenBLAS's own pick, %(default_core)s", lambda j: j["ratio"],
            "fastest / OpenBLAS's pick", None, chart=False),
    ],
    "axpy_dot": [
        row("axpy + dot", lambda j: "n = %s doubles, %d blocks, %d iterations, rounds: %d"
            % (pow2(j["n"]), j["blocks"], j["iterations"], j["rounds"]),
            (lambda j: j["starjets_s"], "s"), (lambda j: j["openmp_s"], "s"),
            "OpenMP, %(openmp_threads)d threads", lambda j: j["ratio"],
            "OpenMP / starjets", (">=", 0.85)),
    ],
    "task_overhead": [
        row("task overhead", lambda j: "%d tasks of %d doubles, %d repetitions"
            % (j["tasks"], j["elems_per_block"], j["reps"]),
            (lambda j: j["starjets_us_per_task"] * 1e-6, "s/task"),
            (lambda j: j["starpu_us_per_task"] * 1e-6, "s/task"), "raw StarPU",
            lambda j: j["ratio"], "starjets / StarPU", ("<=", 1.2)),
    ],
    "blockop_diag": [
        row("block-diagonal apply", lambda j: "%d blocks of %d^2 (%d MiB), %d applies, rounds: %d"
            % (j["blocks"], j["block_rows"], j["matrix_MiB"], j["iterations"], j["rounds"]),
            (lambda j: j["starjets_fwd_s"], "s"), (lambda j: j["baseline_fwd_s"], "s"),
            "dgemv, %(baseline_fwd)s", lambda j: j["ratio_fwd"], "dgemv / starjets",
            (">=", 0.85)),
        row("block-diagonal adjoint", lambda j: "the same",
            (lambda j: j["starjets_adj_s"], "s"), (lambda j: j["baseline_adj_s"], "s"),
            "dgemv, %(baseline_adj)s", lambda j: j["ratio_adj"], "dgemv / starjets",
            (">=", 0.85)),
    ],
    "blockop_gemm": [
        row("tiled GEMM", lambda j: "n = %d, %dx%d tiles, grid %s, %d products, rounds: %d"
            % (j["n"], j["tiles_per_dim"], j["tiles_per_dim"], j["grid"], j["iterations"],
               j["rounds"]),
            (lambda j: j["starjets_s"], "s"), (lambda j: j["dgemm_s"], "s"),
            "dgemm, %(threads)d threads", lambda j: j["ratio"], "dgemm / starjets",
            (">=", 0.90)),
    ],
    "blockop_tall": [
        row("tall-and-skinny apply", lambda j: "%d blocks of %d x %d (%d MiB), %d applies, rounds: %d"
            % (j["blocks"], j["block_rows"], j["columns"], j["matrix_MiB"], j["iterations"],
               j["rounds"]),
            (lambda j: j["starjets_fwd_s"], "s"), (lambda j: j["baseline_fwd_s"], "s"),
            "dgemv, %(baseline_fwd)s", lambda j: j["ratio_fwd"], "dgemv / starjets",
            (">=", 0.85)),
        row("tall-and-skinny adjoint", lambda j: "the same",
            (lambda j: j["starjets_adj_s"], "s"), (lambda j: j["baseline_adj_s"], "s"),
            "dgemv, %(baseline_adj)s", lambda j: j["ratio_adj"], "dgemv / starjets",
            (">=", 0.85)),
        row("tall-and-skinny bytes, apply", lambda j: "bytes moved per apply",
            (lambda j: j["bytes_fwd"], "B"), (lambda j: j["bytes_min_fwd"], "B"), "minimum",
            lambda j: j["bytes_fwd_over_min"], "bytes / minimum", ("<=", 1.0)),
        row("tall-and-skinny bytes, adjoint", lambda j: "bytes moved per adjoint",
            (lambda j: j["bytes_adj"], "B"), (lambda j: j["bytes_min_adj"], "B"), "minimum",
            lambda j: j["bytes_adj_over_min"], "bytes / minimum", ("<=", 1.0)),
    ],
    "sendrecv": [
        row("send/recv latency", lambda j: "8 B ping-pong, %d repetitions, rounds: %d"
            % (j["reps"], j["rounds"]),
            (lambda j: j["latency_us"]["starjets"] * 1e-6, "s"),
            (lambda j: j["latency_us"]["mpi_starpu"] * 1e-6, "s"), "raw MPI, same run",
            lambda j: j["latency_ratio"], "MPI / starjets", ("~", 1.0)),
        row("send/recv bandwidth 8 KiB", lambda j: "8 KiB messages",
            (lambda j: bw_entry(j, 8192)["starjets"], "GB/s"),
            (lambda j: bw_entry(j, 8192)["mpi_starpu"], "GB/s"), "raw MPI, same run",
            lambda j: bw_entry(j, 8192)["ratio"], "MPI time / starjets time", ("~", 1.0)),
        row("send/recv bandwidth 4 MiB", lambda j: "4 MiB messages",
            (lambda j: bw_entry(j, 4 << 20)["starjets"], "GB/s"),
            (lambda j: bw_entry(j, 4 << 20)["mpi_starpu"], "GB/s"), "raw MPI, same run",
            lambda j: bw_entry(j, 4 << 20)["ratio"], "MPI time / starjets time", ("~", 1.0)),
    ],
    "heat": [
        row("heat stencil", lambda j: "%d^2 doubles, %d steps, rounds: %d, blocks %s"
            % (j["n"], j["steps"], j["rounds"], j["blocks"]),
            (lambda j: j["starjets_s"], "s"), (lambda j: j["openmp_s"], "s"),
            "OpenMP, %(openmp_threads)d threads", lambda j: j["ratio"], "OpenMP / starjets",
            (">=", 0.85)),
    ],
    "pmap_svd": [
        row("pmap of SVDs", lambda j: "%d matrices of %d^2, %d maps, rounds: %d"
            % (j["matrices"], j["order"], j["reps"], j["rounds"]),
            (lambda j: j["pmap_s"], "s"), (lambda j: j["serial_s"], "s"), "serial loop",
            lambda j: j["speedup"], "serial / pmap", (">=", 1.8)),
        row("pmap of SVDs, efficiency", lambda j: "workers at %s ms per SVD: a perfect farm"
            " takes %s ms (serial / ideal = %.2f)"
            % ("/".join("%.2f" % (t * 1e3) for t in j["worker_item_s"]), "%.2f" % (j["ideal_s"] * 1e3),
               j["ceiling_speedup"]),
            (lambda j: j["pmap_s"], "s"), (lambda j: j["ideal_s"], "s"),
            "perfect farm on these cores", lambda j: j["efficiency"], "ideal / pmap",
            (">=", 0.9)),
    ],
    "pmap_rate": [
        row("pmap rate", lambda j: "%d trivial items, %d farms" % (j["items"], j["reps"]),
            (lambda j: j["pmap_items_per_s"], "items/s"),
            (lambda j: j["raw_starpu_root_items_per_s"], "items/s"),
            "one raw StarPU task per item", lambda j: j["ratio_vs_raw_starpu"],
            "pmap rate / StarPU rate", None, chart=False),
        row("pmap rate vs ipyparallel", lambda j: "the same",
            (lambda j: j["pmap_items_per_s"], "items/s"),
            (lambda j: j["ipyparallel_items_per_s"], "items/s"),
            "ipyparallel (measured earlier on these machines, not here)", lambda j: j["ratio_vs_ipyparallel"],
            "pmap rate / 300", (">=", 1.0), chart=False),
    ],
    "latency": [
        row("task hop latency", lambda j: "1 double, x on rank 0, y on rank 1, %d hops, rounds: %d"
            % (2 * j["hop_loops"], j["rounds"]),
            (lambda j: j["hop"]["us"] * 1e-6, "s"), (lambda j: j["mpi_starpu"]["us"] * 1e-6, "s"),
            "raw MPI one-way, StarPU running", lambda j: j["hop"]["ratio"],
            lambda j: "target %g µs / hop time" % j["hop"]["target_us"], (">=", 1.0)),
        row("blocking dot latency", lambda j: "n = %d doubles, 1 block per rank, %d calls, "
            "rounds: %d" % (j["dot_length"], j["dot_calls"], j["rounds"]),
            (lambda j: j["dot"]["us"] * 1e-6, "s"), (lambda j: j["mpi_starpu"]["us"] * 1e-6, "s"),
            "raw MPI one-way, StarPU running", lambda j: j["dot"]["ratio"],
            lambda j: "target %g µs / dot time" % j["dot"]["target_us"], (">=", 1.0)),
        row("graph-scalar reduction + axpy step", lambda j: "the same arrays, %d chained steps "
            "(reduce_scalar dot, axpy_scalar), rounds: %d" % (j["chained_steps"], j["rounds"]),
            (lambda j: j["chained"]["us"] * 1e-6, "s"),
            (lambda j: j["mpi_starpu"]["us"] * 1e-6, "s"), "raw MPI one-way, StarPU running",
            lambda j: j["chained"]["ratio"],
            lambda j: "target %g µs / step time" % j["chained"]["target_us"], (">=", 1.0)),
    ],
    "coreshare": [
        row("poll delay on a shared core", lambda j: "a thread polling with sched_yield on the "
            "core of a computing thread (chunks of %g µs), %d events" % (j["chunk_us"], j["events"]),
            (lambda j: j["yield_delay_us"] * 1e-6, "s"),
            (lambda j: j["signal_delay_us"] * 1e-6, "s"), "a woken thread, same core",
            lambda j: j["signal_delay_us"] / j["yield_delay_us"], "woken / polling", None,
            chart=False),
        row("the same, the computing thread yields", lambda j: "sched_yield after each chunk",
            (lambda j: j["yield_worker_delay_us"] * 1e-6, "s"),
            (lambda j: j["signal_delay_us"] * 1e-6, "s"), "a woken thread, same core",
            lambda j: j["signal_delay_us"] / j["yield_worker_delay_us"], "woken / polling",
            None, chart=False),
    ],
    # One run per rank count; the rows are made by PAIRED below.
    "strong": [],
    "inversion": [],
    "checkpoint": [
        row("checkpoint save (sj_array_save)", lambda j: "%s float64 in %d blocks, %d repetitions"
            % (mib(j["bytes"]), j["blocks"], j["reps"]),
            (lambda j: j["save_GBps"], "GB/s"), (lambda j: j["raw_write_GBps"], "GB/s"),
            "pwrite + fsync, same bytes and ranks", lambda j: j["save_ratio"],
            "raw write time / save time", ("~", 1.0)),
        row("checkpoint load (sj_array_load)", lambda j: "the same file, into a block-cyclic layout",
            (lambda j: j["load_GBps"], "GB/s"), (lambda j: j["raw_read_GBps"], "GB/s"),
            "pread, same bytes and ranks", lambda j: j["load_ratio"],
            "raw read time / load time", ("~", 1.0)),
    ],
    "solve": [
        row("CG iteration (sj_solve_cg)", lambda j: "diagonal operator, n = %d in %d blocks, %d "
            "iterations, lag %d" % (j["n"], j["blocks"], j["iters"], j["lag"]),
            (lambda j: j["starjets_us_per_iter"] * 1e-6, "s"),
            (lambda j: j["mpi_us_per_iter"] * 1e-6, "s"), "hand-written MPI + C CG, same run",
            lambda j: j["ratio_mpi_over_starjets"], "MPI CG / starjets", None, chart=False),
    ],
    "check_cost": [
        row("collective-call check, cheapest call", lambda j: "sj_array_scale, %d calls, rounds: %d"
            % (j["calls"], j["rounds"]),
            (lambda j: j["scale_us_on"] * 1e-6, "s"), (lambda j: j["scale_us_off"] * 1e-6, "s"),
            "the same calls, checking off", lambda j: j["scale_us_off"] / j["scale_us_on"],
            "unchecked / checked", None, chart=False),
        row("collective-call check, blocking dot", lambda j: "sj_array_dot of %d doubles" % j["n"],
            (lambda j: j["dot_us_on"] * 1e-6, "s"), (lambda j: j["dot_us_off"] * 1e-6, "s"),
            "the same calls, checking off", lambda j: j["dot_us_off"] / j["dot_us_on"],
            "unchecked / checked", None, chart=False),
    ],
    "host_cores": [
        row("host OpenMP loop, starjets idle", lambda j: "triad of %d doubles per rank, %d OpenMP "
            "thread(s) per rank, %d loops" % (j["n"], j["omp_threads"], j["loops"]),
            (lambda j: j["ms"]["idle"] * 1e-3, "s"), (lambda j: j["ms"]["before_init"] * 1e-3, "s"),
            "the same loop before sj_init", lambda j: j["ratio"]["idle"],
            "before sj_init / idle (slowest rank)", (">=", 0.95)),
        row("host OpenMP loop, starjets paused", lambda j: "the same, between sj_pause and "
            "sj_resume", (lambda j: j["ms"]["paused"] * 1e-3, "s"),
            (lambda j: j["ms"]["before_init"] * 1e-3, "s"), "the same loop before sj_init",
            lambda j: j["ratio"]["paused"], "before sj_init / paused (slowest rank)",
            (">=", 0.95)),
    ],
    "memory": [
        row("memory after many applies", lambda j: "%d x %d grid of %d^2 dense blocks, RSS after %d"
            " and after %d steps (apply + adjoint)"
            % (j["blocks_per_dim"], j["blocks_per_dim"], j["block_rows"], j["early"],
               j["applies"]),
            (lambda j: max(j["rss_late_MiB"]), "MiB"),
            (lambda j: max(j["rss_early_MiB"]), "MiB"), "RSS after the first steps",
            lambda j: j["ratio"], "late RSS / early RSS (worst rank)", ("<=", 1.05)),
    ],
}


# Benchmarks run at two rank counts whose rows divide the time of the smaller rank count
# by that of the larger (strong scaling). A pair row: label, sizes, the time (a function
# of one run's JSON), the target of the speedup.
def pair_row(label, sizes, time, target):
    return dict(label=label, sizes=sizes, time=time, target=target)


PAIRED = {
    "inversion": [
        pair_row("inversion, %s, %s" % (size, solver),
                 (lambda size, key: lambda j: "%d shots of %d x %d (W_i o exp), %d iterations, "
                  "rounds: %d" % (j["shots"], j[size]["cells"] + 1, j[size]["cells"],
                                  j[size][key]["iterations"], j[size][key]["rounds"]))(size, key),
                 (lambda size, key: lambda j: j[size][key]["ms_per_iter"] * 1e-3)(size, key),
                 (">=", 1.0))
        for size in ("tiny", "large")
        for solver, key in (("Gauss-Newton", "gauss_newton"), ("L-BFGS", "lbfgs"))
    ],
    "strong": [
        pair_row("strong scaling, block operator",
                 lambda j: "%dx%d blocks of %d^2 (sj_op_dense), apply + adjoint, %d steps, "
                 "rounds: %d"
                 % (j["blockop"]["blocks_per_dim"], j["blockop"]["blocks_per_dim"],
                    j["blockop"]["block_rows"], j["blockop"]["steps"], j["rounds"]),
                 lambda j: j["blockop"]["us_per_step"] * 1e-6, (">=", 1.0)),
        pair_row("strong scaling, heat stencil",
                 lambda j: "%d^2 doubles, blocks %s, %d steps, rounds: %d"
                 % (j["heat"]["n"], j["heat"]["blocks"], j["heat"]["steps"], j["rounds"]),
                 lambda j: j["heat"]["us_per_step"] * 1e-6, (">=", 1.0)),
    ],
}


def summarise_pairs(name, rs, problems):
    """The PAIRED rows of one benchmark from all its runs (every rank count)."""
    by_ranks = {}
    for r in rs:
        by_ranks.setdefault(r["ranks"], []).append(r)
    counts = sorted(by_ranks)
    rows = []
    if len(counts) < 2:
        problems.append("%s: ran on %s rank(s) only; its speedup needs two rank counts"
                        % (name, ", ".join(map(str, counts)) or "no"))
    lo, hi = (counts[0], counts[-1]) if counts else (1, 2)
    lo_runs = {r["run"]: r for r in by_ranks.get(lo, []) if r["json"] is not None}
    hi_runs = {r["run"]: r for r in by_ranks.get(hi, []) if r["json"] is not None}
    everyone = by_ranks.get(lo, []) + (by_ranks.get(hi, []) if hi != lo else [])
    all_good = bool(everyone) and all(r["json"] is not None for r in everyone)
    all_correct = all_good and all(r["json"].get("correct") is True for r in everyone)
    some_wrong = any(r["json"] is not None and r["json"].get("correct") is not True
                     for r in everyone)
    for s in PAIRED[name]:
        t_lo = [number(s["time"], r["json"]) for r in lo_runs.values()]
        t_hi = [number(s["time"], r["json"]) for r in hi_runs.values()]
        if any(v is None for v in t_lo + t_hi):
            problems.append("%s: no numeric time for '%s' in its JSON" % (name, s["label"]))
        t_lo = [v for v in t_lo if v is not None and v > 0]
        t_hi = [v for v in t_hi if v is not None and v > 0]
        # Run k on lo ranks against run k on hi ranks.
        ratios = []
        for k in sorted(set(lo_runs) & set(hi_runs)):
            a, b = number(s["time"], lo_runs[k]["json"]), number(s["time"], hi_runs[k]["json"])
            if a and b and a > 0 and b > 0 and lo != hi:
                ratios.append(a / b)
        med = statistics.median(ratios) if ratios else None
        first_lo = next(iter(lo_runs.values()))["json"] if lo_runs else {}
        first = next(iter(hi_runs.values()))["json"] if hi_runs else first_lo
        try:
            sizes = s["sizes"](first) if first else "-"
        except (KeyError, TypeError, ValueError):
            sizes = "-"
        workers = first_lo.get("workers_per_rank")
        base_name = "%d rank%s%s" % (lo, "" if lo == 1 else "s",
                                      ", %s workers" % workers if workers is not None else "")
        result = judge(med, s["target"]) if ratios else "failed"
        if some_wrong:
            result = "wrong result"
        rows.append({
            "benchmark": name, "ranks": hi, "label": s["label"], "sizes": sizes,
            "runs": len(everyone), "valid_runs": len(lo_runs) + len(hi_runs),
            "starjets": statistics.median(t_hi) if t_hi else None, "starjets_unit": "s",
            "baseline": statistics.median(t_lo) if t_lo else None, "baseline_unit": "s",
            "baseline_name": base_name, "ratio": med, "ratio_per_run": ratios,
            "ratio_is": "time on %d / time on %d rank%s" % (lo, hi, "" if hi == 1 else "s"),
            "target": {"op": s["target"][0], "value": s["target"][1]},
            "target_text": target_text(s["target"]), "result": result, "chart": True,
            "all_correct": all_correct, "paired_ranks": [lo, hi],
        })
    return rows


def generic_spec():
    """For a benchmark bench/run has no table for: its "ratio" and numeric "target"."""
    return [row("ratio", lambda j: "defaults", (lambda j: j.get("starjets_s"), "s"),
                (lambda j: None, "s"), "baseline", lambda j: j["ratio"], "ratio",
                ("generic", None))]


# ---------------------------------------------------------------------------


def fmt_value(v, unit):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if unit in ("s", "s/task"):
        suffix = "/task" if unit == "s/task" else ""
        if v < 1e-3:
            return "%.3g µs%s" % (v * 1e6, suffix)
        if v < 1:
            return "%.3g ms%s" % (v * 1e3, suffix)
        return "%.3g s%s" % (v, suffix)
    if unit == "B":
        return "%d B" % round(v)
    if unit == "items/s":
        return "%.3g items/s" % v
    return "%.3g %s" % (v, unit)


def fmt_ratio(v):
    if v >= 100:
        return "%.0f" % v
    return "%.3f" % v


def target_text(t):
    if t is None:
        return "none"
    op, v = t
    if op == "~":
        return "≈ %g (no threshold)" % v
    if op == "generic":
        return "%g" % v if v is not None else "none"
    return "%s %g" % ({">=": "≥", "<=": "≤"}[op], v)


def judge(ratio, t):
    if t is None or t[0] == "~" or ratio is None:
        return "-"
    op, v = t
    if op == "generic":
        return "-"
    ok = ratio >= v if op == ">=" else ratio <= v
    return "met" if ok else "missed"


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def read_first(path, pattern):
    try:
        with open(path) as f:
            for line in f:
                m = re.match(pattern, line)
                if m:
                    return m.group(1).strip()
    except OSError:
        pass
    return ""


def dpkg_version(*names):
    for n in names:
        v = sh(["dpkg-query", "-W", "-f=${Version}", n])
        if v:
            return "%s (%s)" % (v, n)
    return ""


def machine(build, repo):
    mem_kb = read_first("/proc/meminfo", r"MemTotal:\s+(\d+)")
    cache = os.path.join(build, "CMakeCache.txt")
    cc = read_first(cache, r"CMAKE_C_COMPILER:[A-Z]+=(.*)")
    mpi = sh(["mpiexec", "--version"]).splitlines()
    git = ["git", "-C", repo]
    # What the benchmark programs are built from, where it differs from the commit.
    paths = ["--", "src", "include", "codelets", "bench/*.c", "bench/*.h", "bench/CMakeLists.txt",
             "CMakeLists.txt", "cmake"]
    dirty = sorted(set(sh(git + ["diff", "--name-only", "HEAD"] + paths).split() +
                       sh(git + ["ls-files", "--others", "--exclude-standard"] + paths).split()))
    return {
        "cpu_model": read_first("/proc/cpuinfo", r"model name\s*:\s*(.*)"),
        "hypervisor": read_first_lscpu("Hypervisor vendor"),
        "cpu_family_model": "%s/%s" % (read_first_lscpu("CPU family"), read_first_lscpu("Model")),
        "l3_cache": read_first_lscpu("L3 cache"),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "memory_GiB": round(int(mem_kb) / 1048576, 1) if mem_kb else None,
        "os": read_first("/etc/os-release", r'PRETTY_NAME="?([^"\n]*)"?'),
        "kernel": platform.release(),
        "starpu": sh(["pkg-config", "--modversion", "starpumpi-1.3"])
        or dpkg_version("libstarpumpi-1.3-3"),
        "openmpi": mpi[0].split()[-1] if mpi else "",
        "openblas": dpkg_version("libopenblas0-pthread", "libopenblas0-openmp",
                                 "libopenblas0-serial", "libopenblas0"),
        "compiler": (sh([cc, "--version"]).splitlines() or [""])[0] if cc else "",
        "build_type": read_first(cache, r"CMAKE_BUILD_TYPE:[A-Z]+=(.*)"),
        "git_commit": sh(git + ["rev-parse", "HEAD"]),
        "git_describe": sh(git + ["log", "-1", "--format=%h %s"]),
        "library_sources_modified": bool(dirty),
        "modified_sources": dirty,
    }


def read_first_lscpu(key):
    for line in sh(["lscpu"]).splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def load_runs(raw):
    runs = []
    with open(os.path.join(raw, "runs.tsv")) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            name, ranks, k, rc, secs, load0, load1, args = line.rstrip("\n").split("\t")
            r = dict(name=name, ranks=int(ranks), run=int(k), exit_status=int(rc),
                     seconds=float(secs), load1_before=float(load0), load1_after=float(load1),
                     args=args.split(), json=None, problem=None)
            base = os.path.join(raw, "%s_np%s_run%s" % (name, ranks, k))
            lines = []
            try:
                with open(base + ".json") as jf:
                    lines = [ln for ln in jf.read().splitlines() if ln.startswith("{")]
            except OSError:
                pass
            if len(lines) != 1:
                r["problem"] = "printed %d JSON lines (exit status %d; see %s.err)" % (
                    len(lines), r["exit_status"], base)
            else:
                try:
                    r["json"] = json.loads(lines[0])
                except ValueError as e:
                    r["problem"] = "invalid JSON: %s" % e
            if r["problem"] is None and r["exit_status"] != 0:
                r["problem"] = "exit status %d (see %s.err)" % (r["exit_status"], base)
            runs.append(r)
    return runs


def number(f, j):
    try:
        v = f(j)
    except (KeyError, TypeError, IndexError, ValueError):
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return float(v)


def summarise(runs, problems):
    """One summary row per spec row and (benchmark, ranks), medians over runs."""
    groups = {}
    for r in runs:
        groups.setdefault((r["name"], r["ranks"]), []).append(r)
    rows = []
    for (name, ranks), rs in groups.items():
        good = [r for r in rs if r["json"] is not None]
        for r in rs:
            if r["problem"]:
                problems.append("%s on %d ranks, run %d: %s" % (name, ranks, r["run"], r["problem"]))
            elif r["json"].get("correct") is not True:
                problems.append("%s on %d ranks, run %d: the benchmark reports a wrong result"
                                % (name, ranks, r["run"]))
        if name in PAIRED:
            # One set of rows for all rank counts, where the benchmark's last one is.
            if ranks == max(k for n, k in groups if n == name):
                rows += summarise_pairs(name, [r for r in runs if r["name"] == name], problems)
            continue
        spec = SPECS.get(name, generic_spec())
        for s in spec:
            target = s["target"]
            if target and target[0] == "generic":
                tv = good[0]["json"].get("target") if good else None
                target = (">=", float(tv)) if isinstance(tv, (int, float)) else None
            ratios = [number(s["ratio"], r["json"]) for r in good]
            if good and any(v is None for v in ratios):
                problems.append("%s on %d ranks: no numeric value for '%s' in its JSON"
                                % (name, ranks, s["meaning"] if isinstance(s["meaning"], str)
                                   else s["label"]))
            ratios = [v for v in ratios if v is not None and v > 0]
            sjv = [v for v in (number(s["sj"][0], r["json"]) for r in good) if v is not None]
            bav = [v for v in (number(s["base"][0], r["json"]) for r in good) if v is not None]
            med = statistics.median(ratios) if ratios else None
            first = good[0]["json"] if good else {}
            try:
                sizes = s["sizes"](first) if good else "-"
            except (KeyError, TypeError, ValueError):
                sizes = "-"
            try:
                base_name = s["base_name"] % first if good else s["base_name"]
            except (KeyError, TypeError, ValueError):
                base_name = s["base_name"]
            meaning = s["meaning"]
            if callable(meaning):
                try:
                    meaning = meaning(first) if good else "target / measured"
                except (KeyError, TypeError, ValueError):
                    meaning = "target / measured"
            correct = bool(good) and all(r["json"].get("correct") is True for r in good) and \
                len(good) == len(rs)
            result = judge(med, target) if ratios else "failed"
            if good and not all(r["json"].get("correct") is True for r in good):
                result = "wrong result"
            rows.append({
                "benchmark": name, "ranks": ranks, "label": s["label"], "sizes": sizes,
                "runs": len(rs), "valid_runs": len(good),
                "starjets": statistics.median(sjv) if sjv else None, "starjets_unit": s["sj"][1],
                "baseline": statistics.median(bav) if bav else None, "baseline_unit": s["base"][1],
                "baseline_name": base_name, "ratio": med, "ratio_per_run": ratios,
                "ratio_is": meaning,
                "target": None if target is None else {"op": target[0], "value": target[1]},
                "target_text": target_text(target), "result": result, "chart": s["chart"],
                "all_correct": correct,
            })
    return rows


def ranks_text(r):
    """The ranks of a row: "2", or "1 → 2" for a PAIRED row."""
    if r.get("paired_ranks"):
        return "%d → %d" % tuple(r["paired_ranks"])
    return "%d" % r["ranks"]


def blas_text(meta):
    """The OpenBLAS kernel the runs used, and the one OpenBLAS picks by itself."""
    forced, own = meta.get("openblas_coretype"), meta.get("openblas_default_core")
    text = "%s, OPENBLAS_CORETYPE" % forced if forced else "OpenBLAS's own pick"
    if own:
        text += "; OpenBLAS alone picks %s" % own
    return text


def write_md(path, rows, meta, mode):
    m = meta["machine"]
    out = []
    out.append("Taken %s by `bench/run%s` (%d run%s of each benchmark, medians), commit %s%s."
               % (meta["date"], " --quick" if mode == "quick" else "", meta["runs_per_benchmark"],
                  "" if meta["runs_per_benchmark"] == 1 else "s", m["git_commit"][:7],
                  " with modified library sources" if m["library_sources_modified"] else ""))
    out.append("Machine: %s%s, %d cores, %s GiB, %s (Linux %s); StarPU %s, %s, OpenBLAS %s "
               "(kernel: %s); load average %.1f-%.1f during the runs."
               % (m["cpu_model"], " (family/model %s, L3 %s%s)" % (
                   m["cpu_family_model"], m["l3_cache"].split(" (")[0],
                   ", %s guest" % m["hypervisor"] if m["hypervisor"] else ""),
                  m["cores"], m["memory_GiB"], m["os"], m["kernel"], m["starpu"],
                  "Open MPI " + m["openmpi"],
                  m["openblas"].split(" ")[0], blas_text(meta), meta["load1_min"],
                  meta["load1_max"]))
    if mode == "quick":
        out.append("A `--quick` smoke run: small sizes and one round, which shows that every "
                   "benchmark runs and reports its ratios; the ratios are not measurements.")
    out.append("")
    out.append("| benchmark | ranks | sizes | starjets | baseline | ratio | target | result |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = fmt_ratio(r["ratio"]) if r["ratio"] is not None else "-"
        if len(r["ratio_per_run"]) > 1:
            ratio += " (%s)" % ", ".join(fmt_ratio(v) for v in r["ratio_per_run"])
        result = "**%s**" % r["result"] if r["result"] in ("missed", "failed", "wrong result") \
            else r["result"]
        out.append("| %s (`%s`) | %s | %s | %s | %s: %s | %s = %s | %s | %s |" % (
            r["label"], r["benchmark"], ranks_text(r), r["sizes"],
            fmt_value(r["starjets"], r["starjets_unit"]), r["baseline_name"],
            fmt_value(r["baseline"], r["baseline_unit"]), r["ratio_is"], ratio,
            r["target_text"], result))
    out.append("")
    with open(path, "w") as f:
        f.write("\n".join(out))


def write_chart(path, rows, title):
    """Horizontal bars, one per charted row, the target as a black tick across its bar."""
    gp = shutil.which("gnuplot")
    if not gp:
        raise RuntimeError("gnuplot not found (Debian: gnuplot-nox; scripts/setup installs it)")
    shown = [r for r in rows if r["chart"] and r["ratio"] is not None]
    if not shown:
        raise RuntimeError("no ratio to chart")
    targets = [r["target"]["value"] for r in shown if r["target"]]
    # Ratios far above their target (a fast case) would squash the others: the axis
    # stops at 2.5 at most and the longer bars are cut, their value still written.
    xmax = max([1.5] + [1.25 * t for t in targets] + [1.12 * min(r["ratio"], 2.5) for r in shown])
    colour = {"met": 0x2e8b57, "missed": 0xcd3333}
    dat = path + ".dat"
    with open(dat, "w") as f:
        for i, r in enumerate(shown):
            t = "%.6g" % r["target"]["value"] if r["target"] else "NaN"
            tag = r["target_text"].replace(" (no threshold)", "")
            label = "%s, %s rank%s (%s)" % (r["label"], ranks_text(r),
                                           "" if r["ranks"] == 1 else "s", tag)
            v = min(r["ratio"], xmax)
            f.write('%d "%s" %.6g %s %d %.6g "%s"\n' % (
                i, label.replace('"', "'"), v, t, colour.get(r["result"], 0x8c8c8c),
                v + 0.015 * xmax if v < 0.9 * xmax else v - 0.12 * xmax, "%.2f" % r["ratio"]))
    terms = sh([gp, "-e", "set terminal"])
    size = "1150,%d" % (110 + 34 * len(shown))
    term = "pngcairo size %s font 'sans,10'" % size if "pngcairo" in terms else "png size " + size
    script = """
set terminal %s
set output '%s'
set title "%s\\ntarget: black tick; green: met, red: missed, grey: no threshold"
set style fill solid 0.85 border -1
set xrange [0:%g]
set yrange [%g:-0.6]
set xlabel 'ratio, median of runs (1 = as fast as the baseline)'
set ytics nomirror scale 0
set xtics 0.1 nomirror
set mxtics 1
set grid xtics lc rgb '#dddddd'
set style textbox opaque noborder margins 1,1
unset key
set lmargin 48
plot '%s' using ($3/2):1:($3/2):(0.32):5:ytic(2) with boxxyerror lc rgb variable, \\
     '' using 4:($1-0.42):(0):(0.84) with vectors nohead lw 3 lc rgb 'black', \\
     '' using 6:1:7 with labels left boxed notitle
""" % (term, path, title.replace('"', "'"), xmax, len(shown) - 0.4, dat)
    if xmax > 2.0:
        script = script.replace("set xtics 0.1", "set xtics 0.2")
    p = subprocess.run([gp], input=script, capture_output=True, text=True)
    if p.returncode != 0 or not os.path.exists(path):
        raise RuntimeError("gnuplot failed: %s" % p.stderr.strip())
    os.unlink(dat)


def update_readme(path, md_text, chart_name):
    begin, end = "<!-- bench/run results: begin -->", "<!-- bench/run results: end -->"
    with open(path) as f:
        text = f.read()
    if begin not in text or end not in text:
        raise RuntimeError("%s has no '%s' ... '%s' markers" % (path, begin, end))
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    body = "\n" + md_text.rstrip("\n") + "\n\n![ratios against targets](%s)\n" % chart_name
    with open(path, "w") as f:
        f.write(head + begin + body + end + tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", required=True, help="directory with runs.tsv and the runs' output")
    ap.add_argument("--out", required=True, help="where results.{json,md,png} go")
    ap.add_argument("--build", required=True, help="the build directory (for the compiler)")
    ap.add_argument("--repo", required=True, help="the repository (for the commit)")
    ap.add_argument("--mode", choices=("full", "quick"), default="full")
    ap.add_argument("--runs", type=int, required=True, help="runs of each benchmark")
    ap.add_argument("--skipped", default="", help="benchmarks bench/run did not run, and why")
    ap.add_argument("--started", help="when the runs started (default: now)")
    ap.add_argument("--no-chart", action="store_true")
    ap.add_argument("--readme", help="a README whose results section is replaced")
    ap.add_argument("--blas-coretype", default="",
                    help="the OPENBLAS_CORETYPE of the runs (empty: OpenBLAS's own pick)")
    a = ap.parse_args()

    runs = load_runs(a.raw)
    problems = []
    if not runs:
        problems.append("no benchmark ran")
    rows = summarise(runs, problems)
    if a.mode == "quick":
        # Small sizes on a shared machine: the ratios prove that the programs run, not
        # how fast starjets is, so no target is judged.
        for r in rows:
            if r["result"] in ("met", "missed"):
                r["result"] = "not judged (quick)"
    loads = [r["load1_before"] for r in runs] + [r["load1_after"] for r in runs]
    meta = {
        "date": a.started
        or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": a.mode, "runs_per_benchmark": a.runs,
        "load1_min": min(loads) if loads else 0.0, "load1_max": max(loads) if loads else 0.0,
        "machine": machine(a.build, a.repo),
        "openblas_coretype": a.blas_coretype or None,
        "openblas_default_core": next((r["json"].get("default_core") for r in runs
                                       if r["name"] == "blas_core" and r["json"]), None),
    }
    doc = dict(meta)
    doc["summary"] = rows
    doc["skipped"] = [s for s in a.skipped.split(";") if s]
    doc["problems"] = problems
    doc["runs"] = runs
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    md = os.path.join(a.out, "results.md")
    write_md(md, rows, meta, a.mode)
    if not a.no_chart:
        write_chart(os.path.join(a.out, "results.png"), rows,
                    "starjets / baseline, %s, %s" % (meta["date"], meta["machine"]["cpu_model"]))
    if a.readme:
        with open(md) as f:
            update_readme(a.readme, f.read(), "results.png")
    for p in problems:
        print("bench/run: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
