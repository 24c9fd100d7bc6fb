# Data I/O, checkpoints and plots (nn/io.hpp, nn/plot.hpp).

find_package(ZLIB REQUIRED)  # nn finds it in its own directory scope; areas configure alone
ag_add_test(test_idx ${CMAKE_CURRENT_SOURCE_DIR}/test_idx.cpp)
target_link_libraries(test_idx PRIVATE ZLIB::ZLIB)  # the test writes gzip files itself
ag_add_test(test_idx_training ${CMAKE_CURRENT_SOURCE_DIR}/test_idx_training.cpp)
ag_add_test(test_safetensors ${CMAKE_CURRENT_SOURCE_DIR}/test_safetensors.cpp)
ag_add_test(test_plot ${CMAKE_CURRENT_SOURCE_DIR}/test_plot.cpp)

# test_safetensors writes safetensors_fixture.safetensors; Python (json + numpy, then torch)
# reads it per the published format and checks every value. Exit 77 = torch missing: skipped.
set_tests_properties(test_safetensors PROPERTIES FIXTURES_SETUP safetensors_fixture)
add_test(NAME safetensors_python_check
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tools/safetensors_check.py --check-fixture
          ${CMAKE_CURRENT_BINARY_DIR}/safetensors_fixture.safetensors)
set_tests_properties(safetensors_python_check PROPERTIES
  FIXTURES_REQUIRED safetensors_fixture SKIP_RETURN_CODE 77)

# Fuzz targets (tests/fuzz.cmake, run by tools/ci/fuzz.sh) replayed over their corpora here, so
# that every corpus file is exercised by CTest.
foreach(format idx safetensors)
  add_executable(fuzz_${format}_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_${format}.cpp
                                       ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_replay_main.cpp)
  target_link_libraries(fuzz_${format}_replay PRIVATE autograd::autograd autograd::nn)
  add_test(NAME fuzz_${format}_replay
    COMMAND fuzz_${format}_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus_${format})
endforeach()

# The example end to end, on 3,000 training images: a run of 2 epochs, and a run of 1 epoch
# resumed for a second, must write byte-identical checkpoints (parameters, Adam state, metadata).
if(AG_BUILD_EXAMPLES)
  set(fm_dir ${CMAKE_CURRENT_BINARY_DIR}/fashion_mnist_resume)
  set(fm_args --subset 3000 --no-plots --threads 2)
  add_test(NAME fashion_mnist_straight COMMAND fashion_mnist ${fm_args} --epochs 2 --out ${fm_dir}/straight)
  add_test(NAME fashion_mnist_stop COMMAND fashion_mnist ${fm_args} --epochs 1 --out ${fm_dir}/resumed)
  add_test(NAME fashion_mnist_resume COMMAND fashion_mnist ${fm_args} --epochs 2 --out ${fm_dir}/resumed
                                             --resume ${fm_dir}/resumed/checkpoint.safetensors)
  add_test(NAME fashion_mnist_resume_equal COMMAND ${CMAKE_COMMAND} -E compare_files
           ${fm_dir}/straight/checkpoint.safetensors ${fm_dir}/resumed/checkpoint.safetensors)
  set_tests_properties(fashion_mnist_straight PROPERTIES FIXTURES_SETUP fm_straight)
  set_tests_properties(fashion_mnist_stop PROPERTIES FIXTURES_SETUP fm_stopped)
  set_tests_properties(fashion_mnist_resume PROPERTIES FIXTURES_REQUIRED fm_stopped FIXTURES_SETUP fm_resumed)
  set_tests_properties(fashion_mnist_resume_equal PROPERTIES FIXTURES_REQUIRED "fm_straight;fm_resumed")
endif()
