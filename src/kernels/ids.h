/*
 * The numbers of the kernels that tasks run: the one list the algorithms
 * submit from and the runtime's registry (src/runtime/registry.c) maps to
 * codelets. No includes, no StarPU, no operator or array types: the argument
 * blocks of each family are in the other headers of this folder.
 *
 * Buffer convention: buffer 0 is the one written; the others are read.
 */
#ifndef SJ_KERNELS_IDS_H
#define SJ_KERNELS_IDS_H

typedef enum sj__kernel {
    /* arrays (kernels/array.h: sj__kargs_t) */
    SJ__K_FILL = 0, /* [0] W: x = a */
    SJ__K_SCALE,    /* [0] RW: x *= a */
    SJ__K_AXPBY,    /* [0] RW y (W when b == 0), [1] R x: y = a * x + b * y */
    SJ__K_MUL,      /* [0] z, [1..] inputs; op = SJ__MUL_* */
    SJ__K_COPY,     /* [0] W dst, [1] R src */
    SJ__K_RAND,     /* [0] W: Philox uniform (op 0) or normal (op 1) */
    SJ__K_MAP,      /* [0] RW out, [1..nin] R inputs: user function */
    SJ__K_BOXCOPY,  /* sj__boxcopy_args_t: [0] dst (W when the box covers it, else RW), [1] R src */
    /* reductions and graph scalars (kernels/array.h: sj__kargs_t) */
    SJ__K_PARTIAL,       /* [0] W partial (1 double), [1] R x, [2] R y (dot) */
    SJ__K_COMBINE,       /* [0] RW partial i, [1] R partial j */
    SJ__K_FINISH,        /* [0] RW: final step of a reduction (sqrt, mean) */
    SJ__K_SCALAR_BINARY, /* [0] W c, [1] R a, [2] R b */
    SJ__K_AXPY_SCALAR,   /* [0] RW y, [1] R x, [2] R alpha: y += a * alpha * x */
    SJ__K_SCALE_SCALAR,  /* [0] RW x, [1] R alpha: x *= a * alpha */
    SJ__K_SCALAR_SET,    /* [0] W scalar = a */
    /* [0] RW vector (W when count == 0), [1..] R vectors copied in order from slot count */
    SJ__K_GATHER,
    /* [0] W scalar, [1..] R vectors of per-block results: args are sj__kargs_t, then
     * int block[nin'] (the block of each value, in the order of the inputs); the tree
     * of sj__reduce_tree, then the final step */
    SJ__K_REDUCE_ALL,
    /* w = c a x + y or c (a / b) x + y, and w . w of the block (sj__kargs_t, op: the
     * SJ__AXPY_DOT_* flags of kernels/array.h): [0] w (RW, W when y is apart), [1] R x,
     * then R y, R a, R b, W partial (1 double) as the flags say: a second written buffer */
    SJ__K_AXPY_DOT,
    /* stencils (kernels/halo.h) */
    SJ__K_HALO_PACK,     /* sj__halo_pack_args_t: [0] R block, [1..] W strips */
    SJ__K_HALO_INTERIOR, /* sj__halo_args_t: the interior of a block, in place */
    SJ__K_HALO_FRAME,    /* sj__halo_args_t: the frame slabs of a block */
    SJ__K_HALO_PADDED,   /* sj__halo_args_t: the whole block, padded */
    SJ__K_HALO_GATE,     /* no arguments: orders the receives into its W buffers */
    /* task farms (kernels/task.h), no buffers */
    SJ__K_PMAP_ITEM,    /* sj__item_args_t: a run of sj_pmap() items */
    SJ__K_PREDUCE_PART, /* sj__part_args_t: one part of sj_preduce() */
    /* remote calls (kernels/spawn.h) */
    SJ__K_SPAWN, /* sj__spawn_args_t: [0] W result */
    /* operator leaves (kernels/op.h): the family of sj__rt_kernel_variant(SJ__K_OP, name) */
    SJ__K_OP,    /* sj__opargs_t: [0] out, [1] in, then state and point */
    SJ__NKERNELS /* named variants of a family get numbers from here on */
} sj__kernel_t;

#endif /* SJ_KERNELS_IDS_H */
