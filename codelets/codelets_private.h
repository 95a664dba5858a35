/* What every kernel body file shares: the contracts it reads and StarPU's vector accessors. */
#ifndef SJ_CODELETS_PRIVATE_H
#define SJ_CODELETS_PRIVATE_H

#include <stdint.h>

#include <starpu.h>

#include "codelets.h"
#include "kernels/array.h"
#include "kernels/dtype.h"

#define PTR(i) ((void *)STARPU_VECTOR_GET_PTR(buffers[i]))
#define NELEMS(i) ((int64_t)STARPU_VECTOR_GET_NX(buffers[i]))

/*
 * Buffers are contiguous vectors, except the blocks of arrays wrapped around
 * a host array with leading dimensions (sj_array_wrap_local): those are
 * StarPU block interfaces, strided views of the host's memory. The registry
 * stages them into contiguous scratch for most kernels; the kernels it
 * marks as taking views (registry.c) read them through sj__view.
 */
static inline int sj__is_view(const void *iface)
{
    return *(const enum starpu_data_interface_id *)iface == STARPU_BLOCK_INTERFACE_ID;
}

/* A buffer as a column-major box of n[0] x n[1] x n[2] elements whose columns
 * are ld[0] elements apart and planes ld[0] * ld[1]. */
typedef struct sj__view {
    char *ptr;
    int64_t n[3];
    int64_t ld[2];
    size_t es;
} sj__view_t;

/* The view of buffer @p iface; a contiguous vector takes the shape @p shape. */
static inline sj__view_t sj__view_of(void *iface, const int64_t shape[3])
{
    sj__view_t v;
    if (sj__is_view(iface)) {
        const struct starpu_block_interface *b = (const struct starpu_block_interface *)iface;
        v.ptr = (char *)b->ptr;
        v.n[0] = b->nx;
        v.n[1] = b->ny;
        v.n[2] = b->nz;
        v.ld[0] = b->ldy;
        v.ld[1] = b->ldz / b->ldy;
        v.es = b->elemsize;
    } else {
        v.ptr = (char *)STARPU_VECTOR_GET_PTR(iface);
        for (int d = 0; d < 3; d++)
            v.n[d] = shape[d];
        v.ld[0] = shape[0];
        v.ld[1] = shape[1];
        v.es = STARPU_VECTOR_GET_ELEMSIZE(iface);
    }
    return v;
}

/* Column (j, k) of a view. */
static inline char *sj__col(const sj__view_t *v, int64_t j, int64_t k)
{
    return v->ptr + (size_t)(v->ld[0] * (j + v->ld[1] * k)) * v->es;
}

/* Element strides (1, ld[0], ld[0] * ld[1]) of a view. */
static inline void sj__strides_of(const sj__view_t *v, int64_t s[3])
{
    s[0] = 1;
    s[1] = v->ld[0];
    s[2] = v->ld[0] * v->ld[1];
}

#endif /* SJ_CODELETS_PRIVATE_H */
