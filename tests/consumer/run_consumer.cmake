# Builds and runs tests/consumer/main.cpp the ways a user would, then runs the installed agexpr.
# Invoked by CTest (tests/consumer.cmake) with SOURCE_DIR, WORK_DIR and MODE:
#   static  install BUILD_DIR (the project's own build) into a fresh prefix; consumer through
#           find_package, then through `pkg-config --static` and a plain compiler command
#   shared  configure AUTOGRAD_SOURCE_DIR with BUILD_SHARED_LIBS=ON, build and install it; the
#           consumer through find_package and through `pkg-config`; no static library installed
#   subdir  the consumer with the sources added by add_subdirectory(AUTOGRAD_SOURCE_DIR)
# CXX_COMPILER and LAUNCHER (optional) are the project's compiler and compiler launcher.
# The shared and subdir modes compile the library again, unoptimised (Debug at -O0, a third of
# the Release compile time) and as a unity build (CMAKE_UNITY_BUILD, batch size 0: all the
# sources of a target in one file, since the -O0 compile is mostly parsing the same headers;
# autograd and nn: 27 CPU s, against 37 in batches of 8): they check how it is found, linked
# and installed; the optimised library is the project's own build. So the sources must also
# build that way: no two of one library may define the same name in an anonymous namespace.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
set(expected "y=-20 dx=46 bias_grad=4")
set(launcher "")
set(unoptimised -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 -DCMAKE_UNITY_BUILD=ON
    -DCMAKE_UNITY_BUILD_BATCH_SIZE=0)
if(LAUNCHER)
  set(launcher "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
endif()

# run(<expected regex or ""> <command...>): runs a command, fails on a non-zero exit status or
# an output that does not match.
function(run expect)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  list(JOIN ARGN " " shown)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer step failed (${rc}): ${shown}\n${out}\n${err}")
  endif()
  if(NOT expect STREQUAL "" AND NOT out MATCHES "${expect}")
    message(FATAL_ERROR "consumer step printed no '${expect}': ${shown}\n${out}\n${err}")
  endif()
  message("${shown}\n${out}")
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

# The consumer through pkg-config alone: one compiler command, flags from the .pc files.
function(build_with_pkg_config static)
  set(env ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${prefix}/lib/pkgconfig)
  run("" ${env} pkg-config ${static} --cflags --libs autograd_nn)
  string(STRIP "${last_output}" flags)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  set(rpath "")
  if(static STREQUAL "")
    set(rpath "-Wl,-rpath,${prefix}/lib")
  endif()
  run("" ${CXX_COMPILER} -std=c++20 -O1 ${SOURCE_DIR}/main.cpp -o ${WORK_DIR}/consumer_pkg_config
      ${flags} ${rpath})
  run("${expected}" ${WORK_DIR}/consumer_pkg_config)
endfunction()

function(build_with_find_package)
  run("" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -DCMAKE_PREFIX_PATH=${prefix}
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX_COMPILER} ${launcher})
  run("" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
  run("${expected}" ${WORK_DIR}/build/consumer)
endfunction()

if(MODE STREQUAL "subdir")
  run("" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -DAUTOGRAD_SOURCE_DIR=${AUTOGRAD_SOURCE_DIR}
      ${unoptimised} -DCMAKE_CXX_COMPILER=${CXX_COMPILER} ${launcher})
  run("" ${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2 --target consumer)
  run("${expected}" ${WORK_DIR}/build/consumer)
  message("consumer (${MODE}): ${expected}")
  return()
endif()

if(MODE STREQUAL "shared")
  run("" ${CMAKE_COMMAND} -S ${AUTOGRAD_SOURCE_DIR} -B ${WORK_DIR}/library -DBUILD_SHARED_LIBS=ON
      -DAG_BUILD_TESTS=OFF -DAG_BUILD_EXAMPLES=OFF -DAG_BUILD_TOOLS=ON -DAG_PYTHON=OFF ${unoptimised}
      -DCMAKE_CXX_COMPILER=${CXX_COMPILER} ${launcher})
  set(libraries autograd nn)
  if(EXISTS ${WORK_DIR}/library/dist)  # autograd::dist, built when MPI was found
    list(APPEND libraries dist)
  endif()
  run("" ${CMAKE_COMMAND} --build ${WORK_DIR}/library -j2 --target ${libraries} agexpr)
  run("" ${CMAKE_COMMAND} --install ${WORK_DIR}/library --prefix ${prefix})
  foreach(lib autograd autograd_nn)
    if(NOT EXISTS ${prefix}/lib/lib${lib}.so OR EXISTS ${prefix}/lib/lib${lib}.a)
      message(FATAL_ERROR "BUILD_SHARED_LIBS=ON installed no lib${lib}.so (or also a .a)")
    endif()
  endforeach()
  build_with_find_package()
  # The consumer really uses the shared libraries.
  run("NEEDED[^\n]*libautograd_nn\\.so.*NEEDED[^\n]*libautograd\\.so|NEEDED[^\n]*libautograd\\.so.*NEEDED[^\n]*libautograd_nn\\.so"
      readelf -d ${WORK_DIR}/build/consumer)
  build_with_pkg_config("")
else()
  run("" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
  build_with_find_package()
  build_with_pkg_config("--static")
  if(EXISTS ${BUILD_DIR}/dist)  # autograd::dist (AG_WITH_MPI): its .pc file is installed and valid
    set(env ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${prefix}/lib/pkgconfig)
    run("" ${env} pkg-config --validate autograd_dist)
    run("-lautograd_dist [^\n]*-lautograd_nn [^\n]*-lautograd " ${env} pkg-config --libs autograd_dist)
    run("libmpi" ${env} pkg-config --static --libs autograd_dist)
  endif()
endif()

# The installed command-line tool runs from the prefix.
run("f = 6\ndf/dx = 3\ndf/dy = 2" ${prefix}/bin/agexpr "x*y" --at x=2,y=3)
message("consumer (${MODE}): ${expected}")
