/*
 * What the solvers share: options and argument checks, the clock and the
 * monitor, and probes (a graph scalar read on each rank from a local copy).
 * The solvers build on the public array and operator API only.
 */
#ifndef SJ_SOLVE_PRIVATE_H
#define SJ_SOLVE_PRIVATE_H

#include <starjets/array.h>
#include <starjets/op.h>
#include <starjets/scalar.h>
#include <starjets/solve.h>

#include "base/base.h"

/* Largest lag (iterations submitted past the one checked). */
#define SJ__SOLVE_MAX_LAG 64

/* The options to use (@p in or the defaults), checked: SJ_EINVAL with a sentence. */
int sj__solve_options(const char *func, const sj_solve_options_t *in, sj_solve_options_t *out);

/* @p op is non-NULL and linear (SJ_ENULL / SJ_EINVAL naming @p what). */
int sj__solve_check_linear(const char *func, const char *what, sj_op_t op);

/*
 * @p a and @p b have the same element type, number of blocks and block
 * lengths (what an apply needs): SJ_EMISMATCH naming both, else SJ_OK.
 */
int sj__solve_match(const char *func, const char *aname, sj_space_t a, const char *bname,
                    sj_space_t b);

/* The space of @p x matches @p space (SJ_ENULL / SJ_EMISMATCH naming @p what). */
int sj__solve_check_array(const char *func, const char *what, sj_array_t x, const char *sname,
                          sj_space_t space);

/* @p x and @p y have the same space (SJ_EMISMATCH); *same_dist: and the same layout. */
int sj__solve_check_same(const char *func, const char *xn, sj_array_t x, const char *yn,
                         sj_array_t y, int *same_dist);

/* Seconds on the monotonic clock. */
double sj__solve_clock(void);

/* Call the monitor on rank 0, when there is one. */
void sj__solve_monitor(sj_solve_monitor_fn_t fn, void *ctx, const char *solver, int iteration,
                       int submitted, double rnorm, double arnorm, double objective, double t0);

/*
 * Probes: graph scalars read without a message. Putting a scalar in a probe
 * keeps a copy of it (one scalar task per rank: `s * 1`, the scalar's bits
 * exactly), and reading it waits for this rank's copy only
 * (sj__solve_peek), then frees it. Every rank's copy of a graph scalar has
 * the same bits, so every rank reads the same value and takes the same
 * decision without agreeing on it. `nslots * nvals` values: slot k of an
 * iteration ring, value v of an iteration.
 */
typedef struct sj__probe {
    int nslots, nvals;
    sj_scalar_t one;
    sj_scalar_t *val;
} sj__probe_t;

int sj__probe_create(int nslots, int nvals, sj__probe_t *p);
int sj__probe_put(sj__probe_t *p, int slot, int v, sj_scalar_t s);
int sj__probe_get(sj__probe_t *p, int slot, int v, double *value);
void sj__probe_destroy(sj__probe_t *p);

/*
 * This rank's copy of graph scalar @p s, then @p s destroyed (*s = NULL): a
 * probe without its two tasks, for solvers that read a few values per
 * evaluation. Waits for this rank's copy only (no message, no collective);
 * every rank's copy has the same bits, so every rank reads the same value.
 * A NULL scalar reads as 0.
 */
int sj__solve_peek(sj_scalar_t *s, double *value);

/*
 * sj_solve_lsqr with a workspace (no preconditioner), for a solver that
 * calls it again and again with the same A, b, x and lag (Gauss-Newton's
 * inner solves): its work arrays and probes are made at the first call and
 * kept in *ws (made or remade when NULL or made for other arguments), so a
 * call makes no array (each costs an agreement between the ranks); and it
 * ends without sj_wait, the caller's solve reporting task failures at its
 * end. Free with sj__lsqr_ws_free (NULL is a no-op).
 */
typedef struct sj__lsqr_ws sj__lsqr_ws_t;
int sj__solve_lsqr_ws(sj_op_t A, sj_array_t b, sj_array_t x, const sj_solve_options_t *opts,
                      sj_solve_result_t *result, sj__lsqr_ws_t **ws);
void sj__lsqr_ws_free(sj__lsqr_ws_t **ws);

/* sj_array_destroy / sj_scalar_destroy over a list, skipping NULLs. */
void sj__solve_free_arrays(int n, sj_array_t *a);
void sj__solve_free_scalars(int n, sj_scalar_t *s);

/*
 * The end of a solve, on every rank: report task failures of the solve
 * (SJ_EUSER on every rank) through one wait, and fill the elapsed time.
 */
int sj__solve_finish(const char *func, int rc, double t0, sj_solve_result_t *res);

#endif /* SJ_SOLVE_PRIVATE_H */
