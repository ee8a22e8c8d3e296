// Shared machinery of the threading tests: the compositions under test, and workloads that run
// many threads over one heap and check every block's contents when it is freed.
//
// Catch2's assertions are not thread-safe, so worker threads count failures in atomics and
// the test thread checks the counts after join.
#pragma once
#include <catch2/catch.hpp>

#include <alloc/alloy.hpp>
#include <atomic>
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "../support/model.hpp"

#if __has_include("../search/search_policies.hpp")
#  include "../search/search_policies.hpp"
#  define ALLOY_TEST_HAVE_SEARCH_POLICIES 1
#endif

namespace alloy::testing {

namespace P = alloy::policy;

/// The layer stack of allocator type `Alloc` (its layers()' type): a thread cache's static
/// counts are read there.
template <class Alloc>
using layers_of = std::remove_cvref_t<decltype(std::declval<Alloc&>().layers())>;

/// Thread caches of `Alloc`'s type alive now, over all threads and instances.
template <class Alloc>
std::size_t caches_alive() {
  return layers_of<Alloc>::caches_alive();
}

/// Every search policy the threading policies must compose with.
#ifdef ALLOY_TEST_HAVE_SEARCH_POLICIES
using threading_search_policies = all_search_policies;
#else
using threading_search_policies = boost::mp11::mp_list<P::segregated_fit>;
#endif

/// The thread-safe policies under test.
using thread_safe_policies = boost::mp11::mp_list<P::locked<>, P::locked<alloy::spin_mutex>, P::thread_local_cache,
                                                  P::thread_local_cache::with<4, 2>>;

template <class Search, class Threading>
using threaded_heap = alloy::allocator<Search, Threading, P::geometric_classes<16, 4096, 4>, P::stats>;

/// Every threading policy over every search policy, and the thread cache hardened: its blocks
/// cross threads in bins and parked chains whose links go through the heap's codec; and the
/// thread cache of a type with one live instance (its caches in static TLS), plain and hardened.
using threaded_compositions = boost::mp11::mp_push_back<
    boost::mp11::mp_product<threaded_heap, threading_search_policies, thread_safe_policies>,
    alloy::allocator<P::segregated_fit, P::thread_local_cache, P::geometric_classes<16, 4096, 4>, P::stats, P::hardened>,
    alloy::allocator<P::segregated_fit, P::thread_local_cache::with<4, 2>, P::geometric_classes<16, 4096, 4>, P::stats,
                     P::hardened::with<P::encoded_links, P::double_free_scan>>,
    threaded_heap<P::segregated_fit, P::thread_local_cache::one_instance>,
    alloy::allocator<P::segregated_fit, P::thread_local_cache::with<4, 2, true>, P::geometric_classes<16, 4096, 4>, P::stats,
                     P::hardened>>;

/// A thread that uses `heap`, then frees a block of it from a thread_local destructor that runs
/// after the thread cache's exit hook gave the cache back: that free must still land (the
/// locked back end takes it), and no cache stays behind.
template <class Heap>
void require_free_after_thread_exit_lands(Heap& heap) {
  static Heap* target = nullptr;
  target = &heap;
  struct late_free {
    void* block = nullptr;
    ~late_free() {
      if (block != nullptr) target->deallocate(block, 48);
    }
  };
  std::thread([&] {
    thread_local late_free holder;  // constructed before the cache's exit hook: destroyed after it
    holder.block = heap.allocate(48);
    for (int i = 0; i < 20; ++i) heap.deallocate(heap.allocate(48), 48);
  }).join();
  const auto s = heap.stats();
  REQUIRE(s.live_bytes == 0);
  REQUIRE(s.allocations == s.deallocations);
  REQUIRE(caches_alive<Heap>() == 0);
}

/// A block handed between threads, with what its contents must be.
struct handed_block {
  void* p;
  std::size_t size;
  std::size_t align;  // 0: the default
  unsigned char fill;
};

/// A small blocking queue: producers push, consumers pop until the producers are done.
class handover_queue {
 public:
  void push(handed_block b) {
    {
      std::lock_guard guard(mutex_);
      blocks_.push_back(b);
    }
    ready_.notify_one();
  }
  bool pop(handed_block& out) {
    std::unique_lock guard(mutex_);
    ready_.wait(guard, [&] { return !blocks_.empty() || producers_left_ == 0; });
    if (blocks_.empty()) return false;
    out = blocks_.front();
    blocks_.pop_front();
    return true;
  }
  void set_producers(int n) { producers_left_ = n; }
  void producer_done() {
    {
      std::lock_guard guard(mutex_);
      --producers_left_;
    }
    ready_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<handed_block> blocks_;
  int producers_left_ = 0;
};

struct workload {
  std::size_t objects = 3000;       ///< per producer, or per churning thread
  std::size_t max_size = 600;
  std::size_t large_every = 97;     ///< about one request in this many is large
  std::size_t max_large = 40000;
  std::uint32_t seed = 1;
};

/// A request drawn at random: mostly small, some large, some over-aligned.
inline handed_block draw(std::mt19937& rng, const workload& w) {
  handed_block b{nullptr, 0, 0, static_cast<unsigned char>(rng())};
  b.size = (w.large_every != 0 && rng() % w.large_every == 0) ? w.max_size + rng() % w.max_large
                                                              : 1 + rng() % w.max_size;
  if (rng() % 16 == 0) b.align = std::size_t{32} << (rng() % 3);
  return b;
}

template <class Alloc>
bool allocate_block(Alloc& heap, handed_block& b) {
  b.p = b.align == 0 ? heap.allocate(b.size) : heap.allocate(b.size, b.align);
  if (b.p == nullptr) return false;
  fill_block(b.p, b.size, b.fill);
  return true;
}

/// Checks the contents (false when damaged), then frees sized or unsized at random.
template <class Alloc>
bool free_block(Alloc& heap, const handed_block& b, std::mt19937& rng) {
  const bool intact = block_intact(b.p, b.size, b.fill);
  if (rng() % 4 == 0) heap.deallocate(b.p);
  else if (b.align == 0) heap.deallocate(b.p, b.size);
  else heap.deallocate(b.p, b.size, b.align);
  return intact;
}

struct run_result {
  std::atomic<std::size_t> damaged{0};      ///< blocks whose contents changed while live
  std::atomic<std::size_t> refused{0};      ///< allocations that returned nullptr
  std::atomic<std::size_t> foreign{0};      ///< blocks the heap said it does not own
};

/// Producers allocate and fill blocks, consumers on other threads check and free them.
template <class Alloc>
void producer_consumer(Alloc& heap, int producers, int consumers, const workload& w, run_result& r) {
  handover_queue queue;
  queue.set_producers(producers);
  std::vector<std::thread> threads;
  for (int t = 0; t < producers; ++t)
    threads.emplace_back([&, t] {
      std::mt19937 rng(w.seed * 100 + static_cast<std::uint32_t>(t));
      for (std::size_t i = 0; i < w.objects; ++i) {
        handed_block b = draw(rng, w);
        if (!allocate_block(heap, b)) {
          ++r.refused;
          continue;
        }
        if (!heap.owns(b.p)) ++r.foreign;
        queue.push(b);
      }
      queue.producer_done();
    });
  for (int t = 0; t < consumers; ++t)
    threads.emplace_back([&, t] {
      std::mt19937 rng(w.seed * 1000 + static_cast<std::uint32_t>(t));
      handed_block b;
      while (queue.pop(b))
        if (!free_block(heap, b, rng)) ++r.damaged;
    });
  for (auto& t : threads) t.join();
}

/// Each thread allocates, keeps up to `live` blocks, frees at random; all freed at the end.
template <class Alloc>
void churn(Alloc& heap, int threads_count, const workload& w, run_result& r, std::size_t live = 64) {
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_count; ++t)
    threads.emplace_back([&, t] {
      std::mt19937 rng(w.seed * 7919 + static_cast<std::uint32_t>(t));
      std::vector<handed_block> mine;
      for (std::size_t i = 0; i < w.objects; ++i) {
        if (mine.size() < live && (mine.empty() || rng() % 2 == 0)) {
          handed_block b = draw(rng, w);
          if (!allocate_block(heap, b)) {
            ++r.refused;
            continue;
          }
          mine.push_back(b);
        } else {
          const std::size_t k = rng() % mine.size();
          if (!free_block(heap, mine[k], rng)) ++r.damaged;
          mine[k] = mine.back();
          mine.pop_back();
        }
      }
      for (const handed_block& b : mine)
        if (!free_block(heap, b, rng)) ++r.damaged;
    });
  for (auto& t : threads) t.join();
}

/// After every thread that used the heap has been joined: nothing damaged, nothing live.
template <class Alloc>
void require_clean(Alloc& heap, const run_result& r) {
  REQUIRE(r.damaged == 0);
  REQUIRE(r.refused == 0);
  REQUIRE(r.foreign == 0);
  REQUIRE(heap.invariant());
  if constexpr (Alloc::has_stats) {
    const auto s = heap.stats();
    REQUIRE(s.live_bytes == 0);
    REQUIRE(s.allocations == s.deallocations);
  }
}

}  // namespace alloy::testing
