// Sanitizer-aware memory: under ASan, free blocks and unused chunk memory are poisoned and a
// block handed out is not, so the program's own use-after-free or overflow into free memory is
// reported by ASan as it would be with malloc. In other builds the hooks do nothing at all.
#include <catch2/catch.hpp>

#include <alloc/alloy.hpp>
#include <memory>
#include <new>

#include "../support/check_recorder.hpp"

namespace P = alloy::policy;
using alloy::detail::is_poisoned;

using heap_type = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>>;

TEST_CASE("without a memory checker the hooks are empty", "[checks][sanitizer]") {
  if constexpr (alloy::detail::poisoning_active) {
    SUCCEED("this build runs under a memory checker: see the other test cases");
  } else {
    auto heap = std::make_unique<heap_type>();
    auto* p = static_cast<unsigned char*>(heap->allocate(64));
    heap->deallocate(p, 64);
    CHECK_FALSE(is_poisoned(p, 64));  // nothing poisoned: a stale read is not caught, and costs nothing
  }
}

#if ALLOY_ASAN
TEST_CASE("ASan: free blocks and unused chunk memory are poisoned, live blocks are not", "[checks][sanitizer]") {
  auto heap = std::make_unique<heap_type>();
  auto* p = static_cast<unsigned char*>(heap->allocate(64));
  REQUIRE(p != nullptr);
  CHECK_FALSE(is_poisoned(p, 64));
  CHECK(is_poisoned(p + 64 * 40, 64));  // beyond the first carved batch: unused chunk memory
  heap->deallocate(p, 64);
  CHECK_FALSE(is_poisoned(p, sizeof(void*)));  // the free-list link, which the heap itself reads
  CHECK(is_poisoned(p + sizeof(void*), 64 - sizeof(void*)));
  void* q = heap->allocate(60);
  CHECK(q == p);  // LIFO: the same block, accessible again in full
  CHECK_FALSE(is_poisoned(q, 64));
  heap->deallocate(q);  // unsized free poisons too
  CHECK(is_poisoned(p + sizeof(void*), 64 - sizeof(void*)));
  void* aligned = heap->allocate(40, 64);  // over-aligned: the whole block is handed out
  CHECK_FALSE(is_poisoned(aligned, heap->usable_size(aligned)));
  heap->deallocate(aligned, 40, 64);
  heap->release();
}

TEST_CASE("ASan: a heap's own memory is unpoisoned when it is destroyed", "[checks][sanitizer]") {
  using arena_heap = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>, P::static_arena<65536>>;
  alignas(arena_heap) static unsigned char storage[sizeof(arena_heap)];
  auto* heap = new (storage) arena_heap;
  void* p = heap->allocate(32);
  heap->deallocate(p, 32);
  CHECK(is_poisoned(storage, sizeof storage));  // the arena, inside the object, has poisoned blocks
  heap->~arena_heap();
  CHECK_FALSE(is_poisoned(storage, sizeof storage));  // ... and none left once it is gone
}

TEST_CASE("ASan: the checked layer poisons blocks in quarantine", "[checks][sanitizer]") {
  alloy::testing::check_recorder recorder;
  auto heap = std::make_unique<alloy::allocator<P::segregated_fit, P::checked>>();
  void* p = heap->allocate(100);
  CHECK_FALSE(is_poisoned(p, 100));
  heap->deallocate(p, 100);
  CHECK(is_poisoned(p, 100));
  heap->release();
  CHECK(alloy::testing::check_recorder::reports().empty());
}
#endif
