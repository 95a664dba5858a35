!> @file fortran/starjets.F90
!> The Fortran 2008 interface of starjets: `use starjets`.
!>
!> One module over iso_c_binding (docs/fortran.md is the guide). Conventions:
!> - every handle is a derived type (type(sj_array), type(sj_op), ...) holding
!>   the C handle; a default-initialised one is the C NULL;
!> - every routine is a subroutine whose last positional argument is an
!>   optional `ierr`: given, it receives SJ_OK or a negative SJ_E... code and
!>   the call returns; omitted, a failure prints the sentence and aborts every
!>   rank (MPI_Abort), as MPI's Fortran bindings do by default. Queries that
!>   cannot fail (sj_rank, sj_last_error) are functions;
!> - block numbers, block rows and columns, block coordinates, dimensions and
!>   element indices are 1-based, index ranges inclusive (lo:hi); MPI ranks
!>   stay 0-based, as in MPI itself;
!> - arrays are passed as assumed-shape dummies whose sizes are checked; where
!>   starjets keeps the address (wrapping) a non-contiguous section is refused;
!> - callbacks (maps, leaf operators, stencils, task farm items, block
!>   makers, loop terms) are ordinary Fortran procedures of the abstract
!>   interfaces below, called by the library through bind(C) trampolines of
!>   this module; their data arrive as Fortran arrays with Fortran bounds.
!>
!> One module, in one preprocessed source whose parts are included: the
!> interfaces of the C functions (starjets_c.inc), the routines
!> (starjets_impl.inc, starjets_arrays.inc, starjets_callbacks.inc,
!> starjets_ops.inc), and the
!> routines that take a buffer of any real kind and rank, written once in
!> starjets_buffers.inc and instantiated six times below.
module starjets
    use, intrinsic :: iso_c_binding
    implicit none
    private

    ! ---- constants: checked against the C headers by tests/fortran/constants.f90
    integer, parameter, public :: SJ_OK = 0, SJ_EINVAL = -1, SJ_ENULL = -2, SJ_ERANGE = -3, &
        SJ_ESIZE = -4, SJ_EMISMATCH = -5, SJ_ETYPE = -6, SJ_ENOMEM = -7, SJ_ESTATE = -8, &
        SJ_ERUNTIME = -9, SJ_ENODEV = -10, SJ_ENOTSUP = -11, SJ_EUSER = -12, SJ_EHANDLE = -13, &
        SJ_EIO = -14, SJ_EFORMAT = -15
    integer, parameter, public :: SJ_MAX_DIMS = 3
    integer, parameter, public :: SJ_FLOAT64 = 1, SJ_FLOAT32 = 2
    integer, parameter, public :: SJ_DIST_CONTIGUOUS = 1, SJ_DIST_CYCLIC = 2, SJ_DIST_EXPLICIT = 3
    integer, parameter, public :: SJ_ACCESS_READ = 1, SJ_ACCESS_READWRITE = 3
    integer, parameter, public :: SJ_REDUCE_SUM = 1, SJ_REDUCE_MIN = 2, SJ_REDUCE_MAX = 3, &
        SJ_REDUCE_MEAN = 4, SJ_REDUCE_NORM1 = 5, SJ_REDUCE_NORM2 = 6, SJ_REDUCE_NORMINF = 7, &
        SJ_REDUCE_DOT = 8
    integer, parameter, public :: SJ_NORM_1 = 5, SJ_NORM_2 = 6, SJ_NORM_INF = 7
    integer, parameter, public :: SJ_SCALAR_ADD = 1, SJ_SCALAR_SUB = 2, SJ_SCALAR_MUL = 3, &
        SJ_SCALAR_DIV = 4
    integer, parameter, public :: SJ_OP_DIR_FORWARD = 0, SJ_OP_DIR_ADJOINT = 1
    integer, parameter, public :: SJ_OP_BLOCK_GENERAL = 0, SJ_OP_BLOCK_DIAGONAL = 1, &
        SJ_OP_BLOCK_TALL = 2
    integer, parameter, public :: SJ_OP_MAX_PARAMS = 4096
    integer, parameter, public :: SJ_BOUNDARY_PERIODIC = 1, SJ_BOUNDARY_FIXED = 2
    integer, parameter, public :: SJ_STENCIL_SPLIT = 0, SJ_STENCIL_PADDED = 1
    integer, parameter, public :: SJ_STENCIL_INTERIOR = 0, SJ_STENCIL_FRAME = 1, &
        SJ_STENCIL_WHOLE = 2
    integer, parameter, public :: SJ_PMAP_STOP = 0, SJ_PMAP_SKIP = 1, SJ_PMAP_RETRY = 2
    integer, parameter, public :: SJ_PMAP_NOT_RUN = -huge(0) - 1
    integer, parameter, public :: SJ_PMAP_RETURNED_NOT_RUN = -huge(0)

    ! ---- handles
    type, public :: sj_space
        type(c_ptr) :: p = c_null_ptr
    end type
    type, public :: sj_dist
        type(c_ptr) :: p = c_null_ptr
    end type
    type, public :: sj_array
        type(c_ptr) :: p = c_null_ptr
    end type
    type, public :: sj_op
        type(c_ptr) :: p = c_null_ptr
    end type
    type, public :: sj_scalar
        type(c_ptr) :: p = c_null_ptr
    end type

    ! ---- what callbacks learn (1-based, inclusive ranges)
    !> A block, as a per-block map sees it.
    type, public :: sj_block_info
        integer :: block = 0                  !< block number, 1-based
        integer :: coords(SJ_MAX_DIMS) = 1    !< block grid coordinates, 1-based
        integer :: ndims = 0                  !< dimensions of the space
        integer :: dtype = 0                  !< SJ_FLOAT64 or SJ_FLOAT32
        integer(c_int64_t) :: lo(SJ_MAX_DIMS) = 1, hi(SJ_MAX_DIMS) = 1 !< global index range lo:hi
        integer(c_int64_t) :: dims(SJ_MAX_DIMS) = 1  !< block shape
        integer(c_int64_t) :: gdims(SJ_MAX_DIMS) = 1 !< global shape
        integer(c_int64_t) :: nelems = 0      !< elements in the block
    end type
    !> One input block of a map.
    type, public :: sj_block_input
        real(c_double), pointer, contiguous :: x(:) => null()
    end type
    !> What a leaf operator's procedure learns.
    type, public :: sj_op_info
        integer :: dtype = 0
        integer :: dom_ndims = 0, rng_ndims = 0
        integer(c_int64_t) :: dom_dims(SJ_MAX_DIMS) = 1, rng_dims(SJ_MAX_DIMS) = 1
        integer(c_int64_t) :: dom_n = 0, rng_n = 0
        type(c_ptr) :: params = c_null_ptr     !< the parameter bytes given at creation
        integer(c_size_t) :: params_size = 0
        real(c_double), pointer, contiguous :: state(:) => null() !< the state (owner's copy)
        real(c_double), pointer, contiguous :: point(:) => null() !< Jacobian point m0, else null
        integer :: block_row = 0, block_col = 0 !< place in a block operator (1-based), else 0
    end type
    !> What a stencil procedure learns: the box to compute, in global indices.
    type, public :: sj_stencil_info
        type(sj_block_info) :: blk
        integer :: width = 0
        integer :: part = 0                   !< SJ_STENCIL_INTERIOR, _FRAME or _WHOLE
        integer(c_int64_t) :: lo(SJ_MAX_DIMS) = 1, hi(SJ_MAX_DIMS) = 1 !< compute out(lo:hi)
    end type

    ! ---- results (the C structs as they are)
    type, public, bind(C) :: sj_op_test_result
        real(c_double) :: lhs = 0, rhs = 0, relerr = 0
        integer(c_int) :: pass = 0
    end type
    type, public, bind(C) :: sj_op_taylor_result
        integer(c_int) :: nsteps = 0
        real(c_double) :: h(16) = 0, err0(16) = 0, err1(16) = 0
        real(c_double) :: order = 0
        integer(c_int) :: pass = 0
    end type
    type, public, bind(C) :: sj_pmap_report
        integer(c_int64_t) :: total = 0, done = 0, failed = 0, not_run = 0, retried = 0
        integer(c_int64_t) :: first_failed = 0 !< 1-based, 0 when none
        integer(c_int) :: first_error = 0
        integer(c_int64_t) :: batches = 0
        real(c_double) :: seconds = 0
    end type

    ! ---- callback interfaces
    abstract interface
        !> A per-block map: update out (the block of the output array, all its
        !> elements column-major) from in(k)%x, the same block of input k.
        integer function sj_block_fn(blk, out, in, ctx)
            import :: sj_block_info, sj_block_input, c_double, c_ptr
            type(sj_block_info), intent(in) :: blk
            real(c_double), intent(inout) :: out(:)
            type(sj_block_input), intent(in) :: in(:)
            type(c_ptr), intent(in) :: ctx
        end function
        !> A leaf operator direction: out = A in (forward), A' in (adjoint) ...
        integer function sj_op_fn(info, out, in)
            import :: sj_op_info, c_double
            type(sj_op_info), intent(in) :: info
            real(c_double), intent(out) :: out(:)
            real(c_double), intent(in) :: in(:)
        end function
        !> Makes block (i, j) of a block operator on rank owner (sj_op_block_create_fn).
        integer function sj_op_block_fn(i, j, owner, ctx, block)
            import :: sj_op, c_ptr
            integer, intent(in) :: i, j, owner
            type(c_ptr), intent(in) :: ctx
            type(sj_op), intent(out) :: block
        end function
        !> One item of a task farm: index 1..n, its input and room for its result.
        integer function sj_item_fn(index, in, out, ctx)
            import :: c_int64_t, c_double, c_ptr
            integer(c_int64_t), intent(in) :: index
            real(c_double), intent(in) :: in(:)
            real(c_double), intent(out) :: out(:)
            type(c_ptr), intent(in) :: ctx
        end function
        !> A 2-D stencil update: out(i, j) for info%lo <= (i, j) <= info%hi from
        !> in, which holds (i, j) +- info%width; both in global indices.
        integer function sj_stencil2_fn(info, out, in, ctx)
            import :: sj_stencil_info, c_double, c_ptr
            type(sj_stencil_info), intent(in) :: info
            real(c_double), pointer, intent(in) :: out(:, :)
            real(c_double), pointer, intent(in) :: in(:, :)
            type(c_ptr), intent(in) :: ctx
        end function
        !> The same in 3-D.
        integer function sj_stencil3_fn(info, out, in, ctx)
            import :: sj_stencil_info, c_double, c_ptr
            type(sj_stencil_info), intent(in) :: info
            real(c_double), pointer, intent(in) :: out(:, :, :)
            real(c_double), pointer, intent(in) :: in(:, :, :)
            type(c_ptr), intent(in) :: ctx
        end function
        !> One term of a distributed loop reduction.
        function sj_term_fn(i, ctx) result(t)
            import :: c_int64_t, c_double, c_ptr
            integer(c_int64_t), intent(in) :: i
            type(c_ptr), intent(in) :: ctx
            real(c_double) :: t
        end function
    end interface
    public :: sj_block_fn, sj_op_fn, sj_op_block_fn, sj_item_fn, sj_stencil2_fn, sj_stencil3_fn, &
        sj_term_fn

    ! ---- public procedures
    public :: sj_init, sj_finalize, sj_initialized, sj_rank, sj_nranks, sj_ncpus, sj_wait, &
        sj_barrier, sj_pause, sj_resume, sj_version, sj_set_synchronous, sj_mpi_thread_multiple
    public :: sj_last_error, sj_last_error_trace, sj_err_name, sj_strerror, sj_clear_error
    public :: sj_space_create, sj_space_create_blocks, sj_space_create_irregular, &
        sj_space_destroy, sj_space_shape, sj_space_length, sj_space_blocks, &
        sj_space_block_range, sj_space_block_dims, sj_space_block_index, sj_space_block_coords, &
        sj_space_describe, sj_space_equal
    public :: sj_dist_create_contiguous, sj_dist_create_cyclic, sj_dist_create_explicit, &
        sj_dist_create_default, sj_dist_destroy, sj_dist_info, sj_dist_owner, &
        sj_dist_local_blocks, sj_dist_procs, sj_dist_blockmap, sj_dist_equal
    public :: sj_array_zeros, sj_array_ones, sj_array_filled, sj_array_rand, sj_array_randn, &
        sj_array_similar, sj_array_copy, sj_array_destroy, sj_array_distribute, &
        sj_array_wrap_local, sj_array_wrap_blocks, sj_array_acquire, sj_array_release, &
        sj_array_unwrap, sj_array_space, sj_array_dist, sj_array_local_blocks, &
        sj_array_localpart_get, sj_array_localpart_restore, sj_array_gather, &
        sj_array_allgather, sj_array_scatter, sj_array_block_get, sj_array_block_set, &
        sj_array_redistribute, sj_array_fill, sj_array_scale, sj_array_axpy, sj_array_axpby, &
        sj_array_mul, sj_array_copyto, sj_array_map, sj_array_reduce, sj_array_dot, &
        sj_array_norm, sj_array_sum, sj_array_min, sj_array_max, sj_array_mean, &
        sj_array_reduce_scalar, sj_array_axpy_scalar, sj_array_scale_scalar, &
        sj_array_create_init, sj_array_block_info
    public :: sj_scalar_create, sj_scalar_binary, sj_scalar_value, sj_scalar_destroy
    public :: sj_op_create, sj_op_copy, sj_op_destroy, sj_op_domain, sj_op_range, &
        sj_op_is_linear, sj_op_owner, sj_op_describe, sj_op_compose, sj_op_combine, sj_op_add, &
        sj_op_sub, sj_op_scale, sj_op_adjoint, sj_op_jacobian, sj_op_apply_ex, sj_op_apply, &
        sj_op_apply_adjoint, sj_op_block_create, sj_op_block_create_fn, sj_op_block_dist, &
        sj_op_block_kind, sj_op_block_get, sj_op_block_set, sj_op_dot_product_test, &
        sj_op_linearity_test, sj_op_linearization_test, sj_op_block_diag, sj_op_block_grid
    public :: sj_op_diagonal, sj_op_dense, sj_op_zero, sj_op_identity, sj_op_scaled_identity, &
        sj_op_difference, sj_op_derivative, sj_op_restriction, sj_op_pad, sj_op_truncate, &
        sj_op_reshape, sj_op_taper, sj_op_circshift, sj_op_sum_dim, sj_op_exp, sj_op_log, &
        sj_op_tanh, sj_op_sigmoid, sj_op_power, sj_op_shift, sj_op_clamp
    public :: sj_array_stencil, sj_array_stencil_3d, sj_pmap, sj_preduce_double, &
        sj_allreduce_int64

    ! ---- generic names over element kinds and ranks (starjets_buffers.inc)
    interface sj_array_gather
        module procedure gather_d1, gather_d2, gather_d3, gather_s1, gather_s2, gather_s3
    end interface
    interface sj_array_allgather
        module procedure allgather_d1, allgather_d2, allgather_d3, allgather_s1, allgather_s2, &
            allgather_s3
    end interface
    interface sj_array_scatter
        module procedure scatter_d1, scatter_d2, scatter_d3, scatter_s1, scatter_s2, scatter_s3
    end interface
    interface sj_array_distribute
        module procedure distribute_d1, distribute_d2, distribute_d3, distribute_s1, &
            distribute_s2, distribute_s3
    end interface
    interface sj_space_create
        module procedure space_create_i, space_create_i8
    end interface
    interface sj_array_rand
        module procedure rand_i, rand_i8
    end interface
    interface sj_array_randn
        module procedure randn_i, randn_i8
    end interface
    interface sj_array_block_get
        module procedure block_get_d1, block_get_d2, block_get_d3, block_get_s1, block_get_s2, &
            block_get_s3
    end interface
    interface sj_array_block_set
        module procedure block_set_d1, block_set_d2, block_set_d3, block_set_s1, block_set_s2, &
            block_set_s3
    end interface
    interface sj_array_wrap_local
        module procedure wrap_local_d1, wrap_local_d2, wrap_local_d3, wrap_local_s1, &
            wrap_local_s2, wrap_local_s3
    end interface
    interface sj_array_wrap_blocks
        module procedure wrap_blocks_d1, wrap_blocks_d2, wrap_blocks_d3, wrap_blocks_s1, &
            wrap_blocks_s2, wrap_blocks_s3
    end interface
    interface sj_array_localpart_get
        module procedure localpart_get_d1, localpart_get_d2, localpart_get_d3, &
            localpart_get_s1, localpart_get_s2, localpart_get_s3
    end interface
    interface sj_array_localpart_restore
        module procedure localpart_restore_d1, localpart_restore_d2, localpart_restore_d3, &
            localpart_restore_s1, localpart_restore_s2, localpart_restore_s3
    end interface
    interface sj_dist_create_explicit
        module procedure dist_create_explicit_1, dist_create_explicit_2, dist_create_explicit_3
    end interface

    ! ---- the C structs callbacks receive, as they are
    type, bind(C) :: c_block_info
        integer(c_int) :: block, coords(SJ_MAX_DIMS), ndims, dtype
        integer(c_int64_t) :: lo(SJ_MAX_DIMS), hi(SJ_MAX_DIMS), dims(SJ_MAX_DIMS)
        integer(c_int64_t) :: gdims(SJ_MAX_DIMS), nelems
    end type
    type, bind(C) :: c_op_info
        integer(c_int) :: dtype, dom_ndims
        integer(c_int64_t) :: dom_dims(SJ_MAX_DIMS), dom_n
        integer(c_int) :: rng_ndims
        integer(c_int64_t) :: rng_dims(SJ_MAX_DIMS), rng_n
        type(c_ptr) :: params
        integer(c_size_t) :: params_size
        type(c_ptr) :: state
        integer(c_size_t) :: state_size
        type(c_ptr) :: point
        integer(c_int) :: block_row, block_col
    end type
    type, bind(C) :: c_stencil_info
        type(c_block_info) :: blk
        integer(c_int) :: width, part
        integer(c_int64_t) :: lo(SJ_MAX_DIMS), hi(SJ_MAX_DIMS)
        integer(c_int64_t) :: in_stride(SJ_MAX_DIMS), out_stride(SJ_MAX_DIMS)
    end type
    type, bind(C) :: c_op_class
        type(c_ptr) :: name
        integer(c_int) :: nonlinear
        type(c_funptr) :: forward, adjoint, jacobian, forward_cuda, adjoint_cuda, jacobian_cuda
    end type
    type, bind(C) :: c_box
        integer(c_int) :: lo(SJ_MAX_DIMS), hi(SJ_MAX_DIMS)
    end type
    type, bind(C) :: c_stencil_options
        real(c_double) :: fixed_value
        integer(c_int) :: boundary(SJ_MAX_DIMS), mode
        type(c_funptr) :: cuda
    end type
    type, bind(C) :: c_pmap_options
        integer(c_int) :: root
        integer(c_int64_t) :: batch
        integer(c_int) :: on_error, retries, queue_per_worker
        type(c_funptr) :: progress
        type(c_ptr) :: progress_ctx
        real(c_double) :: progress_interval
        type(c_funptr) :: output
        type(c_ptr) :: output_ctx, item_status, rank_items
    end type
    ! Sizes of the mirrors, for tests/fortran/constants.f90 against C's sizeof.
    public :: sj_fortran_struct_sizes

    ! ---- the user's procedures behind the trampolines
    ! A callback's context bytes start with this header: which registered
    ! procedure to call, two sizes, and the user's own pointer when the user
    ! gave no bytes to copy. The user's bytes follow it.
    type, bind(C) :: cb_header
        integer(c_int) :: slot, slot2, slot3, pad
        integer(c_int64_t) :: n1, n2
        type(c_ptr) :: ctx
        integer(c_int64_t) :: pad2
    end type
    integer, parameter :: HEADER_BYTES = 48
    ! Registered procedures live in a fixed table: a worker thread may read a
    ! slot while the application thread adds another, so it never moves. The
    ! same procedure registered again reuses its slot.
    integer, parameter :: NSLOTS = 256
    type :: slot_t
        procedure(sj_block_fn), pointer, nopass :: block => null()
        procedure(sj_op_fn), pointer, nopass :: op => null()
        procedure(sj_op_block_fn), pointer, nopass :: op_block => null()
        procedure(sj_item_fn), pointer, nopass :: item => null()
        procedure(sj_stencil2_fn), pointer, nopass :: stencil2 => null()
        procedure(sj_stencil3_fn), pointer, nopass :: stencil3 => null()
        procedure(sj_term_fn), pointer, nopass :: term => null()
    end type
    type(slot_t), save, target :: slots(NSLOTS)
    integer, save :: slots_used = 0

    ! The sentence of the last error found on the Fortran side (a shape, a
    ! non-contiguous section); sj_last_error() gives it until the next failure.
    character(len=:), allocatable, save :: f_sentence

#include "starjets_c.inc"

contains

#include "starjets_impl.inc"

! ---- the buffer routines, per element kind and rank
#define SJ_GATHER gather_d1
#define SJ_ALLGATHER allgather_d1
#define SJ_SCATTER scatter_d1
#define SJ_DISTRIBUTE distribute_d1
#define SJ_BLOCK_GET block_get_d1
#define SJ_BLOCK_SET block_set_d1
#define SJ_WRAP_LOCAL wrap_local_d1
#define SJ_WRAP_BLOCKS wrap_blocks_d1
#define SJ_LOCALPART_GET localpart_get_d1
#define SJ_LOCALPART_RESTORE localpart_restore_d1
#define SJ_T real(c_double)
#define SJ_DIM (:)
#define SJ_RANK 1
#define SJ_DTYPE SJ_FLOAT64
#include "starjets_buffers.inc"
#include "starjets_undef.inc"
#define SJ_GATHER gather_d2
#define SJ_ALLGATHER allgather_d2
#define SJ_SCATTER scatter_d2
#define SJ_DISTRIBUTE distribute_d2
#define SJ_BLOCK_GET block_get_d2
#define SJ_BLOCK_SET block_set_d2
#define SJ_WRAP_LOCAL wrap_local_d2
#define SJ_WRAP_BLOCKS wrap_blocks_d2
#define SJ_LOCALPART_GET localpart_get_d2
#define SJ_LOCALPART_RESTORE localpart_restore_d2
#define SJ_T real(c_double)
#define SJ_DIM (:,:)
#define SJ_RANK 2
#define SJ_DTYPE SJ_FLOAT64
#include "starjets_buffers.inc"
#include "starjets_undef.inc"
#define SJ_GATHER gather_d3
#define SJ_ALLGATHER allgather_d3
#define SJ_SCATTER scatter_d3
#define SJ_DISTRIBUTE distribute_d3
#define SJ_BLOCK_GET block_get_d3
#define SJ_BLOCK_SET block_set_d3
#define SJ_WRAP_LOCAL wrap_local_d3
#define SJ_WRAP_BLOCKS wrap_blocks_d3
#define SJ_LOCALPART_GET localpart_get_d3
#define SJ_LOCALPART_RESTORE localpart_restore_d3
#define SJ_T real(c_double)
#define SJ_DIM (:,:,:)
#define SJ_RANK 3
#define SJ_DTYPE SJ_FLOAT64
#include "starjets_buffers.inc"
#include "starjets_undef.inc"
#define SJ_GATHER gather_s1
#define SJ_ALLGATHER allgather_s1
#define SJ_SCATTER scatter_s1
#define SJ_DISTRIBUTE distribute_s1
#define SJ_BLOCK_GET block_get_s1
#define SJ_BLOCK_SET block_set_s1
#define SJ_WRAP_LOCAL wrap_local_s1
#define SJ_WRAP_BLOCKS wrap_blocks_s1
#define SJ_LOCALPART_GET localpart_get_s1
#define SJ_LOCALPART_RESTORE localpart_restore_s1
#define SJ_T real(c_float)
#define SJ_DIM (:)
#define SJ_RANK 1
#define SJ_DTYPE SJ_FLOAT32
#include "starjets_buffers.inc"
#include "starjets_undef.inc"
#define SJ_GATHER gather_s2
#define SJ_ALLGATHER allgather_s2
#define SJ_SCATTER scatter_s2
#define SJ_DISTRIBUTE distribute_s2
#define SJ_BLOCK_GET block_get_s2
#define SJ_BLOCK_SET block_set_s2
#define SJ_WRAP_LOCAL wrap_local_s2
#define SJ_WRAP_BLOCKS wrap_blocks_s2
#define SJ_LOCALPART_GET localpart_get_s2
#define SJ_LOCALPART_RESTORE localpart_restore_s2
#define SJ_T real(c_float)
#define SJ_DIM (:,:)
#define SJ_RANK 2
#define SJ_DTYPE SJ_FLOAT32
#include "starjets_buffers.inc"
#include "starjets_undef.inc"
#define SJ_GATHER gather_s3
#define SJ_ALLGATHER allgather_s3
#define SJ_SCATTER scatter_s3
#define SJ_DISTRIBUTE distribute_s3
#define SJ_BLOCK_GET block_get_s3
#define SJ_BLOCK_SET block_set_s3
#define SJ_WRAP_LOCAL wrap_local_s3
#define SJ_WRAP_BLOCKS wrap_blocks_s3
#define SJ_LOCALPART_GET localpart_get_s3
#define SJ_LOCALPART_RESTORE localpart_restore_s3
#define SJ_T real(c_float)
#define SJ_DIM (:,:,:)
#define SJ_RANK 3
#define SJ_DTYPE SJ_FLOAT32
#include "starjets_buffers.inc"
#include "starjets_undef.inc"

end module starjets
