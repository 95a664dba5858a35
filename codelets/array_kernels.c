/*
 * CPU kernels of the array family: fill, scale, axpby, multiply, copy, random,
 * user map. Each works on one block (a StarPU vector of float or double).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <Random123/philox.h>

#include "codelets_private.h"

void sj__cpu_fill(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = cl_arg;
    int64_t n = NELEMS(0);
    FOR_DTYPE(a->dtype, {
        T *x = PTR(0);
        const T v = (T)a->a;
        for (int64_t i = 0; i < n; i++)
            x[i] = v;
    });
}

void sj__cpu_scale(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = cl_arg;
    int64_t n = NELEMS(0);
    FOR_DTYPE(a->dtype, {
        T *x = PTR(0);
        const T s = (T)a->a;
        for (int64_t i = 0; i < n; i++)
            x[i] *= s;
    });
}

void sj__cpu_axpby(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = cl_arg;
    int64_t n = NELEMS(0);
    FOR_DTYPE(a->dtype, {
        T *y = PTR(0);
        const T *x = PTR(1);
        const T alpha = (T)a->a, beta = (T)a->b;
        if (beta == 1)
            for (int64_t i = 0; i < n; i++)
                y[i] = alpha * x[i] + y[i];
        else if (beta == 0) /* y may be unwritten memory: never read it */
            for (int64_t i = 0; i < n; i++)
                y[i] = alpha * x[i];
        else
            for (int64_t i = 0; i < n; i++)
                y[i] = alpha * x[i] + beta * y[i];
    });
}

void sj__cpu_mul(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = cl_arg;
    int64_t n = NELEMS(0);
    FOR_DTYPE(a->dtype, {
        T *z = PTR(0);
        if (a->op == SJ__MUL_ZXY) {
            const T *x = PTR(1), *y = PTR(2);
            for (int64_t i = 0; i < n; i++)
                z[i] = x[i] * y[i];
        } else if (a->op == SJ__MUL_ZZY) {
            const T *y = PTR(1);
            for (int64_t i = 0; i < n; i++)
                z[i] = z[i] * y[i];
        } else {
            for (int64_t i = 0; i < n; i++)
                z[i] = z[i] * z[i];
        }
    });
}

void sj__cpu_copy(void *buffers[], void *cl_arg)
{
    (void)cl_arg;
    memcpy(PTR(0), PTR(1), (size_t)NELEMS(0) * STARPU_VECTOR_GET_ELEMSIZE(buffers[0]));
}

/* Element k of a random array: Philox4x32-10 at counter k under key seed. */
static inline philox4x32_ctr_t philox_at(uint64_t seed, uint64_t k)
{
    philox4x32_ctr_t c = {{(uint32_t)k, (uint32_t)(k >> 32), 0, 0}};
    philox4x32_key_t key = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
    return philox4x32(c, key);
}

static inline double bits53(uint32_t hi, uint32_t lo)
{
    return (double)(((uint64_t)hi << 21) | (lo >> 11)) * 0x1p-53;
}

static inline double uniform_at(uint64_t seed, uint64_t k)
{
    philox4x32_ctr_t r = philox_at(seed, k);
    return bits53(r.v[0], r.v[1]);
}

static inline float uniformf_at(uint64_t seed, uint64_t k)
{
    philox4x32_ctr_t r = philox_at(seed, k);
    return (float)(r.v[0] >> 8) * 0x1p-24f;
}

static inline double normal_at(uint64_t seed, uint64_t k)
{
    philox4x32_ctr_t r = philox_at(seed, k);
    double u1 = bits53(r.v[0], r.v[1]) + 0x1p-53; /* (0, 1] */
    double u2 = bits53(r.v[2], r.v[3]);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925286766559 * u2);
}

void sj__cpu_rand(void *buffers[], void *cl_arg)
{
    const sj__kargs_t *a = cl_arg;
    const sj_block_info_t *b = &a->blk;
    const int64_t g0 = b->gdims[0], g1 = b->gdims[1];
    int64_t i = 0;
    for (int64_t l = 0; l < b->dims[2]; l++)
        for (int64_t j = 0; j < b->dims[1]; j++) {
            uint64_t k = (uint64_t)(b->lo[0] + g0 * ((b->lo[1] + j) + g1 * (b->lo[2] + l)));
            int64_t n0 = b->dims[0];
            if (a->dtype == SJ_FLOAT64) {
                double *x = (double *)PTR(0) + i;
                if (a->op == 0)
                    for (int64_t m = 0; m < n0; m++)
                        x[m] = uniform_at(a->seed, k + (uint64_t)m);
                else
                    for (int64_t m = 0; m < n0; m++)
                        x[m] = normal_at(a->seed, k + (uint64_t)m);
            } else {
                float *x = (float *)PTR(0) + i;
                if (a->op == 0)
                    for (int64_t m = 0; m < n0; m++)
                        x[m] = uniformf_at(a->seed, k + (uint64_t)m);
                else
                    for (int64_t m = 0; m < n0; m++)
                        x[m] = (float)normal_at(a->seed, k + (uint64_t)m);
            }
            i += n0;
        }
}

void sj__cpu_map(void *buffers[], void *cl_arg)
{
    sj__kargs_t *a = cl_arg;
    const void *in[SJ__MAP_MAX_IN];
    for (int i = 0; i < a->nin; i++)
        in[i] = PTR(1 + i);
    void *ctx = a->ctx_size ? (char *)a + sizeof *a : (void *)a->ctx_as_is;
    int rc = a->fn(&a->blk, PTR(0), in, ctx);
    if (rc != 0)
        sj__kernel_fail("user block function returned %d on block %d", rc, a->blk.block);
}

void sj__cpu_boxcopy(void *buffers[], void *cl_arg)
{
    const sj__boxcopy_args_t *a = cl_arg;
    const sj__view_t dst = sj__view_of(buffers[0], a->dst_dims),
                     src = sj__view_of(buffers[1], a->src_dims);
    const size_t es = a->elemsize, run = (size_t)a->n[0] * es;
    for (int64_t l = 0; l < a->n[2]; l++)
        for (int64_t j = 0; j < a->n[1]; j++)
            memcpy(sj__col(&dst, a->dst_off[1] + j, a->dst_off[2] + l) + (size_t)a->dst_off[0] * es,
                   sj__col(&src, a->src_off[1] + j, a->src_off[2] + l) + (size_t)a->src_off[0] * es,
                   run);
}
