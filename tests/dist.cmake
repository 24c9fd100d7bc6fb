# autograd::dist under MPI: each suite runs as `mpirun -np N` on loopback transports only.
if(AG_WITH_MPI)
  # As root (CI containers) OpenMPI refuses to start without these; harmless otherwise.
  set(AG_MPIRUN ${MPIEXEC_EXECUTABLE} --allow-run-as-root --oversubscribe --mca btl self,vader)

  add_executable(test_dist test_dist.cpp)
  target_link_libraries(test_dist PRIVATE autograd::dist Boost::unit_test_framework)
  target_compile_definitions(test_dist PRIVATE BOOST_TEST_DYN_LINK)
  target_compile_options(test_dist PRIVATE -Wall -Wextra)
  foreach(ranks 2 3)
    add_test(NAME test_dist_np${ranks}
      COMMAND ${AG_MPIRUN} -np ${ranks} $<TARGET_FILE:test_dist> --report_level=short)
    set_tests_properties(test_dist_np${ranks} PROPERTIES TIMEOUT 60 LABELS dist)
  endforeach()
endif()
