# autograd::dist under MPI: each suite runs as `mpirun -np N` on loopback transports only.
if(AG_WITH_MPI)
  # As root (CI containers) OpenMPI refuses to start without these; harmless otherwise.
  set(AG_MPIRUN ${MPIEXEC_EXECUTABLE} --allow-run-as-root --oversubscribe --bind-to none --mca btl self,vader)

  # A suite like the others (ag_test_settings, the shared main and headers), run under mpirun
  # rather than by ag_add_test's CTest entry.
  add_executable(test_dist test_dist.cpp)
  ag_test_settings(test_dist FALSE)
  target_link_libraries(test_dist PRIVATE autograd::dist ag_test_main)
  target_precompile_headers(test_dist REUSE_FROM ag_test_main)
  foreach(ranks 2 3)
    add_test(NAME test_dist_np${ranks}
      COMMAND ${AG_MPIRUN} -np ${ranks} $<TARGET_FILE:test_dist> --report_level=short)
    set_tests_properties(test_dist_np${ranks} PROPERTIES TIMEOUT 60 LABELS dist)
  endforeach()

  # Faults: the job must end within the timeout, non-zero, with a message naming rank 1.
  add_executable(dist_faults dist_faults.cpp)
  target_link_libraries(dist_faults PRIVATE autograd::dist)
  target_compile_options(dist_faults PRIVATE -Wall -Wextra)
  set(fault_throw "rank 1: [^\n]*rank 1 fails on purpose")
  set(fault_crash "rank 1 with PID [0-9]+ on node [^ ]+ exited on signal 9")
  set(fault_stall "rank 0: [^\n]*waited [0-9]+ s for the all-reduce of gradient bucket 0")
  list(JOIN AG_MPIRUN " " mpirun_line)
  set(fault_terminate "rank 1: uncaught exception: [^\n]*rank 1 terminates on purpose")
  foreach(mode throw crash stall terminate)
    add_test(NAME dist_fault_${mode} COMMAND sh -c
      "${mpirun_line} -np 2 $<TARGET_FILE:dist_faults> ${mode} 2>&1; echo \"job exit status $?\"")
    set_tests_properties(dist_fault_${mode} PROPERTIES TIMEOUT 30 LABELS dist
      PASS_REGULAR_EXPRESSION "${fault_${mode}}.*job exit status [1-9]")
  endforeach()

  # The example, briefly: 1 epoch on 4,000 images with 2 ranks, then resumed for a second
  # epoch in one process from the 2-rank checkpoint.
  if(AG_BUILD_EXAMPLES)
    set(fmddp_args --subset 4000 --out ${CMAKE_CURRENT_BINARY_DIR}/fashion_mnist_ddp)
    add_test(NAME fashion_mnist_ddp_np2
      COMMAND ${AG_MPIRUN} -np 2 $<TARGET_FILE:fashion_mnist_ddp> ${fmddp_args} --epochs 1)
    add_test(NAME fashion_mnist_ddp_resume_np1
      COMMAND ${AG_MPIRUN} -np 1 $<TARGET_FILE:fashion_mnist_ddp> ${fmddp_args} --epochs 2
              --resume ${CMAKE_CURRENT_BINARY_DIR}/fashion_mnist_ddp/checkpoint.safetensors)
    set_tests_properties(fashion_mnist_ddp_np2 PROPERTIES TIMEOUT 60 LABELS dist
      FIXTURES_SETUP fmddp PASS_REGULAR_EXPRESSION
      "^2 ranks, global batch 128 \\(64 per rank\\)[^\n]*\n.*epoch  1: train loss [0-9.]+ acc 0\\.[5-9][^\n]* test loss [0-9.]+ acc 0\\.[6-9]")
    set_tests_properties(fashion_mnist_ddp_resume_np1 PROPERTIES TIMEOUT 60 LABELS dist
      FIXTURES_REQUIRED fmddp PASS_REGULAR_EXPRESSION
      "resumed after epoch 1\n1 ranks[^\n]*\n.*epoch  2: train loss [0-9.]+ acc 0\\.[6-9][^\n]* test loss [0-9.]+ acc 0\\.[7-9]")
  endif()

  # docs/distributed.md shows examples/distributed/ddp_quickstart.cpp: the copy must match,
  # and the program must train.
  add_test(NAME dist_doc_quickstart_copy COMMAND ${CMAKE_COMMAND}
    -DDOC=${PROJECT_SOURCE_DIR}/docs/distributed.md
    -DSOURCE=${PROJECT_SOURCE_DIR}/examples/distributed/ddp_quickstart.cpp
    -P ${CMAKE_CURRENT_SOURCE_DIR}/dist/check_doc_copy.cmake)
  set_tests_properties(dist_doc_quickstart_copy PROPERTIES LABELS dist)
  if(AG_BUILD_EXAMPLES)
    add_test(NAME ddp_quickstart_np2 COMMAND ${AG_MPIRUN} -np 2 $<TARGET_FILE:ddp_quickstart>)
    set_tests_properties(ddp_quickstart_np2 PROPERTIES TIMEOUT 60 LABELS dist
      PASS_REGULAR_EXPRESSION "2 ranks: accuracy 0\\.[7-9]")
  endif()
endif()
