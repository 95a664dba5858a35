! A host-owned field with ghost layers, wrapped in place and stepped by a
! Fortran stencil, on 1 to 4 ranks. The host initialises MPI (at
! MPI_THREAD_MULTIPLE), duplicates its own communicator and gives it to
! sj_init; each rank owns one part of a px x py decomposition in arrays
! u(0:n0+1, 0:n1+1) (one ghost layer) that starjets wraps zero-copy. Every
! step the host adds a source in place (acquire / release), then a 5-point
! heat stencil runs in starjets' task graph and its result is copied back.
! Each rank compares its part with a serial run of the same steps (the same
! bits), checks that no ghost cell was written, and the same for a 3-D field
! (7-point stencil). Exits through MPI_Abort on the first wrong result.
module heat_callbacks
    use, intrinsic :: iso_c_binding
    use starjets
    implicit none
contains
    ! out = in + c * (the 5-point Laplacian of in); c in the context bytes
    integer function heat2(info, out, in, ctx) result(rc)
        type(sj_stencil_info), intent(in) :: info
        real(c_double), pointer, intent(in) :: out(:, :), in(:, :)
        type(c_ptr), intent(in) :: ctx
        real(c_double), pointer :: c
        integer(c_int64_t) :: i, j
        call c_f_pointer(ctx, c)
        do j = info%lo(2), info%hi(2)
            do i = info%lo(1), info%hi(1)
                out(i, j) = in(i, j) + c * (in(i - 1, j) + in(i + 1, j) + in(i, j - 1) + &
                                            in(i, j + 1) - 4 * in(i, j))
            end do
        end do
        rc = 0
    end function heat2

    integer function heat3(info, out, in, ctx) result(rc)
        type(sj_stencil_info), intent(in) :: info
        real(c_double), pointer, intent(in) :: out(:, :, :), in(:, :, :)
        type(c_ptr), intent(in) :: ctx
        real(c_double), pointer :: c
        integer(c_int64_t) :: i, j, k
        call c_f_pointer(ctx, c)
        do k = info%lo(3), info%hi(3)
            do j = info%lo(2), info%hi(2)
                do i = info%lo(1), info%hi(1)
                    out(i, j, k) = in(i, j, k) + c * (in(i - 1, j, k) + in(i + 1, j, k) + &
                        in(i, j - 1, k) + in(i, j + 1, k) + in(i, j, k - 1) + in(i, j, k + 1) - &
                        6 * in(i, j, k))
                end do
            end do
        end do
        rc = 0
    end function heat3

    pure real(c_double) function source(i, j)
        integer(c_int64_t), intent(in) :: i, j
        source = 0.01_c_double * mod(i * 7 + j * 3, 11)
    end function source

    pure real(c_double) function initial(i, j, k)
        integer(c_int64_t), intent(in) :: i, j, k
        initial = sin(0.3_c_double * i) + cos(0.2_c_double * j) + 0.1_c_double * k
    end function initial
end module heat_callbacks

program wrap_stencil
    use, intrinsic :: iso_c_binding
    use mpi
    use starjets
    use heat_callbacks
    implicit none
    integer(c_int64_t), parameter :: nx = 23, ny = 17, nz = 5
    integer, parameter :: steps = 6
    real(c_double), parameter :: poison = -7777.0_c_double
    real(c_double), target :: c
    integer :: provided, host, me, np, ierr, px, py, r, s
    integer, allocatable :: owners(:, :)
    type(sj_space) :: space, space3
    type(sj_dist) :: dist, dist3
    type(sj_array) :: uu, vv, u3a, v3a
    integer(c_int64_t) :: lo(3), hi(3), n0, n1, i, j, k
    real(c_double), allocatable, target :: u(:, :), v(:, :), u3(:, :, :), v3(:, :, :)
    real(c_double), allocatable :: g(:, :), gn(:, :), g3(:, :, :), g3n(:, :, :)
    real(c_double) :: total, local

    call MPI_Init_thread(MPI_THREAD_MULTIPLE, provided, ierr)
    call MPI_Comm_dup(MPI_COMM_WORLD, host, ierr)
    call sj_init(host) ! the integer handle of `use mpi`
    call MPI_Comm_rank(host, me, ierr)
    call MPI_Comm_size(host, np, ierr)
    call expect(sj_rank() == me .and. sj_nranks() == np, 'ranks of the host communicator')
    c = 0.1_c_double

    ! the host's decomposition: px x py parts, part (ix, iy) on rank ix + px * iy
    px = np
    py = 1
    if (np == 4) then
        px = 2
        py = 2
    end if
    allocate(owners(px, py))
    owners = reshape([(r, r = 0, np - 1)], [px, py])
    call sj_space_create(SJ_FLOAT64, [int(nx), int(ny)], [px, py], space)
    call sj_dist_create_explicit([px, py], owners, dist)
    call sj_space_block_range(space, me + 1, lo, hi) ! this rank's block is number me + 1
    n0 = hi(1) - lo(1) + 1
    n1 = hi(2) - lo(2) + 1
    allocate(u(0:n0 + 1, 0:n1 + 1), v(0:n0 + 1, 0:n1 + 1))
    u = poison
    v = poison
    do j = 1, n1
        do i = 1, n0
            u(i, j) = initial(lo(1) + i - 1, lo(2) + j - 1, 0_c_int64_t)
        end do
    end do
    call sj_array_wrap_local(space, dist, u, uu, ghost=1)
    call sj_array_wrap_local(space, dist, v, vv, ghost=1)

    do s = 1, steps
        call sj_array_acquire(uu, SJ_ACCESS_READWRITE) ! the host's own loop, in place
        do j = 1, n1
            do i = 1, n0
                u(i, j) = u(i, j) + source(lo(1) + i - 1, lo(2) + j - 1)
            end do
        end do
        call sj_array_release(uu)
        call sj_array_stencil(uu, vv, 1, SJ_BOUNDARY_FIXED, heat2, ctx=c_loc(c), &
                              ctx_size=c_sizeof(c))
        call sj_array_copyto(vv, uu)
        if (mod(s, 3) == 0) then ! the host reads in place and uses its own MPI
            call sj_array_acquire(uu, SJ_ACCESS_READ)
            local = sum(u(1:n0, 1:n1))
            call sj_array_release(uu)
            call MPI_Allreduce(local, total, 1, MPI_DOUBLE_PRECISION, MPI_SUM, host, ierr)
        end if
    end do
    call sj_array_unwrap(uu) ! u holds the last values
    call sj_array_unwrap(vv)
    call expect(.not. c_associated(uu%p), 'the handle is not null after unwrap')

    ! the serial run: the whole field with a zero frame
    allocate(g(0:nx + 1, 0:ny + 1), gn(0:nx + 1, 0:ny + 1))
    g = 0
    do j = 1, ny
        do i = 1, nx
            g(i, j) = initial(i, j, 0_c_int64_t)
        end do
    end do
    gn = 0
    do s = 1, steps
        do j = 1, ny
            do i = 1, nx
                g(i, j) = g(i, j) + source(i, j)
            end do
        end do
        do j = 1, ny
            do i = 1, nx
                gn(i, j) = g(i, j) + c * (g(i - 1, j) + g(i + 1, j) + g(i, j - 1) + g(i, j + 1) - &
                                          4 * g(i, j))
            end do
        end do
        g(1:nx, 1:ny) = gn(1:nx, 1:ny)
    end do
    call expect(all(u(1:n0, 1:n1) == g(lo(1):hi(1), lo(2):hi(2))), &
                '2-D: the wrapped field differs from the serial run')
    call expect(all(u(0, :) == poison) .and. all(u(n0 + 1, :) == poison) .and. &
                all(u(:, 0) == poison) .and. all(u(:, n1 + 1) == poison), &
                '2-D: a ghost cell of the host''s array was written')
    call expect(abs(total - sum(g(1:nx, 1:ny))) <= 1e-10 * abs(total), '2-D: the host''s sum')

    ! 3-D: the same parts in x and y, all of z; a 7-point stencil, periodic
    ! along z and fixed elsewhere
    call sj_space_create(SJ_FLOAT64, [int(nx), int(ny), int(nz)], [px, py, 1], space3)
    call sj_dist_create_explicit([px, py, 1], owners, dist3)
    allocate(u3(0:n0 + 1, 0:n1 + 1, 0:nz + 1), v3(0:n0 + 1, 0:n1 + 1, 0:nz + 1))
    u3 = poison
    v3 = poison
    do k = 1, nz
        do j = 1, n1
            do i = 1, n0
                u3(i, j, k) = initial(lo(1) + i - 1, lo(2) + j - 1, k)
            end do
        end do
    end do
    call sj_array_wrap_local(space3, dist3, u3, u3a, ghost=1)
    call sj_array_wrap_local(space3, dist3, v3, v3a, ghost=1)
    do s = 1, 2
        call sj_array_stencil_3d(u3a, v3a, 1, SJ_BOUNDARY_FIXED, heat3, ctx=c_loc(c), &
                                 ctx_size=c_sizeof(c), boundaries=[0, 0, SJ_BOUNDARY_PERIODIC])
        call sj_array_copyto(v3a, u3a)
    end do
    call sj_array_unwrap(u3a)
    call sj_array_unwrap(v3a)
    allocate(g3(0:nx + 1, 0:ny + 1, 0:nz + 1), g3n(nx, ny, nz))
    g3 = 0
    do k = 1, nz
        do j = 1, ny
            do i = 1, nx
                g3(i, j, k) = initial(i, j, k)
            end do
        end do
    end do
    do s = 1, 2
        g3(:, :, 0) = g3(:, :, nz) ! periodic along z
        g3(:, :, nz + 1) = g3(:, :, 1)
        do k = 1, nz
            do j = 1, ny
                do i = 1, nx
                    g3n(i, j, k) = g3(i, j, k) + c * (g3(i - 1, j, k) + g3(i + 1, j, k) + &
                        g3(i, j - 1, k) + g3(i, j + 1, k) + g3(i, j, k - 1) + g3(i, j, k + 1) - &
                        6 * g3(i, j, k))
                end do
            end do
        end do
        g3(1:nx, 1:ny, 1:nz) = g3n
    end do
    call expect(all(u3(1:n0, 1:n1, 1:nz) == g3(lo(1):hi(1), lo(2):hi(2), 1:nz)), &
                '3-D: the wrapped field differs from the serial run')
    call expect(all(u3(0, :, :) == poison) .and. all(u3(:, :, 0) == poison) .and. &
                all(u3(:, n1 + 1, :) == poison) .and. all(u3(:, :, nz + 1) == poison), &
                '3-D: a ghost cell of the host''s array was written')

    call sj_dist_destroy(dist)
    call sj_dist_destroy(dist3)
    call sj_space_destroy(space)
    call sj_space_destroy(space3)
    call sj_finalize()
    deallocate(owners, u, v, u3, v3, g, gn, g3, g3n)
    call MPI_Comm_free(host, ierr)
    if (me == 0) print '(a, i0, a)', 'wrap_stencil: all checks passed on ', np, ' rank(s)'
    call MPI_Finalize(ierr)
contains
    subroutine expect(ok, what)
        logical, intent(in) :: ok
        character(len=*), intent(in) :: what
        if (ok) return
        print '(a, i0, a, a)', 'WRONG (rank ', me, '): ', what
        flush (6)
        call MPI_Abort(MPI_COMM_WORLD, 1, ierr)
    end subroutine expect
end program wrap_stencil
