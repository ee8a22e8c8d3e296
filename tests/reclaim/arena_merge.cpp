// Bounded arenas give memory back too (issue 16, item 6): a chunk a heap frees into a
// static_arena merges there with its free neighbours, so a heap over an arena can always serve
// again what it served from the same state.
#include <catch2/catch.hpp>

#include <alloc/alloy.hpp>
#include <memory>
#include <random>
#include <vector>

namespace P = alloy::policy;

namespace {
using realtime = alloy::allocator<P::tlsf, P::static_arena<(1 << 20)>>;
}

TEST_CASE("tlsf over a 1 MiB arena serves 700000 after 600000 was freed, as a fresh heap does", "[reclaim][arena]") {
  auto fresh = std::make_unique<realtime>();
  void* a = fresh->allocate(16);
  void* big = fresh->allocate(700000);
  CHECK(big != nullptr);
  fresh->deallocate(big);
  fresh->deallocate(a);

  auto heap = std::make_unique<realtime>();
  void* live = heap->allocate(16);
  void* first = heap->allocate(600000);
  REQUIRE(first != nullptr);
  heap->deallocate(first);
  void* second = heap->allocate(700000);
  CHECK(second != nullptr);
  heap->deallocate(second);
  heap->deallocate(live);
  CHECK(heap->invariant());
}

TEST_CASE("from one state, a heap over an arena serves again every request it served", "[reclaim][arena]") {
  // The bound the real-time composition keeps: with the blocks of state S live, after any
  // work whose blocks are all freed again, the heap holds S's chunks and at most one spare
  // chunk, which goes back to the arena (and merges there) when the arena refuses; so every
  // request S could serve is served again, whatever happened in between.
  std::mt19937 rng(11);
  for (int trial = 0; trial < 50; ++trial) {
    auto heap = std::make_unique<realtime>();
    std::vector<void*> state;
    for (int i = 0; i < 8; ++i) state.push_back(heap->allocate(16 + rng() % 2000));
    std::vector<std::size_t> servable;  // single requests S serves (each freed at once)
    for (int i = 0; i < 40; ++i) {
      const std::size_t size = 1 + rng() % 1000000;
      if (void* p = heap->allocate(size); p != nullptr) {
        servable.push_back(size);
        heap->deallocate(p);
      }
    }
    REQUIRE(!servable.empty());
    std::vector<void*> got;  // work in between: random sizes until the arena refuses, then all freed
    for (;;) {
      void* p = heap->allocate(1 + rng() % ((rng() % 4 == 0) ? 400000 : 20000));
      if (p == nullptr) break;
      got.push_back(p);
    }
    std::shuffle(got.begin(), got.end(), rng);
    for (void* p : got) heap->deallocate(p);
    for (std::size_t size : servable) {
      void* p = heap->allocate(size);
      REQUIRE(p != nullptr);
      heap->deallocate(p);
    }
    REQUIRE(heap->invariant());
    for (void* p : state) heap->deallocate(p);
  }
}

TEST_CASE("the arena finds a free run in one pass, at any alignment, and freed chunks merge", "[reclaim][arena]") {
  auto arena = std::make_unique<P::static_arena<64 * 1024>>();  // 64 pages of 1 KiB
  std::vector<void*> pages;
  for (int i = 0; i < 64; ++i) pages.push_back(arena->allocate_chunk(1024, 1024));
  REQUIRE(pages.back() != nullptr);
  CHECK(arena->allocate_chunk(1024, 1024) == nullptr);
  for (int i = 0; i < 64; i += 2) arena->deallocate_chunk(pages[i], 1024);  // every other page free
  CHECK(arena->allocate_chunk(2048, 1024) == nullptr);                     // no two free pages touch
  arena->deallocate_chunk(pages[9], 1024);                                  // pages 8, 9, 10 free: a run of 3
  void* three = arena->allocate_chunk(3072, 1024);
  CHECK(three == pages[8]);
  arena->deallocate_chunk(three, 3072);
  for (int i = 11; i < 32; i += 2) arena->deallocate_chunk(pages[i], 1024);  // pages 8..32 free: holds 8 KiB at 8 KiB
  void* aligned = arena->allocate_chunk(8192, 8192);
  CHECK(aligned != nullptr);
  CHECK(reinterpret_cast<std::uintptr_t>(aligned) % 8192 == 0);
}
