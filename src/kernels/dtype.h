/* Kernel bodies for both element types, shared by codelets/ and the operator library. */
#ifndef SJ_KERNELS_DTYPE_H
#define SJ_KERNELS_DTYPE_H

#include <starjets/space.h>

/* Expand the body (the variadic part) for the element type @p dtype, T the C type. */
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

#endif /* SJ_KERNELS_DTYPE_H */
