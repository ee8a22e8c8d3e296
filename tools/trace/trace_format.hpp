// The trace file format: a program's malloc/free/calloc/realloc/aligned calls, as recorded by
// liballoy_trace.so (tools/trace/) and replayed by the benchmark matrix and alloy-advise.
//
//   file   = header, then header.record_count records, little-endian, no padding between
//   header = 32 bytes: magic "ALLOYTR1", version, thread_count, record_count, object_count
//   record = 16 bytes: size (u64), object (u32), thread (u16), op (u8), align_log2 (u8)
//
// Addresses are not kept: every block the program got is numbered (1, 2, ... in the order it
// was handed out, never reused), so a replay holds `void* slot[object_count + 1]` and is the
// same on any allocator. A realloc is two records in a row on the same thread:
// `reallocate_from` (the old object, size 0), then `reallocate` (the new object, its new size);
// realloc(NULL, n) is an `allocate`, and a realloc(p, 0) that frees is a `deallocate`. A free
// of a block the recorder never saw handed out (allocated before recording began) is not
// recorded, nor is a failed call. Records are in the order the calls happened process-wide.
//
// Reading needs only this header: `alloy::trace::read(path)` returns the records;
// `alloy::trace::write(fd, ...)` is what the recorder calls and uses no heap memory.
#pragma once
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace alloy::trace {

/// What a record does. Values are fixed: they are stored in files.
enum class op : std::uint8_t {
  allocate = 1,         ///< malloc / operator new: `size` bytes, default alignment
  allocate_zeroed = 2,  ///< calloc: `size` = count × size, zero-filled
  allocate_aligned = 3, ///< aligned_alloc, posix_memalign, memalign, valloc, pvalloc: alignment 1 << align_log2
  reallocate_from = 4,  ///< first half of a realloc: `object` is the block being resized
  reallocate = 5,       ///< second half: `object` is the resized block (a new number), `size` its new size
  deallocate = 6,       ///< free / operator delete of `object`
};

inline constexpr char magic[8] = {'A', 'L', 'L', 'O', 'Y', 'T', 'R', '1'};
inline constexpr std::uint32_t version = 1;

struct header {
  char magic[8];
  std::uint32_t version;
  std::uint32_t thread_count;   ///< threads numbered 0 .. thread_count-1, in order of their first call
  std::uint64_t record_count;
  std::uint64_t object_count;   ///< objects numbered 1 .. object_count (0 means "none")
};
static_assert(sizeof(header) == 32);

struct record {
  std::uint64_t size;       ///< bytes asked for (0 for deallocate and reallocate_from)
  std::uint32_t object;     ///< the block's number
  std::uint16_t thread;     ///< the calling thread's number
  op kind;
  std::uint8_t align_log2;  ///< log2 of the alignment asked for; 0 unless allocate_aligned
};
static_assert(sizeof(record) == 16);

/// Writes a whole trace to `fd` with write(2) only (no heap memory): safe inside a malloc hook.
inline bool write(int fd, const header& h, const record* records) noexcept {
  const auto put = [fd](const void* data, std::size_t bytes) {
    const auto* p = static_cast<const char*>(data);
    while (bytes > 0) {
      const ssize_t n = ::write(fd, p, bytes);
      if (n <= 0) return false;
      p += n;
      bytes -= static_cast<std::size_t>(n);
    }
    return true;
  };
  return put(&h, sizeof h) && put(records, h.record_count * sizeof(record));
}

struct file {
  header head{};
  std::vector<record> records;
};

/// Reads and checks a trace: nullopt when the file is missing, not a trace, of another version,
/// truncated, or when a record names an object or thread outside the header's counts.
inline std::optional<file> read(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const auto get = [fd](void* data, std::size_t bytes) {
    auto* p = static_cast<char*>(data);
    while (bytes > 0) {
      const ssize_t n = ::read(fd, p, bytes);
      if (n <= 0) return false;
      p += n;
      bytes -= static_cast<std::size_t>(n);
    }
    return true;
  };
  file f;
  bool ok = get(&f.head, sizeof f.head) && std::memcmp(f.head.magic, magic, sizeof magic) == 0 &&
            f.head.version == version && f.head.record_count < (std::uint64_t{1} << 40);
  if (ok) {
    f.records.resize(f.head.record_count);
    ok = get(f.records.data(), f.records.size() * sizeof(record));
  }
  ::close(fd);
  if (!ok) return std::nullopt;
  for (const record& r : f.records) {
    const auto k = static_cast<std::uint8_t>(r.kind);
    if (k < 1 || k > 6 || r.object == 0 || r.object > f.head.object_count || r.thread >= f.head.thread_count ||
        r.align_log2 > 40)
      return std::nullopt;
  }
  return f;
}

}  // namespace alloy::trace
