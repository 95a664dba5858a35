! The module's named constants and struct mirrors against the C headers
! (tests/fortran/constants_c.c gives the C values): a constant added or
! changed on one side only fails here. Also the error names and messages as
! Fortran strings. Needs no sj_init.
program constants
    use, intrinsic :: iso_c_binding
    use starjets
    implicit none
    interface
        function sj_ftest_constant(name, value) bind(C)
            import :: c_char, c_long_long, c_int
            character(kind=c_char), intent(in) :: name(*)
            integer(c_long_long), intent(out) :: value
            integer(c_int) :: sj_ftest_constant
        end function
        subroutine sj_ftest_struct_sizes(sizes) bind(C)
            import :: c_size_t
            integer(c_size_t), intent(out) :: sizes(7)
        end subroutine
    end interface
    integer :: failures = 0, checked = 0
    integer(c_size_t) :: csizes(7), fsizes(7)
    character(len=*), parameter :: structs(7) = [character(len=20) :: 'sj_block_info_t', &
        'sj_op_info_t', 'sj_stencil_info_t', 'sj_op_class_t', 'sj_stencil_options_t', &
        'sj_pmap_options_t', 'sj_pmap_report_t']
    integer :: k

    call same('SJ_OK', SJ_OK)
    call same('SJ_EINVAL', SJ_EINVAL)
    call same('SJ_ENULL', SJ_ENULL)
    call same('SJ_ERANGE', SJ_ERANGE)
    call same('SJ_ESIZE', SJ_ESIZE)
    call same('SJ_EMISMATCH', SJ_EMISMATCH)
    call same('SJ_ETYPE', SJ_ETYPE)
    call same('SJ_ENOMEM', SJ_ENOMEM)
    call same('SJ_ESTATE', SJ_ESTATE)
    call same('SJ_ERUNTIME', SJ_ERUNTIME)
    call same('SJ_ENODEV', SJ_ENODEV)
    call same('SJ_ENOTSUP', SJ_ENOTSUP)
    call same('SJ_EUSER', SJ_EUSER)
    call same('SJ_EHANDLE', SJ_EHANDLE)
    call same('SJ_EIO', SJ_EIO)
    call same('SJ_EFORMAT', SJ_EFORMAT)
    call same('SJ_MAX_DIMS', SJ_MAX_DIMS)
    call same('SJ_FLOAT64', SJ_FLOAT64)
    call same('SJ_FLOAT32', SJ_FLOAT32)
    call same('SJ_DIST_CONTIGUOUS', SJ_DIST_CONTIGUOUS)
    call same('SJ_DIST_CYCLIC', SJ_DIST_CYCLIC)
    call same('SJ_DIST_EXPLICIT', SJ_DIST_EXPLICIT)
    call same('SJ_ACCESS_READ', SJ_ACCESS_READ)
    call same('SJ_ACCESS_READWRITE', SJ_ACCESS_READWRITE)
    call same('SJ_REDUCE_SUM', SJ_REDUCE_SUM)
    call same('SJ_REDUCE_MIN', SJ_REDUCE_MIN)
    call same('SJ_REDUCE_MAX', SJ_REDUCE_MAX)
    call same('SJ_REDUCE_MEAN', SJ_REDUCE_MEAN)
    call same('SJ_REDUCE_NORM1', SJ_REDUCE_NORM1)
    call same('SJ_REDUCE_NORM2', SJ_REDUCE_NORM2)
    call same('SJ_REDUCE_NORMINF', SJ_REDUCE_NORMINF)
    call same('SJ_REDUCE_DOT', SJ_REDUCE_DOT)
    call same('SJ_NORM_1', SJ_NORM_1)
    call same('SJ_NORM_2', SJ_NORM_2)
    call same('SJ_NORM_INF', SJ_NORM_INF)
    call same('SJ_SCALAR_ADD', SJ_SCALAR_ADD)
    call same('SJ_SCALAR_SUB', SJ_SCALAR_SUB)
    call same('SJ_SCALAR_MUL', SJ_SCALAR_MUL)
    call same('SJ_SCALAR_DIV', SJ_SCALAR_DIV)
    call same('SJ_OP_DIR_FORWARD', SJ_OP_DIR_FORWARD)
    call same('SJ_OP_DIR_ADJOINT', SJ_OP_DIR_ADJOINT)
    call same('SJ_OP_BLOCK_GENERAL', SJ_OP_BLOCK_GENERAL)
    call same('SJ_OP_BLOCK_DIAGONAL', SJ_OP_BLOCK_DIAGONAL)
    call same('SJ_OP_BLOCK_TALL', SJ_OP_BLOCK_TALL)
    call same('SJ_OP_MAX_PARAMS', SJ_OP_MAX_PARAMS)
    call same('SJ_BOUNDARY_PERIODIC', SJ_BOUNDARY_PERIODIC)
    call same('SJ_BOUNDARY_FIXED', SJ_BOUNDARY_FIXED)
    call same('SJ_STENCIL_SPLIT', SJ_STENCIL_SPLIT)
    call same('SJ_STENCIL_PADDED', SJ_STENCIL_PADDED)
    call same('SJ_STENCIL_INTERIOR', SJ_STENCIL_INTERIOR)
    call same('SJ_STENCIL_FRAME', SJ_STENCIL_FRAME)
    call same('SJ_STENCIL_WHOLE', SJ_STENCIL_WHOLE)
    call same('SJ_PMAP_STOP', SJ_PMAP_STOP)
    call same('SJ_PMAP_SKIP', SJ_PMAP_SKIP)
    call same('SJ_PMAP_RETRY', SJ_PMAP_RETRY)
    call same('SJ_PMAP_NOT_RUN', SJ_PMAP_NOT_RUN)
    call same('SJ_PMAP_RETURNED_NOT_RUN', SJ_PMAP_RETURNED_NOT_RUN)
    ! a name the C side does not know must be refused, or the test proves nothing
    if (c_value('SJ_NO_SUCH_CONSTANT', k) == 0) call wrong('the C table accepts any name')

    call sj_ftest_struct_sizes(csizes)
    call sj_fortran_struct_sizes(fsizes)
    do k = 1, 7
        checked = checked + 1
        if (csizes(k) /= fsizes(k)) then
            print '(a, a, a, i0, a, i0)', 'WRONG: ', trim(structs(k)), ': C size ', csizes(k), &
                ', Fortran mirror ', fsizes(k)
            failures = failures + 1
        end if
    end do

    ! error codes as Fortran strings
    if (sj_err_name(SJ_ESIZE) /= 'SJ_ESIZE') call wrong('sj_err_name(SJ_ESIZE) = ' // &
                                                        sj_err_name(SJ_ESIZE))
    if (sj_strerror(SJ_EINVAL) /= 'invalid argument') call wrong('sj_strerror(SJ_EINVAL) = ' // &
                                                                 sj_strerror(SJ_EINVAL))
    if (sj_err_name(-999) /= 'SJ_UNKNOWN') call wrong('sj_err_name(-999) = ' // sj_err_name(-999))
    if (len(sj_last_error()) /= 0) call wrong('sj_last_error() before any call: ' // sj_last_error())
    if (sj_rank() /= -1) call wrong('sj_rank() before sj_init is not -1')

    if (failures > 0) then
        print '(i0, a, i0, a)', failures, ' of ', checked, ' checks failed'
        error stop 1
    end if
    print '(a, i0, a)', 'constants: ', checked, ' constants and struct sizes match the C headers'
contains
    subroutine same(name, fvalue)
        character(len=*), intent(in) :: name
        integer, intent(in) :: fvalue
        integer :: cv
        checked = checked + 1
        if (c_value(name, cv) /= 0) then
            call wrong(name // ' is not in the C table (tests/fortran/constants_c.c)')
        else if (cv /= fvalue) then
            print '(a, a, a, i0, a, i0)', 'WRONG: ', name, ': C ', cv, ', Fortran ', fvalue
            failures = failures + 1
        end if
    end subroutine same

    integer function c_value(name, v)
        character(len=*), intent(in) :: name
        integer, intent(out) :: v
        integer(c_long_long) :: cv
        cv = 0
        c_value = sj_ftest_constant(name // c_null_char, cv)
        v = int(cv)
    end function c_value

    subroutine wrong(what)
        character(len=*), intent(in) :: what
        print '(a, a)', 'WRONG: ', what
        failures = failures + 1
    end subroutine wrong
end program constants
