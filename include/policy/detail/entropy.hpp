// Randomness for hardening: a per-heap secret from the kernel, and a tiny generator seeded
// from it. Neither is for cryptography; they make heap layout and link encodings differ
// between heaps and between runs, so an exploit cannot precompute them.
#pragma once
#include <sys/random.h>
#include <time.h>

#include <cstdint>

#include "math.hpp"

namespace alloy::detail {

/// 64 unpredictable bits: getrandom(2) without blocking; when the kernel refuses (very early
/// boot, seccomp), a mix of clocks and addresses, weaker but still different per heap and run.
inline std::uint64_t random_secret(const void* salt) noexcept {
  std::uint64_t secret = 0;
  if (::getrandom(&secret, sizeof secret, GRND_NONBLOCK) == static_cast<ssize_t>(sizeof secret) && secret != 0)
    return secret;
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  secret = addr(salt) ^ addr(&secret) ^ (static_cast<std::uint64_t>(t.tv_nsec) << 32) ^
           static_cast<std::uint64_t>(t.tv_sec);
  // splitmix64 finaliser: every input bit reaches every output bit.
  secret = (secret ^ (secret >> 30)) * 0xBF58476D1CE4E5B9ull;
  secret = (secret ^ (secret >> 27)) * 0x94D049BB133111EBull;
  return (secret ^ (secret >> 31)) | 1;
}

/// xorshift64*: a few instructions per number, never zero once seeded non-zero.
class xorshift64 {
 public:
  constexpr explicit xorshift64(std::uint64_t seed = 0x9E3779B97F4A7C15ull) noexcept : state_(seed | 1) {}
  std::uint64_t next() noexcept {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }
  /// Uniform enough in [0, n) for shuffling small batches (n far below 2^32).
  std::size_t below(std::size_t n) noexcept { return static_cast<std::size_t>(((next() >> 32) * n) >> 32); }

 private:
  std::uint64_t state_;
};

}  // namespace alloy::detail
