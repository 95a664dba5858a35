/* What the dense benchmarks share: see bench.h. */
#define _GNU_SOURCE
#include <cblas.h>
#include <errno.h>
#include <omp.h>
#include <stdlib.h>

#include "bench.h"

void print_blas_core(void)
{
    const char *core = openblas_get_corename();
    const char *forced = env_or("OPENBLAS_CORETYPE", NULL);
    const char *dflt = env_or("SJ_BENCH_BLAS_DEFAULT_CORE", forced ? "-" : core);
    printf("\"blas_core\":\"%s\",\"blas_coretype\":\"%s\",\"blas_core_default\":\"%s\",", core,
           forced ? forced : "-", dflt);
}

void op_step(void *arg)
{
    const op_step_t *s = arg;
    for (int k = 0; k < s->batch; k++)
        CHECK(s->adjoint ? sj_op_apply_adjoint(s->A, s->in, s->out)
                         : sj_op_apply(s->A, s->in, s->out));
    CHECK(sj_wait());
}

void fill_block(double *M, int b, int64_t m, int64_t n)
{
    for (int64_t c = 0; c < n; c++)
        for (int64_t r = 0; r < m; r++)
            M[r + m * c] = small_entry(b, r, c);
}

/* ---- the gemv benchmarks ------------------------------------------------------------------ */

static const char *const kind_name[NKINDS] = {"omp_blocks", "blas_threads"};
static const char *const dir_name[2] = {"forward", "adjoint"};

void gemv_alloc(gemv_t *G, int me, int nb, int64_t m, int64_t n, int64_t dlen, int64_t rlen)
{
    *G = (gemv_t){.nb = nb, .m = m, .n = n, .dlen = dlen, .rlen = rlen};
    if (me != 0)
        return;
    G->M = xcalloc((size_t)nb, sizeof *G->M);
    for (int b = 0; b < nb; b++)
        G->M[b] = xmalloc((size_t)(m * n) * sizeof(double));
#pragma omp parallel for schedule(static)
    for (int b = 0; b < nb; b++)
        fill_block(G->M[b], b, m, n);
    double **dom[] = {&G->x, &G->v, &G->vref, &G->vsj}, **rng[] = {&G->u, &G->y, &G->yref, &G->ysj};
    for (int k = 0; k < 4; k++) {
        *dom[k] = xcalloc((size_t)dlen, sizeof(double));
        *rng[k] = xcalloc((size_t)rlen, sizeof(double));
    }
    for (int64_t k = 0; k < dlen; k++)
        G->x[k] = small_vec_entry(k, 0);
    for (int64_t k = 0; k < rlen; k++)
        G->u[k] = small_vec_entry(k, 1);
}

void gemv_free(gemv_t *G, gemv_res_t *res)
{
    for (int b = 0; G->M && b < G->nb; b++)
        free(G->M[b]);
    double *all[] = {G->x, G->u, G->y, G->v, G->yref, G->vref, G->ysj, G->vsj};
    for (int k = 0; k < 8; k++)
        free(all[k]);
    free(G->M);
    free(res->all_ncpus);
    free(res->all_faults);
}

/* Rank 0: both kinds in both directions for round r; the wrong elements. */
static int64_t time_baselines(const bench_t *b, gemv_t *G, const gemv_bench_t *gb, dirs_t *d, int r)
{
    double *t = xmalloc((size_t)b->iters * sizeof *t);
    int64_t bad = 0;
    for (G->kind = 0; G->kind < NKINDS; G->kind++)
        for (G->dir = 0; G->dir < 2; G->dir++) {
            openblas_set_num_threads(G->kind == OMP_BLOCKS ? 1 : b->threads);
            omp_set_num_threads(b->threads);
            d->base[G->kind][G->dir][r] = time_steps(b->warm, b->iters, gb->base_apply, G, t);
            int64_t e =
                G->dir ? count_diff(G->v, G->vref, G->dlen) : count_diff(G->y, G->yref, G->rlen);
            if (e)
                fprintf(stderr, "%s: baseline %s %s: %lld wrong\n", program_invocation_short_name,
                        kind_name[G->kind], dir_name[G->dir], (long long)e);
            bad += e;
        }
    free(t);
    return bad;
}

/* x (ctx int 0) or u (ctx int 1) */
static int init_vec(const sj_block_info_t *blk, void *out, const void *const *in, void *ctx)
{
    const int which = *(const int *)ctx;
    double *o = out;
    for (int64_t k = 0; k < blk->nelems; k++)
        o[k] = small_vec_entry(blk->lo[0] + k, which);
    return 0;
}

/*
 * One starjets session's work: both directions of the operator timed (per
 * apply: seconds into s, faults and bytes sent into res), y and v gathered.
 */
static void run_starjets(const bench_t *b, gemv_t *G, const gemv_bench_t *gb, void *ctx,
                         double s[2], gemv_res_t *res, int *ncpus)
{
    sj_op_t A = gb->make_op(G, ctx);
    sj_space_t ds, rs;
    sj_dist_t dd, rd;
    CHECK(sj_op_domain(A, &ds, &dd));
    CHECK(sj_op_range(A, &rs, &rd));
    sj_array_t x, y, u, v;
    int which0 = 0, which1 = 1;
    CHECK(sj_array_create_init(ds, dd, init_vec, &which0, sizeof which0, &x));
    CHECK(sj_array_zeros(rs, rd, &y));
    CHECK(sj_array_create_init(rs, rd, init_vec, &which1, sizeof which1, &u));
    CHECK(sj_array_zeros(ds, dd, &v));
    CHECK(sj_wait());
    for (int dir = 0; dir < 2; dir++) {
        op_step_t st = {A, dir ? u : x, dir ? v : y, dir, gb->batch};
        for (int it = 0; it < b->warm; it++)
            op_step(&st);
        const double c0 = gb->sent ? gb->sent() : 0;
        s[dir] = sj_time_steps(b, dir_name[dir], 0, op_step, &st, &res->faults[dir]) / gb->batch;
        res->faults[dir] /= gb->batch;
        res->sent[dir] = gb->sent ? (gb->sent() - c0) / ((double)b->iters * gb->batch) : 0;
    }
    *ncpus = sj_ncpus();
    CHECK(sj_array_gather(y, 0, G->ysj));
    CHECK(sj_array_gather(v, 0, G->vsj));
    CHECK(sj_array_destroy(&x));
    CHECK(sj_array_destroy(&y));
    CHECK(sj_array_destroy(&u));
    CHECK(sj_array_destroy(&v));
    CHECK(sj_op_destroy(&A));
}

int64_t gemv_rounds(const bench_t *b, gemv_t *G, const gemv_bench_t *gb, void *ctx, int *argc,
                    char ***argv, dirs_t *d, gemv_res_t *res)
{
    int64_t bad = 0;
    int ncpus = 0;
    for (int r = 0; r < b->rounds; r++) {
        if (b->me == 0)
            bad += time_baselines(b, G, gb, d, r);
        quiet_barrier();
        double s[2];
        bench_session_t session;
        bench_session_begin(&session, b, argc, argv);
        run_starjets(b, G, gb, ctx, s, res, &ncpus);
        bench_session_end(&session);
        d->sj[0][r] = s[0];
        d->sj[1][r] = s[1];
        if (b->me != 0)
            continue;
        int64_t e1 = count_diff(G->ysj, G->yref, G->rlen);
        int64_t e2 = count_diff(G->vsj, G->vref, G->dlen);
        if (e1 || e2)
            fprintf(stderr, "%s: starjets: %lld wrong forward, %lld wrong adjoint elements\n",
                    program_invocation_short_name, (long long)e1, (long long)e2);
        bad += e1 + e2;
        if (b->verbose)
            fprintf(stderr,
                    "round %d: forward: starjets %.3f ms, omp_blocks %.3f ms, blas_threads "
                    "%.3f ms; adjoint: starjets %.3f ms, omp_blocks %.3f ms, blas_threads "
                    "%.3f ms\n",
                    r, d->sj[0][r] * 1e3, d->base[0][0][r] * 1e3, d->base[1][0][r] * 1e3,
                    d->sj[1][r] * 1e3, d->base[0][1][r] * 1e3, d->base[1][1][r] * 1e3);
    }
    MPI_Allreduce(MPI_IN_PLACE, res->sent, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    res->all_ncpus = gather(&ncpus, 1, MPI_INT);
    res->all_faults = gather(res->faults, 2, MPI_DOUBLE);
    return sum_ranks(bad);
}

void print_gemv(const dirs_t *d, const gemv_res_t *res, const bench_t *b, double bytes)
{
    const int R = b->rounds;
    double sj[2], base[2], med[NKINDS][2], ratio[2][MAX_ROUNDS];
    int pick[2];
    for (int dir = 0; dir < 2; dir++) {
        for (int k = 0; k < NKINDS; k++)
            med[k][dir] = median(d->base[k][dir], R);
        sj[dir] = median(d->sj[dir], R);
        pick[dir] = med[BLAS_THREADS][dir] < med[OMP_BLOCKS][dir];
        base[dir] = med[pick[dir]][dir];
        for (int r = 0; r < R; r++)
            ratio[dir][r] = d->base[pick[dir]][dir][r] / d->sj[dir][r];
    }
    printf("\"starjets_fwd_s\":%.6g,\"starjets_adj_s\":%.6g,\"baseline_fwd_s\":%.6g,"
           "\"baseline_adj_s\":%.6g,\"baseline_fwd\":\"%s\",\"baseline_adj\":\"%s\",",
           sj[0], sj[1], base[0], base[1], kind_name[pick[0]], kind_name[pick[1]]);
    printf("\"omp_blocks_fwd_s\":%.6g,\"omp_blocks_adj_s\":%.6g,\"blas_threads_fwd_s\":%.6g,"
           "\"blas_threads_adj_s\":%.6g,",
           med[OMP_BLOCKS][0], med[OMP_BLOCKS][1], med[BLAS_THREADS][0], med[BLAS_THREADS][1]);
    printf("\"starjets_fwd_GBps\":%.4g,\"starjets_adj_GBps\":%.4g,\"baseline_fwd_GBps\":%.4g,"
           "\"baseline_adj_GBps\":%.4g,",
           bytes / sj[0] * 1e-9, bytes / sj[1] * 1e-9, bytes / base[0] * 1e-9,
           bytes / base[1] * 1e-9);
    printf("\"ratio_fwd\":%.4f,\"ratio_adj\":%.4f,", base[0] / sj[0], base[1] / sj[1]);
    print_array("ratio_fwd_per_round", "%.4g", ratio[0], R);
    print_array("ratio_adj_per_round", "%.4g", ratio[1], R);
    print_int_array("ncpus_per_rank", res->all_ncpus, b->np);
    printf("\"minor_faults_per_apply\":[");
    for (int i = 0; i < b->np; i++)
        printf("%s[%.0f,%.0f]", i ? "," : "", res->all_faults[2 * i], res->all_faults[2 * i + 1]);
    printf("],");
}
