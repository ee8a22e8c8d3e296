// Every search policy, for tests and tools (fuzzing, threading) that check a law over all of
// them: a new policy is tested by adding it here.
#pragma once
#include <boost/mp11/list.hpp>
#include <policy/search.hpp>

namespace alloy::testing {

namespace search = alloy::policy;

/// Every search policy, in its default form.
using all_search_policies = boost::mp11::mp_list<search::first_fit, search::best_fit, search::next_fit, search::buddy,
                                                 search::tlsf, search::segregated_fit,
                                                 search::segregated_fit::with<0, search::tlsf>>;

/// The policies that merge free neighbours, so that freeing everything leaves one free block.
using coalescing_search_policies =
    boost::mp11::mp_list<search::first_fit, search::best_fit, search::next_fit, search::buddy, search::tlsf>;

}  // namespace alloy::testing
