// What reclaiming costs where nothing is to be reclaimed: the matrix's workloads (pairs,
// churn, ...) on the same designs with P::no_reclaim and with P::reclaim, side by side
// (issue 16: at most 2% on pairs and churn). A matrix of Alloy's own (bench/matrix) whose
// reclaim list holds both.
//
//   bench_reclaim_cost --filter 'pairs|churn' [--smoke]
#include <bench/matrix/matrix.hpp>

namespace P = alloy::policy;
using boost::mp11::mp_list;

using reclaim_matrix =
    alloy::bench::matrix<mp_list<P::segregated_fit, P::segregated_fit::with<0, P::tlsf>, P::tlsf>,  // search
                         mp_list<P::single_thread, P::thread_local_cache>,                          // threading
                         mp_list<P::geometric_classes<16, (1 << 17), 4>>,                           // the preload's classes
                         mp_list<P::align<16>>, mp_list<P::system_pages>, mp_list<P::no_hardening>,
                         mp_list<P::no_checks>, mp_list<P::no_reclaim, P::reclaim>>;
static_assert(reclaim_matrix::size == 12);

int main(int argc, char** argv) { return alloy::bench::run<reclaim_matrix>(argc, argv); }
