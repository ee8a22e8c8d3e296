// fail_after: makes a chosen allocation fail, for testing the code that uses the allocator.
//
//   using heap_type = alloy::allocator<P::segregated_fit, P::fail_after>;
//   heap.layers().fail_after(3);      // three allocations succeed, the fourth returns nullptr
//   heap.layers().fail_all_after(3);  // ... and every one after it too, until disarm()
//
// Every request for a new block counts: allocate, reallocate (which returns nullptr and leaves
// the block alone) and reserve (which returns false). Frees never fail and are not counted.
// With stl_allocator a failure is a std::bad_alloc, so the same switch tests exception safety.
// <alloc/testing/failure_points.hpp> runs a block once per failure point.
//
// Spelling: `P::fail_after` (disarmed until armed at run time), `P::fail_after::with<N>` (armed
// from construction: N allocations succeed, the next one fails).
#pragma once
#include <atomic>
#include <cstdint>
#include <string>

#include "concept.hpp"

namespace alloy {
namespace detail {

/// Sits above the threading layer, so it counts every request of every thread. Its state is
/// atomic for that reason; disarmed, a request costs one relaxed load.
template <class Inner, std::size_t InitialCountdown>
class fault_layer : public Inner {
 public:
  /// `n` allocations succeed, the next one fails, and the ones after it succeed again.
  void fail_after(std::size_t n) noexcept { arm(n, false); }
  /// `n` allocations succeed, then every one fails until disarm(): the heap "runs out".
  void fail_all_after(std::size_t n) noexcept { arm(n, true); }
  void disarm() noexcept {
    persistent_.store(false, std::memory_order_relaxed);
    countdown_.store(0, std::memory_order_relaxed);
  }
  /// Whether an armed failure has yet to happen.
  bool failure_pending() const noexcept { return countdown_.load(std::memory_order_relaxed) != 0; }
  /// Allocations failed on purpose so far.
  std::size_t injected_failures() const noexcept { return injected_.load(std::memory_order_relaxed); }

  void* allocate(std::size_t size, std::size_t align) noexcept {
    return fails_now() ? nullptr : Inner::allocate(size, align);
  }
  void* reallocate(void* p, std::size_t old_size, std::size_t new_size, std::size_t align) noexcept {
    return fails_now() ? nullptr : Inner::reallocate(p, old_size, new_size, align);
  }
  bool reserve(std::size_t size, std::size_t count) noexcept { return !fails_now() && Inner::reserve(size, count); }

 private:
  void arm(std::size_t n, bool persistent) noexcept {
    persistent_.store(persistent, std::memory_order_relaxed);
    countdown_.store(n + 1, std::memory_order_relaxed);
  }
  /// Counts one request down; exactly one thread sees the count reach zero.
  bool fails_now() noexcept {
    std::size_t left = countdown_.load(std::memory_order_relaxed);
    do {
      if (left == 0) [[likely]] return false;
    } while (!countdown_.compare_exchange_weak(left, left - 1, std::memory_order_relaxed));
    if (left != 1) return false;
    injected_.fetch_add(1, std::memory_order_relaxed);
    if (persistent_.load(std::memory_order_relaxed)) countdown_.store(1, std::memory_order_relaxed);  // the next fails too
    return true;
  }

  std::atomic<std::size_t> countdown_{InitialCountdown};  // 0: disarmed; 1: the next request fails
  std::atomic<std::size_t> injected_{0};
  std::atomic<bool> persistent_{false};
};

}  // namespace detail

namespace policy {

struct fail_after {
  using axis = alloy::axis::faults;

  /// Armed from construction: `N` allocations succeed, the next one fails.
  template <std::size_t N>
  struct with {
    using axis = alloy::axis::faults;
    template <class Inner>
    using layer = detail::fault_layer<Inner, N + 1>;
    static std::string name() { return "fail_after::with<" + std::to_string(N) + ">"; }
  };

  template <class Inner>
  using layer = detail::fault_layer<Inner, 0>;
  static std::string name() { return "fail_after"; }
};

}  // namespace policy
}  // namespace alloy
