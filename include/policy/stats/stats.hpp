// stats: counts every block in and out, and reads the heap's own metrics on demand.
//
// Sizes are counted as granted (the block's usable size), so live_bytes is what the blocks
// really hold; requested_bytes/granted_bytes over all allocations give internal waste.
#pragma once
#include <algorithm>
#include <boost/hana/define_struct.hpp>
#include <string>

#include "concept.hpp"

namespace alloy {

/// One reading of an allocator's counters. Reflected with Boost.Hana, so reports, JSON and
/// tests print every field without a hand-kept list.
struct stats_snapshot {
  BOOST_HANA_DEFINE_STRUCT(stats_snapshot,
                           (std::size_t, live_bytes),           // granted bytes in live blocks
                           (std::size_t, peak_live_bytes),      // high-water mark of live_bytes
                           (std::size_t, reserved_bytes),       // taken from the memory source now
                           (std::size_t, peak_reserved_bytes),  // high-water mark of reserved_bytes
                           (std::size_t, free_bytes),           // in free blocks a request could get
                           (std::size_t, largest_free_block),   // largest request free blocks could serve
                           (std::size_t, allocations),          // successful allocations so far
                           (std::size_t, deallocations),        // deallocations so far
                           (std::size_t, requested_bytes),      // sum of sizes asked, all time
                           (std::size_t, granted_bytes));       // sum of sizes given, all time

  /// 1 - largest_free_block / free_bytes: how much free memory is in pieces too small for the
  /// largest request it could otherwise serve. 0 when nothing is free.
  double external_fragmentation() const noexcept {
    return free_bytes == 0 ? 0.0 : 1.0 - static_cast<double>(largest_free_block) / static_cast<double>(free_bytes);
  }
  /// 1 - requested / granted over all allocations: bytes lost to rounding up to a block size.
  double internal_fragmentation() const noexcept {
    return granted_bytes == 0 ? 0.0 : 1.0 - static_cast<double>(requested_bytes) / static_cast<double>(granted_bytes);
  }
};

namespace detail {

template <class Inner>
class stats_layer : public Inner {
 public:
  using snapshot = stats_snapshot;

  void* allocate(std::size_t size, std::size_t align) noexcept {
    void* p = Inner::allocate(size, align);
    if (p != nullptr) on_allocate(size, Inner::usable_size(p));
    return p;
  }
  void deallocate(void* p, std::size_t size, std::size_t align) noexcept {
    on_deallocate(Inner::usable_size(p));
    Inner::deallocate(p, size, align);
  }
  void deallocate(void* p) noexcept {
    on_deallocate(Inner::usable_size(p));
    Inner::deallocate(p);
  }
  void* reallocate(void* p, std::size_t old_size, std::size_t new_size, std::size_t align) noexcept {
    const std::size_t before = Inner::usable_size(p);
    void* q = Inner::reallocate(p, old_size, new_size, align);
    if (q != nullptr) {
      on_deallocate(before);
      on_allocate(new_size, Inner::usable_size(q));
    }
    return q;
  }
  bool reserve(std::size_t size, std::size_t count) noexcept { return Inner::reserve(size, count); }
  void release() noexcept {
    Inner::release();
    counters_.live_bytes = 0;
  }

  stats_snapshot stats() const noexcept {
    stats_snapshot s = counters_;
    const heap_metrics m = Inner::metrics();
    s.reserved_bytes = m.reserved_bytes;
    s.peak_reserved_bytes = m.peak_reserved_bytes;
    s.free_bytes = m.free_bytes;
    s.largest_free_block = m.largest_free_block;
    return s;
  }

 private:
  void on_allocate(std::size_t requested, std::size_t granted) noexcept {
    counters_.live_bytes += granted;
    counters_.peak_live_bytes = std::max(counters_.peak_live_bytes, counters_.live_bytes);
    ++counters_.allocations;
    counters_.requested_bytes += requested;
    counters_.granted_bytes += granted;
  }
  void on_deallocate(std::size_t granted) noexcept {
    counters_.live_bytes -= granted;
    ++counters_.deallocations;
  }

  stats_snapshot counters_{};
};

}  // namespace detail

namespace policy {

struct stats {
  using axis = alloy::axis::stats;
  template <class Inner>
  using layer = detail::stats_layer<Inner>;
  static std::string name() { return "stats"; }
};

}  // namespace policy
}  // namespace alloy
