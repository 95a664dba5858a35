! Bad input from Fortran, on 1 to 4 ranks: each error reaches the program as
! a code (ierr) and a sentence (sj_last_error()), whether the C library or
! the Fortran interface found it; the checks of collective calls fail every
! rank, not only the one with the bad argument. The host uses mpi_f08 and
! hands starjets its communicator's %MPI_VAL. After the errors the library
! still computes. Exits through MPI_Abort on the first wrong result.
module errors_callbacks
    use, intrinsic :: iso_c_binding
    use starjets
    implicit none
contains
    integer function fails_on_block_2(b, out, in, ctx) result(rc)
        type(sj_block_info), intent(in) :: b
        real(c_double), intent(inout) :: out(:)
        type(sj_block_input), intent(in) :: in(:)
        type(c_ptr), intent(in) :: ctx
        out = 1
        rc = 0
        if (b%block == 2) rc = 5
    end function fails_on_block_2
end module errors_callbacks

program errors
    use, intrinsic :: iso_c_binding
    use mpi_f08
    use starjets
    use errors_callbacks
    implicit none
    integer, parameter :: n = 6
    type(MPI_Comm) :: comm
    integer :: provided, ierr, me, np, rc
    type(sj_space) :: s1, s2, bad
    type(sj_array) :: x, y, w
    type(sj_dist) :: d0
    type(sj_op) :: op
    real(c_double), allocatable, target :: u(:), u2(:, :), buf(:)
    real(c_float), allocatable :: fbuf(:)
    real(c_double) :: v, m(2, 2)
    character(len=16) :: arg

    call MPI_Init_thread(MPI_THREAD_MULTIPLE, provided)
    call MPI_Comm_dup(MPI_COMM_WORLD, comm)
    call sj_init(comm%MPI_VAL, ierr) ! mpi_f08: the same integer as `use mpi`'s handle
    call MPI_Comm_rank(comm, me)
    call MPI_Comm_size(comm, np)
    call expect(ierr == SJ_OK .and. sj_rank() == me, 'sj_init on an mpi_f08 communicator')

    ! without ierr a failure aborts every rank with the sentence on stderr
    ! (ctest fortran_errors_abort_c and _fortran match it; they pass this argument)
    call get_command_argument(1, arg)
    if (arg == 'abort-c') then
        call sj_space_create(SJ_FLOAT64, [4], [9], bad)
        print '(a)', 'NOT ABORTED'
    else if (arg == 'abort-fortran') then
        allocate(u(2 * n))
        call sj_space_create(SJ_FLOAT64, [n * np], [np], s1)
        call sj_array_wrap_local(s1, d0, u(1:2 * n:2), w)
        print '(a)', 'NOT ABORTED'
    end if

    ! a second sj_init: SJ_ESTATE, with the C library's sentence
    call sj_init(comm%MPI_VAL, ierr)
    call error_is(ierr, SJ_ESTATE, 'sj_init', 'a second sj_init')

    ! C checks: more blocks than elements
    call sj_space_create(SJ_FLOAT64, [4], [9], bad, ierr)
    call error_is(ierr, SJ_ESIZE, 'sj_space_create', 'more blocks than elements')
    call expect(len(sj_last_error_trace()) > 0, 'no trace for an error of the C library')
    ! Fortran checks: dims and nblocks of different lengths
    call sj_space_create(SJ_FLOAT64, [4, 4], [2], bad, ierr)
    call error_is(ierr, SJ_EINVAL, 'nblocks', 'dims and nblocks of different lengths')
    call sj_clear_error()
    call expect(len(sj_last_error()) == 0, 'sj_clear_error left a sentence')

    ! one block of n per rank; arrays on the default layout
    call sj_space_create(SJ_FLOAT64, [n * np], [np], s1)
    call sj_space_create(SJ_FLOAT64, [n * np + 1], [np], s2)
    call sj_array_ones(s1, x)
    call sj_array_ones(s2, y)
    call sj_array_axpy(1.0_c_double, x, y, ierr)
    call error_is(ierr, SJ_EMISMATCH, 'sj_array_axpy', 'axpy over different spaces')

    ! wrapping refuses a section with gaps: starjets would keep its address
    allocate(u(2 * n), u2(n, 3))
    u = 0
    call sj_array_wrap_local(s1, d0, u(1:2 * n:2), w, ierr)
    call error_is(ierr, SJ_EINVAL, 'not contiguous', 'wrap_local of a strided section')
    call expect(.not. c_associated(w%p), 'a refused wrap left a handle')
    call sj_array_wrap_blocks(s1, d0, u(2:2 * n:2), w, ierr)
    call error_is(ierr, SJ_EINVAL, 'not contiguous', 'wrap_blocks of a strided section')
    ! ... on one rank only: every rank fails, the others say how many refused
    if (me == np - 1) then
        call sj_array_wrap_local(s1, d0, u(1:2 * n:2), w, ierr)
        call error_is(ierr, SJ_EINVAL, 'not contiguous', 'one rank''s strided section')
    else
        call sj_array_wrap_local(s1, d0, u(1:n), w, ierr)
        if (np > 1) then
            call error_is(ierr, SJ_EINVAL, 'refused on 1 other rank', 'the ranks that were fine')
        else
            call expect(ierr == SJ_OK, 'a contiguous section is refused')
        end if
    end if
    ! a contiguous section is fine: a column of u2
    call sj_array_wrap_local(s1, d0, u2(:, 2), w, ierr)
    call expect(ierr == SJ_OK, 'a column section is refused: ' // sj_last_error())
    call sj_array_fill(3.0_c_double, w)
    call sj_array_unwrap(w)
    call expect(all(u2(:, 2) == 3), 'the wrapped column does not hold the fill')
    ! the wrong length: the sentence names this rank's elements
    call sj_array_wrap_local(s1, d0, u(1:n + 1), w, ierr)
    call error_is(ierr, SJ_ESIZE, 'expected 6', 'wrap_local of n + 1 elements')

    ! a root buffer of the wrong size or type: every rank fails
    allocate(buf(n * np + 2), fbuf(n * np))
    call sj_array_gather(x, 0, buf, ierr)
    if (me == 0) then
        call error_is(ierr, SJ_ESIZE, 'buf has', 'gather into a buffer too long')
    else
        call error_is(ierr, SJ_EINVAL, 'refused on 1 other rank', 'gather, other ranks')
    end if
    call sj_array_scatter(x, 0, fbuf, ierr)
    if (me == 0) call error_is(ierr, SJ_ETYPE, 'real(c_float)', 'scatter from real(c_float)')
    ! block numbers start at 1; the same bad number fails every rank alike
    call sj_array_block_get(x, 0, 0, buf(1:n), ierr)
    call error_is(ierr, SJ_ERANGE, 'block 0 is not a block of the array (blocks are numbered from 1)', &
                  'block_get of block 0')
    call sj_array_block_set(x, np + 1, 0, buf(1:n), ierr)
    call error_is(ierr, SJ_ERANGE, 'numbered from 1', 'block_set of a block past the last')
    block
        real(c_double), pointer :: part(:)
        call sj_array_localpart_get(x, 0, part, ierr)
        call error_is(ierr, SJ_ERANGE, &
                      'sj_array_localpart_get: block 0 is not a block of the array', &
                      'localpart_get of block 0')
    end block
    block
        real(c_float), pointer :: fpart(:)
        call sj_array_localpart_get(x, 1, fpart, ierr)
        call error_is(ierr, SJ_ETYPE, 'the pointer is real(c_float)', 'localpart_get as float')
    end block
    ! a dense matrix of the wrong shape on its owner
    call sj_op_dense(s1, s1, 0, op, ierr, matrix=m)
    if (me == 0) call error_is(ierr, SJ_ESIZE, 'sj_op_dense', 'a 2 x 2 matrix for a larger space')
    call expect(ierr /= SJ_OK, 'a dense matrix of the wrong shape accepted')

    ! a Fortran map that fails on block 2: reported by the next wait
    call sj_array_map([y], x, fails_on_block_2, ierr)
    call error_is(ierr, SJ_EMISMATCH, "", "a map over arrays of different spaces")
    call sj_array_map([sj_array ::], x, fails_on_block_2)
    call sj_wait(ierr)
    if (np >= 2) call error_is(ierr, SJ_EUSER, '', 'a failed Fortran map')

    ! the library still computes
    call sj_array_fill(2.0_c_double, x)
    call sj_array_sum(x, v, rc)
    call expect(rc == SJ_OK .and. v == 2.0_c_double * n * np, 'a sum after the errors')

    ! dims and seeds of kind c_int64_t (the kind of sj_block_info's lo and hi) are
    ! taken as well as default integers, with the same result
    block
        type(sj_space) :: s8
        type(sj_array) :: r4, r8
        real(c_double) :: d4, d8
        call sj_space_create(SJ_FLOAT64, [int(n * np, c_int64_t)], [np], s8, ierr)
        call expect(ierr == SJ_OK, 'sj_space_create with c_int64_t dims')
        call sj_array_rand(s1, 7, r4)
        call sj_array_randn(s8, 7_c_int64_t, r8)
        call sj_array_destroy(r8)
        call sj_array_rand(s8, 7_c_int64_t, r8)
        call sj_array_dot(r4, r4, d4)
        call sj_array_dot(r8, r8, d8)
        call expect(d4 == d8 .and. d4 > 0, 'rand with a c_int64_t seed')
        call sj_array_destroy(r4)
        call sj_array_destroy(r8)
        call sj_space_destroy(s8)
    end block
    call sj_array_destroy(x)
    call sj_array_destroy(y)
    call sj_space_destroy(s1)
    call sj_space_destroy(s2)
    call sj_finalize()
    call sj_finalize(ierr)
    call error_is(ierr, SJ_ESTATE, '', 'sj_finalize twice')
    deallocate(u, u2, buf, fbuf)
    call MPI_Comm_free(comm)
    if (me == 0) print '(a, i0, a)', 'errors: all checks passed on ', np, ' rank(s)'
    call MPI_Finalize()
contains
    ! ierr is code, and the sentence names what (when what is not empty)
    subroutine error_is(ierr, code, what, case)
        integer, intent(in) :: ierr, code
        character(len=*), intent(in) :: what, case
        character(len=:), allocatable :: sentence
        sentence = sj_last_error()
        call expect(ierr == code, case // ': got ' // sj_err_name(ierr) // ', expected ' // &
                    sj_err_name(code) // ' (' // sentence // ')')
        call expect(len(sentence) > 0, case // ': no sentence')
        call expect(index(sentence, what) > 0, case // ': the sentence "' // sentence // &
                    '" does not say "' // what // '"')
    end subroutine error_is

    subroutine expect(ok, what)
        logical, intent(in) :: ok
        character(len=*), intent(in) :: what
        if (ok) return
        print '(a, i0, a, a)', 'WRONG (rank ', me, '): ', what
        flush (6)
        call MPI_Abort(MPI_COMM_WORLD, 1)
    end subroutine expect
end program errors
