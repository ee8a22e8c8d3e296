// The contract between layers: the heap built by a search policy, and every layer stacked on it
// (stats, checks, threading), offer the same operations, so layers nest in any number.
//
// The facade (alloy::allocator) validates user input before any layer sees it: a layer receives
// 1 <= size <= max_request and a power-of-two alignment >= the composition's alignment.
#pragma once
#include <concepts>
#include <cstddef>

#include "complexity.hpp"

namespace alloy {

/// What a heap knows about its own memory; the stats policy adds the counters.
struct heap_metrics {
  std::size_t reserved_bytes = 0;       ///< bytes currently taken from the memory source
  std::size_t peak_reserved_bytes = 0;  ///< high-water mark of reserved_bytes
  std::size_t free_bytes = 0;           ///< bytes in free blocks that a request could be given
  std::size_t largest_free_block = 0;   ///< the largest single request the free blocks could serve
  // Reclaiming (the reclaim axis; all zero under no_reclaim):
  std::size_t decommitted_bytes = 0;      ///< of reserved_bytes, pages given back with madvise (not resident)
  std::size_t pending_reclaim_bytes = 0;  ///< free bytes still committed that a reclaim would give back
  std::size_t reclaims = 0;               ///< madvise calls and whole chunks returned to the source so far
};

// One small concept per operation, so a layer that misses one (or its noexcept) is named by
// the member it lacks; `heap_layer` is their conjunction. diagnose_heap_layer<H>() below turns
// the first one that fails into a static_assert naming the member.
template <class H>
concept layer_allocates = requires(H& h, std::size_t n) {
  { h.allocate(n, n) } noexcept -> std::same_as<void*>;  // (size, alignment) -> block or nullptr
};
template <class H>
concept layer_deallocates = requires(H& h, void* p, std::size_t n) {
  { h.deallocate(p, n, n) } noexcept;  // sized: (p, size, alignment)
  { h.deallocate(p) } noexcept;        // unsized
};
template <class H>
concept layer_reallocates = requires(H& h, void* p, std::size_t n) {
  { h.reallocate(p, n, n, n) } noexcept -> std::same_as<void*>;  // (p, old, new, alignment)
};
template <class H>
concept layer_answers_ownership = requires(const H& ch, void* p) {
  { ch.owns(p) } noexcept -> std::same_as<bool>;
  { ch.usable_size(p) } noexcept -> std::same_as<std::size_t>;
};
template <class H>
concept layer_reserves_and_releases = requires(H& h, std::size_t n) {
  { h.reserve(n, n) } noexcept -> std::same_as<bool>;  // (size, count) pre-allocation
  { h.release() } noexcept;                            // everything back to the source
};
template <class H>
concept layer_reports_metrics = requires(const H& ch) {
  { ch.metrics() } noexcept -> std::same_as<heap_metrics>;
  { ch.invariant() } noexcept -> std::same_as<bool>;  // own data structures well formed
};
template <class H>
concept layer_publishes_properties = requires {
  { H::is_thread_safe } -> std::convertible_to<bool>;
  { H::alloc_complexity } -> std::convertible_to<complexity>;
  { H::free_complexity } -> std::convertible_to<complexity>;
  { H::max_class_size } -> std::convertible_to<std::size_t>;  // 0 when the heap has no size classes
};

template <class H>
concept heap_layer = layer_allocates<H> && layer_deallocates<H> && layer_reallocates<H> &&
                     layer_answers_ownership<H> && layer_reserves_and_releases<H> && layer_reports_metrics<H> &&
                     layer_publishes_properties<H>;

/// A block, and whether its bytes are known to be zero: a fresh mapping's pages, which a
/// calloc need not clear (clearing them would make every page of a large, sparsely used table
/// resident). Only a layer that knows says `zeroed`; every other block is cleared by the caller.
struct maybe_zeroed {
  void* block = nullptr;
  bool zeroed = false;
};

/// An optional capability, not part of heap_layer: allocate, and tell whether the block is
/// zero-filled. A layer offers it where it can know (a heap taking a fresh chunk) or pass it on
/// (a threading layer); the facade's allocate_zeroed clears only what no layer vouched for, and
/// outside any lock.
template <class H>
concept layer_knows_zeroed = requires(H& h, std::size_t n) {
  { h.allocate_maybe_zeroed(n, n) } noexcept -> std::same_as<maybe_zeroed>;  // (size, alignment)
  // Declared by H itself: the wrapping layers (stats, checks, faults) derive from the layer
  // below, and one that merely inherited it would hand out blocks it never saw.
  requires std::same_as<decltype(&H::allocate_maybe_zeroed), maybe_zeroed (H::*)(std::size_t, std::size_t) noexcept>;
};

namespace detail {

/// Stops on the first operation `H` lacks, with a message naming it; true when H is a
/// heap_layer. Each static_assert sits in its own `if constexpr` branch, so only the first
/// missing member is reported. (The `Policy` in the compiler's note is the policy whose heap
/// or layer `H` is.)
template <class Policy, class H>
consteval bool diagnose_heap_layer() {
  if constexpr (!layer_allocates<H>) {
    static_assert(layer_allocates<H>, "alloy: the heap or layer of `Policy` (note below) lacks "
                                      "`void* allocate(std::size_t size, std::size_t alignment) noexcept`");
    return false;
  } else if constexpr (!layer_deallocates<H>) {
    static_assert(layer_deallocates<H>, "alloy: the heap or layer of `Policy` (note below) lacks "
                                        "`void deallocate(void* p, std::size_t size, std::size_t alignment) noexcept` "
                                        "or `void deallocate(void* p) noexcept`");
    return false;
  } else if constexpr (!layer_reallocates<H>) {
    static_assert(layer_reallocates<H>, "alloy: the heap or layer of `Policy` (note below) lacks `void* reallocate(void* "
                                        "p, std::size_t old_size, std::size_t new_size, std::size_t alignment) noexcept`");
    return false;
  } else if constexpr (!layer_answers_ownership<H>) {
    static_assert(layer_answers_ownership<H>, "alloy: the heap or layer of `Policy` (note below) lacks `bool owns(const "
                                              "void*) const noexcept` or `std::size_t usable_size(const void*) const "
                                              "noexcept`");
    return false;
  } else if constexpr (!layer_reserves_and_releases<H>) {
    static_assert(layer_reserves_and_releases<H>, "alloy: the heap or layer of `Policy` (note below) lacks `bool "
                                                  "reserve(std::size_t size, std::size_t count) noexcept` or `void "
                                                  "release() noexcept`");
    return false;
  } else if constexpr (!layer_reports_metrics<H>) {
    static_assert(layer_reports_metrics<H>, "alloy: the heap or layer of `Policy` (note below) lacks `heap_metrics "
                                            "metrics() const noexcept` or `bool invariant() const noexcept`");
    return false;
  } else if constexpr (!layer_publishes_properties<H>) {
    static_assert(layer_publishes_properties<H>, "alloy: the heap or layer of `Policy` (note below) lacks one of "
                                                 "`static constexpr` is_thread_safe, alloc_complexity, free_complexity, "
                                                 "max_class_size");
    return false;
  } else {
    return true;
  }
}

/// What a search policy's heap is built from. The composition fills it; concepts probe with it.
template <class Source, class Classes, std::size_t Alignment, class Hardening>
struct heap_config {
  using source = Source;
  using classes = Classes;
  static constexpr std::size_t alignment = Alignment;
  using hardening = Hardening;
};

}  // namespace detail
}  // namespace alloy
