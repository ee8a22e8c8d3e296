// Runs a block of code once per allocation it makes, with that allocation failing: on run n,
// n allocations succeed and the next one fails (through the fail_after policy). It stops at the
// first run in which no failure was needed, so every failure point is visited exactly once.
//
//   alloy::testing::for_each_failure_point(heap, [&] {
//     std::vector<int, alloy::stl_allocator<int, heap_type>> v{alloy::stl_allocator<int, heap_type>{heap}};
//     for (int i = 0; i < 100; ++i) v.push_back(i);   // throws std::bad_alloc at the failure point
//   });
//
// A std::bad_alloc escaping the block is the expected outcome of a failed allocation; the block
// checks its own state (strong guarantee, no leak). After each run the heap's invariant must hold.
#pragma once
#include <catch2/catch.hpp>

#include <cstddef>
#include <new>
#include <type_traits>

namespace alloy::testing {

/// @returns the number of failure points visited (the allocations the block makes).
template <class Alloc, class Block>
std::size_t for_each_failure_point(Alloc& heap, Block&& block, std::size_t limit = 100000) {
  for (std::size_t point = 0; point < limit; ++point) {
    INFO("failure point " << point << " (allocation " << point + 1 << " fails)");
    heap.layers().fail_after(point);
    bool threw = false;
    try {
      if constexpr (std::is_invocable_v<Block&, std::size_t>) block(point);
      else block();
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    const bool failed = !heap.layers().failure_pending();
    heap.layers().disarm();
    REQUIRE(heap.invariant());
    if (!failed) {
      REQUIRE_FALSE(threw);  // no failure was injected, so nothing may have thrown bad_alloc
      return point;
    }
  }
  FAIL("the block still allocates after " << limit << " failure points");
  return limit;
}

}  // namespace alloy::testing
