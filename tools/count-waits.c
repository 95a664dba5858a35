/*
 * count-waits: an LD_PRELOAD library that counts what a program's main
 * thread waits on: the non-blocking MPI collectives it starts (starjets'
 * blocking reductions, agreements and barriers wait for them in
 * sj__rt_wait_quietly) and the nanosleep calls it makes, with their total
 * time. Each rank prints one line at MPI_Finalize. Run the same program
 * twice with different iteration counts and divide the differences to get
 * counts per iteration (docs/solvers.md did so for the inversion).
 *
 *   mpicc -shared -fPIC -O2 -o count-waits.so tools/count-waits.c -ldl
 *   mpiexec -n 2 --bind-to none -x LD_PRELOAD=$PWD/count-waits.so ./program
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

static pthread_t main_thread;
static int have_main;
static long n_allreduce, n_allgatherv, n_bcast, n_barrier, n_sleep;
static double t_sleep;

static int on_main(void)
{
    return have_main && pthread_equal(pthread_self(), main_thread);
}

int MPI_Init_thread(int *argc, char ***argv, int required, int *provided)
{
    main_thread = pthread_self();
    have_main = 1;
    return PMPI_Init_thread(argc, argv, required, provided);
}

int MPI_Init(int *argc, char ***argv)
{
    main_thread = pthread_self();
    have_main = 1;
    return PMPI_Init(argc, argv);
}

int MPI_Iallreduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm c,
                   MPI_Request *q)
{
    n_allreduce += on_main();
    return PMPI_Iallreduce(s, r, n, t, op, c, q);
}

int MPI_Iallgatherv(const void *s, int sn, MPI_Datatype st, void *r, const int *rn,
                    const int *displs, MPI_Datatype rt, MPI_Comm c, MPI_Request *q)
{
    n_allgatherv += on_main();
    return PMPI_Iallgatherv(s, sn, st, r, rn, displs, rt, c, q);
}

int MPI_Ibcast(void *b, int n, MPI_Datatype t, int root, MPI_Comm c, MPI_Request *q)
{
    n_bcast += on_main();
    return PMPI_Ibcast(b, n, t, root, c, q);
}

int MPI_Ibarrier(MPI_Comm c, MPI_Request *q)
{
    n_barrier += on_main();
    return PMPI_Ibarrier(c, q);
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
    static int (*real)(const struct timespec *, struct timespec *);
    if (!real)
        real = (int (*)(const struct timespec *, struct timespec *))dlsym(RTLD_NEXT, "nanosleep");
    if (!on_main())
        return real(req, rem);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    const int rc = real(req, rem);
    clock_gettime(CLOCK_MONOTONIC, &b);
    n_sleep++;
    t_sleep += (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
    return rc;
}

int MPI_Finalize(void)
{
    int rank = 0;
    PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
    fprintf(stderr,
            "count-waits: rank %d, main thread: MPI_Iallreduce %ld, MPI_Iallgatherv %ld, "
            "MPI_Ibcast %ld, MPI_Ibarrier %ld; nanosleep %ld (%.1f ms)\n",
            rank, n_allreduce, n_allgatherv, n_bcast, n_barrier, n_sleep, 1e3 * t_sleep);
    return PMPI_Finalize();
}
