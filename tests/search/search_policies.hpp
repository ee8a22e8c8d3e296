// Every search policy, for tests and tools (fuzzing, threading) that check a law over all of
// them: the library's one list (alloy::search_policies, policy/search.hpp), plus designs of
// those policies that build a different heap.
#pragma once
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <policy/search.hpp>

namespace alloy::testing {

namespace search = alloy::policy;

/// Every search policy in its default form, and segregated fit keeping its large blocks in a
/// TLSF heap (a second heap inside the first).
using all_search_policies =
    boost::mp11::mp_push_back<alloy::search_policies, search::segregated_fit::with<0, search::tlsf>>;

/// The policies that merge free neighbours, so that freeing everything leaves one free block:
/// every one but segregated fit, whose blocks stay in their classes.
using coalescing_search_policies = boost::mp11::mp_remove<alloy::search_policies, search::segregated_fit>;

}  // namespace alloy::testing
