/* Internal structures of spaces, layouts, arrays and graph scalars. */
#ifndef SJ_ARRAY_PRIVATE_H
#define SJ_ARRAY_PRIVATE_H

#include <starjets/array.h>
#include <starjets/dist.h>
#include <starjets/scalar.h>
#include <starjets/space.h>

#include "base/base.h"
#include "kernels/array.h"
#include "runtime/rt.h"

struct sj_space_s {
    sj__object_t obj;
    sj_dtype_t dtype;
    int ndims;
    int64_t dims[SJ_MAX_DIMS];  /* 1 for unused dimensions */
    int nblocks[SJ_MAX_DIMS];   /* 1 for unused dimensions */
    int total;                  /* number of blocks */
    int64_t *cuts[SJ_MAX_DIMS]; /* nblocks[d] + 1 offsets per dimension */
};

struct sj_dist_s {
    sj__object_t obj;
    sj_dist_kind_t kind;
    int ndims;
    int nblocks[SJ_MAX_DIMS];
    int total;
    int *owner; /* per block */
    int nprocs;
    int *procs; /* in process-grid order */
    int grid[SJ_MAX_DIMS];
    int nranks;       /* communicator size when made */
    int *local_start; /* nranks + 1: rank r owns local[local_start[r] ..) */
    int *local;       /* blocks grouped by owner, increasing */
    int *box_start;   /* nranks + 1 */
    sj_box_t *boxes;
};

struct sj_array_s {
    sj__object_t obj;
    sj_space_t space;
    sj_dist_t dist;
    int64_t tag;         /* first of 2 * space->total tags (blocks, then moves) */
    sj__data_t *handles; /* per block */
    void **mem;          /* per block: memory on the owner, NULL elsewhere */
    unsigned char *got;  /* per block: localpart taken */
    /* graph reductions of this array (reduce.c): per rank with blocks, this
     * rank's copy of that rank's per-block results, under tag xtag + rank;
     * made at the first one, kept until the array is destroyed */
    sj__data_t *xvec;
    int64_t xtag;
    /* the ghost strips of the last stencil step that read this array
     * (halo.c), reused by the next one with the same width and boundaries */
    struct sj__halo_cache *halo;
    /* arrays wrapped around the host's memory (wrap.c); NULL when starjets
     * allocates the blocks */
    struct sj__wrap *wrap;
};

/* The host's memory behind a wrapped array: where each local block starts
 * and the leading dimensions of the host's array around it. */
typedef struct sj__wrap {
    char **view;          /* per block: its first element on the owner, NULL elsewhere */
    int64_t (*ld)[2];     /* per block: elements between columns, columns between planes */
    sj_access_t acquired; /* mode of sj_array_acquire() on this rank, or 0 */
} sj__wrap_t;

/* Free a wrap description (NULL is a no-op). */
void sj__wrap_free(sj__wrap_t *w);
/*
 * Make an array whose blocks are not yet written (@p wrap NULL: StarPU
 * allocates them) or live in the host's memory (@p wrap: taken over by the
 * array, freed with it, also on failure).
 */
int sj__array_new(const char *func, sj_space_t space, sj_dist_t dist, sj__wrap_t *wrap,
                  sj_array_t *out);
/* Non-zero when block b of @p a is a strided view of the host's memory. */
int sj__array_strided(sj_array_t a, int b);
/* Copy n[0] x n[1] x n[2] elements of @p es bytes between column-major arrays
 * whose columns are ld[0] elements apart and planes ld[0] * ld[1]. */
void sj__copy_strided(size_t es, const int64_t n[3], char *dst, const int64_t dld[2],
                      const char *src, const int64_t sld[2]);

/* Give back the handles of the array's graph reductions (at destroy). */
void sj__array_reduce_fini(sj_array_t a);
/* Give back the array's cached ghost strips (at destroy). */
void sj__array_halo_fini(sj_array_t a);

/* A graph scalar: every rank holds its own copy, in a handle of its own
 * (no tag), computed by the same kernels on the same inputs: the same bits. */
struct sj_scalar_s {
    sj__object_t obj;
    sj__data_t handle;
};

/* References held by objects built on spaces and layouts. */
void sj__space_ref(sj_space_t s);
void sj__space_unref(sj_space_t s);
void sj__dist_ref(sj_dist_t d);
void sj__dist_unref(sj_dist_t d);

/* Fill the block description of block @p b of @p s. */
void sj__space_block_info(sj_space_t s, int b, sj_block_info_t *info);
int64_t sj__space_block_nelems(sj_space_t s, int b);

/* Checks shared by the array functions (return an error naming @p func). */
int sj__check_running(const char *func);
int sj__check_array(const char *func, const char *name, sj_array_t a);
int sj__check_same(const char *func, const char *na, sj_array_t a, const char *nb, sj_array_t b);
int sj__check_root(const char *func, int root);

/*
 * Submit kernel k on every block this rank owns, with the matching blocks of
 * arrays[0..n) (n <= 3; arrays[0] accessed with mode m0, the others read). All
 * arrays share one layout, so each task's data live on this rank. With
 * @p with_info, args->blk describes each block.
 */
int sj__array_submit_local(sj__kernel_t k, sj__kargs_t *args, int with_info, sj__mode_t m0, int n,
                           sj_array_t arrays[]);

/*
 * The graph path of a reduction of @p x by @p op (reduce.c): @p partial submits
 * the task that writes block @p block's result (one double, computed as
 * sj__cpu_partial does) into @p out; this rank's results go to every rank
 * and each walks the tree into its copy of a new scalar, *result. The
 * caller checked its arguments.
 */
typedef int (*sj__partial_fn_t)(void *ctx, int block, sj__data_t out);
int sj__array_reduce_graph(sj_reduce_op_t op, sj_array_t x, sj__partial_fn_t partial, void *ctx,
                           sj_scalar_t *result);

/* Make a scalar object around a local handle (this rank's copy). */
int sj__scalar_wrap(sj__data_t handle, sj_scalar_t *out);
/* sj_scalar_value() and sj_scalar_destroy() for a scalar of starjets' own: the
 * same work, but not numbered as collective calls of the program's. */
int sj__scalar_read(const char *func, sj_scalar_t scalar, double *value);
void sj__scalar_free(sj_scalar_t scalar);

#endif /* SJ_ARRAY_PRIVATE_H */
