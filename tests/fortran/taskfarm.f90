! A task farm of Fortran items on 1 to 4 ranks: sj_pmap over item
! procedures written in Fortran (results back in input order on the root,
! 1-based item numbers, context bytes), a farm whose failing items are
! skipped and reported, and a distributed loop reduction (sj_preduce_double)
! whose result has the same bits on any number of ranks. Exits through
! MPI_Abort on the first wrong result.
module farm_callbacks
    use, intrinsic :: iso_c_binding
    use starjets
    implicit none
contains
    ! item i: in(1:2) = (a, b); out = (a + b, a * b, i, c) with c from the context
    integer function pair(index, in, out, ctx) result(rc)
        integer(c_int64_t), intent(in) :: index
        real(c_double), intent(in) :: in(:)
        real(c_double), intent(out) :: out(:)
        type(c_ptr), intent(in) :: ctx
        real(c_double), pointer :: c
        real(c_double) :: acc
        integer :: k
        rc = 1
        if (size(in) /= 2 .or. size(out) /= 4) return
        call c_f_pointer(ctx, c)
        acc = 0 ! a little work, so that several ranks take items
        do k = 1, 20000
            acc = acc + sin(real(k, c_double))
        end do
        out = [in(1) + in(2), in(1) * in(2), real(index, c_double), c + 0 * acc]
        rc = 0
    end function pair

    ! fails (returns the item number) for every seventh item
    integer function picky(index, in, out, ctx) result(rc)
        integer(c_int64_t), intent(in) :: index
        real(c_double), intent(in) :: in(:)
        real(c_double), intent(out) :: out(:)
        type(c_ptr), intent(in) :: ctx
        rc = 0
        if (size(in) /= 0 .or. c_associated(ctx)) rc = -1
        out(1) = 2 * index
        if (mod(index, 7_c_int64_t) == 0) rc = int(index)
    end function picky

    function term(i, ctx) result(t)
        integer(c_int64_t), intent(in) :: i
        type(c_ptr), intent(in) :: ctx
        real(c_double) :: t
        integer(c_int), pointer :: sgn
        call c_f_pointer(ctx, sgn)
        t = sgn * 1.0_c_double / (i * i)
    end function term
end module farm_callbacks

program taskfarm
    use, intrinsic :: iso_c_binding
    use mpi
    use starjets
    use farm_callbacks
    implicit none
    integer(c_int64_t), parameter :: n = 40
    integer :: me, np, ierr, k
    integer(c_int64_t) :: i
    real(c_double), allocatable :: in(:, :), out(:, :), none(:, :), got(:, :)
    integer(c_int), allocatable :: status(:)
    integer(c_int64_t), allocatable :: per_rank(:)
    real(c_double), target :: c
    integer(c_int), target :: sgn
    type(sj_pmap_report) :: rep
    real(c_double) :: v, expected

    call sj_init()
    me = sj_rank()
    np = sj_nranks()
    c = 42
    allocate(none(2, 0), per_rank(np))
    ! the items live on the root (rank 0); others pass arrays with no item
    if (me == 0) then
        allocate(in(2, n), out(4, n))
        do i = 1, n
            in(:, i) = [real(i, c_double), 0.5_c_double * i]
        end do
        out = -1
    else
        allocate(in(2, 0), out(4, 0))
    end if
    call sj_pmap(n, in, out, pair, ctx=c_loc(c), ctx_size=c_sizeof(c), rank_items=per_rank, &
                 report=rep)
    call expect(rep%total == n .and. rep%done == n .and. rep%failed == 0, 'report of the farm')
    call expect(sum(per_rank) == n, 'items per rank do not add up')
    if (me == 0) then
        do i = 1, n
            call expect(all(out(:, i) == [1.5_c_double * i, 0.5_c_double * i * i, &
                                          real(i, c_double), 42.0_c_double]), &
                        'a result of the farm is wrong or out of order')
        end do
    end if

    ! failures: skipped, recorded per item (the value the item returned)
    if (me == 0) then
        allocate(got(1, n), status(n))
    else
        allocate(got(1, 0), status(0))
    end if
    deallocate(none)
    allocate(none(0, 0))
    call sj_pmap(n, none, got, picky, ierr, on_error=SJ_PMAP_SKIP, item_status=status, report=rep)
    call expect(ierr == SJ_OK, 'a farm that skips failures returned ' // sj_err_name(ierr))
    call expect(rep%failed == 5 .and. rep%first_failed == 7 .and. rep%first_error == 7, & ! 7, 14, .., 35
                'report of the failures (first failed item, its value)')
    if (me == 0) then
        do k = 1, int(n)
            if (mod(k, 7) == 0) then
                call expect(status(k) == k, 'the status of a failed item')
            else
                call expect(status(k) == 0 .and. got(1, k) == 2 * k, 'a skipped farm''s result')
            end if
        end do
    end if
    ! the same with the default policy: the farm stops and says why
    call sj_pmap(n, none, got, picky, ierr)
    call expect(ierr == SJ_EUSER, 'a failing farm returned ' // sj_err_name(ierr))
    call expect(len(sj_last_error()) > 0, 'a failing farm left no sentence')

    ! a distributed loop: -sum 1/i^2 over i = 1..1000, the same bits everywhere
    sgn = -1
    call sj_preduce_double(1_c_int64_t, 1000_c_int64_t, SJ_REDUCE_SUM, term, v, ctx=c_loc(sgn), &
                           ctx_size=c_sizeof(sgn))
    expected = 0
    do i = 1, 1000
        expected = expected - 1.0_c_double / (i * i)
    end do
    call expect(abs(v - expected) <= 1e-14, 'sj_preduce_double')
    deallocate(in, out, none, got, status, per_rank)
    call sj_finalize()
    if (me == 0) print '(a, i0, a, es24.17)', 'taskfarm: all checks passed on ', np, &
        ' rank(s); loop sum ', v
contains
    subroutine expect(ok, what)
        logical, intent(in) :: ok
        character(len=*), intent(in) :: what
        if (ok) return
        print '(a, i0, a, a)', 'WRONG (rank ', me, '): ', what
        flush (6)
        call MPI_Abort(MPI_COMM_WORLD, 1, ierr)
    end subroutine expect
end program taskfarm
