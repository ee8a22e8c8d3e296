// Shared shape of the wrapping axes (stats, checks, faults, threading): a policy is a quoted
// template `P::layer<Inner>` that wraps the layer below it, and may be the identity. Probed
// over the default search heap, fully formed, so this header sits above policy/search.
#pragma once
#include <concepts>

#include "axis.hpp"
#include "detail/heap_layer.hpp"
#include "probe_config.hpp"
#include "search/segregated_fit.hpp"

namespace alloy {
namespace detail {
/// The heap a wrapping policy is probed over.
using probe_heap = typename policy::segregated_fit::template heap<probe_config>;
}  // namespace detail

/// `P::layer<Inner>` names a type for a real heap below it.
template <class P>
concept wraps_a_layer = requires { typename P::template layer<detail::probe_heap>; };

template <class P, class Axis>
concept wrapping_policy = std::same_as<typename P::axis, Axis> && named_policy<P> && wraps_a_layer<P> &&
                          heap_layer<typename P::template layer<detail::probe_heap>>;

namespace detail {

/// The wrapping axes' diagnosis: the first member `P` lacks, named in one static_assert.
template <class P>
consteval bool diagnose_wrapping_policy() {
  if constexpr (!named_policy<P>) {
    return diagnose_name<P>();
  } else if constexpr (!wraps_a_layer<P>) {
    static_assert(wraps_a_layer<P>, "alloy: the wrapping policy `P` (note below) lacks `template <class Inner> using "
                                    "layer = ...;`, the layer it puts over the one below (Inner itself for none)");
    return false;
  } else {
    return diagnose_heap_layer<P, typename P::template layer<probe_heap>>();
  }
}

}  // namespace detail
}  // namespace alloy
