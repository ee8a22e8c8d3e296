// Memory-source axis: where a heap gets its chunks of memory, and where they go back.
#pragma once
#include <concepts>
#include <cstddef>

#include "../axis.hpp"
#include "../detail/math.hpp"

namespace alloy {
namespace policy {
struct system_pages;
}

/// A memory source hands out chunks: `allocate_chunk(bytes, alignment)` returns memory of at
/// least `bytes`, aligned to `alignment` (a power of two, at least `granule`), or nullptr;
/// `deallocate_chunk(p, bytes)` takes back exactly what was handed out. Chunk sizes are
/// multiples of `granule`. `preferred_chunk_bytes` tells heaps how big their chunks should be
/// (a fixed arena wants many small ones, the operating system few large ones).
template <class P>
concept memory_source = std::same_as<typename P::axis, axis::source> &&
    requires(P& s, void* p, std::size_t n) {
      { P::granule } -> std::convertible_to<std::size_t>;
      { P::preferred_chunk_bytes } -> std::convertible_to<std::size_t>;
      { P::is_thread_safe } -> std::convertible_to<bool>;
      { s.allocate_chunk(n, n) } noexcept -> std::same_as<void*>;
      { s.deallocate_chunk(p, n) } noexcept;
      { P::name() } -> std::convertible_to<std::string>;
    } && detail::is_pow2(P::granule) && detail::is_pow2(P::preferred_chunk_bytes);

template <>
struct axis_info<axis::source> {
  static constexpr std::string_view name = "source";
  using default_policy = policy::system_pages;
  template <class P> static constexpr bool satisfied = memory_source<P>;
};

}  // namespace alloy
