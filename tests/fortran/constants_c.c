/*
 * The C side of tests/fortran/constants.f90: the values of the headers'
 * constants by name, and the sizes of the structs the Fortran module mirrors.
 */
#include <stddef.h>
#include <string.h>

#include <starjets.h>

int sj_ftest_constant(const char *name, long long *value);
void sj_ftest_struct_sizes(size_t sizes[7]);

#define C(x)                                                                                       \
    {                                                                                              \
#x, (long long)(x)                                                                         \
    }
static const struct {
    const char *name;
    long long value;
} constants[] = {
    C(SJ_OK),
    C(SJ_EINVAL),
    C(SJ_ENULL),
    C(SJ_ERANGE),
    C(SJ_ESIZE),
    C(SJ_EMISMATCH),
    C(SJ_ETYPE),
    C(SJ_ENOMEM),
    C(SJ_ESTATE),
    C(SJ_ERUNTIME),
    C(SJ_ENODEV),
    C(SJ_ENOTSUP),
    C(SJ_EUSER),
    C(SJ_EHANDLE),
    C(SJ_EIO),
    C(SJ_EFORMAT),
    C(SJ_MAX_DIMS),
    C(SJ_FLOAT64),
    C(SJ_FLOAT32),
    C(SJ_DIST_CONTIGUOUS),
    C(SJ_DIST_CYCLIC),
    C(SJ_DIST_EXPLICIT),
    C(SJ_ACCESS_READ),
    C(SJ_ACCESS_READWRITE),
    C(SJ_REDUCE_SUM),
    C(SJ_REDUCE_MIN),
    C(SJ_REDUCE_MAX),
    C(SJ_REDUCE_MEAN),
    C(SJ_REDUCE_NORM1),
    C(SJ_REDUCE_NORM2),
    C(SJ_REDUCE_NORMINF),
    C(SJ_REDUCE_DOT),
    C(SJ_NORM_1),
    C(SJ_NORM_2),
    C(SJ_NORM_INF),
    C(SJ_SCALAR_ADD),
    C(SJ_SCALAR_SUB),
    C(SJ_SCALAR_MUL),
    C(SJ_SCALAR_DIV),
    C(SJ_OP_BLOCK_GENERAL),
    C(SJ_OP_BLOCK_DIAGONAL),
    C(SJ_OP_BLOCK_TALL),
    C(SJ_OP_MAX_PARAMS),
    C(SJ_BOUNDARY_PERIODIC),
    C(SJ_BOUNDARY_FIXED),
    C(SJ_STENCIL_SPLIT),
    C(SJ_STENCIL_PADDED),
    C(SJ_STENCIL_INTERIOR),
    C(SJ_STENCIL_FRAME),
    C(SJ_STENCIL_WHOLE),
    C(SJ_PMAP_STOP),
    C(SJ_PMAP_SKIP),
    C(SJ_PMAP_RETRY),
    C(SJ_PMAP_NOT_RUN),
    C(SJ_PMAP_RETURNED_NOT_RUN),
    /* Fortran is case-insensitive: the directions are SJ_OP_DIR_... there,
     * since sj_op_adjoint is a procedure */
    {"SJ_OP_DIR_FORWARD", SJ_OP_FORWARD},
    {"SJ_OP_DIR_ADJOINT", SJ_OP_ADJOINT},
};

/* 0 and *value set when the C headers define @p name, -1 otherwise. */
int sj_ftest_constant(const char *name, long long *value)
{
    for (size_t k = 0; k < sizeof constants / sizeof constants[0]; k++)
        if (!strcmp(constants[k].name, name)) {
            *value = constants[k].value;
            return 0;
        }
    return -1;
}

/* In the order of sj_fortran_struct_sizes() in fortran/starjets_callbacks.inc. */
void sj_ftest_struct_sizes(size_t sizes[7])
{
    sizes[0] = sizeof(sj_block_info_t);
    sizes[1] = sizeof(sj_op_info_t);
    sizes[2] = sizeof(sj_stencil_info_t);
    sizes[3] = sizeof(sj_op_class_t);
    sizes[4] = sizeof(sj_stencil_options_t);
    sizes[5] = sizeof(sj_pmap_options_t);
    sizes[6] = sizeof(sj_pmap_report_t);
}
