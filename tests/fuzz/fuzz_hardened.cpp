// Fuzz target: the hardened compositions — every search policy with encoded links, guard pages
// and the double-free check (the mitigations every policy takes), and segregated fit with all
// of them — so hostile operation sequences meet the hardened free lists too. The first input
// byte picks the composition.
#include <boost/mp11/algorithm.hpp>

#include "../search/search_policies.hpp"
#include "operations.hpp"
#include <policy/hardening.hpp>

namespace P = alloy::policy;

template <class Search>
using hardened_links = alloy::allocator<Search, P::stats,
                                        P::hardened::with<P::encoded_links, P::guard_pages, P::double_free_check>>;

using compositions = boost::mp11::mp_push_back<
    boost::mp11::mp_transform<hardened_links, alloy::testing::all_search_policies>,
    alloy::allocator<P::segregated_fit, P::stats, P::hardened>,
    alloy::allocator<P::segregated_fit, P::stats,
                     P::hardened::with<P::encoded_links, P::randomized_placement, P::double_free_scan>>>;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return alloy::fuzz::run_one_of<compositions>(data, size);
}
