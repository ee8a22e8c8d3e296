// The design of
//   alloy::allocator<P::segregated_fit, P::pow2_classes<16, 512>, P::locked<std::mutex>, P::align<16>>
// written by hand: the hand-written segregated free list, every operation under one std::mutex.
#pragma once
#include <mutex>

#include "hand_segregated_fit.hpp"

namespace zero_overhead {

class hand_locked_segregated_fit {
 public:
  static constexpr std::size_t alignment = hand_segregated_fit::alignment;

  [[gnu::always_inline]] void* allocate(std::size_t size) noexcept {
    std::lock_guard guard(mutex_);
    return heap_.allocate(size);
  }
  [[gnu::always_inline]] void deallocate(void* p, std::size_t size) noexcept {
    std::lock_guard guard(mutex_);
    heap_.deallocate(p, size);
  }
  void deallocate(void* p) noexcept {
    std::lock_guard guard(mutex_);
    heap_.deallocate(p);
  }
  bool owns(const void* p) const noexcept {
    std::lock_guard guard(mutex_);
    return heap_.owns(p);
  }
  std::size_t reserved_bytes() const noexcept {
    std::lock_guard guard(mutex_);
    return heap_.reserved_bytes();
  }

 private:
  mutable std::mutex mutex_;
  hand_segregated_fit heap_;
};

}  // namespace zero_overhead
