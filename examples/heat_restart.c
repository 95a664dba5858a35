// sj-example: nprocs=1,2,3 args=--small
/*
 * Checkpoint and restart of a long iteration: the 2-D heat equation of
 * heat2d.c, saved every K steps with sj_array_save(), and continued from the
 * last checkpoint on any number of ranks with sj_array_load(). The step count
 * travels in the file's metadata.
 *
 *   mpirun -n 3 ./heat_restart --checkpoint heat.sjarr --stop-at 37   (dies at 37)
 *   mpirun -n 2 ./heat_restart --checkpoint heat.sjarr --restart      (goes on from 30)
 *
 *   options: [--nx NX] [--ny NY] [--steps S] [--every K] [--small]
 *            [--checkpoint FILE] [--restart] [--stop-at N]
 *            [--final FILE] [--compare FILE]
 *
 * --stop-at N ends the run after step N, as a job killed there would (the
 * steps after the last checkpoint are lost and done again by the restart).
 * --final saves the last plate, --compare checks that the last plate has the
 * bits of the one in FILE (an uninterrupted run's --final). The blocking
 * follows the rank count, so a restart on another rank count loads the
 * checkpoint into other blocks; the five-point update of a cell does not
 * depend on the blocking, so the bits are those of an uninterrupted run.
 *
 * Without --checkpoint (the ctest entry, --small) it does the whole story in
 * one run: S steps straight, then again from the start stopping after
 * step S - K/2 - 1, a restart from the last checkpoint, and a comparison.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <starjets.h>

#include "example.h"

typedef struct plate {
    int64_t nx, ny;
} plate_t;

static int init_block(const sj_block_info_t *blk, void *outp, const void *const *in, void *ctx)
{
    const plate_t *p = ctx;
    double *out = outp;
    const double r = (double)(p->nx < p->ny ? p->nx : p->ny) / 6;
    for (int64_t j = 0; j < blk->dims[1]; j++)
        for (int64_t i = 0; i < blk->dims[0]; i++) {
            const double x = (double)(blk->lo[0] + i) - 0.5 * (double)(p->nx - 1),
                         y = (double)(blk->lo[1] + j) - 0.5 * (double)(p->ny - 1);
            out[i + blk->dims[0] * j] = x * x + y * y < r * r ? 100.0 : 0.0;
        }
    return 0;
}

static int heat_step(const sj_stencil_info_t *s, void *outp, const void *inp, void *ctx)
{
    const double k = *(const double *)ctx;
    const double *in = inp;
    double *out = outp;
    const int64_t a = s->in_stride[1], o = s->out_stride[1];
    for (int64_t j = s->lo[1]; j < s->hi[1]; j++)
        for (int64_t i = s->lo[0]; i < s->hi[0]; i++) {
            const double *c = in + i + a * j;
            out[i + o * j] = *c + k * (((c[-1] + c[1]) + (c[-a] + c[a])) - 4.0 * *c);
        }
    return 0;
}

typedef struct opts {
    plate_t p;
    int steps, every, stop_at, restart;
    const char *checkpoint, *final, *compare;
} opts_t;

/* What a checkpoint's metadata holds. */
typedef struct meta {
    int64_t step, nx, ny;
} meta_t;

/*
 * Run the time loop from the start or from the checkpoint, to the last step
 * or to o->stop_at; returns the plate (u) and the step reached.
 */
static int run(const opts_t *o, sj_array_t *out)
{
    const int np = sj_nranks();
    const double k = 0.2;
    sj_space_t space;
    CHECK(sj_space_create(SJ_FLOAT64, 2, (int64_t[]){o->p.nx, o->p.ny}, (int[]){2, np}, &space));
    sj_array_t u, v;
    int first = 1;
    if (o->restart) {
        sj_file_info_t info;
        CHECK(sj_array_zeros(space, NULL, &u));
        CHECK(sj_array_load(o->checkpoint, u, &info)); /* type, shape and every checksum checked */
        meta_t m;
        memcpy(&m, info.meta, sizeof m);
        first = (int)m.step + 1;
        if (sj_rank() == 0)
            printf("heat_restart: restarting from step %lld of '%s' (label '%s') on %d rank(s)\n",
                   (long long)m.step, o->checkpoint, info.label, np);
    } else {
        CHECK(sj_array_create_init(space, NULL, init_block, &o->p, sizeof o->p, &u));
    }
    CHECK(sj_array_similar(u, &v));
    const int last = o->stop_at > 0 && o->stop_at < o->steps ? o->stop_at : o->steps;
    for (int step = first; step <= last; step++) {
        CHECK(sj_array_stencil(u, v, 1, SJ_BOUNDARY_FIXED, NULL, heat_step, &k, sizeof k));
        sj_array_t t = u;
        u = v;
        v = t;
        if (o->checkpoint && step % o->every == 0) {
            /* no wait before: the save is ordered after the step that wrote u */
            const meta_t m = {step, o->p.nx, o->p.ny};
            char label[64];
            snprintf(label, sizeof label, "heat plate after step %d", step);
            CHECK(sj_array_save(u, o->checkpoint, label, &m, sizeof m));
            if (sj_rank() == 0)
                printf("  step %4d: checkpoint saved\n", step);
        }
    }
    if (sj_rank() == 0 && last < o->steps)
        printf("heat_restart: stopped after step %d of %d on %d rank(s)\n", last, o->steps, np);
    CHECK(sj_array_destroy(&v));
    CHECK(sj_space_destroy(&space));
    *out = u;
    return last;
}

/* Non-zero when @p a and @p b hold the same bits. */
static int same_bits(sj_array_t a, sj_array_t b, int64_t n)
{
    double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    CHECK(sj_array_allgather(a, x));
    CHECK(sj_array_allgather(b, y));
    const int same = memcmp(x, y, (size_t)n * sizeof *x) == 0;
    free(x);
    free(y);
    return same;
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--nx NX] [--ny NY] [--steps S] [--every K] [--small] [--checkpoint FILE] "
            "[--restart] [--stop-at N] [--final FILE] [--compare FILE]\n",
            prog);
    exit(2);
}

int main(int argc, char **argv)
{
    opts_t o = {{512, 384}, 200, 25, 0, 0, NULL, NULL, NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--small")) {
            o.p.nx = 64;
            o.p.ny = 48;
            o.steps = 60;
            o.every = 10;
        } else if (!strcmp(a, "--restart")) {
            o.restart = 1;
        } else if (!next) {
            usage(argv[0]);
        } else if (!strcmp(a, "--nx") || !strcmp(a, "--ny")) {
            *(a[4] == 'x' ? &o.p.nx : &o.p.ny) = atoll(argv[++i]);
        } else if (!strcmp(a, "--steps") || !strcmp(a, "--every") || !strcmp(a, "--stop-at")) {
            int *dst = a[2] == 's' && a[3] == 't' && a[4] == 'e' ? &o.steps
                       : a[2] == 'e'                             ? &o.every
                                                                 : &o.stop_at;
            *dst = atoi(argv[++i]);
        } else if (!strcmp(a, "--checkpoint")) {
            o.checkpoint = argv[++i];
        } else if (!strcmp(a, "--final")) {
            o.final = argv[++i];
        } else if (!strcmp(a, "--compare")) {
            o.compare = argv[++i];
        } else {
            usage(argv[0]);
        }
    }
    if (o.p.nx < 8 || o.p.ny < 8 || o.steps < 1 || o.every < 1 || (o.restart && !o.checkpoint))
        usage(argv[0]);

    CHECK(sj_init(&argc, &argv, NULL));
    const int64_t n = o.p.nx * o.p.ny;
    int ok = 1;
    sj_array_t u;
    if (o.checkpoint) { /* one leg of the story per run */
        run(&o, &u);
        if (o.final)
            CHECK(sj_array_save(u, o.final, "heat plate, last step", NULL, 0));
        if (o.compare) {
            sj_array_t ref;
            CHECK(sj_array_similar(u, &ref));
            CHECK(sj_array_load(o.compare, ref, NULL));
            ok = same_bits(u, ref, n);
            if (sj_rank() == 0)
                printf("heat_restart: the last plate %s the bits of '%s'\n",
                       ok ? "has" : "does NOT have", o.compare);
            CHECK(sj_array_destroy(&ref));
        }
    } else { /* the whole story in one run, on this rank count */
        char path[64];
        snprintf(path, sizeof path, "heat_restart.np%d.sjarr", sj_nranks());
        sj_array_t straight;
        opts_t s = o;
        run(&s, &straight);
        opts_t a = o;
        a.checkpoint = path;
        a.stop_at = o.steps - o.every / 2 - 1;
        run(&a, &u);
        CHECK(sj_array_destroy(&u));
        a.restart = 1;
        a.stop_at = 0;
        run(&a, &u);
        ok = same_bits(u, straight, n);
        if (sj_rank() == 0) {
            printf("heat_restart: stopped and restarted run %s the bits of the straight run\n",
                   ok ? "has" : "does NOT have");
            remove(path);
        }
        CHECK(sj_array_destroy(&straight));
    }
    CHECK(sj_array_destroy(&u));
    CHECK(sj_finalize());
    return ok ? 0 : 1;
}
