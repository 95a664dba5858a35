/*
 * The one registry from kernel numbers (kernels/ids.h) to StarPU codelets.
 *
 * Each kernel has a codelet with a history-based performance model (used by
 * the dm* schedulers and shown in traces under the codelet's name). A family
 * may also have named variants (sj__rt_kernel_variant): the same body under
 * another codelet and model, so that for instance each operator class gets its
 * own timings. Every codelet runs the same trampoline, which calls the body of
 * its entry and turns a failure the body recorded (sj__kernel_fail) into a
 * task error that the next wait reports on every rank.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets/config.h>

#include <starpu.h>

#include "base/base.h"
#include "codelets/codelets.h"
#include "runtime/rt_private.h"

typedef struct entry {
    struct starpu_codelet cl; /* first: the codelet of a task leads back to its entry */
    struct starpu_perfmodel model;
    sj__cpu_fn_t body;
    sj__cpu_fn_t cuda; /* the CUDA body, or NULL: CPU workers only */
    int kernel;        /* the family (kernels/ids.h) */
    int strided;       /* STAGE, COLUMNS or VIEWS */
    char name[48];
    /* this rank's tasks of the kernel, for the watchdog's report (check.c) */
    atomic_long submitted, started, finished;
} entry_t;

/*
 * How a kernel takes a strided view of a host array (a block of an array
 * wrapped by sj_array_wrap_local): staged into contiguous scratch (the
 * default: the body sees vectors only), cut into columns (elementwise
 * kernels: the body runs once per column on contiguous pieces), or as is
 * (the body reads views itself: codelets_private.h's sj__view_of).
 */
enum { STAGE = 0, COLUMNS = 1, VIEWS = 2 };

static const struct {
    const char *name;
    sj__cpu_fn_t body;
    int strided;
} table[SJ__NKERNELS] = {
    [SJ__K_FILL] = {"sj_fill", sj__cpu_fill, COLUMNS},
    [SJ__K_SCALE] = {"sj_scale", sj__cpu_scale, COLUMNS},
    [SJ__K_AXPBY] = {"sj_axpby", sj__cpu_axpby, COLUMNS},
    [SJ__K_MUL] = {"sj_mul", sj__cpu_mul, COLUMNS},
    [SJ__K_COPY] = {"sj_copy", sj__cpu_copy, COLUMNS},
    [SJ__K_RAND] = {"sj_rand", sj__cpu_rand, STAGE},
    [SJ__K_MAP] = {"sj_map", sj__cpu_map, STAGE},
    [SJ__K_BOXCOPY] = {"sj_boxcopy", sj__cpu_boxcopy, VIEWS},
    [SJ__K_PARTIAL] = {"sj_reduce_block", sj__cpu_partial, VIEWS},
    [SJ__K_COMBINE] = {"sj_reduce_combine", sj__cpu_combine, STAGE},
    [SJ__K_FINISH] = {"sj_reduce_finish", sj__cpu_finish, STAGE},
    [SJ__K_SCALAR_BINARY] = {"sj_scalar_binary", sj__cpu_scalar_binary, STAGE},
    [SJ__K_AXPY_SCALAR] = {"sj_axpy_scalar", sj__cpu_axpy_scalar, COLUMNS},
    [SJ__K_SCALE_SCALAR] = {"sj_scale_scalar", sj__cpu_scale_scalar, COLUMNS},
    [SJ__K_SCALAR_SET] = {"sj_scalar_set", sj__cpu_scalar_set, STAGE},
    [SJ__K_GATHER] = {"sj_reduce_gather", sj__cpu_gather, STAGE},
    [SJ__K_REDUCE_ALL] = {"sj_reduce_all", sj__cpu_reduce_all, STAGE},
    [SJ__K_AXPY_DOT] = {"sj_axpy_dot", sj__cpu_axpy_dot, STAGE},
    [SJ__K_HALO_PACK] = {"sj_halo_pack", sj__cpu_halo_pack, VIEWS},
    [SJ__K_HALO_INTERIOR] = {"sj_stencil_interior", sj__cpu_stencil, VIEWS},
    [SJ__K_HALO_FRAME] = {"sj_stencil_frame", sj__cpu_stencil, VIEWS},
    [SJ__K_HALO_PADDED] = {"sj_stencil_padded", sj__cpu_stencil, VIEWS},
    [SJ__K_HALO_GATE] = {"sj_halo_gate", sj__cpu_halo_gate, VIEWS},
    [SJ__K_PMAP_ITEM] = {"sj_pmap_item", sj__cpu_pmap_item, STAGE},
    [SJ__K_PREDUCE_PART] = {"sj_preduce_part", sj__cpu_preduce_part, STAGE},
    [SJ__K_SPAWN] = {"sj_spawn", sj__cpu_spawn, STAGE},
    [SJ__K_OP] = {"sj_op", sj__cpu_op, STAGE},
};

static entry_t fixed[SJ__NKERNELS];
static entry_t **variants; /* kernel SJ__NKERNELS + k */
static int nvariants, capvariants;

/* Report what the body that just ran on this thread recorded, if anything. */
static void take_failure(void)
{
    char why[256];
    if (sj__kernel_failure(why, sizeof why))
        sj__rt_task_error("%s", why);
}

/*
 * Strided blocks. A block of an array wrapped around the host's memory with
 * leading dimensions larger than the block (a field with ghost layers) is a
 * StarPU block interface: a strided view of the host's array. Kernels marked
 * VIEWS read it themselves; COLUMNS kernels run once per column; for the
 * others (STAGE: user maps, operator leaves, random numbers) the view is
 * staged: copied into scratch memory of the running thread before the body
 * (unless the task only writes it), and back after it (unless the task only
 * reads it). Each way the body computes the same bits as on a block starjets
 * allocated. One scratch area per worker (and one for the application
 * thread, which runs sj__registry_run), grown as needed and kept until
 * shutdown.
 */
typedef struct scratch {
    void *p;
    size_t size;
} scratch_t;

static scratch_t scratch[STARPU_NMAXWORKERS + 1];

static int is_strided(const void *iface)
{
    return *(const enum starpu_data_interface_id *)iface == STARPU_BLOCK_INTERFACE_ID;
}

static size_t strided_bytes(const struct starpu_block_interface *b)
{
    return (size_t)b->nx * b->ny * b->nz * b->elemsize;
}

/* Copy between a strided block and contiguous memory (to_view: into the block). */
static void strided_copy(const struct starpu_block_interface *b, char *flat, int to_view)
{
    const size_t run = (size_t)b->nx * b->elemsize;
    for (uint32_t z = 0; z < b->nz; z++)
        for (uint32_t y = 0; y < b->ny; y++) {
            char *view = (char *)b->ptr + ((size_t)z * b->ldz + (size_t)y * b->ldy) * b->elemsize;
            if (to_view)
                memcpy(view, flat, run);
            else
                memcpy(flat, view, run);
            flat += run;
        }
}

/*
 * An elementwise kernel on strided views: once per column (j, k), on
 * contiguous pieces. Buffers with the block's element count (views, or
 * contiguous blocks of other arrays) are cut into the same columns; smaller
 * ones (a graph scalar) are passed whole.
 */
static void run_columns(const entry_t *e, void *buffers[], int n, void *args,
                        const struct starpu_block_interface *shape)
{
    const uint32_t nx = shape->nx, ny = shape->ny, nz = shape->nz;
    const size_t total = (size_t)nx * ny * nz;
    void *piece[SJ__RT_MAX_BUFS];
    struct starpu_vector_interface col[SJ__RT_MAX_BUFS];
    for (uint32_t k = 0; k < nz; k++)
        for (uint32_t j = 0; j < ny; j++) {
            for (int i = 0; i < n; i++) {
                piece[i] = buffers[i];
                size_t es, off;
                uintptr_t base;
                if (is_strided(buffers[i])) {
                    const struct starpu_block_interface *b = buffers[i];
                    es = b->elemsize;
                    base = b->ptr;
                    off = (size_t)k * b->ldz + (size_t)j * b->ldy;
                } else if (STARPU_VECTOR_GET_NX(buffers[i]) == total) {
                    es = STARPU_VECTOR_GET_ELEMSIZE(buffers[i]);
                    base = STARPU_VECTOR_GET_PTR(buffers[i]);
                    off = ((size_t)k * ny + j) * nx;
                } else {
                    continue;
                }
                col[i] = (struct starpu_vector_interface){
                    .id = STARPU_VECTOR_INTERFACE_ID,
                    .ptr = base + off * es,
                    .nx = nx,
                    .elemsize = es,
                    .allocsize = nx * es,
                };
                piece[i] = &col[i];
            }
            e->body(piece, args);
        }
}

static void run_body(const entry_t *e, void *buffers[], int n,
                     const enum starpu_data_access_mode *modes, void *args)
{
    size_t total = 0;
    const struct starpu_block_interface *shape = NULL;
    for (int i = 0; i < n; i++)
        if (is_strided(buffers[i])) {
            total += strided_bytes(buffers[i]);
            shape = buffers[i];
        }
    if (total == 0 || e->strided == VIEWS) {
        e->body(buffers, args);
        return;
    }
    if (e->strided == COLUMNS) {
        run_columns(e, buffers, n, args, shape);
        return;
    }
    const int w = starpu_worker_get_id();
    scratch_t *s = &scratch[w < 0 ? STARPU_NMAXWORKERS : w];
    if (s->size < total) {
        void *p = realloc(s->p, total);
        if (!p) {
            sj__rt_task_error("%s: cannot allocate %zu bytes to stage strided blocks", e->name,
                              total);
            return;
        }
        s->p = p;
        s->size = total;
    }
    void *staged[SJ__RT_MAX_BUFS];
    struct starpu_vector_interface flat[SJ__RT_MAX_BUFS];
    char *at = s->p;
    for (int i = 0; i < n; i++) {
        staged[i] = buffers[i];
        if (!is_strided(buffers[i]))
            continue;
        const struct starpu_block_interface *b = buffers[i];
        flat[i] = (struct starpu_vector_interface){
            .id = STARPU_VECTOR_INTERFACE_ID,
            .ptr = (uintptr_t)at,
            .nx = b->nx * b->ny * b->nz,
            .elemsize = b->elemsize,
            .allocsize = strided_bytes(b),
        };
        if (modes[i] & STARPU_R)
            strided_copy(b, at, 0);
        staged[i] = &flat[i];
        at += strided_bytes(b);
    }
    e->body(staged, args);
    for (int i = 0; i < n; i++)
        if (staged[i] != buffers[i] && (modes[i] & STARPU_W))
            strided_copy(buffers[i], (char *)(uintptr_t)flat[i].ptr, 1);
}

static void trampoline(void *buffers[], void *cl_arg)
{
    struct starpu_task *task = starpu_task_get_current();
    entry_t *e = (entry_t *)(void *)task->cl;
    atomic_fetch_add_explicit(&e->started, 1, memory_order_relaxed);
    const int n = STARPU_TASK_GET_NBUFFERS(task);
    enum starpu_data_access_mode modes[SJ__RT_MAX_BUFS];
    for (int i = 0; i < n && i < SJ__RT_MAX_BUFS; i++)
        modes[i] = STARPU_TASK_GET_MODE(task, i);
    run_body(e, buffers, n < SJ__RT_MAX_BUFS ? n : SJ__RT_MAX_BUFS, modes, cl_arg);
    take_failure();
    atomic_fetch_add_explicit(&e->finished, 1, memory_order_relaxed);
    sj__wd_progress();
}

/*
 * The CUDA side of a task: the body gets the buffers' device copies (a
 * strided view arrives compact: StarPU allocates device copies of block
 * interfaces with ldy = nx and ldz = nx * ny) and launches its work on the
 * worker's stream; StarPU waits for the stream after the body returns
 * (STARPU_CUDA_ASYNC).
 */
#if SJ_USE_CUDA && defined(STARPU_USE_CUDA)
static void cuda_trampoline(void *buffers[], void *cl_arg)
{
    entry_t *e = (entry_t *)(void *)starpu_task_get_current()->cl;
    atomic_fetch_add_explicit(&e->started, 1, memory_order_relaxed);
    e->cuda(buffers, cl_arg);
    take_failure();
    atomic_fetch_add_explicit(&e->finished, 1, memory_order_relaxed);
    sj__wd_progress();
}

/* A task of a kernel whose CUDA body takes some of its tasks only (codelets.h). */
static int can_execute(unsigned workerid, struct starpu_task *task, unsigned nimpl)
{
    (void)nimpl;
    const entry_t *e = (const entry_t *)(void *)task->cl;
    return starpu_worker_get_type((int)workerid) != STARPU_CUDA_WORKER ||
           sj__cuda_condition(e->kernel)(task->cl_arg);
}
#endif

static void entry_init(entry_t *e, int kernel, const char *name, sj__cpu_fn_t body, int strided,
                       sj__cpu_fn_t cuda)
{
    memset(e, 0, sizeof *e);
    e->kernel = kernel;
    snprintf(e->name, sizeof e->name, "%s", name);
    e->body = body;
    e->strided = strided;
    e->cuda = cuda;
    starpu_codelet_init(&e->cl);
    e->cl.where = STARPU_CPU;
    e->cl.cpu_funcs[0] = trampoline;
    e->cl.cpu_funcs_name[0] = e->name;
    e->cl.nbuffers = STARPU_VARIABLE_NBUFFERS;
#if SJ_USE_CUDA && defined(STARPU_USE_CUDA)
    if (cuda) {
        e->cl.where |= STARPU_CUDA;
        e->cl.cuda_funcs[0] = cuda_trampoline;
        e->cl.cuda_flags[0] = STARPU_CUDA_ASYNC;
        if (sj__cuda_condition(kernel))
            e->cl.can_execute = can_execute;
    }
#endif
    e->cl.name = e->name;
    e->model.type = STARPU_HISTORY_BASED;
    e->model.symbol = e->name;
    e->cl.model = &e->model;
}

/*
 * The CUDA body of a kernel (codelets/cuda_kernels.cu), NULL without CUDA.
 * With @p user (a variant made with a CUDA function), the body of a family
 * that calls the user's CUDA function comes first: the family's own codelet
 * never gets it, since its tasks may carry no such function.
 */
static sj__cpu_fn_t cuda_body(int kernel, int user)
{
#if SJ_USE_CUDA && defined(STARPU_USE_CUDA)
    sj__cpu_fn_t f = user ? sj__cuda_user_body(kernel) : NULL;
    return f ? f : sj__cuda_body(kernel);
#else
    (void)kernel;
    (void)user;
    return NULL;
#endif
}

void sj__registry_init(void)
{
    for (int k = 0; k < SJ__NKERNELS; k++)
        entry_init(&fixed[k], k, table[k].name, table[k].body, table[k].strided, cuda_body(k, 0));
}

void sj__registry_fini(void)
{
    sj__op_records(NULL, 0);
    /* StarPU saved and dropped the models at shutdown: only our memory is left. */
    for (int k = 0; k < nvariants; k++)
        free(variants[k]);
    for (int w = 0; w <= STARPU_NMAXWORKERS; w++) {
        free(scratch[w].p);
        scratch[w] = (scratch_t){0};
    }
    free(variants);
    variants = NULL;
    nvariants = capvariants = 0;
}

static entry_t *entry_of(sj__kernel_t kernel)
{
    const int k = (int)kernel;
    return k < SJ__NKERNELS ? &fixed[k] : variants[k - SJ__NKERNELS];
}

struct starpu_codelet *sj__codelet(sj__kernel_t kernel)
{
    return &entry_of(kernel)->cl;
}

void sj__registry_submitted(sj__kernel_t kernel)
{
    atomic_fetch_add_explicit(&entry_of(kernel)->submitted, 1, memory_order_relaxed);
}

static void in_flight_of(const entry_t *e, char *buf, size_t size, size_t *n)
{
    const long sub = atomic_load(&e->submitted), st = atomic_load(&e->started),
               fin = atomic_load(&e->finished);
    if (sub <= fin || *n >= size)
        return;
    *n += (size_t)snprintf(buf + *n, size - *n, "%s%s: %ld running, %ld waiting", *n ? "; " : "",
                           e->name, st - fin, sub > st ? sub - st : 0);
}

void sj__registry_in_flight(char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int k = 0; k < SJ__NKERNELS; k++)
        in_flight_of(&fixed[k], buf, size, &n);
    for (int k = 0; k < nvariants; k++)
        in_flight_of(variants[k], buf, size, &n);
    if (n == 0)
        snprintf(buf, size, "no starjets task unfinished on this rank");
}

void sj__registry_run(sj__kernel_t kernel, void *buffers[], int nbuffers, const void *args)
{
    /* buffer 0 is written, the others are read */
    enum starpu_data_access_mode modes[SJ__RT_MAX_BUFS];
    for (int i = 0; i < nbuffers; i++)
        modes[i] = i == 0 ? STARPU_W : STARPU_R;
    run_body(entry_of(kernel), buffers, nbuffers, modes, (void *)args);
    take_failure();
}

int sj__rt_kernel_variant(sj__kernel_t family, const char *name, int cuda, sj__kernel_t *kernel)
{
    sj__cpu_fn_t cuda_fn = cuda ? cuda_body(family, 1) : NULL;
    for (int k = 0; k < nvariants; k++)
        if (strcmp(variants[k]->name, name) == 0 && variants[k]->body == table[family].body &&
            variants[k]->cuda == cuda_fn) {
            *kernel = (sj__kernel_t)(SJ__NKERNELS + k);
            return SJ_OK;
        }
    if (nvariants == capvariants) {
        int cap = capvariants ? 2 * capvariants : 16;
        entry_t **p = realloc(variants, (size_t)cap * sizeof *p);
        if (!p)
            return sj__error(SJ_ENOMEM, "starjets", "cannot allocate the codelet table");
        variants = p;
        capvariants = cap;
    }
    entry_t *e = malloc(sizeof *e);
    if (!e)
        return sj__error(SJ_ENOMEM, "starjets", "cannot allocate a codelet");
    entry_init(e, (int)family, name, table[family].body, table[family].strided, cuda_fn);
    variants[nvariants] = e;
    *kernel = (sj__kernel_t)(SJ__NKERNELS + nvariants++);
    return SJ_OK;
}

int sj__rt_op_records(const char *path, const char *func)
{
    if (sj__op_records(path, sj__rt.rank) < 0)
        return sj__error(SJ_EINVAL, func, "cannot open '%s.%d.jsonl' for appending", path,
                         sj__rt.rank);
    return SJ_OK;
}
