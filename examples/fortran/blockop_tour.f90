! blockop_tour (Fortran): the DistributedJets notebook with starjets' block
! operators, from Fortran; the twin of examples/blockop_tour.c, shorter.
!
!   mpirun -n 4 --bind-to none ./fortran_blockop_tour
!
! A 4 x 3 grid of diagonal blocks (JopDiagonal(rand(2)) in the notebook) on
! a 2 x 2 process grid: where its blocks live (procs, blockmap, local block
! indices), getblock of an operator block to the master, getblock and
! setblock of an array block, the owner's block in place, apply and adjoint
! against a dense matrix, the dot-product test; then the tall-and-skinny and
! block-diagonal shapes. Block numbers, rows and columns are 1-based, as in
! Julia. Rank 0 prints and checks; the program exits 1 when a check fails.
module tour_blocks
    use, intrinsic :: iso_c_binding
    use starjets
    implicit none
    integer, parameter :: nb = 2 ! the length of every block, as in the notebook
    type(sj_space), save :: blk
contains
    ! the diagonal of block (i, j) of operator `which`: known to every rank
    pure real(c_double) function dval(which, i, j, k)
        integer, intent(in) :: which, i, j, k
        dval = 1 + 0.5_c_double * which + i + 0.1_c_double * j + 0.01_c_double * k
    end function dval

    ! DArray(I -> [JopDiagonal(d) ...]): block (i, j) on its owner; ctx holds
    ! which operator; off the diagonal zero blocks when it is negative
    integer function make_block(i, j, owner, ctx, block) result(rc)
        integer, intent(in) :: i, j, owner
        type(c_ptr), intent(in) :: ctx
        type(sj_op), intent(out) :: block
        integer(c_int), pointer :: which
        integer :: k
        call c_f_pointer(ctx, which)
        if (which < 0 .and. i /= j) then
            call sj_op_zero(blk, blk, owner, block, rc) ! JopZeroBlock
        else if (sj_rank() == owner) then
            call sj_op_diagonal(blk, owner, block, rc, [(dval(abs(which), i, j, k), k = 1, nb)])
        else
            call sj_op_diagonal(blk, owner, block, rc) ! only the owner holds the diagonal
        end if
    end function make_block
end module tour_blocks

program blockop_tour
    use, intrinsic :: iso_c_binding
    use starjets
    use tour_blocks
    implicit none
    integer :: me, np, failures, owner, k, r, c, m, n, kind
    integer(c_int), target :: which
    type(sj_dist) :: grid, adist, on_root
    type(sj_op) :: a, ab, ab0
    type(sj_array) :: ones, col
    integer, allocatable :: procs(:), mine(:), blo(:, :), bhi(:, :)
    integer :: pgrid(SJ_MAX_DIMS)
    real(c_double) :: diag(nb)
    character(len=:), allocatable :: text

    call sj_init()
    me = sj_rank()
    np = sj_nranks()
    failures = 0
    call sj_space_create(SJ_FLOAT64, [nb], [1], blk)
    if (me == 0) print '(a, a, a, i0, a)', 'starjets ', sj_version(), ' on ', np, ' rank(s)'

    ! == a 4 x 3 block operator on a 2 x 2 process grid (fewer when fewer ranks) ==
    call sj_dist_create_contiguous([4, 3], grid, grid=[min(np, 2), merge(2, 1, np >= 4)])
    which = 1
    call sj_op_block_create_fn(4, 3, make_block, a, dist=grid, ctx=c_loc(which), &
                               ctx_size=c_sizeof(which))
    call sj_dist_destroy(grid) ! a keeps its own reference
    call sj_op_describe(a, text)
    if (me == 0) print '(a, a)', 'A: ', text

    ! == where are my blocks: procs(A), blockmap(A), localblockindices ==
    call sj_op_block_dist(a, adist)
    call sj_dist_procs(adist, procs, pgrid)
    if (me == 0) then
        print '(a, i0, a, i0, a)', 'procs(A), a ', pgrid(1), ' x ', pgrid(2), ' process grid:'
        do r = 1, pgrid(1)
            print '(4x, *(i3))', (procs(r + pgrid(1) * (c - 1)), c = 1, pgrid(2))
        end do
        do k = 1, size(procs)
            call sj_dist_blockmap(adist, procs(k), blo, bhi)
            print '(a, i0, a, i0, a, i0, a, i0, a, i0, a)', 'blockmap: rank ', procs(k), &
                ' holds rows ', blo(1, 1), ':', bhi(1, 1), ', columns ', blo(2, 1), ':', &
                bhi(2, 1), ' of A'
        end do
    end if
    call sj_dist_local_blocks(adist, me, mine) ! block b is (mod(b - 1, 4) + 1, (b - 1) / 4 + 1)
    do k = 1, size(mine)
        call sj_dist_owner(adist, mine(k), owner)
        call expect(owner == me, 'a local block of this rank is owned by another')
    end do

    ! == getblock(A, 4, 3): a handle to the block, and a copy on the master ==
    call sj_op_block_get(a, 4, 3, ab)
    call sj_op_copy(ab, 0, ab0)
    call sj_op_owner(ab, owner)
    call sj_dist_create_explicit([1], [0], on_root)
    call sj_array_ones(blk, ones, dist=on_root)
    call sj_array_zeros(blk, col, dist=on_root)
    call sj_op_apply(ab0, ones, col) ! runs on rank 0, the copy's owner
    call sj_array_gather(col, 0, diag)
    if (me == 0) then
        print '(a, i0, a, *(f8.4))', 'getblock(A, 4, 3) lives on rank ', owner, &
            '; its copy on the master: diagonal', diag
        call expect(all(diag == [(dval(1, 4, 3, k), k = 1, nb)]), 'the copy of block (4, 3)')
    end if
    call sj_op_destroy(ab0)
    call sj_op_destroy(ab)
    call sj_array_destroy(ones)
    call sj_array_destroy(col)
    call sj_dist_destroy(on_root)

    call tour_arrays_and_apply(a, 4, 3, 1, 'the 4 x 3 operator')
    call sj_op_destroy(a)

    ! == tall-and-skinny: 4 x 1, the model on one rank ==
    call sj_dist_create_contiguous([4, 1], grid, grid=[min(np, 4), 1])
    which = 2
    call sj_op_block_create_fn(4, 1, make_block, a, dist=grid, ctx=c_loc(which), &
                               ctx_size=c_sizeof(which))
    call sj_dist_destroy(grid)
    call sj_op_block_kind(a, kind)
    call expect(kind == SJ_OP_BLOCK_TALL, 'the 4 x 1 operator is not tall-and-skinny')
    call tour_arrays_and_apply(a, 4, 1, 2, 'the tall-and-skinny operator')
    call sj_op_destroy(a)

    ! == block-diagonal: 4 x 4 with JopZeroBlock off the diagonal ==
    call sj_dist_create_contiguous([4, 4], grid, grid=[min(np, 2), merge(2, 1, np >= 4)])
    which = -3
    call sj_op_block_create_fn(4, 4, make_block, a, dist=grid, ctx=c_loc(which), &
                               ctx_size=c_sizeof(which))
    call sj_dist_destroy(grid)
    call sj_op_block_kind(a, kind)
    call sj_op_block_grid(a, m, n)
    call expect(kind == SJ_OP_BLOCK_DIAGONAL .and. m == 4 .and. n == 4, &
                'the 4 x 4 operator is not block-diagonal')
    call tour_arrays_and_apply(a, 4, 4, 3, 'the block-diagonal operator')
    call sj_op_destroy(a)

    deallocate(procs, mine, text)
    if (allocated(blo)) deallocate(blo, bhi)
    call sj_space_destroy(blk)
    call sj_finalize()
    if (me == 0) then
        if (failures == 0) then
            print '(a)', 'all results match the dense references'
        else
            print '(i0, a)', failures, ' result(s) WRONG'
        end if
    end if
    if (failures > 0) error stop 1
contains
    ! rand(range(A)), rand(domain(A)); getblock / setblock of d's block 1 and
    ! its owner's change in place; A m and A' d against the dense matrix
    subroutine tour_arrays_and_apply(op, mb, nbl, which, name)
        type(sj_op), intent(in) :: op
        integer, intent(in) :: mb, nbl, which
        character(len=*), intent(in) :: name
        type(sj_space) :: rs, ds
        type(sj_dist) :: rd, dd
        type(sj_array) :: d, mm, y, x
        type(sj_op_test_result) :: t
        real(c_double) :: full(mb * nb, nbl * nb), hd(mb * nb), hm(nbl * nb), hy(mb * nb), &
                          hx(nbl * nb), b1(nb)
        real(c_double), pointer :: part(:)
        integer :: i, j, kk
        call sj_op_range(op, rs, rd)
        call sj_op_domain(op, ds, dd)
        call sj_array_rand(rs, 100 + which, d, dist=rd)
        call sj_array_rand(ds, 200 + which, mm, dist=dd)
        ! getblock(d, 1) to the master, setblock!(d, 1, ones), then the owner doubles it
        call sj_array_block_get(d, 1, 0, b1)
        b1 = 1
        call sj_array_block_set(d, 1, 0, b1)
        call sj_dist_owner(rd, 1, owner)
        if (me == owner) then
            call sj_array_localpart_get(d, 1, part) ! this rank's memory: no copy
            part = 2 * part
            call sj_array_localpart_restore(d, 1, part)
        end if
        call sj_array_zeros(rs, y, dist=rd)
        call sj_array_zeros(ds, x, dist=dd)
        call sj_op_apply(op, mm, y)
        call sj_op_apply_adjoint(op, d, x)
        call sj_array_gather(d, 0, hd)
        call sj_array_gather(mm, 0, hm)
        call sj_array_gather(y, 0, hy)
        call sj_array_gather(x, 0, hx)
        if (me == 0) then
            full = 0
            do j = 1, nbl
                do i = 1, mb
                    if (which == 3 .and. i /= j) cycle
                    do kk = 1, nb
                        full((i - 1) * nb + kk, (j - 1) * nb + kk) = dval(which, i, j, kk)
                    end do
                end do
            end do
            call expect(all(hd(1:nb) == 2), name // ': block 1 of d after setblock and the owner')
            call expect(maxval(abs(hy - matmul(full, hm))) <= 1e-13 * maxval(abs(hy)), &
                        name // ': A m')
            call expect(maxval(abs(hx - matmul(transpose(full), hd))) <= 1e-13 * maxval(abs(hx)), &
                        name // ': A'' d')
            print '(a, a, *(f8.4))', name, ': A m =', hy(1:min(size(hy), 8))
        end if
        call sj_op_dot_product_test(op, 7, 1e-13_c_double, t)
        if (me == 0) print '(a, a, es10.2, a)', name, ': dot-product test, relative error', &
            t%relerr, merge(' (pass)', ' (FAIL)', t%pass == 1)
        call expect(t%pass == 1, name // ': dot-product test')
        call sj_array_destroy(d)
        call sj_array_destroy(mm)
        call sj_array_destroy(y)
        call sj_array_destroy(x)
    end subroutine tour_arrays_and_apply

    subroutine expect(ok, what)
        logical, intent(in) :: ok
        character(len=*), intent(in) :: what
        if (ok .or. me /= 0) return
        failures = failures + 1
        print '(a, a)', 'WRONG: ', what
    end subroutine expect
end program blockop_tour
