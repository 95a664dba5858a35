/* Layouts: owner of each block, per-rank block lists and block maps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array/array_private.h"

/* Free a layout that is not (or no longer) in the registry. */
static void dist_discard(sj_dist_t d)
{
    free(d->owner);
    free(d->procs);
    free(d->local_start);
    free(d->local);
    free(d->box_start);
    free(d->boxes);
    sj__object_free(d);
}

static void dist_free(sj_dist_t d)
{
    sj__object_remove(&d->obj);
    dist_discard(d);
}

void sj__dist_ref(sj_dist_t d)
{
    d->obj.refs++;
}

void sj__dist_unref(sj_dist_t d)
{
    if (--d->obj.refs == 0)
        dist_free(d);
}

static void dist_release_user(sj__object_t *o)
{
    sj_dist_t d = (sj_dist_t)o;
    d->obj.user_holds = 0;
    sj__dist_unref(d);
}

static int check_grid_args(const char *func, int ndims, const int nblocks[], int64_t *total)
{
    SJ_CHECK_FN(func, sj__rt_running(), SJ_ESTATE, "starjets is not initialised (call sj_init)");
    SJ_CHECK_FN(func, ndims >= 1 && ndims <= SJ_MAX_DIMS, SJ_EINVAL,
                "ndims is %d, expected 1 to %d", ndims, SJ_MAX_DIMS);
    SJ_CHECK_FN(func, nblocks != NULL, SJ_ENULL, "argument 'nblocks' is NULL");
    *total = 1;
    for (int d = 0; d < ndims; d++) {
        SJ_CHECK_FN(func, nblocks[d] >= 1, SJ_ESIZE, "nblocks[%d] is %d, expected >= 1", d,
                    nblocks[d]);
        *total *= nblocks[d];
        SJ_CHECK_FN(func, *total <= (1 << 30), SJ_ESIZE,
                    "the block grid has more than 2^30 blocks");
    }
    return SJ_OK;
}

/* Check that @p procs holds @p n distinct ranks of the communicator. */
static int check_procs(const char *func, int n, const int procs[])
{
    int nranks = sj__rt_nranks();
    unsigned char *seen = sj__calloc((size_t)nranks, 1);
    if (!seen)
        return SJ_ENOMEM;
    for (int i = 0; i < n; i++) {
        if (procs[i] < 0 || procs[i] >= nranks) {
            free(seen);
            return sj__error(SJ_ERANGE, func, "procs[%d] is %d, out of range [0, %d)", i, procs[i],
                             nranks);
        }
        if (seen[procs[i]]++) {
            free(seen);
            return sj__error(SJ_ERANGE, func, "procs[%d] = %d appears twice", i, procs[i]);
        }
    }
    free(seen);
    return SJ_OK;
}

/* Allocate a layout of the block grid; owner[] is filled by the caller. */
static sj_dist_t dist_new(sj_dist_kind_t kind, int ndims, const int nblocks[], int total)
{
    sj_dist_t d = sj__calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->kind = kind;
    d->ndims = ndims;
    d->total = total;
    d->nranks = sj__rt_nranks();
    for (int k = 0; k < SJ_MAX_DIMS; k++) {
        d->nblocks[k] = k < ndims ? nblocks[k] : 1;
        d->grid[k] = 1;
    }
    d->owner = sj__calloc((size_t)total, sizeof(int));
    d->local_start = sj__calloc((size_t)d->nranks + 1, sizeof(int));
    d->local = sj__calloc((size_t)total, sizeof(int));
    d->box_start = sj__calloc((size_t)d->nranks + 1, sizeof(int));
    d->boxes = sj__calloc((size_t)total, sizeof(sj_box_t));
    if (!d->owner || !d->local_start || !d->local || !d->box_start || !d->boxes) {
        dist_discard(d);
        return NULL;
    }
    return d;
}

static void coords_of(const sj_dist_t d, int b, int c[SJ_MAX_DIMS])
{
    c[0] = b % d->nblocks[0];
    c[1] = (b / d->nblocks[0]) % d->nblocks[1];
    c[2] = b / (d->nblocks[0] * d->nblocks[1]);
}

/* Per-rank block lists (counting sort by owner) and block maps. */
static int dist_index(sj_dist_t d, const int chunk_lo[][SJ_MAX_DIMS],
                      const int chunk_hi[][SJ_MAX_DIMS])
{
    int *fill = sj__calloc((size_t)d->nranks, sizeof(int));
    if (!fill)
        return SJ_ENOMEM;
    for (int b = 0; b < d->total; b++)
        d->local_start[d->owner[b] + 1]++;
    for (int r = 0; r < d->nranks; r++)
        d->local_start[r + 1] += d->local_start[r];
    for (int b = 0; b < d->total; b++) {
        int r = d->owner[b];
        d->local[d->local_start[r] + fill[r]++] = b;
    }
    free(fill);

    int nbox = 0;
    for (int r = 0; r < d->nranks; r++) {
        d->box_start[r] = nbox;
        if (chunk_lo) { /* contiguous: one box per rank in the grid */
            for (int p = 0; p < d->nprocs; p++)
                if (d->procs[p] == r) {
                    for (int k = 0; k < SJ_MAX_DIMS; k++) {
                        d->boxes[nbox].lo[k] = chunk_lo[p][k];
                        d->boxes[nbox].hi[k] = chunk_hi[p][k];
                    }
                    nbox++;
                }
            continue;
        }
        /* runs of consecutive blocks along dimension 0 */
        for (int i = d->local_start[r]; i < d->local_start[r + 1]; i++) {
            int c[SJ_MAX_DIMS];
            coords_of(d, d->local[i], c);
            sj_box_t *prev = nbox > d->box_start[r] ? &d->boxes[nbox - 1] : NULL;
            if (prev && prev->hi[0] == c[0] && prev->lo[1] == c[1] && prev->lo[2] == c[2]) {
                prev->hi[0]++;
                continue;
            }
            for (int k = 0; k < SJ_MAX_DIMS; k++) {
                d->boxes[nbox].lo[k] = c[k];
                d->boxes[nbox].hi[k] = c[k] + 1;
            }
            nbox++;
        }
    }
    d->box_start[d->nranks] = nbox;
    return SJ_OK;
}

static int dist_finish(sj_dist_t d, const int chunk_lo[][SJ_MAX_DIMS],
                       const int chunk_hi[][SJ_MAX_DIMS], sj_dist_t *out)
{
    if (dist_index(d, chunk_lo, chunk_hi) < 0) {
        dist_discard(d);
        return SJ_ENOMEM;
    }
    if (sj__object_add(&d->obj, SJ__KIND_DIST, dist_release_user) < 0) {
        dist_discard(d);
        return sj__error(SJ_ENOMEM, "starjets", "cannot grow the set of live handles");
    }
    *out = d;
    return SJ_OK;
}

/* DistributedArrays' choice for m ranks: prime factors of m, largest first,
 * each to the dimension with most blocks per chunk that can still take it
 * (ties to the higher dimension). Returns how many ranks the grid uses. */
static int factor_grid(int ndims, const int nblocks[], int m, int grid[])
{
    for (int k = 0; k < SJ_MAX_DIMS; k++)
        grid[k] = 1;
    int factors[32], nf = 0, n = m;
    for (int f = 2; f * f <= n; f++)
        while (n % f == 0) {
            factors[nf++] = f;
            n /= f;
        }
    if (n > 1)
        factors[nf++] = n;
    int used = 1;
    for (int i = nf - 1; i >= 0; i--) {
        int best = -1;
        double best_ratio = 0;
        for (int k = 0; k < ndims; k++) {
            if ((int64_t)grid[k] * factors[i] > nblocks[k])
                continue;
            double ratio = (double)nblocks[k] / grid[k];
            if (ratio >= best_ratio) {
                best_ratio = ratio;
                best = k;
            }
        }
        if (best >= 0) {
            grid[best] *= factors[i];
            used *= factors[i];
        }
    }
    return used;
}

/*
 * The default process grid over at most nprocs ranks. A 1-D grid takes as
 * many ranks as there are blocks. Otherwise the factor rule above; where a
 * factor of nprocs fits no dimension (5 ranks on 4 x 1 blocks), DistributedArrays
 * would leave ranks out, so the rule is also tried for fewer ranks and the
 * grid that uses the most ranks wins (the largest count first: 4 ranks, 4 x 1).
 */
static int default_grid(int ndims, const int nblocks[], int nprocs, int grid[])
{
    if (ndims == 1) {
        for (int k = 0; k < SJ_MAX_DIMS; k++)
            grid[k] = 1;
        grid[0] = nprocs < nblocks[0] ? nprocs : nblocks[0];
        return grid[0];
    }
    int best = factor_grid(ndims, nblocks, nprocs, grid);
    for (int m = nprocs - 1; m > best; m--) {
        int g[SJ_MAX_DIMS];
        const int used = factor_grid(ndims, nblocks, m, g);
        if (used > best) {
            best = used;
            memcpy(grid, g, sizeof g);
        }
    }
    return best;
}

/* "4 x 3": the first @p ndims values of @p v. */
static void grid_str(int ndims, const int v[], char *buf, size_t size)
{
    int n = 0;
    for (int k = 0; k < ndims && n >= 0 && (size_t)n < size; k++)
        n += snprintf(buf + n, size - (size_t)n, k ? " x %d" : "%d", v[k]);
}

/*
 * With verbose on (sj_init_options_t.verbose, SJ_VERBOSE), rank 0 says when
 * the default process grid leaves some of the ranks asked for without a block
 * (a 4 x 3 grid on 5 ranks uses 4); once per block grid and rank count in a
 * row, since every array made with the default layout asks again.
 */
static void report_idle(int ndims, const int nblocks[], int nprocs, const int g[], int used)
{
    static int last[SJ_MAX_DIMS + 2];
    int key[SJ_MAX_DIMS + 2] = {ndims, nprocs};
    for (int k = 0; k < ndims; k++)
        key[2 + k] = nblocks[k];
    if (used >= nprocs || !sj__rt_verbose() || sj__rt_rank() != 0 ||
        memcmp(key, last, sizeof key) == 0)
        return;
    memcpy(last, key, sizeof key);
    char blocks[64] = "", grid[64] = "";
    grid_str(ndims, nblocks, blocks, sizeof blocks);
    grid_str(ndims, g, grid, sizeof grid);
    fprintf(stderr,
            "starjets: layout of %s blocks: the default process grid %s uses %d of %d ranks, "
            "%d rank(s) get no block (another block grid or an explicit layout can use them)\n",
            blocks, grid, used, nprocs, nprocs - used);
}

int sj_dist_create_contiguous(int ndims, const int nblocks[], int nprocs, const int procs[],
                              const int grid[], sj_dist_t *dist)
{
    SJ_CHECK_NULL(dist);
    *dist = NULL;
    int64_t total;
    SJ_TRY(check_grid_args(__func__, ndims, nblocks, &total));
    int nranks = sj__rt_nranks();
    int64_t grid_ranks = 1;
    for (int k = 0; grid && k < ndims; k++)
        grid_ranks *= grid[k] > 0 ? grid[k] : 1;
    if (nprocs <= 0)
        nprocs = grid ? (int)(grid_ranks < nranks ? grid_ranks : nranks) : nranks;
    SJ_CHECK(nprocs <= nranks, SJ_ESIZE, "nprocs is %d but the communicator has %d ranks", nprocs,
             nranks);
    if (procs)
        SJ_TRY(check_procs(__func__, nprocs, procs));
    int g[SJ_MAX_DIMS] = {1, 1, 1};
    int used;
    if (grid) {
        int64_t prod = 1;
        for (int k = 0; k < ndims; k++) {
            SJ_CHECK(grid[k] >= 1 && grid[k] <= nblocks[k], SJ_ESIZE,
                     "grid[%d] is %d, expected 1 to nblocks[%d] = %d", k, grid[k], k, nblocks[k]);
            g[k] = grid[k];
            prod *= grid[k];
        }
        SJ_CHECK(prod <= nranks, SJ_ESIZE,
                 "the process grid has %lld ranks but the communicator has %d", (long long)prod,
                 nranks);
        SJ_CHECK(prod == nprocs, SJ_EINVAL, "the process grid has %lld ranks but nprocs is %d",
                 (long long)prod, nprocs);
        used = (int)prod;
    } else {
        used = default_grid(ndims, nblocks, nprocs, g);
        report_idle(ndims, nblocks, nprocs, g, used);
    }
    sj_dist_t d = dist_new(SJ_DIST_CONTIGUOUS, ndims, nblocks, (int)total);
    if (!d)
        return SJ_ENOMEM;
    d->nprocs = used;
    d->procs = sj__calloc((size_t)used, sizeof(int));
    int(*lo)[SJ_MAX_DIMS] = sj__calloc((size_t)used, sizeof *lo);
    int(*hi)[SJ_MAX_DIMS] = sj__calloc((size_t)used, sizeof *hi);
    if (!d->procs || !lo || !hi) {
        free(lo);
        free(hi);
        dist_discard(d);
        return SJ_ENOMEM;
    }
    for (int p = 0; p < used; p++)
        d->procs[p] = procs ? procs[p] : p;
    for (int k = 0; k < SJ_MAX_DIMS; k++)
        d->grid[k] = g[k];
    /* chunk c of dimension k: blocks cut as DistributedArrays does, first chunks longer */
    for (int p = 0; p < used; p++) {
        int c[SJ_MAX_DIMS] = {p % g[0], (p / g[0]) % g[1], p / (g[0] * g[1])};
        for (int k = 0; k < SJ_MAX_DIMS; k++) {
            lo[p][k] = (int)sj__split_lo(c[k], d->nblocks[k], g[k]);
            hi[p][k] = (int)sj__split_lo(c[k] + 1, d->nblocks[k], g[k]);
        }
        for (int i2 = lo[p][2]; i2 < hi[p][2]; i2++)
            for (int i1 = lo[p][1]; i1 < hi[p][1]; i1++)
                for (int i0 = lo[p][0]; i0 < hi[p][0]; i0++)
                    d->owner[i0 + d->nblocks[0] * (i1 + d->nblocks[1] * i2)] = d->procs[p];
    }
    int rc = dist_finish(d, (const int(*)[SJ_MAX_DIMS])lo, (const int(*)[SJ_MAX_DIMS])hi, dist);
    free(lo);
    free(hi);
    return rc < 0 ? sj__error_rename(rc, __func__) : SJ_OK;
}

int sj_dist_create_cyclic(int ndims, const int nblocks[], int pr, int pc, const int procs[],
                          sj_dist_t *dist)
{
    SJ_CHECK_NULL(dist);
    *dist = NULL;
    int64_t total;
    SJ_TRY(check_grid_args(__func__, ndims, nblocks, &total));
    SJ_CHECK(pr >= 1 && pc >= 1, SJ_ESIZE, "the process grid is %d x %d, expected >= 1 x 1", pr,
             pc);
    int nranks = sj__rt_nranks();
    SJ_CHECK((int64_t)pr * pc <= nranks, SJ_ESIZE,
             "the process grid %d x %d has %lld ranks but the communicator has %d", pr, pc,
             (long long)pr * pc, nranks);
    int np = pr * pc;
    if (procs)
        SJ_TRY(check_procs(__func__, np, procs));
    sj_dist_t d = dist_new(SJ_DIST_CYCLIC, ndims, nblocks, (int)total);
    if (!d)
        return SJ_ENOMEM;
    d->nprocs = np;
    d->procs = sj__calloc((size_t)np, sizeof(int));
    if (!d->procs) {
        dist_discard(d);
        return SJ_ENOMEM;
    }
    for (int p = 0; p < np; p++)
        d->procs[p] = procs ? procs[p] : p;
    d->grid[0] = pr;
    d->grid[1] = pc;
    for (int b = 0; b < d->total; b++) {
        int c[SJ_MAX_DIMS];
        coords_of(d, b, c);
        int p = ndims == 1 ? c[0] % np : (c[0] % pr) + pr * ((c[1] + d->nblocks[1] * c[2]) % pc);
        d->owner[b] = d->procs[p];
    }
    int rc = dist_finish(d, NULL, NULL, dist);
    return rc < 0 ? sj__error_rename(rc, __func__) : SJ_OK;
}

int sj_dist_create_explicit(int ndims, const int nblocks[], const int owners[], sj_dist_t *dist)
{
    SJ_CHECK_NULL(dist);
    *dist = NULL;
    int64_t total;
    SJ_TRY(check_grid_args(__func__, ndims, nblocks, &total));
    SJ_CHECK_NULL(owners);
    int nranks = sj__rt_nranks();
    for (int64_t b = 0; b < total; b++)
        SJ_CHECK(owners[b] >= 0 && owners[b] < nranks, SJ_ERANGE,
                 "owners[%lld] is %d, out of range [0, %d)", (long long)b, owners[b], nranks);
    sj_dist_t d = dist_new(SJ_DIST_EXPLICIT, ndims, nblocks, (int)total);
    if (!d)
        return SJ_ENOMEM;
    memcpy(d->owner, owners, (size_t)total * sizeof(int));
    unsigned char *uses = sj__calloc((size_t)nranks, 1);
    d->procs = sj__calloc((size_t)nranks, sizeof(int));
    if (!uses || !d->procs) {
        free(uses);
        dist_discard(d);
        return SJ_ENOMEM;
    }
    for (int64_t b = 0; b < total; b++)
        uses[owners[b]] = 1;
    for (int r = 0; r < nranks; r++)
        if (uses[r])
            d->procs[d->nprocs++] = r;
    free(uses);
    d->grid[0] = d->nprocs;
    int rc = dist_finish(d, NULL, NULL, dist);
    return rc < 0 ? sj__error_rename(rc, __func__) : SJ_OK;
}

int sj_dist_create_default(sj_space_t space, sj_dist_t *dist)
{
    SJ_CHECK_HANDLE(space, SJ__KIND_SPACE);
    SJ_CHECK_NULL(dist);
    int rc = sj_dist_create_contiguous(space->ndims, space->nblocks, 0, NULL, NULL, dist);
    return rc < 0 ? sj__error_rename(rc, __func__) : SJ_OK;
}

int sj_dist_destroy(sj_dist_t *dist)
{
    if (!dist || !*dist)
        return SJ_OK;
    SJ_TRY(sj__check_handle(__func__, "*dist", *dist, SJ__KIND_DIST));
    sj_dist_t d = *dist;
    *dist = NULL;
    SJ_CHECK(d->obj.user_holds, SJ_ESTATE,
             "the layout was already destroyed (a handle from sj_array_dist is borrowed)");
    dist_release_user(&d->obj);
    return SJ_OK;
}

int sj_dist_info(sj_dist_t dist, sj_dist_kind_t *kind, int *ndims, int nblocks[], int *total)
{
    SJ_CHECK_HANDLE(dist, SJ__KIND_DIST);
    if (kind)
        *kind = dist->kind;
    if (ndims)
        *ndims = dist->ndims;
    if (nblocks)
        for (int k = 0; k < dist->ndims; k++)
            nblocks[k] = dist->nblocks[k];
    if (total)
        *total = dist->total;
    return SJ_OK;
}

int sj_dist_owner(sj_dist_t dist, int block, int *rank)
{
    SJ_CHECK_HANDLE(dist, SJ__KIND_DIST);
    SJ_CHECK_NULL(rank);
    SJ_CHECK(block >= 0 && block < dist->total, SJ_ERANGE, "block %d is out of range [0, %d)",
             block, dist->total);
    *rank = dist->owner[block];
    return SJ_OK;
}

int sj_dist_local_blocks(sj_dist_t dist, int rank, int *count, const int **blocks)
{
    SJ_CHECK_HANDLE(dist, SJ__KIND_DIST);
    SJ_CHECK_NULL(count);
    SJ_CHECK(rank >= 0 && rank < dist->nranks, SJ_ERANGE, "rank %d is out of range [0, %d)", rank,
             dist->nranks);
    *count = dist->local_start[rank + 1] - dist->local_start[rank];
    if (blocks)
        *blocks = dist->local + dist->local_start[rank];
    return SJ_OK;
}

int sj_dist_blockmap(sj_dist_t dist, int rank, int *nboxes, const sj_box_t **boxes)
{
    SJ_CHECK_HANDLE(dist, SJ__KIND_DIST);
    SJ_CHECK_NULL(nboxes);
    SJ_CHECK(rank >= 0 && rank < dist->nranks, SJ_ERANGE, "rank %d is out of range [0, %d)", rank,
             dist->nranks);
    *nboxes = dist->box_start[rank + 1] - dist->box_start[rank];
    if (boxes)
        *boxes = dist->boxes + dist->box_start[rank];
    return SJ_OK;
}

int sj_dist_procs(sj_dist_t dist, int *nprocs, const int **procs, int grid[])
{
    SJ_CHECK_HANDLE(dist, SJ__KIND_DIST);
    SJ_CHECK_NULL(nprocs);
    *nprocs = dist->nprocs;
    if (procs)
        *procs = dist->procs;
    if (grid)
        for (int k = 0; k < SJ_MAX_DIMS; k++)
            grid[k] = dist->grid[k];
    return SJ_OK;
}

int sj_dist_equal(sj_dist_t a, sj_dist_t b, int *equal)
{
    SJ_CHECK_HANDLE(a, SJ__KIND_DIST);
    SJ_CHECK_HANDLE(b, SJ__KIND_DIST);
    SJ_CHECK_NULL(equal);
    int eq = a->ndims == b->ndims && a->total == b->total;
    for (int k = 0; eq && k < SJ_MAX_DIMS; k++)
        eq = a->nblocks[k] == b->nblocks[k];
    *equal = eq && memcmp(a->owner, b->owner, (size_t)a->total * sizeof(int)) == 0;
    return SJ_OK;
}
