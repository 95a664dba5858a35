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

#endif /* SJ_CODELETS_PRIVATE_H */
