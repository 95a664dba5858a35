! embed_host (Fortran): a host code that embeds starjets (docs/fortran.md,
! docs/embedding.md), the Fortran twin of examples/embed_host.c.
!
!   mpirun -n 4 --bind-to none ./fortran_embed_host
!
! The host owns MPI (MPI_Init_thread, MPI_Finalize), runs starjets on a
! duplicate of its own communicator, cuts an nx x ny plate over a px x py
! grid of its ranks and keeps, on each rank, its part with one ghost cell on
! every side: u(0:n0+1, 0:n1+1) and v alike. Each step it adds a heat source
! to u in its own loop, then starjets runs a five-point heat step
! (v = u + 0.2 Laplacian u) and a block-diagonal operator (u = D v, a sponge
! that damps the plate's edges) directly on the host's memory. Between steps
! the host reads u in place and reduces with its own MPI. At the end every
! rank recomputes the plate serially and checks that its part holds the same
! bits and that no ghost cell was written; the program exits 1 otherwise.
module embed_physics
    use, intrinsic :: iso_c_binding
    use starjets
    implicit none
    integer(c_int64_t), parameter :: nx = 48, ny = 36
    real(c_double), parameter :: ghost_value = -1
contains
    pure real(c_double) function heat(c, l, r, d, u)
        real(c_double), intent(in) :: c, l, r, d, u
        heat = c + 0.2_c_double * (((l + r) + (d + u)) - 4 * c)
    end function heat

    ! a disc in the middle of the plate, warming up over the steps (i, j 1-based)
    pure real(c_double) function source(i, j, step)
        integer(c_int64_t), intent(in) :: i, j
        integer, intent(in) :: step
        real(c_double) :: x, y
        x = real(i - 1, c_double) / nx - 0.5_c_double
        y = real(j - 1, c_double) / ny - 0.5_c_double
        source = 0
        if (x * x + y * y < 0.02_c_double) source = 1 + 0.1_c_double * (step - 1)
    end function source

    ! 1 inside, falling towards the plate's edges
    pure real(c_double) function sponge(i, j)
        integer(c_int64_t), intent(in) :: i, j
        integer(c_int64_t) :: m
        m = min(i - 1, nx - i, j - 1, ny - j)
        sponge = 1
        if (m < 4) sponge = 0.9_c_double + 0.025_c_double * m
    end function sponge

    ! starjets' stencil: the heat step on a box, in global indices
    integer function heat_fn(info, out, in, ctx) result(rc)
        type(sj_stencil_info), intent(in) :: info
        real(c_double), pointer, intent(in) :: out(:, :), in(:, :)
        type(c_ptr), intent(in) :: ctx
        integer(c_int64_t) :: i, j
        do j = info%lo(2), info%hi(2)
            do i = info%lo(1), info%hi(1)
                out(i, j) = heat(in(i, j), in(i - 1, j), in(i + 1, j), in(i, j - 1), in(i, j + 1))
            end do
        end do
        rc = 0
    end function heat_fn
end module embed_physics

program embed_host
    use, intrinsic :: iso_c_binding
    use mpi
    use starjets
    use embed_physics
    implicit none
    integer, parameter :: steps = 12
    integer :: provided, host, rank, np, ierr, px, py, b, step, nbad, allbad
    integer, allocatable :: owners(:, :)
    type(sj_space) :: space, bs
    type(sj_dist) :: dist, diag_dist
    type(sj_array) :: uu, vv
    type(sj_op) :: d_op
    type(sj_op), allocatable :: leaves(:)
    integer(c_int64_t) :: lo(3), hi(3), blo(3), bhi(3), n0, n1, i, j
    real(c_double), allocatable, target :: u(:, :), v(:, :)
    real(c_double), allocatable :: d(:), ref(:, :), tmp(:, :)
    real(c_double) :: local, total

    call MPI_Init_thread(MPI_THREAD_MULTIPLE, provided, ierr)
    call MPI_Comm_dup(MPI_COMM_WORLD, host, ierr) ! the host's communicator
    call MPI_Comm_rank(host, rank, ierr)
    call MPI_Comm_size(host, np, ierr)
    call sj_init(host)

    ! the host's decomposition: a px x py grid, part (ix, iy) on rank ix + px * iy
    px = np
    py = 1
    if (mod(np, 2) == 0 .and. np > 2) then
        px = np / 2
        py = 2
    end if
    allocate(owners(px, py))
    owners = reshape([(b, b = 0, np - 1)], [px, py])
    call sj_space_create(SJ_FLOAT64, [int(nx), int(ny)], [px, py], space) ! the same cuts
    call sj_dist_create_explicit([px, py], owners, dist)                  ! the host's owners
    call sj_space_block_range(space, rank + 1, lo, hi) ! this rank's part: block rank + 1
    n0 = hi(1) - lo(1) + 1
    n1 = hi(2) - lo(2) + 1
    allocate(u(0:n0 + 1, 0:n1 + 1), v(0:n0 + 1, 0:n1 + 1))
    u = ghost_value
    v = ghost_value
    u(1:n0, 1:n1) = 0
    call sj_array_wrap_local(space, dist, u, uu, ghost=1) ! in place: no copy
    call sj_array_wrap_local(space, dist, v, vv, ghost=1)

    ! the sponge as a block-diagonal operator: leaf b is the diagonal of block
    ! b of the plate, on the block's owner (only the owner computes it)
    allocate(leaves(np))
    call sj_dist_create_explicit([np], [(b, b = 0, np - 1)], diag_dist)
    do b = 1, np
        call sj_space_block_range(space, b, blo, bhi)
        call sj_space_create(SJ_FLOAT64, [int((bhi(1) - blo(1) + 1) * (bhi(2) - blo(2) + 1))], &
                             [1], bs)
        if (rank == b - 1) then
            d = [((sponge(i, j), i = blo(1), bhi(1)), j = blo(2), bhi(2))]
            call sj_op_diagonal(bs, b - 1, leaves(b), d=d)
        else
            call sj_op_diagonal(bs, b - 1, leaves(b))
        end if
        call sj_space_destroy(bs)
    end do
    call sj_op_block_diag(leaves, d_op, dist=diag_dist)
    do b = 1, np
        call sj_op_destroy(leaves(b))
    end do

    do step = 1, steps
        call sj_array_acquire(uu, SJ_ACCESS_READWRITE) ! the host's own loop, in place
        do j = 1, n1
            do i = 1, n0
                u(i, j) = u(i, j) + 0.05_c_double * source(lo(1) + i - 1, lo(2) + j - 1, step)
            end do
        end do
        call sj_array_release(uu)
        call sj_array_stencil(uu, vv, 1, SJ_BOUNDARY_FIXED, heat_fn) ! starjets, no wait
        call sj_op_apply(d_op, vv, uu)
        if (mod(step, 5) == 0 .or. step == steps) then
            call sj_array_acquire(uu, SJ_ACCESS_READ) ! read in place ...
            local = sum(u(1:n0, 1:n1))
            call sj_array_release(uu)
            call MPI_Allreduce(local, total, 1, MPI_DOUBLE_PRECISION, MPI_SUM, host, ierr) ! ... own MPI
            if (rank == 0) print '(a, i3, a, f12.6)', 'step ', step, ': total heat ', total
        end if
    end do
    call sj_array_unwrap(uu) ! u holds the last values; starjets lets go of both
    call sj_array_unwrap(vv)
    call sj_op_destroy(d_op)
    call sj_dist_destroy(diag_dist)
    call sj_dist_destroy(dist)
    call sj_space_destroy(space)
    call sj_finalize()

    ! the serial run, with the same arithmetic, and the check with the host's MPI
    allocate(ref(0:nx + 1, 0:ny + 1), tmp(nx, ny))
    ref = 0
    do step = 1, steps
        do j = 1, ny
            do i = 1, nx
                ref(i, j) = ref(i, j) + 0.05_c_double * source(i, j, step)
            end do
        end do
        do j = 1, ny
            do i = 1, nx
                tmp(i, j) = heat(ref(i, j), ref(i - 1, j), ref(i + 1, j), ref(i, j - 1), &
                                 ref(i, j + 1))
            end do
        end do
        do j = 1, ny
            do i = 1, nx
                ref(i, j) = sponge(i, j) * tmp(i, j)
            end do
        end do
    end do
    nbad = count(u(1:n0, 1:n1) /= ref(lo(1):hi(1), lo(2):hi(2))) + &
           count(u(0, :) /= ghost_value) + count(u(n0 + 1, :) /= ghost_value) + &
           count(u(:, 0) /= ghost_value) + count(u(:, n1 + 1) /= ghost_value)
    call MPI_Allreduce(nbad, allbad, 1, MPI_INTEGER, MPI_SUM, host, ierr)
    if (rank == 0) then
        if (allbad == 0) then
            print '(i0, a, i0, a, i0, a, i0, a, i0, a)', nx, ' x ', ny, ' plate on ', px, ' x ', &
                py, ' ranks, ', steps, ' steps: same bits as the serial run'
        else
            print '(a, i0, a)', 'MISMATCH with the serial run (', allbad, ' cells)'
        end if
    end if
    deallocate(owners, u, v, leaves, ref, tmp)
    if (allocated(d)) deallocate(d)
    call MPI_Comm_free(host, ierr)
    call MPI_Finalize(ierr)
    if (allbad /= 0) error stop 1
end program embed_host
