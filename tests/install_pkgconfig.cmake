# What README.md promises a user of the installed library: after
# "cmake --install <build> --prefix DIR", a program built with
#   mpicc app.c $(pkg-config --cflags --libs starjets)
# (PKG_CONFIG_PATH=DIR/lib/pkgconfig) starts and runs on 2 ranks, with no
# LD_LIBRARY_PATH. Run by ctest as
#   cmake -DBUILD=... -DPREFIX=... -DLIBDIR=lib -DSOURCE=... -DCC=... -DPKG_CONFIG=...
#         -DSTARPU_PC_DIR=... -DMPIEXEC=... "-DMPIEXEC_ARGS=..." -P install_pkgconfig.cmake
foreach(var BUILD PREFIX LIBDIR SOURCE CC PKG_CONFIG MPIEXEC)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "install_pkgconfig: -D${var}= is missing")
    endif()
endforeach()

file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD}" --prefix "${PREFIX}"
    OUTPUT_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install_pkgconfig: cmake --install failed (${rc})")
endif()

# The user's environment: the installed .pc, and StarPU's where starjets was
# built against a StarPU of its own (its Requires.private are looked up too).
set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${LIBDIR}/pkgconfig")
if(STARPU_PC_DIR)
    set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${LIBDIR}/pkgconfig:${STARPU_PC_DIR}")
endif()
unset(ENV{LD_LIBRARY_PATH})
execute_process(COMMAND "${PKG_CONFIG}" --cflags --libs starjets
    OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install_pkgconfig: pkg-config --cflags --libs starjets failed (${rc})")
endif()
message(STATUS "pkg-config --cflags --libs starjets: ${flags}")
separate_arguments(flags UNIX_COMMAND "${flags}")
set(app "${PREFIX}/pkgconfig_app")
# A sanitizer build's library needs its runtime first in the program (EXTRA_FLAGS).
separate_arguments(extra UNIX_COMMAND "${EXTRA_FLAGS}")
execute_process(COMMAND "${CC}" -std=c11 ${extra} "${SOURCE}" ${flags} -o "${app}"
    RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install_pkgconfig: ${CC} failed to build ${SOURCE} (${rc})")
endif()

separate_arguments(mpiexec_args UNIX_COMMAND "${MPIEXEC_ARGS}")
execute_process(COMMAND "${MPIEXEC}" ${mpiexec_args} "${app}"
    OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
message(STATUS "output:\n${out}${err}")
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install_pkgconfig: the program built with pkg-config failed to run (${rc})")
endif()
foreach(r 0 1)
    if(NOT out MATCHES "rank ${r} of 2: sum 100")
        message(FATAL_ERROR "install_pkgconfig: rank ${r} did not print its sum")
    endif()
endforeach()
file(REMOVE_RECURSE "${PREFIX}")
