#!/usr/bin/env python3
"""The NumPy one-liner of docs/reliability.md on the file tests/io_cross.c saves:
element (i, j) of the 300 x 200 float64 array is i + 1000 j. Exit 77 without NumPy."""
import os
import sys

try:
    import numpy as np
except ImportError:
    # CMake may have found another interpreter (pyenv) than the system's, which has NumPy
    if os.path.exists("/usr/bin/python3") and "IO_NUMPY_REEXEC" not in os.environ:
        os.environ["IO_NUMPY_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("io_numpy: no NumPy: skipped")
    sys.exit(77)

f = sys.argv[1]
a = np.fromfile(f, dtype="<f8", offset=8192, count=300 * 200).reshape((300, 200), order="F")
i, j = np.meshgrid(np.arange(300), np.arange(200), indexing="ij")
bad = int(np.count_nonzero(a != i + 1000.0 * j))
print("io_numpy: %s: shape %s, %d wrong element(s)" % (f, a.shape, bad))
sys.exit(1 if bad else 0)
