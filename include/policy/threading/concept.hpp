// Threading axis: a layer that decides how the heap below may be shared between threads.
#pragma once
#include "../wrapping_policy.hpp"

namespace alloy {

/// A threading policy is a wrapping layer that publishes `is_thread_safe`.
template <class P>
concept threading_policy = wrapping_policy<P, axis::threading>;

/// Optional capability a threading policy may publish as `static constexpr bool` (absent means
/// false), asked by the compatibility rules (alloc/detail/compatibility.hpp):
///   `caches_freed_blocks`  it keeps freed blocks in lists of its own (a thread cache), linked
///                          through the heap's codec: encoded links need a search policy that
///                          shares it (`shares_link_codec`)
///   `holds_bare_pointers`  it keeps freed blocks as bare pointers (per_cpu_cache's per-CPU
///                          stacks) that no codec and no double-free check can see: link
///                          encoding and double-free checks refuse it
template <class P>
inline constexpr bool threading_caches_freed_blocks = requires { requires P::caches_freed_blocks; };
template <class P>
inline constexpr bool threading_holds_bare_pointers = requires { requires P::holds_bare_pointers; };

template <>
struct axis_info<axis::threading> {
  static constexpr std::string_view name = "threading";
  template <class P> static constexpr bool satisfied = threading_policy<P>;
  template <class P> static consteval bool diagnose() { return detail::diagnose_wrapping_policy<P>(); }
};

}  // namespace alloy
