# The callgrind driver (count.cpp), shared by this folder's report target and the CTest test in
# tests/zero_overhead, which must build it even when the benchmarks are off.
include_guard(GLOBAL)

add_executable(zero_overhead_count ${CMAKE_CURRENT_LIST_DIR}/count.cpp)
target_link_libraries(zero_overhead_count PRIVATE alloy::alloy)
alloy_project_settings(zero_overhead_count)
# Counted as released, whatever the build type: -O2 (the code docs/zero-overhead.md shows) and
# NDEBUG (without it the heaps call valgrind's memcheck hooks, policy/detail/sanitizer.hpp).
target_compile_options(zero_overhead_count PRIVATE -O2)
target_compile_definitions(zero_overhead_count PRIVATE NDEBUG)
