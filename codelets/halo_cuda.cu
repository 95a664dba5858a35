/*
 * The CUDA bodies of box copies (redistribution), halo packing and stencil
 * parts whose user function has a CUDA version. Every copy is one launch
 * over up to SJ__G_MAX_PIECES boxes (gpu_kernels.h: sj__g_piece_t, one
 * thread per cell, blockIdx.y the piece); the boxes' places and strides come
 * from the sj__g_*_plan functions that tests/test_gpu_kernels.c checks
 * against the CPU kernels of halo_kernels.c and array_kernels.c.
 */
#include <stdint.h>

#include "codelets/cuda_private.h"

extern "C" {
#include "kernels/array.h"
#include "kernels/halo.h"
}

using namespace sj_cuda;

namespace
{

/* The pieces of one launch, passed by value (CUDA takes up to 4 KiB of parameters). */
typedef struct pieces {
    int n;
    sj__g_piece_t p[SJ__G_MAX_PIECES];
} pieces_t;

static_assert(sizeof(pieces_t) <= 4096, "a launch's pieces must fit CUDA's parameter space");

__global__ void k_pieces_u32(pieces_t ps)
{
    const sj__g_piece_t *p = &ps.p[blockIdx.y];
    GRID_STRIDE(t, sj__g_box_cells(&p->box)) sj__g_piece_u32(t, p);
}
__global__ void k_pieces_u64(pieces_t ps)
{
    const sj__g_piece_t *p = &ps.p[blockIdx.y];
    GRID_STRIDE(t, sj__g_box_cells(&p->box)) sj__g_piece_u64(t, p);
}

/* Launch the copies and fills of @p ps (elements of @p es bytes); 0, or -1 after a failure. */
int launch_pieces(const pieces_t *ps, size_t es, const char *what)
{
    if (ps->n == 0)
        return 0;
    if (es != 4 && es != 8) {
        sj__kernel_fail("%s: elements of %zu bytes (the CUDA copies take 4 or 8)", what, es);
        return -1;
    }
    int64_t most = 0;
    for (int i = 0; i < ps->n; i++) {
        const int64_t c = sj__g_box_cells(&ps->p[i].box);
        most = c > most ? c : most;
    }
    const dim3 grid(grid_for(most), (unsigned)ps->n);
    if (es == 8)
        k_pieces_u64<<<grid, THREADS, 0, stream()>>>(*ps);
    else
        k_pieces_u32<<<grid, THREADS, 0, stream()>>>(*ps);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) {
        sj__kernel_fail("%s: CUDA launch failed: %s", what, cudaGetErrorString(e));
        return -1;
    }
    return 0;
}

size_t elemsize_of(int dtype)
{
    return dtype == SJ_FLOAT32 ? sizeof(float) : sizeof(double);
}

} /* namespace */

extern "C" void sj__cuda_boxcopy(void *buffers[], void *cl_arg)
{
    const sj__boxcopy_args_t *a = (const sj__boxcopy_args_t *)cl_arg;
    int64_t dld[2], sld[2];
    dev_ld(buffers[0], a->dst_dims, dld);
    dev_ld(buffers[1], a->src_dims, sld);
    pieces_t ps;
    ps.n = 1;
    ps.p[0].box = sj__g_boxcopy_plan(a, dld, sld);
    ps.p[0].dst = dev_ptr(buffers[0]);
    ps.p[0].src = dev_ptr(buffers[1]);
    ps.p[0].bits = 0;
    launch_pieces(&ps, a->elemsize, "sj_boxcopy");
}

/* Buffer 0 the source block, buffers 1.. the strips (then claimed receive buffers, untouched). */
extern "C" void sj__cuda_halo_pack(void *buffers[], void *cl_arg)
{
    const sj__halo_pack_args_t *a = (const sj__halo_pack_args_t *)cl_arg;
    int64_t sst[3];
    dev_strides(buffers[0], a->stride, sst);
    pieces_t ps;
    ps.n = a->nstrips;
    for (int s = 0; s < a->nstrips; s++) {
        ps.p[s].box = sj__g_pack_plan(a, s, sst);
        ps.p[s].dst = dev_ptr(buffers[1 + s]);
        ps.p[s].src = dev_ptr(buffers[0]);
        ps.p[s].bits = 0;
    }
    launch_pieces(&ps, a->elemsize, "sj_halo_pack");
}

/*
 * As sj__cpu_stencil, with the user's CUDA function on device memory: the
 * interior on the input block in place, a frame slab or a whole block on a
 * padded copy assembled in the worker's device scratch. The sources of a
 * task cover disjoint regions (the block, then one per direction), so the
 * pieces of an assembly may run in any order. The parts of a task reuse one
 * padded area: the user's kernels for a part run on the worker's stream
 * before the next part's assembly.
 */
extern "C" void sj__cuda_stencil(void *buffers[], void *cl_arg)
{
    const sj__halo_args_t *a = (const sj__halo_args_t *)cl_arg;
    void *ctx = a->ctx_size ? (char *)cl_arg + sizeof *a : (void *)a->ctx_as_is;
    const size_t es = elemsize_of(a->info.blk.dtype);
    if (!a->fn_cuda) { /* the registry gives this body to variants made with a CUDA function */
        sj__kernel_fail("stencil on block %d: no CUDA function", a->info.blk.block);
        return;
    }
    sj_stencil_info_t info = a->info;
    dev_strides(buffers[0], a->info.out_stride, info.out_stride);
    char *pad = NULL;
    if (info.part != SJ_STENCIL_INTERIOR) {
        int64_t most = 0, lo[3], stride[3], origin;
        for (int p = 0; p < a->nparts; p++) {
            const int64_t c = sj__g_padded(a, &a->part[p], lo, stride, &origin);
            most = c > most ? c : most;
        }
        pad = (char *)scratch((size_t)most * es);
        if (!pad) {
            sj__kernel_fail("stencil on block %d: out of device memory for a padded slab",
                            info.blk.block);
            return;
        }
    }
    const uint64_t bits = sj__g_value_bits(a->info.blk.dtype, a->fixed_value);
    for (int p = 0; p < a->nparts; p++) {
        const sj__halo_box_t *part = &a->part[p];
        for (int d = 0; d < SJ_MAX_DIMS; d++) {
            info.lo[d] = part->lo[d];
            info.hi[d] = part->hi[d];
        }
        const char *in;
        if (info.part == SJ_STENCIL_INTERIOR) {
            dev_strides(buffers[1], a->info.out_stride, info.in_stride);
            in = (const char *)dev_ptr(buffers[1]);
        } else {
            int64_t lo[3], origin;
            sj__g_padded(a, part, lo, info.in_stride, &origin);
            pieces_t ps;
            ps.n = 0;
            for (int r = 0; r < a->nsrc; r++) {
                const sj__halo_src_t *src = &a->src[r];
                int64_t sst[3] = {1, 1, 1};
                if (src->buf >= 0)
                    dev_strides(buffers[src->buf], src->stride, sst);
                sj__g_piece_t *pc = &ps.p[ps.n];
                if (!sj__g_assemble_plan(a, part, r, sst, &pc->box))
                    continue;
                pc->dst = pad;
                pc->src = src->buf < 0 ? NULL : dev_ptr(buffers[src->buf]);
                pc->bits = bits;
                ps.n++;
            }
            if (launch_pieces(&ps, es, "sj_stencil") != 0)
                return;
            /* block-local (0,0,0) may lie before the padded copy: integer arithmetic */
            in = (const char *)((uintptr_t)pad + (uintptr_t)(origin * (int64_t)es));
        }
        int rc = a->fn_cuda(&info, dev_ptr(buffers[0]), in, ctx);
        if (rc != 0) {
            sj__kernel_fail("user stencil function (CUDA) returned %d on block %d", rc,
                            info.blk.block);
            return;
        }
    }
}
