// locked<Mutex> and alloy::spin_mutex: mutual exclusion, the Lockable contract, names and
// properties, and the stats of a locked heap read from another thread.
#include "threading_support.hpp"

#include <policy/threading/spin_mutex.hpp>

using namespace alloy::testing;

TEST_CASE("spin_mutex excludes: a plain counter under it loses no increment", "[threading][spin_mutex]") {
  alloy::spin_mutex m;
  std::size_t counter = 0;  // deliberately not atomic: TSan and the total catch a broken lock
  constexpr std::size_t per_thread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (std::size_t i = 0; i < per_thread; ++i) {
        std::lock_guard guard(m);
        ++counter;
      }
    });
  for (auto& t : threads) t.join();
  REQUIRE(counter == 4 * per_thread);
}

TEST_CASE("spin_mutex meets Lockable: try_lock fails while held, succeeds once free", "[threading][spin_mutex]") {
  STATIC_REQUIRE(alloy::lockable<alloy::spin_mutex>);
  STATIC_REQUIRE(alloy::lockable<std::mutex>);
  STATIC_REQUIRE(!alloy::lockable<int>);
  alloy::spin_mutex m;
  REQUIRE(m.try_lock());
  bool other_got_it = true;
  std::thread([&] { other_got_it = m.try_lock(); }).join();
  REQUIRE_FALSE(other_got_it);
  m.unlock();
  std::thread([&] {
    other_got_it = m.try_lock();
    if (other_got_it) m.unlock();
  }).join();
  REQUIRE(other_got_it);
}

namespace {
using spin_heap = alloy::allocator<P::segregated_fit, P::pow2_classes<8, 256>, P::locked<alloy::spin_mutex>, P::stats>;
using mutex_heap = alloy::allocator<P::segregated_fit, P::pow2_classes<8, 256>, P::locked<>, P::align<16>>;
}  // namespace

TEST_CASE("locked<> names itself and publishes thread safety", "[threading][locked]") {
  STATIC_REQUIRE(spin_heap::properties.thread_safe);
  STATIC_REQUIRE(mutex_heap::properties.thread_safe);
  STATIC_REQUIRE(!alloy::allocator<P::segregated_fit>::properties.thread_safe);
  STATIC_REQUIRE(std::is_same_v<alloy::allocator<P::locked<>>, alloy::allocator<P::locked<std::mutex>>>);
  STATIC_REQUIRE(alloy::threading_policy<P::locked<>>);
  STATIC_REQUIRE(alloy::threading_policy<P::locked<alloy::spin_mutex>>);
  STATIC_REQUIRE(alloy::threading_policy<P::thread_local_cache>);
  STATIC_REQUIRE(alloy::threading_policy<P::thread_local_cache::with<8, 4>>);
  REQUIRE(alloy::name_of<spin_heap>() == "segregated_fit + pow2_classes<8, 256> + locked<alloy::spin_mutex> + align<16> + stats");
  REQUIRE(alloy::name_of<mutex_heap>() == "segregated_fit + pow2_classes<8, 256> + locked<std::mutex> + align<16>");
}

TEST_CASE("a locked heap's stats are read safely while other threads allocate", "[threading][locked]") {
  spin_heap heap;
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> bad_readings{0};
  std::thread reader([&] {
    while (!stop.load()) {
      const auto s = heap.stats();
      if (s.allocations < s.deallocations || s.peak_live_bytes < s.live_bytes) ++bad_readings;
    }
  });
  run_result r;
  workload w;
  w.max_size = 256;
  w.large_every = 0;
  churn(heap, 3, w, r);
  stop = true;
  reader.join();
  REQUIRE(bad_readings == 0);
  require_clean(heap, r);
}

TEST_CASE("with_lock runs several operations of the heap below as one", "[threading][locked]") {
  spin_heap heap;
  void* pair[2];
  heap.layers().with_lock([&](auto& below) noexcept {
    pair[0] = below.allocate(32, 16);
    pair[1] = below.allocate(32, 16);
  });
  REQUIRE(pair[0] != nullptr);
  REQUIRE(pair[1] != nullptr);
  REQUIRE(pair[0] != pair[1]);
  // The heap below the lock is below the counters too: stats count the user's calls only.
  REQUIRE(heap.stats().allocations == 0);
  REQUIRE(heap.layers().lock()->owns(pair[0]));
  heap.layers().with_lock([&](auto& below) noexcept {
    below.deallocate(pair[0], 32, 16);
    below.deallocate(pair[1], 32, 16);
  });
  REQUIRE(heap.stats().live_bytes == 0);
  REQUIRE(heap.invariant());
}
