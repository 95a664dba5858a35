#!/usr/bin/env python3
"""Kill a run with SIGKILL in the middle of a save, then check that the last
complete checkpoint still loads bit for bit (tests/io_crash.c).

Usage: io_crash.py --mpiexec "mpiexec -n 3 ..." --check-mpiexec "mpiexec -n 2 ..."
                   --program io_crash --path FILE [--mib 64]
The writer saves checkpoints 1, 2, ... to FILE. Once checkpoint 2 is saved
(its duration measured), the script waits for "saving K" and kills the whole
process group (mpiexec and every rank) part way into that save, while the
temporary file exists; then the checker, on another rank count, must load
checkpoint K-1 (or K, had the rename been made) with every checksum right.
"""
import argparse
import glob
import os
import random
import shlex
import signal
import subprocess
import sys
import time


def kill_session(sid):
    """SIGKILL every process of session sid (mpiexec and the ranks it started)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid:  # fields after the name: state ppid pgrp session
                os.kill(int(pid), signal.SIGKILL)
        except (OSError, IndexError, ValueError):
            pass


def remove(path):
    for f in [path] + glob.glob(path + ".tmp-*"):
        if os.path.exists(f):
            os.unlink(f)


def attempt(args, rng):
    remove(args.path)
    cmd = shlex.split(args.mpiexec) + [args.program, "write", args.path, str(args.mib)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, start_new_session=True)
    started = {}
    killed_at = None
    deadline = time.time() + 240
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        word, k = line.split()[0], int(line.split()[1])
        now = time.time()
        if word == "saving":
            started[k] = now
            if k >= 3:
                # wait for this save's temporary file, then kill part way into the save
                seen = []
                while not seen and time.time() < deadline:
                    seen = glob.glob(args.path + ".tmp-*")
                    time.sleep(0.001)
                time.sleep(rng.uniform(0.0, 0.1) * args.took)
                kill_session(p.pid)
                # the rename of save k had not happened when its temporary file is still there
                killed_at = (k, os.path.exists(seen[0]))
                break
        elif word == "saved" and k == 2:
            args.took = now - started[2]
    kill_session(p.pid)
    p.wait()
    return killed_at


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("--check-mpiexec", required=True)
    ap.add_argument("--program", required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--tries", type=int, default=8)
    args = ap.parse_args()
    rng = random.Random(17)
    for t in range(args.tries):
        args.took = 0.5
        got = attempt(args, rng)
        if got is None:
            print("io_crash: the writer stopped before checkpoint 3", file=sys.stderr)
            return 1
        k, mid_save = got
        left = glob.glob(args.path + ".tmp-*")
        print("io_crash: try %d: killed during save %d (save of 2 took %.2f s); temporary "
              "file of that save present after the kill: %s; left behind: %s" % (t + 1, k, args.took, mid_save,
                                                                 [os.path.basename(x) for x in left]))
        out = subprocess.run(shlex.split(args.check_mpiexec) + [args.program, "check", args.path],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(out.stdout.strip())
        if out.returncode != 0 or "bit-identical" not in out.stdout:
            print("io_crash: the checkpoint left by the killed run does not load", file=sys.stderr)
            return 1
        loaded = int(out.stdout.split("checked checkpoint ")[1].split()[0])
        if loaded not in (k - 1, k) or (mid_save and loaded != k - 1):
            print("io_crash: loaded checkpoint %d, expected %s" %
                  (loaded, k - 1 if mid_save else "%d or %d" % (k - 1, k)), file=sys.stderr)
            return 1
        if mid_save:
            remove(args.path)
            print("io_crash: a run killed in the middle of a save left checkpoint %d intact" % loaded)
            return 0
    print("io_crash: never killed while a temporary file existed", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
