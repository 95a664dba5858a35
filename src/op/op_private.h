/*
 * Internal structures of operators. An operator is a tree: leaves (one rank,
 * state in a data handle on that rank), algebra nodes (compose, combine,
 * scale, adjoint) and block nodes (a sparse grid of operators on a 2-D
 * layout). Applies walk the tree and submit tasks; see apply.c and block.c.
 */
#ifndef SJ_OP_PRIVATE_H
#define SJ_OP_PRIVATE_H

#include <starjets/op.h>
#include <starjets/ops.h>

#include "array/array_private.h"

typedef enum sj__op_type {
    SJ__OP_LEAF = 0,
    SJ__OP_COMPOSE, /* b ∘ a */
    SJ__OP_COMBINE, /* ca a + cb b */
    SJ__OP_SCALE,   /* ca a */
    SJ__OP_ADJOINT, /* a' */
    SJ__OP_BLOCK,
} sj__op_type_t;

/* What a leaf and its Jacobians share: the class, parameters and state. */
typedef struct sj__leaf {
    int refs;
    sj_op_class_t cls;
    char name[32];
    int owner;
    int zero;     /* a zero block: applies submit nothing */
    void *params; /* params_size bytes (owner only) */
    size_t params_size;
    sj__data_t state; /* NULL when state_size == 0 */
    size_t state_size;
    int64_t state_tag;
    int kid[3]; /* kernel per direction (sj__rt_kernel_variant of SJ__K_OP), -1 until used */
} sj__leaf_t;

typedef struct sj__block {
    int m, n;
    sj_dist_t dist; /* 2-D m x n */
    sj_op_t *grid;  /* m * n, row-major; NULL = zero */
    sj_op_block_kind_t kind;
    /* non-zero blocks by row (columns j) and by column (rows i), in order */
    int *row_ptr, *row_idx, *col_ptr, *col_idx;
} sj__block_t;

struct sj_op_s {
    sj__object_t obj;
    int user_refs; /* handles the user holds (the adjoint of an adjoint is the same object) */
    sj__op_type_t type;
    int linear;
    int home; /* rank running all its tasks, or -1 */
    sj_space_t dom_space, rng_space;
    sj_dist_t dom_dist, rng_dist;
    /* leaf */
    sj__leaf_t *leaf;
    sj__data_t point; /* Jacobian point (domain-sized, on the owner), or NULL */
    int64_t point_tag;
    /* algebra */
    sj_op_t a, b;
    double ca, cb;
    /* block */
    sj__block_t *blk;
    /* the temporaries of the last apply in each direction, y = A x apart
     * from y = alpha A x + beta y (apply.c: [2 dir + plain]), reused by the
     * next one with the same shapes; [4]: those of the last
     * sj__op_jacobian_move of this Jacobian */
    struct sj__tmp *tmp_cache[5];
};

/* Give back an operator's cached temporaries (at destroy). */
void sj__op_tmp_cache_free(sj_op_t op);

/* Mark a leaf as a zero operator (a block operator submits nothing for it). */
void sj__op_set_zero(sj_op_t op);

/* 1 when a leaf is a zero operator. */
int sj__op_is_zero(sj_op_t op);

/* References between operators. */
void sj__op_ref(sj_op_t op);
void sj__op_unref(sj_op_t op);
/* One more user handle to @p op (returned). */
sj_op_t sj__op_user_ref(sj_op_t op);

/* Spaces match for operators: same element type, block count and block lengths. */
int sj__space_compatible(sj_space_t a, sj_space_t b);

/* Check an operator argument of public function @p func. */
int sj__check_op(const char *func, const char *name, sj_op_t op);
/* SJ_EMISMATCH naming @p func unless @p have and @p want are compatible. */
int sj__check_compatible(const char *func, const char *what, sj_space_t have, const char *want_what,
                         sj_space_t want);

/* ---- data views used by the applies ---------------------------------------- */

struct sj__tmp;

/* Blocks of data as the applies see them: an array, one block of it, or a temporary. */
typedef struct sj__vec {
    sj_space_t space; /* the blocks' lengths and type */
    int nblocks;
    sj__data_t *h;    /* per block */
    const int *owner; /* per block */
    int temp;         /* a temporary of the call: never flushed */
} sj__vec_t;

/*
 * One top-level call (apply or Jacobian): temporaries to release and handles
 * read on other ranks, to flush, once every task of the call is submitted.
 */
typedef struct sj__call {
    const char *func;
    int brow, bcol; /* block being applied (perf records), -1 outside block operators */
    sj__data_t *flush;
    int nflush, capflush;
    struct sj__tmp *tmps;
    /* an apply: the operator's cached temporaries, and the next one to reuse */
    struct sj__tmp **cache, **cursor;
} sj__call_t;

void sj__call_init(sj__call_t *c, const char *func);
/* The same for an apply of @p A in direction @p dir: temporaries come from A's cache
 * (@p plain: y = A x, alpha 1 and beta 0, whose temporaries differ). */
void sj__call_init_apply(sj__call_t *c, const char *func, sj_op_t A, int dir, int plain);
/* Flush what was read remotely and release the temporaries (does not wait). */
void sj__call_finish(sj__call_t *c);
/* Remember that @p h was read on a rank other than its owner. */
int sj__call_flush_later(sj__call_t *c, sj__data_t h);
/* A temporary of @p space (one handle per block, owners given), freed by sj__call_finish. */
int sj__call_temp(sj__call_t *c, sj_space_t space, const int owner[], sj__vec_t *v);

/* View of array @p a, and of its block @p b as a one-block vector of @p space. */
void sj__vec_of_array(sj_array_t a, sj__vec_t *v);
void sj__vec_block(const sj__vec_t *v, int b, sj_space_t space, sj__vec_t *out);

/* y = alpha op(x) + beta y; every rank calls it with the same arguments. */
int sj__op_apply(sj__call_t *c, sj_op_t A, int dir, double alpha, const sj__vec_t *x, double beta,
                 const sj__vec_t *y);
/* y = alpha x + beta y on one-block vectors, on y's owner. */
int sj__vec_axpby(sj__call_t *c, double alpha, const sj__vec_t *x, double beta, const sj__vec_t *y);
/* y = beta y (beta == 0: zeros, y not read). */
int sj__vec_scale(double beta, const sj__vec_t *y);
/* Apply on block operators (block.c). */
int sj__block_apply(sj__call_t *c, sj_op_t A, int dir, double alpha, const sj__vec_t *x,
                    double beta, const sj__vec_t *y);
/* Jacobian of a block operator (block.c). */
int sj__block_jacobian(sj__call_t *c, sj_op_t F, const sj__vec_t *m0, sj_op_t *J);
/* Jacobian of @p F at @p m0 (a vector of F's domain); *J is a new user handle. */
int sj__op_jacobian(sj__call_t *c, sj_op_t F, const sj__vec_t *m0, sj_op_t *J);
/*
 * Move @p J, a Jacobian that sj_op_jacobian made of @p F, to the point @p m0
 * (an array of F's domain): afterwards J is what sj_op_jacobian(F, m0) would
 * make, with the same bits. Nothing is created after the first move (the
 * intermediate points of compositions are cached in J) and nothing waits:
 * where a new Jacobian costs an operator tree, a handle and a tag per leaf
 * and one agreement between the ranks per temporary, a move is the point
 * copies and the inner applies. J's applies keep their cached temporaries.
 * Collective (every rank, same arguments); SJ_EINVAL when J's tree is not
 * F's Jacobian tree.
 */
int sj__op_jacobian_move(sj_op_t J, sj_op_t F, sj_array_t m0);
/* Check that every leaf under @p A has the functions direction @p dir needs. */
int sj__op_check_dir(const char *func, sj_op_t A, int dir);

/* New operator object of @p type with spaces and layouts (references taken). */
int sj__op_new(sj__op_type_t type, sj_space_t dom, sj_dist_t ddist, sj_space_t rng, sj_dist_t rdist,
               sj_op_t *out);

#endif /* SJ_OP_PRIVATE_H */
