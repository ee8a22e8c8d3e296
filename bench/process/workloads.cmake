# The process benchmark's workload program: an ordinary C program (no Alloy headers) that
# measures whichever malloc is preloaded and checks its own results. Wanted by the benchmark
# driver (bench/process) and by the preload tests (tests/malloc), whichever is configured first.

# The workload names, for one CTest per workload; a test checks them against the program's --list.
set(ALLOY_PROCESS_WORKLOADS own-1 own-2 own-4 own-8 producer-consumer larson large-realloc vector-growth huge-realloc)
include_guard(GLOBAL)
add_executable(bench_process_workloads ${CMAKE_CURRENT_LIST_DIR}/workloads.c)
# Not alloy_project_settings: a sanitizer runtime would fight the preloaded malloc. The
# compiler must not fold malloc/free pairs away: they are what is measured.
target_compile_options(bench_process_workloads PRIVATE -Wall -Wextra -Wpedantic -Werror -fno-builtin-malloc
                                                       -fno-builtin-calloc -fno-builtin-realloc -fno-builtin-free)
set_target_properties(bench_process_workloads PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON)
find_package(Threads REQUIRED)
target_link_libraries(bench_process_workloads PRIVATE Threads::Threads)
