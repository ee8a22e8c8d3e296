// Umbrella header of the search axis, and the one list of its policies.
#pragma once
#include <boost/mp11/list.hpp>

#include "search/best_fit.hpp"
#include "search/buddy.hpp"
#include "search/concept.hpp"
#include "search/first_fit.hpp"
#include "search/next_fit.hpp"
#include "search/segregated_fit.hpp"
#include "search/tlsf.hpp"

namespace alloy {

/// Every search policy, in its default form: the list the shared tests (search laws, threading,
/// fuzzing) check and the default benchmark matrix measures. A new search policy is its
/// header, an include line above and its entry here (at the end: the fuzzers' seed corpora
/// pick compositions by their index in this list).
using search_policies = boost::mp11::mp_list<policy::first_fit, policy::best_fit, policy::next_fit, policy::buddy,
                                             policy::tlsf, policy::segregated_fit>;

}  // namespace alloy
