// Shared shape of the wrapping axes (stats, checks, threading): a policy is a quoted template
// `P::layer<Inner>` that wraps the layer below it, and may be the identity.
#pragma once
#include <concepts>

#include "heap_layer.hpp"
#include "../search/segregated_fit.hpp"

namespace alloy {

/// The heap a wrapping policy is probed over: the default search heap, fully formed.
template <class P, class Axis>
concept wrapping_policy = std::same_as<typename P::axis, Axis> && requires {
  typename P::template layer<typename policy::segregated_fit::template heap<detail::probe_config>>;
  { P::name() } -> std::convertible_to<std::string>;
} && heap_layer<typename P::template layer<typename policy::segregated_fit::template heap<detail::probe_config>>>;

}  // namespace alloy
