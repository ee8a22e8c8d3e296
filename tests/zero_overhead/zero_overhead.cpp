// Zero overhead, the exact facts: every composed design is exactly as large as the same design
// written by hand (bench/zero_overhead/hand_*.hpp), the empty policies add no byte, and both
// sides really are one design: driven with one sequence, they carve the same blocks at the same
// places and reserve the same memory. (Instruction counts: the zero_overhead.instructions test.)
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <type_traits>
#include <vector>

#include "designs.hpp"

namespace zo = zero_overhead;
namespace P = alloy::policy;

TEST_CASE("a composed design is exactly as large as the design written by hand", "[zero_overhead][sizeof]") {
  STATIC_REQUIRE(sizeof(zo::composed_segregated_fit) == sizeof(zo::hand_segregated_fit));
  STATIC_REQUIRE(sizeof(zo::composed_locked_segregated_fit) == sizeof(zo::hand_locked_segregated_fit));
  STATIC_REQUIRE(sizeof(zo::composed_first_fit) == sizeof(zo::first_fit_design::hand));
  STATIC_REQUIRE(sizeof(zo::composed_buddy) == sizeof(zo::hand_buddy));
}

TEST_CASE("empty policies add no bytes", "[zero_overhead][sizeof]") {
  using composed = zo::composed_segregated_fit;
  using heap = composed::composition::heap;  // the search heap alone: lists, bump regions, chunks
  // The facade, no_stats, no_checks and single_thread wrap the heap without a byte of their own,
  // and no_hardening's link codec is empty.
  STATIC_REQUIRE(sizeof(composed) == sizeof(heap));
  STATIC_REQUIRE(std::is_empty_v<P::no_hardening::link_codec>);
  STATIC_REQUIRE(std::is_same_v<composed, alloy::allocator<P::segregated_fit, P::pow2_classes<16, 512>, P::align<16>,
                                                           P::single_thread, P::no_stats, P::no_checks, P::no_hardening,
                                                           P::system_pages>>);
  // locked<std::mutex> adds its mutex and nothing else (std::mutex is pointer-aligned: no padding).
  STATIC_REQUIRE(sizeof(zo::composed_locked_segregated_fit) == sizeof(std::mutex) + sizeof(heap));
}

namespace {

/// One mixed sequence on one heap: allocations of every kind (size 0, class sizes, large), frees
/// in a shuffled order (sized and unsized), then allocations again. Returns where every block
/// lay (Design::place), so two heaps that carve alike give equal results.
template <class Design, class Heap>
std::vector<std::uintptr_t> drive(Heap& heap) {
  std::mt19937 random(7);
  std::vector<std::size_t> sizes{0, 1, 15, 16, 17, 100, 512, 513, 5000, 100000};
  for (int i = 0; i < 300; ++i) sizes.push_back(1 + random() % 512);
  std::vector<std::uintptr_t> places;
  std::vector<std::pair<void*, std::size_t>> live;
  const void* first = nullptr;
  auto take = [&](std::size_t size) {
    void* p = heap.allocate(size);
    REQUIRE(p != nullptr);
    REQUIRE(heap.owns(p));
    REQUIRE(reinterpret_cast<std::uintptr_t>(p) % 16 == 0);
    std::memset(p, 0xA5, size);
    if (first == nullptr) first = p;
    places.push_back(Design::place(p, first));
    live.emplace_back(p, size);
  };
  for (std::size_t size : sizes) take(size);
  std::shuffle(live.begin(), live.end(), random);
  for (std::size_t i = 0; i < live.size(); ++i) {
    if (i % 3 == 0) heap.deallocate(live[i].first);
    else heap.deallocate(live[i].first, live[i].second);
  }
  live.clear();
  for (std::size_t size : sizes) take(size);
  for (auto [p, size] : live) heap.deallocate(p, size);
  REQUIRE(heap.allocate(std::size_t{1} << 63) == nullptr);  // absurd: refused, nothing taken
  // Over-aligned requests, where the hand-written design offers them too: a shifted payload in
  // a block, and a large block in a chunk of its own (8 KiB alignment: beyond a page).
  if constexpr (requires(typename Design::hand& h) { h.allocate(std::size_t{1}, std::size_t{64}); }) {
    const std::pair<std::size_t, std::size_t> aligned[] = {{100, 64}, {3000, 256}, {1, 32}, {5000, 8192}, {2 << 20, 8192}, {0, 128}};
    std::vector<void*> blocks;
    for (auto [size, align] : aligned) {
      void* p = heap.allocate(size, align);
      REQUIRE(p != nullptr);
      REQUIRE(reinterpret_cast<std::uintptr_t>(p) % align == 0);
      std::memset(p, 0x5A, size);
      places.push_back(Design::place(p, first));
      blocks.push_back(p);
    }
    REQUIRE(heap.allocate(64, 48) == nullptr);  // not a power of two
    for (void* p : blocks) heap.deallocate(p);
  }
  return places;
}

template <class Heap>
std::size_t reserved_bytes(const Heap& heap) {
  if constexpr (requires { heap.layers(); }) return heap.layers().metrics().reserved_bytes;
  else return heap.reserved_bytes();
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("composed and hand-written carve the same blocks at the same places", "[zero_overhead][design]",
                        zo::designs) {
  auto composed = std::make_unique<typename TestType::composed>();
  auto hand = std::make_unique<typename TestType::hand>();
  const auto composed_places = drive<TestType>(*composed);
  const auto hand_places = drive<TestType>(*hand);
  CHECK(composed_places == hand_places);
  CHECK(reserved_bytes(*composed) == reserved_bytes(*hand));
  CHECK(reserved_bytes(*hand) > 0);
}
