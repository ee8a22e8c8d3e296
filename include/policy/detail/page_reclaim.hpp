// What a heap needs to give memory back while it lives (the reclaim axis, policy/reclaim.hpp):
// the tuning it reads from its Config, a cheap clock for the delay, and the one system call.
//
// The heap reads `Config::reclaim` through `reclaim_tuning<Config>`: a Config without one (a
// concept probe's heap_config) reclaims nothing, so every heap compiles the same either way and
// `if constexpr (reclaim_tuning<Config>::enabled)` removes every byte and instruction of it
// under no_reclaim.
#pragma once
#include <sys/mman.h>
#include <time.h>

#include <cstddef>
#include <cstdint>

#include "math.hpp"

namespace alloy::detail {

/// How freed pages go back to the kernel. `dontneed`: at once, RSS drops by them (what a user
/// watching `top` expects); `free`: lazily, only under memory pressure, cheaper when the pages
/// are used again soon, but RSS keeps counting them (mimalloc #776, snmalloc #846).
enum class reclaim_advice { dontneed, free };

/// The reclaim tuning a heap built from `Config` follows: none unless the Config names one.
struct reclaim_off {
  static constexpr bool enabled = false;
  static constexpr std::uint32_t delay_ms = 0;
  static constexpr std::size_t work_per_call = 0;
  static constexpr reclaim_advice advice = reclaim_advice::dontneed;
};
template <class Config>
struct reclaim_tuning_of {
  using type = reclaim_off;
};
template <class Config>
  requires requires { typename Config::reclaim; }
struct reclaim_tuning_of<Config> {
  using type = typename Config::reclaim;
};
template <class Config>
using reclaim_tuning = typename reclaim_tuning_of<Config>::type;

inline constexpr std::size_t reclaim_page = 4096;  // the x86-64 / AArch64-4K page

/// Milliseconds of a monotonic clock, read through the vDSO (no system call, ~20 ns): only on
/// slow paths, and only on one in eight of them (class_reclaim::advance_clock).
inline std::uint64_t monotonic_ms() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000000u;
}

/// Gives the pages of [p, p + bytes) back to the kernel, which must be page-aligned; their
/// contents read as zeros (dontneed) or as zeros or the old bytes (free) afterwards.
inline void decommit_pages(void* p, std::size_t bytes, reclaim_advice advice) noexcept {
  ::madvise(p, bytes, advice == reclaim_advice::free ? MADV_FREE : MADV_DONTNEED);
}

/// The inner, page-aligned part of [first, end): the pages wholly inside it (empty if none).
struct page_span {
  std::uintptr_t begin = 0;
  std::uintptr_t end = 0;
  std::size_t bytes() const noexcept { return end > begin ? end - begin : 0; }
};
inline page_span inner_pages(std::uintptr_t first, std::uintptr_t end) noexcept {
  return {align_up(first, reclaim_page), align_down(end, reclaim_page)};
}

/// What a heap counts of its reclaiming, for metrics() (and so the stats layer).
struct reclaim_counters {
  std::size_t decommitted_bytes = 0;  ///< pages of its chunks given back with madvise, not yet used again
  std::size_t reclaims = 0;           ///< madvise calls and whole chunks given back to the source
};

}  // namespace alloy::detail
