// segregated_fit end to end: the model-based random test over several compositions, bad input,
// exact ownership, pre-allocation, release and exhaustion of a fixed arena.
#include <catch2/catch.hpp>

#include <sys/mman.h>

#include <alloc/alloy.hpp>
#include <boost/mp11/list.hpp>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../support/model.hpp"
#include "custom_policy/fibonacci_classes.hpp"

namespace P = alloy::policy;

using compositions = boost::mp11::mp_list<
    alloy::allocator<P::segregated_fit, P::pow2_classes<8, 256>, P::align<16>, P::stats>,
    alloy::allocator<P::segregated_fit, P::linear_classes<16, 1024>, P::system_malloc, P::stats>,
    alloy::allocator<P::segregated_fit, P::geometric_classes<16, 4096, 4>, P::align<64>, P::stats>,
    alloy::allocator<P::segregated_fit::with<4096>, P::pow2_classes<8, 512>, P::static_arena<1 << 20>, P::stats>,
    alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>>,
    alloy::allocator<P::segregated_fit, example::fibonacci_classes<16, 4096>, P::stats>>;

TEMPLATE_LIST_TEST_CASE("segregated fit survives random operations against a model", "[segregated_fit][model]",
                        compositions) {
  auto heap = std::make_unique<TestType>();
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    alloy::testing::model_options o;
    o.seed = seed;
    o.max_large = 60000;  // fits the 1 MiB arena beside everything else
    alloy::testing::run_model(*heap, o);
  }
}

using small_objects = alloy::allocator<P::segregated_fit, P::pow2_classes<8, 256>, P::single_thread, P::align<16>, P::stats>;

TEST_CASE("bad input gets a documented answer and loses nothing", "[segregated_fit][bad_input]") {
  small_objects heap;
  void* keep = heap.allocate(48);
  REQUIRE(keep != nullptr);

  SECTION("size 0 gives a unique block that can be freed") {
    void* a = heap.allocate(0);
    void* b = heap.allocate(0);
    REQUIRE(a != nullptr);
    REQUIRE(b != nullptr);
    REQUIRE(a != b);
    heap.deallocate(a, 0);
    heap.deallocate(b);
  }
  SECTION("sizes that would overflow are refused") {
    CHECK(heap.allocate(SIZE_MAX) == nullptr);
    CHECK(heap.allocate(SIZE_MAX - 15) == nullptr);
    CHECK(heap.allocate(SIZE_MAX / 2 + 1) == nullptr);
    CHECK(heap.allocate(SIZE_MAX - 100, 64) == nullptr);
    CHECK(heap.allocate(16, std::size_t{1} << 63) == nullptr);
  }
  SECTION("alignments that are not powers of two are refused") {
    CHECK(heap.allocate(16, 0) == nullptr);
    CHECK(heap.allocate(16, 3) == nullptr);
    CHECK(heap.allocate(16, 48) == nullptr);
  }
  SECTION("small alignments are raised to the allocator's") {
    void* p = heap.allocate(5, 1);
    REQUIRE(reinterpret_cast<std::uintptr_t>(p) % 16 == 0);
    heap.deallocate(p, 5, 1);
  }
  SECTION("reallocate to an absurd size fails and leaves the block alone") {
    std::memset(keep, 0x5a, 48);
    CHECK(heap.reallocate(keep, 48, SIZE_MAX) == nullptr);
    CHECK(static_cast<unsigned char*>(keep)[47] == 0x5a);
  }
  SECTION("freeing null without a size is a no-op") { heap.deallocate(nullptr); }

  // Whatever happened above, the heap still works and accounts exactly.
  void* after = heap.allocate(100);
  REQUIRE(after != nullptr);
  heap.deallocate(after, 100);
  heap.deallocate(keep, 48);
  CHECK(heap.stats().live_bytes == 0);
  CHECK(heap.invariant());
}

TEST_CASE("ownership is exact between instances", "[segregated_fit]") {
  small_objects a, b;
  void* pa = a.allocate(32);
  void* pb = b.allocate(32);
  void* big = a.allocate(100000);
  int on_stack = 0;
  std::vector<char> on_heap(64);
  CHECK(a.owns(pa));
  CHECK(a.owns(big));
  CHECK_FALSE(a.owns(pb));
  CHECK_FALSE(b.owns(pa));
  CHECK_FALSE(b.owns(big));
  CHECK_FALSE(a.owns(&on_stack));
  CHECK_FALSE(a.owns(on_heap.data()));
  CHECK_FALSE(a.owns(nullptr));
  a.deallocate(pa);
  a.deallocate(big);
  b.deallocate(pb);
}

TEST_CASE("unsized free and usable_size work for every kind of block", "[segregated_fit]") {
  small_objects heap;
  for (std::size_t align : {16u, 32u, 64u, 128u, 4096u, 65536u, 1u << 20}) {
    for (std::size_t size : {1u, 100u, 256u, 257u, 5000u, 300000u}) {
      void* p = heap.allocate(size, align);
      REQUIRE(p != nullptr);
      REQUIRE(reinterpret_cast<std::uintptr_t>(p) % align == 0);
      REQUIRE(heap.usable_size(p) >= size);
      REQUIRE(heap.owns(p));
      std::memset(p, 0xab, size);
      heap.deallocate(p);
    }
  }
  CHECK(heap.stats().live_bytes == 0);
  CHECK(heap.invariant());
}

TEST_CASE("reserve warms a class so the first allocations carve nothing", "[segregated_fit]") {
  small_objects heap;
  REQUIRE(heap.reserve(64, 1000));
  const auto before = heap.stats();
  CHECK(before.free_bytes >= 64 * 1000);
  std::vector<void*> blocks;
  for (int i = 0; i < 1000; ++i) blocks.push_back(heap.allocate(64));
  CHECK(heap.stats().reserved_bytes == before.reserved_bytes);  // no new chunk was taken
  for (void* p : blocks) heap.deallocate(p, 64);
}

TEST_CASE("release gives everything back and the heap starts over", "[segregated_fit]") {
  small_objects heap;
  for (int i = 0; i < 1000; ++i) (void)heap.allocate(static_cast<std::size_t>(i % 300 + 1));
  (void)heap.allocate(1 << 20);
  CHECK(heap.stats().reserved_bytes > 0);
  heap.release();
  CHECK(heap.stats().reserved_bytes == 0);
  CHECK(heap.stats().live_bytes == 0);
  void* p = heap.allocate(24);
  REQUIRE(p != nullptr);
  heap.deallocate(p, 24);
  CHECK(heap.invariant());
}

TEST_CASE("an exhausted arena refuses cleanly and recovers", "[segregated_fit][static_arena]") {
  alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>, P::static_arena<65536>, P::stats> heap;
  std::vector<void*> blocks;
  while (void* p = heap.allocate(200)) blocks.push_back(p);
  CHECK(blocks.size() > 150);  // most of 64 KiB went to 256-byte blocks
  CHECK(heap.allocate(200) == nullptr);
  CHECK(heap.allocate(40000) == nullptr);  // no room for a large block either
  for (void* p : blocks) heap.deallocate(p, 200);
  void* again = heap.allocate(200);
  CHECK(again != nullptr);  // freed blocks serve the class again
  heap.deallocate(again);
  heap.release();
  void* big = heap.allocate(40000);  // after release the whole arena is free
  CHECK(big != nullptr);
  heap.deallocate(big);
  CHECK(heap.invariant());
}

TEST_CASE("stats count live, peak and internal waste", "[segregated_fit][stats]") {
  small_objects heap;
  void* a = heap.allocate(100);  // 128-byte block
  void* b = heap.allocate(16);
  auto s = heap.stats();
  CHECK(s.live_bytes == 128 + 16);
  CHECK(s.allocations == 2);
  CHECK(s.requested_bytes == 116);
  CHECK(s.granted_bytes == 144);
  CHECK(s.internal_fragmentation() == Approx(1.0 - 116.0 / 144.0));
  heap.deallocate(a, 100);
  heap.deallocate(b);
  s = heap.stats();
  CHECK(s.live_bytes == 0);
  CHECK(s.peak_live_bytes == 144);
  CHECK(s.deallocations == 2);
  CHECK(s.free_bytes > 0);
  CHECK(s.largest_free_block == 128);
  CHECK(s.external_fragmentation() > 0.0);
}

TEST_CASE("reallocate stays put within the block's class and moves otherwise", "[segregated_fit]") {
  small_objects heap;
  auto* p = static_cast<unsigned char*>(heap.allocate(100));
  for (int i = 0; i < 100; ++i) p[i] = static_cast<unsigned char>(i);
  CHECK(heap.reallocate(p, 100, 120) == p);  // still the 128-byte class
  auto* q = static_cast<unsigned char*>(heap.reallocate(p, 120, 1000));
  REQUIRE(q != nullptr);
  for (int i = 0; i < 100; ++i) REQUIRE(q[i] == i);
  heap.deallocate(q, 1000);
  CHECK(heap.stats().live_bytes == 0);
}

TEST_CASE("huge blocks beside a large heap are mappings of their own, resized without a copy", "[segregated_fit][large]") {
  // Above 32 MiB a block is a chunk of its own even beside the large heap: free gives it back
  // to the system at once, and realloc asks the kernel to grow or move it (mremap), so its
  // bytes survive every resize and a grown block's new pages read as zeros.
  using heap_type = alloy::allocator<P::segregated_fit::with<0, P::tlsf>, P::geometric_classes<16, 4096, 4>, P::system_pages,
                                     P::align<16>, P::stats>;
  heap_type heap;
  constexpr std::size_t mib = std::size_t{1} << 20;
  auto* p = static_cast<unsigned char*>(heap.allocate(40 * mib));
  REQUIRE(p != nullptr);
  for (std::size_t i = 0; i < 40 * mib; i += 4096) p[i] = static_cast<unsigned char>(i / 4096);
  const std::size_t reserved = heap.stats().reserved_bytes;
  CHECK(reserved >= 40 * mib);
  CHECK(reserved < 41 * mib);  // its own chunk: the large heap took nothing

  // A second live huge block sits right after the first in most address spaces, so growing
  // the first must move it at least once over these rounds; the bytes come along every time.
  auto* other = static_cast<unsigned char*>(heap.allocate(33 * mib));
  REQUIRE(other != nullptr);
  std::size_t size = 40 * mib;
  for (const std::size_t grown : {64 * mib, 100 * mib, 160 * mib}) {
    auto* q = static_cast<unsigned char*>(heap.reallocate(p, size, grown));
    REQUIRE(q != nullptr);
    for (std::size_t i = 0; i < 40 * mib; i += 4096) REQUIRE(q[i] == static_cast<unsigned char>(i / 4096));
    for (std::size_t i = size; i < grown; i += 4096) REQUIRE(q[i] == 0);  // fresh pages
    CHECK(heap.owns(q));
    CHECK(heap.usable_size(q) >= grown);
    p = q;
    size = grown;
  }
  CHECK(heap.invariant());

  // Shrunk to a fifth, it stays where it is and gives its tail back.
  auto* s = static_cast<unsigned char*>(heap.reallocate(p, size, 32 * mib + 1));
  REQUIRE(s == p);
  CHECK(heap.usable_size(s) < 33 * mib);
  for (std::size_t i = 0; i < 32 * mib; i += 4096) REQUIRE(s[i] == (i < 40 * mib ? static_cast<unsigned char>(i / 4096) : 0));

  heap.deallocate(s);
  heap.deallocate(other, 33 * mib);
  CHECK(heap.stats().live_bytes == 0);
  CHECK(heap.stats().reserved_bytes == 0);  // both chunks went back to the system on free
  CHECK(heap.invariant());

  // Below the threshold a large block still comes from the large heap, which keeps its chunk.
  void* big = heap.allocate(8 * mib);
  REQUIRE(big != nullptr);
  heap.deallocate(big);
  CHECK(heap.stats().reserved_bytes >= 8 * mib);
}

// Chunk marks (detail/chunk_store.hpp): the byte a heap keeps beside each chunk's registration,
// read with no lock. In the page map's entry over kernel pages, in the header over a hash-set
// registry; either way 0 for memory that is none of the store's.
using mark_stores = boost::mp11::mp_list<alloy::detail::chunk_store<P::system_pages, (1 << 20)>,
                                         alloy::detail::chunk_store<P::system_malloc, (1 << 16)>>;
TEMPLATE_LIST_TEST_CASE("a chunk's mark is read back through any pointer into it, and 0 elsewhere", "[segregated_fit][marks]",
                        mark_stores) {
  using store_type = TestType;
  auto store = std::make_unique<store_type>();
  int on_stack = 0;
  static char in_data[64];
  CHECK(store->mark_of(&on_stack) == 0);  // nothing taken: not even the registry exists
  CHECK(store->mark_of(nullptr) == 0);

  alloy::detail::chunk_header* a = store->take(1000, 16);
  alloy::detail::chunk_header* b = store->take(1000, 16);
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  CHECK(store->mark_of(a->payload) == store_type::plain_mark);
  CHECK(store->mark_of(a->payload + 999) == store_type::plain_mark);
  store->mark(a, 7);
  CHECK(store->mark_of(a->payload) == 7);
  CHECK(store->mark_of(a->payload + 500) == 7);
  CHECK(store->mark_of(b->payload) == store_type::plain_mark);  // one chunk's mark is its own
  for (const void* foreign : {static_cast<const void*>(&on_stack), static_cast<const void*>(in_data),
                              static_cast<const void*>(nullptr), reinterpret_cast<const void*>(~std::uintptr_t{0} - 15)}) {
    CHECK(store->mark_of(foreign) == 0);
  }
  std::byte* gone = a->payload;
  store->give_back(a);
  CHECK(store->mark_of(gone) == 0);  // unregistered with its chunk (the address may be unmapped: only the registry is read)
  CHECK(store->mark_of(b->payload) == store_type::plain_mark);
}

TEST_CASE("a store over kernel pages not built yet, in zero-filled storage, finds no chunk", "[segregated_fit][marks]") {
  // The process heap's free reads its page map before anything says the heap was built: a
  // free of ld.so's early blocks can come first. The map's count of readable entries is 0
  // there, so its one compare answers "none of mine" without a load of its leaf (null).
  using store_type = alloy::detail::chunk_store<P::system_pages, (1 << 20)>;
  alignas(store_type) static const std::byte zeros[sizeof(store_type)]{};
  const auto* unbuilt = reinterpret_cast<const store_type*>(zeros);
  int on_stack = 0;
  CHECK(unbuilt->mark_of(&on_stack) == 0);
  CHECK(unbuilt->mark_of(zeros) == 0);
  CHECK(unbuilt->mark_of(nullptr) == 0);
}

TEST_CASE("a class chunk is marked with its class until it hands out a pointer into a block", "[segregated_fit][marks]") {
  using heap_type = alloy::allocator<P::segregated_fit, P::geometric_classes<16, 4096, 4>, P::align<16>>::composition::heap;
  auto heap = std::make_unique<heap_type>();
  void* small = heap->allocate(64, 16);
  REQUIRE(small != nullptr);
  CHECK(heap->cached_start_lookup(small).size_class == P::geometric_classes<16, 4096, 4>::class_of(64));
  CHECK(heap->cached_lookup(small).size_class == P::geometric_classes<16, 4096, 4>::class_of(64));
  // An over-aligned block of another class starts inside its block: its chunk loses the mark,
  // and lock-free frees there take the exact lookup, which divides.
  void* aligned = nullptr;
  for (int i = 0; i < 64 && aligned == nullptr; ++i) {
    void* p = heap->allocate(100, 256);
    REQUIRE(p != nullptr);
    if (heap->cached_lookup(p).block != p) aligned = p;
  }
  REQUIRE(aligned != nullptr);
  CHECK(heap->cached_start_lookup(aligned).size_class >= P::geometric_classes<16, 4096, 4>::count);
  CHECK(heap->cached_lookup(aligned).size_class < P::geometric_classes<16, 4096, 4>::count);
  CHECK(heap->cached_start_lookup(small).size_class == P::geometric_classes<16, 4096, 4>::class_of(64));  // other chunks keep theirs
  void* large = heap->allocate(1 << 16, 16);
  REQUIRE(large != nullptr);
  CHECK(heap->cached_start_lookup(large).size_class >= P::geometric_classes<16, 4096, 4>::count);
  heap->deallocate(large);
}

// Fresh class-chunk pages are made resident a window ahead of carving, in one call
// (segregated_heap::populate_ahead), and never further: at most 32 KiB past the carved blocks.
namespace {

bool page_resident(const void* p) {
  const auto page = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{4095};
  unsigned char v = 0;
  REQUIRE(::mincore(reinterpret_cast<void*>(page), 4096, &v) == 0);
  return (v & 1) != 0;
}

/// Whether this kernel populates on request (MADV_POPULATE_WRITE, Linux 5.14).
bool kernel_populates() {
  void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(p != MAP_FAILED);
  const bool yes = ::madvise(p, 4096, P::system_pages::populate_write) == 0 && page_resident(p);
  ::munmap(p, 4096);
  return yes;
}

}  // namespace

TEST_CASE("carving populates fresh pages a window ahead, and no further", "[segregated_fit][pages]") {
  alloy::allocator<P::segregated_fit::with<std::size_t{1} << 20>, P::pow2_classes<16, 4096>> heap;
  std::vector<std::byte*> blocks;
  for (int i = 0; i < 40; ++i) {  // 40 KiB of 1 KiB blocks, carved in address order from one chunk
    auto* p = static_cast<std::byte*>(heap.allocate(1024));
    REQUIRE(p != nullptr);
    REQUIRE((blocks.empty() || p == blocks.back() + 1024));
    blocks.push_back(p);
  }
  std::byte* carved_end = blocks.back() + 1024;
  const std::size_t page = 4096;
  std::byte* next_page = carved_end + (page - reinterpret_cast<std::uintptr_t>(carved_end) % page) % page;
  if (kernel_populates()) CHECK(page_resident(next_page));  // never written: populated
  else WARN("this kernel does not populate on request: carving leaves pages to fault");
  for (std::size_t k = 32 / 4 + 1; k < 32 / 4 + 8; ++k) CHECK_FALSE(page_resident(next_page + k * page));
  for (std::byte* p : blocks) heap.deallocate(p, 1024);
}
