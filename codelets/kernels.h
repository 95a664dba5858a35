/*
 * The kernels that tasks run, as seen by the algorithms: their numbers and
 * argument block, plus the reduction arithmetic shared by the task graph and
 * the blocking reductions (so both give the same bits). No StarPU here;
 * codelets/codelets.c maps each number to a StarPU codelet.
 *
 * Buffer convention: buffer 0 is the one written; the others are read.
 */
#ifndef SJ_KERNELS_H
#define SJ_KERNELS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include <starjets/array.h>
#include <starjets/op.h>

typedef enum sj__kernel {
    SJ__K_FILL = 0,      /* [0] W: x = a */
    SJ__K_SCALE,         /* [0] RW: x *= a */
    SJ__K_AXPBY,         /* [0] RW y (W when b == 0), [1] R x: y = a * x + b * y */
    SJ__K_MUL,           /* [0] z, [1..] inputs; op = SJ__MUL_* */
    SJ__K_COPY,          /* [0] W dst, [1] R src */
    SJ__K_RAND,          /* [0] W: Philox uniform (op 0) or normal (op 1) */
    SJ__K_MAP,           /* [0] RW out, [1..nin] R inputs: user function */
    SJ__K_PARTIAL,       /* [0] W partial (1 double), [1] R x, [2] R y (dot) */
    SJ__K_COMBINE,       /* [0] RW partial i, [1] R partial j */
    SJ__K_FINISH,        /* [0] RW: final step of a reduction (sqrt, mean) */
    SJ__K_SCALAR_BINARY, /* [0] W c, [1] R a, [2] R b */
    SJ__K_AXPY_SCALAR,   /* [0] RW y, [1] R x, [2] R alpha: y += a * alpha * x */
    SJ__K_SCALE_SCALAR,  /* [0] RW x, [1] R alpha: x *= a * alpha */
    SJ__K_SCALAR_SET,    /* [0] W scalar = a */
    SJ__K_GATHER,        /* [0] RW vector (W when count == 0), [1..] R vectors copied in order from slot count */
    SJ__K_REDUCE_ALL,    /* [0] W scalar, [1..] R vectors of per-block results: args are
                          * sj__kargs_t, then int block[nin'] (the block of each value, in
                          * the order of the inputs); the tree of sj__reduce_tree, finish */
    SJ__NKERNELS         /* operator kernels get numbers from here on: sj__codelet_op() */
} sj__kernel_t;

/*
 * Arguments of an operator leaf task, followed by ctx.params_size bytes.
 * Buffers: [0] out (W, or RW when beta != 0), [1] in, then the state when
 * has_state, then the Jacobian point when has_point.
 */
typedef struct sj__opargs {
    sj_op_fn_t fn;
    int dir; /* SJ__OPDIR_* */
    double alpha, beta;
    int has_state, has_point;
    sj_op_info_t ctx; /* pointers are filled in by the kernel */
    char name[32];
} sj__opargs_t;

enum { SJ__OPDIR_FORWARD = 0, SJ__OPDIR_ADJOINT = 1, SJ__OPDIR_JACOBIAN = 2 };

/* A CPU kernel function of a codelet: StarPU's buffers and the task's argument bytes. */
typedef void (*sj__cpu_fn_t)(void *buffers[], void *cl_arg);

/*
 * The kernel number of a codelet named @p name (also its perf model's name)
 * running @p cpu, made on first use; later calls with the same name return the
 * same number. For kernel families outside the fixed table above (a codelets/
 * file calls it, the algorithms submit the number it returns). Returns -1 when
 * out of memory. Buffer and argument conventions are the caller's.
 */
int sj__codelet_custom(const char *name, sj__cpu_fn_t cpu);

/*
 * The kernel number of operator class @p name in direction @p dir: one StarPU
 * codelet (and performance model "sj_op_<name>_<dir>") per class and
 * direction, made on first use. Returns -1 when out of memory.
 */
int sj__codelet_op(const char *name, int dir);

/* Start (@p path non-NULL) or stop the per-task JSON records of operator tasks. */
int sj__perfstat_set(const char *path, int rank);

/* Elementwise multiply variants (aliasing decides the buffers). */
enum { SJ__MUL_ZXY = 0, SJ__MUL_ZZY = 1, SJ__MUL_ZZZ = 2 };

/* Arguments of every kernel; MAP appends ctx_size bytes of user context. */
typedef struct sj__kargs {
    int dtype;
    int op;
    int nin;
    double a, b;
    uint64_t seed;
    int64_t count; /* elements of the whole array (mean) */
    sj_block_info_t blk;
    sj_block_fn_t fn;
    size_t ctx_size;
} sj__kargs_t;

/* Kernel bodies: expand the body (the variadic part) for both element types, T the type. */
#define FOR_DTYPE(dtype, ...)                                                                      \
    do {                                                                                           \
        if ((dtype) == SJ_FLOAT64) {                                                               \
            typedef double T;                                                                      \
            __VA_ARGS__;                                                                           \
        } else {                                                                                   \
            typedef float T;                                                                       \
            __VA_ARGS__;                                                                           \
        }                                                                                          \
    } while (0)

/* Set up the StarPU codelets (at runtime start; models are saved by StarPU at stop). */
void sj__codelets_init(void);

/* ---- reduction arithmetic, one definition for tasks and blocking paths -- */

static inline double sj__reduce_combine(int op, double a, double b)
{
    switch (op) {
    case SJ_REDUCE_MIN:
        return (a < b || isnan(a)) ? a : b;
    case SJ_REDUCE_MAX:
    case SJ_REDUCE_NORMINF:
        return (a > b || isnan(a)) ? a : b;
    default: /* SUM, MEAN, NORM1, NORM2 (sum of squares), DOT */
        return a + b;
    }
}

static inline double sj__reduce_finish(int op, double v, int64_t count)
{
    switch (op) {
    case SJ_REDUCE_NORM2:
        return sqrt(v);
    case SJ_REDUCE_MEAN:
        return v / (double)count;
    default:
        return v;
    }
}

/*
 * Combine per-block results in place in the fixed pairwise tree order:
 * at stride s = 1, 2, 4, ... part[i] = combine(part[i], part[i + s]) for i a
 * multiple of 2s. The task graph submits exactly these combines.
 */
static inline double sj__reduce_tree(int op, double *part, int n)
{
    for (int s = 1; s < n; s *= 2)
        for (int i = 0; i + s < n; i += 2 * s)
            part[i] = sj__reduce_combine(op, part[i], part[i + s]);
    return part[0];
}

#endif /* SJ_KERNELS_H */
