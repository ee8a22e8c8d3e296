// Internal waste of each size-class map, computed exactly over every request size 1..Max:
// how many free lists a map needs, and how much of a block is rounding at worst and on average
// (sizes drawn uniformly). docs/policies/*_classes.md quote this program's output.
#include <cstdio>
#include <policy/size_classes.hpp>

namespace P = alloy::policy;

template <class Map>
void report() {
  double worst = 0, worst_above_256 = 0, sum = 0;
  for (std::size_t n = 1; n <= Map::max_size; ++n) {
    const double waste = 1.0 - static_cast<double>(n) / static_cast<double>(Map::size_of(Map::class_of(n)));
    sum += waste;
    worst = waste > worst ? waste : worst;
    if (n > 256 && waste > worst_above_256) worst_above_256 = waste;
  }
  std::printf("| `%s` | %zu | %.1f%% | %.1f%% | %.1f%% |\n", Map::name().c_str(), Map::count, 100 * worst,
              100 * worst_above_256, 100 * sum / static_cast<double>(Map::max_size));
}

int main() {
  std::printf("| map | classes | worst waste | worst above 256 B | mean waste |\n|---|---|---|---|---|\n");
  report<P::pow2_classes<16, 4096>>();
  report<P::linear_classes<16, 4096>>();
  report<P::geometric_classes<16, 4096, 2>>();
  report<P::geometric_classes<16, 4096, 4>>();
  report<P::geometric_classes<16, 4096, 8>>();
}
