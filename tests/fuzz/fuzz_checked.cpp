// Fuzz target: the checking layer over every search policy. Correct use must raise no report
// (the default handler aborts, which the fuzzer records as a crash), and the checking layer
// must keep every raw-interface operation right. The first input byte picks the composition.
#include <boost/mp11/algorithm.hpp>

#include "../search/search_policies.hpp"
#include "operations.hpp"

namespace P = alloy::policy;

template <class Search>
using checked_over_pages = alloy::allocator<Search, P::checked>;
template <class Search>
using checked_over_arena =
    alloy::allocator<Search, P::checked::with<4>, P::static_arena<(1 << 20)>, P::linear_classes<16, 1024>, P::align<64>>;

using compositions =
    boost::mp11::mp_append<boost::mp11::mp_transform<checked_over_pages, alloy::testing::all_search_policies>,
                           boost::mp11::mp_transform<checked_over_arena, alloy::testing::all_search_policies>>;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return alloy::fuzz::run_one_of<compositions>(data, size);
}
