// Memory checkers over every search policy (search_policies.hpp). The poisoning lives in the
// parts the heaps share (chunk_store, hardened_list, the tagged and buddy heaps' block
// push/take; policy/detail/sanitizer.hpp), so under AddressSanitizer or valgrind every policy:
//   - poisons a freed block but for the heap's own words (its links: the first 16 bytes at most),
//   - hands out a block accessible for its whole usable size, however it was carved, split,
//     merged or grown in place,
//   - still walks its own metadata (invariant(), metrics()) without a report,
// and a use-after-free write or read into a freed block is reported by ASan (a death test in a
// forked child). Built three ways: plain (the hooks are empty: only the random-operations test
// means something there), in the ASan build, and — where valgrind is installed — with
// ALLOY_VALGRIND=1, run under memcheck (tests/search/CMakeLists.txt).
#include <catch2/catch.hpp>

#include <alloc/alloy.hpp>
#include <csignal>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "../hardening/child_process.hpp"
#include "search_policies.hpp"

namespace P = alloy::policy;
using alloy::detail::is_poisoned;
using alloy::detail::poisoning_observable;
using alloy::testing::all_search_policies;

namespace {

template <class Search>
using heap_of = alloy::allocator<Search, P::align<16>>;

constexpr std::size_t block_bytes = 256;
/// Where a use-after-free touches a freed block: past the heap's own words at its start.
constexpr std::size_t touched = 100;
/// The most bytes at a free block's start a heap keeps accessible (two list links).
constexpr std::size_t heap_words = 2 * sizeof(void*);

/// Whether every one of the `n` bytes at `p` is poisoned (is_poisoned asks "any").
bool all_poisoned(const void* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!is_poisoned(static_cast<const unsigned char*>(p) + i, 1)) return false;
  return true;
}

/// Three blocks in a row, the middle one freed: its neighbours stay live, so it merges with
/// nothing and keeps its place.
template <class Heap>
struct freed_between {
  Heap& heap;
  unsigned char* before = static_cast<unsigned char*>(heap.allocate(block_bytes));
  unsigned char* freed = static_cast<unsigned char*>(heap.allocate(block_bytes));
  unsigned char* after = static_cast<unsigned char*>(heap.allocate(block_bytes));

  explicit freed_between(Heap& h) : heap(h) { heap.deallocate(freed, block_bytes); }
  ~freed_between() {
    heap.deallocate(before, block_bytes);
    heap.deallocate(after, block_bytes);
  }
};

}  // namespace

TEMPLATE_LIST_TEST_CASE("a freed block is poisoned but for the heap's own words, a block handed out is not",
                        "[search][sanitizer]", all_search_policies) {
  if (!poisoning_observable()) {
    SUCCEED("no memory checker in this run: the hooks are empty (bench/zero_overhead counts them as nothing)");
  } else {
    auto heap = std::make_unique<heap_of<TestType>>();
    {
      freed_between<heap_of<TestType>> blocks(*heap);
      CHECK_FALSE(is_poisoned(blocks.before, heap->usable_size(blocks.before)));
      CHECK_FALSE(is_poisoned(blocks.freed, sizeof(void*)));  // the first link, which the heap reads
      CHECK(all_poisoned(blocks.freed + heap_words, block_bytes - heap_words));
      // The heap walks its own tags and links: no report, and the answers are right.
      CHECK(heap->invariant());
      CHECK(heap->layers().metrics().free_bytes >= block_bytes);
      void* again = heap->allocate(block_bytes);
      REQUIRE(again != nullptr);
      CHECK_FALSE(is_poisoned(again, heap->usable_size(again)));
      heap->deallocate(again, block_bytes);
    }
    CHECK(heap->invariant());
    heap->release();
  }
}

TEMPLATE_LIST_TEST_CASE("every live block is accessible for its usable size through random operations",
                        "[search][sanitizer][model]", all_search_policies) {
  // Splits, merges, in-place growth and shrinking, over-aligned and large blocks: whatever the
  // heap did, what it handed out must be accessible in full, and its walks must not trip.
  auto heap = std::make_unique<heap_of<TestType>>();
  struct live {
    unsigned char* p;
    std::size_t size;
    std::size_t align;
  };
  std::vector<live> blocks;
  std::mt19937 rng(7);
  auto random_size = [&] { return rng() % 20 == 0 ? 1000 + rng() % 150000 : 1 + rng() % 700; };
  bool accessible = true;
  for (int step = 0; step < 4000; ++step) {
    const unsigned op = rng() % 10;
    if (blocks.empty() || op < 4) {
      const std::size_t size = random_size();
      const std::size_t align = rng() % 8 == 0 ? std::size_t{64} << rng() % 3 : 16;
      auto* p = static_cast<unsigned char*>(heap->allocate(size, align));
      REQUIRE(p != nullptr);
      std::memset(p, 0xAB, size);  // the user writes all of it: ASan stops here on a poisoned byte
      blocks.push_back({p, size, align});
    } else if (op < 8) {
      const std::size_t i = rng() % blocks.size();
      heap->deallocate(blocks[i].p);
      blocks[i] = blocks.back();
      blocks.pop_back();
    } else {
      live& b = blocks[rng() % blocks.size()];
      const std::size_t size = random_size();
      auto* p = static_cast<unsigned char*>(heap->reallocate(b.p, b.size, size, b.align));
      REQUIRE(p != nullptr);
      std::memset(p, 0xCD, size);
      b = {p, size, b.align};
    }
    if (step % 64 == 0) {
      for (const live& b : blocks) accessible = accessible && !is_poisoned(b.p, heap->usable_size(b.p));
      REQUIRE(heap->invariant());
      (void)heap->layers().metrics();
    }
  }
  CHECK(accessible);
  for (const live& b : blocks) heap->deallocate(b.p);
  CHECK(heap->invariant());
}

#if ALLOY_ASAN
TEMPLATE_LIST_TEST_CASE("ASan reports a write into a freed block", "[search][sanitizer][asan]", all_search_policies) {
  const auto outcome = alloy::testing::run_in_child([] {
    heap_of<TestType> heap;
    freed_between<heap_of<TestType>> blocks(heap);
    static_cast<volatile unsigned char*>(blocks.freed)[touched] = 1;
    std::fprintf(stderr, "not reported\n");
  });
  CHECK_THAT(outcome.err, Catch::Contains("AddressSanitizer: use-after-poison"));
  CHECK_THAT(outcome.err, Catch::Contains("WRITE of size 1"));
  CHECK_THAT(outcome.err, !Catch::Contains("not reported"));
}

TEMPLATE_LIST_TEST_CASE("ASan reports a read from a freed block", "[search][sanitizer][asan]", all_search_policies) {
  const auto outcome = alloy::testing::run_in_child([] {
    heap_of<TestType> heap;
    freed_between<heap_of<TestType>> blocks(heap);
    const unsigned char seen = static_cast<volatile unsigned char*>(blocks.freed)[block_bytes - 1];
    std::fprintf(stderr, "not reported (%d)\n", seen);
  });
  CHECK_THAT(outcome.err, Catch::Contains("AddressSanitizer: use-after-poison"));
  CHECK_THAT(outcome.err, Catch::Contains("READ of size 1"));
  CHECK_THAT(outcome.err, !Catch::Contains("not reported"));
}
#endif
