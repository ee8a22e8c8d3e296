// Hardening axis: defences against heap exploitation. A hardening policy gives heaps a
// `link_codec` — the heap's hardening state, held as its member `codec_` — through which every
// free-list link is stored and loaded, and says which mitigations it wants; heaps apply each one
// with `if constexpr`, so a mitigation not chosen costs nothing.
#pragma once
#include <concepts>
#include <cstddef>

#include "../axis.hpp"

namespace alloy {
namespace policy {
struct no_hardening;
}

template <class P>
concept hardening_policy =
    std::same_as<typename P::axis, axis::hardening> &&
    requires(const typename P::link_codec& c, typename P::link_codec& state, void* p, std::size_t n) {
      { c.encode(p, p) } noexcept -> std::same_as<void*>;  // (next, address of the slot it is stored in)
      { c.decode(p, p) } noexcept -> std::same_as<void*>;  // stops the program on a corrupted link
      { state.admit(p, n) } noexcept;                      // heaps announce each chunk (base, bytes) links may point into
      { P::encodes_links } -> std::convertible_to<bool>;
      { P::guards_pages } -> std::convertible_to<bool>;
      { P::randomizes_placement } -> std::convertible_to<bool>;
      { P::checks_double_free } -> std::convertible_to<bool>;
      { P::scans_double_free } -> std::convertible_to<bool>;  // implies checks_double_free and encodes_links
      { P::name() } -> std::convertible_to<std::string>;
    } &&
    (!P::randomizes_placement || requires(typename P::link_codec& state, std::size_t n) {
      { state.random_below(n) } noexcept -> std::same_as<std::size_t>;  // per-heap generator, [0, n)
    }) &&
    (!(P::scans_double_free && P::encodes_links) || requires(const typename P::link_codec& c, const void* p) {
      { c.looks_free(p) } noexcept -> std::same_as<bool>;  // the block's first word decodes to a valid link
      { c.max_links() } noexcept -> std::same_as<std::size_t>;  // bound for walking a list
    });

/// A threading policy that keeps freed blocks in lists of its own (a thread cache) says so with
/// `static constexpr bool caches_freed_blocks = true;`. Those lists hold plain links the heap
/// never sees, so encoded links and the double-free check could not guard them.
template <class Hardening, class Threading>
inline constexpr bool hardening_fits_threading =
    !(Hardening::encodes_links || Hardening::checks_double_free) || !requires { requires Threading::caches_freed_blocks; };

template <>
struct axis_info<axis::hardening> {
  static constexpr std::string_view name = "hardening";
  using default_policy = policy::no_hardening;
  template <class P> static constexpr bool satisfied = hardening_policy<P>;
};

}  // namespace alloy
