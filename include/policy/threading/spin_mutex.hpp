// alloy::spin_mutex: a test-and-test-and-set lock, the cheap alternative to std::mutex for the
// very short critical sections of an allocator (a few dozen instructions under the lock).
//
// Uncontended, lock() is one exchange and unlock() one release store — no system call, no
// futex word to inspect. Contended, a waiter spins on a plain load (the cache line stays
// shared until the holder's store, instead of bouncing on every exchange) with the CPU's
// pause hint, and after a while yields its core: on an oversubscribed machine (more threads
// than cores) pure spinning would burn the holder's time slice.
//
// Satisfies the standard Lockable requirements, so std::lock_guard and locked<> take it.
#pragma once
#include <atomic>
#include <string>
#include <thread>

#include "../detail/config.hpp"

namespace alloy {

class spin_mutex {
 public:
  spin_mutex() = default;
  spin_mutex(const spin_mutex&) = delete;
  spin_mutex& operator=(const spin_mutex&) = delete;

  ALLOY_FAST_PATH void lock() noexcept {
    if (!locked_.exchange(true, std::memory_order_acquire)) [[likely]] return;
    lock_contended();
  }
  ALLOY_FAST_PATH bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
  }
  ALLOY_FAST_PATH void unlock() noexcept { locked_.store(false, std::memory_order_release); }

  static std::string name() { return "alloy::spin_mutex"; }

 private:
  /// Spins before yielding: long enough to cover a typical allocator critical section.
  static constexpr int spins_before_yield = 64;

  static void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  ALLOY_SLOW_PATH void lock_contended() noexcept {
    for (;;) {
      for (int i = 0; locked_.load(std::memory_order_relaxed); ++i) {
        if (i < spins_before_yield) pause();
        else std::this_thread::yield();
      }
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
    }
  }

  std::atomic<bool> locked_{false};
};

}  // namespace alloy
