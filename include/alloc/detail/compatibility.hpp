// Whether the policies of one design work together, decided once. Policies publish
// capabilities (`protects_pages` on a source, `shuffles_fresh_batch` on a search policy,
// `caches_freed_blocks` on a threading policy, the mitigation flags of a hardening policy; see
// each axis's concept.hpp) and each rule below says which capability a choice needs, reading
// capabilities, never policy types. `compatible<Policies>` is the yes/no answer (the benchmark
// matrix's filter); `compatibility_check<Policies>` is the same answer that stops compilation
// with the first broken rule's message, naming the fix (alloy::allocator).
#pragma once
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <cstddef>
#include <type_traits>

#include "../../policy/hardening/concept.hpp"
#include "../../policy/search/concept.hpp"
#include "../../policy/source/concept.hpp"
#include "../../policy/threading/concept.hpp"

namespace alloy::detail {

template <class Axis>
struct on_axis {
  template <class P>
  using fn = std::is_same<typename P::axis, Axis>;
};

/// The policy on `Axis` in a list holding one policy per axis.
template <class Axis, class Policies>
using policy_on_axis = boost::mp11::mp_front<boost::mp11::mp_copy_if_q<Policies, on_axis<Axis>>>;

// Each rule: `broken<Policies>` says whether the design breaks it; `check<Policies>` is the
// same question as a static_assert whose message says what is wrong and how to fix it.

/// Guard pages mprotect the end of every chunk: the source must hand out pages of its own.
struct guard_pages_need_protected_pages {
  template <class Ps>
  static constexpr bool broken = policy_on_axis<axis::hardening, Ps>::guards_pages &&
                                 !source_protects_pages<policy_on_axis<axis::source, Ps>>;
  template <class Ps>
  struct check {
    static_assert(!broken<Ps>, "alloy::allocator<...>: hardening: guard pages need a memory source that maps whole "
                               "pages it may protect (protects_pages: P::system_pages); static_arena and system_malloc "
                               "cannot be mprotected. Use P::system_pages, or P::hardened::with<...> without "
                               "P::guard_pages");
  };
};

/// Randomized placement shuffles the blocks carved from a fresh chunk: the heap must carve batches.
struct randomized_placement_needs_a_fresh_batch {
  template <class Ps>
  static constexpr bool broken = policy_on_axis<axis::hardening, Ps>::randomizes_placement &&
                                 !search_shuffles_fresh_batch<policy_on_axis<axis::search, Ps>>;
  template <class Ps>
  struct check {
    static_assert(!broken<Ps>, "alloy::allocator<...>: hardening: randomized_placement cannot apply to this search "
                               "policy: buddy, first_fit, best_fit, next_fit, tlsf (and segregated_fit's large heap) "
                               "place blocks by order, address or size, carving no batch to shuffle "
                               "(shuffles_fresh_batch). Use P::hardened::with<P::encoded_links, P::guard_pages, "
                               "P::double_free_check>, or plain P::segregated_fit");
  };
};

/// A thread cache hands freed blocks between threads and back to the heap as chains linked
/// through the heap's codec, which only a heap that shares it (segregated fit) offers.
struct link_encoding_in_a_thread_cache_needs_the_heaps_codec {
  template <class Ps>
  static constexpr bool broken = policy_on_axis<axis::hardening, Ps>::encodes_links &&
                                 threading_caches_freed_blocks<policy_on_axis<axis::threading, Ps>> &&
                                 !search_shares_link_codec<policy_on_axis<axis::search, Ps>>;
  template <class Ps>
  struct check {
    static_assert(!broken<Ps>, "alloy::allocator<...>: encoded_links in a thread cache need the heap's link codec "
                               "(shares_link_codec: P::segregated_fit); this search policy keeps its codec to "
                               "itself. Use P::segregated_fit, or P::locked<> with this search policy");
  };
};

/// Per-CPU stacks hold bare block pointers: no codec encodes them and no double-free check sees
/// them, so a hardening that promises either would be a promise broken for every cached block.
struct bare_pointer_caches_refuse_link_hardening {
  template <class Ps>
  static constexpr bool broken = threading_holds_bare_pointers<policy_on_axis<axis::threading, Ps>> &&
                                 (policy_on_axis<axis::hardening, Ps>::encodes_links ||
                                  policy_on_axis<axis::hardening, Ps>::checks_double_free);
  template <class Ps>
  struct check {
    static_assert(!broken<Ps>, "alloy::allocator<...>: per_cpu_cache keeps freed blocks as bare pointers in per-CPU "
                               "stacks, out of reach of encoded_links and double_free_check. Use "
                               "P::thread_local_cache (which links its bins through the heap's codec), or "
                               "P::hardened::with<P::guard_pages>");
  };
};

/// Every rule, in the order they are reported (one message: the first broken rule).
using compatibility_rules = boost::mp11::mp_list<guard_pages_need_protected_pages,
                                                 randomized_placement_needs_a_fresh_batch,
                                                 link_encoding_in_a_thread_cache_needs_the_heaps_codec,
                                                 bare_pointer_caches_refuse_link_hardening>;

template <class Policies>
struct is_broken_for {
  template <class Rule>
  using fn = std::bool_constant<Rule::template broken<Policies>>;
};

/// The index of the first rule `Policies` (one policy per axis, each meeting its concept)
/// breaks; the number of rules when it breaks none.
template <class Policies>
inline constexpr std::size_t first_broken_rule =
    boost::mp11::mp_find_if_q<compatibility_rules, is_broken_for<Policies>>::value;

/// The yes/no answer.
template <class Policies>
inline constexpr bool compatible = first_broken_rule<Policies> == boost::mp11::mp_size<compatibility_rules>::value;

/// The same answer, stopping compilation with the first broken rule's message.
template <class Policies, bool = compatible<Policies>>
struct compatibility_check {
  static constexpr bool value = true;
};
template <class Policies>
struct compatibility_check<Policies, false>
    : boost::mp11::mp_at_c<compatibility_rules, first_broken_rule<Policies>>::template check<Policies> {
  static constexpr bool value = false;
};

}  // namespace alloy::detail
