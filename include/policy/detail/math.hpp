// Small integer helpers shared by every policy: power-of-two tests, rounding, overflow-safe sums.
#pragma once
#include <bit>
#include <cstddef>
#include <cstdint>

namespace alloy::detail {

constexpr bool is_pow2(std::size_t x) noexcept { return std::has_single_bit(x); }

/// Rounds `x` up to a multiple of the power of two `a`. Callers guarantee no overflow.
constexpr std::size_t align_up(std::size_t x, std::size_t a) noexcept { return (x + a - 1) & ~(a - 1); }
constexpr std::size_t align_down(std::size_t x, std::size_t a) noexcept { return x & ~(a - 1); }

inline std::uintptr_t addr(const void* p) noexcept { return reinterpret_cast<std::uintptr_t>(p); }
inline void* ptr(std::uintptr_t a) noexcept { return reinterpret_cast<void*>(a); }

/// floor(log2(x)) for x > 0.
constexpr unsigned log2_floor(std::size_t x) noexcept { return static_cast<unsigned>(std::bit_width(x) - 1); }
/// ceil(log2(x)) for x > 0.
constexpr unsigned log2_ceil(std::size_t x) noexcept { return x <= 1 ? 0u : static_cast<unsigned>(std::bit_width(x - 1)); }

/// Largest size any request may ask for: half the address space, so that size + alignment
/// + header arithmetic can never wrap. Anything larger is refused with nullptr.
inline constexpr std::size_t max_request = std::size_t{1} << (sizeof(std::size_t) * 8 - 2);

}  // namespace alloy::detail
