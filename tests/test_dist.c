/*
 * Layouts: contiguous (DistributedArrays' default, the DistributedJets 4x3
 * example), block-cyclic, explicit, subsets of ranks, and bad input.
 * Layout calls are local, so every rank checks every rank's view.
 */
#include "sj_test.h"

/* Block grid coordinates of block b (column-major). */
static void coords_of(int b, int ndims, const int nb[], int c[3])
{
    c[0] = c[1] = c[2] = 0;
    for (int d = 0; d < ndims; d++) {
        c[d] = b % nb[d];
        b /= nb[d];
    }
}

/*
 * Checks owner / local_blocks / blockmap against each other (and against
 * @p expect when not NULL) for every rank; returns the owner table (malloc).
 */
static int *check_layout(sj_dist_t dist, int ndims, const int nb[], const int *expect)
{
    const int n = sj_nranks();
    int total = 1;
    for (int d = 0; d < ndims; d++)
        total *= nb[d];

    sj_dist_kind_t kind = 0;
    int nd = 0, nbg[SJ_MAX_DIMS] = {0, 0, 0}, tot = 0;
    SJ_ASSERT_OK(sj_dist_info(dist, &kind, &nd, nbg, &tot));
    assert_true(kind == SJ_DIST_CONTIGUOUS || kind == SJ_DIST_CYCLIC || kind == SJ_DIST_EXPLICIT);
    assert_int_equal(nd, ndims);
    for (int d = 0; d < ndims; d++)
        assert_int_equal(nbg[d], nb[d]);
    assert_int_equal(tot, total);

    int *owner = malloc((size_t)total * sizeof(int));
    int *count = calloc((size_t)n, sizeof(int));
    for (int b = 0; b < total; b++) {
        owner[b] = -7;
        SJ_ASSERT_OK(sj_dist_owner(dist, b, &owner[b]));
        assert_in_range(owner[b], 0, n - 1);
        if (expect)
            assert_int_equal(owner[b], expect[b]);
        count[owner[b]]++;
    }

    int sum = 0;
    int *mark = malloc((size_t)total * sizeof(int));
    for (int r = 0; r < n; r++) {
        int cnt = -1;
        const int *blocks = NULL;
        SJ_ASSERT_OK(sj_dist_local_blocks(dist, r, &cnt, &blocks));
        assert_int_equal(cnt, count[r]);
        if (cnt > 0)
            assert_non_null(blocks);
        for (int i = 0; i < cnt; i++) {
            assert_int_equal(owner[blocks[i]], r);
            if (i > 0)
                assert_true(blocks[i] > blocks[i - 1]);
        }
        int cnt2 = -1;
        SJ_ASSERT_OK(sj_dist_local_blocks(dist, r, &cnt2, NULL));
        assert_int_equal(cnt2, cnt);
        sum += cnt;

        /* the boxes cover exactly the blocks of r, each once */
        int nboxes = -1;
        const sj_box_t *boxes = NULL;
        SJ_ASSERT_OK(sj_dist_blockmap(dist, r, &nboxes, &boxes));
        assert_true(nboxes >= 0);
        if (cnt == 0)
            assert_int_equal(nboxes, 0);
        if (nboxes > 0)
            assert_non_null(boxes);
        memset(mark, 0, (size_t)total * sizeof(int));
        int covered = 0;
        for (int k = 0; k < nboxes; k++) {
            for (int d = 0; d < ndims; d++) {
                assert_true(boxes[k].lo[d] >= 0);
                assert_true(boxes[k].lo[d] < boxes[k].hi[d]);
                assert_true(boxes[k].hi[d] <= nb[d]);
            }
            int lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
            for (int d = 0; d < ndims; d++) {
                lo[d] = boxes[k].lo[d];
                hi[d] = boxes[k].hi[d];
            }
            for (int c2 = lo[2]; c2 < hi[2]; c2++)
                for (int c1 = lo[1]; c1 < hi[1]; c1++)
                    for (int c0 = lo[0]; c0 < hi[0]; c0++) {
                        int b = c0 + (ndims > 1 ? nb[0] : 1) * (c1 + (ndims > 2 ? nb[1] : 1) * c2);
                        assert_int_equal(owner[b], r);
                        assert_int_equal(mark[b], 0);
                        mark[b] = 1;
                        covered++;
                    }
        }
        assert_int_equal(covered, cnt);
    }
    assert_int_equal(sum, total);
    free(mark);
    free(count);
    return owner;
}

/* Checks sj_dist_procs() against the expected list and grid. */
static void check_procs(sj_dist_t dist, int np, const int *procs, const int grid[3])
{
    int got_np = -1, g[SJ_MAX_DIMS] = {-1, -1, -1};
    const int *p = NULL;
    SJ_ASSERT_OK(sj_dist_procs(dist, &got_np, &p, g));
    assert_int_equal(got_np, np);
    assert_non_null(p);
    for (int i = 0; i < np; i++)
        assert_int_equal(p[i], procs ? procs[i] : i);
    if (grid)
        for (int d = 0; d < SJ_MAX_DIMS; d++)
            assert_int_equal(g[d], grid[d]);
    SJ_ASSERT_OK(sj_dist_procs(dist, &got_np, NULL, NULL));
    assert_int_equal(got_np, np);
}

/* ---- contiguous ---------------------------------------------------------- */

static void test_contiguous_1d(void **state)
{
    const int n = sj_nranks();
    int nb[1] = {10};
    sj_dist_t d = NULL, e = NULL;
    SJ_ASSERT_OK(sj_dist_create_contiguous(1, nb, 0, NULL, NULL, &d));
    int *owner = check_layout(d, 1, nb, NULL);
    for (int b = 1; b < 10; b++)
        assert_true(owner[b] >= owner[b - 1]);
    for (int r = 0; r < n; r++) {
        int cnt = 0;
        SJ_ASSERT_OK(sj_dist_local_blocks(d, r, &cnt, NULL));
        assert_true(cnt == 10 / n || cnt == (10 + n - 1) / n);
        int nboxes = 0;
        const sj_box_t *boxes = NULL;
        SJ_ASSERT_OK(sj_dist_blockmap(d, r, &nboxes, &boxes));
        assert_int_equal(nboxes, 1);
    }
    assert_int_equal(owner[0], 0);
    assert_int_equal(owner[9], n - 1);
    int grid[3] = {n, 1, 1};
    check_procs(d, n, NULL, grid);
    sj_dist_kind_t kind = 0;
    SJ_ASSERT_OK(sj_dist_info(d, &kind, NULL, NULL, NULL));
    assert_int_equal(kind, SJ_DIST_CONTIGUOUS);

    /* the same with everything spelled out */
    int g1[1] = {n};
    SJ_ASSERT_OK(sj_dist_create_contiguous(1, nb, n, NULL, g1, &e));
    int eq = -1;
    SJ_ASSERT_OK(sj_dist_equal(d, e, &eq));
    assert_int_equal(eq, 1);
    free(owner);
    SJ_ASSERT_OK(sj_dist_destroy(&d));
    SJ_ASSERT_OK(sj_dist_destroy(&e));
    assert_null(d);
}

/* DistributedJets: a 4x3 block grid on procs [0 2; 1 3] (grid {2,2}). */
static void test_contiguous_notebook_4x3(void **state)
{
    const int n = sj_nranks();
    int nb[2] = {4, 3};
    sj_dist_t d = NULL;
    int expect[12];
    if (n >= 4) {
        int procs[4] = {0, 1, 2, 3}, grid[2] = {2, 2};
        SJ_ASSERT_OK(sj_dist_create_contiguous(2, nb, 4, procs, grid, &d));
        for (int j = 0; j < 3; j++)
            for (int i = 0; i < 4; i++)
                expect[i + 4 * j] = (i < 2 ? 0 : 1) + (j < 2 ? 0 : 2);
        free(check_layout(d, 2, nb, expect));
        const int boxes_expect[4][4] = {
            /* rows lo, hi, cols lo, hi */
            {0, 2, 0, 2},
            {2, 4, 0, 2},
            {0, 2, 2, 3},
            {2, 4, 2, 3},
        };
        for (int r = 0; r < 4; r++) {
            int nboxes = 0;
            const sj_box_t *bx = NULL;
            SJ_ASSERT_OK(sj_dist_blockmap(d, r, &nboxes, &bx));
            assert_int_equal(nboxes, 1);
            assert_int_equal(bx[0].lo[0], boxes_expect[r][0]);
            assert_int_equal(bx[0].hi[0], boxes_expect[r][1]);
            assert_int_equal(bx[0].lo[1], boxes_expect[r][2]);
            assert_int_equal(bx[0].hi[1], boxes_expect[r][3]);
        }
        /* localblockindices of rank 1: rows 2:3, cols 0:1 */
        int cnt = 0;
        const int *blk = NULL;
        SJ_ASSERT_OK(sj_dist_local_blocks(d, 1, &cnt, &blk));
        assert_int_equal(cnt, 4);
        assert_int_equal(blk[0], 2);
        assert_int_equal(blk[1], 3);
        assert_int_equal(blk[2], 6);
        assert_int_equal(blk[3], 7);
        int g3[3] = {2, 2, 1};
        check_procs(d, 4, procs, g3);
    } else if (n >= 2) {
        /* rows split over 2 ranks: [0,2) on 0, [2,4) on 1 */
        int procs[2] = {0, 1}, grid[2] = {2, 1};
        SJ_ASSERT_OK(sj_dist_create_contiguous(2, nb, 2, procs, grid, &d));
        for (int b = 0; b < 12; b++)
            expect[b] = (b % 4) < 2 ? 0 : 1;
        free(check_layout(d, 2, nb, expect));
        int g3[3] = {2, 1, 1};
        check_procs(d, 2, procs, g3);
    } else {
        int grid[2] = {1, 1};
        SJ_ASSERT_OK(sj_dist_create_contiguous(2, nb, 1, NULL, grid, &d));
        for (int b = 0; b < 12; b++)
            expect[b] = 0;
        free(check_layout(d, 2, nb, expect));
        int nboxes = 0;
        const sj_box_t *bx = NULL;
        SJ_ASSERT_OK(sj_dist_blockmap(d, 0, &nboxes, &bx));
        assert_int_equal(nboxes, 1);
        assert_int_equal(bx[0].lo[0], 0);
        assert_int_equal(bx[0].hi[0], 4);
        assert_int_equal(bx[0].lo[1], 0);
        assert_int_equal(bx[0].hi[1], 3);
    }
    SJ_ASSERT_OK(sj_dist_destroy(&d));

    /* 3 column blocks in 2 chunks: the first chunk gets the extra block (1:2, 3:3) */
    if (n >= 2) {
        int procs[2] = {0, 1}, grid[2] = {1, 2};
        SJ_ASSERT_OK(sj_dist_create_contiguous(2, nb, 2, procs, grid, &d));
        for (int b = 0; b < 12; b++)
            expect[b] = b / 4 < 2 ? 0 : 1;
        free(check_layout(d, 2, nb, expect));
        SJ_ASSERT_OK(sj_dist_destroy(&d));
    }
}

/* The "sparse block diagonal" example: 4x4 blocks over a grid {p,1}. */
static void test_contiguous_row_chunks(void **state)
{
    const int n = sj_nranks();
    int nb[2] = {4, 4}, grid[2] = {n, 1};
    sj_dist_t d = NULL;
    SJ_ASSERT_OK(sj_dist_create_contiguous(2, nb, n, NULL, grid, &d));
    int *owner = check_layout(d, 2, nb, NULL);
    for (int r = 0; r < n; r++) {
        int nboxes = 0;
        const sj_box_t *bx = NULL;
        SJ_ASSERT_OK(sj_dist_blockmap(d, r, &nboxes, &bx));
        assert_int_equal(nboxes, 1);
        assert_int_equal(bx[0].lo[1], 0); /* every column block */
        assert_int_equal(bx[0].hi[1], 4);
        if (n == 4) {
            assert_int_equal(bx[0].lo[0], r);
            assert_int_equal(bx[0].hi[0], r + 1);
        }
    }
    for (int b = 0; b < 16; b++)
        assert_int_equal(owner[b], owner[b % 4]);
    free(owner);
    SJ_ASSERT_OK(sj_dist_destroy(&d));
}

/* The default grid covers every block with one box per rank. */
static void test_contiguous_default_grid(void **state)
{
    const int n = sj_nranks();
    const int shapes[5][4] = {
        /* ndims, nb0, nb1, nb2 */
        {1, 7, 1, 1}, {2, 4, 3, 1}, {2, 3, 5, 1}, {3, 4, 3, 2}, {2, 8, 8, 1},
    };
    for (int s = 0; s < 5; s++) {
        int ndims = shapes[s][0];
        const int *nb = &shapes[s][1];
        sj_dist_t d = NULL, e = NULL;
        SJ_ASSERT_OK(sj_dist_create_contiguous(ndims, nb, 0, NULL, NULL, &d));
        free(check_layout(d, ndims, nb, NULL));
        int np = 0, grid[SJ_MAX_DIMS] = {0, 0, 0};
        const int *procs = NULL;
        SJ_ASSERT_OK(sj_dist_procs(d, &np, &procs, grid));
        assert_int_equal(np, n);
        int prod = 1;
        for (int k = 0; k < SJ_MAX_DIMS; k++) {
            assert_true(grid[k] >= 1);
            if (k < ndims)
                assert_true(grid[k] <= nb[k]);
            else
                assert_int_equal(grid[k], 1);
            prod *= grid[k];
        }
        assert_int_equal(prod, n);
        for (int r = 0; r < n; r++) {
            int nboxes = 0, cnt = 0;
            const sj_box_t *bx = NULL;
            SJ_ASSERT_OK(sj_dist_blockmap(d, r, &nboxes, &bx));
            SJ_ASSERT_OK(sj_dist_local_blocks(d, r, &cnt, NULL));
            assert_int_equal(nboxes, 1);
            assert_true(cnt >= 1);
        }

        /* sj_dist_create_default() of a space with this block grid is the same */
        int64_t dims[3];
        for (int k = 0; k < 3; k++)
            dims[k] = 10;
        sj_space_t sp = NULL;
        SJ_ASSERT_OK(sj_space_create(SJ_FLOAT64, ndims, dims, nb, &sp));
        SJ_ASSERT_OK(sj_dist_create_default(sp, &e));
        int eq = -1;
        SJ_ASSERT_OK(sj_dist_equal(d, e, &eq));
        assert_int_equal(eq, 1);
        SJ_ASSERT_OK(sj_space_destroy(&sp));
        SJ_ASSERT_OK(sj_dist_destroy(&d));
        SJ_ASSERT_OK(sj_dist_destroy(&e));
    }
}

/*
 * When a prime factor of the rank count fits no dimension (3 ranks on 2 x 2
 * blocks, 5 on 4 x 1), the default grid uses the largest smaller count that
 * fits instead of leaving all but one rank out.
 */
static void test_contiguous_default_grid_fewer_ranks(void **state)
{
    (void)state;
    const int n = sj_nranks();
    const int shapes[3][2] = {{2, 2}, {2, 1}, {4, 1}};
    /* expected ranks used for n = 1..4 */
    const int expect[3][4] = {{1, 2, 2, 4}, {1, 2, 2, 2}, {1, 2, 3, 4}};
    for (int s = 0; s < 3; s++) {
        sj_dist_t d = NULL;
        SJ_ASSERT_OK(sj_dist_create_contiguous(2, shapes[s], 0, NULL, NULL, &d));
        free(check_layout(d, 2, shapes[s], NULL));
        int np = 0, grid[SJ_MAX_DIMS] = {0, 0, 0};
        const int *procs = NULL;
        SJ_ASSERT_OK(sj_dist_procs(d, &np, &procs, grid));
        if (n <= 4)
            assert_int_equal(np, expect[s][n - 1]);
        assert_int_equal(grid[0] * grid[1], np);
        for (int p = 0; p < np; p++)
            assert_int_equal(procs[p], p);
        SJ_ASSERT_OK(sj_dist_destroy(&d));
    }
}

/* ---- block-cyclic -------------------------------------------------------- */

static void test_cyclic_2d(void **state)
{
    const int n = sj_nranks();
    int nb[2] = {5, 4};
    int expect[20];
    for (int pr = 1; pr <= n; pr++)
        for (int pc = 1; pr * pc <= n; pc++) {
            sj_dist_t d = NULL;
            SJ_ASSERT_OK(sj_dist_create_cyclic(2, nb, pr, pc, NULL, &d));
            for (int j = 0; j < 4; j++)
                for (int i = 0; i < 5; i++)
                    expect[i + 5 * j] = (i % pr) + pr * (j % pc);
            free(check_layout(d, 2, nb, expect));
            int grid[3] = {pr, pc, 1};
            check_procs(d, pr * pc, NULL, grid);
            sj_dist_kind_t kind = 0;
            SJ_ASSERT_OK(sj_dist_info(d, &kind, NULL, NULL, NULL));
            assert_int_equal(kind, SJ_DIST_CYCLIC);
            SJ_ASSERT_OK(sj_dist_destroy(&d));

            /* the same grid over the ranks in reverse order */
            int *procs = malloc((size_t)(pr * pc) * sizeof(int));
            for (int k = 0; k < pr * pc; k++)
                procs[k] = n - 1 - k;
            SJ_ASSERT_OK(sj_dist_create_cyclic(2, nb, pr, pc, procs, &d));
            for (int j = 0; j < 4; j++)
                for (int i = 0; i < 5; i++)
                    expect[i + 5 * j] = procs[(i % pr) + pr * (j % pc)];
            free(check_layout(d, 2, nb, expect));
            check_procs(d, pr * pc, procs, grid);
            free(procs);
            SJ_ASSERT_OK(sj_dist_destroy(&d));
        }
}

static void test_cyclic_1d(void **state)
{
    const int n = sj_nranks();
    int nb[1] = {11};
    for (int pr = 1; pr <= n; pr++)
        for (int pc = 1; pr * pc <= n; pc++) {
            sj_dist_t d = NULL;
            int expect[11];
            SJ_ASSERT_OK(sj_dist_create_cyclic(1, nb, pr, pc, NULL, &d));
            for (int i = 0; i < 11; i++)
                expect[i] = i % (pr * pc);
            free(check_layout(d, 1, nb, expect));
            SJ_ASSERT_OK(sj_dist_destroy(&d));
        }
}

static void test_cyclic_3d(void **state)
{
    const int n = sj_nranks();
    int nb[3] = {3, 4, 2};
    int pr = n >= 2 ? 2 : 1, pc = n >= 4 ? 2 : 1;
    if (n == 3) {
        pr = 1;
        pc = 3;
    }
    sj_dist_t d = NULL;
    int expect[24];
    SJ_ASSERT_OK(sj_dist_create_cyclic(3, nb, pr, pc, NULL, &d));
    for (int b = 0; b < 24; b++) {
        int c[3];
        coords_of(b, 3, nb, c);
        expect[b] = (c[0] % pr) + pr * ((c[1] + nb[1] * c[2]) % pc);
    }
    free(check_layout(d, 3, nb, expect));
    SJ_ASSERT_OK(sj_dist_destroy(&d));
}

/* ---- explicit ------------------------------------------------------------ */

static void test_explicit(void **state)
{
    const int n = sj_nranks();
    int nb[2] = {3, 4}, owners[12], table[12];
    for (int b = 0; b < 12; b++)
        owners[b] = table[b] = (b * 7 + 3) % n;
    sj_dist_t d = NULL;
    SJ_ASSERT_OK(sj_dist_create_explicit(2, nb, table, &d));
    for (int b = 0; b < 12; b++)
        table[b] = -99; /* the layout keeps its own copy */
    free(check_layout(d, 2, nb, owners));
    sj_dist_kind_t kind = 0;
    SJ_ASSERT_OK(sj_dist_info(d, &kind, NULL, NULL, NULL));
    assert_int_equal(kind, SJ_DIST_EXPLICIT);

    /* procs: the ranks that own blocks, each once */
    int np = 0;
    const int *procs = NULL;
    SJ_ASSERT_OK(sj_dist_procs(d, &np, &procs, NULL));
    int used[64] = {0}, nused = 0;
    for (int b = 0; b < 12; b++)
        if (!used[owners[b]]) {
            used[owners[b]] = 1;
            nused++;
        }
    assert_int_equal(np, nused);
    for (int i = 0; i < np; i++) {
        assert_in_range(procs[i], 0, n - 1);
        assert_int_equal(used[procs[i]], 1);
        used[procs[i]] = 2;
    }
    SJ_ASSERT_OK(sj_dist_destroy(&d));

    /* an owner table equal to the contiguous layout is equal to it */
    int nb1[1] = {10};
    sj_dist_t c = NULL;
    SJ_ASSERT_OK(sj_dist_create_contiguous(1, nb1, 0, NULL, NULL, &c));
    int own1[10];
    for (int b = 0; b < 10; b++)
        SJ_ASSERT_OK(sj_dist_owner(c, b, &own1[b]));
    SJ_ASSERT_OK(sj_dist_create_explicit(1, nb1, own1, &d));
    int eq = -1;
    SJ_ASSERT_OK(sj_dist_equal(c, d, &eq));
    assert_int_equal(eq, 1);
    SJ_ASSERT_OK(sj_dist_destroy(&d));
    SJ_ASSERT_OK(sj_dist_destroy(&c));
}

/* ---- subsets of the ranks ------------------------------------------------ */

static void test_subset_last_rank(void **state)
{
    const int n = sj_nranks();
    int nb[2] = {4, 3}, last[1] = {n - 1}, grid[2] = {1, 1}, expect[12];
    sj_dist_t d = NULL;
    SJ_ASSERT_OK(sj_dist_create_contiguous(2, nb, 1, last, grid, &d));
    for (int b = 0; b < 12; b++)
        expect[b] = n - 1;
    free(check_layout(d, 2, nb, expect));
    int g3[3] = {1, 1, 1};
    check_procs(d, 1, last, g3);
    for (int r = 0; r < n - 1; r++) {
        int cnt = -1, nboxes = -1;
        const sj_box_t *bx = NULL;
        SJ_ASSERT_OK(sj_dist_local_blocks(d, r, &cnt, NULL));
        SJ_ASSERT_OK(sj_dist_blockmap(d, r, &nboxes, &bx));
        assert_int_equal(cnt, 0);
        assert_int_equal(nboxes, 0);
    }
    SJ_ASSERT_OK(sj_dist_destroy(&d));

    /* cyclic over the last rank alone */
    SJ_ASSERT_OK(sj_dist_create_cyclic(2, nb, 1, 1, last, &d));
    free(check_layout(d, 2, nb, expect));
    SJ_ASSERT_OK(sj_dist_destroy(&d));
}

static void test_subset_reversed(void **state)
{
    const int n = sj_nranks();
    int nb[1] = {8};
    int *procs = malloc((size_t)n * sizeof(int));
    for (int k = 0; k < n; k++)
        procs[k] = n - 1 - k;
    sj_dist_t d = NULL, f = NULL;
    SJ_ASSERT_OK(sj_dist_create_contiguous(1, nb, n, procs, NULL, &d));
    int *owner = check_layout(d, 1, nb, NULL);
    for (int b = 1; b < 8; b++)
        assert_true(owner[b] <= owner[b - 1]);
    assert_int_equal(owner[0], n - 1);
    assert_int_equal(owner[7], 0);
    int grid[3] = {n, 1, 1};
    check_procs(d, n, procs, grid);

    /* the same chunks as the forward layout, mirrored */
    SJ_ASSERT_OK(sj_dist_create_contiguous(1, nb, n, NULL, NULL, &f));
    for (int b = 0; b < 8; b++) {
        int fo = -1;
        SJ_ASSERT_OK(sj_dist_owner(f, b, &fo));
        assert_int_equal(owner[b], n - 1 - fo);
    }
    int eq = -1;
    SJ_ASSERT_OK(sj_dist_equal(d, f, &eq));
    assert_int_equal(eq, n == 1);
    free(owner);
    free(procs);
    SJ_ASSERT_OK(sj_dist_destroy(&d));
    SJ_ASSERT_OK(sj_dist_destroy(&f));
}

static void test_equal(void **state)
{
    const int n = sj_nranks();
    int nb[1] = {4};
    sj_dist_t a = NULL, b = NULL, c = NULL;
    SJ_ASSERT_OK(sj_dist_create_contiguous(1, nb, 0, NULL, NULL, &a));
    SJ_ASSERT_OK(sj_dist_create_cyclic(1, nb, n, 1, NULL, &b));
    int zeros[4] = {0, 0, 0, 0};
    SJ_ASSERT_OK(sj_dist_create_explicit(1, nb, zeros, &c));
    int eq = -1, same = 1;
    for (int k = 0; k < 4; k++) {
        int oa, ob;
        SJ_ASSERT_OK(sj_dist_owner(a, k, &oa));
        SJ_ASSERT_OK(sj_dist_owner(b, k, &ob));
        same &= oa == ob;
    }
    assert_int_equal(same, n == 1 || n == 4); /* one block per rank when n == 4 */
    SJ_ASSERT_OK(sj_dist_equal(a, b, &eq));
    assert_int_equal(eq, same);
    SJ_ASSERT_OK(sj_dist_equal(a, a, &eq));
    assert_int_equal(eq, 1);
    SJ_ASSERT_OK(sj_dist_equal(a, c, &eq));
    assert_int_equal(eq, n == 1);
    SJ_ASSERT_OK(sj_dist_equal(c, a, &eq));
    assert_int_equal(eq, n == 1);
    SJ_ASSERT_OK(sj_dist_destroy(&a));
    SJ_ASSERT_OK(sj_dist_destroy(&b));
    SJ_ASSERT_OK(sj_dist_destroy(&c));
}

/* ---- bad input ------------------------------------------------------------ */

static void test_bad_grid_too_large(void **state)
{
    const int n = sj_nranks();
    int nb[2] = {8, 8}, nb1[1] = {8};
    sj_dist_t d = NULL;
    SJ_ASSERT_ERR(sj_dist_create_contiguous(1, nb1, n + 1, NULL, NULL, &d), SJ_ESIZE);
    int grid[2] = {n + 1, 1};
    SJ_ASSERT_ERR(sj_dist_create_contiguous(2, nb, n + 1, NULL, grid, &d), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_dist_create_cyclic(2, nb, n + 1, 1, NULL, &d), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_dist_create_cyclic(2, nb, 1, n + 1, NULL, &d), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_dist_create_cyclic(1, nb1, n, 2, NULL, &d), SJ_ESIZE);
    assert_null(d);
}

static void test_bad_rank_out_of_range(void **state)
{
    const int n = sj_nranks();
    int nb[1] = {4}, over[1] = {n}, neg[1] = {-1};
    sj_dist_t d = NULL;
    SJ_ASSERT_ERR(sj_dist_create_contiguous(1, nb, 1, over, NULL, &d), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_dist_create_contiguous(1, nb, 1, neg, NULL, &d), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_dist_create_cyclic(1, nb, 1, 1, over, &d), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_dist_create_cyclic(1, nb, 1, 1, neg, &d), SJ_ERANGE);
    int owners[4] = {0, 0, n, 0}, owners2[4] = {0, -1, 0, 0};
    SJ_ASSERT_ERR(sj_dist_create_explicit(1, nb, owners, &d), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_dist_create_explicit(1, nb, owners2, &d), SJ_ERANGE);
    assert_null(d);
}

static void test_bad_repeated_rank(void **state)
{
    const int n = sj_nranks();
    int nb[1] = {4}, twice[2] = {n - 1, n - 1};
    sj_dist_t d = NULL;
    if (n >= 2) {
        SJ_ASSERT_ERR(sj_dist_create_contiguous(1, nb, 2, twice, NULL, &d), SJ_ERANGE);
        SJ_ASSERT_ERR(sj_dist_create_cyclic(1, nb, 2, 1, twice, &d), SJ_ERANGE);
        SJ_ASSERT_ERR(sj_dist_create_cyclic(1, nb, 1, 2, twice, &d), SJ_ERANGE);
    } else {
        /* with one rank, two entries are also more than the communicator */
        SJ_ASSERT_ERR2(sj_dist_create_contiguous(1, nb, 2, twice, NULL, &d), SJ_ERANGE, SJ_ESIZE);
        SJ_ASSERT_ERR2(sj_dist_create_cyclic(1, nb, 2, 1, twice, &d), SJ_ERANGE, SJ_ESIZE);
    }
    assert_null(d);
}

static void test_bad_grid_vs_blocks(void **state)
{
    const int n = sj_nranks();
    int nb[2] = {1, 4}, grid[2] = {2, 1};
    sj_dist_t d = NULL;
    /* 2 ranks along a dimension of 1 block (with 1 rank: also > communicator) */
    SJ_ASSERT_ERR(sj_dist_create_contiguous(2, nb, 2, NULL, grid, &d), SJ_ESIZE);
    int nb1[1] = {1}, g1[1] = {2};
    SJ_ASSERT_ERR(sj_dist_create_contiguous(1, nb1, 2, NULL, g1, &d), SJ_ESIZE);
    (void)n;
    assert_null(d);
}

static void test_bad_grid_product(void **state)
{
    const int n = sj_nranks();
    int nb[2] = {4, 4};
    sj_dist_t d = NULL;
    if (n >= 2) {
        int grid[2] = {1, 1};
        SJ_ASSERT_ERR2(sj_dist_create_contiguous(2, nb, n, NULL, grid, &d), SJ_EINVAL, SJ_ESIZE);
    }
    int grid2[2] = {2, 1};
    SJ_ASSERT_ERR2(sj_dist_create_contiguous(2, nb, 1, NULL, grid2, &d), SJ_EINVAL, SJ_ESIZE);
    int bad[2] = {0, 1};
    SJ_ASSERT_ERR2(sj_dist_create_contiguous(2, nb, 1, NULL, bad, &d), SJ_EINVAL, SJ_ESIZE);
    SJ_ASSERT_ERR2(sj_dist_create_cyclic(2, nb, 0, 1, NULL, &d), SJ_EINVAL, SJ_ESIZE);
    SJ_ASSERT_ERR2(sj_dist_create_cyclic(2, nb, 1, -1, NULL, &d), SJ_EINVAL, SJ_ESIZE);
    assert_null(d);
}

static void test_bad_ndims_nblocks(void **state)
{
    int nb[4] = {2, 2, 2, 2}, zero[1] = {0}, owners[16] = {0};
    sj_dist_t d = NULL;
    SJ_ASSERT_ERR(sj_dist_create_contiguous(0, nb, 1, NULL, NULL, &d), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_dist_create_contiguous(4, nb, 1, NULL, NULL, &d), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_dist_create_cyclic(4, nb, 1, 1, NULL, &d), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_dist_create_explicit(0, nb, owners, &d), SJ_EINVAL);
    SJ_ASSERT_ERR(sj_dist_create_contiguous(1, zero, 1, NULL, NULL, &d), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_dist_create_cyclic(1, zero, 1, 1, NULL, &d), SJ_ESIZE);
    SJ_ASSERT_ERR(sj_dist_create_explicit(1, zero, owners, &d), SJ_ESIZE);
    assert_null(d);
}

static void test_bad_null(void **state)
{
    int nb[1] = {4}, owners[4] = {0, 0, 0, 0}, r, cnt, nboxes, np, eq;
    const int *blocks;
    const sj_box_t *boxes;
    sj_dist_t d = NULL;
    SJ_ASSERT_ERR(sj_dist_create_contiguous(1, nb, 0, NULL, NULL, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_dist_create_contiguous(1, NULL, 0, NULL, NULL, &d), SJ_ENULL);
    SJ_ASSERT_ERR(sj_dist_create_cyclic(1, nb, 1, 1, NULL, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_dist_create_cyclic(1, NULL, 1, 1, NULL, &d), SJ_ENULL);
    SJ_ASSERT_ERR(sj_dist_create_explicit(1, nb, NULL, &d), SJ_ENULL);
    SJ_ASSERT_ERR(sj_dist_create_explicit(1, nb, owners, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_dist_create_default(NULL, &d), SJ_ENULL);
    assert_null(d);
    SJ_ASSERT_ERR(sj_dist_owner(NULL, 0, &r), SJ_ENULL);
    SJ_ASSERT_ERR(sj_dist_local_blocks(NULL, 0, &cnt, &blocks), SJ_ENULL);
    SJ_ASSERT_ERR(sj_dist_blockmap(NULL, 0, &nboxes, &boxes), SJ_ENULL);
    SJ_ASSERT_ERR(sj_dist_procs(NULL, &np, NULL, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_dist_info(NULL, NULL, NULL, NULL, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_dist_equal(NULL, NULL, &eq), SJ_ENULL);

    SJ_ASSERT_OK(sj_dist_create_explicit(1, nb, owners, &d));
    SJ_ASSERT_ERR(sj_dist_owner(d, 0, NULL), SJ_ENULL);
    SJ_ASSERT_ERR(sj_dist_local_blocks(d, 0, NULL, &blocks), SJ_ENULL);
    SJ_ASSERT_ERR(sj_dist_blockmap(d, 0, NULL, &boxes), SJ_ENULL);
    SJ_ASSERT_ERR(sj_dist_equal(d, NULL, &eq), SJ_ENULL);
    SJ_ASSERT_ERR(sj_dist_equal(d, d, NULL), SJ_ENULL);
    SJ_ASSERT_OK(sj_dist_destroy(&d));
}

static void test_bad_block_and_rank(void **state)
{
    const int n = sj_nranks();
    int nb[2] = {3, 2}, r = -5, cnt, nboxes;
    const int *blocks;
    const sj_box_t *boxes;
    sj_dist_t d = NULL;
    SJ_ASSERT_OK(sj_dist_create_contiguous(2, nb, 0, NULL, NULL, &d));
    SJ_ASSERT_ERR(sj_dist_owner(d, 6, &r), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_dist_owner(d, -1, &r), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_dist_local_blocks(d, n, &cnt, &blocks), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_dist_local_blocks(d, -1, &cnt, &blocks), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_dist_blockmap(d, n, &nboxes, &boxes), SJ_ERANGE);
    SJ_ASSERT_ERR(sj_dist_blockmap(d, -1, &nboxes, &boxes), SJ_ERANGE);
    SJ_ASSERT_OK(sj_dist_owner(d, 5, &r));
    assert_in_range(r, 0, n - 1);
    SJ_ASSERT_OK(sj_dist_destroy(&d));
}

static void test_destroy_null(void **state)
{
    assert_int_equal(sj_dist_destroy(NULL), 0);
    sj_dist_t d = NULL;
    assert_int_equal(sj_dist_destroy(&d), 0);
    assert_null(d);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contiguous_1d),
        cmocka_unit_test(test_contiguous_notebook_4x3),
        cmocka_unit_test(test_contiguous_row_chunks),
        cmocka_unit_test(test_contiguous_default_grid),
        cmocka_unit_test(test_contiguous_default_grid_fewer_ranks),
        cmocka_unit_test(test_cyclic_2d),
        cmocka_unit_test(test_cyclic_1d),
        cmocka_unit_test(test_cyclic_3d),
        cmocka_unit_test(test_explicit),
        cmocka_unit_test(test_subset_last_rank),
        cmocka_unit_test(test_subset_reversed),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_bad_grid_too_large),
        cmocka_unit_test(test_bad_rank_out_of_range),
        cmocka_unit_test(test_bad_repeated_rank),
        cmocka_unit_test(test_bad_grid_vs_blocks),
        cmocka_unit_test(test_bad_grid_product),
        cmocka_unit_test(test_bad_ndims_nblocks),
        cmocka_unit_test(test_bad_null),
        cmocka_unit_test(test_bad_block_and_rank),
        cmocka_unit_test(test_destroy_null),
    };
    return sj_test_main(tests, sizeof tests / sizeof tests[0], "dist");
}
