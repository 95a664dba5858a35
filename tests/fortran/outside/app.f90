! The outside program of ctest fortran_install: the host initialises MPI,
! gives starjets its communicator, wraps an array of its own, and checks a
! sum and a gather. Prints "rank R of N: sum S ok" on each rank.
program app
    use, intrinsic :: iso_c_binding
    use mpi
    use starjets
    implicit none
    integer :: provided, ierr, me, np, k
    type(sj_space) :: space
    type(sj_array) :: x
    type(sj_dist) :: dist
    real(c_double), allocatable, target :: mine(:)
    real(c_double), allocatable :: every(:)
    real(c_double) :: s

    call MPI_Init_thread(MPI_THREAD_MULTIPLE, provided, ierr)
    call sj_init(MPI_COMM_WORLD)
    me = sj_rank()
    np = sj_nranks()
    call sj_space_create(SJ_FLOAT64, [10 * np], [np], space)
    call sj_dist_create_default(space, dist)
    mine = [(real(10 * me + k, c_double), k = 1, 10)] ! global elements 10 me + 1 .. 10 me + 10
    call sj_array_wrap_local(space, dist, mine, x)
    call sj_array_sum(x, s)
    allocate(every(10 * np))
    call sj_array_allgather(x, every)
    call sj_array_unwrap(x)
    call sj_dist_destroy(dist)
    call sj_space_destroy(space)
    call sj_finalize()
    if (s == 5 * np * (10 * np + 1) .and. all(every == [(real(k, c_double), k = 1, 10 * np)])) then
        print '(a, i0, a, i0, a, f0.1, a)', 'rank ', me, ' of ', np, ': sum ', s, ' ok'
    end if
    deallocate(mine, every) ! a main program's allocatables outlive it: a leak to LeakSanitizer
    call MPI_Finalize(ierr)
end program app
