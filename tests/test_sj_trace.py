#!/usr/bin/env python3
"""Unit tests of tools/sj-trace: a hand-made trace whose answers are worked out
below by hand, and the checked-in real trace tests/data/trace-sample/ (a
2-rank block-operator apply), whose counts are taken from the raw files with
other means than the tool's parsers.

    python3 tests/test_sj_trace.py [--tool=tools/sj-trace] [--sample=DIR] [unittest args]
"""

import importlib.machinery
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "..", "tools", "sj-trace")
SAMPLE = os.path.join(HERE, "data", "trace-sample")
SVG_NS = "{http://www.w3.org/2000/svg}"


def load_tool(path):
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    loader = importlib.machinery.SourceFileLoader("sj_trace", path)
    spec = importlib.util.spec_from_loader("sj_trace", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


# The event definitions StarPU 1.3 writes (without poti), trimmed to those used.
PAJE_HEADER = """%EventDef\tPajeDefineEntityValue\t6
%\tAlias\tstring
%\tType\tstring
%\tName\tstring
%\tColor\tcolor
%EndEventDef
%EventDef\tPajeCreateContainer\t7
%\tTime\tdate
%\tAlias\tstring
%\tType\tstring
%\tContainer\tstring
%\tName\tstring
%EndEventDef
%EventDef PajeSetState 10
%\tTime\tdate
%\tContainer\tstring
%\tType\tstring
%\tValue\tstring
%EndEventDef
%EventDef\tPajePushState\t11
%\tTime\tdate
%\tContainer\tstring
%\tType\tstring
%\tValue\tstring
%EndEventDef
%EventDef\tPajePopState\t12
%\tTime\tdate
%\tContainer\tstring
%\tType\tstring
%EndEventDef
%EventDef\tPajeStartLink\t23
%\tTime\tdate
%\tType\tstring
%\tContainer\tstring
%\tValue\tstring
%\tStartContainer\tstring
%\tKey\tstring
%\tMPITAG\tstring
%EndEventDef
%EventDef\tPajeEndLink\t19
%\tTime\tdate
%\tType\tstring
%\tContainer\tstring
%\tValue\tstring
%\tEndContainer\tstring
%\tKey\tstring
%EndEventDef
6       I       WS      "Idle"  ".9 .1 .0"
"""

# Rank 0, worker 0: k_a on [0, 4], k_b on [6, 10]; idle (Sl) on [4.5, 5.5]:
#   busy 8, idle 1, overhead 1.
# Rank 1, worker 0: idle (Sl) on [0, 2], k_a on [2, 8], idle (I) on [8, 9],
#   scheduling pushed over it on [9, 9.5]; under it the base state becomes B
#   (overhead) at 9.2, so after the pop [9.5, 10] is overhead, as StarPU's
#   starpu_trace_state_stats.py counts it: busy 6, idle 3, overhead 1.
# Transfers: 0 -> 1 on [3, 7] (1000 bytes), 1 -> 0 on [9, 11] (24 bytes).
#   Each rank has a transfer in flight for 6 ms. Rank 0 runs a task during
#   [3, 4], [6, 7] and [9, 10] of it: 3 ms; rank 1 during [3, 7]: 4 ms.
#   Overlap 7 / 12.
# Makespan 10; task time 4 + 4 + 6 = 14 over 2 workers: ideal 7, efficiency 0.7.
# Rank 0 runs no task during [4, 6] (2 ms), rank 1 during [0, 2] and [8, 10] (4 ms).
PAJE_EVENTS = """7\t0.000000000\t0_w0\tW\t0_t1\t0_CPU0
7\t0.000000000\t1_w0\tW\t1_t1\t1_CPU0
10\t0.000000000\t0_w0\tWS\t"k_a"
10\t0.000000000\t1_w0\tWS\t"Sl"
10\t2.000000000\t1_w0\tWS\t"k_a"
10\t3.000000000\t0_mpict\tCtS \tSdS
23\t3.000000000\tMPIL\tMPIroot\t1000\t0_mpict\tmpicom_0\t77
10\t4.000000000\t0_w0\tWS\t"B"
10\t4.500000000\t0_w0\tWS\t"Sl"
10\t5.500000000\t0_w0\tWS\t"B"
10\t6.000000000\t0_w0\tWS\t"k_b"
19\t7.000000000\tMPIL\tMPIroot\t1000\t1_mpict\tmpicom_0
10\t8.000000000\t1_w0\tWS\t"I"
11\t9.000000000\t1_w0\tWS\tSc
23\t9.000000000\tMPIL\tMPIroot\t24\t1_mpict\tmpicom_1\t78
10\t9.200000000\t1_w0\tWS\t"B"
12\t9.500000000\t1_w0\tWS
10\t10.000000000\t0_w0\tWS\t"B"
10\t10.000000000\t1_w0\tWS\t"B"
19\t11.000000000\tMPIL\tMPIroot\t24\t0_mpict\tmpicom_1
"""

TASKS_REC = """Name: k_a
JobId: 0_1
SubmitOrder: 1
Priority: 0
Tag: 0
WorkerId: 0
StartTime: 0.000000
EndTime: 4.000000
Footprint: 0
MPIRank: 0

Name: k_b
JobId: 0_2
Priority: 0
Tag: 0
WorkerId: 0
StartTime: 6.000000
EndTime: 10.000000
Footprint: 0
MPIRank: 0

JobId: 0_3
Priority: 0
Tag: 0
Footprint: 0
MPIRank: 0

Name: k_a
JobId: 1_1
Priority: 0
Tag: 0
WorkerId: 0
StartTime: 2.000000
EndTime: 8.000000
Footprint: 0
MPIRank: 1

Control: WontUse
JobId: 1_9
SubmitOrder: 4
SubmitTime: 1.000000
Handles: 55d0c0
MPIRank: 1
"""


def write_synthetic(folder):
    with open(os.path.join(folder, "paje.trace"), "w") as f:
        f.write(PAJE_HEADER + PAJE_EVENTS)
    with open(os.path.join(folder, "tasks.rec"), "w") as f:
        f.write(TASKS_REC)


class Synthetic(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        write_synthetic(self.tmp.name)
        tasks, not_run, paje = tool.read_trace(self.tmp.name)
        self.tasks, self.paje = tasks, paje
        self.s = tool.analyse(tasks, not_run, paje)

    def tearDown(self):
        self.tmp.cleanup()

    def test_tasks(self):
        s = self.s
        self.assertEqual(s["tasks"], 3)
        self.assertEqual(s["operator_tasks"], 0)
        self.assertEqual(s["records_not_run"], 2)
        self.assertEqual((s["ranks"], s["workers"]), (2, 2))
        self.assertAlmostEqual(s["makespan_ms"], 10.0)
        self.assertAlmostEqual(s["task_ms"], 14.0)
        self.assertAlmostEqual(s["ideal_ms"], 7.0)
        self.assertAlmostEqual(s["efficiency"], 0.7)
        c = {x["name"]: x for x in s["per_codelet"]}
        self.assertEqual((c["k_a"]["count"], c["k_b"]["count"]), (2, 1))
        self.assertAlmostEqual(c["k_a"]["total_ms"], 10.0)
        self.assertAlmostEqual(c["k_a"]["mean_ms"], 5.0)
        self.assertAlmostEqual(c["k_a"]["min_ms"], 4.0)
        self.assertAlmostEqual(c["k_a"]["max_ms"], 6.0)
        self.assertEqual([(r["rank"], r["count"], r["mean_ms"]) for r in c["k_a"]["per_rank"]],
                         [(0, 1, 4.0), (1, 1, 6.0)])

    def test_worker_states(self):
        w = {(x["rank"], x["worker"]): x for x in self.s["per_worker"]}
        self.assertEqual(w[(0, 0)]["name"], "CPU0")
        for key, busy, idle, over in (((0, 0), 8.0, 1.0, 1.0), ((1, 0), 6.0, 3.0, 1.0)):
            self.assertAlmostEqual(w[key]["busy_ms"], busy, msg=key)
            self.assertAlmostEqual(w[key]["idle_ms"], idle, msg=key)
            self.assertAlmostEqual(w[key]["overhead_ms"], over, msg=key)
        st = w[(1, 0)]["states_ms"]
        self.assertEqual(sorted(st), ["B", "I", "Sc", "Sl"])
        for state, ms in (("Sl", 2.0), ("I", 1.0), ("Sc", 0.5), ("B", 0.5)):
            self.assertAlmostEqual(st[state], ms, msg=state)
        self.assertEqual(self.s["state_names"], {"I": "Idle"})

    def test_transfers_and_overlap(self):
        x = self.s["transfers"]
        self.assertEqual((x["count"], x["bytes"], x["unmatched"]), (2, 1024, 0))
        self.assertEqual([(p["src"], p["dst"], p["count"], p["bytes"]) for p in x["pairs"]],
                         [(0, 1, 1, 1000), (1, 0, 1, 24)])
        self.assertAlmostEqual(x["in_flight_ms"], 6.0)
        self.assertAlmostEqual(x["overlap_fraction"], 7.0 / 12.0)
        r = {x["rank"]: x for x in self.s["per_rank"]}
        self.assertAlmostEqual(r[0]["overlap_fraction"], 0.5)
        self.assertAlmostEqual(r[1]["overlap_fraction"], 4.0 / 6.0)
        self.assertAlmostEqual(r[0]["no_task_ms"], 2.0)
        self.assertAlmostEqual(r[1]["no_task_ms"], 4.0)

    def test_svg(self):
        root = ET.fromstring(tool.gantt_svg(self.tmp.name, self.s, self.tasks, self.paje))
        self.assertEqual(root.tag, SVG_NS + "svg")
        titled = [r for r in root.iter(SVG_NS + "rect") if r.find(SVG_NS + "title") is not None]
        self.assertEqual(len(titled), 3)
        lines = [l for l in root.iter(SVG_NS + "line") if l.find(SVG_NS + "title") is not None]
        self.assertEqual(len(lines), 2)
        texts = "".join(t.text or "" for t in root.iter(SVG_NS + "text"))
        self.assertIn("k_a (2)", texts)
        self.assertIn("k_b (1)", texts)

    def test_single_process_trace(self):
        # One input file: no "<rank>_" prefixes and MPIRank -1; everything is rank 0.
        with open(os.path.join(self.tmp.name, "paje.trace"), "w") as f:
            f.write(PAJE_HEADER + "7\t0.0\tw0\tW\tt1\tCPU0\n10\t0.0\tw0\tWS\t\"k_a\"\n"
                    "10\t4.0\tw0\tWS\t\"Sl\"\n10\t5.0\tw0\tWS\t\"k_a\"\n")
        with open(os.path.join(self.tmp.name, "tasks.rec"), "w") as f:
            f.write("Name: k_a\nJobId: 1\nWorkerId: 0\nStartTime: 0.0\nEndTime: 4.0\nMPIRank: -1\n\n"
                    "Name: k_a\nJobId: 2\nWorkerId: 0\nStartTime: 5.0\nEndTime: 6.0\nMPIRank: -1\n")
        s = tool.analyse(*tool.read_trace(self.tmp.name))
        self.assertEqual((s["ranks"], s["workers"], s["tasks"]), (1, 1, 2))
        self.assertAlmostEqual(s["per_worker"][0]["idle_ms"], 1.0)
        self.assertAlmostEqual(s["per_worker"][0]["overhead_ms"], 0.0)
        self.assertIsNone(s["transfers"]["overlap_fraction"])

    def test_errors(self):
        r = run_tool([os.path.join(self.tmp.name, "missing")])
        self.assertEqual(r.returncode, 1)
        self.assertIn("is not a folder", r.stderr)
        os.remove(os.path.join(self.tmp.name, "tasks.rec"))
        r = run_tool([self.tmp.name])
        self.assertEqual(r.returncode, 1)
        self.assertIn("no tasks.rec", r.stderr)
        with open(os.path.join(self.tmp.name, "tasks.rec"), "w") as f:
            f.write("Name: k\nthis line has no colon\n")
        r = run_tool([self.tmp.name])
        self.assertEqual(r.returncode, 1)
        self.assertIn("tasks.rec:2: expected 'Key: value'", r.stderr)


def run_tool(args):
    return subprocess.run([sys.executable, TOOL] + args, capture_output=True, text=True, timeout=300)


class Sample(unittest.TestCase):
    """The checked-in real trace: counts from the raw text, invariants, the CLI."""

    @classmethod
    def setUpClass(cls):
        cls.tasks, cls.not_run, cls.paje = tool.read_trace(SAMPLE)
        cls.s = tool.analyse(cls.tasks, cls.not_run, cls.paje)
        with open(os.path.join(SAMPLE, "tasks.rec")) as f:
            cls.rec_text = f.read()
        with open(os.path.join(SAMPLE, "paje.trace")) as f:
            cls.paje_lines = f.read().splitlines()

    def test_task_count_matches_raw_records(self):
        records = [r for r in self.rec_text.split("\n\n") if r.strip()]
        ran = [r for r in records if re.search(r"^StartTime: ", r, re.M)]
        self.assertEqual(self.s["tasks"], len(ran))
        self.assertEqual(self.s["tasks"] + self.s["records_not_run"], len(records))
        self.assertEqual(self.s["operator_tasks"],
                         sum(1 for r in ran if re.search(r"^Name: sj_op_", r, re.M)))
        for c in self.s["per_codelet"]:
            self.assertEqual(c["count"], sum(1 for r in ran if re.search(
                r"^Name: " + re.escape(c["name"]) + "$", r, re.M)), c["name"])

    def test_two_ranks_and_workers(self):
        self.assertEqual(self.s["ranks"], 2)
        alias = {l.split()[2] for l in self.paje_lines if re.match(r"^7\s.*\sW\s", l)}
        self.assertEqual(self.s["workers"], len(alias))
        for w in self.s["per_worker"]:
            total = w["busy_ms"] + w["idle_ms"] + w["overhead_ms"]
            self.assertAlmostEqual(total, self.s["makespan_ms"], delta=1e-6 * self.s["makespan_ms"])
            over = sum(v for k, v in w["states_ms"].items() if k not in ("I", "Sl"))
            self.assertAlmostEqual(over, w["overhead_ms"], delta=1e-6 * self.s["makespan_ms"])
            self.assertGreaterEqual(w["idle_ms"], 0.0)
        self.assertEqual(self.s["state_names"].get("B"), "Overhead")

    def test_transfers_match_raw_links(self):
        starts = [l for l in self.paje_lines if re.match(r"^\d+\s\S+\sMPIL\s", l) and "_mpict" in l]
        x = self.s["transfers"]
        self.assertGreater(x["count"], 0)
        self.assertEqual(2 * x["count"] + x["unmatched"], len(starts))
        self.assertEqual(sum(p["count"] for p in x["pairs"]), x["count"])
        backwards = 0
        for z in self.paje.transfers:
            self.assertNotEqual(z.src, z.dst)
            backwards += z.end < z.start
        # This sample has one: a receive done 12 ms before its send was posted,
        # by the clocks StarPU aligned at start-up.
        self.assertEqual(x["ends_before_start"], backwards)
        self.assertGreater(x["in_flight_ms"], 0.0)
        f = x["overlap_fraction"]
        self.assertTrue(0.0 <= f <= 1.0, f)

    def test_cli_json_and_svg(self):
        with tempfile.TemporaryDirectory() as tmp:
            svg = os.path.join(tmp, "g.svg")
            r = run_tool(["--json", "--svg", svg, "--no-png", SAMPLE])
            self.assertEqual(r.returncode, 0, r.stderr)
            s = json.loads(r.stdout)
            self.assertEqual(s["tasks"], self.s["tasks"])
            self.assertEqual(s["svg"], svg)
            root = ET.parse(svg).getroot()
            titled = [e for e in root.iter(SVG_NS + "rect") if e.find(SVG_NS + "title") is not None]
            self.assertEqual(len(titled), s["tasks"])
            r = run_tool(["--no-svg", SAMPLE])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f"{s['tasks']} tasks", r.stdout)
            self.assertIn("communication overlapped with computation", r.stdout)


if __name__ == "__main__":
    for arg in list(sys.argv[1:]):
        if arg.startswith("--tool="):
            TOOL = arg[len("--tool="):]
            sys.argv.remove(arg)
        elif arg.startswith("--sample="):
            SAMPLE = arg[len("--sample="):]
            sys.argv.remove(arg)
    tool = load_tool(TOOL)
    unittest.main()
