// Size-class laws, checked at run time over every size up to Max for each shipped map (the
// same laws are static_asserted at namespace scope in policy/size_classes.hpp).
#include <catch2/catch.hpp>

#include <boost/mp11/list.hpp>
#include <policy/size_classes.hpp>

#include "custom_policy/fibonacci_classes.hpp"  // the worked example of docs/writing-a-policy.md

namespace P = alloy::policy;

using maps = boost::mp11::mp_list<P::pow2_classes<8, 256>, P::pow2_classes<16, 65536>, P::linear_classes<16, 1024>,
                                  P::linear_classes<24, 960>, P::geometric_classes<16, 4096, 4>,
                                  P::geometric_classes<8, 65536, 8>, P::geometric_classes<16, 16384, 2>,
                                  example::fibonacci_classes<16, 4096>>;

TEMPLATE_LIST_TEST_CASE("size-class maps obey their laws for every size", "[size_class]", maps) {
  using M = TestType;
  STATIC_REQUIRE(alloy::size_classes_policy<M>);
  for (std::size_t n = 1; n <= M::max_size; ++n) {
    const std::size_t c = M::class_of(n);
    REQUIRE(c < M::count);
    REQUIRE(M::size_of(c) >= n);                      // the block holds the request
    if (c > 0) REQUIRE(M::size_of(c - 1) < n);        // and is the tightest that does
  }
  for (std::size_t c = 0; c < M::count; ++c) {
    REQUIRE(M::class_of(M::size_of(c)) == c);         // round trip
    if (c > 0) REQUIRE(M::size_of(c) > M::size_of(c - 1));
  }
  REQUIRE(M::size_of(M::count - 1) == M::max_size);
}

TEST_CASE("geometric classes bound internal waste by 1/S above the linear head", "[size_class]") {
  using M = P::geometric_classes<16, 4096, 4>;
  for (std::size_t n = 65; n <= M::max_size; ++n) {
    const double waste = 1.0 - static_cast<double>(n) / static_cast<double>(M::size_of(M::class_of(n)));
    REQUIRE(waste < 0.25);
  }
  CHECK(M::size_of(0) == 16);
  CHECK(M::size_of(3) == 64);
  CHECK(M::size_of(4) == 80);
  CHECK(M::size_of(8) == 160);
}

TEST_CASE("pow2 classes are the powers of two between Min and Max", "[size_class]") {
  using M = P::pow2_classes<8, 256>;
  STATIC_REQUIRE(M::count == 6);
  CHECK(M::class_of(1) == 0);
  CHECK(M::class_of(9) == 1);
  CHECK(M::size_of(5) == 256);
}

struct skewed {  // class_of is not the tightest class: size 1 maps to class 1
  using axis = alloy::axis::size_classes;
  static constexpr std::size_t count = 2, max_size = 32;
  static constexpr std::size_t class_of(std::size_t) noexcept { return 1; }
  static constexpr std::size_t size_of(std::size_t c) noexcept { return 16 * (c + 1); }
  static std::string name() { return "skewed"; }
};

TEST_CASE("a map that breaks its laws is caught", "[size_class]") {
  STATIC_REQUIRE(alloy::size_classes_policy<skewed>);
  STATIC_REQUIRE_FALSE(alloy::size_class_laws<skewed>());
}
