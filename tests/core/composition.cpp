// How policies compose: order does not matter, defaults fill the gaps, empty policies cost
// nothing, and the composed type names and describes itself.
#include <array>
#include <bit>
#include <catch2/catch.hpp>

#include <alloc/alloy.hpp>

#include "../../bench/matrix/valid_composition.hpp"
#include <policy/all.hpp>

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
  STATIC_REQUIRE(alloy::source_policy<P::system_pages>);
  STATIC_REQUIRE(alloy::source_policy<P::system_malloc>);
  STATIC_REQUIRE(alloy::source_policy<P::static_arena<4096>>);
  STATIC_REQUIRE(alloy::threading_policy<P::single_thread>);
  STATIC_REQUIRE(alloy::stats_policy<P::stats>);
  STATIC_REQUIRE(alloy::stats_policy<P::no_stats>);
  STATIC_REQUIRE(alloy::alignment_policy<P::align<8>>);
  STATIC_REQUIRE_FALSE(alloy::search_policy<P::single_thread>);
  STATIC_REQUIRE_FALSE(alloy::source_policy<P::segregated_fit>);
  STATIC_REQUIRE_FALSE(alloy::size_classes_policy<int>);
  STATIC_REQUIRE_FALSE(alloy::threading_policy<P::stats>);
}

// ---- One design, one type, one name ------------------------------------------------------------

template <class A, class B>
inline constexpr bool same_design = std::is_same_v<alloy::allocator<A>, alloy::allocator<B>>;

TEST_CASE("an untuned policy is its tuned form with the default arguments", "[composition]") {
  STATIC_REQUIRE(same_design<P::segregated_fit, P::segregated_fit::with<0>>);
  STATIC_REQUIRE(same_design<P::segregated_fit, P::segregated_fit::with<0, void>>);
  STATIC_REQUIRE(same_design<P::first_fit, P::first_fit::with<0>>);
  STATIC_REQUIRE(same_design<P::best_fit, P::best_fit::with<0>>);
  STATIC_REQUIRE(same_design<P::next_fit, P::next_fit::with<0>>);
  STATIC_REQUIRE(same_design<P::tlsf, P::tlsf::with<0>>);
  STATIC_REQUIRE(same_design<P::buddy, P::buddy::with<32, (1 << 20)>>);
  STATIC_REQUIRE(same_design<P::checked, P::checked::with<16>>);
  STATIC_REQUIRE(same_design<P::thread_local_cache, P::thread_local_cache::with<64, 32>>);
  STATIC_REQUIRE(same_design<P::hardened, P::hardened::with<P::encoded_links, P::guard_pages, P::randomized_placement,
                                                            P::double_free_check>>);
  STATIC_REQUIRE(same_design<P::hardened, P::hardened::with<P::double_free_check, P::randomized_placement,
                                                            P::guard_pages, P::encoded_links>>);
  // Every policy with a tuned form publishes it, and it is what a composition holds.
  STATIC_REQUIRE(std::is_same_v<alloy::allocator<>::policies,
                                alloy::allocator<P::segregated_fit::with<0>, P::geometric_classes<16, 16384, 4>>::policies>);
  // A different design is a different type.
  STATIC_REQUIRE_FALSE(same_design<P::buddy, P::buddy::with<16, (1 << 20)>>);
  STATIC_REQUIRE_FALSE(same_design<P::fail_after, P::fail_after::with<0>>);  // disarmed vs armed: two designs
}

TEST_CASE("different designs have different names, one design one name", "[composition]") {
  using alloy::name_of;
  CHECK(name_of<alloy::allocator<P::buddy::with<32, (1 << 20)>>>() == name_of<alloy::allocator<P::buddy>>());
  CHECK(name_of<alloy::allocator<P::buddy>>().starts_with("buddy + "));
  CHECK(name_of<alloy::allocator<P::buddy::with<16, 4096>>>().starts_with("buddy::with<16, 4096> + "));
  CHECK(name_of<alloy::allocator<P::hardened>>() != name_of<alloy::allocator<P::hardened::with<P::guard_pages>>>());
  CHECK(name_of<alloy::allocator<P::hardened::with<P::guard_pages>>>().ends_with("+ hardened::with<guard_pages>"));
  CHECK(name_of<alloy::allocator<P::checked::with<16>>>().ends_with("+ checked"));
  CHECK(name_of<alloy::allocator<P::checked::with<4>>>().ends_with("+ checked::with<4>"));
  CHECK(name_of<alloy::allocator<P::thread_local_cache::with<64, 32>>>() ==
        "segregated_fit + geometric_classes<16, 16384, 4> + thread_local_cache + align<16>");
  CHECK(name_of<alloy::allocator<P::segregated_fit::with<0, P::tlsf>>>().starts_with("segregated_fit::with<0, tlsf> + "));
}

// ---- Compatibility, decided once ---------------------------------------------------------------

namespace product {
using search = boost::mp11::mp_push_back<alloy::search_policies, P::segregated_fit::with<0, P::tlsf>>;
using threading = boost::mp11::mp_list<P::single_thread, P::locked<>, P::thread_local_cache>;
using sources = boost::mp11::mp_list<P::system_pages, P::system_malloc, P::static_arena<(1 << 20)>>;
using hardening =
    boost::mp11::mp_list<P::no_hardening, P::hardened, P::hardened::with<P::encoded_links>,
                         P::hardened::with<P::guard_pages>, P::hardened::with<P::randomized_placement>,
                         P::hardened::with<P::double_free_check>, P::hardened::with<P::encoded_links, P::double_free_scan>>;
using checks = boost::mp11::mp_list<P::no_checks, P::checked>;
/// Everything the benchmark matrix can generate over these lists, before its filter.
using all = alloy::bench::matrix_product<search, threading, boost::mp11::mp_list<P::pow2_classes<16, 4096>>,
                                         boost::mp11::mp_list<P::align<16>>, sources, hardening, checks>;
using rules = alloy::detail::compatibility_rules;

template <class Cell>
using in_axis_order = typename boost::mp11::mp_apply<alloy::allocator, Cell>::policies;

/// For a cell the filter keeps: the allocator composes it, the very policies asked about, and its
/// layer stack is complete (a "yes" that alloy::allocator refused would fail to compile here).
/// For a cell it drops: exactly one named rule refuses it (each has a compile-fail sample with
/// its message: tests/compile_fail/hardening_*.cpp), and the rule's own check says no.
template <class Cell>
constexpr int verdict() {
  constexpr std::size_t broken = alloy::detail::first_broken_rule<Cell>;
  if constexpr (alloy::bench::valid_composition<Cell>) {
    using A = boost::mp11::mp_apply<alloy::allocator, Cell>;
    static_assert(alloy::heap_layer<typename A::composition::top> && sizeof(A) > 0);
    static_assert(broken == boost::mp11::mp_size<rules>::value);
    static_assert(boost::mp11::mp_all_of_q<boost::mp11::mp_transform<alloy::tuned_form_t, Cell>,
                                           boost::mp11::mp_bind_front<boost::mp11::mp_contains, in_axis_order<Cell>>>::value);
    return -1;
  } else {
    static_assert(broken < boost::mp11::mp_size<rules>::value, "a cell the filter drops breaks no rule");
    return static_cast<int>(broken);
  }
}

/// How many cells compose (index 0) and how many each rule refuses (index 1 + rule).
template <class Cells>
constexpr std::array<std::size_t, boost::mp11::mp_size<rules>::value + 1> tally() {
  std::array<std::size_t, boost::mp11::mp_size<rules>::value + 1> counts{};
  boost::mp11::mp_for_each<Cells>([&]<class Cell>(Cell) { ++counts[static_cast<std::size_t>(verdict<Cell>() + 1)]; });
  return counts;
}
}  // namespace product

TEST_CASE("the matrix's filter and alloy::allocator give one answer over the whole product", "[composition]") {
  constexpr auto counts = product::tally<product::all>();
  // 7 search x 3 threading x 3 sources x 7 hardening x 2 checks.
  STATIC_REQUIRE(boost::mp11::mp_size<product::all>::value == 882);
  // Every rule but the last refuses some cells, each cell once: pinned, so a capability gained or lost (or a
  // rule changed) shows here. Guard pages over the two sources that cannot protect pages; then
  // randomized placement over the six searches that carve no batch; then encoded links under
  // the thread cache over the five searches whose heap keeps its codec to itself (60: the two
  // encoding hardenings that reach them x 5 x 3 sources x 2 checks). The product holds no
  // per_cpu_cache, so the last rule (bare pointers refuse link hardening) refuses none here:
  // tests/threading/per_cpu_cache.cpp checks it.
  STATIC_REQUIRE(counts == std::array<std::size_t, 5>{510, 168, 144, 60, 0});
}

namespace capabilities {
struct my_pages : P::system_pages {
  static std::string name() { return "my_pages"; }
};
struct my_unprotected_pages : P::system_pages {
  static constexpr bool protects_pages = false;
  static std::string name() { return "my_unprotected_pages"; }
};
}  // namespace capabilities

TEST_CASE("the compatibility rules read capabilities, not types", "[composition]") {
  using alloy::bench::valid_composition;
  using boost::mp11::mp_list;
  // Where the old filter disagreed with alloy::allocator:
  STATIC_REQUIRE_FALSE(valid_composition<mp_list<P::tlsf, P::thread_local_cache, P::hardened::with<P::encoded_links>>>);
  // The thread cache borrows segregated fit's codec (shares_link_codec), so encoded links reach it.
  STATIC_REQUIRE(valid_composition<mp_list<P::thread_local_cache, P::hardened::with<P::encoded_links>>>);
  STATIC_REQUIRE(valid_composition<mp_list<P::tlsf, P::thread_local_cache, P::hardened::with<P::double_free_check>>>);
  STATIC_REQUIRE_FALSE(valid_composition<mp_list<P::buddy, P::hardened::with<P::randomized_placement>>>);
  STATIC_REQUIRE(valid_composition<mp_list<P::thread_local_cache, P::hardened::with<P::guard_pages>>>);
  // A source of one's own that protects its pages may carry guard pages; one that does not may not.
  STATIC_REQUIRE(valid_composition<mp_list<capabilities::my_pages, P::hardened>>);
  STATIC_REQUIRE_FALSE(valid_composition<mp_list<capabilities::my_unprotected_pages, P::hardened::with<P::guard_pages>>>);
  STATIC_REQUIRE(valid_composition<mp_list<capabilities::my_unprotected_pages, P::hardened::with<P::encoded_links>>>);
}

// ---- Laws and members, checked at composition --------------------------------------------------

namespace laws {
/// Powers of two 16 .. 4096 with one bad entry: `bad_size` maps to the 16 B class.
template <std::size_t BadSize>
struct faulty_classes {
  using axis = alloy::axis::size_classes;
  static constexpr std::size_t count = 9;
  static constexpr std::size_t max_size = 4096;
  static constexpr std::size_t class_of(std::size_t n) noexcept {
    if (n == BadSize) return 0;
    return n <= 16 ? 0 : static_cast<std::size_t>(std::bit_width(n - 1)) - 4;
  }
  static constexpr std::size_t size_of(std::size_t c) noexcept { return std::size_t{16} << c; }
  static std::string name() { return "faulty_classes"; }
};
/// The same up to 1 MiB: above alloy::exhaustive_sizes the laws are checked at each class's
/// bounds and at points between, not at every size.
template <std::size_t BadSize>
struct faulty_large_classes : faulty_classes<BadSize> {
  static constexpr std::size_t count = 17;
  static constexpr std::size_t max_size = std::size_t{1} << 20;
};
struct nameless_stats {
  using axis = alloy::axis::stats;
  template <class Inner>
  using layer = Inner;
};
}  // namespace laws

TEST_CASE("a size-class map that breaks a law is refused, naming the law and the size", "[composition]") {
  using alloy::first_size_class_fault;
  using alloy::size_class_law;
  STATIC_REQUIRE(first_size_class_fault<laws::faulty_classes<0>>().law == size_class_law::none);
  STATIC_REQUIRE(first_size_class_fault<laws::faulty_classes<3072>>().law == size_class_law::block_holds_request);
  STATIC_REQUIRE(first_size_class_fault<laws::faulty_classes<3072>>().at == 3072);
  STATIC_REQUIRE(first_size_class_fault<laws::faulty_classes<4096>>().law == size_class_law::round_trip);
  STATIC_REQUIRE(first_size_class_fault<laws::faulty_classes<4096>>().at == 8);  // the class of 4096 B
  STATIC_REQUIRE(alloy::size_classes_policy<laws::faulty_classes<3072>>);  // the members are all there...
  STATIC_REQUIRE_FALSE(alloy::bench::valid_composition<boost::mp11::mp_list<laws::faulty_classes<3072>>>);  // ...not the laws
  STATIC_REQUIRE(alloy::bench::valid_composition<boost::mp11::mp_list<laws::faulty_classes<0>>>);
  // Above the exhaustive range: a class's first size, its last, and one between are all seen.
  STATIC_REQUIRE(alloy::exhaustive_sizes < 32769);
  STATIC_REQUIRE(first_size_class_fault<laws::faulty_large_classes<0>>().law == size_class_law::none);
  STATIC_REQUIRE(first_size_class_fault<laws::faulty_large_classes<32769>>().at == 32769);
  STATIC_REQUIRE(first_size_class_fault<laws::faulty_large_classes<262144>>().law == size_class_law::round_trip);
  constexpr std::size_t between = 131073 + (262144 - 131073) / 17 + 1;  // the first point between 128 and 256 KiB
  STATIC_REQUIRE(first_size_class_fault<laws::faulty_large_classes<between>>().at == between);
}

TEST_CASE("a policy that misses a member fails the sub-concept naming it", "[composition]") {
  STATIC_REQUIRE_FALSE(alloy::named_policy<laws::nameless_stats>);
  STATIC_REQUIRE(alloy::wraps_a_layer<laws::nameless_stats>);
  STATIC_REQUIRE_FALSE(alloy::stats_policy<laws::nameless_stats>);
  STATIC_REQUIRE(alloy::layer_allocates<alloy::detail::probe_heap>);
  STATIC_REQUIRE_FALSE(alloy::layer_allocates<P::system_pages>);
  STATIC_REQUIRE_FALSE(alloy::source_hands_out_chunks<P::segregated_fit>);
}
