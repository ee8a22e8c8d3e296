// The matrix is generated, filtered by the allocator's own concepts, and measured with
// instruments that count what the workloads really did.
#include <catch2/catch.hpp>

#include <bench/matrix/matrix.hpp>
#include <numeric>

namespace P = alloy::policy;
using boost::mp11::mp_list;
using namespace alloy::bench;

namespace {

struct not_a_search_policy {  // names the search axis but builds no heap
  using axis = alloy::axis::search;
  static std::string name() { return "broken"; }
};

using small_objects = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 4096>, P::single_thread, P::align<16>>;

}  // namespace

TEST_CASE("valid_composition asks what alloy::allocator asks", "[matrix]") {
  STATIC_REQUIRE(valid_composition<mp_list<P::segregated_fit, P::single_thread>>);
  STATIC_REQUIRE(valid_composition<mp_list<P::tlsf, P::locked<>, P::align<64>>>);
  STATIC_REQUIRE_FALSE(valid_composition<mp_list<P::segregated_fit, P::tlsf>>);           // two searches
  STATIC_REQUIRE_FALSE(valid_composition<mp_list<P::single_thread, P::locked<>>>);        // two threadings
  STATIC_REQUIRE_FALSE(valid_composition<mp_list<int, P::single_thread>>);                // not a policy
  STATIC_REQUIRE_FALSE(valid_composition<mp_list<not_a_search_policy>>);                  // breaks its concept
}

TEST_CASE("the matrix is the product of its lists, less the invalid and the duplicate cells", "[matrix]") {
  using m = matrix<mp_list<P::segregated_fit, P::tlsf, not_a_search_policy>, mp_list<P::single_thread, P::locked<>>,
                   mp_list<P::pow2_classes<16, 4096>, P::geometric_classes<16, 16384, 4>>>;
  STATIC_REQUIRE(boost::mp11::mp_size<m::product>::value == 12);
  STATIC_REQUIRE(boost::mp11::mp_size<m::valid>::value == 8);  // the broken search policy is out
  // tlsf has no size classes (max_class_size 0): one cell per threading, not one per class map
  STATIC_REQUIRE(m::size == 6);
  STATIC_REQUIRE(boost::mp11::mp_contains<m::allocators, small_objects>::value);
  STATIC_REQUIRE(boost::mp11::mp_contains<m::allocators, alloy::allocator<P::tlsf, P::locked<>>>::value);
}

TEST_CASE("a cell names the type to paste", "[matrix]") {
  CHECK(declaration_of<small_objects>() ==
        "alloy::allocator<P::segregated_fit, P::pow2_classes<16, 4096>, P::single_thread, P::align<16>>");
  CHECK(alloy_cell<alloy::allocator<P::tlsf, P::locked<>>>::thread_safe);
  CHECK_FALSE(alloy_cell<small_objects>::thread_safe);
  CHECK(alloy_cell<small_objects>::properties().find("\"allocate_cost\": \"O(1)\"") != std::string::npos);
}

TEST_CASE("workloads draw the same operations every time", "[matrix]") {
  const batch_workload a{512}, b{512};
  CHECK(a.sizes == b.sizes);
  CHECK(a.order == b.order);
  std::vector<std::size_t> sorted = a.order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> identity(512);
  std::iota(identity.begin(), identity.end(), std::size_t{0});
  CHECK(sorted == identity);  // every block freed exactly once
  const churn_workload c{1000, 256}, d{1000, 256};
  CHECK(c.slots == d.slots);
  CHECK(c.new_sizes == d.new_sizes);
  for (std::size_t s : c.new_sizes) CHECK((s >= 8 && s <= 4096));
}

TEST_CASE("the memory run counts the workload's live bytes and the heap's footprint", "[matrix]") {
  const batch_workload w{256};
  const double live = static_cast<double>(std::accumulate(w.sizes.begin(), w.sizes.end(), std::size_t{0}));
  const cell_metrics& alloy = memory_run<alloy_cell<small_objects>>(w);
  CHECK(alloy.pairs == 256);
  CHECK(alloy.peak_live_bytes == live);
  CHECK(alloy.memory_ratio >= 1.0);
  CHECK(alloy.peak_reserved_bytes == alloy.memory_ratio * live);
  const cell_metrics& hand = memory_run<hand_free_list_cell>(w);
  CHECK(hand.peak_live_bytes == live);
  CHECK(hand.peak_reserved_bytes >= live);

  const fragmentation_workload f{128};
  const cell_metrics& frag = memory_run<alloy_cell<alloy::allocator<P::tlsf>>>(f);
  CHECK(frag.largest_free_block > 0);
  CHECK((frag.external_fragmentation >= 0 && frag.external_fragmentation <= 1));
}

TEST_CASE("a cell that cannot serve the workload is reported, not measured", "[matrix]") {
  using tiny = alloy::allocator<P::segregated_fit, P::static_arena<65536>, P::pow2_classes<16, 4096>>;
  const batch_workload w{4096};  // about 1 MiB live: more than the arena holds
  const cell_metrics& m = memory_run<alloy_cell<tiny>>(w);
  CHECK(m.pairs < 0);  // minus the number of failed allocations
}

TEST_CASE("the op timer reports percentiles of what it timed", "[matrix]") {
  op_timer t{100};
  for (int i = 0; i < 100; ++i) t.stop(t.start());
  CHECK(t.percentile_ns(0.99) >= 0);
  CHECK(t.max_ns() >= t.percentile_ns(0.99));
}
