# docs/fortran.md's promise to a Fortran user of the installed library: after
# "cmake --install <build> --prefix DIR", an outside Fortran program builds
# (1) with CMake through find_package(starjets) and target
#     starjets::starjets_fortran, and
# (2) with "mpifort app.f90 $(pkg-config --cflags --libs starjets-fortran)",
# and both run on 2 ranks without LD_LIBRARY_PATH. Run by ctest as
#   cmake -DBUILD=... -DPREFIX=... -DLIBDIR=lib -DSOURCE_DIR=.../outside -DFC=mpifort
#         -DPKG_CONFIG=... -DSTARPU_PC_DIR=... -DMPIEXEC=... "-DMPIEXEC_ARGS=..."
#         -DCMAKE_EXE=cmake [-DSANITIZE=address,undefined] -P install.cmake
foreach(var BUILD PREFIX LIBDIR SOURCE_DIR FC PKG_CONFIG MPIEXEC CMAKE_EXE)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "fortran_install: -D${var}= is missing")
    endif()
endforeach()

file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_EXE}" --install "${BUILD}" --prefix "${PREFIX}/usr"
    OUTPUT_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "fortran_install: cmake --install failed (${rc})")
endif()
unset(ENV{LD_LIBRARY_PATH})
set(ENV{PKG_CONFIG_PATH} "${PREFIX}/usr/${LIBDIR}/pkgconfig")
if(STARPU_PC_DIR)
    set(ENV{PKG_CONFIG_PATH} "${PREFIX}/usr/${LIBDIR}/pkgconfig:${STARPU_PC_DIR}")
endif()
separate_arguments(mpiexec_args UNIX_COMMAND "${MPIEXEC_ARGS}")
set(extra "")
if(SANITIZE)
    set(extra "-fsanitize=${SANITIZE}") # the library's sanitizer runtime, first
endif()

function(run_app app how)
    execute_process(COMMAND "${MPIEXEC}" ${mpiexec_args} "${app}"
        OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
    message(STATUS "${how}: output:\n${out}${err}")
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "fortran_install: the program built ${how} failed to run (${rc})")
    endif()
    foreach(r 0 1)
        if(NOT out MATCHES "rank ${r} of 2: sum 210.0 ok")
            message(FATAL_ERROR "fortran_install: ${how}: rank ${r} did not print its result")
        endif()
    endforeach()
endfunction()

# (1) CMake: find_package(starjets)
execute_process(COMMAND "${CMAKE_EXE}" -S "${SOURCE_DIR}" -B "${PREFIX}/outside"
    "-DCMAKE_PREFIX_PATH=${PREFIX}/usr" "-DCMAKE_EXE_LINKER_FLAGS=${extra}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "fortran_install: configuring the outside project failed:\n${out}${err}")
endif()
execute_process(COMMAND "${CMAKE_EXE}" --build "${PREFIX}/outside"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "fortran_install: building the outside project failed:\n${out}${err}")
endif()
run_app("${PREFIX}/outside/app" "with find_package(starjets)")

# (2) pkg-config
execute_process(COMMAND "${PKG_CONFIG}" --cflags --libs starjets-fortran
    OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "fortran_install: pkg-config --cflags --libs starjets-fortran failed (${rc})")
endif()
message(STATUS "pkg-config --cflags --libs starjets-fortran: ${flags}")
separate_arguments(flags UNIX_COMMAND "${flags}")
execute_process(COMMAND "${FC}" ${extra} "${SOURCE_DIR}/app.f90" ${flags} -o "${PREFIX}/app_pc"
    WORKING_DIRECTORY "${PREFIX}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "fortran_install: ${FC} failed to build app.f90 with pkg-config (${rc})")
endif()
run_app("${PREFIX}/app_pc" "with pkg-config")
file(REMOVE_RECURSE "${PREFIX}")
