// Hardening axis: defences against heap exploitation. A hardening policy gives heaps a
// `link_codec` — the heap's hardening state, held as its member `codec_` — through which every
// free-list link is stored and loaded, and says which mitigations it wants; heaps apply each one
// with `if constexpr`, so a mitigation not chosen costs nothing.
#pragma once
#include <concepts>
#include <cstddef>
#include <cstdint>

#include "../axis.hpp"

namespace alloy {
namespace detail {
/// What a thread cache's codec does with a link outside the span it knows (the concept's probe).
struct link_outside_span {
  void* operator()(void*, std::uintptr_t) const noexcept { return nullptr; }
};
}  // namespace detail

template <class P>
concept hardening_policy =
    std::same_as<typename P::axis, axis::hardening> && named_policy<P> &&
    requires(const typename P::link_codec& c, typename P::link_codec& state, void* p, std::size_t n) {
      { c.encode(p, p) } noexcept -> std::same_as<void*>;  // (next, address of the slot it is stored in)
      { c.decode(p, p) } noexcept -> std::same_as<void*>;  // stops the program on a corrupted link
      { state.admit(p, n) } noexcept;                      // heaps announce each chunk (base, bytes) links may point into
      { P::encodes_links } -> std::convertible_to<bool>;
      { P::guards_pages } -> std::convertible_to<bool>;
      { P::randomizes_placement } -> std::convertible_to<bool>;
      { P::checks_double_free } -> std::convertible_to<bool>;
      { P::scans_double_free } -> std::convertible_to<bool>;  // implies checks_double_free and encodes_links
    } &&
    (!P::randomizes_placement || requires(typename P::link_codec& state, std::size_t n) {
      { state.random_below(n) } noexcept -> std::same_as<std::size_t>;  // per-heap generator, [0, n)
    }) &&
    (!P::encodes_links || requires(const typename P::link_codec& c, typename P::link_codec& copy, void* p,
                                    detail::link_outside_span outside) {
      { c.decode(p, p, outside) } noexcept -> std::same_as<void*>;  // a link outside the known span: outside(slot, decoded)
      { copy.adopt(c) } noexcept;  // decodes c's links from now on (a thread cache's copy, see thread_local_cache)
      { c.checked(p, std::uintptr_t{}) } noexcept -> std::same_as<void*>;  // a decoded link against the span known now
      // Optional: encode_head(next, slot), the link a pushed block gets to the list's head,
      // where `refuses_self_links` says it also stops a double free (free_list::push uses it).
    }) &&
    (!(P::scans_double_free && P::encodes_links) || requires(const typename P::link_codec& c, const void* p) {
      { c.looks_free(p) } noexcept -> std::same_as<bool>;  // the block's first word decodes to a valid link
      { c.max_links() } noexcept -> std::same_as<std::size_t>;  // bound for walking a list
    });

template <>
struct axis_info<axis::hardening> {
  static constexpr std::string_view name = "hardening";
  template <class P> static constexpr bool satisfied = hardening_policy<P>;
  template <class P> static consteval bool diagnose() {
    if constexpr (!named_policy<P>) {
      return detail::diagnose_name<P>();
    } else {
      static_assert(hardening_policy<P>, "alloy: the hardening policy `P` (note below) does not meet "
                                         "alloy::hardening_policy: a link_codec with noexcept encode/decode/admit and "
                                         "the five mitigation flags (docs/writing-a-policy.md)");
      return hardening_policy<P>;
    }
  }
};

}  // namespace alloy
