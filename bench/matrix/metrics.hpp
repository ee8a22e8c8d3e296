// What the matrix measures per cell, and the two instruments it measures with: a per-operation
// timer for tail latency and a memory probe for peak footprint. Both come in a zero-cost form
// (no_timer, no_probe) that the timed loop uses, so measuring never slows what is measured.
#pragma once
#include <algorithm>
#include <boost/hana/define_struct.hpp>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#  include <x86intrin.h>
#endif

namespace alloy::bench {

inline constexpr double not_measured = std::numeric_limits<double>::quiet_NaN();

/// One cell's figures besides the time per pair (which Google Benchmark measures itself).
/// Reflected with Boost.Hana: the runner writes every field as a counter, so a new field
/// reaches the JSON and the report without a hand-kept list. NaN: not measured here.
struct cell_metrics {
  BOOST_HANA_DEFINE_STRUCT(cell_metrics,
                           (double, pairs),                   // allocate+free pairs per iteration
                           (double, p99_ns),                  // 99th percentile of single operations
                           (double, max_ns),                  // slowest single operation
                           (double, peak_reserved_bytes),     // taken from the system at the peak
                           (double, peak_live_bytes),         // requested bytes live at the peak
                           (double, memory_ratio),            // peak_reserved / peak_live
                           (double, external_fragmentation),  // 1 - largest free / free (Alloy cells)
                           (double, largest_free_block),      // after the fragmenting pattern
                           (double, memory_rounds));          // rounds the memory figures cover
  static cell_metrics none() {
    return {not_measured, not_measured, not_measured, not_measured, not_measured,
            not_measured, not_measured, not_measured, not_measured};
  }
};

// ---- time ------------------------------------------------------------------------------------

inline std::uint64_t ticks() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

/// Ticks per nanosecond, calibrated once against the steady clock (20 ms).
inline double ticks_per_ns() {
  static const double value = [] {
    const auto t0 = std::chrono::steady_clock::now();
    const std::uint64_t c0 = ticks();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(20)) {
    }
    const std::uint64_t c1 = ticks();
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    return static_cast<double>(c1 - c0) / static_cast<double>(ns);
  }();
  return value;
}

/// The timed loop's timer: nothing at all.
struct no_timer {
  static constexpr std::uint64_t start() noexcept { return 0; }
  static constexpr void stop(std::uint64_t) noexcept {}
};

/// Times every single operation (allocate or free) of one pass; the figures include the
/// cost of reading the time stamp counter (~10-20 ns, the same for every cell).
class op_timer {
 public:
  explicit op_timer(std::size_t expected) { samples_.reserve(expected); }
  std::uint64_t start() noexcept {
    asm volatile("" ::: "memory");
    return ticks();
  }
  void stop(std::uint64_t t0) noexcept {
    const std::uint64_t t1 = ticks();
    asm volatile("" ::: "memory");
    if (samples_.size() < samples_.capacity()) samples_.push_back(t1 - t0);
  }
  double percentile_ns(double q) {
    if (samples_.empty()) return not_measured;
    const auto k = static_cast<std::size_t>(q * static_cast<double>(samples_.size() - 1));
    std::nth_element(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(k), samples_.end());
    return static_cast<double>(samples_[k]) / ticks_per_ns();
  }
  double max_ns() const {
    return samples_.empty() ? not_measured
                            : static_cast<double>(*std::max_element(samples_.begin(), samples_.end())) / ticks_per_ns();
  }

 private:
  std::vector<std::uint64_t> samples_;
};

// ---- memory ----------------------------------------------------------------------------------

/// The timed loop's probe: nothing at all.
struct no_probe {
  static constexpr void on_allocate(void*, std::size_t) noexcept {}
  static constexpr void on_deallocate(std::size_t) noexcept {}
  static constexpr void sample() noexcept {}
};

/// Follows the live requested bytes (the same for every cell: the workload's own figure) and
/// samples the footprint of the heap under test. Heaps that keep their own high-water mark
/// (Alloy cells composed with P::stats) are read once at the end; the others are sampled every
/// 256 allocations and wherever the workload reaches a peak.
template <class MemoryHeap>
class memory_probe {
 public:
  explicit memory_probe(MemoryHeap& heap) : heap_(heap), base_(heap.reserved_now()) {}

  void on_allocate(void* p, std::size_t size) noexcept {
    if (p == nullptr) [[unlikely]] {
      ++failures_;
      return;
    }
    live_ += size;
    peak_live_ = std::max(peak_live_, live_);
    if ((++count_ & 255) == 0) sample();
  }
  void on_deallocate(std::size_t size) noexcept { live_ -= size; }
  void sample() noexcept {
    if constexpr (!MemoryHeap::keeps_peak) {
      const std::size_t now = heap_.reserved_now();
      peak_reserved_ = std::max(peak_reserved_, now > base_ ? now - base_ : 0);
    }
  }

  /// The workload made its fragmenting pattern: heaps that report their free blocks say how
  /// fragmented they are now and the largest request those blocks could still serve.
  void checkpoint() noexcept {
    if constexpr (requires { heap_.snapshot(); }) {
      const auto s = heap_.snapshot();
      external_fragmentation_ = s.external_fragmentation();
      largest_free_block_ = static_cast<double>(s.largest_free_block);
    }
  }
  double external_fragmentation() const noexcept { return external_fragmentation_; }
  double largest_free_block() const noexcept { return largest_free_block_; }

  std::size_t failures() const noexcept { return failures_; }
  std::size_t peak_live() const noexcept { return peak_live_; }
  std::size_t peak_reserved() const noexcept {
    if constexpr (MemoryHeap::keeps_peak) {
      return heap_.peak_reserved();
    } else {
      return peak_reserved_;
    }
  }

 private:
  MemoryHeap& heap_;
  std::size_t base_;
  std::size_t live_ = 0, peak_live_ = 0, peak_reserved_ = 0, count_ = 0, failures_ = 0;
  double external_fragmentation_ = not_measured, largest_free_block_ = not_measured;
};

}  // namespace alloy::bench
