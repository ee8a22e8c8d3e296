# Settings for Alloy's own targets (tests, benchmarks, examples), never for consumers:
# warnings as errors, and the sanitizers chosen with ALLOY_SANITIZE.

function(alloy_project_settings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror)
  if(ALLOY_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${ALLOY_SANITIZE} -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${ALLOY_SANITIZE})
  endif()
endfunction()

# alloy_add_test(NAME SOURCES... [LABELS l...] [THREADED]): a Catch2 test registered with CTest.
# A TSan build (ALLOY_SANITIZE=thread) builds only the tests labelled `threading`, the ones it is for.
function(alloy_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LABELS;LIBRARIES" ${ARGN})
  if(ALLOY_SANITIZE STREQUAL "thread" AND NOT "threading" IN_LIST ARG_LABELS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE alloy::alloy Catch2::Catch2WithMain ${ARG_LIBRARIES})
  alloy_project_settings(${name})
  add_test(NAME ${name} COMMAND ${name})
  if(ARG_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()

# alloy_add_benchmark(NAME SOURCES... [LIBRARIES l...] [SMOKE args...] [LABELS l...]):
# a benchmark program built with the project's settings, and — in a test build without
# sanitizers — a smoke run of it registered with CTest (label `bench` plus LABELS), so every
# benchmark is known to run. SMOKE gives the smoke run's arguments (default: a 1 ms minimum time).
function(alloy_add_benchmark name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES;SMOKE;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBRARIES})
  alloy_project_settings(${name})
  if(NOT ARG_SMOKE)
    set(ARG_SMOKE --benchmark_min_time=0.001)
  endif()
  if(ALLOY_BUILD_TESTS AND NOT ALLOY_SANITIZE)
    add_test(NAME ${name}.smoke COMMAND ${name} ${ARG_SMOKE})
    set_tests_properties(${name}.smoke PROPERTIES LABELS "bench;${ARG_LABELS}")
  endif()
endfunction()
