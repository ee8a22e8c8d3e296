// Which cells of a cartesian product of policies are real allocators. The filter asks the very
// question alloy::allocator<...> asks (alloc/detail/compose.hpp, detail::composes): every
// argument is a policy of a known axis, at most one per axis, each meets its axis concept and
// laws, and the policies work together (alloc/detail/compatibility.hpp) — as a yes/no, where
// the allocator stops with a static_assert naming the fix. No list of exclusions anywhere.
#pragma once
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>

#include <alloc/allocator.hpp>

namespace alloy::bench {

namespace detail {
template <class List>
struct valid_list;
template <class... Ps>
struct valid_list<boost::mp11::mp_list<Ps...>> {
  static constexpr bool value = alloy::detail::composes<Ps...>();
};
}  // namespace detail

/// True when `alloy::allocator<Ps...>` is a valid composition (Ps given as an mp_list).
template <class PolicyList>
inline constexpr bool valid_composition = detail::valid_list<PolicyList>::value;

/// The same as a quoted MP11 predicate, for mp_copy_if_q.
struct is_valid_composition {
  template <class PolicyList>
  using fn = boost::mp11::mp_bool<valid_composition<PolicyList>>;
};

/// Every policy list a matrix over these axis lists can generate (each an mp_list of policies),
/// before the filter: the cartesian product, one policy per list.
template <class Search, class Threading, class Classes, class Alignment, class Source, class Hardening, class Checks,
          class Reclaim = boost::mp11::mp_list<default_policy_t<axis::reclaim>>>
using matrix_product = boost::mp11::mp_product<boost::mp11::mp_list, Search, Classes, Threading, Alignment, Source,
                                               Hardening, Checks, Reclaim>;

}  // namespace alloy::bench
