/* The CPU function of sj_spawn() tasks: run the user's function on the result handle. */
#include <stdint.h>
#include <string.h>

#include <starpu.h>

#include "codelets.h"
#include "kernels/spawn.h"

void sj__cpu_spawn(void *buffers[], void *cl_arg)
{
    const sj__spawn_args_t *a = cl_arg;
    unsigned char *p = (unsigned char *)STARPU_VECTOR_GET_PTR(buffers[0]);
    memset(p, 0, SJ__SPAWN_HEAD + a->out_size);
    const void *arg = a->arg_size ? (const void *)(a + 1) : NULL;
    int rc = a->fn(arg, a->arg_size, a->out_size ? p + SJ__SPAWN_HEAD : NULL, a->out_size);
    int64_t status = rc;
    memcpy(p, &status, sizeof status);
}
