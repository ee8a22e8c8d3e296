// bench_matrix: the default matrix against the baselines — Alloy's main job (tools/bench.sh).
#include "default_matrix.hpp"

int main(int argc, char** argv) { return alloy::bench::run_matrix(argc, argv, alloy::bench::defaults::slices()); }
