// Runs a block of code once per allocation it makes, with that allocation failing: on run n,
// n allocations succeed and the next one fails (through the fail_after policy). It stops at the
// first run in which no failure was needed, so every failure point is visited exactly once.
//
//   #include <alloc/testing/failure_points.hpp>
//   alloy::testing::for_each_failure_point(heap, [&] {
//     std::vector<int, alloy::stl_allocator<int, heap_type>> v{alloy::stl_allocator<int, heap_type>{heap}};
//     for (int i = 0; i < 100; ++i) v.push_back(i);   // throws std::bad_alloc at the failure point
//   });
//
// A std::bad_alloc escaping the block is the expected outcome of a failed allocation; the block
// checks its own state (strong guarantee, no leak), and may take the failure point as its
// argument to name it in its own assertions. After each run the heap's invariant must hold.
//
// It needs no test framework (it is installed with the library, and users test with Catch2,
// GoogleTest or plain asserts alike): a broken rule is a failure_point_error, which every
// framework reports as a failed test with its message.
#pragma once
#include <cstddef>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace alloy::testing {

/// What for_each_failure_point throws when a run breaks one of its rules; `point` is the run.
class failure_point_error : public std::logic_error {
 public:
  failure_point_error(std::size_t point, const std::string& what)
      : std::logic_error("failure point " + std::to_string(point) + " (allocation " + std::to_string(point + 1) +
                         " fails): " + what),
        point(point) {}
  std::size_t point;
};

/// @requires `heap` composed with P::fail_after; `block()` or `block(point)` callable.
/// @effects runs `block` with allocation 1, 2, ... failing in turn, until a run needs no failure.
/// @returns the number of failure points visited (the allocations the block makes).
/// @throws failure_point_error when the heap's invariant breaks after a run, when a std::bad_alloc
/// escapes a run in which no allocation failed, or when the block still allocates after `limit`
/// runs; any other exception from the block passes through.
template <class Alloc, class Block>
std::size_t for_each_failure_point(Alloc& heap, Block&& block, std::size_t limit = 100000) {
  for (std::size_t point = 0; point < limit; ++point) {
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
    if (!heap.invariant()) throw failure_point_error(point, "the heap's invariant does not hold after the run");
    if (!failed) {
      // No failure was injected, so a bad_alloc came from somewhere else: the test would be wrong.
      if (threw) throw failure_point_error(point, "std::bad_alloc escaped a run in which no allocation failed");
      return point;
    }
  }
  throw failure_point_error(limit, "the block still allocates after " + std::to_string(limit) + " failure points");
}

}  // namespace alloy::testing
