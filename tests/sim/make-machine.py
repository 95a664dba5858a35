#!/usr/bin/env python3
"""Writes the simulated machine "sjsim" that tests/sim/sim_sched runs on:
StarPU's bus description (tests/sim/sampling/bus/sjsim.*) for SimGrid.

One node with NCPU CPU cores and one CUDA device of an H100's class behind
PCIe: RAM <-> CUDA0 at BW_MBS MB/s each way with LAT_US us of latency. StarPU
reads sjsim.bandwidth and sjsim.latency (memory node 0 = RAM, 1 = CUDA0; the
scheduler's transfer estimates) and sjsim.platform.v4.xml (what SimGrid
simulates); .config and .affinity are what StarPU itself writes next to them.
The numbers are a modelled machine, not a measured one (docs/gpu.md, "Proof
without a GPU"). Run it again after changing them and commit its output.
"""
import os

NCPU = 8                   # CPU hosts; the test uses STARPU_NCPU of them
BW_MBS = 20000.0           # PCIe 4.0/5.0 x16, pinned host memory, MB/s
LAT_US = 10.0              # per transfer, us
GPU_MEM = 80 * 2**30       # bytes
MAXNODES = 32              # StarPU's STARPU_MAXNODES (the matrices are 32 x 32)

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sampling", "bus")
os.makedirs(out, exist_ok=True)


def matrix(diag, off):
    head = "# " + "\t".join("to %d\t" % j for j in range(MAXNODES)) + "\n"
    rows = []
    for i in range(MAXNODES):
        cells = []
        for j in range(MAXNODES):
            if i < 2 and j < 2:
                cells.append("%f" % (diag if i == j else off))
            else:
                cells.append("nan")
        rows.append("\t".join(cells))
    return head + "\n".join(rows) + "\n"


def write(name, text):
    with open(os.path.join(out, "sjsim." + name), "w") as f:
        f.write(text)


write("config", "# Current configuration\n%d # Number of CPUs\n1 # Number of NUMA nodes\n"
      "1 # Number of CUDA devices\n0 # Number of OpenCL devices\n0 # Number of MIC devices\n"
      "0 # Number of MPI devices\n" % NCPU)
write("affinity", "# GPU\t" + "".join("CPU%d\t" % c for c in range(NCPU)) + "\n"
      "0\t" + "".join("%d\t" % c for c in range(NCPU)) + "\n")
write("bandwidth", matrix(0.0, BW_MBS))
write("latency", matrix(0.0, LAT_US))

bps = BW_MBS * 1e6
hosts = "".join('   <host id="CPU%d" speed="2000000000f"/>\n' % c for c in range(NCPU))
xml = """<?xml version='1.0'?>
<!DOCTYPE platform SYSTEM "https://simgrid.org/simgrid.dtd">
<platform version="4.1">
 <config id="General">
   <prop id="network/TCP-gamma" value="-1"></prop>
   <prop id="network/latency-factor" value="1"></prop>
   <prop id="network/bandwidth-factor" value="1"></prop>
   <prop id="network/weight-S" value="0.0"></prop>
   <prop id="network/crosstraffic" value="0"></prop>
 </config>
 <zone id="AS0" routing="Full">
   <host id="MAIN" speed="1f"/>
%s   <host id="CUDA0" speed="2000000000f">
     <prop id="memsize" value="%d"/>
     <prop id="memcpy_peer" value="1"/>
   </host>
   <host id="RAM" speed="1f"/>
   <link id="Host" bandwidth="%fBps" latency="0.000000s"/>
   <link id="RAM-CUDA0" bandwidth="%fBps" latency="%fs"/>
   <link id="CUDA0-RAM" bandwidth="%fBps" latency="%fs"/>
   <route src="RAM" dst="CUDA0" symmetrical="NO">
    <link_ctn id="RAM-CUDA0"/>
    <link_ctn id="Host"/>
   </route>
   <route src="CUDA0" dst="RAM" symmetrical="NO">
    <link_ctn id="CUDA0-RAM"/>
    <link_ctn id="Host"/>
   </route>
 </zone>
</platform>
""" % (hosts, GPU_MEM, 2 * bps, bps, LAT_US * 1e-6, bps, LAT_US * 1e-6)
write("platform.v4.xml", xml)
print("wrote", out)
