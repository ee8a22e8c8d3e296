// A size-class policy written from scratch, the worked example of docs/writing-a-policy.md.
//
// fibonacci_classes<Unit, Max>: block sizes grow like the Fibonacci numbers, in units of
// `Unit` bytes (16, 32, 48, 80, 128, 208, ... with Unit = 16). Consecutive classes differ by
// the golden ratio, so there are fewer classes than with linear spacing and less waste than
// with powers of two (the classic Fibonacci buddy system's trade-off).
//
// class_of must be O(1) and constexpr: a table built at compile time maps each multiple of
// `Unit` to its class, so the lookup is a shift and a load.
#pragma once
#include <array>
#include <cstdint>
#include <policy/size_classes/concept.hpp>
#include <string>

namespace example {

template <std::size_t Unit, std::size_t Max>
struct fibonacci_classes {
  static_assert(alloy::detail::is_pow2(Unit) && Unit >= 8,
                "fibonacci_classes<Unit, Max>: Unit must be a power of two of at least 8");
  static_assert(Max >= 2 * Unit, "fibonacci_classes<Unit, Max>: Max must hold at least two classes");
  using axis = alloy::axis::size_classes;  // the one line that makes it a policy

 private:
  // The class sizes in units: 1, 2, 3, 5, 8, ... while they fit in Max.
  static constexpr auto units = [] {
    std::array<std::size_t, 64> u{};
    std::size_t n = 0;
    for (std::size_t a = 1, b = 2; a * Unit <= Max && n < u.size(); ++n) {
      u[n] = a;
      const std::size_t next = a + b;
      a = b;
      b = next;
    }
    return std::pair{u, n};
  }();
  // For every multiple of Unit up to Max, the smallest class holding it.
  static constexpr auto lookup = [] {
    std::array<std::uint8_t, units.first[units.second - 1] + 1> t{};
    std::size_t c = 0;
    for (std::size_t k = 1; k < t.size(); ++k) {
      while (units.first[c] < k) ++c;
      t[k] = static_cast<std::uint8_t>(c);
    }
    return t;
  }();

 public:
  static constexpr std::size_t count = units.second;
  static constexpr std::size_t max_size = units.first[count - 1] * Unit;

  static constexpr std::size_t class_of(std::size_t n) noexcept { return lookup[(n + Unit - 1) / Unit]; }
  static constexpr std::size_t size_of(std::size_t c) noexcept { return units.first[c] * Unit; }
  static std::string name() {
    return "fibonacci_classes<" + std::to_string(Unit) + ", " + std::to_string(Max) + ">";
  }
};

// The laws every size-class map obeys, proven for this one at compile time.
static_assert(alloy::size_classes_policy<fibonacci_classes<16, 4096>>);
static_assert(alloy::size_class_laws<fibonacci_classes<16, 4096>>());

}  // namespace example
