// The default matrix: what `tools/bench.sh` measures — every search policy
// (alloy::search_policies) over the lists below. Its slices are compiled in `parts` translation
// units (default_part_<k>.cpp) so two cores build in parallel; a new search policy joins them
// with no file added here.
#pragma once
#include <boost/mp11/algorithm.hpp>
#include <policy/search.hpp>

#include "matrix.hpp"

namespace alloy::bench::defaults {

namespace P = alloy::policy;

using threading = mp_list<P::single_thread, P::locked<>, P::locked<alloy::spin_mutex>, P::thread_local_cache>;
using size_classes = mp_list<P::pow2_classes<16, 4096>, P::linear_classes<16, 1024>, P::geometric_classes<16, 16384, 4>>;
using alignment = mp_list<P::align<16>>;

/// The default matrix's slice for one search policy.
template <class Search>
using slice = matrix<mp_list<Search>, threading, size_classes, alignment>;

/// Compositions beyond the product above that the advice must search (issue 17, item 7): the
/// large-block heap of the process-malloc issue (blocks above the largest class in a TLSF heap,
/// not a chunk each) with classes up to 128 KiB — the preload library's default design — under
/// every threading policy. Registered by default_part_3.cpp.
using strong = matrix<mp_list<P::segregated_fit::with<0, P::tlsf>>, threading,
                      mp_list<P::geometric_classes<16, (1 << 17), 4>, P::geometric_classes<16, 16384, 4>>, alignment>;
/// The preload library's own composition (tools/malloc/default_heap.hpp), reclaim included: the
/// design whose kept large chunks the `no_reclaim` cells above unmap and fault in again.
using preload_design = matrix<mp_list<P::segregated_fit::with<0, P::tlsf>>, mp_list<P::thread_local_cache>,
                              mp_list<P::geometric_classes<16, (1 << 17), 4>>, alignment, mp_list<P::system_pages>,
                              mp_list<P::no_hardening>, mp_list<P::no_checks>, mp_list<P::reclaim::with<100>>>;

/// The translation units the slices are spread over, a contiguous run of search policies each.
inline constexpr std::size_t parts = 3;
inline constexpr std::size_t per_part = (boost::mp11::mp_size<search_policies>::value + parts - 1) / parts;

/// Registers the slices of part `Part`; each is defined in default_part_<Part>.cpp.
template <std::size_t Part>
void add_part(registry& r);
template <>
void add_part<0>(registry& r);
template <>
void add_part<1>(registry& r);
template <>
void add_part<2>(registry& r);
/// The `strong` compositions (default_part_3.cpp).
void add_strong(registry& r);

/// The body each default_part_<Part>.cpp gives add_part<Part>.
template <std::size_t Part>
void add_slices_of_part(registry& r) {
  boost::mp11::mp_for_each<boost::mp11::mp_iota_c<boost::mp11::mp_size<search_policies>::value>>([&](auto index) {
    if constexpr (decltype(index)::value / per_part == Part)
      slice<boost::mp11::mp_at_c<search_policies, decltype(index)::value>>::add_to(r);
  });
}

/// Every part, in the order the report lists them.
inline const std::vector<cell_adder>& slices() {
  static const std::vector<cell_adder> all{&add_part<0>, &add_part<1>, &add_part<2>, &add_strong};
  static_assert(parts == 3, "list every add_part<k> above");
  return all;
}

}  // namespace alloy::bench::defaults
