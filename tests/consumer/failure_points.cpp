// The failure-point helper as a user without a test framework meets it: plain checks and an exit
// status, so the installed header is shown to need nothing but the library.
#include <alloc/alloy.hpp>
#include <alloc/testing/failure_points.hpp>
#include <cstdio>
#include <new>
#include <vector>

namespace P = alloy::policy;
using heap_type = alloy::allocator<P::segregated_fit, P::fail_after>;
using int_alloc = alloy::stl_allocator<int, heap_type>;

int main() {
  heap_type heap;
  // Three reserves that each allocate: three failure points, then a run with none.
  const std::size_t points = alloy::testing::for_each_failure_point(heap, [&] {
    std::vector<int, int_alloc> v{int_alloc{heap}};
    for (std::size_t n : {1, 4, 16}) v.reserve(n);
  });
  // A bad_alloc that no injected failure explains is reported, naming the run.
  std::size_t reported_at = 99;
  try {
    alloy::testing::for_each_failure_point(heap, [] { throw std::bad_alloc(); });
  } catch (const alloy::testing::failure_point_error& e) {
    reported_at = e.point;
  }
  std::printf("%zu failure points; a stray bad_alloc reported at run %zu\n", points, reported_at);
  return points == 3 && reported_at == 0 ? 0 : 1;
}
