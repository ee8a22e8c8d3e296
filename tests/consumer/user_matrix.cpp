// A benchmark matrix of the user's own, linked with alloy::bench (README, examples/user_matrix.cpp).
#include <bench/matrix/matrix.hpp>

namespace P = alloy::policy;
using boost::mp11::mp_list;

using my_matrix = alloy::bench::matrix<mp_list<P::segregated_fit, P::tlsf>, mp_list<P::single_thread>>;

int main(int argc, char** argv) { return alloy::bench::run<my_matrix>(argc, argv); }
