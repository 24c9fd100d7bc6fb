# libFuzzer targets (tests/fuzz/), built where the libraries carry libFuzzer's coverage: the asan
# preset (clang, -fsanitize=fuzzer-no-link plus AG_SANITIZE's ASan and UBSan). tools/ci/fuzz.sh
# builds and runs them; every other build replays their corpora instead (fuzz_*_replay in the
# graphviz, io and trust areas).
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND CMAKE_CXX_FLAGS MATCHES "fuzzer-no-link")
  function(ag_add_fuzz_target name)
    add_executable(${name} ${ARGN})
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} PRIVATE autograd::autograd autograd::nn)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  endfunction()
  ag_add_fuzz_target(fuzz_expr_parser fuzz/fuzz_expr_parser.cpp ${PROJECT_SOURCE_DIR}/tools/expr/parser.cpp)
  ag_add_fuzz_target(fuzz_idx fuzz/fuzz_idx.cpp)
  ag_add_fuzz_target(fuzz_safetensors fuzz/fuzz_safetensors.cpp)
  ag_add_fuzz_target(fuzz_tensor_ops fuzz/fuzz_tensor_ops.cpp)
endif()
