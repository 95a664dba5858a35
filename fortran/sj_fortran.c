/*
 * The few pieces of the Fortran interface (fortran/starjets.F90) that
 * Fortran's C interoperability cannot express: MPI_Comm_f2c on the host's
 * communicator (sj_init_options_t holds an MPI_Comm, whose C type is the
 * MPI library's own), and MPI_Abort for a failed call that has no ierr.
 */
#include <stdio.h>
#include <stdlib.h>

#include <starjets.h>

int sj_fortran_init(int has_comm, MPI_Fint comm, int ncpus);
void sj_fortran_abort(int code, const char *sentence);

/*
 * sj_init() on the communicator the Fortran program gives: an integer handle
 * of `use mpi` or the MPI_VAL of an mpi_f08 type(MPI_Comm), which are the
 * same integer. Without a communicator, MPI_COMM_WORLD, and MPI is
 * initialised here when the program has not done it (as sj_init() does).
 * Returns 1, without starting anything, when a communicator is given before
 * MPI is initialised (the Fortran side words the error).
 */
int sj_fortran_init(int has_comm, MPI_Fint comm, int ncpus)
{
    sj_init_options_t opts;
    sj_init_options_default(&opts);
    if (has_comm) {
        int initialized = 0;
        MPI_Initialized(&initialized);
        if (!initialized)
            return 1;
        opts.comm = MPI_Comm_f2c(comm);
    }
    if (ncpus != -2) /* -2: the option was not given */
        opts.ncpus = ncpus;
    return sj_init(NULL, NULL, &opts);
}

/*
 * A call without ierr failed: say why on stderr and stop every rank, as the
 * MPI Fortran bindings do with their default error handler. A Fortran STOP
 * on one rank would leave the others waiting in their next collective call.
 * @p sentence is the Fortran side's own (NUL-terminated), or NULL for
 * sj_last_error().
 */
void sj_fortran_abort(int code, const char *sentence)
{
    if (!sentence)
        sentence = sj_last_error();
    fprintf(stderr, "starjets (rank %d): %s: %s\n", sj_rank(), sj_err_name(code),
            sentence[0] ? sentence : sj_strerror(code));
    fflush(stderr);
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (initialized && !finalized)
        MPI_Abort(MPI_COMM_WORLD, 1);
    fflush(NULL);
    _Exit(1);
}
