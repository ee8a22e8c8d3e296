// Search axis: the heap itself — how a free block is found for a request, and where a freed
// block goes. A search policy is a quoted template: `P::heap<Config>` is the heap class built
// over the composition's memory source, size classes, alignment and hardening.
#pragma once
#include <concepts>
#include <cstddef>

#include "../axis.hpp"
#include "../detail/heap_layer.hpp"

namespace alloy {
namespace policy {
struct segregated_fit;
}

/// A search policy names the heap it builds: `typename P::template heap<Config>` must be a
/// `heap_layer` (see detail/heap_layer.hpp) for the probe configuration below.
template <class P>
concept search_policy = std::same_as<typename P::axis, axis::search> && requires {
  typename P::template heap<detail::probe_config>;
  { P::name() } -> std::convertible_to<std::string>;
} && heap_layer<typename P::template heap<detail::probe_config>>;

template <>
struct axis_info<axis::search> {
  static constexpr std::string_view name = "search";
  using default_policy = policy::segregated_fit;
  template <class P> static constexpr bool satisfied = search_policy<P>;
};

}  // namespace alloy
