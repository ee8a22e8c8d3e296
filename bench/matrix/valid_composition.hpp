// Which cells of a cartesian product of policies are real allocators. The filter asks exactly
// what alloy::allocator<...> asks (detail/compose.hpp), but as a yes/no question instead of a
// static_assert: every argument is a policy of a known axis, at most one per axis, each meets
// its axis concept (axis_info<Axis>::satisfied), and the layers stack — the search policy
// builds a heap_layer over this composition's source, classes, alignment and hardening, and
// stats, checks and threading each wrap the layer below into a heap_layer. A policy that
// constrains what it stacks over (a requires-clause on its heap or layer) is filtered here
// with no list of exclusions anywhere.
#pragma once
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>

#include <alloc/allocator.hpp>

namespace alloy::bench {
namespace detail {

template <class P>
consteval bool is_known_policy() {
  if constexpr (any_policy<P>) {
    return boost::mp11::mp_contains<alloy::detail::axes, typename P::axis>::value;
  } else {
    return false;
  }
}

template <class P>
consteval bool meets_axis_concept() {
  return axis_info<typename P::axis>::template satisfied<P>;
}

template <class... Ps>
consteval bool one_per_axis() {
  using list = boost::mp11::mp_list<Ps...>;
  bool ok = true;
  boost::mp11::mp_for_each<alloy::detail::axes>([&]<class Axis>(Axis) {
    ok = ok && boost::mp11::mp_count_if_q<list, alloy::detail::on_axis<Axis>>::value <= 1;
  });
  return ok;
}

template <class Search, class Config>
concept builds_heap = requires { typename Search::template heap<Config>; } &&
                      heap_layer<typename Search::template heap<Config>>;

template <class Wrapper, class Inner>
concept wraps_layer = requires { typename Wrapper::template layer<Inner>; } &&
                      heap_layer<typename Wrapper::template layer<Inner>>;

template <class Composition>
struct stacks;

template <class Source, class Classes, class Search, class Alignment, class Hardening, class Stats, class Checks,
          class Faults, class Threading>
struct stacks<composition<Source, Classes, Search, Alignment, Hardening, Stats, Checks, Faults, Threading>> {
  static consteval bool value() {
    using config = alloy::detail::heap_config<Source, Classes, Alignment::value, Hardening>;
    if constexpr (!builds_heap<Search, config>) {
      return false;
    } else {
      using heap = typename Search::template heap<config>;
      if constexpr (!wraps_layer<Stats, heap>) {
        return false;
      } else {
        using counted = typename Stats::template layer<heap>;
        if constexpr (!wraps_layer<Checks, counted>) {
          return false;
        } else {
          using checked = typename Checks::template layer<counted>;
          if constexpr (!wraps_layer<Faults, checked>) {
            return false;
          } else {
            return wraps_layer<Threading, typename Faults::template layer<checked>>;
          }
        }
      }
    }
  }
};

template <class List>
struct valid_list;

template <class... Ps>
struct valid_list<boost::mp11::mp_list<Ps...>> {
  static consteval bool value() {
    if constexpr (!(is_known_policy<Ps>() && ...)) {
      return false;
    } else if constexpr (!one_per_axis<Ps...>()) {
      return false;
    } else if constexpr (!(meets_axis_concept<Ps>() && ...)) {
      return false;
    } else {
      return stacks<typename alloy::detail::resolve<Ps...>::type>::value();
    }
  }
};

}  // namespace detail

/// True when `alloy::allocator<Ps...>` is a valid composition (Ps given as an mp_list).
template <class PolicyList>
inline constexpr bool valid_composition = detail::valid_list<PolicyList>::value();

/// The same as a quoted MP11 predicate, for mp_copy_if_q.
struct is_valid_composition {
  template <class PolicyList>
  using fn = boost::mp11::mp_bool<valid_composition<PolicyList>>;
};

}  // namespace alloy::bench
