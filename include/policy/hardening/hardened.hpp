// hardened: defences against heap exploitation, each one chosen separately.
//
//   P::hardened                                        the first four mitigations below
//   P::hardened::with<P::encoded_links>                one of them (any subset, in any order)
//
//   encoded_links        every free-list link stored mangled with a per-heap secret and its own
//                        address (glibc's safe-linking, mimalloc's encoded free lists); a link that
//                        decodes to a misaligned address or one outside the span of the heap's
//                        chunks stops the program with a report instead of being followed.
//   guard_pages          every chunk (each large block is one) ends with an inaccessible page, so
//                        a linear overflow off it faults. Needs P::system_pages.
//   randomized_placement blocks carved from a chunk are handed out in a shuffled order, from a
//                        per-heap generator seeded with the secret: heap layout is not predictable.
//   double_free_check    freeing the block at the head of its free list stops the program (one
//                        compare on the fast path; the tagged heaps test their free bit instead,
//                        which catches every double free).
//   double_free_scan     (with encoded_links; implies double_free_check) freeing any block already
//                        on its free list stops the program: a freed block's first word decodes to
//                        a valid link, confirmed by a walk of the list. It reads the freed block,
//                        a cache miss when the program has not touched it lately, so it is not
//                        part of P::hardened (bench/hardening measures it).
#pragma once
#include <bit>
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "../detail/config.hpp"
#include "../detail/entropy.hpp"
#include "../detail/report_error.hpp"
#include "concept.hpp"

namespace alloy::policy {

/// The mitigations `hardened::with<...>` chooses from (tags, not policies).
struct encoded_links {};
struct guard_pages {};
struct randomized_placement {};
struct double_free_check {};
struct double_free_scan {};

}  // namespace alloy::policy

namespace alloy::detail {

/// The per-heap hardening state: the secret keys and the span of the heap's chunks (for
/// encoded links), and the placement generator. Holds only what its mitigations use. With
/// `RefuseSelfLinks` (the double-free check) encode_head() also stops a block freed twice in a row.
template <bool EncodeLinks, bool Randomize, bool RefuseSelfLinks = false>
class hardened_codec {
 public:
  /// encode_head() tests for a double free: the list need not (hardened_list::push).
  static constexpr bool refuses_self_links = EncodeLinks && RefuseSelfLinks;

  hardened_codec() noexcept {
    if constexpr (EncodeLinks || Randomize) {
      const std::uint64_t secret = random_secret(this);
      if constexpr (EncodeLinks) {
        key_ = secret;
      }
      if constexpr (Randomize) rng_ = xorshift64(secret ^ 0xD6E8FEB86659FD93ull);
    }
  }
  /// A codec with no secret of its own, for a copy that adopt()s a heap's before its first
  /// use (a thread cache's): constant-initialised, so it may live in static TLS.
  struct adopting_t {};
  constexpr explicit hardened_codec(adopting_t) noexcept {}
  hardened_codec(const hardened_codec&) = delete;
  hardened_codec& operator=(const hardened_codec&) = delete;

  /// glibc's safe-linking with a per-heap secret in place of the address-space layout: the
  /// stored word is next ^ slot ^ secret, two xors each way (the secret read as a memory
  /// operand). A link forged without the secret decodes to garbage and is refused; one copied
  /// to another slot decodes to another address (refused unless that too is an aligned one in
  /// the heap's span). (Measured: a keyed rotate-and-add mask, mimalloc-style, cost nearly twice
  /// as much on churn and adds nothing against the attack that matters, a read then a write of
  /// one freed block's link.)
  ALLOY_FAST_PATH void* encode(void* next, void* slot) const noexcept {
    if constexpr (EncodeLinks) return ptr(addr(next) ^ mask(slot));
    else return next;
  }

  /// encode() of the link a block pushed on a list gets to the list's old head. A block freed
  /// twice in a row *is* that head, and its link would point to its own slot: with the
  /// double-free check this stops the program, tested on the encoding's own xor (next ^ slot)
  /// — one branch, where a compare of the block with the head cost a compare and a branch. The
  /// test is `<= 0` as a signed word rather than `== 0`, which g++ folds back into a compare of
  /// its own; user-space addresses have the top bit clear, so only a wild `slot` (a pointer no
  /// heap gave out) also reaches the cold branch, and it tells the two apart.
  ALLOY_FAST_PATH void* encode_head(void* next, void* slot) const noexcept {
    if constexpr (refuses_self_links) {
      const std::uintptr_t x = addr(next) ^ addr(slot);
      if (static_cast<std::intptr_t>(x) <= 0) [[unlikely]] refuse_self_link(x, slot);
      return ptr(x ^ key_);
    } else {
      return encode(next, slot);
    }
  }

  ALLOY_FAST_PATH void* decode(void* stored, void* slot) const noexcept { return decode(stored, slot, report_outside{}); }

  /// decode(), but a link outside the span this codec knows goes to `outside(slot,
  /// decoded)`, whose result is returned: a thread cache's codec (see adopt) knows the heap's
  /// span as it was when it last looked, so it asks the heap again before it calls the link
  /// corrupt. `outside` is taken by reference and called with values: no closure is built on
  /// the fast path (a capturing lambda was, at the cost of four stores per pop).
  template <class Outside>
  ALLOY_FAST_PATH void* decode(void* stored, void* slot, const Outside& outside) const noexcept {
    if constexpr (EncodeLinks) {
      // Per pop: two xors, then the span test (copy, subtract, rotate, compare, branch). The
      // end of a list (null) fails the span test and is told apart in not_in_span, off the
      // fast path: tested here, it let g++ keep the mask live beside the link for it.
      const std::uintptr_t next = addr(stored) ^ mask(slot);
      if (!in_span(next)) [[unlikely]] return not_in_span(outside, slot, next);
      return ptr(next);
    } else {
      return stored;
    }
  }

  /// A link this codec decoded to `decoded` from `slot`, checked against the span it knows now
  /// (after an adopt): the link, or a report that stops the program.
  void* checked(void* slot, std::uintptr_t decoded) const noexcept
    requires EncodeLinks
  {
    if (!is_valid_link(decoded)) report_corrupt_link(slot, decoded);
    return ptr(decoded);
  }

  /// This codec decodes the links `heap` encodes from now on: the same secret, and a span
  /// that covers every chunk `heap` has admitted so far. A thread cache keeps such a copy per
  /// thread, read with no lock; this call is made under the heap's lock.
  void adopt(const hardened_codec& heap) noexcept {
    if constexpr (EncodeLinks) {
      key_ = heap.key_;
      if (heap.span_words_ != 0) admit(ptr(heap.low_), heap.span_words_ * sizeof(void*));
    }
  }

  /// The heap took the chunk [base, base + bytes): links may point into it from now on.
  void admit(void* base, std::size_t bytes) noexcept {
    if constexpr (EncodeLinks) {
      const std::uintptr_t lo = addr(base);
      const std::uintptr_t hi = lo + bytes;
      const std::uintptr_t old_hi = low_ + span_words_ * sizeof(void*);
      low_ = span_words_ == 0 ? lo : std::min(low_, lo);
      span_words_ = ((span_words_ == 0 ? hi : std::max(old_hi, hi)) - low_) / sizeof(void*);
    }
  }

  /// True when the block's first word decodes to a valid link, as it does on a free block.
  bool looks_free(const void* block) const noexcept
    requires EncodeLinks
  {
    return is_valid_link(addr(*static_cast<void* const*>(block)) ^ mask(block));
  }

  /// No list of this heap can be longer (the chunks' span in pointer-sized blocks).
  std::size_t max_links() const noexcept
    requires EncodeLinks
  {
    return span_words_ + 1;
  }

  std::size_t random_below(std::size_t n) noexcept
    requires Randomize
  {
    return rng_.below(n);
  }

 private:
  ALLOY_FAST_PATH std::uintptr_t mask(const void* slot) const noexcept {
    return addr(slot) ^ key_;
  }
  /// Null (the end of a list), or pointer-aligned and inside the span of the heap's chunks.
  /// One compare covers both: rotating the offset moves misaligned low bits to the top.
  ALLOY_FAST_PATH bool is_valid_link(std::uintptr_t p) const noexcept { return in_span(p) || p == 0; }
  ALLOY_FAST_PATH bool in_span(std::uintptr_t p) const noexcept { return std::rotr(p - low_, link_shift) < span_words_; }
  static constexpr int link_shift = std::countr_zero(sizeof(void*));

  /// Given next ^ slot, not next: the fast path need not keep the head for it.
  ALLOY_SLOW_PATH static void refuse_self_link(std::uintptr_t next_xor_slot, void* slot) noexcept {
    if (next_xor_slot == 0) report_double_free(slot);
  }

  /// A decoded link outside the span: the end of a list, or a question for `outside`. Out of
  /// line, and given only what the fast path still holds (the slot, the decoded link): the
  /// null test here rather than beside the span test keeps the compiler from holding the
  /// stored word or the key in registers for it.
  template <class Outside>
  ALLOY_SLOW_PATH static void* not_in_span(const Outside& outside, void* slot, std::uintptr_t next) noexcept {
    if (next == 0) return nullptr;
    return outside(slot, next);
  }

  struct report_outside {
    [[noreturn]] void* operator()(void* slot, std::uintptr_t decoded) const noexcept {
      report_corrupt_link(slot, decoded);
    }
  };
  struct no_generator {};
  std::uintptr_t key_ = 0;
  std::uintptr_t low_ = 0;
  std::size_t span_words_ = 0;  // the span of the heap's chunks, in pointer-sized words
  [[no_unique_address]] std::conditional_t<Randomize, xorshift64, no_generator> rng_;
};

template <class M>
inline constexpr bool is_mitigation = boost::mp11::mp_contains<
    boost::mp11::mp_list<policy::encoded_links, policy::guard_pages, policy::randomized_placement,
                         policy::double_free_check, policy::double_free_scan>,
    M>::value;

template <bool EncodeLinks, bool GuardPages, bool Randomize, bool DoubleFree, bool DoubleFreeScan = false>
struct hardened_policy {
  static_assert(!DoubleFreeScan || EncodeLinks,
                "P::hardened::with<P::double_free_scan>: the scan recognises a free block by its encoded link; "
                "add P::encoded_links");
  using axis = alloy::axis::hardening;
  static constexpr bool encodes_links = EncodeLinks;
  static constexpr bool guards_pages = GuardPages;
  static constexpr bool randomizes_placement = Randomize;
  static constexpr bool checks_double_free = DoubleFree || DoubleFreeScan;
  static constexpr bool scans_double_free = DoubleFreeScan;
  using link_codec = hardened_codec<EncodeLinks, Randomize, DoubleFree || DoubleFreeScan>;

  static std::string name() {
    if (EncodeLinks && GuardPages && Randomize && DoubleFree && !DoubleFreeScan) return "hardened";
    std::string chosen;
    auto add = [&](bool on, const char* what) {
      if (on) chosen += (chosen.empty() ? "" : ", ") + std::string(what);
    };
    add(EncodeLinks, "encoded_links");
    add(GuardPages, "guard_pages");
    add(Randomize, "randomized_placement");
    add(DoubleFree, "double_free_check");
    add(DoubleFreeScan, "double_free_scan");
    return "hardened::with<" + chosen + ">";
  }
};

template <class... Mitigations>
struct hardened_with {
  static_assert((is_mitigation<Mitigations> && ...),
                "P::hardened::with<...>: every argument must be a mitigation: P::encoded_links, P::guard_pages, "
                "P::randomized_placement, P::double_free_check or P::double_free_scan");
  static_assert(sizeof...(Mitigations) > 0,
                "P::hardened::with<>: choose at least one mitigation, or use P::no_hardening for none");
  template <class M>
  static constexpr bool has = (std::is_same_v<M, Mitigations> || ...);
  // Flags, not the list, make the type: every order of one choice names the same policy.
  using type = hardened_policy<has<policy::encoded_links>, has<policy::guard_pages>,
                               has<policy::randomized_placement>, has<policy::double_free_check>,
                               has<policy::double_free_scan>>;
};

}  // namespace alloy::detail

namespace alloy::policy {

struct hardened : detail::hardened_policy<true, true, true, true> {
  /// The untuned spelling is its tuned form: with<encoded_links, guard_pages, randomized_placement,
  /// double_free_check> (one design, one type).
  using tuned = detail::hardened_policy<true, true, true, true>;
  /// Tuned form: any non-empty subset of the mitigations, in any order.
  template <class... Mitigations>
  using with = typename detail::hardened_with<Mitigations...>::type;
};

}  // namespace alloy::policy
