// Search axis: the heap itself — how a free block is found for a request, and where a freed
// block goes. A search policy is a quoted template: `P::heap<Config>` is the heap class built
// over the composition's memory source, size classes, alignment and hardening.
#pragma once
#include <concepts>
#include <cstddef>

#include "../axis.hpp"
#include "../detail/heap_layer.hpp"
#include "../probe_config.hpp"

namespace alloy {

/// `P::heap<Config>` names a type for the probe configuration.
template <class P>
concept builds_a_heap = requires { typename P::template heap<detail::probe_config>; };

/// A search policy names the heap it builds: `typename P::template heap<Config>` must be a
/// `heap_layer` (see detail/heap_layer.hpp) for the probe configuration (probe_config.hpp).
template <class P>
concept search_policy = std::same_as<typename P::axis, axis::search> && named_policy<P> && builds_a_heap<P> &&
                        heap_layer<typename P::template heap<detail::probe_config>>;

/// Optional capabilities a search policy may publish as `static constexpr bool` (absent means
/// false), asked by the compatibility rules (alloc/detail/compatibility.hpp):
///   `shuffles_fresh_batch`        its heap carves a batch of fresh blocks at a time, which
///                                 randomized_placement can hand out in a shuffled order
///   `shares_link_codec`           its heap's `link_codec()` is the codec of the lists of its
///                                 class blocks, which a thread cache adopts for its own lists
template <class P>
inline constexpr bool search_shuffles_fresh_batch = requires { requires P::shuffles_fresh_batch; };
template <class P>
inline constexpr bool search_shares_link_codec = requires { requires P::shares_link_codec; };

template <>
struct axis_info<axis::search> {
  static constexpr std::string_view name = "search";
  template <class P>
  static constexpr bool satisfied = search_policy<P>;
  template <class P>
  static consteval bool diagnose() {
    if constexpr (!named_policy<P>) {
      return detail::diagnose_name<P>();
    } else if constexpr (!builds_a_heap<P>) {
      static_assert(builds_a_heap<P>, "alloy: the search policy `P` (note below) lacks `template <class Config> using "
                                      "heap = ...;`, the heap it builds over the composition's Config");
      return false;
    } else {
      return detail::diagnose_heap_layer<P, typename P::template heap<detail::probe_config>>();
    }
  }
};

}  // namespace alloy
