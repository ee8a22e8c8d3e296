// alloy-trace TRACE [--records]: checks a trace file (tools/trace/trace_format.hpp) and
// prints what it holds: calls by kind, threads, objects, peak live bytes. Exits 1 when the file
// is not a well-formed trace: every object allocated once before it is freed or resized, freed
// at most once, and every reallocate_from followed by its reallocate on the same thread.
#include "trace_format.hpp"

#include <cstdio>
#include <cstring>
#include <vector>

namespace T = alloy::trace;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: alloy-trace TRACE [--records]\n");
    return 2;
  }
  const bool list = argc > 2 && std::strcmp(argv[2], "--records") == 0;
  const auto trace = T::read(argv[1]);
  if (!trace) {
    std::fprintf(stderr, "%s: not a readable Alloy trace (version %u)\n", argv[1], T::version);
    return 1;
  }
  static constexpr const char* names[] = {"", "allocate", "allocate_zeroed", "allocate_aligned", "reallocate_from",
                                          "reallocate", "deallocate"};
  std::size_t by_kind[7] = {};
  std::vector<std::uint64_t> live_size(trace->head.object_count + 1, 0);
  std::vector<char> state(trace->head.object_count + 1, 0);  // 0 never seen, 1 live, 2 gone
  std::uint64_t live = 0, peak = 0;
  const auto& rs = trace->records;
  for (std::size_t i = 0; i < rs.size(); ++i) {
    const T::record& r = rs[i];
    const auto k = static_cast<std::size_t>(r.kind);
    ++by_kind[k];
    if (list)
      std::printf("%zu thread=%u %s object=%u size=%llu align=%llu\n", i, r.thread, names[k], r.object,
                  static_cast<unsigned long long>(r.size), 1ull << r.align_log2);
    const bool allocates = r.kind == T::op::allocate || r.kind == T::op::allocate_zeroed ||
                           r.kind == T::op::allocate_aligned || r.kind == T::op::reallocate;
    const bool resize_pair = r.kind != T::op::reallocate_from ||
                             (i + 1 < rs.size() && rs[i + 1].kind == T::op::reallocate && rs[i + 1].thread == r.thread);
    const bool orphan = r.kind == T::op::reallocate && (i == 0 || rs[i - 1].kind != T::op::reallocate_from);
    if ((allocates ? state[r.object] != 0 : state[r.object] != 1) || !resize_pair || orphan) {
      std::fprintf(stderr, "%s: record %zu (%s of object %u) does not follow from the records before it\n", argv[1],
                   i, names[k], r.object);
      return 1;
    }
    state[r.object] = allocates ? 1 : 2;
    if (allocates) {
      live_size[r.object] = r.size;
      live += r.size;
    } else {
      live -= live_size[r.object];
    }
    if (live > peak) peak = live;
  }
  std::printf("%s: %llu records, %u threads, %llu objects, peak live %llu bytes\n", argv[1],
              static_cast<unsigned long long>(trace->head.record_count), trace->head.thread_count,
              static_cast<unsigned long long>(trace->head.object_count), static_cast<unsigned long long>(peak));
  for (std::size_t k = 1; k < 7; ++k) std::printf("  %-17s %zu\n", names[k], by_kind[k]);
  return 0;
}
