// Alignment axis: the minimum alignment of every block the allocator returns.
#pragma once
#include <concepts>
#include <cstddef>

#include "../axis.hpp"
#include "../detail/math.hpp"

namespace alloy {

/// An alignment policy publishes `value`, a power of two no smaller than a pointer
/// (free blocks hold a link, so a block is never less aligned than `void*`).
template <class P>
concept alignment_policy = std::same_as<typename P::axis, axis::alignment> && named_policy<P> && requires {
  { P::value } -> std::convertible_to<std::size_t>;
} && alloy::detail::is_pow2(P::value) && P::value >= alignof(void*);

template <>
struct axis_info<axis::alignment> {
  static constexpr std::string_view name = "alignment";
  template <class P> static constexpr bool satisfied = alignment_policy<P>;
  template <class P> static consteval bool diagnose() {
    if constexpr (!named_policy<P>) {
      return detail::diagnose_name<P>();
    } else {
      static_assert(alignment_policy<P>, "alloy: the alignment policy `P` (note below) lacks `static constexpr "
                                         "std::size_t value`, a power of two no smaller than alignof(void*)");
      return alignment_policy<P>;
    }
  }
};

}  // namespace alloy
