#!/usr/bin/env python3
"""Runs tests/reliability_prog.c in one mode under mpiexec and checks how the
job ends: the checking mode's and the watchdog's sentences from every rank,
within seconds, and a non-zero exit (ctest entries reliability_*,
tests/CMakeLists.txt).

    reliability_check.py --mode MODE --np N --limit SECONDS -- mpiexec ... prog
"""
import argparse
import re
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True)
    ap.add_argument("--np", type=int, required=True)
    ap.add_argument("--limit", type=float, default=30.0, help="seconds the job may take")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd + [a.mode], capture_output=True, text=True, timeout=a.limit + 60)
    except subprocess.TimeoutExpired:
        print(f"FAIL: the job did not end in {a.limit + 60:.0f} s (a hang)")
        return 1
    took = time.monotonic() - t0
    out = p.stdout + p.stderr
    print(out[-6000:])
    print(f"--- exit status {p.returncode}, {took:.1f} s")
    fails = []
    last = a.np - 1

    def need(pattern, what):
        if not re.search(pattern, out):
            fails.append(f"missing {what}: /{pattern}/")

    if a.mode in ("agree", "imbalance"):
        if p.returncode != 0:
            fails.append("the job failed")
        for r in range(a.np):
            need(rf"{a.mode}: rank {r}: ", f"rank {r}'s line")
        if "differ" in out or "watchdog" in out:
            fails.append("a false alarm")
    else:
        if p.returncode == 0:
            fails.append("the job exited 0")
        if took > a.limit:
            fails.append(f"the job took {took:.1f} s, more than {a.limit} s")
    serialized = a.mode.endswith("_serialized")
    mode = a.mode[: -len("_serialized")] if serialized else a.mode
    if serialized:
        # below MPI_THREAD_MULTIPLE each rank's process exits after its report
        for r in range(a.np):
            need(rf"rank {r}: .*below MPI_THREAD_MULTIPLE this process exits instead of "
                 r"calling MPI_Abort", f"rank {r}'s report saying how it ends")
    if mode == "diverge":
        for r in range(a.np):
            need(rf"rank {r}: collective calls differ across ranks: this rank called "
                 r"sj_array_(dot|norm)", f"rank {r}'s sentence")
        need(rf"rank {last}: collective calls differ across ranks: this rank called "
             r"sj_array_norm\S* \(collective call #\d+, from [^)]+\)[^,]*, rank 0 called "
             r"sj_array_dot", "the last rank naming both calls and where")
        need(r"collective call #\d+, from \S", "a call site")
    elif mode == "root":
        for r in range(a.np):
            need(rf"rank {r}: collective calls differ", f"rank {r}'s sentence")
        need(r"sj_array_gather\(root=0\)", "root=0")
        need(rf"sj_array_gather\(root={1 % a.np}\)", "the other root")
    elif mode == "stall":
        where = "this rank" if serialized else "any rank"  # below MULTIPLE each rank judges alone
        for r in range(a.np):
            need(rf"rank {r}: watchdog: no progress on {where} for \d+ s; this rank is waiting in ",
                 f"rank {r}'s report")
        need(rf"rank {last}: watchdog: .*sj_map: 1 running", "the stuck task, named")
        need(r"last collective call: sj_wait", "the last collective call")
        need(r"; memory: \d+ MiB used of StarPU's limit of \d+ MiB, \d+ MiB available on the "
             r"node; aborting", "the memory line")
    elif a.mode == "memory":
        for r in range(a.np):
            need(rf"rank {r}: watchdog: no progress on any rank for \d+ s; .*; OUT OF MEMORY: "
                 r"memory: 1[56] MiB used of StarPU's limit of 16 MiB, \d+ MiB available on the "
                 r"node \(a copy StarPU must make may wait for memory", f"rank {r}'s memory line")
    elif a.mode == "farm":
        for r in range(a.np):  # in the farm, or in a collective it makes once done
            need(rf"rank {r}: watchdog: no progress on any rank for \d+ s; this rank is waiting "
                 r"in ", f"rank {r}'s report")
        need(rf"rank {last}: watchdog: [^\n]*waiting in sj_pmap", "the last rank in the farm")
        need(rf"rank {last}: watchdog: .*sj_pmap_item: 1 running", "the stuck item, named")
    elif a.mode == "unchecked":
        for r in range(a.np - 1):
            need(rf"rank {r}: watchdog: no progress on any rank for \d+ s; this rank is waiting "
                 r"in .*last collective call: sj_array_dot", f"rank {r}'s report")
        need(rf"rank {last}: watchdog: .*this rank is not in a starjets wait \(in the program's "
             r"own code\)", "the sleeping rank's report")
    elif a.mode == "held":
        for r in range(a.np - 1):
            need(rf"rank {r}: watchdog: no progress on any rank for \d+ s; this rank is waiting "
                 r"in ", f"rank {r}'s report")
        need(rf"rank {last}: watchdog: .*this rank is not in a starjets wait \(in the program's "
             r"own code\) and holds 1 block\(s\) it acquired", "the holding rank's report")
    elif a.mode == "kill":
        pass  # ended, non-zero, in time: checked above
    for f in fails:
        print("FAIL:", f)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
