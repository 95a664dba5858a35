/**
 * @file starjets.h
 * @brief starjets: distributed block arrays and operators on StarPU-MPI.
 *
 * The umbrella header: include it and link `starjets::starjets` (CMake) or
 * `pkg-config --libs starjets`.
 */
#ifndef STARJETS_H
#define STARJETS_H

#include <starjets/array.h>
#include <starjets/config.h>
#include <starjets/cuda.h>
#include <starjets/dist.h>
#include <starjets/error.h>
#include <starjets/io.h>
#include <starjets/op.h>
#include <starjets/ops.h>
#include <starjets/runtime.h>
#include <starjets/scalar.h>
#include <starjets/solve.h>
#include <starjets/space.h>
#include <starjets/spmd.h>
#include <starjets/stencil.h>
#include <starjets/task.h>

#endif /* STARJETS_H */
