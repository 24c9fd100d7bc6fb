# ag_gemm_compare runs ag_bench_peak from its own directory without a shell. Copied into a
# directory whose name a shell would split and expand, it still measures the peak; with no
# ag_bench_peak beside it, it refuses to print a table rather than percentages of zero.
# Usage: cmake -DCOMPARE=<ag_gemm_compare> -DPEAK=<ag_bench_peak> -DWORK_DIR=<dir> -P this file
set(dir "${WORK_DIR}/a dir $HOME;`touch shell-ran`")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${dir}")
file(COPY "${COMPARE}" "${PEAK}" DESTINATION "${dir}")
get_filename_component(compare_name "${COMPARE}" NAME)
get_filename_component(peak_name "${PEAK}" NAME)
set(args --threads 1 --rounds 1 --only "spiral L1 fwd")

execute_process(COMMAND "${dir}/${compare_name}" ${args} WORKING_DIRECTORY "${WORK_DIR}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "FMA peak [1-9][0-9]* GFLOP/s")
  message(FATAL_ERROR "from '${dir}': exit ${rc}\n${out}\n${err}")
endif()
if(EXISTS "${WORK_DIR}/shell-ran")
  message(FATAL_ERROR "a shell interpreted the directory's name")
endif()

file(REMOVE "${dir}/${peak_name}")
execute_process(COMMAND "${dir}/${compare_name}" ${args} WORKING_DIRECTORY "${WORK_DIR}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "did not report an FMA peak.*pass --peak")
  message(FATAL_ERROR "without ag_bench_peak: exit ${rc}\n${out}\n${err}")
endif()
message("gemm_compare_peak: measured from an odd path; refused without the peak program")
