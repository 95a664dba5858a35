#!/usr/bin/env python3
"""Checks a real trace of tests/trace_apply.c (ctest label `trace`).

    trace_apply_check.py --tool tools/sj-trace --trace DIR --expect FILE [--perfstat PREFIX]

DIR is the folder SJ_TRACE named; FILE the counts trace_apply wrote with
--expect (operator tasks per codelet, known from the block pattern); PREFIX
the SJ_PERFSTAT path of the same run. Checks that
  * sj-trace --json counts, per operator codelet, exactly the tasks the
    program submitted, and so do starjets' own per-task records (SJ_PERFSTAT);
  * its total equals the executed task records in tasks.rec, counted here;
  * the run had both ranks and MPI transfers (the layout forces them);
  * the Gantt chart exists, parses as SVG and draws one box per task.
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

SVG_NS = "{http://www.w3.org/2000/svg}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--trace", required=True)
    ap.add_argument("--expect", required=True)
    ap.add_argument("--perfstat")
    args = ap.parse_args()
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    with open(args.expect) as f:
        expect = json.load(f)
    svg = os.path.join(args.trace, "gantt.svg")
    if os.path.exists(svg):
        os.remove(svg)
    r = subprocess.run([sys.executable, args.tool, "--json", "--svg", svg, args.trace],
                       capture_output=True, text=True, timeout=600)
    sys.stderr.write(r.stderr)
    if r.returncode != 0:
        print(f"FAIL sj-trace --json exited with {r.returncode}")
        return 1
    s = json.loads(r.stdout)
    print(f"sj-trace: {s['tasks']} tasks, {s['ranks']} ranks, {s['workers']} workers, "
          f"{s['transfers']['count']} transfers, makespan {s['makespan_ms']:.3f} ms")

    counts = {c["name"]: c["count"] for c in s["per_codelet"]}
    for name, n in sorted(expect["codelets"].items()):
        check(counts.get(name, 0) == n, f"{name}: {counts.get(name, 0)} in the trace, "
                                        f"{n} submitted by the program")
    if args.perfstat:
        recs = {"forward": 0, "adjoint": 0}
        for path in glob.glob(args.perfstat + ".*.jsonl"):
            with open(path) as f:
                for line in f:
                    op = json.loads(line)["op"]
                    recs[op] = recs.get(op, 0) + 1
        for name, op in (("sj_op_dense_fwd", "forward"), ("sj_op_dense_adj", "adjoint")):
            n = expect["codelets"][name]
            check(recs[op] == n, f"SJ_PERFSTAT {op} records: {recs[op]}, {n} submitted")
    n = sum(expect["codelets"].values())
    check(s["operator_tasks"] == n, f"operator tasks in the summary: {s['operator_tasks']}, {n} submitted")

    with open(os.path.join(args.trace, "tasks.rec")) as f:
        text = f.read()
    ran = sum(1 for rec in text.split("\n\n") if re.search(r"^StartTime: ", rec, re.M))
    check(s["tasks"] == ran, f"total tasks {s['tasks']} = executed records in tasks.rec ({ran})")
    check(s["ranks"] == expect["ranks"], f"ranks in the trace: {s['ranks']}, run on {expect['ranks']}")
    if expect["ranks"] > 1:
        check(s["transfers"]["count"] > 0, f"MPI transfers: {s['transfers']['count']} (> 0)")

    check(os.path.isfile(svg), f"{svg} written")
    if os.path.isfile(svg):
        try:
            root = ET.parse(svg).getroot()
        except ET.ParseError as err:
            check(False, f"{svg} parses as XML: {err}")
        else:
            check(root.tag == SVG_NS + "svg", f"root element is svg ({root.tag})")
            boxes = sum(1 for e in root.iter(SVG_NS + "rect") if e.find(SVG_NS + "title") is not None)
            check(boxes == s["tasks"], f"task boxes in the chart: {boxes}, tasks {s['tasks']}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
