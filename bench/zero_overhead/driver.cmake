# The callgrind driver (count.cpp), shared by this folder's report target and the CTest test in
# tests/zero_overhead, which must build it even when the benchmarks are off.
include_guard(GLOBAL)

add_executable(zero_overhead_count ${CMAKE_CURRENT_LIST_DIR}/count.cpp)
target_link_libraries(zero_overhead_count PRIVATE alloy::alloy)
alloy_project_settings(zero_overhead_count)
# Counted at -O2 whatever the build type: the figures and docs/zero-overhead.md are -O2 code.
target_compile_options(zero_overhead_count PRIVATE -O2)
