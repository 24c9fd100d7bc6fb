# The agrad Python module's tests: pytest over the whole Python surface, run with the
# interpreter the module was built for, importing the build tree (<build>/python).
if(TARGET agrad_core)
  set(ag_python_env "PYTHONPATH=$<TARGET_FILE_DIR:agrad_core>/..;AG_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  add_test(NAME python_pytest
    COMMAND ${Python_EXECUTABLE} -m pytest -q -p no:cacheprovider ${PROJECT_SOURCE_DIR}/python/tests)
  set_tests_properties(python_pytest PROPERTIES ENVIRONMENT "${ag_python_env}" LABELS python TIMEOUT 300)
endif()

# The notebooks of examples/notebooks, executed headless: any error or changed number (their
# assert cells) fails the test. The "agrad" kernel runs the same interpreter with the build
# tree on its path; the executed copies are written to <build>/notebooks.
if(TARGET agrad_core)
  execute_process(COMMAND ${Python_EXECUTABLE} -c "import nbconvert, ipykernel"
    RESULT_VARIABLE ag_no_jupyter OUTPUT_QUIET ERROR_QUIET)
  if(ag_no_jupyter)
    message(STATUS "nbconvert or ipykernel missing for ${Python_EXECUTABLE}: notebook tests skipped")
  else()
    set(ag_jupyter_dir ${CMAKE_BINARY_DIR}/python/jupyter)
    file(GENERATE OUTPUT ${ag_jupyter_dir}/kernels/agrad/kernel.json CONTENT
"{
  \"argv\": [\"${Python_EXECUTABLE}\", \"-m\", \"ipykernel_launcher\", \"-f\", \"{connection_file}\"],
  \"display_name\": \"agrad (build tree)\",
  \"language\": \"python\",
  \"env\": {\"PYTHONPATH\": \"$<TARGET_FILE_DIR:agrad_core>/..\"}
}
")
    file(GLOB ag_notebooks CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/examples/notebooks/*.ipynb)
    foreach(notebook ${ag_notebooks})
      get_filename_component(name ${notebook} NAME_WE)
      add_test(NAME notebook_${name}
        COMMAND ${Python_EXECUTABLE} -m nbconvert --to notebook --execute
          --ExecutePreprocessor.kernel_name=agrad --ExecutePreprocessor.timeout=120
          --output-dir ${CMAKE_BINARY_DIR}/notebooks ${notebook})
      set_tests_properties(notebook_${name} PROPERTIES
        ENVIRONMENT "JUPYTER_PATH=${ag_jupyter_dir};JUPYTER_RUNTIME_DIR=${ag_jupyter_dir}/runtime;IPYTHONDIR=${ag_jupyter_dir}/ipython"
        LABELS "python;notebooks" TIMEOUT 180
        # The kernel's ports are chosen free by nbconvert, then bound by the kernel: two notebooks
        # starting at once can pick the same port (ZMQError: Address already in use).
        RESOURCE_LOCK jupyter_kernel_ports)
    endforeach()
  endif()
endif()

# tools/bench/python_bench.py at smoke size: every engine's numbers agree (no timing claims).
if(TARGET agrad_core)
  add_test(NAME python_bench_smoke COMMAND ${Python_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tools/bench/python_bench.py --quick)
  set_tests_properties(python_bench_smoke PROPERTIES ENVIRONMENT "${ag_python_env}" LABELS "python;bench" TIMEOUT 300)
endif()
