// The default matrix: what `tools/bench.sh` measures. One translation unit per search policy
// (default_<search>.cpp) keeps each compile small and lets two cores build in parallel.
#pragma once
#include "matrix.hpp"

namespace alloy::bench::defaults {

namespace P = alloy::policy;

using threading = mp_list<P::single_thread, P::locked<>, P::locked<alloy::spin_mutex>, P::thread_local_cache>;
using size_classes = mp_list<P::pow2_classes<16, 4096>, P::linear_classes<16, 1024>, P::geometric_classes<16, 16384, 4>>;
using alignment = mp_list<P::align<16>>;

/// The default matrix's slice for one search policy.
template <class Search>
using slice = matrix<mp_list<Search>, threading, size_classes, alignment>;

void add_segregated_fit(registry& r);
void add_first_fit(registry& r);
void add_best_fit(registry& r);
void add_next_fit(registry& r);
void add_tlsf(registry& r);
void add_buddy(registry& r);

/// Every slice, in the order the report lists them.
inline const std::vector<cell_adder>& slices() {
  static const std::vector<cell_adder> all{&add_segregated_fit, &add_tlsf, &add_buddy, &add_first_fit,
                                          &add_best_fit, &add_next_fit};
  return all;
}

}  // namespace alloy::bench::defaults
