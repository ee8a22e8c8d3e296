// How alloy::allocator<Policies...> becomes one type: every argument is checked to be a policy
// of a known axis, each axis takes at most one (or its default), each chosen policy must meet
// its axis concept and laws, the policies must work together (compatibility.hpp), and the
// result is a `composition` of the policies' tuned forms in axis order (policy/axis.hpp's
// table) — so every spelling of one design names the very same type.
//
// Each check is a yes/no predicate, and a small template that turns a "no" into one
// static_assert naming the problem (the compiler's "required from" line names the offending
// type). `composes<Ps...>` asks the same predicates without stopping: the benchmark matrix's
// filter. After a failed check the default policy stands in, so no cascade of follow-on errors.
#pragma once
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/bind.hpp>
#include <boost/mp11/list.hpp>
#include <boost/mp11/map.hpp>
#include <type_traits>

#include "../../policy/alignment/concept.hpp"
#include "../../policy/checks/concept.hpp"
#include "../../policy/faults/concept.hpp"
#include "../../policy/hardening/concept.hpp"
#include "../../policy/reclaim/concept.hpp"
#include "../../policy/search/concept.hpp"
#include "../../policy/size_classes/concept.hpp"
#include "../../policy/source/concept.hpp"
#include "../../policy/stats/concept.hpp"
#include "../../policy/threading/concept.hpp"
#include "compatibility.hpp"

namespace alloy {
namespace detail {

using boost::mp11::mp_list;

template <class P>
consteval bool is_known_policy() {
  if constexpr (any_policy<P>) return boost::mp11::mp_contains<axes, typename P::axis>::value;
  else return false;
}

template <class P>
struct argument_check {
  static_assert(any_policy<P>,
                "alloy::allocator<...>: an argument is not an Alloy policy (it has no member type `axis`). "
                "Pass policies from alloy::policy (README.md lists them), or give your own policy "
                "`using axis = alloy::axis::<axis>;`");
  static_assert(!any_policy<P> || is_known_policy<P>(),
                "alloy::allocator<...>: a policy names an axis Alloy does not have; use one of alloy::axis");
  static constexpr bool value = is_known_policy<P>();
};

struct is_valid_argument {
  template <class P>
  using fn = std::bool_constant<argument_check<P>::value>;
};

/// The policies of `List` on `Axis` (at most one in a valid composition).
template <class Axis, class List>
using found_on = boost::mp11::mp_copy_if_q<List, on_axis<Axis>>;

/// The policy a composition holds on `Axis`: the one named, in its tuned form, or the default.
template <class Axis, class List>
using candidate_on = tuned_form_t<boost::mp11::mp_eval_if_c<boost::mp11::mp_empty<found_on<Axis, List>>::value,
                                                            default_policy_t<Axis>, boost::mp11::mp_front,
                                                            found_on<Axis, List>>>;

/// A "no" from the axis concept becomes the axis's own diagnosis: one static_assert naming the
/// member or law at fault (policy/<axis>/concept.hpp).
template <class Axis, class Candidate, bool = axis_info<Axis>::template satisfied<Candidate>>
struct concept_check {
  static constexpr bool value = true;
};
template <class Axis, class Candidate>
struct concept_check<Axis, Candidate, false> {
  static constexpr bool value = false;
  static constexpr bool diagnosed = !axis_info<Axis>::template diagnose<Candidate>();
  static_assert(diagnosed, "alloy::allocator<...>: a policy does not meet the concept of its axis (the `Candidate` "
                           "and `Axis` in the note below); docs/writing-a-policy.md lists what each axis requires");
};

template <class Axis, class List>
struct pick {
  static_assert(boost::mp11::mp_size<found_on<Axis, List>>::value <= 1,
                "alloy::allocator<...>: two policies on one axis (the `Axis` and `List` in the note below); an "
                "allocator takes at most one policy per axis, so keep only one of them");
  using candidate = candidate_on<Axis, List>;
  using type = std::conditional_t<concept_check<Axis, candidate>::value, candidate, default_policy_t<Axis>>;
};

/// Yes/no: `alloy::allocator<Ps...>` is a valid composition. The same predicates as the checks
/// above and compatibility.hpp, none of them stopping compilation.
template <class... Ps>
consteval bool composes() {
  using list = mp_list<Ps...>;
  if constexpr (!(is_known_policy<Ps>() && ...)) {
    return false;
  } else {
    bool ok = true;
    boost::mp11::mp_for_each<axes>([&]<class Axis>(Axis) {
      ok = ok && boost::mp11::mp_size<found_on<Axis, list>>::value <= 1 &&
           axis_info<Axis>::template satisfied<candidate_on<Axis, list>>;
    });
    if (!ok) return false;
    return compatible<boost::mp11::mp_transform_q<boost::mp11::mp_bind_back<candidate_on, list>, axes>>;
  }
}

}  // namespace detail

/// One design: a policy per axis, in axis order. `allocator<...>` resolves to `basic_allocator<composition<...>>`.
/// The composition is also the `Config` every layer sees: the heap is built from it, and each layer
/// stacked above reaches it as `typename Inner::config` (so a thread cache bins by the heap's own size
/// classes and takes its bookkeeping from the composition's memory source).
template <class Source, class Classes, class Search, class Alignment, class Hardening, class Reclaim, class Threading,
          class Stats, class Checks, class Faults>
struct composition {
  using policies =
      boost::mp11::mp_list<Source, Classes, Search, Alignment, Hardening, Reclaim, Threading, Stats, Checks, Faults>;
  using source = Source;
  using classes = Classes;
  static constexpr std::size_t alignment = Alignment::value;
  using hardening = Hardening;
  /// Read by the heap, not stacked as a layer: what can go back is known only inside the heap
  /// (policy/reclaim/concept.hpp says why).
  using reclaim = Reclaim;
  using heap = typename Search::template heap<composition>;
  /// The layer stack, bottom to top: the heap; the threading layer, which shares the heap between
  /// threads; then stats, checks and faults, which see every call the user makes whatever the
  /// threading (an injected failure reaches neither the checks nor the counters). Each layer above
  /// the threading layer derives from the one below, so `layers()` reaches all their members.
  using threaded = typename Threading::template layer<heap>;
  using counted = typename Stats::template layer<threaded>;
  using checked = typename Checks::template layer<counted>;
  using top = typename Faults::template layer<checked>;
  /// The layer a policy on `Axis` built (an identity policy's is the layer below it).
  template <class Axis>
  using layer_of = boost::mp11::mp_second<boost::mp11::mp_map_find<
      boost::mp11::mp_list<boost::mp11::mp_list<axis::search, heap>, boost::mp11::mp_list<axis::threading, threaded>,
                           boost::mp11::mp_list<axis::stats, counted>, boost::mp11::mp_list<axis::checks, checked>,
                           boost::mp11::mp_list<axis::faults, top>>,
      Axis>>;
  // Whether these policies work together, decided once (detail/compatibility.hpp): a design
  // that breaks a rule stops with that rule's message (resolve asks first; this covers a
  // composition<...> spelled out by hand).
  static_assert(sizeof(detail::compatibility_check<policies>) > 0);
};

namespace detail {

template <class... Ps>
struct resolve {
  using valid = boost::mp11::mp_copy_if_q<mp_list<Ps...>, is_valid_argument>;
  template <class Axis>
  using pick_t = typename pick<Axis, valid>::type;
  using chosen = boost::mp11::mp_transform<pick_t, axes>;
  // An incompatible design stops here with its rule's message; the all-default design stands
  // in, so no layer is built from policies that cannot work together (no follow-on errors).
  using type = boost::mp11::mp_apply<composition, std::conditional_t<compatibility_check<chosen>::value, chosen,
                                                                     boost::mp11::mp_transform<default_policy_t, axes>>>;
};

}  // namespace detail
}  // namespace alloy
