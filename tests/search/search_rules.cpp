// Each search policy's own rule: which free block it chooses, how its complexity is published,
// and how it reallocates in place.
#include <catch2/catch.hpp>

#include <alloc/alloy.hpp>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "search_policies.hpp"

namespace P = alloy::policy;

namespace {

template <class Search>
using arena_heap = alloy::allocator<Search, P::static_arena<(1 << 18)>, P::stats>;

/// Blocks of the given sizes laid out in address order, each followed by a small guard block
/// that stays live so that freed blocks cannot merge.
template <class Heap>
struct laid_out {
  Heap& heap;
  std::vector<void*> blocks;
  std::vector<void*> guards;
  laid_out(Heap& h, std::initializer_list<std::size_t> sizes) : heap(h) {
    for (std::size_t s : sizes) {
      blocks.push_back(heap.allocate(s));
      guards.push_back(heap.allocate(16));
    }
    for (std::size_t i = 1; i < blocks.size(); ++i) REQUIRE(blocks[i - 1] < blocks[i]);
  }
};

}  // namespace

TEST_CASE("first fit takes the first adequate block in address order", "[search][first_fit]") {
  auto heap = std::make_unique<arena_heap<P::first_fit>>();
  laid_out l(*heap, {400, 200, 300});
  for (void* b : l.blocks) heap->deallocate(b);
  CHECK(heap->allocate(150) == l.blocks[0]);  // 400 comes first, though 200 fits tighter
  CHECK(heap->invariant());
}

TEST_CASE("best fit takes the tightest block and stops at an exact fit", "[search][best_fit]") {
  auto heap = std::make_unique<arena_heap<P::best_fit>>();
  laid_out l(*heap, {400, 200, 300, 200});
  for (void* b : l.blocks) heap->deallocate(b);
  CHECK(heap->allocate(150) == l.blocks[1]);  // the 200s are the tightest; the first of them
  CHECK(heap->allocate(250) == l.blocks[2]);  // 300 beats 400
  CHECK(heap->allocate(200) == l.blocks[3]);  // exact
  CHECK(heap->invariant());
}

TEST_CASE("next fit resumes where the last search stopped", "[search][next_fit]") {
  auto heap = std::make_unique<arena_heap<P::next_fit>>();
  laid_out l(*heap, {300, 300, 300});
  for (void* b : l.blocks) heap->deallocate(b);
  // Take the rest of the chunk whole, so that the rover moves past it and only the three are left.
  REQUIRE(heap->allocate(heap->stats().largest_free_block) != nullptr);
  CHECK(heap->allocate(300) == l.blocks[0]);  // takes the first block whole
  heap->deallocate(l.blocks[0]);              // ... and gives it back
  CHECK(heap->allocate(300) == l.blocks[1]);  // first fit would take blocks[0] again
  CHECK(heap->allocate(300) == l.blocks[2]);
  CHECK(heap->allocate(300) == l.blocks[0]);  // wraps around
  CHECK(heap->invariant());
}

TEST_CASE("tlsf finds a block whenever one of its good-fit classes holds one", "[search][tlsf]") {
  using index = alloy::detail::tlsf_index<P::no_hardening::link_codec>;
  // The class a request searches from holds only blocks large enough, and is at most one above
  // the request's own class: the good-fit law, for every block size.
  for (std::size_t need = 32; need <= (std::size_t{1} << 22); need += need < 8192 ? 16 : need / 64 + 16) {
    const auto own = index::class_of(need);
    const auto fit = index::good_fit_class(need);
    const auto first_size_of = [](index::class_index c) -> std::size_t {
      if (c.fl == 0) return std::size_t{c.sl} << 4;
      const unsigned f = c.fl + index::linear_log - 1;
      return (std::size_t{1} << f) + (std::size_t{c.sl} << (f - index::sl_log));
    };
    INFO("need " << need);
    REQUIRE(first_size_of(fit) >= need);
    REQUIRE(index::smallest_found(need) == first_size_of(fit));  // what the heap sizes a chunk by
    REQUIRE(first_size_of(own) <= need);
    REQUIRE(fit.fl * index::sl_count + fit.sl - (own.fl * index::sl_count + own.sl) <= 1);
  }
  // In a full heap, one free block of a good-fit class serves the request.
  auto heap = std::make_unique<arena_heap<P::tlsf>>();
  std::vector<void*> filler;
  while (void* p = heap->allocate(1000)) filler.push_back(p);
  REQUIRE(filler.size() > 100);
  heap->deallocate(filler[10]);  // one free block of 1024 + 16: class 1024
  CHECK(heap->allocate(900) != nullptr);  // 900 + 16 -> 928, searched from 928's class: found
  CHECK(heap->invariant());
}

TEST_CASE("tlsf gives a block freed at one size back to the next request of that size", "[search][tlsf]") {
  // The request's own class is skipped by the good fit (its blocks may be too small), but its
  // front block is tried first: a buffer freed and asked for again at the same size — each step
  // of a growing vector — comes back rather than costing fresh memory.
  auto heap = std::make_unique<arena_heap<P::tlsf>>();
  for (std::size_t size : {1000u, 3000u, 20000u, 70000u}) {
    INFO("size " << size);
    void* a = heap->allocate(size);
    void* guard = heap->allocate(64);  // so a does not merge with the free rest of the chunk
    REQUIRE(a != nullptr);
    REQUIRE(guard != nullptr);
    heap->deallocate(a);
    CHECK(heap->allocate(size) == a);
    heap->deallocate(a);
    CHECK(heap->allocate(size - 8) == a);  // a little less: the same class, the same block
    heap->deallocate(a);
    heap->deallocate(guard);
    CHECK(heap->invariant());
  }
}

TEST_CASE("over the kernel's pages, tlsf keeps freed chunks for the requests that took them, up to eight", "[search][tlsf][large]") {
  // Each block below is larger than all before it together, so each takes a chunk of its own,
  // sized by the request (not by the heap's quarter growth): a chunk sized exactly would be
  // skipped by the good fit of the very request that took it, and taken anew on every cycle.
  using heap_type = alloy::allocator<P::tlsf, P::stats>;  // system_pages: chunks are mappings
  auto heap = std::make_unique<heap_type>();
  std::vector<std::size_t> sizes;
  for (std::size_t s = 100000; sizes.size() < 10; s = 2 * s + 4096) sizes.push_back(s);
  std::vector<void*> first;
  for (std::size_t s : sizes) first.push_back(heap->allocate(s));
  const auto full = heap->stats();
  for (void* p : first) heap->deallocate(p);
  const auto emptied = heap->stats();
  // Ten chunks emptied: the eight largest are kept, the two smallest went back.
  CHECK(emptied.reserved_bytes < full.reserved_bytes);
  CHECK(emptied.reserved_bytes + 2 * (sizes[1] + (1 << 16)) >= full.reserved_bytes);
  CHECK(emptied.free_bytes >= sizes[2] + sizes[9]);
  // The eight largest again: each one's own chunk serves it, nothing is mapped.
  for (std::size_t i = 2; i < sizes.size(); ++i) CHECK(heap->allocate(sizes[i]) == first[i]);
  CHECK(heap->stats().reserved_bytes == emptied.reserved_bytes);
  CHECK(heap->stats().peak_reserved_bytes == full.peak_reserved_bytes);
  CHECK(heap->invariant());
}

TEST_CASE("the large-block heap of segregated_fit reuses its freed chunks round after round", "[search][tlsf][large]") {
  // xz's pattern (issue 17): two threads' dictionaries and buffers, 7-16 MiB, allocated and
  // freed every round; from the second round on the heap maps nothing.
  using heap_type = alloy::allocator<P::segregated_fit::with<0, P::tlsf>, P::stats>;
  auto heap = std::make_unique<heap_type>();
  const std::size_t sizes[] = {16777220, 8654848, 6828451, 16777220, 8654848, 6828451};
  std::size_t reserved_after_first = 0;
  for (int round = 0; round < 4; ++round) {
    std::vector<void*> live;
    for (std::size_t s : sizes) live.push_back(heap->allocate(s));
    for (void* p : live) REQUIRE(p != nullptr);
    for (void* p : live) heap->deallocate(p);
    if (round == 0) reserved_after_first = heap->stats().peak_reserved_bytes;
    INFO("round " << round);
    CHECK(heap->stats().peak_reserved_bytes == reserved_after_first);
  }
  CHECK(heap->invariant());
}

TEST_CASE("buddy splits by halves and merges back to one top block", "[search][buddy]") {
  using tuned = P::buddy::with<64, (1 << 16)>;
  auto heap = std::make_unique<arena_heap<tuned>>();
  void* a = heap->allocate(100);  // 100 + 16 -> a 128-byte block
  REQUIRE(a != nullptr);
  CHECK(heap->usable_size(a) == 128 - 16);
  void* b = heap->allocate(100);
  CHECK(alloy::detail::addr(b) - alloy::detail::addr(a) == 128);  // a's buddy, split off for it
  // One block of each order from 128 up to half the top block is free now.
  const auto split = heap->stats();
  CHECK(split.largest_free_block == (1 << 15) - 16);
  std::vector<void*> more;
  std::mt19937 rng(3);
  for (int i = 0; i < 200; ++i)
    if (void* p = heap->allocate(1 + rng() % 3000)) more.push_back(p);
  REQUIRE(heap->invariant());
  heap->deallocate(a, 100);
  heap->deallocate(b);
  for (void* p : more) heap->deallocate(p);
  const auto merged = heap->stats();
  REQUIRE(heap->invariant());
  CHECK(merged.free_bytes == (1 << 16) - 16);  // one top block, whole again
  CHECK(merged.largest_free_block == merged.free_bytes);
}

TEST_CASE("buddy sends what no order holds to the source, and refuses cleanly", "[search][buddy]") {
  auto heap = std::make_unique<alloy::allocator<P::buddy::with<32, 4096>, P::stats>>();
  void* big = heap->allocate(100000);  // over the 4 KiB top block: a chunk of its own
  REQUIRE(big != nullptr);
  CHECK(heap->usable_size(big) >= 100000);
  CHECK(heap->owns(big));
  CHECK(heap->reallocate(big, 100000, 90000) == big);  // still fits: stays put
  heap->deallocate(big, 90000);
  CHECK(heap->stats().reserved_bytes < 100000);  // given back
  CHECK_FALSE(heap->reserve(4096, 2));  // more than one top block: meaningless for a buddy heap
  CHECK(heap->reserve(64, 8));
  CHECK(heap->invariant());
}

TEST_CASE("buddy stays put while the new size fits the block, and sized free still works", "[search][buddy]") {
  auto heap = std::make_unique<arena_heap<P::buddy>>();
  void* a = heap->allocate(100);  // a 128-byte block
  std::memset(a, 0x77, 100);
  CHECK(heap->reallocate(a, 100, 112) == a);
  CHECK(heap->reallocate(a, 112, 20) == a);  // shrinking keeps the block
  void* moved = heap->reallocate(a, 20, 113);
  CHECK(moved != a);
  CHECK(static_cast<unsigned char*>(moved)[19] == 0x77);
  void* c = heap->reallocate(moved, 113, 5);
  CHECK(c == moved);
  heap->deallocate(c, 5);  // sized free with the size after the in-place reallocate
  CHECK(heap->stats().live_bytes == 0);
  CHECK(heap->invariant());
}

TEMPLATE_TEST_CASE("fits and tlsf reallocate in place: grow into a free neighbour, shrink by splitting",
                   "[search][reallocate]", P::first_fit, P::best_fit, P::next_fit, P::tlsf) {
  auto heap = std::make_unique<arena_heap<TestType>>();
  void* a = heap->allocate(100);
  void* b = heap->allocate(200);
  void* guard = heap->allocate(16);
  REQUIRE(a < b);
  std::memset(a, 0x5a, 100);
  heap->deallocate(b);
  CHECK(heap->reallocate(a, 100, 250) == a);  // grew into b's room
  CHECK(heap->usable_size(a) >= 250);
  CHECK(static_cast<unsigned char*>(a)[99] == 0x5a);
  const std::size_t free_before = heap->stats().free_bytes;
  CHECK(heap->reallocate(a, 250, 40) == a);   // shrank; the tail went back
  CHECK(heap->usable_size(a) < 100);
  CHECK(heap->stats().free_bytes >= free_before + 200);
  void* c = heap->allocate(200);
  CHECK(heap->invariant());
  heap->deallocate(a, 40);  // sized free with the new size
  heap->deallocate(c, 200);
  heap->deallocate(guard, 16);
  CHECK(heap->stats().live_bytes == 0);
  CHECK(heap->invariant());
}

TEST_CASE("segregated fit's tuned large path keeps large blocks in a coalescing tlsf", "[search][segregated_fit]") {
  using tuned = P::segregated_fit::with<0, P::tlsf>;
  using heap_type = alloy::allocator<tuned, P::pow2_classes<16, 1024>, P::static_arena<(1 << 18)>, P::stats>;
  auto heap = std::make_unique<heap_type>();
  void* small = heap->allocate(100);  // a class block
  void* a = heap->allocate(3000);     // large: in the tlsf
  void* b = heap->allocate(3000);
  void* guard = heap->allocate(3000);
  REQUIRE((small && a && b && guard));
  CHECK(heap->owns(a));
  CHECK(heap->usable_size(a) >= 3000);
  heap->deallocate(b, 3000);
  CHECK(heap->reallocate(a, 3000, 5000) == a);  // grew into b's room, in place
  void* moved = heap->reallocate(a, 5000, 50);  // small again: moves into a class
  CHECK(moved != a);
  CHECK(heap->usable_size(moved) < 100);
  heap->deallocate(moved);
  heap->deallocate(small);
  heap->deallocate(guard);
  CHECK(heap->invariant());
  CHECK(heap->stats().largest_free_block >= 12 * 1024);  // the large area coalesced
  CHECK(alloy::name_of<heap_type>().rfind("segregated_fit::with<0, tlsf>", 0) == 0);
  STATIC_REQUIRE(heap_type::properties.allocate_cost == "O(1)");
  STATIC_REQUIRE(alloy::allocator<P::segregated_fit::with<0, P::first_fit>>::properties.allocate_cost == "O(n)");
}

TEST_CASE("search policies publish their complexity", "[search][properties]") {
  using alloy::complexity;
  STATIC_REQUIRE(alloy::allocator<P::first_fit>::properties.allocate_cost == "O(n)");
  STATIC_REQUIRE(alloy::allocator<P::best_fit>::properties.allocate_cost == "O(n)");
  STATIC_REQUIRE(alloy::allocator<P::next_fit>::properties.allocate_cost == "O(n)");
  STATIC_REQUIRE(alloy::allocator<P::tlsf>::properties.allocate_cost == "O(1)");
  STATIC_REQUIRE(alloy::allocator<P::tlsf>::properties.free_cost == "O(1)");
  STATIC_REQUIRE(alloy::allocator<P::buddy>::properties.allocate_cost == "O(log n)");
  STATIC_REQUIRE(alloy::allocator<P::buddy>::properties.free_cost == "O(log n)");
  STATIC_REQUIRE(alloy::allocator<P::buddy>::properties.max_class_size == 0);
  STATIC_REQUIRE(alloy::allocator<P::first_fit>::properties.max_class_size == 0);
  STATIC_REQUIRE(alloy::allocator<P::tlsf>::properties.max_class_size == 0);
  CHECK(alloy::name_of<alloy::allocator<P::tlsf::with<(1 << 20)>, P::align<16>>>() ==
        "tlsf::with<1048576> + geometric_classes<16, 16384, 4> + single_thread + align<16>");
}
