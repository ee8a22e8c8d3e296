// reclaim: free memory goes back to the system while the heap lives.
//
//   segregated fit   a class's free blocks are tallied per page of their chunks; a page that
//                    holds only free blocks is decommitted (madvise) and its blocks set aside
//                    until the class needs them again; a chunk whose blocks are all free goes
//                    back to the source whole
//   tlsf, first/best/next fit
//                    the pages inside a free block (past its tag and links) are decommitted;
//                    the spare chunk goes back on trim()
//   direct large blocks (segregated_fit's default) already go back on free
//
// When: only on slow paths — a class refill, a large allocation or free, a thread cache's
// refill or flush — and only for a class that has gone `DelayMs` without running out of free
// blocks, so a program that frees and allocates again at once makes no system call. Each such
// call visits at most `WorkPerCall` blocks or pages (a sweep of a large class spans calls).
// `trim()` (malloc_trim in the preload library) does everything at once, delay or not.
//
// Advice: `page_advice::dontneed` (the default) drops the pages at once, so resident memory
// falls; `page_advice::free` lets the kernel take them only under memory pressure (cheaper to
// reuse, but RSS still counts them until then).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "concept.hpp"

namespace alloy::policy {

/// How freed pages are given back: `page_advice::dontneed` or `page_advice::free`.
using page_advice = detail::reclaim_advice;

struct reclaim {
  using axis = alloy::axis::reclaim;

  template <std::uint32_t DelayMs, std::size_t WorkPerCall = 4096, page_advice Advice = page_advice::dontneed>
  struct with {
    static_assert(WorkPerCall >= 1, "reclaim::with<DelayMs, WorkPerCall, Advice>: WorkPerCall must be at least 1");
    using axis = alloy::axis::reclaim;
    static constexpr bool enabled = true;
    static constexpr std::uint32_t delay_ms = DelayMs;
    static constexpr std::size_t work_per_call = WorkPerCall;
    static constexpr page_advice advice = Advice;
    static std::string name() {
      if constexpr (DelayMs == default_delay_ms && WorkPerCall == 4096 && Advice == page_advice::dontneed) return "reclaim";
      else
        return "reclaim::with<" + std::to_string(DelayMs) + ", " + std::to_string(WorkPerCall) + ", " +
               (Advice == page_advice::dontneed ? "page_advice::dontneed" : "page_advice::free") + ">";
    }
  };

  /// A class must go this long without running out of free blocks before its pages go back.
  static constexpr std::uint32_t default_delay_ms = 100;
  /// The untuned spelling is the tuned form with the default arguments (one design, one type).
  using tuned = with<default_delay_ms>;
  static constexpr bool enabled = tuned::enabled;
  static constexpr std::uint32_t delay_ms = tuned::delay_ms;
  static constexpr std::size_t work_per_call = tuned::work_per_call;
  static constexpr page_advice advice = tuned::advice;
  static std::string name() { return tuned::name(); }
};

}  // namespace alloy::policy
