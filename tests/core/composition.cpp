// How policies compose: order does not matter, defaults fill the gaps, empty policies cost
// nothing, and the composed type names and describes itself.
#include <catch2/catch.hpp>

#include <alloc/alloy.hpp>

namespace P = alloy::policy;

using small_objects = alloy::allocator<P::segregated_fit, P::pow2_classes<8, 256>, P::single_thread, P::align<16>>;

TEST_CASE("two spellings of one design are one type", "[composition]") {
  STATIC_REQUIRE(std::is_same_v<small_objects,
                                alloy::allocator<P::align<16>, P::single_thread, P::pow2_classes<8, 256>, P::segregated_fit>>);
  STATIC_REQUIRE(std::is_same_v<alloy::allocator<>, alloy::allocator<P::segregated_fit, P::system_pages, P::no_stats,
                                                                      P::single_thread, P::no_checks, P::no_hardening>>);
}

TEST_CASE("empty policies add no bytes", "[composition][zero_overhead]") {
  using heap = small_objects::composition::heap;
  STATIC_REQUIRE(sizeof(small_objects) == sizeof(heap));
  STATIC_REQUIRE(std::is_same_v<small_objects::composition::top, heap>);  // every wrapping layer is the identity
  STATIC_REQUIRE(std::is_empty_v<P::system_pages>);
  STATIC_REQUIRE(std::is_empty_v<P::no_hardening::link_codec>);
}

TEST_CASE("a composition names itself", "[composition]") {
  CHECK(alloy::name_of<small_objects>() == "segregated_fit + pow2_classes<8, 256> + single_thread + align<16>");
  CHECK(alloy::name_of<alloy::allocator<P::stats, P::static_arena<65536>>>() ==
        "segregated_fit + geometric_classes<16, 16384, 4> + single_thread + align<16> + static_arena<65536> + stats");
}

TEST_CASE("a composition derives its properties from its policies", "[composition]") {
  constexpr auto props = small_objects::properties;
  STATIC_REQUIRE(!props.thread_safe);
  STATIC_REQUIRE(props.alignment == 16);
  STATIC_REQUIRE(props.max_class_size == 256);
  STATIC_REQUIRE(!props.free_needs_size);
  CHECK(props.allocate_cost == "O(1)");
  CHECK(props.free_cost == "O(1)");
  STATIC_REQUIRE(alloy::allocator<P::align<64>>::alignment == 64);
  STATIC_REQUIRE(alloy::allocator<>::alignment == alignof(std::max_align_t));
}

TEST_CASE("every axis concept accepts the shipped policies and rejects strangers", "[composition]") {
  STATIC_REQUIRE(alloy::search_policy<P::segregated_fit>);
  STATIC_REQUIRE(alloy::search_policy<P::segregated_fit::with<4096>>);
  STATIC_REQUIRE(alloy::memory_source<P::system_pages>);
  STATIC_REQUIRE(alloy::memory_source<P::system_malloc>);
  STATIC_REQUIRE(alloy::memory_source<P::static_arena<4096>>);
  STATIC_REQUIRE(alloy::threading_policy<P::single_thread>);
  STATIC_REQUIRE(alloy::stats_policy<P::stats>);
  STATIC_REQUIRE(alloy::stats_policy<P::no_stats>);
  STATIC_REQUIRE(alloy::alignment_policy<P::align<8>>);
  STATIC_REQUIRE_FALSE(alloy::search_policy<P::single_thread>);
  STATIC_REQUIRE_FALSE(alloy::memory_source<P::segregated_fit>);
  STATIC_REQUIRE_FALSE(alloy::size_class_map<int>);
  STATIC_REQUIRE_FALSE(alloy::threading_policy<P::stats>);
}
