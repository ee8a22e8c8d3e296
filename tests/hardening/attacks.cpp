// The attacks an exploit tries on a heap, run against unhardened and hardened compositions:
// the unhardened heap is shown to fall for each one, the hardened heap to stop the program
// (in a forked child) with a report on stderr or a fault. Each runs on the single-threaded
// heap and on the same design behind thread_local_cache (`cached<...>`), whose bins hold the
// freed blocks — as arrays of pointers, so a link forged in a cached block is never read; what
// it writes is attacked after: the links of the chains it gives back to the heap, and the
// parcels it parks for other threads (`parcelled<...>`, classes large enough to hold one).
#include <catch2/catch.hpp>

#include <alloc/alloy.hpp>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <policy/hardening.hpp>
#include <set>
#include <thread>
#include <vector>

#include "child_process.hpp"

namespace P = alloy::policy;
using alloy::testing::run_in_child;

using unhardened = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>, P::align<16>>;
using fully_hardened = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>, P::align<16>, P::hardened>;
using links_only = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>, P::align<16>,
                                    P::hardened::with<P::encoded_links>>;
using double_free_only = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>, P::align<16>,
                                          P::hardened::with<P::double_free_check>>;
using guards_only = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>, P::align<16>,
                                     P::hardened::with<P::guard_pages>>;
using random_only = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>, P::align<16>,
                                     P::hardened::with<P::randomized_placement>>;

/// The same design behind a thread cache (named: Catch2's type lists split on commas).
template <class... Hardening>
using cached = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>, P::align<16>, P::thread_local_cache,
                                Hardening...>;
/// Behind a thread cache whose heap holds a parcel (264 bytes) in a class: full bins park their
/// batches as parcels (policy/detail/transfer_cache.hpp) rather than give them back as chains.
template <class... Hardening>
using parcelled = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 512>, P::align<16>, P::thread_local_cache,
                                   Hardening...>;
using cached_scanning = cached<P::hardened::with<P::encoded_links, P::double_free_scan>>;
using cached_scanning_all =
    cached<P::hardened::with<P::encoded_links, P::guard_pages, P::randomized_placement, P::double_free_scan>>;

namespace {

// What the attacker wants the allocator to hand out: memory it does not own (a global here;
// in a real exploit a function pointer table or the stack).
alignas(64) unsigned char attacker_target[64];

/// Frees two blocks, then overwrites the link stored in the most recently freed one with
/// `forged` (a use-after-free write), and allocates twice: the second allocation follows the
/// forged link. Returns what it handed out.
template <class Heap>
void* follow_forged_link(Heap& heap, void* forged) {
  void* a = heap.allocate(32);
  void* b = heap.allocate(32);
  heap.deallocate(a, 32);
  heap.deallocate(b, 32);
  std::memcpy(b, &forged, sizeof forged);  // the use-after-free write
  void* first = heap.allocate(32);
  void* second = heap.allocate(32);
  (void)first;
  return second;
}

}  // namespace

TEMPLATE_TEST_CASE("an overwritten free-list link makes the unhardened heap return the attacker's address",
                   "[hardening][links]", unhardened) {
  TestType heap;
  void* got = follow_forged_link(heap, attacker_target);
  CHECK(got == static_cast<void*>(attacker_target));  // the exploit works: the heap hands out foreign memory
  CHECK_FALSE(heap.owns(got));
}

TEMPLATE_TEST_CASE("an overwritten free-list link stops a heap with encoded links", "[hardening][links]",
                   fully_hardened, links_only) {
  const auto outcome = run_in_child([] {
    TestType heap;
    void* got = follow_forged_link(heap, attacker_target);
    std::fprintf(stderr, "not stopped: the heap returned %p\n", got);
  });
  CHECK(outcome.signal == SIGABRT);
  CHECK_THAT(outcome.err, Catch::Contains("alloy hardening: corrupted free-list link"));
  CHECK_THAT(outcome.err, !Catch::Contains("not stopped"));
}

TEMPLATE_TEST_CASE("a write after free into a block a thread cache holds redirects nothing", "[hardening][links]",
                   cached<>, cached<P::hardened>) {
  // The bins are arrays of pointers: the forged word is the block's content, never followed.
  TestType heap;
  void* got = follow_forged_link(heap, attacker_target);
  CHECK(got != static_cast<void*>(attacker_target));
  CHECK(heap.owns(got));
  CHECK(heap.invariant());
}

TEST_CASE("a link forged with the secret still must point into the heap's chunks", "[hardening][links]") {
  // An attacker who leaked the secret can encode any address; decoding still checks where it points.
  alignas(64) static unsigned char chunk[4096];
  alignas(16) static unsigned char outside[64];
  using codec_type = P::hardened::link_codec;
  auto slot = static_cast<void*>(chunk + 256);

  SECTION("links inside the chunk, and null, decode to themselves") {
    codec_type codec;
    codec.admit(chunk, sizeof chunk);
    for (std::size_t offset : {0, 16, 1024, 4080}) {
      void* next = chunk + offset;
      void* stored = codec.encode(next, slot);
      CHECK(stored != next);
      CHECK(codec.decode(stored, slot) == next);
    }
    CHECK(codec.decode(codec.encode(nullptr, slot), slot) == nullptr);
  }
  SECTION("an aligned address outside the heap is refused") {
    const auto outcome = run_in_child([&] {
      codec_type codec;
      codec.admit(chunk, sizeof chunk);
      std::fprintf(stderr, "decoded %p\n", codec.decode(codec.encode(outside, slot), slot));
    });
    CHECK(outcome.signal == SIGABRT);
    CHECK_THAT(outcome.err, Catch::Contains("corrupted free-list link"));
  }
  SECTION("a misaligned address inside the heap is refused") {
    const auto outcome = run_in_child([&] {
      codec_type codec;
      codec.admit(chunk, sizeof chunk);
      std::fprintf(stderr, "decoded %p\n", codec.decode(codec.encode(chunk + 20, slot), slot));
    });
    CHECK(outcome.signal == SIGABRT);
    CHECK_THAT(outcome.err, Catch::Contains("corrupted free-list link"));
  }
  SECTION("each heap has its own secret, and a link moved to another slot decodes to garbage") {
    codec_type one, two;
    one.admit(chunk, sizeof chunk);
    two.admit(chunk, sizeof chunk);
    void* next = chunk + 512;
    CHECK(one.encode(next, slot) != two.encode(next, slot));
    CHECK(one.encode(next, slot) != one.encode(next, chunk + 272));
  }
}

TEST_CASE("with encoded links the double-free test is the codec's encode_head", "[hardening][double_free]") {
  // encode_head tests `next ^ slot <= 0` on its own xor (hardened_codec): only a link to its own
  // slot is a double free; a wild slot with the top bit set takes the cold branch and goes on.
  alignas(64) static unsigned char chunk[4096];
  using codec_type = P::hardened::link_codec;
  STATIC_REQUIRE(codec_type::refuses_self_links);
  STATIC_REQUIRE_FALSE(P::hardened::with<P::encoded_links>::link_codec::refuses_self_links);
  void* slot = chunk + 256;

  SECTION("it encodes as encode does") {
    codec_type codec;
    codec.admit(chunk, sizeof chunk);
    for (std::size_t offset : {0, 16, 1024, 4080})
      CHECK(codec.encode_head(chunk + offset, slot) == codec.encode(chunk + offset, slot));
    CHECK(codec.encode_head(nullptr, slot) == codec.encode(nullptr, slot));
    void* wild = reinterpret_cast<void*>(~std::uintptr_t{0} << 4);  // top bit set: the cold branch, no report
    CHECK(codec.encode_head(chunk, wild) == codec.encode(chunk, wild));
  }
  SECTION("a link to its own slot stops the program") {
    const auto outcome = run_in_child([&] {
      codec_type codec;
      codec.admit(chunk, sizeof chunk);
      std::fprintf(stderr, "not stopped: %p\n", codec.encode_head(slot, slot));
    });
    CHECK(outcome.signal == SIGABRT);
    CHECK_THAT(outcome.err, Catch::Contains("alloy hardening: double free"));
    CHECK_THAT(outcome.err, !Catch::Contains("not stopped"));
  }
}

TEMPLATE_TEST_CASE("a double free makes the unhardened heap hand one block out twice", "[hardening][double_free]",
                   unhardened, cached<>) {
  TestType heap;
  void* p = heap.allocate(48);
  heap.deallocate(p, 48);
  heap.deallocate(p, 48);
  void* first = heap.allocate(48);
  void* second = heap.allocate(48);
  CHECK(first == second);  // two owners of one block: the classic double-free exploit
}

using scanning_all = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>, P::align<16>,
                                      P::hardened::with<P::encoded_links, P::guard_pages, P::randomized_placement,
                                                        P::double_free_scan>>;

TEMPLATE_TEST_CASE("freeing the block just freed stops a heap that checks double frees", "[hardening][double_free]",
                   fully_hardened, double_free_only, scanning_all, cached<P::hardened>,
                   cached<P::hardened::with<P::double_free_check>>,
                   cached_scanning_all) {
  const auto outcome = run_in_child([] {
    TestType heap;
    void* p = heap.allocate(48);
    heap.deallocate(p, 48);
    heap.deallocate(p);  // unsized free finds the same list
    std::fprintf(stderr, "not stopped\n");
  });
  CHECK(outcome.signal == SIGABRT);
  CHECK_THAT(outcome.err, Catch::Contains("alloy hardening: double free"));
}

using scanning = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>, P::align<16>,
                                  P::hardened::with<P::encoded_links, P::double_free_scan>>;

TEMPLATE_TEST_CASE("with the double-free scan, a double free of any block on its list is caught",
                   "[hardening][double_free]", scanning, cached_scanning) {
  const auto outcome = run_in_child([] {
    TestType heap;
    void* a = heap.allocate(64);
    void* b = heap.allocate(64);
    void* c = heap.allocate(64);
    heap.deallocate(a, 64);
    heap.deallocate(b, 64);
    heap.deallocate(c, 64);
    heap.deallocate(a, 64);  // a is deep in the list, not its head
    std::fprintf(stderr, "not stopped\n");
  });
  CHECK(outcome.signal == SIGABRT);
  CHECK_THAT(outcome.err, Catch::Contains("alloy hardening: double free"));
}

TEMPLATE_TEST_CASE("legitimate reuse is never mistaken for a double free", "[hardening][double_free]", scanning,
                   cached_scanning) {
  TestType heap;
  std::vector<void*> blocks;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 100; ++i) blocks.push_back(heap.allocate(16 + static_cast<std::size_t>(i % 8) * 16));
    for (std::size_t i = 0; i < blocks.size(); i += 2) heap.deallocate(blocks[i]);
    for (std::size_t i = 1; i < blocks.size(); i += 2) heap.deallocate(blocks[i]);
    blocks.clear();
  }
  CHECK(heap.invariant());
}

TEMPLATE_TEST_CASE("a linear overflow off a large block faults on its guard page", "[hardening][guard_pages]",
                   fully_hardened, guards_only, cached<P::hardened>) {
  TestType heap;
  auto* p = static_cast<unsigned char*>(heap.allocate(100000));
  REQUIRE(p != nullptr);
  const std::size_t usable = heap.usable_size(p);
  const auto outcome = run_in_child([&] {
    alloy::testing::report_fault_mapping();
    std::memset(p, 0xAA, usable);  // the whole block is writable
    std::fprintf(stderr, "block filled\n");
    alloy::testing::overflow_write(p + usable, 1);  // one byte past: the guard page
    std::fprintf(stderr, "not stopped\n");
  });
  CHECK(outcome.signal == SIGSEGV);
  CHECK_THAT(outcome.err, Catch::Contains("fault in mapping ---p"));  // a guard page, not a hole
  CHECK_THAT(outcome.err, Catch::Contains("block filled"));
  CHECK_THAT(outcome.err, !Catch::Contains("not stopped"));
  heap.deallocate(p);
}

/// A reclaiming hardened heap keeps its freed large blocks' chunks for reuse.
using reclaiming_hardened = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>, P::align<16>, P::hardened,
                                             P::reclaim::with<60000>>;
using cached_reclaiming_hardened = cached<P::hardened, P::reclaim::with<60000>>;

TEMPLATE_TEST_CASE("a large block's guard page follows it through realloc and reuse", "[hardening][guard_pages]",
                   fully_hardened, reclaiming_hardened, cached<P::hardened>) {
  TestType heap;
  auto* p = static_cast<unsigned char*>(heap.allocate(100000));
  REQUIRE(p != nullptr);
  p = static_cast<unsigned char*>(heap.reallocate(p, 100000, 700000));  // grown: moved onto a new chunk
  REQUIRE(p != nullptr);
  p = static_cast<unsigned char*>(heap.reallocate(p, 700000, 200000));  // shrunk where it lies
  REQUIRE(p != nullptr);
  heap.deallocate(p);
  auto* q = static_cast<unsigned char*>(heap.allocate(150000));  // a kept chunk, where the heap keeps them
  REQUIRE(q != nullptr);
  const std::size_t usable = heap.usable_size(q);
  CHECK(usable < 150000 + 4096);  // the guard right behind the block's last page
  const auto outcome = run_in_child([&] {
    alloy::testing::report_fault_mapping();
    std::memset(q, 0xAA, usable);
    std::fprintf(stderr, "block filled\n");
    alloy::testing::overflow_write(q + usable, 1);
    std::fprintf(stderr, "not stopped\n");
  });
  CHECK(outcome.signal == SIGSEGV);
  CHECK_THAT(outcome.err, Catch::Contains("fault in mapping ---p"));
  CHECK_THAT(outcome.err, Catch::Contains("block filled"));
  heap.deallocate(q);
}

TEMPLATE_TEST_CASE("a large block freed twice stops a hardened heap that keeps freed chunks", "[hardening][double_free]",
                   reclaiming_hardened, cached_reclaiming_hardened) {
  const auto outcome = run_in_child([] {
    TestType heap;
    void* p = heap.allocate(300000);
    heap.deallocate(p);
    heap.deallocate(p);  // its chunk is kept, not unmapped: the second free finds it
    std::fprintf(stderr, "not stopped\n");
  });
  CHECK(outcome.signal == SIGABRT);
  CHECK_THAT(outcome.err, Catch::Contains("alloy hardening: double free"));
}

TEMPLATE_TEST_CASE("a linear overflow off a size-class chunk faults on its guard page", "[hardening][guard_pages]",
                   fully_hardened, guards_only, cached<P::hardened>) {
  TestType heap;
  auto* p = static_cast<unsigned char*>(heap.allocate(256));
  REQUIRE(p != nullptr);
  constexpr std::size_t chunk = TestType::composition::heap::chunk_bytes;
  const auto outcome = run_in_child([&] {
    alloy::testing::report_fault_mapping();
    alloy::testing::overflow_write(p, chunk);  // from a block to past its chunk's end
    std::fprintf(stderr, "not stopped\n");
  });
  CHECK(outcome.signal == SIGSEGV);
  CHECK_THAT(outcome.err, Catch::Contains("fault in mapping ---p"));  // a guard page, not a hole
  CHECK_THAT(outcome.err, !Catch::Contains("not stopped"));
  heap.deallocate(p, 256);
}

/// The order in which a fresh heap hands out 32 blocks of 64 bytes, as block indices.
template <class Heap>
std::vector<std::size_t> allocation_order() {
  Heap heap;
  std::vector<void*> blocks;
  for (int i = 0; i < 32; ++i) blocks.push_back(heap.allocate(64));
  const auto lowest = reinterpret_cast<std::uintptr_t>(*std::min_element(blocks.begin(), blocks.end()));
  std::vector<std::size_t> order;
  for (void* b : blocks) order.push_back((reinterpret_cast<std::uintptr_t>(b) - lowest) / 64);
  return order;
}

TEST_CASE("randomized placement hands blocks out in an unpredictable order", "[hardening][placement]") {
  const auto plain = allocation_order<unhardened>();
  CHECK(plain == allocation_order<unhardened>());
  CHECK(std::is_sorted(plain.begin(), plain.end()));  // predictable: ascending addresses

  // Behind a thread cache the first 32 blocks come from one shuffled batch too (in the bin's order).
  for (auto order : {allocation_order<random_only>(), allocation_order<fully_hardened>(),
                     allocation_order<cached<P::hardened>>()}) {
    CHECK(order != plain);
    CHECK(order != allocation_order<random_only>());  // two heaps, two layouts (equal: 1 in 32!)
    std::sort(order.begin(), order.end());
    CHECK(order == plain);  // the same blocks, only shuffled
  }
}

TEST_CASE("hardening policies name themselves and are order-free", "[hardening][names]") {
  CHECK(P::hardened::name() == "hardened");
  CHECK(P::hardened::with<P::guard_pages, P::encoded_links>::name() == "hardened::with<encoded_links, guard_pages>");
  STATIC_REQUIRE(std::is_same_v<P::hardened::with<P::guard_pages, P::encoded_links>,
                                P::hardened::with<P::encoded_links, P::guard_pages>>);
  CHECK(alloy::name_of<links_only>() ==
        "segregated_fit + pow2_classes<16, 256> + single_thread + align<16> + hardened::with<encoded_links>");
  STATIC_REQUIRE(alloy::hardening_policy<P::hardened>);
  STATIC_REQUIRE(alloy::hardening_policy<P::hardened::with<P::randomized_placement>>);
  STATIC_REQUIRE(P::hardened::with<P::encoded_links, P::double_free_scan>::checks_double_free);
  STATIC_REQUIRE(!P::hardened::scans_double_free);
  STATIC_REQUIRE(sizeof(P::no_hardening::link_codec) == 1);  // and [[no_unique_address]] in the heap
}

// ---- Attacks through threads: blocks freed by another thread, batches handed between threads.

/// Frees 192 blocks of 32 bytes on this thread, given in free order: its bin (64 blocks) gives
/// four batches of 32 back as it overflows — blocks [32..63], [64..95], [96..127] and
/// [128..159] — and keeps [0..31] and [160..191]. Behind `cached`, each batch goes back to the
/// heap as a chain, its head the batch's most recently freed block, the last one given at the
/// head of the heap's list; behind `parcelled`, each is parked as a parcel. Four: a thread of
/// another home takes a parked parcel only from a pile that high (transfer_slot's share_at).
/// last_batch names the batch given last, which the next refill takes.
constexpr std::size_t last_batch = 128;
template <class Heap>
void give_four_batches(Heap& heap, const std::vector<void*>& blocks) {
  for (void* b : blocks) heap.deallocate(b, 32);
}
template <class Heap>
std::vector<void*> give_four_batches(Heap& heap) {
  std::vector<void*> blocks;
  for (int i = 0; i < 192; ++i) blocks.push_back(heap.allocate(32));
  give_four_batches(heap, blocks);
  return blocks;
}

/// Other threads (more than this machine's cores) allocate 32 blocks each, then free them:
/// the first to refill takes the batch given last.
template <class Heap>
void take_batches_on_threads(Heap& heap) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      std::vector<void*> mine;
      for (int i = 0; i < 32; ++i) mine.push_back(heap.allocate(32));
      for (void* b : mine) heap.deallocate(b, 32);
    });
  for (auto& t : threads) t.join();
}

/// Whether a thread of another home, allocating three blocks of 32 bytes (its refill takes the
/// batch given last), is handed the attacker's target.
template <class Heap>
bool another_thread_gets_the_target(Heap& heap) {
  bool handed_out = false;
  std::thread([&] {
    for (int i = 0; i < 3; ++i) handed_out = handed_out || heap.allocate(32) == static_cast<void*>(attacker_target);
  }).join();
  return handed_out;
}

TEST_CASE("links into a chunk another thread's refill took are followed, a forged one stops the cached heap",
          "[hardening][links][threads]") {
  // This thread's copy of the codec learnt the heap's span before the other thread's chunk
  // existed: a link into that chunk, in a chain this thread's refill walks, makes it ask the
  // heap again (legitimate); a forged link fails that second look too.
  const auto outcome = run_in_child([] {
    cached<P::hardened> heap;
    heap.deallocate(heap.allocate(200), 200);  // this thread's cache exists, its span is old
    std::vector<void*> blocks;
    std::thread([&] {
      for (int i = 0; i < 192; ++i) blocks.push_back(heap.allocate(32));
    }).join();
    give_four_batches(heap, blocks);  // chains of the new chunk's blocks, back in the heap's list
    for (void*& b : blocks) b = heap.allocate(32);  // its bin, then refills that walk those chains
    std::fprintf(stderr, "legitimate links followed\n");
    give_four_batches(heap, blocks);
    void* forged = attacker_target;
    std::memcpy(blocks[last_batch + 30], &forged, sizeof forged);  // the second block of the chain given last
    for (int i = 0; i < 100; ++i) (void)heap.allocate(32);  // the bin's 64, then a refill takes that chain
    std::fprintf(stderr, "not stopped\n");
  });
  CHECK(outcome.signal == SIGABRT);
  CHECK_THAT(outcome.err, Catch::Contains("legitimate links followed"));
  CHECK_THAT(outcome.err, Catch::Contains("alloy hardening: corrupted free-list link"));
  CHECK_THAT(outcome.err, !Catch::Contains("not stopped"));
}

TEST_CASE("a forged link inside a chain a bin gave back stops the thread that takes the chain",
          "[hardening][links][threads]") {
  const auto outcome = run_in_child([] {
    cached<P::hardened> heap;
    const auto blocks = give_four_batches(heap);
    void* forged = attacker_target;
    std::memcpy(blocks[last_batch + 30], &forged, sizeof forged);  // the second block of the chain given last
    take_batches_on_threads(heap);
    std::fprintf(stderr, "not stopped\n");
  });
  CHECK(outcome.signal == SIGABRT);
  CHECK_THAT(outcome.err, Catch::Contains("alloy hardening: corrupted free-list link"));
  CHECK_THAT(outcome.err, !Catch::Contains("not stopped"));
}

TEST_CASE("unhardened, a forged link in a chain a bin gave back hands the attacker's address to another thread",
          "[hardening][links][threads]") {
  cached<> heap;
  const auto blocks = give_four_batches(heap);
  void* forged = attacker_target;
  std::memcpy(blocks[last_batch + 30], &forged, sizeof forged);
  CHECK(another_thread_gets_the_target(heap));  // the attack works without hardening: the proof the test above can fail
}

// A parked parcel (policy/detail/transfer_cache.hpp) is a block of the heap: word 0 links it to
// the parcel parked before it, words 1..32 hold its batch's addresses, the newest last (the
// first a refill hands out). The attacker overwrites one of them, as a heap overflow into the
// parcel would; last_parked(32) says where the parcel parked last is.

/// Parks four batches as parcels, then writes `word` over word `index` of the parcel parked last.
template <class Heap>
void forge_parcel(Heap& heap, std::size_t index, void* word) {
  give_four_batches(heap);
  void** parcel = heap.layers().last_parked(32);
  REQUIRE(parcel != nullptr);
  std::memcpy(&parcel[index], &word, sizeof word);
}

TEST_CASE("a forged word in a parked parcel stops the thread that takes the parcel", "[hardening][links][threads]") {
  // Word 31: the batch's second newest block, the second a refill hands out; word 0: the link
  // to the parcel parked before it.
  const std::size_t word = GENERATE(31u, 0u);
  const auto outcome = run_in_child([word] {
    parcelled<P::hardened> heap;
    forge_parcel(heap, word, attacker_target);
    take_batches_on_threads(heap);
    std::fprintf(stderr, "not stopped\n");
  });
  CHECK(outcome.signal == SIGABRT);
  CHECK_THAT(outcome.err, Catch::Contains("alloy hardening: corrupted free-list link"));
  CHECK_THAT(outcome.err, !Catch::Contains("not stopped"));
}

TEST_CASE("unhardened, a forged address in a parked parcel hands the attacker's address to another thread",
          "[hardening][links][threads]") {
  parcelled<> heap;
  forge_parcel(heap, 31, attacker_target);
  CHECK(another_thread_gets_the_target(heap));  // the attack works without hardening: the proof the test above can fail
}

TEST_CASE("a block freed twice by one thread stops the cached heap while other threads allocate",
          "[hardening][double_free][threads]") {
  const auto outcome = run_in_child([] {
    cached<P::hardened> heap;
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 1000; ++i) heap.deallocate(heap.allocate(48), 48);
      });
    void* p = heap.allocate(48);
    heap.deallocate(p, 48);
    heap.deallocate(p, 48);
    std::fprintf(stderr, "not stopped\n");
    for (auto& t : threads) t.join();
  });
  CHECK(outcome.signal == SIGABRT);
  CHECK_THAT(outcome.err, Catch::Contains("alloy hardening: double free"));
  CHECK_THAT(outcome.err, !Catch::Contains("not stopped"));
}
