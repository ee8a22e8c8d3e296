// Runs the measured loops of one design, one side, for callgrind to count:
//   valgrind --tool=callgrind --toggle-collect='*pairs_*' --dump-after='*pairs_*'
//            zero_overhead_count DESIGN SIDE PAIRS
//   zero_overhead_count --list          (the design names)
// DESIGN: a name from designs.hpp; SIDE: composed or hand. After a warm-up, four measured calls
// (fixed PAIRS, fixed 2*PAIRS, varied PAIRS, varied 2*PAIRS), each counted in a dump of its own.
// instructions.cmake divides each pattern's difference by PAIRS: setup, warm-up, the call and
// the loop entry cancel, leaving the exact cost of one allocate + free pair, loop included.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "designs.hpp"

namespace zero_overhead {
namespace {

template <class Heap>
int run(std::size_t pairs) {
  auto heap = std::make_unique<Heap>();
  const auto sizes = varied_sizes(2 * pairs);
  warm_up(*heap, sizes);
  // Four measured calls; callgrind dumps the count of each on its return (--dump-after).
  pairs_fixed(*heap, pairs);
  pairs_fixed(*heap, 2 * pairs);
  pairs_varied(*heap, sizes.data(), pairs);
  pairs_varied(*heap, sizes.data(), 2 * pairs);
  return 0;
}

template <class Design>
int run_side(std::string_view side, std::size_t pairs) {
  if (side == "composed") return run<typename Design::composed>(pairs);
  if (side == "hand") return run<typename Design::hand>(pairs);
  std::fprintf(stderr, "unknown side '%.*s' (composed or hand)\n", static_cast<int>(side.size()), side.data());
  return 2;
}

int run_design(std::string_view name, std::string_view side, std::size_t pairs) {
  int status = -1;
  for_each_design([&]<class Design>(Design) {
    if (status == -1 && name == Design::name) status = run_side<Design>(side, pairs);
  });
  if (status == -1) {
    std::fprintf(stderr, "unknown design '%.*s'\n", static_cast<int>(name.size()), name.data());
    return 2;
  }
  return status;
}

}  // namespace

// The fast paths alone, out of line so that `objdump -d --no-show-raw-insn -C zero_overhead_count`
// shows them whole (docs/zero-overhead.md explains them instruction by instruction).
[[gnu::noinline]] void* fast_path_allocate(composed_segregated_fit& heap, std::size_t size) noexcept {
  return heap.allocate(size);
}
[[gnu::noinline]] void fast_path_deallocate(composed_segregated_fit& heap, void* p, std::size_t size) noexcept {
  heap.deallocate(p, size);
}
[[gnu::noinline]] void* fast_path_allocate(hand_segregated_fit& heap, std::size_t size) noexcept {
  return heap.allocate(size);
}
[[gnu::noinline]] void fast_path_deallocate(hand_segregated_fit& heap, void* p, std::size_t size) noexcept {
  heap.deallocate(p, size);
}

}  // namespace zero_overhead

int main(int argc, char** argv) {
  using namespace zero_overhead;
  if (argc == 2 && std::string_view(argv[1]) == "--list") {  // the design names, for the scripts
    for_each_design([]<class Design>(Design) { std::printf("%s\n", Design::name); });
    return 0;
  }
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DESIGN composed|hand PAIRS\n       %s --list\n", argv[0], argv[0]);
    return 2;
  }
  return run_design(argv[1], argv[2], std::strtoull(argv[3], nullptr, 10));
}
