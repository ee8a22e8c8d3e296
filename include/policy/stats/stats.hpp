// stats: counts every block in and out, and reads the heap's own metrics on demand.
//
// Sizes are counted as granted (the block's usable size), so live_bytes is what the blocks
// really hold; requested_bytes/granted_bytes over all allocations give internal waste.
#pragma once
#include <algorithm>
#include <atomic>
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
                           (std::size_t, granted_bytes),        // sum of sizes given, all time
                           // The reclaim axis (policy/reclaim.hpp); under no_reclaim committed
                           // equals reserved and the other two stay 0:
                           (std::size_t, committed_bytes),        // of reserved_bytes, not decommitted
                           (std::size_t, pending_reclaim_bytes),  // free and committed: a reclaim would give it back
                           (std::size_t, reclaims));              // madvise calls and chunks returned so far

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

/// A counter of the stats layer: a plain integer over a single-threaded stack, a relaxed atomic
/// over a thread-safe one (the layer sits above the threading layer, so it sees every thread's
/// calls; counts need no ordering, only no lost updates).
template <bool Shared>
class stat_counter {
 public:
  void add(std::size_t n) noexcept { value_ += n; }
  void sub(std::size_t n) noexcept { value_ -= n; }
  /// Raises the value to at least `n` (a high-water mark).
  void raise_to(std::size_t n) noexcept { value_ = std::max(value_, n); }
  /// Adds `n` and returns the new value.
  std::size_t add_fetch(std::size_t n) noexcept { return value_ += n; }
  std::size_t get() const noexcept { return value_; }
  void reset() noexcept { value_ = 0; }

 private:
  std::size_t value_ = 0;
};

template <>
class stat_counter<true> {
 public:
  // Release increments and acquire reads (free on x86-64, where every read-modify-write is a
  // full barrier) let stats() order its reads so a snapshot never shows a free before its
  // allocation: see stats().
  void add(std::size_t n) noexcept { value_.fetch_add(n, std::memory_order_release); }
  void sub(std::size_t n) noexcept { value_.fetch_sub(n, std::memory_order_release); }
  void raise_to(std::size_t n) noexcept {
    std::size_t seen = value_.load(std::memory_order_relaxed);
    while (seen < n && !value_.compare_exchange_weak(seen, n, std::memory_order_relaxed)) {
    }
  }
  std::size_t add_fetch(std::size_t n) noexcept { return value_.fetch_add(n, std::memory_order_relaxed) + n; }
  std::size_t get() const noexcept { return value_.load(std::memory_order_acquire); }
  void reset() noexcept { value_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<std::size_t> value_{0};
};

/// Counts the user's calls: it sits above the threading layer, so whatever the threading policy
/// (a thread cache included) one allocate is one allocation and its bytes are the user's.
template <class Inner>
class stats_layer : public Inner {
  using counter = stat_counter<Inner::is_thread_safe>;

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
    live_bytes_.reset();
  }

  /// The counters, and the heap's memory figures (a thread cache first gives the calling
  /// thread's cached blocks back, so free_bytes counts them).
  ///
  /// Read while other threads allocate, the counters are read one by one, in an order that keeps
  /// a snapshot consistent: deallocations before allocations (each free's release increment
  /// comes after its block's allocation was counted, so the later read of allocations sees at
  /// least as many), and the peak as at least the live bytes read (it is raised just after
  /// them, and a high-water mark is never below the level).
  stats_snapshot stats() const noexcept {
    const heap_metrics m = Inner::metrics();
    const std::size_t deallocations = deallocations_.get();
    const std::size_t allocations = allocations_.get();
    const std::size_t live = live_bytes_.get();
    const std::size_t peak = std::max(peak_live_bytes_.get(), live);
    return stats_snapshot{live,                    peak,                   m.reserved_bytes,
                          m.peak_reserved_bytes,   m.free_bytes,           m.largest_free_block,
                          allocations,             deallocations,          requested_bytes_.get(),
                          granted_bytes_.get(),    m.reserved_bytes - m.decommitted_bytes,
                          m.pending_reclaim_bytes, m.reclaims};
  }

 private:
  void on_allocate(std::size_t requested, std::size_t granted) noexcept {
    peak_live_bytes_.raise_to(live_bytes_.add_fetch(granted));
    allocations_.add(1);
    requested_bytes_.add(requested);
    granted_bytes_.add(granted);
  }
  void on_deallocate(std::size_t granted) noexcept {
    live_bytes_.sub(granted);
    deallocations_.add(1);
  }

  counter live_bytes_, peak_live_bytes_, allocations_, deallocations_, requested_bytes_, granted_bytes_;
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
