// Memory-source axis: where a heap gets its chunks of memory, and where they go back.
#pragma once
#include <concepts>
#include <cstddef>

#include "../axis.hpp"
#include "../detail/math.hpp"

namespace alloy {

/// A memory source hands out chunks: `allocate_chunk(bytes, alignment)` returns memory of at
/// least `bytes`, aligned to `alignment` (a power of two, at least `granule`), or nullptr;
/// `deallocate_chunk(p, bytes)` takes back exactly what was handed out. Chunk sizes are
/// multiples of `granule`. `preferred_chunk_bytes` tells heaps how big their chunks should be
/// (a fixed arena wants many small ones, the operating system few large ones).
template <class P>
concept source_hands_out_chunks = requires(P& s, void* p, std::size_t n) {
  { s.allocate_chunk(n, n) } noexcept -> std::same_as<void*>;
  { s.deallocate_chunk(p, n) } noexcept;
};
template <class P>
concept source_publishes_sizes = requires {
  { P::granule } -> std::convertible_to<std::size_t>;
  { P::preferred_chunk_bytes } -> std::convertible_to<std::size_t>;
  { P::is_thread_safe } -> std::convertible_to<bool>;
} && detail::is_pow2(P::granule) && detail::is_pow2(P::preferred_chunk_bytes);

template <class P>
concept source_policy = std::same_as<typename P::axis, axis::source> && named_policy<P> &&
                        source_hands_out_chunks<P> && source_publishes_sizes<P>;

/// Optional capabilities a source may publish as `static constexpr bool` (absent means false);
/// the composition's compatibility rules (alloc/detail/compatibility.hpp) ask these, never the
/// source's type:
///   `protects_pages`       its chunks are whole pages of their own mapping, which mprotect may
///                          change (a static arena lives inside the allocator object; malloc'd
///                          chunks share pages with malloc's own data)
///   `zeroes_fresh_chunks`  a chunk it hands out reads as zeros
///   `kernel_pages`         its chunks are the kernel's anonymous pages, so the heap may reserve
///                          address space beside them (chunk_store's page map, detail/chunk_map.hpp)
///                          that costs memory only where it is touched
///   `remaps_pages`         the kernel resizes its chunks without copying a byte (mremap):
///                          `resize_chunk(p, old_bytes, new_bytes)` where the chunk lies, and
///                          `move_chunk(from, old_bytes, to, new_bytes)` onto another chunk of
///                          it, both `bool ... noexcept`, false leaving everything as it was
///   `huge_pages`           the kernel may back its chunks with huge pages when asked:
///                          `advise_huge_pages(p, bytes) noexcept` asks for them over a chunk (or
///                          its start) of at least `huge_page_bytes`; one fault then maps a whole
///                          huge page, and a touched huge page is resident whole
///   `populates_pages`      the kernel can make a range of its pages resident in one call:
///                          `populate(p, bytes) noexcept` (a hint: a kernel that cannot leaves
///                          them to fault one by one, as they would have)
template <class S>
inline constexpr bool source_protects_pages = requires { requires S::protects_pages; };
template <class S>
inline constexpr bool source_zeroes_fresh_chunks = requires { requires S::zeroes_fresh_chunks; };
template <class S>
inline constexpr bool source_kernel_pages = requires { requires S::kernel_pages; };
template <class S>
inline constexpr bool source_remaps_pages = requires(S& s, void* p, std::size_t n) {
  requires S::remaps_pages;
  { s.resize_chunk(p, n, n) } noexcept -> std::same_as<bool>;
  { s.move_chunk(p, n, p, n) } noexcept -> std::same_as<bool>;
};
template <class S>
inline constexpr bool source_huge_pages = requires(S& s, void* p, std::size_t n) {
  requires S::huge_pages;
  { S::huge_page_bytes } -> std::convertible_to<std::size_t>;
  { s.advise_huge_pages(p, n) } noexcept;
};

template <class S>
inline constexpr bool source_populates_pages = requires(S& s, void* p, std::size_t n) {
  requires S::populates_pages;
  { s.populate(p, n) } noexcept;
};

template <>
struct axis_info<axis::source> {
  static constexpr std::string_view name = "source";
  template <class P> static constexpr bool satisfied = source_policy<P>;
  template <class P> static consteval bool diagnose() {
    if constexpr (!named_policy<P>) {
      return detail::diagnose_name<P>();
    } else if constexpr (!source_hands_out_chunks<P>) {
      static_assert(source_hands_out_chunks<P>, "alloy: the memory source `P` (note below) lacks `void* "
                                                "allocate_chunk(std::size_t bytes, std::size_t alignment) noexcept` or "
                                                "`void deallocate_chunk(void* p, std::size_t bytes) noexcept`");
      return false;
    } else {
      static_assert(source_publishes_sizes<P>, "alloy: the memory source `P` (note below) lacks one of `static "
                                               "constexpr` granule, preferred_chunk_bytes (both powers of two) and "
                                               "is_thread_safe");
      return source_publishes_sizes<P>;
    }
  }
};

}  // namespace alloy
