# The agrad Python module's tests: pytest over the whole Python surface, run with the
# interpreter the module was built for, importing the build tree (<build>/python).
if(TARGET agrad_core)
  set(ag_python_env "PYTHONPATH=$<TARGET_FILE_DIR:agrad_core>/..;AG_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  add_test(NAME python_pytest
    COMMAND ${Python_EXECUTABLE} -m pytest -q -p no:cacheprovider ${PROJECT_SOURCE_DIR}/python/tests)
  set_tests_properties(python_pytest PROPERTIES ENVIRONMENT "${ag_python_env}" LABELS python TIMEOUT 300)
endif()
