// Hardening must change nothing a correct program sees: the model-based random test over
// hardened compositions (each mitigation alone, all together, over every memory source where
// the mitigation applies, under every threading policy it applies to).
#include <catch2/catch.hpp>

#include <alloc/alloy.hpp>
#include <boost/mp11/list.hpp>
#include <policy/all.hpp>

#include "../support/model.hpp"

namespace P = alloy::policy;

using compositions = boost::mp11::mp_list<
    alloy::allocator<P::segregated_fit, P::pow2_classes<8, 256>, P::align<16>, P::stats, P::hardened>,
    alloy::allocator<P::segregated_fit, P::geometric_classes<16, 4096, 4>, P::align<64>, P::stats,
                     P::hardened::with<P::encoded_links, P::guard_pages, P::randomized_placement, P::double_free_scan>>,
    alloy::allocator<P::segregated_fit, P::linear_classes<16, 1024>, P::system_malloc, P::stats,
                     P::hardened::with<P::encoded_links, P::randomized_placement, P::double_free_scan>>,
    alloy::allocator<P::segregated_fit::with<4096>, P::pow2_classes<8, 512>, P::static_arena<1 << 20>, P::stats,
                     P::hardened::with<P::encoded_links>>,
    alloy::allocator<P::segregated_fit, P::pow2_classes<8, 256>, P::align<8>, P::stats,
                     P::hardened::with<P::double_free_check>>,
    alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>, P::stats, P::hardened::with<P::guard_pages>>,
    alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>, P::stats, P::locked<>, P::hardened>,
    alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>, P::stats, P::thread_local_cache,
                     P::hardened::with<P::guard_pages, P::randomized_placement>>,
    alloy::allocator<P::segregated_fit, P::pow2_classes<16, 256>, P::stats, P::thread_local_cache, P::hardened>,
    alloy::allocator<P::segregated_fit, P::geometric_classes<16, 4096, 4>, P::static_arena<1 << 20>, P::stats,
                     P::thread_local_cache, P::hardened::with<P::encoded_links, P::double_free_scan>>,
    alloy::allocator<P::segregated_fit::with<4096>, P::pow2_classes<8, 512>, P::static_arena<1 << 20>, P::stats,
                     P::hardened::with<P::randomized_placement>>>;

TEMPLATE_LIST_TEST_CASE("hardened heaps survive random operations against a model", "[hardening][model]",
                        compositions) {
  auto heap = std::make_unique<TestType>();
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    alloy::testing::model_options o;
    o.seed = seed;
    o.max_large = 60000;  // fits the 1 MiB arena beside everything else
    alloy::testing::run_model(*heap, o);
  }
  heap->release();
  alloy::testing::run_model(*heap);  // and again after everything went back to the source
}
