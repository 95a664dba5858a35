# Checkpoint and restart (issue 17; docs/reliability.md), included by tests/CMakeLists.txt.
# tests/test_io.c itself is globbed there (io_np1 .. io_np4).

# Both of Open MPI's MPI-IO components: test_io on 3 ranks with each.
foreach(component ompio romio321)
    sj_add_mpi_run(io_${component}_np3 test_io 3 TIMEOUT 300 LABELS mpi io)
    set_property(TEST io_${component}_np3 APPEND PROPERTY ENVIRONMENT OMPI_MCA_io=${component})
endforeach()

# Across rank counts: saved on 3 ranks block-cyclic, loaded on 2 (and 4) with
# irregular cuts; NumPy reads the same file with docs/reliability.md's one-liner.
add_executable(io_cross io_cross.c)
target_link_libraries(io_cross PRIVATE starjets::starjets)
set(io_cross_file "${CMAKE_CURRENT_BINARY_DIR}/io_cross.sjarr")
sj_add_mpi_run(io_cross_save_np3 io_cross 3 TIMEOUT 120 LABELS io ARGS save "${io_cross_file}")
set_tests_properties(io_cross_save_np3 PROPERTIES FIXTURES_SETUP io_cross_file)
foreach(np 2 4)
    sj_add_mpi_run(io_cross_load_np${np} io_cross ${np} TIMEOUT 120 LABELS io
        ARGS load "${io_cross_file}")
    set_tests_properties(io_cross_load_np${np} PROPERTIES FIXTURES_REQUIRED io_cross_file)
endforeach()

if(Python3_Interpreter_FOUND)
    add_test(NAME io_numpy COMMAND Python3::Interpreter "${CMAKE_CURRENT_SOURCE_DIR}/io_numpy.py"
        "${io_cross_file}")
    set_tests_properties(io_numpy PROPERTIES LABELS io FIXTURES_REQUIRED io_cross_file
        SKIP_RETURN_CODE 77 TIMEOUT 60)

    # kill -9 of a whole run (mpiexec and its ranks) in the middle of a save of
    # 64 MiB on 3 ranks; the checkpoint left must load bit for bit on 2.
    add_executable(io_crash io_crash.c)
    target_link_libraries(io_crash PRIVATE starjets::starjets)
    string(JOIN " " io_mpiexec3 "${MPIEXEC_EXECUTABLE}" ${MPIEXEC_NUMPROC_FLAG} 3 ${SJ_MPIEXEC_FLAGS}
        ${MPIEXEC_PREFLAGS} ${SJ_TEST_LAUNCHER})
    string(JOIN " " io_mpiexec2 "${MPIEXEC_EXECUTABLE}" ${MPIEXEC_NUMPROC_FLAG} 2 ${SJ_MPIEXEC_FLAGS}
        ${MPIEXEC_PREFLAGS} ${SJ_TEST_LAUNCHER})
    add_test(NAME io_crash COMMAND Python3::Interpreter "${CMAKE_CURRENT_SOURCE_DIR}/io_crash.py"
        --mpiexec "${io_mpiexec3}" --check-mpiexec "${io_mpiexec2}"
        --program "$<TARGET_FILE:io_crash>" --path "${CMAKE_CURRENT_BINARY_DIR}/io_crash.sjarr")
    math(EXPR io_crash_timeout "600 * ${SJ_TEST_TIMEOUT_FACTOR}")
    set_tests_properties(io_crash PROPERTIES LABELS "io;mpi" ENVIRONMENT "${SJ_MPI_TEST_ENVIRONMENT}"
        TIMEOUT ${io_crash_timeout} PROCESSORS 3)
endif()

# The file reader under libFuzzer for 25 s (clang; skipped with 77 without it),
# and the committed corpus replayed by a plain build of the same target.
add_executable(fuzz_io_replay fuzz/fuzz_io.c "${PROJECT_SOURCE_DIR}/src/io/format.c")
target_include_directories(fuzz_io_replay PRIVATE "${PROJECT_SOURCE_DIR}/src")
file(GLOB io_corpus "${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/*")
add_test(NAME fuzz_io_corpus COMMAND fuzz_io_replay ${io_corpus})
add_test(NAME fuzz_io COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run-fuzz" "${PROJECT_SOURCE_DIR}"
    "${CMAKE_CURRENT_BINARY_DIR}" 25)
set_tests_properties(fuzz_io_corpus fuzz_io PROPERTIES LABELS fuzz TIMEOUT 120)
set_tests_properties(fuzz_io PROPERTIES SKIP_RETURN_CODE 77)

# examples/heat_restart.c across rank counts: 60 steps straight on 2 ranks;
# stopped after step 37 on 3 ranks (checkpoints every 10); restarted on 2 ranks
# from step 30: its last plate must have the bits of the straight run's.
if(SJ_ENABLE_EXAMPLES)
    set(hr "${CMAKE_CURRENT_BINARY_DIR}/heat_restart")
    sj_add_mpi_run(heat_restart_straight_np2 heat_restart 2 TIMEOUT 120 LABELS io example
        ARGS --small --checkpoint "${hr}.straight.sjarr" --final "${hr}.final.sjarr")
    sj_add_mpi_run(heat_restart_stop_np3 heat_restart 3 TIMEOUT 120 LABELS io example
        ARGS --small --checkpoint "${hr}.sjarr" --stop-at 37)
    sj_add_mpi_run(heat_restart_resume_np2 heat_restart 2 TIMEOUT 120 LABELS io example
        ARGS --small --checkpoint "${hr}.sjarr" --restart --compare "${hr}.final.sjarr")
    set_tests_properties(heat_restart_straight_np2 PROPERTIES FIXTURES_SETUP heat_straight)
    set_tests_properties(heat_restart_stop_np3 PROPERTIES FIXTURES_SETUP heat_stopped)
    set_tests_properties(heat_restart_resume_np2 PROPERTIES
        FIXTURES_REQUIRED "heat_straight;heat_stopped"
        PASS_REGULAR_EXPRESSION "restarting from step 30 .*has the bits of")
endif()
