// Hardening over the tagged heaps (first_fit, best_fit, next_fit, tlsf, buddy): encoded links,
// guard pages and the double-free check apply to them; randomized placement does not, and
// asking for it stops the composition (tests/compile_fail/hardening_first_fit_placement.cpp).
#include <catch2/catch.hpp>

#include <alloc/alloy.hpp>
#include <boost/mp11/algorithm.hpp>
#include <csignal>
#include <cstring>
#include <policy/hardening.hpp>

#include "../support/model.hpp"
#include "child_process.hpp"

namespace P = alloy::policy;
using alloy::testing::run_in_child;

using applicable = P::hardened::with<P::encoded_links, P::guard_pages, P::double_free_check>;
template <class Search>
using hardened_over = alloy::allocator<Search, P::stats, applicable>;
using tagged_policies = boost::mp11::mp_list<P::first_fit, P::best_fit, P::next_fit, P::tlsf, P::buddy>;
using compositions = boost::mp11::mp_transform<hardened_over, tagged_policies>;

TEMPLATE_LIST_TEST_CASE("hardened boundary-tag heaps survive random operations against a model",
                        "[hardening][search][model]", compositions) {
  auto heap = std::make_unique<TestType>();
  for (std::uint32_t seed : {1u, 2u}) {
    alloy::testing::model_options o;
    o.seed = seed;
    o.operations = 8000;
    alloy::testing::run_model(*heap, o);
  }
}

namespace {
alignas(64) unsigned char attacker_target[64];
}

TEMPLATE_LIST_TEST_CASE("an overwritten free-list link stops a hardened boundary-tag heap", "[hardening][search][links]",
                        compositions) {
  const auto outcome = run_in_child([] {
    TestType heap;
    void* a = heap.allocate(64);
    void* keep_apart = heap.allocate(64);  // so that a and b do not merge
    void* b = heap.allocate(64);
    void* keep_apart_too = heap.allocate(64);
    heap.deallocate(a);
    heap.deallocate(b);
    void* forged[2] = {attacker_target, attacker_target};
    std::memcpy(a, forged, sizeof forged);  // use-after-free writes over both links
    std::memcpy(b, forged, sizeof forged);
    heap.deallocate(keep_apart);  // merging with both freed neighbours unlinks them
    void* got = heap.allocate(64);
    std::fprintf(stderr, "not stopped: %p %p\n", got, keep_apart_too);
  });
  CHECK(outcome.signal == SIGABRT);
  CHECK_THAT(outcome.err, Catch::Contains("alloy hardening: corrupted free-list link"));
}

TEMPLATE_LIST_TEST_CASE("a double free stops a hardened boundary-tag heap", "[hardening][search][double_free]",
                        compositions) {
  const auto outcome = run_in_child([] {
    TestType heap;
    void* a = heap.allocate(64);
    void* b = heap.allocate(64);
    heap.deallocate(a, 64);
    heap.deallocate(a, 64);
    std::fprintf(stderr, "not stopped %p\n", b);
  });
  CHECK(outcome.signal == SIGABRT);
  CHECK_THAT(outcome.err, Catch::Contains("alloy hardening: double free"));
}

TEMPLATE_LIST_TEST_CASE("a linear overflow off a boundary-tag heap's chunk faults on its guard page",
                        "[hardening][search][guard_pages]", compositions) {
  TestType heap;
  auto* p = static_cast<unsigned char*>(heap.allocate(100));
  REQUIRE(p != nullptr);
  const auto outcome = run_in_child([&] {
    alloy::testing::report_fault_mapping();
    // From the first block on, until the end of its chunk faults (well within 16 MiB).
    alloy::testing::overflow_write(p, std::size_t{1} << 24);
    std::fprintf(stderr, "not stopped\n");
  });
  CHECK(outcome.signal == SIGSEGV);
  CHECK_THAT(outcome.err, Catch::Contains("fault in mapping ---p"));  // a guard page, not a hole
  heap.deallocate(p);
}
