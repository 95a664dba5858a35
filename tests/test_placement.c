/*
 * Where sj_init's default placement (SJ_PLACE_SPLIT) leaves the application
 * thread: on this rank's cores, never on a core another rank of the node uses,
 * never on a core it could not use before, with every CPU worker of the rank
 * on cores it may use too; sj_finalize gives it back the cores it had.
 * Checked on any rank count: with more ranks than cores nothing is pinned and
 * the thread keeps its cores.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_* */
#include "sj_test.h"

#include <mpi.h>
#ifdef __linux__
#include <sched.h>
#endif

#ifdef __linux__
static cpu_set_t before; /* the application thread's cores before sj_init */

typedef struct seen {
    int rank;
    cpu_set_t cpus; /* the worker's own mask */
} seen_t;

static int worker_fn(int64_t index, const void *in, void *out, void *ctx)
{
    (void)index;
    (void)in;
    (void)ctx;
    seen_t *s = out;
    s->rank = sj_rank();
    return sched_getaffinity(0, sizeof s->cpus, &s->cpus) == 0 ? 0 : 1;
}

static int subset(const cpu_set_t *a, const cpu_set_t *b)
{
    cpu_set_t both;
    CPU_AND(&both, a, b);
    return CPU_EQUAL(&both, a);
}

static void test_caller_on_its_cores(void **state)
{
    (void)state;
    const int me = sj_rank(), np = sj_nranks();
    cpu_set_t now;
    assert_int_equal(sched_getaffinity(0, sizeof now, &now), 0);
    assert_true(CPU_COUNT(&now) >= 1);
    assert_true(subset(&now, &before)); /* never a core it could not use */

    /* the workers of each rank run on cores its application thread may use */
    const int64_t n = 16 * sj_ncpus() * np;
    seen_t *seen = calloc((size_t)n, sizeof *seen);
    assert_non_null(seen);
    SJ_ASSERT_OK(sj_pmap(n, NULL, 0, seen, sizeof *seen, worker_fn, NULL, 0, NULL, NULL));

    /* every rank's mask on rank 0, with the node it runs on */
    MPI_Comm node;
    assert_int_equal(
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, me, MPI_INFO_NULL, &node),
        MPI_SUCCESS);
    int node_rank, node_size, node_id;
    MPI_Comm_rank(node, &node_rank);
    MPI_Comm_size(node, &node_size);
    node_id = me - node_rank; /* a rank is its node's first when ranks are placed by node */
    MPI_Allreduce(MPI_IN_PLACE, &node_id, 1, MPI_INT, MPI_MIN, node);
    MPI_Comm_free(&node);
    cpu_set_t *masks = calloc((size_t)np, sizeof *masks);
    int *nodes = calloc((size_t)np, sizeof *nodes), *sizes = calloc((size_t)np, sizeof *sizes);
    assert_true(masks && nodes && sizes);
    MPI_Gather(&now, sizeof now, MPI_BYTE, masks, sizeof now, MPI_BYTE, 0, MPI_COMM_WORLD);
    MPI_Gather(&node_id, 1, MPI_INT, nodes, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Gather(&node_size, 1, MPI_INT, sizes, 1, MPI_INT, 0, MPI_COMM_WORLD);

    if (me == 0) {
        int pinned = 1; /* every worker on one hardware thread: the split pinned them */
        for (int64_t i = 0; i < n; i++) {
            assert_true(seen[i].rank >= 0 && seen[i].rank < np);
            if (CPU_COUNT(&seen[i].cpus) != 1)
                pinned = 0;
            else
                assert_true(subset(&seen[i].cpus, &masks[seen[i].rank]));
        }
        /* ranks that share a node and have pinned workers share no core */
        for (int a = 0; a < np; a++)
            for (int b = a + 1; b < np; b++) {
                if (!pinned || nodes[a] != nodes[b] || sizes[a] > CPU_COUNT(&before))
                    continue;
                cpu_set_t common;
                CPU_AND(&common, &masks[a], &masks[b]);
                assert_int_equal(CPU_COUNT(&common), 0);
            }
    }
    free(masks);
    free(nodes);
    free(sizes);
    free(seen);
}
#endif

int main(int argc, char **argv)
{
#ifdef __linux__
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    int me;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    if (sched_getaffinity(0, sizeof before, &before) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caller_on_its_cores),
    };
    int rc = sj_test_main(tests, sizeof tests / sizeof tests[0], "placement");
    /* sj_finalize gave the thread its cores back */
    cpu_set_t after;
    if (sched_getaffinity(0, sizeof after, &after) != 0 || !CPU_EQUAL(&after, &before)) {
        fprintf(stderr, "placement: rank %d: the application thread did not get its cores back\n",
                me);
        rc = 1;
    }
    MPI_Finalize();
    return rc;
#else
    (void)argc;
    (void)argv;
    return 77;
#endif
}
