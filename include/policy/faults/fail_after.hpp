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
#include <cstdint>
#include <string>

#include "concept.hpp"

namespace alloy {
namespace detail {

template <class Inner, std::size_t InitialCountdown>
class fault_layer : public Inner {
 public:
  /// `n` allocations succeed, the next one fails, and the ones after it succeed again.
  void fail_after(std::size_t n) noexcept { arm(n, false); }
  /// `n` allocations succeed, then every one fails until disarm(): the heap "runs out".
  void fail_all_after(std::size_t n) noexcept { arm(n, true); }
  void disarm() noexcept { countdown_ = 0; persistent_ = false; }
  /// Whether an armed failure has yet to happen.
  bool failure_pending() const noexcept { return countdown_ != 0; }
  /// Allocations failed on purpose so far.
  std::size_t injected_failures() const noexcept { return injected_; }

  void* allocate(std::size_t size, std::size_t align) noexcept {
    return fails_now() ? nullptr : Inner::allocate(size, align);
  }
  void* reallocate(void* p, std::size_t old_size, std::size_t new_size, std::size_t align) noexcept {
    return fails_now() ? nullptr : Inner::reallocate(p, old_size, new_size, align);
  }
  bool reserve(std::size_t size, std::size_t count) noexcept { return !fails_now() && Inner::reserve(size, count); }

 private:
  void arm(std::size_t n, bool persistent) noexcept {
    countdown_ = n + 1;
    persistent_ = persistent;
  }
  bool fails_now() noexcept {
    if (countdown_ == 0 || --countdown_ != 0) [[likely]] return false;
    ++injected_;
    if (persistent_) countdown_ = 1;  // the next request fails again
    return true;
  }

  std::size_t countdown_ = InitialCountdown;  // 0: disarmed; 1: the next request fails
  std::size_t injected_ = 0;
  bool persistent_ = false;
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
