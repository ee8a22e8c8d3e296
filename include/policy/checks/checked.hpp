// checked: finds its users' memory errors and reports each one through the check handler
// (report.hpp): canaries on both sides of every block, double free, foreign and invalid
// pointers, sized free with a wrong size, writes to freed memory, and leaks at release().
//
//   inner block (from the layers below)
//   +-----+---------------+-----------+--------------------+---------------------------+
//   | pad | header (32 B) | canary 16 | user bytes (size)  | canary: the rest, >= 16 B  |
//   +-----+---------------+-----------+--------------------+---------------------------+
//                                     ^ the pointer handed out, aligned as asked
//
// Live blocks are linked through their headers, so release() can name every leak. A freed
// block is filled with a poison pattern and held in a FIFO quarantine; when it leaves the
// quarantine to be reused its poison and canaries are verified, so a write after free is
// caught even though the inner heap's own free-list links would overwrite it later. Under
// ASan the quarantined bytes are also poisoned, so reads after free are reported at once.
//
// After a detection with a handler that returns, the heap goes on and loses nothing: a bad
// free is ignored, a block with broken canaries is still freed, leaks are still released.
//
// Spelling: `P::checked` (a quarantine of 16 blocks, at most 1 MiB), `P::checked::with<Blocks>`.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <type_traits>
#include <string>

#include "../detail/heap_layer.hpp"
#include "../detail/math.hpp"
#include "../detail/reallocate.hpp"
#include "../detail/sanitizer.hpp"
#include "../threading/spin_mutex.hpp"
#include "concept.hpp"
#include "report.hpp"

namespace alloy {
namespace detail {

/// No lock: the stack below is single-threaded, and so is this layer's state.
struct no_lock {
  void lock() noexcept {}
  void unlock() noexcept {}
};

template <class Inner, std::size_t QuarantineBlocks>
class checked_layer : public Inner {
  // Above a thread-safe layer (locked, thread cache) every thread's calls come here: the live
  // list and the quarantine are then guarded by a lock of their own. The layers below take
  // theirs inside it, always in that order.
  using mutex_type = std::conditional_t<Inner::is_thread_safe, spin_mutex, no_lock>;
  using guard = std::lock_guard<mutex_type>;
  struct header {
    header* prev;            // live list (quarantine: `next` only, oldest first)
    header* next;
    std::size_t size;        // as the user asked
    std::uint32_t front;     // user pointer - inner block
    std::uint16_t state;
    std::uint8_t align_log2;
    std::uint8_t resized;    // reallocated in place: the inner heap's sized free no longer applies
  };
  static_assert(sizeof(header) == 32);
  static constexpr std::size_t canary_bytes = 16;
  static constexpr std::size_t lead_bytes = sizeof(header) + canary_bytes;
  // The canary after a block covers the inner block's slack, up to this much (checks stay cheap).
  static constexpr std::size_t max_tail_bytes = 1024;
  static constexpr std::size_t quarantine_max_bytes = std::size_t{1} << 20;
  static constexpr std::uint16_t live_state = 0xA110;
  static constexpr std::uint16_t freed_state = 0xF4EE;
  static constexpr unsigned char canary_byte = 0xCA;
  static constexpr unsigned char poison_byte = 0xDD;

 public:
  static constexpr std::size_t quarantine_blocks = QuarantineBlocks;
  /// Every request grows by the header and canaries (at the default alignment), so the largest
  /// size a class still serves shrinks by as much.
  static constexpr std::size_t max_class_size =
      Inner::max_class_size > lead_bytes + canary_bytes ? Inner::max_class_size - lead_bytes - canary_bytes : 0;

  checked_layer() = default;
  checked_layer(const checked_layer&) = delete;
  checked_layer& operator=(const checked_layer&) = delete;
  ~checked_layer() { release(); }  // leaks are named while the layers below still stand

  /// The name reports give (alloy::allocator sets it to its own name_of). Copied here, once:
  /// the report path, often under the heap's lock, must not build a string (a malloc).
  void name_reports(std::string (*name)()) noexcept { name_.assign(name()); }

  void* allocate(std::size_t size, std::size_t align) noexcept {
    guard g(mutex_);
    const std::size_t front = front_bytes(align);
    if (front > max_request - canary_bytes || size > max_request - canary_bytes - front) return nullptr;
    void* base = Inner::allocate(front + size + canary_bytes, align);
    if (base == nullptr && quarantined_ != 0) {  // the quarantine may hold what the request needs
      drain_quarantine(0);
      base = Inner::allocate(front + size + canary_bytes, align);
    }
    return base == nullptr ? nullptr : open(static_cast<std::byte*>(base), size, align, front);
  }

  void deallocate(void* p, std::size_t size, std::size_t /*align*/) noexcept {
    guard g(mutex_);
    header* h = live_header(p);
    if (h == nullptr) return;
    if (size != h->size) report(check::size_mismatch, p, h->size);
    close(h);
  }

  void deallocate(void* p) noexcept {
    guard g(mutex_);
    if (header* h = live_header(p)) close(h);
  }

  void* reallocate(void* p, std::size_t /*old_size*/, std::size_t new_size, std::size_t align) noexcept {
    std::size_t old_size;
    {
      guard g(mutex_);
      header* h = live_header(p);
      if (h == nullptr) return nullptr;
      verify_canaries(h);
      std::byte* base = user_of(h) - h->front;
      if (h->front + new_size + canary_bytes <= Inner::usable_size(base)) {  // fits where it lies
        h->size = new_size;
        h->resized = 1;
        fill_tail(h);
        return p;
      }
      old_size = h->size;
    }
    return reallocate_by_copy(*this, p, old_size, new_size, align);  // allocate and free lock themselves
  }

  /// The bytes the user may use: exactly the size asked for (the rest is canary).
  std::size_t usable_size(const void* p) const noexcept {
    return header_of(const_cast<void*>(p))->size;
  }

  bool reserve(std::size_t size, std::size_t count) noexcept {
    return size == 0 || Inner::reserve(lead_bytes + size + canary_bytes, count);
  }

  /// Reports every live block as a leak, verifies the quarantine, then releases everything.
  void release() noexcept {
    guard g(mutex_);
    for (header* h = live_; h != nullptr; h = h->next) report(check::leak, user_of(h), h->size);
    live_ = nullptr;
    live_count_ = 0;
    drain_quarantine(0);
    Inner::release();
  }

  /// The inner heap's invariant, and the live list and quarantine are well formed.
  bool invariant() const noexcept {
    if (!Inner::invariant()) return false;
    guard g(mutex_);
    std::size_t n = 0;
    for (const header* h = live_; h != nullptr; h = h->next, ++n) {
      if (n > live_count_ || h->state != live_state || (h->next != nullptr && h->next->prev != h)) return false;
      if (!Inner::owns(user_of(h))) return false;
    }
    if (n != live_count_) return false;
    n = 0;
    for (const header* h = oldest_; h != nullptr; h = h->next, ++n) {
      if (n > quarantined_ || h->state != freed_state || (h->next == nullptr && h != newest_)) return false;
    }
    return n == quarantined_;
  }

  std::size_t live_blocks() const noexcept {
    guard g(mutex_);
    return live_count_;
  }
  std::size_t quarantined_blocks() const noexcept {
    guard g(mutex_);
    return quarantined_;
  }

 private:
  static constexpr std::size_t front_bytes(std::size_t align) noexcept { return align_up(lead_bytes, align); }
  static header* header_of(void* p) noexcept {
    return reinterpret_cast<header*>(static_cast<std::byte*>(p) - lead_bytes);
  }
  static std::byte* user_of(const header* h) noexcept {
    return reinterpret_cast<std::byte*>(const_cast<header*>(h)) + lead_bytes;
  }
  std::byte* tail_end(const header* h) const noexcept {
    std::byte* base = user_of(h) - h->front;
    std::byte* end = base + Inner::usable_size(base);
    return std::min(end, user_of(h) + h->size + max_tail_bytes);
  }

  void* open(std::byte* base, std::size_t size, std::size_t align, std::size_t front) noexcept {
    std::byte* user = base + front;
    header* h = header_of(user);
    *h = header{nullptr, live_, size, static_cast<std::uint32_t>(front), live_state,
                static_cast<std::uint8_t>(log2_floor(align)), 0};
    if (live_ != nullptr) live_->prev = h;
    live_ = h;
    ++live_count_;
    std::memset(user - canary_bytes, canary_byte, canary_bytes);
    fill_tail(h);
    return user;
  }

  void fill_tail(header* h) noexcept {
    std::byte* from = user_of(h) + h->size;
    std::memset(from, canary_byte, static_cast<std::size_t>(tail_end(h) - from));
  }

  /// Whether all `n` bytes at `p` are `Value`: memcmp against a reference, 256 bytes at a time.
  template <unsigned char Value>
  static bool all_equal(const std::byte* p, std::size_t n) noexcept {
    static constexpr auto reference = [] {
      std::array<unsigned char, 256> r{};
      r.fill(Value);
      return r;
    }();
    for (std::size_t k; n != 0; p += k, n -= k) {
      k = std::min(n, reference.size());
      if (std::memcmp(p, reference.data(), k) != 0) return false;
    }
    return true;
  }

  /// The header of the live block `p`, or nullptr after reporting why `p` is not one.
  header* live_header(void* p) noexcept {
    if (!Inner::owns(p)) {
      report(check::foreign_pointer, p, 0);
      return nullptr;
    }
    header* h = header_of(p);
    // An interior pointer's "header" may lie in memory the inner heap has poisoned.
    if (addr(p) % alignof(header) != 0 || !Inner::owns(h) || is_poisoned(h, sizeof(header))) {
      report(check::invalid_pointer, p, 0);
      return nullptr;
    }
    if (h->state == live_state) [[likely]] return h;
    report(h->state == freed_state ? check::double_free : check::invalid_pointer, p,
           h->state == freed_state ? h->size : 0);
    return nullptr;
  }

  /// Reports broken canaries, then repairs them: one overflow is one report, not a second one
  /// when the block leaves quarantine.
  void verify_canaries(header* h) noexcept {
    std::byte* user = user_of(h);
    if (!all_equal<canary_byte>(user - canary_bytes, canary_bytes)) {
      report(check::canary_before, user, h->size);
      std::memset(user - canary_bytes, canary_byte, canary_bytes);
    }
    const std::byte* tail = user + h->size;
    if (!all_equal<canary_byte>(tail, static_cast<std::size_t>(tail_end(h) - tail))) {
      report(check::canary_after, user, h->size);
      fill_tail(h);
    }
  }

  /// Frees a live block: canaries checked, poisoned, quarantined.
  void close(header* h) noexcept {
    verify_canaries(h);
    (h->prev != nullptr ? h->prev->next : live_) = h->next;
    if (h->next != nullptr) h->next->prev = h->prev;
    --live_count_;
    h->state = freed_state;
    h->next = nullptr;
    std::memset(user_of(h), poison_byte, h->size);
    poison(user_of(h), h->size);
    (newest_ != nullptr ? newest_->next : oldest_) = h;
    newest_ = h;
    ++quarantined_;
    quarantined_bytes_ += h->size;
    drain_quarantine(quarantine_blocks);
  }

  /// Lets the oldest blocks go until at most `keep` (and at most 1 MiB) remain.
  void drain_quarantine(std::size_t keep) noexcept {
    while (quarantined_ > keep || (quarantined_ != 0 && quarantined_bytes_ > quarantine_max_bytes)) {
      header* h = oldest_;
      oldest_ = h->next;
      if (oldest_ == nullptr) newest_ = nullptr;
      --quarantined_;
      quarantined_bytes_ -= h->size;
      std::byte* user = user_of(h);
      make_defined(user, h->size);  // the poison pattern itself is to be read back
      const std::byte* tail = user + h->size;
      if (!all_equal<poison_byte>(user, h->size) || !all_equal<canary_byte>(user - canary_bytes, canary_bytes) ||
          !all_equal<canary_byte>(tail, static_cast<std::size_t>(tail_end(h) - tail)))
        report(check::use_after_free, user, h->size);
      h->state = 0;
      if (h->resized != 0) Inner::deallocate(user - h->front);
      else Inner::deallocate(user - h->front, h->front + h->size + canary_bytes, std::size_t{1} << h->align_log2);
    }
  }

  ALLOY_SLOW_PATH void report(check what, const void* p, std::size_t size) const noexcept {
    detail::current_check_handler.load()(check_report{what, p, size, name_.view()});
  }

  /// The allocator's name in place (cut at `capacity` bytes): no allocation to give it.
  class report_name {
   public:
    static constexpr std::size_t capacity = 192;
    void assign(std::string_view s) noexcept { size_ = s.copy(text_, capacity); }
    std::string_view view() const noexcept { return size_ == 0 ? std::string_view("checked heap") : std::string_view(text_, size_); }

   private:
    char text_[capacity];
    std::size_t size_ = 0;
  };

  header* live_ = nullptr;
  header* oldest_ = nullptr;
  header* newest_ = nullptr;
  std::size_t live_count_ = 0;
  std::size_t quarantined_ = 0;
  std::size_t quarantined_bytes_ = 0;
  report_name name_;
  mutable mutex_type mutex_;
};

}  // namespace detail

namespace policy {

struct checked {
  using axis = alloy::axis::checks;
  static constexpr std::size_t default_quarantine_blocks = 16;

  /// Tuned form: `QuarantineBlocks` freed blocks are held (and verified on leaving) before reuse.
  template <std::size_t QuarantineBlocks>
  struct with {
    using axis = alloy::axis::checks;
    template <class Inner>
    using layer = detail::checked_layer<Inner, QuarantineBlocks>;
    static std::string name() {
      if constexpr (QuarantineBlocks == default_quarantine_blocks) return "checked";
      else return "checked::with<" + std::to_string(QuarantineBlocks) + ">";
    }
  };

  /// The untuned spelling is the tuned form with the default argument (one design, one type).
  using tuned = with<default_quarantine_blocks>;
  template <class Inner>
  using layer = typename tuned::template layer<Inner>;
  static std::string name() { return tuned::name(); }
};

}  // namespace policy
}  // namespace alloy
