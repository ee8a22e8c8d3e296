// thread_local_cache where naive designs fail: threads that exit with blocks in their caches,
// several instances of one type used at once, an instance destroyed (or released) while other
// threads still hold caches for it, frees from thread_local destructors after the cache table
// is gone — and stats exact once threads are joined.
#include "threading_support.hpp"

#include <algorithm>
#include <cstring>
#include <memory>

using namespace alloy::testing;

namespace {

// Distinct types per test, so each test's cache count starts from its own zero.
template <int Tag>
using cached_heap = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 1024>,
                                     P::thread_local_cache::with<8 + Tag, 4>, P::stats>;

}  // namespace

TEST_CASE("thread_local_cache names itself, is thread safe, and is as small as its parts",
          "[threading][thread_local_cache]") {
  using heap = alloy::allocator<P::thread_local_cache, P::pow2_classes<8, 256>>;
  STATIC_REQUIRE(heap::properties.thread_safe);
  REQUIRE(alloy::name_of<heap>() == "segregated_fit + pow2_classes<8, 256> + thread_local_cache + align<16>");
  REQUIRE(alloy::name_of<cached_heap<0>>() ==
          "segregated_fit + pow2_classes<16, 1024> + thread_local_cache::with<8, 4> + align<16> + stats");
}

TEST_CASE("a segregated heap takes and gives a thread cache's batches whole", "[threading][thread_local_cache]") {
  // Refill and flush fall back to a pop and a push per block when the heap offers no chain
  // moves; segregated fit offers them, and the layer must see them (it once did not: the heap
  // declared them private, and every refill took the per-block path unnoticed).
  using segregated = layers_of<cached_heap<0>>;
  using default_malloc = layers_of<alloy::allocator<P::segregated_fit::with<(1 << 20), P::tlsf>, P::geometric_classes<16, 4096, 4>,
                                                    P::thread_local_cache, P::reclaim::with<100>>>;
  using hardened = layers_of<alloy::allocator<P::segregated_fit, P::geometric_classes<16, 4096, 4>, P::thread_local_cache, P::hardened>>;
  using over_tlsf = layers_of<alloy::allocator<P::tlsf, P::geometric_classes<16, 16384, 4>, P::thread_local_cache>>;
  STATIC_REQUIRE(segregated::moves_chains);
  STATIC_REQUIRE(default_malloc::moves_chains);
  STATIC_REQUIRE(hardened::moves_chains);
  STATIC_REQUIRE_FALSE(over_tlsf::moves_chains);  // a heap without class lists: block by block
}

TEST_CASE("threads that exit give their cached blocks back: create-and-exit loops", "[threading][thread_local_cache]") {
  using heap_type = cached_heap<1>;
  heap_type heap;
  std::size_t damaged = 0;
  for (int round = 0; round < 40; ++round) {
    std::vector<handed_block> handed[2];
    std::atomic<std::size_t> local_damage{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t)
      threads.emplace_back([&, t] {
        std::mt19937 rng(static_cast<std::uint32_t>(round * 2 + t));
        workload w;
        w.max_size = 1024;
        w.large_every = 0;
        std::vector<handed_block> mine;
        for (int i = 0; i < 200; ++i) {
          handed_block b = draw(rng, w);
          if (allocate_block(heap, b)) mine.push_back(b);
        }
        // Free half here (they stay in this thread's cache), hand the rest to the main thread.
        for (std::size_t i = 0; i < mine.size(); ++i) {
          if (i % 2 == 0) {
            if (!free_block(heap, mine[i], rng)) ++local_damage;
          } else {
            handed[t].push_back(mine[i]);
          }
        }
      });
    for (auto& t : threads) t.join();
    REQUIRE(local_damage == 0);
    std::mt19937 rng(static_cast<std::uint32_t>(round));
    for (auto& list : handed)
      for (const handed_block& b : list) damaged += !free_block(heap, b, rng);
    // The exited threads' caches are gone; only the main thread's (it freed blocks) lives.
    REQUIRE(caches_alive<heap_type>() == 1);
    const auto s = heap.stats();
    REQUIRE(s.live_bytes == 0);
    REQUIRE(s.allocations == s.deallocations);
  }
  REQUIRE(damaged == 0);
  REQUIRE(heap.invariant());
}

TEST_CASE("two instances of one type used from two threads at once never mix blocks",
          "[threading][thread_local_cache]") {
  using heap_type = cached_heap<2>;
  heap_type a, b;
  heap_type* heaps[2] = {&a, &b};
  std::mutex mailbox_mutex;
  std::vector<std::pair<int, handed_block>> mailbox[2];  // (instance, block) for each thread
  std::atomic<std::size_t> damaged{0}, foreign{0};
  std::atomic<int> finished{0};
  auto worker = [&](int self) {
    std::mt19937 rng(static_cast<std::uint32_t>(self + 5));
    workload w;
    w.max_size = 1024;
    w.large_every = 0;
    for (int i = 0; i < 4000; ++i) {
      const int which = static_cast<int>(rng() % 2);
      handed_block blk = draw(rng, w);
      if (!allocate_block(*heaps[which], blk)) continue;
      if (!heaps[which]->owns(blk.p) || heaps[1 - which]->owns(blk.p)) ++foreign;
      std::vector<std::pair<int, handed_block>> mine;
      {
        std::lock_guard guard(mailbox_mutex);
        mailbox[1 - self].emplace_back(which, blk);  // the other thread frees it
        mine.swap(mailbox[self]);
      }
      for (auto& [h, m] : mine) damaged += !free_block(*heaps[h], m, rng);
    }
    ++finished;
    while (finished.load() < 2) std::this_thread::yield();
    std::lock_guard guard(mailbox_mutex);
    for (auto& [h, m] : mailbox[self]) damaged += !free_block(*heaps[h], m, rng);
    mailbox[self].clear();
  };
  std::thread t0(worker, 0), t1(worker, 1);
  t0.join();
  t1.join();
  REQUIRE(damaged == 0);
  REQUIRE(foreign == 0);
  for (heap_type* h : heaps) {
    const auto s = h->stats();
    REQUIRE(s.live_bytes == 0);
    REQUIRE(s.allocations == s.deallocations);
    REQUIRE(h->invariant());
  }
  REQUIRE(caches_alive<heap_type>() == 0);  // the main thread never used them
}

TEST_CASE("destroying an instance while other threads still run leaves the others intact",
          "[threading][thread_local_cache]") {
  using heap_type = cached_heap<3>;
  heap_type survivor;
  auto doomed = std::make_unique<heap_type>();
  std::atomic<int> phase{0};
  std::atomic<std::size_t> damaged{0};
  heap_type* replacement = nullptr;
  std::thread worker([&] {
    std::mt19937 rng(11);
    workload w;
    w.max_size = 1024;
    w.large_every = 0;
    // Phase 0: blocks of the doomed instance go through this thread's cache for it.
    for (int i = 0; i < 300; ++i) {
      handed_block b = draw(rng, w);
      if (allocate_block(*doomed, b)) damaged += !free_block(*doomed, b, rng);
    }
    phase = 1;
    // Meanwhile the main thread destroys the doomed instance; this thread goes on with another.
    std::vector<handed_block> live;
    while (phase.load() < 2) {
      handed_block b = draw(rng, w);
      if (allocate_block(survivor, b)) live.push_back(b);
      if (live.size() > 40) {
        damaged += !free_block(survivor, live.front(), rng);
        live.erase(live.begin());
      }
    }
    // A new instance (perhaps at the doomed one's address) never sees the old cache.
    for (int i = 0; i < 300; ++i) {
      handed_block b = draw(rng, w);
      if (allocate_block(*replacement, b)) {
        if (!replacement->owns(b.p)) ++damaged;
        damaged += !free_block(*replacement, b, rng);
      }
    }
    for (const handed_block& b : live) damaged += !free_block(survivor, b, rng);
  });
  while (phase.load() < 1) std::this_thread::yield();
  doomed.reset();
  doomed = std::make_unique<heap_type>();
  replacement = doomed.get();
  phase = 2;
  worker.join();
  REQUIRE(damaged == 0);
  REQUIRE(caches_alive<heap_type>() == 0);  // the worker's stale and live caches all went at exit
  for (heap_type* h : {&survivor, replacement}) {
    const auto s = h->stats();
    REQUIRE(s.live_bytes == 0);
    REQUIRE(s.allocations == s.deallocations);
    REQUIRE(h->invariant());
  }
}

TEST_CASE("release() while another thread holds cached blocks: they are never handed out again",
          "[threading][thread_local_cache]") {
  using heap_type = cached_heap<4>;
  heap_type heap;
  std::atomic<int> phase{0};
  std::atomic<std::size_t> bad{0};
  std::thread worker([&] {
    for (int i = 0; i < 6; ++i) heap.deallocate(heap.allocate(64), 64);  // warm this thread's cache
    phase = 1;
    while (phase.load() < 2) std::this_thread::yield();
    for (int i = 0; i < 100; ++i) {
      void* p = heap.allocate(64);
      if (p == nullptr || !heap.owns(p)) ++bad;
      else fill_block(p, 64, 3);
    }
  });
  while (phase.load() < 1) std::this_thread::yield();
  heap.release();
  phase = 2;
  worker.join();
  REQUIRE(bad == 0);
  REQUIRE(heap.invariant());
}

TEST_CASE("a free from a thread_local destructor after the cache table died still lands",
          "[threading][thread_local_cache]") {
  cached_heap<5> heap;
  require_free_after_thread_exit_lands(heap);
}

TEST_CASE("requests the caches do not serve go to the locked back end", "[threading][thread_local_cache]") {
  using heap_type = cached_heap<6>;
  heap_type heap;
  std::vector<void*> blocks;
  std::thread([&] {
    blocks.push_back(heap.allocate(5000));       // above the largest class
    blocks.push_back(heap.allocate(100, 256));   // over-aligned
    blocks.push_back(heap.allocate(24));         // cached
  }).join();
  REQUIRE(std::uintptr_t(blocks[1]) % 256 == 0);
  for (void* p : blocks) REQUIRE(heap.owns(p));
  heap.deallocate(blocks[0], 5000);
  heap.deallocate(blocks[1], 100, 256);
  heap.deallocate(blocks[2]);                    // unsized free of a cached-size block
  REQUIRE(heap.stats().live_bytes == 0);
  REQUIRE(heap.invariant());
}

TEST_CASE("a chunk that handed out a pointer into a block still frees each of its blocks, cached",
          "[threading][thread_local_cache]") {
  // 256-byte blocks sit 64 bytes past a 128-byte boundary (the chunk header comes first), so a
  // 128-aligned request from that class returns a pointer into its block: from then on the free
  // fast path cannot take a pointer in that chunk as a block's start, and the slow path divides.
  using heap_type = cached_heap<7>;
  heap_type heap;
  std::vector<void*> plain;
  for (int i = 0; i < 16; ++i) plain.push_back(heap.allocate(200));
  void* inner = heap.allocate(100, 128);
  REQUIRE(std::uintptr_t(inner) % 128 == 0);
  for (int i = 0; i < 16; ++i) plain.push_back(heap.allocate(200));
  for (std::size_t i = 0; i < plain.size(); ++i) std::memset(plain[i], int(i), 200);
  std::memset(inner, 0xAB, 100);
  std::thread([&] {  // unsized frees on another thread: the remote path, through the lookups
    for (std::size_t i = 0; i < plain.size(); i += 2) heap.deallocate(plain[i]);
    heap.deallocate(inner);
  }).join();
  for (std::size_t i = 1; i < plain.size(); i += 2) {
    REQUIRE(static_cast<unsigned char*>(plain[i])[199] == static_cast<unsigned char>(i));
    heap.deallocate(plain[i]);
  }
  REQUIRE(heap.stats().live_bytes == 0);
  REQUIRE(heap.invariant());
  // The blocks came back as whole blocks: each is handed out again at a block's start.
  std::vector<void*> again;
  for (int i = 0; i < 33; ++i) again.push_back(heap.allocate(200));
  std::sort(again.begin(), again.end());
  for (std::size_t i = 0; i + 1 < again.size(); ++i)  // no overlap: no pointer into a block came back as one
    REQUIRE(static_cast<char*>(again[i]) + 200 <= static_cast<char*>(again[i + 1]));
  for (void* p : again) heap.deallocate(p, 200);
  REQUIRE(heap.invariant());
}

TEST_CASE("a thread gets back the batches it parked; another takes them once a handoff piles them up",
          "[threading][thread_local_cache]") {
  // Bins of 64 blocks of 32 bytes that flush and refill 32 at a time, parked as parcels. Each
  // thread parks on its own home: a thread whose use of a size wavers gets its own blocks again
  // (its cache lines stay its own), and only a pile of parked parcels — a consumer's, whose
  // producer never parks — goes to a thread of another home.
  using heap_type = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 1024>, P::thread_local_cache::with<64, 32>, P::stats>;
  heap_type heap;
  auto take = [&](std::size_t n) {
    std::vector<void*> blocks;
    for (std::size_t i = 0; i < n; ++i) blocks.push_back(heap.allocate(32));
    return blocks;
  };
  auto give = [&](const std::vector<void*>& blocks) {
    for (void* b : blocks) heap.deallocate(b, 32);
  };
  auto shared = [](const std::vector<void*>& a, const std::vector<void*>& b) {
    return std::any_of(a.begin(), a.end(), [&](void* p) { return std::find(b.begin(), b.end(), p) != b.end(); });
  };
  const auto mine = take(128);
  give(mine);  // a full bin of 64, and two parcels parked on this thread's home as it overflowed
  std::vector<void*> other;
  std::thread([&] {
    other = take(32);  // an empty bin on another home: two parcels are no pile, so fresh blocks
    give(other);
  }).join();
  CHECK_FALSE(shared(other, mine));
  auto again = take(128);  // the bin's 64, then the two parcels this thread parked
  std::sort(again.begin(), again.end());
  auto sorted_mine = mine;
  std::sort(sorted_mine.begin(), sorted_mine.end());
  CHECK(again == sorted_mine);
  give(again);

  const auto pile = take(192);
  give(pile);  // now four parcels parked: a pile, which another home's refill takes
  std::thread([&] {
    other = take(32);
    give(other);
  }).join();
  CHECK(shared(other, pile));
  REQUIRE(heap.invariant());
  REQUIRE(heap.stats().live_bytes == 0);
}

TEST_CASE("an exhausted arena loses nothing: a full bin with no parcel to park in gives its batch back as a chain",
          "[threading][thread_local_cache]") {
  // A parcel is a block of the heap: in an arena the blocks used up, a flush gets none and
  // gives its batch back to the heap's class list instead. Every block comes back: the same
  // count is handed out again, contents intact, and nothing is handed out twice.
  using heap_type = alloy::allocator<P::segregated_fit, P::thread_local_cache, P::static_arena<(1 << 18)>,
                                     P::pow2_classes<16, 1024>, P::align<16>>;
  auto heap = std::make_unique<heap_type>();
  auto fill = [&] {
    std::vector<void*> blocks;
    while (void* p = heap->allocate(48)) {
      fill_block(p, 48, static_cast<unsigned char>(blocks.size()));
      blocks.push_back(p);
    }
    return blocks;
  };
  const auto first = fill();
  REQUIRE(first.size() > 1000);
  for (std::size_t i = 0; i < first.size(); ++i) {
    CHECK(block_intact(first[i], 48, static_cast<unsigned char>(i)));
    heap->deallocate(first[i], 48);
  }
  REQUIRE(heap->invariant());
  auto second = fill();
  CHECK(second.size() == first.size());
  std::sort(second.begin(), second.end());
  CHECK(std::adjacent_find(second.begin(), second.end()) == second.end());
  for (void* p : second) heap->deallocate(p, 48);
  REQUIRE(heap->invariant());
}

TEST_CASE("the fast halves read nothing but the id of an instance not built yet",
          "[threading][thread_local_cache]") {
  // The process malloc calls allocate_cached and deallocate_cached on its heap's static
  // storage without testing whether the heap is built: zero-filled, they must answer "no"
  // (nullptr, false) and touch nothing else — on a thread with no cache, and on one whose
  // current cache belongs to another, live instance of the same type.
  using heap_type = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 1024>, P::thread_local_cache>;
  alignas(heap_type) static unsigned char zeroed[sizeof(heap_type)];
  auto& unbuilt = *reinterpret_cast<heap_type*>(zeroed);
  heap_type live;
  void* block = live.allocate(64);
  auto probe = [&] {
    REQUIRE(unbuilt.layers().allocate_cached(64) == nullptr);
    REQUIRE_FALSE(unbuilt.layers().deallocate_cached(block));
    REQUIRE_FALSE(unbuilt.layers().deallocate_cached(nullptr));
  };
  std::thread(probe).join();  // no cache on that thread
  probe();                    // this thread's current cache is `live`'s
  REQUIRE(std::all_of(std::begin(zeroed), std::end(zeroed), [](unsigned char b) { return b == 0; }));
  live.deallocate(block, 64);
}
