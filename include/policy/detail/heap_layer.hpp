// The contract between layers: the heap built by a search policy, and every layer stacked on it
// (stats, checks, threading), offer the same operations, so layers nest in any number.
//
// The facade (alloy::allocator) validates user input before any layer sees it: a layer receives
// 1 <= size <= max_request and a power-of-two alignment >= the composition's alignment.
#pragma once
#include <concepts>
#include <cstddef>

#include "../axis.hpp"
#include "../source/system_pages.hpp"
#include "../hardening/no_hardening.hpp"
#include "../size_class/pow2_classes.hpp"

namespace alloy {

/// What a heap knows about its own memory; the stats policy adds the counters.
struct heap_metrics {
  std::size_t reserved_bytes = 0;       ///< bytes currently taken from the memory source
  std::size_t peak_reserved_bytes = 0;  ///< high-water mark of reserved_bytes
  std::size_t free_bytes = 0;           ///< bytes in free blocks that a request could be given
  std::size_t largest_free_block = 0;   ///< the largest single request the free blocks could serve
};

template <class H>
concept heap_layer = requires(H& h, const H& ch, void* p, std::size_t n) {
  { h.allocate(n, n) } noexcept -> std::same_as<void*>;            // (size, alignment) -> block or nullptr
  { h.deallocate(p, n, n) } noexcept;                              // sized: (p, size, alignment)
  { h.deallocate(p) } noexcept;                                    // unsized
  { h.reallocate(p, n, n, n) } noexcept -> std::same_as<void*>;    // (p, old, new, alignment)
  { ch.owns(p) } noexcept -> std::same_as<bool>;
  { ch.usable_size(p) } noexcept -> std::same_as<std::size_t>;
  { h.reserve(n, n) } noexcept -> std::same_as<bool>;              // (size, count) pre-allocation
  { h.release() } noexcept;                                        // everything back to the source
  { ch.metrics() } noexcept -> std::same_as<heap_metrics>;
  { ch.invariant() } noexcept -> std::same_as<bool>;               // own data structures well formed
  { H::is_thread_safe } -> std::convertible_to<bool>;
  { H::alloc_complexity } -> std::convertible_to<complexity>;
  { H::free_complexity } -> std::convertible_to<complexity>;
  { H::max_class_size } -> std::convertible_to<std::size_t>;       // 0 when the heap has no size classes
};

namespace detail {

/// What a search policy's heap is built from. The composition fills it; concepts probe with it.
template <class Source, class Classes, std::size_t Alignment, class Hardening>
struct heap_config {
  using source = Source;
  using classes = Classes;
  static constexpr std::size_t alignment = Alignment;
  using hardening = Hardening;
};

using probe_config = heap_config<policy::system_pages, policy::pow2_classes<16, 256>, 16, policy::no_hardening>;

}  // namespace detail
}  // namespace alloy
