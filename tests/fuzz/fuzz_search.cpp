// Fuzz target: every search policy, each with stats, in two compositions (the defaults over
// system pages, and a small fixed arena with pow2 classes and 32-byte alignment, where running
// out is part of the game). The first input byte picks the composition.
#include <boost/mp11/algorithm.hpp>

#include "../search/search_policies.hpp"
#include "operations.hpp"

namespace P = alloy::policy;

template <class Search>
using over_pages = alloy::allocator<Search, P::stats>;
template <class Search>
using over_arena = alloy::allocator<Search, P::stats, P::static_arena<(1 << 20)>, P::pow2_classes<16, 512>, P::align<32>>;

using compositions = boost::mp11::mp_append<boost::mp11::mp_transform<over_pages, alloy::testing::all_search_policies>,
                                            boost::mp11::mp_transform<over_arena, alloy::testing::all_search_policies>>;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return alloy::fuzz::run_one_of<compositions>(data, size);
}
