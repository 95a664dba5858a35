# Shared by tests/ and examples/: how to start a program on N MPI ranks here.

# Open MPI refuses to run as root and to start more ranks than cores unless told;
# its default binding pins every rank's StarPU workers to the same core.
set(SJ_MPIEXEC_FLAGS "")
execute_process(COMMAND "${MPIEXEC_EXECUTABLE}" --version
    OUTPUT_VARIABLE _sj_mpiexec_version ERROR_QUIET)
if(_sj_mpiexec_version MATCHES "Open MPI|OpenRTE")
    list(APPEND SJ_MPIEXEC_FLAGS --oversubscribe --bind-to none)
    execute_process(COMMAND id -u OUTPUT_VARIABLE _sj_uid OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(_sj_uid STREQUAL "0")
        list(APPEND SJ_MPIEXEC_FLAGS --allow-run-as-root)
    endif()
endif()
unset(_sj_mpiexec_version)
unset(_sj_uid)

set(SJ_MPI_TEST_ENVIRONMENT
    STARPU_SILENT=1
    OMPI_MCA_rmaps_base_oversubscribe=1
    CMOCKA_MESSAGE_OUTPUT=stdout
    # OpenBLAS threads inside StarPU tasks would oversubscribe 2 cores further.
    OPENBLAS_NUM_THREADS=1)

# Reads "// <tag>: key=value key=value" from a source file into <prefix>_<key>.
# nprocs takes commas (1,2,4); args is split like a shell command line.
function(sj_read_file_directives file tag prefix)
    file(STRINGS "${file}" lines REGEX "^[ \t]*//[ \t]*${tag}:")
    set(nprocs "")
    set(args "")
    foreach(line IN LISTS lines)
        string(REGEX REPLACE "^[ \t]*//[ \t]*${tag}:[ \t]*" "" line "${line}")
        if(line MATCHES "nprocs=([0-9,]+)")
            string(REPLACE "," ";" nprocs "${CMAKE_MATCH_1}")
        endif()
        if(line MATCHES "args=(.*)$")
            separate_arguments(args UNIX_COMMAND "${CMAKE_MATCH_1}")
        endif()
    endforeach()
    set(${prefix}_nprocs "${nprocs}" PARENT_SCOPE)
    set(${prefix}_args "${args}" PARENT_SCOPE)
endfunction()

# sj_add_mpi_run(<ctest name> <target> <nprocs> TIMEOUT <s> LABELS ... ARGS ...)
function(sj_add_mpi_run name target np)
    cmake_parse_arguments(PARSE_ARGV 3 R "" "TIMEOUT" "LABELS;ARGS")
    math(EXPR timeout "${R_TIMEOUT} * ${SJ_TEST_TIMEOUT_FACTOR}")
    add_test(NAME ${name}
        COMMAND "${MPIEXEC_EXECUTABLE}" ${MPIEXEC_NUMPROC_FLAG} ${np} ${SJ_MPIEXEC_FLAGS}
            ${MPIEXEC_PREFLAGS} ${SJ_TEST_LAUNCHER} "$<TARGET_FILE:${target}>"
            ${MPIEXEC_POSTFLAGS} ${R_ARGS})
    set_tests_properties(${name} PROPERTIES
        LABELS "${R_LABELS};np${np}"
        ENVIRONMENT "${SJ_MPI_TEST_ENVIRONMENT}"
        SKIP_RETURN_CODE 77
        TIMEOUT ${timeout}
        # Makes "ctest -jN" count ranks as cores: never more ranks than N at once.
        PROCESSORS ${np})
endfunction()
