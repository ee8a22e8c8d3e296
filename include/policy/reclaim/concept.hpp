// Reclaim axis: whether, when and how a heap gives free memory back to the system while it lives.
//
// Not a layer: what is given back is decided by the heap's own data structures (which pages of
// a class chunk hold only free blocks, which chunk is wholly free), which no layer stacked
// above can see without the heap's lock and its internals. So, like the source and the
// hardening, the reclaim policy is a *property* of the Config that the heap (and the chunk
// store under it) reads — `Config::reclaim`, through detail::reclaim_tuning — and the layers
// above only ask the heap to make progress on their own slow paths (a thread cache's refill
// and flush) or all at once (`trim()`, malloc_trim).
#pragma once
#include <concepts>
#include <cstddef>
#include <cstdint>

#include "../axis.hpp"
#include "../detail/page_reclaim.hpp"

namespace alloy {

/// A reclaim policy publishes its tuning as `static constexpr` members: `enabled`, `delay_ms`
/// (how long a class must have gone without new demand before its free pages go back),
/// `work_per_call` (the most free blocks or pages one slow-path call visits) and `advice`.
template <class P>
concept reclaim_publishes_tuning = requires {
  { P::enabled } -> std::convertible_to<bool>;
  { P::delay_ms } -> std::convertible_to<std::uint32_t>;
  { P::work_per_call } -> std::convertible_to<std::size_t>;
  { P::advice } -> std::convertible_to<detail::reclaim_advice>;
} && (!P::enabled || P::work_per_call > 0);

template <class P>
concept reclaim_policy = std::same_as<typename P::axis, axis::reclaim> && named_policy<P> && reclaim_publishes_tuning<P>;

template <>
struct axis_info<axis::reclaim> {
  static constexpr std::string_view name = "reclaim";
  template <class P> static constexpr bool satisfied = reclaim_policy<P>;
  template <class P> static consteval bool diagnose() {
    if constexpr (!named_policy<P>) {
      return detail::diagnose_name<P>();
    } else {
      static_assert(reclaim_publishes_tuning<P>, "alloy: the reclaim policy `P` (note below) lacks one of `static "
                                                 "constexpr` enabled, delay_ms, work_per_call (at least 1 when "
                                                 "enabled) and advice (alloy::policy::page_advice)");
      return reclaim_publishes_tuning<P>;
    }
  }
};

}  // namespace alloy
