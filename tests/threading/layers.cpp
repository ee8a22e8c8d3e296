// The seam between layers, over the whole threading axis: every documented call reaches its
// layer and behaves the same whatever the threading policy (README "Finding bugs",
// docs/architecture.md), and the thread cache sees the composition it sits in.
#include <catch2/catch.hpp>

#include <alloc/alloy.hpp>
#include <array>
#include <atomic>
#include <dlfcn.h>
#include <policy/all.hpp>
#include <sys/mman.h>
#include <thread>
#include <vector>

#include "../support/check_recorder.hpp"

namespace P = alloy::policy;

namespace {

using threading_axis = boost::mp11::mp_list<P::single_thread, P::locked<>, P::locked<alloy::spin_mutex>, P::thread_local_cache>;

template <class Threading>
using faulty = alloy::allocator<P::segregated_fit, Threading, P::fail_after>;
template <class Threading>
using counted = alloy::allocator<P::segregated_fit, Threading, P::stats>;
template <class Threading>
using checking = alloy::allocator<P::segregated_fit, Threading, P::checked, P::stats>;

}  // namespace

TEMPLATE_LIST_TEST_CASE("heap.layers().fail_after(n) fails the n+1-th request of any thread", "[threading][layers]",
                        threading_axis) {
  auto heap = std::make_unique<faulty<TestType>>();
  std::vector<void*> got;
  heap->layers().fail_after(3);
  for (int i = 0; i < 3; ++i) {
    got.push_back(heap->allocate(24));
    REQUIRE(got.back() != nullptr);
  }
  REQUIRE(heap->layers().failure_pending());
  REQUIRE(heap->allocate(24) == nullptr);  // served from no cache: the fault layer is above it
  REQUIRE_FALSE(heap->layers().failure_pending());
  REQUIRE(heap->layers().injected_failures() == 1);
  got.push_back(heap->allocate(24));
  REQUIRE(got.back() != nullptr);
  // Reached by the policy's type too, and counting every thread's requests.
  heap->template layer<P::fail_after>().fail_all_after(2);
  std::thread other([&] {
    for (int i = 0; i < 2; ++i) got.push_back(heap->allocate(48));
  });
  other.join();
  REQUIRE(heap->allocate(48) == nullptr);
  heap->layers().disarm();
  for (void* p : got) {
    REQUIRE(p != nullptr);
    heap->deallocate(p);
  }
  REQUIRE(heap->invariant());
}

TEMPLATE_LIST_TEST_CASE("stats() counts the user's calls and bytes whatever the threading", "[threading][layers]",
                        threading_axis) {
  auto heap = std::make_unique<counted<TestType>>();
  std::vector<void*> got;
  for (int i = 0; i < 1000; ++i) got.push_back(heap->allocate(20));
  auto s = heap->stats();
  REQUIRE(s.allocations == 1000);
  REQUIRE(s.requested_bytes == 20000);
  REQUIRE(s.granted_bytes == 1000 * heap->usable_size(got[0]));
  REQUIRE(s.internal_fragmentation() > 0.0);  // 20 bytes take a 32-byte block
  REQUIRE(s.live_bytes == s.granted_bytes);
  std::thread other([&] {
    for (void* p : got) heap->deallocate(p, 20);
  });
  other.join();
  s = heap->stats();
  REQUIRE(s.deallocations == 1000);
  REQUIRE(s.live_bytes == 0);
  REQUIRE(s.peak_live_bytes == 1000 * heap->usable_size(heap->allocate(20)));
}

TEMPLATE_LIST_TEST_CASE("checked reports name the allocator and catch double frees whatever the threading",
                        "[threading][layers][checks]", threading_axis) {
  using heap_type = checking<TestType>;
  alloy::testing::check_recorder recorder;
  auto heap = std::make_unique<heap_type>();
  void* p = heap->allocate(40);
  REQUIRE(p != nullptr);
  heap->deallocate(p, 40);
  heap->deallocate(p, 40);  // a double free, even when a thread cache sits below the checks
  REQUIRE(recorder.reports().size() == 1);
  REQUIRE(recorder.reports()[0].check == alloy::check::double_free);
  REQUIRE(recorder.reports()[0].allocator == alloy::name_of<heap_type>());
  REQUIRE(heap->layers().live_blocks() == 0);
  REQUIRE(heap->invariant());
}

TEMPLATE_LIST_TEST_CASE("deallocate(nullptr, n) is a no-op", "[threading][layers]", threading_axis) {
  alloy::allocator<P::segregated_fit, TestType, P::stats> heap;
  heap.deallocate(nullptr, 24);
  heap.deallocate(nullptr, 24, 64);
  heap.deallocate(nullptr, 1 << 20);
  heap.deallocate(nullptr);
  REQUIRE(heap.stats().deallocations == 0);
}

TEST_CASE("a thread-safe layer offers locked access to the heap below it", "[threading][layers]") {
  alloy::allocator<P::segregated_fit, P::thread_local_cache> heap;
  void* p = heap.allocate(64);
  {
    auto below = heap.layers().lock();  // the back end's lock is held while `below` lives
    REQUIRE(below->owns(p));
    REQUIRE(below->invariant());
  }
  heap.deallocate(p, 64);
}

// ---- the thread cache sees the design -------------------------------------------------

// ThreadSanitizer's runtime needs its own mmap interceptor from its first instruction on, before
// dlsym can answer, so the count below is taken in the other builds (release, ASan+UBSan).
#if defined(__SANITIZE_THREAD__)
#  define ALLOY_TEST_COUNTS_MMAP 0
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define ALLOY_TEST_COUNTS_MMAP 0
#  endif
#endif
#ifndef ALLOY_TEST_COUNTS_MMAP
#  define ALLOY_TEST_COUNTS_MMAP 1
#endif

#if ALLOY_TEST_COUNTS_MMAP
namespace {
std::atomic<long> mmap_calls{0};
}  // namespace

// Every mmap of this process passes here (the executable's definition interposes libc's), so a
// test can prove a composition made none.
extern "C" void* mmap(void* addr, std::size_t length, int prot, int flags, int fd, off_t offset) {
  mmap_calls.fetch_add(1, std::memory_order_relaxed);
  static auto* real = reinterpret_cast<void* (*)(void*, std::size_t, int, int, int, off_t)>(dlsym(RTLD_NEXT, "mmap"));
  return real(addr, length, prot, flags, fd, offset);
}

TEST_CASE("a static_arena composition makes no system call after construction, thread cache included",
          "[threading][layers]") {
  using arena_heap = alloy::allocator<P::segregated_fit, P::thread_local_cache, P::static_arena<(1 << 20)>,
                                      P::pow2_classes<16, 1024>, P::align<32>>;
  auto heap = std::make_unique<arena_heap>();
  std::thread warm([] {});  // thread start-up's own mappings happen before we count
  warm.join();
  const long before = mmap_calls.load();
  auto work = [&] {
    // A fixed array, not a vector: a thread's first malloc makes glibc map an arena of its
    // own, a system call this test would count against the heap.
    std::array<void*, 300> got{};
    for (int round = 0; round < 4; ++round) {
      for (std::size_t i = 0; i < got.size(); ++i) got[i] = heap->allocate(16 + i % 900);
      for (void* p : got) heap->deallocate(p);
    }
  };
  work();
  std::thread t1(work);  // thread stacks are mapped by the thread library: counted separately
  t1.join();
  const long with_thread = mmap_calls.load();
  work();
  REQUIRE(mmap_calls.load() == with_thread);
  REQUIRE(with_thread - before <= 1);  // at most the one stack the thread library mapped
  REQUIRE(heap->invariant());
}
#endif

TEST_CASE("the thread cache serves the composition's alignment from its classes", "[threading][layers]") {
  using aligned_heap = alloy::allocator<P::segregated_fit, P::thread_local_cache, P::align<64>, P::stats>;
  aligned_heap heap;
  std::vector<void*> got;
  for (int i = 0; i < 200; ++i) {
    got.push_back(heap.allocate(1 + i * 7 % 500));
    REQUIRE(alloy::detail::addr(got.back()) % 64 == 0);
  }
  // Unsized frees of class blocks go to the thread's cache: the same blocks come back.
  for (void* p : got) heap.deallocate(p);
  void* again = heap.allocate(1 + 199 * 7 % 500);
  REQUIRE(std::find(got.begin(), got.end(), again) != got.end());
  heap.deallocate(again);
  REQUIRE(heap.stats().live_bytes == 0);
}

TEST_CASE("a block parked in a thread cache is poisoned but for its link", "[threading][layers]") {
  if (!alloy::detail::poisoning_observable()) return;  // no memory checker in this build
  alloy::allocator<P::segregated_fit, P::thread_local_cache> heap;
  auto* p = static_cast<std::byte*>(heap.allocate(64));
  REQUIRE_FALSE(alloy::detail::is_poisoned(p, 64));
  heap.deallocate(p, 64);  // into this thread's bin: a heap free list, accessible only in its link
  REQUIRE_FALSE(alloy::detail::is_poisoned(p, sizeof(void*)));
  REQUIRE(alloy::detail::is_poisoned(p + sizeof(void*), 64 - sizeof(void*)));
  void* again = heap.allocate(64);
  REQUIRE(again == p);  // the bin hands the same block back, accessible in full
  REQUIRE_FALSE(alloy::detail::is_poisoned(p, 64));
  heap.deallocate(again, 64);
}
