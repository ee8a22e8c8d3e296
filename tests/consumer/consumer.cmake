# What a user builds with Alloy, the same whether Alloy came from find_package (install/) or
# add_subdirectory (subdir/); each check is a test of this consumer project, run by its ctest.
# The optional parts are there when Alloy offers them: install/ asks find_package for every
# component Alloy's build installs (REQUIRED, so a missing one fails), and a subdirectory offers
# alloy::bench when Google Benchmark is found and the tools when ALLOY_BUILD_TOOLS is on.
enable_testing()
set(here ${CMAKE_CURRENT_LIST_DIR})

# The headers, with the include spelling users write.
add_executable(consumer ${here}/main.cpp)
target_link_libraries(consumer PRIVATE alloy::alloy)
add_test(NAME headers COMMAND consumer)

# The failure-point helper, with no test framework.
add_executable(failure_points ${here}/failure_points.cpp)
target_link_libraries(failure_points PRIVATE alloy::alloy)
add_test(NAME failure_points COMMAND failure_points)

# A malloc library made from the user's own type, preloaded into a program that checks it.
alloy_add_malloc_library(my_malloc TYPE my_heap HEADER ${here}/my_heap.hpp)
add_executable(malloc_probe ${here}/malloc_probe.cpp)
target_link_libraries(malloc_probe PRIVATE ${CMAKE_DL_LIBS})
add_test(NAME malloc_library COMMAND malloc_probe libmy_malloc.so)
set_tests_properties(malloc_library PROPERTIES ENVIRONMENT "LD_PRELOAD=$<TARGET_FILE:my_malloc>")

# A benchmark matrix of the user's own: one workload in smoke mode, both cells must report.
if(TARGET alloy::bench)
  add_executable(user_matrix ${here}/user_matrix.cpp)
  target_link_libraries(user_matrix PRIVATE alloy::bench)
  add_test(NAME user_matrix
           COMMAND bash -c "set -o pipefail; '$<TARGET_FILE:user_matrix>' --smoke --trace none --filter '^pairs_64/' | tee out.txt && grep -q 'segregated_fit' out.txt && grep -q 'tlsf' out.txt")
endif()

# The trace tools: record a program of this project, check the trace, and ask alloy-advise.
if(TARGET alloy::trace)
  set(trace ${CMAKE_CURRENT_BINARY_DIR}/consumer.trace)
  add_test(NAME trace_record COMMAND malloc_probe)
  set_tests_properties(trace_record PROPERTIES ENVIRONMENT "LD_PRELOAD=$<TARGET_FILE:alloy::trace>;ALLOY_TRACE_FILE=${trace}"
                                               FIXTURES_SETUP trace)
  add_test(NAME trace_check COMMAND alloy::trace_dump ${trace})
  set_tests_properties(trace_check PROPERTIES FIXTURES_REQUIRED trace)
endif()
if(TARGET alloy::advise AND TARGET alloy::trace)
  add_test(NAME advise COMMAND alloy::advise ${trace} --smoke)
  set_tests_properties(advise PROPERTIES FIXTURES_REQUIRED trace
                       PASS_REGULAR_EXPRESSION "using fastest_for_trace = alloy::allocator<P::")
endif()
