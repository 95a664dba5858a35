! The DistributedJets notebook's block operator from Fortran, on 1 to 4
! ranks: a 4 x 3 grid of diagonal blocks made by a Fortran procedure
! (sj_op_block_create_fn), a second 4 x 3 operator from a Fortran array of
! blocks (leaf operators written in Fortran, a dense block, zero blocks),
! applied forward and adjoint and checked against dense matrices built here,
! with the dot-product, linearity and linearisation tests; arrays (gather,
! allgather, scatter, block get/set, local parts, algebra, maps, reductions,
! redistribution) along the way. Block numbers, rows and columns are 1-based.
! Exits 1 on the first wrong result.
module blockop_callbacks
    use, intrinsic :: iso_c_binding
    use starjets
    implicit none
    integer, parameter :: nb = 3 ! length of every diagonal block
    type(sj_space), save :: blk   ! nb doubles in one block
contains
    pure function dval(i, j, k) result(v)
        integer, intent(in) :: i, j, k
        real(c_double) :: v
        v = 1.0_c_double + i + 0.1_c_double * j + 0.01_c_double * k
    end function dval

    ! Block (i, j) of the first operator, on its owner: JopDiagonal(d).
    integer function make_block(i, j, owner, ctx, block) result(rc)
        integer, intent(in) :: i, j, owner
        type(c_ptr), intent(in) :: ctx
        type(sj_op), intent(out) :: block
        real(c_double) :: d(nb)
        integer :: k
        if (c_associated(ctx)) then
            rc = 1 ! no context was given
            return
        end if
        if (sj_rank() == owner) then
            do k = 1, nb
                d(k) = dval(i, j, k)
            end do
            call sj_op_diagonal(blk, owner, block, rc, d)
        else
            call sj_op_diagonal(blk, owner, block, rc) ! only the owner gives the diagonal
        end if
    end function make_block

    ! A Fortran leaf: y = s * w .* x, s in the parameters, w the state.
    integer function wscale(info, out, in) result(rc)
        type(sj_op_info), intent(in) :: info
        real(c_double), intent(out) :: out(:)
        real(c_double), intent(in) :: in(:)
        real(c_double), pointer :: s
        rc = 1
        if (size(out) /= info%rng_n .or. size(in) /= info%dom_n) return
        if (.not. associated(info%state) .or. info%params_size /= 8) return
        if (size(info%state) /= size(in)) return
        if (info%block_row < 1 .or. info%block_col < 1) return ! inside a block operator
        call c_f_pointer(info%params, s)
        out = s * info%state * in
        rc = 0
    end function wscale

    ! A nonlinear Fortran leaf: f(x) = x^2, J(m0) dx = 2 m0 dx, J' dy = 2 m0 dy.
    integer function square(info, out, in) result(rc)
        type(sj_op_info), intent(in) :: info
        real(c_double), intent(out) :: out(:)
        real(c_double), intent(in) :: in(:)
        out = in * in
        rc = 0
        if (associated(info%point)) rc = 1 ! the forward map has no point
    end function square

    integer function square_jac(info, out, in) result(rc)
        type(sj_op_info), intent(in) :: info
        real(c_double), intent(out) :: out(:)
        real(c_double), intent(in) :: in(:)
        rc = 1
        if (.not. associated(info%point)) return
        out = 2 * info%point * in
        rc = 0
    end function square_jac

    ! A map: out = 2 in1 + in2, with the global index of each element checked.
    integer function two_x_plus_y(b, out, in, ctx) result(rc)
        type(sj_block_info), intent(in) :: b
        real(c_double), intent(inout) :: out(:)
        type(sj_block_input), intent(in) :: in(:)
        type(c_ptr), intent(in) :: ctx
        real(c_double), pointer :: scale
        rc = 1
        if (size(in) /= 2 .or. size(out) /= b%nelems) return
        if (b%hi(1) - b%lo(1) + 1 /= b%nelems .or. b%block < 1) return
        call c_f_pointer(ctx, scale)
        out = scale * in(1)%x + in(2)%x
        rc = 0
    end function two_x_plus_y
end module blockop_callbacks

program blockop
    use, intrinsic :: iso_c_binding
    use mpi
    use starjets
    use blockop_callbacks
    implicit none
    integer :: me, np, ierr, pgrid(2), i, j, k, owner, kind
    type(sj_dist) :: grid43, adist, rdist, ddist, dd, cyc, on_root
    type(sj_op) :: a, b, ab, ab0, at, twoa, f, blocks(4, 3)
    type(sj_space) :: rs, ds
    type(sj_array) :: m, d, y, x, ones, col, z, dc
    type(sj_op_test_result) :: t
    type(sj_op_taylor_result) :: taylor
    real(c_double), allocatable :: mfull(:, :), hm(:), hd(:), hy(:), hx(:), ref(:), buf(:), gl(:)
    real(c_double), pointer :: part(:)
    real(c_double), target :: s2
    real(c_double) :: v, q(nb, nb), wstate(nb)
    integer, allocatable :: mine(:)
    character(len=:), allocatable :: text
    integer(c_int64_t) :: moved

    call sj_init()
    me = sj_rank()
    np = sj_nranks()
    call sj_space_create(SJ_FLOAT64, [nb], [1], blk)

    ! == a 4 x 3 block operator of diagonal blocks on a 2 x 2 process grid ==
    pgrid = [min(np, 2), merge(2, 1, np >= 4)]
    call sj_dist_create_contiguous([4, 3], grid43, grid=pgrid)
    call sj_op_block_create_fn(4, 3, make_block, a, dist=grid43)
    call sj_op_describe(a, text)
    call expect(index(text, '4x3') > 0, 'describe: ' // text)
    call sj_op_block_kind(a, kind)
    call expect(kind == SJ_OP_BLOCK_GENERAL, 'the 4 x 3 operator is not general')

    ! block numbers are 1-based: block (4, 3) is number 4 + 4 * 2 = 12
    call sj_op_block_dist(a, adist)
    call sj_dist_owner(adist, 12, owner)
    call sj_op_block_get(a, 4, 3, ab)
    call sj_op_owner(ab, k)
    call expect(k == owner, 'block (4, 3) does not run on the owner of layout block 12')
    call sj_dist_local_blocks(adist, me, mine)
    do k = 1, size(mine)
        call sj_dist_owner(adist, mine(k), owner)
        call expect(owner == me .and. mine(k) >= 1 .and. mine(k) <= 12, 'local blocks')
    end do
    ! getblock(A, 4, 3) to the master: a copy on rank 0, applied to ones
    call sj_op_copy(ab, 0, ab0)
    call sj_dist_create_explicit([1], [0], on_root)
    call sj_array_ones(blk, ones, dist=on_root)
    call sj_array_zeros(blk, col, dist=on_root)
    call sj_op_apply(ab0, ones, col)
    allocate(buf(nb))
    call sj_array_gather(col, 0, buf)
    if (me == 0) then
        do k = 1, nb
            call expect(buf(k) == dval(4, 3, k), 'the copy of block (4, 3) has another diagonal')
        end do
    end if
    call sj_op_destroy(ab0)
    call sj_op_destroy(ab)
    call sj_array_destroy(ones)
    call sj_array_destroy(col)
    call sj_dist_destroy(on_root)

    ! rand(range(A)), rand(domain(A)); apply and adjoint against the dense matrix
    call sj_op_range(a, rs, rdist)
    call sj_op_domain(a, ds, ddist)
    call sj_array_rand(rs, 101, d, dist=rdist)
    call sj_array_rand(ds, 102, m, dist=ddist)
    allocate(mfull(4 * nb, 3 * nb))
    mfull = 0
    do i = 1, 4
        do j = 1, 3
            do k = 1, nb
                mfull((i - 1) * nb + k, (j - 1) * nb + k) = dval(i, j, k)
            end do
        end do
    end do
    call check_apply(a, mfull, 'diagonal blocks')
    call sj_op_dot_product_test(a, 7, 1e-13_c_double, t)
    call expect(t%pass == 1, 'dot-product test of the diagonal-block operator')
    call sj_op_linearity_test(a, 8, 1e-12_c_double, t)
    call expect(t%pass == 1, 'linearity test of the diagonal-block operator')

    ! the adjoint view and 2 A, applied
    call sj_op_adjoint(a, at)
    call sj_op_scale(2.0_c_double, a, twoa)
    call sj_array_zeros(ds, x, dist=ddist)
    call sj_op_apply(at, d, x)
    call sj_array_zeros(rs, y, dist=rdist)
    call sj_op_apply_ex(twoa, SJ_OP_DIR_FORWARD, 0.5_c_double, m, 0.0_c_double, y)
    allocate(hm(3 * nb), hd(4 * nb), hy(4 * nb), hx(3 * nb), ref(4 * nb))
    call sj_array_gather(m, 0, hm)
    call sj_array_allgather(d, hd)
    call sj_array_gather(y, 0, hy)
    call sj_array_gather(x, 0, hx)
    if (me == 0) then
        call expect(maxval(abs(hy - matmul(mfull, hm))) <= 1e-13, '(2 A) m / 2 is not A m')
        call expect(maxval(abs(hx - matmul(transpose(mfull), hd))) <= 1e-13, &
                    'the adjoint view applied is not A'' d')
    end if
    call sj_op_destroy(at)
    call sj_op_destroy(twoa)
    call sj_array_destroy(x)
    call sj_array_destroy(y)

    ! == arrays: getblock / setblock (block 4 of d), local parts, algebra ==
    call sj_array_block_get(d, 4, 0, buf)
    if (me == 0) call expect(all(buf == hd(3 * nb + 1:)), 'getblock(d, 4) is not block 4 of d')
    buf = 1
    call sj_array_block_set(d, 4, 0, buf)
    call sj_array_dist(d, dd)
    call sj_dist_owner(dd, 4, owner)
    if (me == owner) then ! block 4 is this rank's memory: change it in place
        call sj_array_localpart_get(d, 4, part)
        call expect(all(part == 1), 'the local part of block 4 is not the ones just set')
        part = 2
        call sj_array_localpart_restore(d, 4, part)
        call expect(.not. associated(part), 'localpart_restore leaves the pointer associated')
    end if
    allocate(gl(4 * nb))
    call sj_array_allgather(d, gl)
    call expect(all(gl(1:3 * nb) == hd(1:3 * nb)) .and. all(gl(3 * nb + 1:) == 2), &
                'd after setblock and the owner''s change')
    hd = gl
    call sj_array_sum(d, v)
    call expect(abs(v - sum(hd)) <= 1e-12 * abs(v), 'sj_array_sum')
    call sj_array_norm(SJ_NORM_INF, d, v)
    call expect(v == maxval(abs(hd)), 'sj_array_norm inf')
    call sj_array_max(d, v)
    call expect(v == maxval(hd), 'sj_array_max')
    call sj_array_min(d, v)
    call expect(v == minval(hd), 'sj_array_min')
    call sj_array_mean(d, v)
    call expect(abs(v - sum(hd) / size(hd)) <= 1e-13, 'sj_array_mean')
    call sj_array_dot(d, d, v)
    call expect(abs(v - dot_product(hd, hd)) <= 1e-12 * v, 'sj_array_dot')
    ! z = 2 d + d by a Fortran map; then z = z - 3 d by algebra: zero
    call sj_array_similar(d, z)
    s2 = 2
    call sj_array_map([d, d], z, two_x_plus_y, ctx=c_loc(s2), ctx_size=c_sizeof(s2))
    call sj_array_allgather(z, gl)
    call expect(all(gl == 3 * hd), 'the Fortran map 2 d + d')
    call sj_array_axpy(-3.0_c_double, d, z)
    call sj_array_norm(SJ_NORM_2, z, v)
    call expect(v == 0, 'z - 3 d is not zero')
    ! scatter from rank 0, then redistribute into a block-cyclic layout
    if (me == 0) ref = [(real(k, c_double), k = 1, 4 * nb)]
    call sj_array_scatter(z, 0, ref)
    call sj_dist_create_cyclic([4], 1, min(np, 3), cyc)
    call sj_array_zeros(rs, dc, dist=cyc)
    call sj_array_redistribute(z, dc, bytes=moved)
    call sj_array_allgather(dc, gl)
    call expect(all(gl == [(real(k, c_double), k = 1, 4 * nb)]), 'scatter + redistribute')
    call expect(moved >= 0, 'bytes moved')
    call sj_array_destroy(dc)
    call sj_dist_destroy(cyc)
    call sj_array_destroy(z)

    ! == a second 4 x 3 operator from a Fortran array of blocks ==
    ! (i, i): Fortran leaves s * w .* x; (1, 3): a dense block; (4, 1): zero
    ! (row 4 needs one block giving its size); the rest: zero blocks (null).
    wstate = [(0.5_c_double * k, k = 1, nb)]
    q = reshape([(real(k, c_double) / 10, k = 1, nb * nb)], [nb, nb])
    do i = 1, 3
        s2 = i + 1
        call sj_dist_owner(adist, i + 4 * (i - 1), owner)
        if (me == owner) then
            call sj_op_create('wscale', blk, blk, owner, wscale, blocks(i, i), adjoint=wscale, &
                              params=c_loc(s2), params_size=c_sizeof(s2), state=wstate)
        else
            call sj_op_create('wscale', blk, blk, owner, wscale, blocks(i, i), adjoint=wscale, &
                              params=c_loc(s2), params_size=c_sizeof(s2))
        end if
    end do
    call sj_dist_owner(adist, 1 + 4 * 2, owner)
    call sj_op_dense(blk, blk, owner, blocks(1, 3), matrix=q)
    call sj_dist_owner(adist, 4, owner)
    call sj_op_zero(blk, blk, owner, blocks(4, 1))
    call sj_op_block_create(blocks, b, dist=adist)
    do i = 1, 4
        do j = 1, 3
            call sj_op_destroy(blocks(i, j)) ! b holds its own references
        end do
    end do
    mfull = 0
    do i = 1, 3
        do k = 1, nb
            mfull((i - 1) * nb + k, (i - 1) * nb + k) = (i + 1) * wstate(k)
        end do
    end do
    mfull(1:nb, 2 * nb + 1:3 * nb) = q
    call check_apply(b, mfull, 'Fortran leaves, dense and zero blocks')
    call sj_op_dot_product_test(b, 9, 1e-13_c_double, t)
    call expect(t%pass == 1, 'dot-product test of the operator with Fortran leaves')
    call sj_op_block_get(b, 2, 3, ab)
    call expect(.not. c_associated(ab%p), 'block (2, 3) of b is not a zero block')
    call sj_op_destroy(b)

    ! == a nonlinear Fortran leaf: linearisation (Taylor) test ==
    call sj_op_create('square', blk, blk, 0, square, f, adjoint=square_jac, jacobian=square_jac, &
                      nonlinear=.true.)
    call sj_op_linearization_test(f, 11, 0.1_c_double, 6, taylor)
    call expect(taylor%pass == 1, 'linearisation test of the Fortran x^2')
    call sj_op_destroy(f)

    call sj_array_destroy(m)
    call sj_array_destroy(d)
    call sj_op_destroy(a)
    call sj_dist_destroy(grid43)
    call sj_space_destroy(blk)
    deallocate(mfull, hm, hd, hy, hx, ref, buf, gl, mine, text)
    call sj_finalize(ierr)
    call expect(ierr == SJ_OK, 'sj_finalize')
    if (me == 0) print '(a, i0, a)', 'blockop: all checks passed on ', np, ' rank(s)'
contains
    subroutine check_apply(op, mat, what)
        type(sj_op), intent(in) :: op
        real(c_double), intent(in) :: mat(:, :)
        character(len=*), intent(in) :: what
        type(sj_array) :: yy, xx
        real(c_double) :: gy(size(mat, 1)), gx(size(mat, 2)), gm(size(mat, 2)), gd(size(mat, 1))
        call sj_array_zeros(rs, yy, dist=rdist)
        call sj_array_zeros(ds, xx, dist=ddist)
        call sj_op_apply(op, m, yy)
        call sj_op_apply_adjoint(op, d, xx)
        call sj_array_gather(m, 0, gm)
        call sj_array_gather(d, 0, gd)
        call sj_array_gather(yy, 0, gy)
        call sj_array_gather(xx, 0, gx)
        if (me == 0) then
            call expect(maxval(abs(gy - matmul(mat, gm))) <= 1e-13 * maxval(abs(gy)), &
                        what // ': A m differs from the dense reference')
            call expect(maxval(abs(gx - matmul(transpose(mat), gd))) <= 1e-13 * maxval(abs(gx)), &
                        what // ': A'' d differs from the dense reference')
        end if
        call sj_array_destroy(yy)
        call sj_array_destroy(xx)
    end subroutine check_apply

    subroutine expect(ok, what)
        logical, intent(in) :: ok
        character(len=*), intent(in) :: what
        if (ok) return
        print '(a, i0, a, a)', 'WRONG (rank ', me, '): ', what
        flush (6)
        call MPI_Abort(MPI_COMM_WORLD, 1, ierr) ! a STOP would leave the other ranks waiting
    end subroutine expect
end program blockop
