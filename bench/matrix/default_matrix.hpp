// The default matrix: what `tools/bench.sh` measures — every search policy
// (alloy::search_policies) over the lists below, and the compositions the advice must also
// search. Its groups are compiled in `parts` translation units (default_part_<k>.cpp); a new
// search policy joins them with no file added here.
#pragma once
#include <array>
#include <boost/mp11/algorithm.hpp>
#include <policy/search.hpp>
#include <utility>

#include <tools/malloc/default_heap.hpp>

#include "matrix.hpp"

namespace alloy::bench::defaults {

namespace P = alloy::policy;

using threading = mp_list<P::single_thread, P::locked<>, P::locked<alloy::spin_mutex>, P::thread_local_cache>;
using size_classes = mp_list<P::pow2_classes<16, 4096>, P::linear_classes<16, 1024>, P::geometric_classes<16, 16384, 4>>;
using alignment = mp_list<P::align<16>>;

/// The default matrix's slice for one search policy and one threading policy: the unit the
/// build deals out (below).
template <class Search, class Threading>
using slice = matrix<mp_list<Search>, mp_list<Threading>, size_classes, alignment>;

/// Compositions beyond the product above that the advice must search (issue 17, item 7): the
/// large-block heap of the process-malloc issue (blocks above the largest class in a TLSF heap,
/// not a chunk each) with classes up to 128 KiB and up to 16 KiB, under each threading policy.
template <class Threading>
using strong = matrix<mp_list<P::segregated_fit::with<0, P::tlsf>>, mp_list<Threading>,
                      mp_list<P::geometric_classes<16, (1 << 17), 4>, P::geometric_classes<16, 16384, 4>>, alignment>;
/// The threading policies the strong compositions are tried under: the matrix's, and the cache
/// per CPU, so that a trace of many threads is also replayed against caches bounded by CPUs
/// rather than threads (over every search policy it would add a slice per policy for one kind
/// of program).
using strong_threading = boost::mp11::mp_push_back<threading, P::per_cpu_cache>;
/// The preload library's own composition: the very type liballoy_malloc.so is built from
/// (alloy::malloc_heap, tools/malloc/default_heap.hpp), not a copy of its policy list. A copy
/// drifted once: it kept `with<0, tlsf>` and classes up to 128 KiB after the library was re-tuned
/// to 1 MiB class chunks and a 4 KiB top class, so the advice never saw the real default.
using preload_design = compositions<alloy::malloc_heap>;

/// Every group of the default matrix, in the order the report lists them: search policy by
/// search policy, threading policy by threading policy, then `strong` (under strong_threading),
/// then `preload_design`.
/// Naming a group costs the compiler nothing; only the part that registers it computes its
/// product and instantiates its cells.
using groups = boost::mp11::mp_append<boost::mp11::mp_product<slice, search_policies, threading>,
                                      boost::mp11::mp_transform<strong, strong_threading>, mp_list<preload_design>>;
inline constexpr std::size_t group_count = boost::mp11::mp_size<groups>::value;

/// The translation units the groups are dealt over: group `g` is compiled in
/// default_part_<g % parts>.cpp. Five, prime to the four threading policies, so each unit gets a
/// like share of every kind of heap and two cores stay busy to the end of the build.
inline constexpr std::size_t parts = 5;

/// Registers group `index` (one of part `Part`'s); defined in default_part_<Part>.cpp.
template <std::size_t Part>
void add_part(registry& r, std::size_t index);
template <>
void add_part<0>(registry& r, std::size_t index);
template <>
void add_part<1>(registry& r, std::size_t index);
template <>
void add_part<2>(registry& r, std::size_t index);
template <>
void add_part<3>(registry& r, std::size_t index);
template <>
void add_part<4>(registry& r, std::size_t index);

/// The body each default_part_<Part>.cpp gives add_part<Part>: the cells of its groups.
template <std::size_t Part>
void add_groups_of_part(registry& r, std::size_t index) {
  boost::mp11::mp_for_each<boost::mp11::mp_iota_c<group_count>>([&](auto g) {
    if constexpr (decltype(g)::value % parts == Part) {
      if (decltype(g)::value == index) boost::mp11::mp_at_c<groups, decltype(g)::value>::add_to(r);
    }
  });
}

/// Registers group `G`, from the part it was compiled in.
template <std::size_t G>
void add_group(registry& r) {
  static_assert(parts == 5, "declare every add_part<k> above");
  add_part<G % parts>(r, G);
}

/// One adder per group, in the order the report lists them.
inline const std::vector<cell_adder>& slices() {
  static const std::vector<cell_adder> all = []<std::size_t... G>(std::index_sequence<G...>) {
    return std::vector<cell_adder>{&add_group<G>...};
  }(std::make_index_sequence<group_count>{});
  return all;
}

}  // namespace alloy::bench::defaults
