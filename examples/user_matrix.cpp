// Your own benchmark matrix in a few lines: list the policies to compare on each axis; every
// valid combination is measured on Alloy's workloads beside glibc, jemalloc, tcmalloc,
// mimalloc, the std::pmr resources and a hand-written free list. Link alloy::bench.
//
//   ./example_user_matrix --out mine.json          (--smoke for a quick check, --help for more)
//   /usr/bin/python3 tools/report/report.py mine.json --out my_report
#include <bench/matrix/matrix.hpp>

#include "custom_policy/fibonacci_classes.hpp"  // a policy of your own joins like any other

namespace P = alloy::policy;
using boost::mp11::mp_list;

using my_matrix = alloy::bench::matrix<mp_list<P::segregated_fit, P::tlsf>,                    // search
                                       mp_list<P::single_thread, P::locked<>>,                 // threading
                                       mp_list<P::pow2_classes<16, 4096>, example::fibonacci_classes<16, 4096>>>;

int main(int argc, char** argv) { return alloy::bench::run<my_matrix>(argc, argv); }
