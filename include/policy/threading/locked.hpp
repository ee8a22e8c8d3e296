// locked<Mutex = std::mutex>: every operation of the heap below runs under one lock, so the
// composed allocator may be used from any thread. `Mutex` is any standard Lockable type;
// alloy::spin_mutex (policy/threading/spin_mutex.hpp) is the cheap choice for short sections.
//
// The whole stack below (stats, checks, the heap) runs inside the lock, so counters and checks
// need no synchronisation of their own. Contended, threads queue on the lock: use
// thread_local_cache when many threads allocate at once.
#pragma once
#include <concepts>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>

#include "../detail/config.hpp"
#include "../detail/reallocate.hpp"
#include "concept.hpp"
#include "spin_mutex.hpp"

namespace alloy {

/// The standard Lockable requirements: lock(), try_lock() -> bool, unlock().
template <class M>
concept lockable = requires(M& m) {
  m.lock();
  { m.try_lock() } -> std::convertible_to<bool>;
  m.unlock();
};

/// How a mutex type is named in `name_of` ("std::mutex"); a mutex may say it with `name()`.
template <class M>
std::string mutex_name() {
  if constexpr (requires { { M::name() } -> std::convertible_to<std::string>; }) return std::string(M::name());
  else if constexpr (std::is_same_v<M, std::mutex>) return "std::mutex";
  else if constexpr (std::is_same_v<M, std::recursive_mutex>) return "std::recursive_mutex";
  else return "user mutex";
}

namespace detail {

/// The heap below, behind one mutex taken by every operation (reads included).
template <class Inner, class Mutex>
class locked_layer {
 public:
  using config = typename Inner::config;
  static constexpr bool is_thread_safe = true;
  static constexpr complexity alloc_complexity = Inner::alloc_complexity;
  static constexpr complexity free_complexity = Inner::free_complexity;
  static constexpr std::size_t max_class_size = Inner::max_class_size;

  locked_layer() = default;
  locked_layer(const locked_layer&) = delete;
  locked_layer& operator=(const locked_layer&) = delete;

  ALLOY_FAST_PATH void* allocate(std::size_t size, std::size_t align) noexcept {
    std::lock_guard guard(mutex_);
    return inner_.allocate(size, align);
  }
  /// The heap's answer, where it has one (layer_knows_zeroed): whoever clears the block does it
  /// after the lock is released.
  maybe_zeroed allocate_maybe_zeroed(std::size_t size, std::size_t align) noexcept
    requires layer_knows_zeroed<Inner>
  {
    std::lock_guard guard(mutex_);
    return inner_.allocate_maybe_zeroed(size, align);
  }
  ALLOY_FAST_PATH void deallocate(void* p, std::size_t size, std::size_t align) noexcept {
    std::lock_guard guard(mutex_);
    inner_.deallocate(p, size, align);
  }
  void deallocate(void* p) noexcept {
    std::lock_guard guard(mutex_);
    inner_.deallocate(p);
  }
  /// Frees `p` if the heap below handed it out; owns and free in one critical section. A null
  /// `p` is answered without the lock.
  bool try_deallocate(void* p) noexcept {
    if (p == nullptr) return false;
    std::lock_guard guard(mutex_);
    if (!inner_.owns(p)) return false;
    inner_.deallocate(p);
    return true;
  }
  /// A heap that can resize a block without copying it (in place, or by remapping its pages)
  /// gets its copies made outside the lock: a large realloc copies megabytes, which no other
  /// thread should wait for.
  void* reallocate(void* p, std::size_t old_size, std::size_t new_size, std::size_t align) noexcept {
    if constexpr (requires { inner_.resize_without_copy(p, old_size, new_size, align); }) {
      {
        std::lock_guard guard(mutex_);
        if (void* resized = inner_.resize_without_copy(p, old_size, new_size, align)) return resized;
      }
      // This layer's own allocate and deallocate each take the lock; the copy between them does not.
      return reallocate_by_copy(*this, p, old_size, new_size, align);
    } else {
      std::lock_guard guard(mutex_);
      return inner_.reallocate(p, old_size, new_size, align);
    }
  }
  // Reads lock too: a heap may rewrite a live block's neighbour headers, chunk tables, ...
  bool owns(const void* p) const noexcept {
    std::lock_guard guard(mutex_);
    return inner_.owns(p);
  }
  std::size_t usable_size(const void* p) const noexcept {
    std::lock_guard guard(mutex_);
    return inner_.usable_size(p);
  }
  bool reserve(std::size_t size, std::size_t count) noexcept {
    std::lock_guard guard(mutex_);
    return inner_.reserve(size, count);
  }
  void release() noexcept {
    std::lock_guard guard(mutex_);
    inner_.release();
  }
  /// Everything a reclaiming heap can give back, now (policy/reclaim.hpp).
  std::size_t trim() noexcept
    requires requires(Inner& heap) { heap.trim(); }
  {
    std::lock_guard guard(mutex_);
    return inner_.trim();
  }
  /// One bounded step of a reclaiming heap's work, under the lock (a background reclaimer's).
  void reclaim_tick() noexcept
    requires requires(Inner& heap) { heap.reclaim_tick(); }
  {
    std::lock_guard guard(mutex_);
    inner_.reclaim_tick();
  }
  heap_metrics metrics() const noexcept {
    std::lock_guard guard(mutex_);
    return inner_.metrics();
  }
  bool invariant() const noexcept {
    std::lock_guard guard(mutex_);
    return inner_.invariant();
  }
  /// The stats layer's reading, taken under the lock (only when the stack has one).
  auto stats() const noexcept
    requires requires(const Inner& i) { i.stats(); }
  {
    std::lock_guard guard(mutex_);
    return inner_.stats();
  }

  /// fork() in a process whose malloc this is (include/alloc/malloc_override.hpp registers
  /// these with pthread_atfork): the lock is held across fork, so the child never inherits it
  /// taken by a thread it does not have.
  void prepare_fork() noexcept { mutex_.lock(); }
  void after_fork_parent() noexcept { mutex_.unlock(); }
  void after_fork_child() noexcept { mutex_.unlock(); }

  /// The layer below behind the lock, held while the handle lives (foonathan/memory's locked
  /// proxy): `heap.layers().lock()->metrics()`.
  class locked_handle {
   public:
    explicit locked_handle(locked_layer& l) noexcept : guard_(l.mutex_), inner_(l.inner_) {}
    Inner* operator->() const noexcept { return &inner_; }
    Inner& operator*() const noexcept { return inner_; }

   private:
    std::lock_guard<Mutex> guard_;
    Inner& inner_;
  };
  locked_handle lock() noexcept { return locked_handle(*this); }

  /// The layer below without the lock, for what it declares safe to call without it (a
  /// lock-free lookup such as segregated fit's cached_lookup); nothing else may use it.
  const Inner& unlocked() const noexcept { return inner_; }

  /// Runs `f(heap)` on the layer below with the lock held: several operations as one.
  template <class F>
  decltype(auto) with_lock(F&& f) noexcept(noexcept(f(std::declval<Inner&>()))) {
    std::lock_guard guard(mutex_);
    return f(inner_);
  }

 private:
  mutable Mutex mutex_;
  Inner inner_;
};

}  // namespace detail

namespace policy {

template <class Mutex = std::mutex>
struct locked {
  static_assert(lockable<Mutex>,
                "locked<Mutex>: Mutex must meet the standard Lockable requirements (lock(), try_lock(), unlock()); "
                "use std::mutex (the default) or alloy::spin_mutex");
  using axis = alloy::axis::threading;
  template <class Inner>
  using layer = detail::locked_layer<Inner, Mutex>;
  static std::string name() { return "locked<" + mutex_name<Mutex>() + ">"; }
};

}  // namespace policy
}  // namespace alloy
