// What the matrix measures per cell, and the two instruments it measures with: a per-operation
// timer for tail latency and a memory probe for peak footprint. Both come in a zero-cost form
// (no_timer, no_probe) that the timed loop uses, so measuring never slows what is measured.
#pragma once
#include <algorithm>
#include <atomic>
#include <boost/hana/define_struct.hpp>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#  include <x86intrin.h>
#endif

namespace alloy::bench {

inline constexpr double not_measured = std::numeric_limits<double>::quiet_NaN();

/// One cell's figures besides the time per pair (which Google Benchmark measures itself).
/// Reflected with Boost.Hana: the runner writes every field as a counter, so a new field
/// reaches the JSON and the report without a hand-kept list. NaN: not measured here.
struct cell_metrics {
  BOOST_HANA_DEFINE_STRUCT(cell_metrics,
                           (double, pairs),                   // allocate+free pairs per iteration
                           (double, p99_ns),                  // 99th percentile of single operations
                           (double, max_ns),                  // slowest single operation
                           (double, peak_reserved_bytes),     // taken from the system at the peak
                           (double, peak_live_bytes),         // requested bytes live at the peak
                           (double, memory_ratio),            // peak_reserved / peak_live
                           (double, external_fragmentation),  // 1 - largest free / free (Alloy cells)
                           (double, largest_free_block),      // after the fragmenting pattern
                           (double, memory_rounds),           // rounds the memory figures cover
                           (double, retained_ratio),          // footprint / live after a quiet phase
                           (double, faults_per_pair),         // first touches that trapped (below)
                           (double, populated_per_pair));     // pages the heap populated ahead instead
  static cell_metrics none() {
    return {not_measured, not_measured, not_measured, not_measured, not_measured, not_measured,
            not_measured, not_measured, not_measured, not_measured, not_measured, not_measured};
  }
};

// ---- page faults -----------------------------------------------------------------------------

/// Minor page faults of this process so far: a page touched for the first time since it was
/// mapped (or given back with MADV_DONTNEED), or made resident ahead by MADV_POPULATE_WRITE.
inline double minor_faults() noexcept {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_minflt);
}

/// Those of them that were a trap of their own: the kernel's software counter of minor faults,
/// which a populate does not raise (getrusage counts both). A heap that populates its fresh
/// pages ahead (segregated fit over system_pages) pays for them a fraction of a trap each, so
/// the advice prices the two apart. The counter is opened once, by the thread that first asks
/// (the runner, before any replay thread exists), and inherited by the threads made after it:
/// it reads theirs once they are joined. Where it cannot be opened (perf_event_paranoid, a
/// seccomp filter), every fault counts as a trap, as before populating existed.
inline double trapped_faults() noexcept {
  static const int fd = [] {
    perf_event_attr a{};
    a.type = PERF_TYPE_SOFTWARE;
    a.size = sizeof a;
    a.config = PERF_COUNT_SW_PAGE_FAULTS_MIN;
    a.inherit = 1;
    a.exclude_kernel = 1;  // the fault's registers are the user's: counted, and asks for no privilege
    a.exclude_hv = 1;
    return static_cast<int>(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
  }();
  std::uint64_t n = 0;
  if (fd < 0 || read(fd, &n, sizeof n) != static_cast<ssize_t>(sizeof n)) return minor_faults();
  return static_cast<double>(n);
}

/// The page the kernel faults in at a time (x86-64's base page): what a first touch costs.
inline constexpr std::size_t page_bytes = 4096;

/// CPU time a page made resident costs, in ns: the median of five runs that map 4 MiB and write
/// one byte per page — each page a trap of its own (`populate_window` 0), or populated first a
/// window at a time with MADV_POPULATE_WRITE, as segregated fit's carving does (NaN where the
/// kernel cannot).
inline double resident_page_ns(std::size_t populate_window) {
  constexpr std::size_t bytes = std::size_t{4} << 20;
  std::vector<double> runs;
  for (int run = 0; run < 5; ++run) {
    void* map = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) return not_measured;
    auto* base = static_cast<volatile char*>(map);
    timespec t0{}, t1{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    bool populated = true;
    for (std::size_t window = 0; populate_window > 0 && window < bytes; window += populate_window)
      populated = populated && madvise(const_cast<char*>(base) + window, populate_window, MADV_POPULATE_WRITE) == 0;
    for (std::size_t at = 0; at < bytes; at += page_bytes) base[at] = 1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    munmap(map, bytes);
    if (!populated) return not_measured;
    const double ns = static_cast<double>(t1.tv_sec - t0.tv_sec) * 1e9 + static_cast<double>(t1.tv_nsec - t0.tv_nsec);
    runs.push_back(ns / static_cast<double>(bytes / page_bytes));
  }
  std::nth_element(runs.begin(), runs.begin() + static_cast<std::ptrdiff_t>(runs.size() / 2), runs.end());
  return runs[runs.size() / 2];
}

/// CPU time one minor page fault costs on this machine, in ns. A warm replay never pays one (its
/// heap's pages are resident from the untimed first round), a program pays one for every page
/// its heap first touches: 15-17 us each on this project's paravirtualised VM (2026-11-28),
/// against 10-40 ns for a pair, so a heap that spreads a short program over 500 more pages
/// costs it 8 ms.
inline double page_fault_ns() {
  static const double value = resident_page_ns(0);
  return value;
}

/// CPU time a page populated ahead costs, the write after it included: 6-7 us on the same VM
/// (the populate about 1, the first write the rest), about half a trapped fault.
inline double populated_page_ns() {
  static const double value = resident_page_ns(std::size_t{32} << 10);
  return value;
}

// ---- time ------------------------------------------------------------------------------------

inline std::uint64_t ticks() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

/// Ticks per nanosecond, calibrated once against the steady clock (20 ms).
inline double ticks_per_ns() {
  static const double value = [] {
    const auto t0 = std::chrono::steady_clock::now();
    const std::uint64_t c0 = ticks();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(20)) {
    }
    const std::uint64_t c1 = ticks();
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    return static_cast<double>(c1 - c0) / static_cast<double>(ns);
  }();
  return value;
}

/// The timed loop's timer: nothing at all.
struct no_timer {
  static constexpr std::uint64_t start() noexcept { return 0; }
  static constexpr void stop(std::uint64_t) noexcept {}
  static no_timer& instance() noexcept {
    static no_timer quiet;
    return quiet;
  }
};

/// The smallest step the time stamp counter takes, in ns: the resolution of any one reading.
/// On a VM the TSC may advance in coarse steps (21 ticks, about 8 ns, on the 2-core EPYC VM
/// this project is measured on), so a single fast operation cannot be timed on its own.
inline double timer_step_ns() {
  static const double value = [] {
    std::uint64_t step = ~std::uint64_t{0};
    for (int i = 0; i < 2000; ++i) {
      const std::uint64_t t0 = ticks();
      std::uint64_t t1 = ticks();
      while (t1 == t0) t1 = ticks();
      step = std::min(step, t1 - t0);
    }
    return static_cast<double>(step) / ticks_per_ns();
  }();
  return value;
}

/// Tail latency that the timer can resolve: the TSC (calibrated against steady_clock) read once
/// per batch of `batch` consecutive operations, so a batch of even the fastest operations spans
/// many timer steps. p99 is over the batches' time per operation; max is the slowest batch's
/// whole time, an upper bound on the slowest single operation in it (an mmap, a refill).
/// Timing single operations would report the timer's step (every p99 read 10 ns before).
class op_timer {
 public:
  static constexpr std::size_t batch = 32;
  explicit op_timer(std::size_t expected_ops) { samples_.reserve(expected_ops / batch + 1); }
  std::uint64_t start() noexcept {
    asm volatile("" ::: "memory");
    if (in_batch_ == 0) batch_start_ = ticks();
    return 0;
  }
  void stop(std::uint64_t) noexcept {
    asm volatile("" ::: "memory");
    if (++in_batch_ < batch) return;
    const std::uint64_t t1 = ticks();
    in_batch_ = 0;
    if (samples_.size() < samples_.capacity()) samples_.push_back(t1 - batch_start_);
  }
  /// The q-quantile of the time per operation over the batches.
  double percentile_ns(double q) {
    if (samples_.empty()) return not_measured;
    const auto k = static_cast<std::size_t>(q * static_cast<double>(samples_.size() - 1));
    std::nth_element(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(k), samples_.end());
    return static_cast<double>(samples_[k]) / ticks_per_ns() / static_cast<double>(batch);
  }
  /// The slowest batch, whole: what its slowest operation cost at most.
  double max_ns() const {
    return samples_.empty() ? not_measured
                            : static_cast<double>(*std::max_element(samples_.begin(), samples_.end())) / ticks_per_ns();
  }

 private:
  std::vector<std::uint64_t> samples_;
  std::uint64_t batch_start_ = 0;
  std::size_t in_batch_ = 0;
};

// ---- memory ----------------------------------------------------------------------------------

/// The phases of a workload that samples memory over time (memory_over_time_workload).
enum class phase : std::uint8_t { start, grow, free, quiet, regrow, end };
inline const char* phase_name(phase p) {
  static constexpr const char* names[] = {"start", "grow", "free", "quiet", "regrow", "end"};
  return names[static_cast<int>(p)];
}

/// One point of a memory-over-time plot.
struct timeline_sample {
  double ms;                // since the memory run began
  std::size_t footprint;    // the heap's footprint now (see memory_probe::footprint_now)
  std::size_t live;         // requested bytes live now
  phase in;
};

/// The timed loop's probe: nothing at all.
struct no_probe {
  static constexpr void on_allocate(void*, std::size_t) noexcept {}
  static constexpr void on_deallocate(std::size_t) noexcept {}
  static constexpr void sample() noexcept {}
  static constexpr void on_violation() noexcept {}
};

/// Follows the live requested bytes (the same for every cell: the workload's own figure) and
/// samples the footprint of the heap under test. Heaps that keep their own high-water mark
/// (Alloy cells composed with P::stats) are read once at the end; the others are sampled every
/// 256 allocations and wherever the workload reaches a peak. Its counters are relaxed atomics:
/// a threaded trace replay calls it from every replay thread (it only runs untimed).
template <class MemoryHeap>
class memory_probe {
 public:
  explicit memory_probe(MemoryHeap& heap) : heap_(heap), base_(heap.reserved_now()) {}

  void on_allocate(void* p, std::size_t size) noexcept {
    if (p == nullptr) [[unlikely]] {
      failures_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    raise(peak_live_, live_.fetch_add(size, std::memory_order_relaxed) + size);
    if ((count_.fetch_add(1, std::memory_order_relaxed) & 255) == 255) sample();
  }
  void on_deallocate(std::size_t size) noexcept { live_.fetch_sub(size, std::memory_order_relaxed); }
  /// The footprint now: resident bytes as a system allocator reports them (grown since the
  /// probe began), or what an Alloy heap holds from its source now.
  std::size_t footprint_now() const noexcept {
    const std::size_t now = [&] {
      if constexpr (requires { heap_.footprint_now(); }) return heap_.footprint_now();
      else return heap_.reserved_now();
    }();
    return now > base_ ? now - base_ : 0;
  }
  /// Samples the footprint for the memory-over-time plot (one thread only).
  void mark(phase p) {
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began_).count();
    timeline_.push_back({ms, footprint_now(), live(), p});
  }
  const std::vector<timeline_sample>& timeline() const noexcept { return timeline_; }

  /// A workload found a block handed out twice while live (see trace_replay_workload).
  void on_violation() noexcept { violations_.fetch_add(1, std::memory_order_relaxed); }
  void sample() noexcept {
    if constexpr (!MemoryHeap::keeps_peak) {
      const std::size_t now = heap_.reserved_now();
      raise(peak_reserved_, now > base_ ? now - base_ : 0);
    }
  }

  /// The workload made its fragmenting pattern: heaps that report their free blocks say how
  /// fragmented they are now and the largest request those blocks could still serve.
  void checkpoint() noexcept {
    if constexpr (requires { heap_.snapshot(); }) {
      const auto s = heap_.snapshot();
      external_fragmentation_ = s.external_fragmentation();
      largest_free_block_ = static_cast<double>(s.largest_free_block);
    }
  }
  double external_fragmentation() const noexcept { return external_fragmentation_; }
  double largest_free_block() const noexcept { return largest_free_block_; }

  std::size_t failures() const noexcept { return failures_.load(std::memory_order_relaxed); }
  std::size_t violations() const noexcept { return violations_.load(std::memory_order_relaxed); }
  std::size_t live() const noexcept { return live_.load(std::memory_order_relaxed); }
  std::size_t peak_live() const noexcept { return peak_live_.load(std::memory_order_relaxed); }
  std::size_t peak_reserved() const noexcept {
    if constexpr (MemoryHeap::keeps_peak) {
      return heap_.peak_reserved();
    } else {
      return peak_reserved_.load(std::memory_order_relaxed);
    }
  }

 private:
  static void raise(std::atomic<std::size_t>& peak, std::size_t value) noexcept {
    std::size_t seen = peak.load(std::memory_order_relaxed);
    while (value > seen && !peak.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
    }
  }
  MemoryHeap& heap_;
  std::size_t base_;
  std::chrono::steady_clock::time_point began_ = std::chrono::steady_clock::now();
  std::vector<timeline_sample> timeline_;
  std::atomic<std::size_t> live_{0}, peak_live_{0}, peak_reserved_{0}, count_{0}, failures_{0}, violations_{0};
  double external_fragmentation_ = not_measured, largest_free_block_ = not_measured;
};

}  // namespace alloy::bench
