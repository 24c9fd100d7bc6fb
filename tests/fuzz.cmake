# libFuzzer targets (tests/fuzz/), built where the libraries carry libFuzzer's coverage: the asan
# preset (clang, -fsanitize=fuzzer-no-link plus AG_SANITIZE's ASan and UBSan). tools/ci/fuzz.sh
# builds and runs them; every other build replays their corpora instead (fuzz_*_replay in the
# graphviz, io and trust areas).
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND CMAKE_CXX_FLAGS MATCHES "fuzzer-no-link")
  set(fuzz_expr_parser_sources fuzz/fuzz_expr_parser.cpp ${PROJECT_SOURCE_DIR}/tools/expr/parser.cpp)
  set(fuzz_idx_sources fuzz/fuzz_idx.cpp)
  set(fuzz_safetensors_sources fuzz/fuzz_safetensors.cpp)
  set(fuzz_tensor_ops_sources fuzz/fuzz_tensor_ops.cpp)
  foreach(target fuzz_expr_parser fuzz_idx fuzz_safetensors fuzz_tensor_ops)
    add_executable(${target} ${${target}_sources})
    target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${target} PRIVATE autograd::autograd autograd::nn)
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
  endforeach()
endif()
