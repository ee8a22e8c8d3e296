// The reclaim axis (policy/reclaim.hpp): memory goes back to the system while the heap lives —
// whole chunks to the source, free pages decommitted (seen by the kernel: mincore), after the
// delay only, a bounded amount of work per slow-path call, under every threading policy.
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <alloc/alloy.hpp>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <utility>
#include <vector>

namespace P = alloy::policy;

namespace {

template <class... More>
using reclaiming = alloy::allocator<P::segregated_fit, P::reclaim::with<0>, P::stats, More...>;

/// Whether the page holding `p` is resident (the kernel's word, not the heap's).
bool resident(const void* p) {
  const auto page = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{4095};
  unsigned char v = 0;
  REQUIRE(::mincore(reinterpret_cast<void*>(page), 4096, &v) == 0);
  return (v & 1) != 0;
}

/// n blocks of `size`, each filled with its own index.
std::vector<void*> fill(auto& heap, std::size_t n, std::size_t size) {
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < n; ++i) {
    void* p = heap.allocate(size);
    REQUIRE(p != nullptr);
    std::memset(p, static_cast<int>(i & 0xff), size);
    blocks.push_back(p);
  }
  return blocks;
}

bool intact(void* p, std::size_t i, std::size_t size) {
  const auto* b = static_cast<const unsigned char*>(p);
  return std::all_of(b, b + size, [&](unsigned char c) { return c == (i & 0xff); });
}

}  // namespace

TEST_CASE("no_reclaim is the default and costs nothing", "[reclaim]") {
  using plain = alloy::allocator<P::segregated_fit, P::pow2_classes<8, 256>>;
  using spelled = alloy::allocator<P::segregated_fit, P::pow2_classes<8, 256>, P::no_reclaim>;
  STATIC_REQUIRE(std::is_same_v<plain, spelled>);
  STATIC_REQUIRE(sizeof(plain) == sizeof(typename plain::composition::heap));
  STATIC_REQUIRE(alloy::reclaim_policy<P::reclaim>);
  STATIC_REQUIRE(alloy::reclaim_policy<P::reclaim::with<5, 16, P::page_advice::free>>);
  STATIC_REQUIRE(std::is_same_v<alloy::allocator<P::reclaim>, alloy::allocator<P::reclaim::with<100>>>);
  CHECK(alloy::name_of<alloy::allocator<P::reclaim>>() == "segregated_fit + geometric_classes<16, 16384, 4> + single_thread + align<16> + reclaim");
  plain heap;
  CHECK(heap.trim() == 0);
}

TEST_CASE("trim gives wholly free class chunks back to the source", "[reclaim]") {
  reclaiming<> heap;
  auto blocks = fill(heap, 20000, 64);  // ~1.3 MiB: several 128 KiB chunks of one class
  const auto full = heap.stats();
  for (void* p : blocks) heap.deallocate(p, 64);
  CHECK(heap.stats().reserved_bytes == full.reserved_bytes);  // nothing moves before a reclaim
  CHECK(heap.trim() > 0);
  const auto after = heap.stats();
  CHECK(after.reserved_bytes < full.reserved_bytes / 10);  // the registry's table stays
  CHECK(after.reclaims > 0);
  CHECK(heap.invariant());
  // And the heap grows again from scratch.
  blocks = fill(heap, 20000, 64);
  for (std::size_t i = 0; i < blocks.size(); ++i) REQUIRE(intact(blocks[i], i, 64));
  CHECK(heap.invariant());
}

/// A block size, and the hardening that encodes (or not) the links a sweep rewrites.
template <std::size_t Size, class Hardening>
struct trim_case {
  static constexpr std::size_t size = Size;
  using heap = alloy::allocator<P::segregated_fit, Hardening, P::reclaim::with<0>, P::stats>;
};

// 1024 B: four blocks to a page. 1536 B: blocks straddle pages, so a page's last blocks may
// reach into a page that goes back (parked one by one, the rest of their page's sublist
// kept). Encoded links: a sweep relinks the blocks through the codec.
TEMPLATE_TEST_CASE("trim decommits the pages that hold only free blocks; live blocks keep their bytes", "[reclaim]",
                   (trim_case<1024, P::no_hardening>), (trim_case<1536, P::no_hardening>),
                   (trim_case<1536, P::hardened::with<P::encoded_links>>)) {
  typename TestType::heap heap;
  constexpr std::size_t size = TestType::size;
  auto blocks = fill(heap, 4000, size);
  std::mt19937 rng(7);
  std::vector<std::size_t> order(blocks.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<bool> live(blocks.size(), false);
  for (std::size_t k = 0; k < order.size(); ++k) {
    if (k < order.size() / 10) live[order[k]] = true;
    else heap.deallocate(blocks[order[k]], size);
  }
  const auto before = heap.stats();
  REQUIRE(before.committed_bytes == before.reserved_bytes);
  CHECK(before.pending_reclaim_bytes >= before.free_bytes / 2);
  heap.trim();
  const auto after = heap.stats();
  CHECK(after.committed_bytes < before.committed_bytes / 2);  // 90% free at random: most pages hold no live block
  CHECK(after.pending_reclaim_bytes < before.pending_reclaim_bytes);
  CHECK(after.free_bytes == before.free_bytes);  // parked blocks are still free blocks
  std::size_t freed_pages_resident = 0, freed_pages = 0;
  std::uintptr_t checked_page = 0;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (live[i]) {
      REQUIRE(intact(blocks[i], i, size));
      REQUIRE(resident(blocks[i]));
      continue;
    }
    // A page inside the blocks area (both ends in blocks of ours) that no live block overlaps
    // must be gone.
    const auto start = reinterpret_cast<std::uintptr_t>(blocks[i]);
    const auto page = (start + 4095) & ~std::uintptr_t{4095};
    if (page + 4096 > start + size + 4 * size) continue;
    const auto covered = [&](std::uintptr_t a) {
      return std::any_of(blocks.begin(), blocks.end(), [&](void* b) {
        return a >= reinterpret_cast<std::uintptr_t>(b) && a < reinterpret_cast<std::uintptr_t>(b) + size;
      });
    };
    bool all_free = covered(page) && covered(page + 4095);
    for (std::size_t j = 0; j < blocks.size() && all_free; ++j) {
      const auto b = reinterpret_cast<std::uintptr_t>(blocks[j]);
      if (live[j] && b < page + 4096 && b + size > page) all_free = false;
    }
    if (all_free && std::exchange(checked_page, page) != page) {
      ++freed_pages;
      freed_pages_resident += resident(reinterpret_cast<void*>(page));
    }
  }
  CHECK(freed_pages > 300);
  CHECK(freed_pages_resident == 0);
  CHECK(heap.invariant());
  // Growing again takes the parked blocks back before any new chunk.
  std::vector<void*> again;
  for (std::size_t k = 0; k < order.size() * 9 / 10; ++k) again.push_back(heap.allocate(size));
  CHECK(heap.stats().reserved_bytes <= before.reserved_bytes);
  CHECK(heap.stats().committed_bytes == heap.stats().reserved_bytes);
  for (std::size_t i = 0; i < blocks.size(); ++i)
    if (live[i]) REQUIRE(intact(blocks[i], i, size));
  std::sort(again.begin(), again.end());
  CHECK(std::adjacent_find(again.begin(), again.end()) == again.end());
  CHECK(heap.invariant());
}

TEST_CASE("nothing is reclaimed before the delay: freeing and allocating again at once makes no system call",
          "[reclaim]") {
  alloy::allocator<P::segregated_fit, P::reclaim::with<300>, P::stats> heap;
  auto blocks = fill(heap, 20000, 64);
  for (void* p : blocks) heap.deallocate(p, 64);
  // Slow paths of other classes: each is a chance for the reclaimer, which must wait.
  std::vector<void*> other;
  for (int i = 0; i < 200; ++i) other.push_back(heap.allocate(4096));
  blocks = fill(heap, 20000, 64);
  CHECK(heap.stats().reclaims == 0);
  for (void* p : blocks) heap.deallocate(p, 64);
  const auto freed = heap.stats();
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  for (int i = 0; i < 200; ++i) heap.layers().reclaim_tick();
  CHECK(heap.stats().reclaims > 0);
  // Pages decommitted or whole chunks given back (a refill carves a page at a time, so the
  // freed class's chunks may go back whole): either way less memory is committed.
  CHECK(heap.stats().committed_bytes < freed.committed_bytes);
  for (void* p : other) heap.deallocate(p, 4096);
  CHECK(heap.invariant());
}

TEST_CASE("each slow-path call does a bounded amount of work", "[reclaim]") {
  // 64 blocks per call: a sweep of 20000 free blocks tallies over ~313 calls, then settles a page at a time.
  alloy::allocator<P::segregated_fit, P::reclaim::with<0, 64>, P::stats> heap;
  auto blocks = fill(heap, 20000, 64);
  for (void* p : blocks) heap.deallocate(p, 64);
  // A new sweep starts at most once per tick of the clock: let it move past the fill's sweeps.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (int i = 0; i < 300; ++i) heap.layers().reclaim_tick();  // 19200 blocks: not yet all tallied
  CHECK(heap.stats().reclaims == 0);
  for (int i = 0; i < 400; ++i) heap.layers().reclaim_tick();
  CHECK(heap.stats().reclaims > 0);
  CHECK(heap.stats().reserved_bytes < 20000 * 64 / 10);
  CHECK(heap.invariant());
}

TEST_CASE("MADV_FREE on request: the pages count as decommitted, the blocks come back", "[reclaim]") {
  alloy::allocator<P::segregated_fit, P::reclaim::with<0, 4096, P::page_advice::free>, P::stats> heap;
  auto blocks = fill(heap, 4000, 1024);
  for (std::size_t i = 0; i < blocks.size(); ++i)
    if (i % 8 != 0) heap.deallocate(blocks[i], 1024);
  heap.trim();
  CHECK(heap.stats().committed_bytes < heap.stats().reserved_bytes);
  for (std::size_t i = 0; i < blocks.size(); i += 8) REQUIRE(intact(blocks[i], i, 1024));
  auto again = fill(heap, 3500, 1024);
  CHECK(heap.invariant());
}

TEST_CASE("the tlsf heap decommits the inside of its free blocks", "[reclaim]") {
  alloy::allocator<P::tlsf, P::reclaim::with<0>, P::stats> heap;
  void* keep = heap.allocate(100);
  void* big = heap.allocate(4 << 20);
  REQUIRE(big != nullptr);
  std::memset(big, 1, 4 << 20);
  // In the rest of big's chunk (more than keep's 64 KiB chunk holds), so that chunk stays in use
  // when big is freed: big's chunk is sized to big's good fit, a request class above big itself.
  void* tail = heap.allocate(100 << 10);
  heap.deallocate(big);
  const auto before = heap.stats();
  CHECK(heap.trim() > 0);
  const auto after = heap.stats();
  CHECK(after.reserved_bytes == before.reserved_bytes);
  CHECK(after.committed_bytes + (4 << 20) - 8192 <= before.committed_bytes);
  CHECK(!resident(static_cast<char*>(big) + (1 << 20)));
  void* again = heap.allocate(3 << 20);  // from the decommitted block: its pages come back
  REQUIRE(again != nullptr);
  std::memset(again, 2, 3 << 20);
  CHECK(heap.stats().reserved_bytes == before.reserved_bytes);
  CHECK(heap.stats().committed_bytes >= after.committed_bytes + (3 << 20));  // counted as committed again
  heap.deallocate(again);
  heap.deallocate(keep);
  heap.deallocate(tail);
  CHECK(heap.invariant());
}

TEST_CASE("trim gives the coalescing heaps' spare chunk back", "[reclaim]") {
  alloy::allocator<P::segregated_fit::with<0, P::tlsf>, P::reclaim::with<0>, P::stats> heap;
  void* small = heap.allocate(100);
  void* big = heap.allocate(2 << 20);  // a tlsf chunk of its own, wholly free once big is: the spare
  void* big2 = heap.allocate(2 << 20);
  std::memset(big, 1, 2 << 20);
  heap.deallocate(big);
  const auto before = heap.stats();
  CHECK(heap.trim() > 0);
  CHECK(heap.stats().reserved_bytes + (2 << 20) <= before.reserved_bytes);
  heap.deallocate(big2);
  heap.deallocate(small);
  CHECK(heap.invariant());
}

using threadings = boost::mp11::mp_list<P::single_thread, P::locked<>, P::thread_local_cache>;
TEMPLATE_LIST_TEST_CASE("reclaiming works under every threading policy", "[reclaim][threading]", threadings) {
  auto heap = std::make_unique<reclaiming<TestType>>();
  auto blocks = fill(*heap, 20000, 512);
  for (void* p : blocks) heap->deallocate(p, 512);
  CHECK(heap->trim() > 0);
  const auto s = heap->stats();
  CHECK(s.committed_bytes < 20000 * 512 / 10);
  CHECK(heap->invariant());
}

TEST_CASE("under thread_local_cache, progress comes from refills and flushes; an idle thread's cache stays its own",
          "[reclaim][threading]") {
  using heap_type = alloy::allocator<P::segregated_fit, P::reclaim::with<0, 256>, P::stats, P::thread_local_cache>;
  auto heap = std::make_unique<heap_type>();
  std::atomic<int> phase{0};
  std::vector<void*> idle_blocks;
  std::thread idle([&] {
    idle_blocks = fill(*heap, 20000, 512);
    for (std::size_t i = 0; i < idle_blocks.size(); ++i) heap->deallocate(idle_blocks[i], 512);  // its cache keeps ~32 KiB
    phase = 1;
    while (phase != 2) std::this_thread::yield();  // idle, alive: its cache is not flushed
  });
  while (phase != 1) std::this_thread::yield();
  // This thread's own traffic in another class drives the reclaimer through its refills and
  // flushes (100 blocks: more than a bin of 64 holds), for 200 ms (a new sweep starts at most
  // once per tick of the clock).
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  while (std::chrono::steady_clock::now() < until) {
    std::vector<void*> mine;
    for (int i = 0; i < 100; ++i) mine.push_back(heap->allocate(100));
    for (void* p : mine) heap->deallocate(p, 100);
  }
  const std::size_t during = heap->stats().committed_bytes;
  CHECK(during < 20000 * 512 / 4);
  phase = 2;
  idle.join();  // its cache goes back to the heap
  heap->trim();
  CHECK(heap->stats().committed_bytes <= during);
  CHECK(heap->invariant());
}
