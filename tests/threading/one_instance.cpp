// thread_local_cache::one_instance: each thread's cache lives in static TLS and the fast path
// tests no instance id, which is sound only while one instance of the type lives. Where that
// can fail: a thread whose cache outlives its instance (destroyed or released) and then serves
// the next one, frees after the thread's cache is gone, the process malloc's calls on storage
// where no instance is built yet, a second live instance, and hardening's checks on the cache.
#include "threading_support.hpp"

#include <alloc/malloc_override.hpp>
#include <algorithm>
#include <csignal>
#include <cstring>
#include <functional>
#include <memory>

#include "../hardening/child_process.hpp"

using namespace alloy::testing;

namespace {

// Distinct types per test: each has its own TLS caches and its own count of them.
template <int Tag>
using one_heap = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 1024>,
                                  P::thread_local_cache::with<8 + Tag, 4, true>, P::stats>;

/// A worker thread that runs the jobs it is given, one at a time, and outlives them.
class worker {
 public:
  worker() : thread_([this] { loop(); }) {}
  ~worker() {
    run([this] { stop_ = true; });
    thread_.join();
  }
  template <class F>
  void run(F f) {
    std::unique_lock lock(m_);
    job_ = f;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !job_; });
  }

 private:
  void loop() {
    std::unique_lock lock(m_);
    while (!stop_) {
      cv_.wait(lock, [&] { return static_cast<bool>(job_); });
      job_();
      job_ = nullptr;
      cv_.notify_all();
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::function<void()> job_;
  bool stop_ = false;
  std::thread thread_;
};

/// `count` blocks of 48 bytes from `heap`, each filled with `fill`, then freed: the thread's
/// bin holds some of them afterwards. Returns how many the heap did not own or came back damaged.
template <class Heap>
std::size_t cycle(Heap& heap, std::size_t count, unsigned char fill) {
  std::vector<void*> blocks;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < count; ++i) {
    void* p = heap.allocate(48);
    if (p == nullptr || !heap.owns(p)) {
      ++bad;
      continue;
    }
    std::memset(p, fill, 48);
    blocks.push_back(p);
  }
  for (void* p : blocks) {
    for (std::size_t b = 0; b < 48; ++b) bad += static_cast<unsigned char*>(p)[b] != fill;
    heap.deallocate(p, 48);
  }
  return bad;
}

}  // namespace

TEST_CASE("thread_local_cache::one_instance names itself and is the process heap's form",
          "[threading][one_instance]") {
  using heap = alloy::allocator<P::thread_local_cache::one_instance, P::pow2_classes<8, 256>>;
  REQUIRE(alloy::name_of<heap>() == "segregated_fit + pow2_classes<8, 256> + thread_local_cache::one_instance + align<16>");
  REQUIRE(alloy::name_of<one_heap<0>>() ==
          "segregated_fit + pow2_classes<16, 1024> + thread_local_cache::with<8, 4, true> + align<16> + stats");
  // The process heap is the one instance of its type by construction: its thread caches take
  // this form, and a type without a thread cache stays as declared.
  using declared = alloy::allocator<P::segregated_fit, P::thread_local_cache::with<8, 4>, P::pow2_classes<16, 1024>, P::stats>;
  STATIC_REQUIRE(std::is_same_v<alloy::process_type<declared>, one_heap<0>>);
  STATIC_REQUIRE(std::is_same_v<alloy::process_type<alloy::allocator<P::thread_local_cache>>,
                                alloy::allocator<P::thread_local_cache::one_instance>>);
  using locked = alloy::allocator<P::segregated_fit, P::locked<alloy::spin_mutex>>;
  STATIC_REQUIRE(std::is_same_v<alloy::process_type<locked>, locked>);
}

TEST_CASE("instances one after another: a thread's cache follows to the next, never holding the last one's blocks",
          "[threading][one_instance]") {
  using heap_type = one_heap<1>;
  worker w;
  for (int round = 0; round < 6; ++round) {
    auto heap = std::make_unique<heap_type>();
    std::size_t bad = 0;
    // The worker's cache attaches and keeps blocks in its bins when the job ends...
    w.run([&] { bad += cycle(*heap, 100, static_cast<unsigned char>(round)); });
    REQUIRE(bad == 0);
    REQUIRE(caches_alive<heap_type>() == 1);
    bad += cycle(*heap, 100, 0xEE);  // this thread's too
    REQUIRE(caches_alive<heap_type>() == 2);
    if (round % 2 == 0) {
      // ...and the instance goes while both threads live: their caches are emptied with it.
      heap.reset();
      REQUIRE(caches_alive<heap_type>() == 0);
    } else {
      // release(): every chunk back, the instance lives on; no thread may get an old block.
      heap->release();
      REQUIRE(caches_alive<heap_type>() == 0);
      w.run([&] { bad += cycle(*heap, 100, 0x5A); });
      bad += cycle(*heap, 100, 0xA5);
      REQUIRE(bad == 0);
      const auto s = heap->stats();
      REQUIRE(s.live_bytes == 0);
      heap.reset();
    }
    REQUIRE(bad == 0);
  }
  REQUIRE(caches_alive<heap_type>() == 0);
}

TEST_CASE("one_instance: threads that exit give their blocks back; more threads than cores",
          "[threading][one_instance]") {
  using heap_type = one_heap<2>;
  heap_type heap;
  std::atomic<std::size_t> bad{0};
  for (int round = 0; round < 10; ++round) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t)
      threads.emplace_back([&, t] { bad += cycle(heap, 64 + 16 * t, static_cast<unsigned char>(t)); });
    for (auto& t : threads) t.join();
  }
  REQUIRE(bad == 0);
  REQUIRE(caches_alive<heap_type>() == 0);
  const auto s = heap.stats();
  REQUIRE(s.live_bytes == 0);
  REQUIRE(s.allocations == s.deallocations);
  REQUIRE(heap.invariant());
}

TEST_CASE("one_instance: a free from a thread_local destructor after the cache gave its blocks back still lands",
          "[threading][one_instance]") {
  one_heap<3> heap;
  require_free_after_thread_exit_lands(heap);
}

TEST_CASE("one_instance: the fast halves answer no on storage where no instance is built",
          "[threading][one_instance]") {
  // The process malloc calls them on its heap's zero-filled storage before the heap is built:
  // no instance of the type lives then, so every thread's cache is unattached.
  using heap_type = one_heap<4>;
  alignas(heap_type) static unsigned char zeroed[sizeof(heap_type)];
  auto& unbuilt = *reinterpret_cast<heap_type*>(zeroed);
  alignas(16) static unsigned char foreign[64];
  auto probe = [&] {
    REQUIRE(unbuilt.layers().allocate_cached(64) == nullptr);
    REQUIRE_FALSE(unbuilt.layers().deallocate_cached(foreign));
    REQUIRE_FALSE(unbuilt.layers().deallocate_cached(foreign, 64));
    REQUIRE_FALSE(unbuilt.layers().deallocate_cached(nullptr));
  };
  std::thread(probe).join();  // a thread that never had a cache
  {
    heap_type gone;  // this thread's cache attaches to an instance that then goes
    gone.deallocate(gone.allocate(64), 64);
  }
  probe();
  REQUIRE(std::all_of(std::begin(zeroed), std::end(zeroed), [](unsigned char b) { return b == 0; }));
}

TEST_CASE("one_instance: a second live instance stops the program and says why", "[threading][one_instance]") {
  using heap_type = one_heap<5>;
  const auto outcome = run_in_child([] {
    heap_type first;
    heap_type second;  // stops here
    std::fprintf(stderr, "not stopped\n");
  });
  REQUIRE(outcome.signal == SIGABRT);
  REQUIRE(outcome.err.find("second live instance") != std::string::npos);
  REQUIRE(outcome.err.find("not stopped") == std::string::npos);
  {
    heap_type one_then;  // one after another is fine
  }
  heap_type another;
  another.deallocate(another.allocate(16), 16);
}

TEST_CASE("one_instance hardened: a double free through the cache stops the program", "[threading][one_instance]") {
  using heap_type = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 1024>, P::thread_local_cache::one_instance, P::hardened>;
  const auto outcome = run_in_child([] {
    heap_type heap;
    void* p = heap.allocate(48);
    heap.deallocate(p, 48);
    heap.deallocate(p, 48);  // the bin's head: refused
    std::fprintf(stderr, "not stopped\n");
  });
  REQUIRE(outcome.signal == SIGABRT);
  REQUIRE(outcome.err.find("double free") != std::string::npos);
}
