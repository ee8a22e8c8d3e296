// How alloy::allocator<Policies...> becomes one type: every argument is checked to be a policy
// of a known axis, each axis takes at most one (or its default), each chosen policy must meet
// its axis concept, and the result is a `composition` whose parameters are in axis order — so
// every spelling of one design names the very same type.
//
// Each check is one static_assert in its own small template, so a wrong composition stops with
// one message, and the compiler's "required from" line names the offending type. After a
// failed check the default policy stands in, so no cascade of follow-on errors.
#pragma once
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <boost/mp11/map.hpp>
#include <type_traits>

#include "../../policy/alignment/concept.hpp"
#include "../../policy/checks/concept.hpp"
#include "../../policy/faults/concept.hpp"
#include "../../policy/hardening/concept.hpp"
#include "../../policy/search/concept.hpp"
#include "../../policy/size_class/concept.hpp"
#include "../../policy/source/concept.hpp"
#include "../../policy/stats/concept.hpp"
#include "../../policy/threading/concept.hpp"

namespace alloy {
namespace detail {

using boost::mp11::mp_list;

/// The axes, in the order their policies are stacked: memory at the bottom, threading on top.
using axes = mp_list<axis::source, axis::size_classes, axis::search, axis::alignment, axis::hardening, axis::stats,
                     axis::checks, axis::faults, axis::threading>;

template <class P>
struct axis_of {
  using type = void;
};
template <any_policy P>
struct axis_of<P> {
  using type = typename P::axis;
};

template <class P>
struct argument_check {
  static_assert(any_policy<P>,
                "alloy::allocator<...>: an argument is not an Alloy policy (it has no member type `axis`). "
                "Pass policies from alloy::policy (README.md lists them), or give your own policy "
                "`using axis = alloy::axis::<axis>;`");
  static constexpr bool known = !any_policy<P> || boost::mp11::mp_contains<axes, typename axis_of<P>::type>::value;
  static_assert(known, "alloy::allocator<...>: a policy names an axis Alloy does not have; use one of alloy::axis");
  static constexpr bool value = any_policy<P> && known;
};

struct is_valid_argument {
  template <class P>
  using fn = std::bool_constant<argument_check<P>::value>;
};

template <class Axis>
struct on_axis {
  template <class P>
  using fn = std::is_same<typename axis_of<P>::type, Axis>;
};

template <class Axis, class Candidate>
struct concept_check {
  static constexpr bool value = axis_info<Axis>::template satisfied<Candidate>;
  static_assert(value,
                "alloy::allocator<...>: a policy does not meet the concept of its axis (the `Candidate` and `Axis` "
                "in the note below); docs/writing-a-policy.md lists what each axis requires");
};

template <class Axis, class List>
struct pick {
  using found = boost::mp11::mp_copy_if_q<List, on_axis<Axis>>;
  static_assert(boost::mp11::mp_size<found>::value <= 1,
                "alloy::allocator<...>: two policies on one axis (the `Axis` and `found` in the note below); an "
                "allocator takes at most one policy per axis, so keep only one of them");
  using fallback = typename axis_info<Axis>::default_policy;
  using candidate = boost::mp11::mp_eval_if_c<boost::mp11::mp_empty<found>::value, fallback, boost::mp11::mp_front, found>;
  using type = std::conditional_t<concept_check<Axis, candidate>::value, candidate, fallback>;
};

}  // namespace detail

/// One design: a policy per axis, in axis order. `allocator<...>` resolves to `basic_allocator<composition<...>>`.
/// The composition is also the `Config` every layer sees: the heap is built from it, and each layer
/// stacked above reaches it as `typename Inner::config` (so a thread cache bins by the heap's own size
/// classes and takes its bookkeeping from the composition's memory source).
template <class Source, class Classes, class Search, class Alignment, class Hardening, class Stats, class Checks,
          class Faults, class Threading>
struct composition {
  using policies = boost::mp11::mp_list<Source, Classes, Search, Alignment, Hardening, Stats, Checks, Faults, Threading>;
  using source = Source;
  using classes = Classes;
  static constexpr std::size_t alignment = Alignment::value;
  using hardening = Hardening;
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
  static_assert(hardening_fits_threading<Hardening, Threading>,
                "alloy::allocator<...>: encoded_links and double_free_check cannot guard the blocks a thread cache "
                "keeps in its own lists (thread_local_cache); use P::locked<> or P::single_thread with them, or "
                "P::hardened::with<P::guard_pages> (and randomized_placement) with the cache");
};

namespace detail {

template <class... Ps>
struct resolve {
  using valid = boost::mp11::mp_copy_if_q<mp_list<Ps...>, is_valid_argument>;
  template <class Axis>
  using pick_t = typename pick<Axis, valid>::type;
  using type = composition<pick_t<axis::source>, pick_t<axis::size_classes>, pick_t<axis::search>,
                           pick_t<axis::alignment>, pick_t<axis::hardening>, pick_t<axis::stats>, pick_t<axis::checks>,
                           pick_t<axis::faults>, pick_t<axis::threading>>;
};

}  // namespace detail
}  // namespace alloy
