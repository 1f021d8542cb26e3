// Storage set aside for the operations Asio allocates to run a function on an executor, through the
// function's associated allocator: what must still be posted when memory is short (a close the
// library starts, shutdown_asyncgens' completion) finds its memory there.
#ifndef ASYNC_GENERATOR_DETAIL_RESERVE_HPP
#define ASYNC_GENERATOR_DETAIL_RESERVE_HPP

#include <atomic>
#include <cstddef>
#include <new>

namespace async_generator {
namespace detail {

// Blocks of one size, each lent to one operation at a time. A request none can hold (too big, or
// every block lent) goes to operator new, as the default allocator's would.
class reserve {
 public:
  reserve(const reserve&) = delete;
  reserve& operator=(const reserve&) = delete;

  void* allocate(std::size_t size, std::size_t alignment) {
    if (size <= block_size_ && alignment <= alignof(std::max_align_t)) {
      for (unsigned i = 0; i < count_; ++i) {
        const unsigned bit = 1u << i;
        if ((lent_.fetch_or(bit, std::memory_order_acquire) & bit) == 0) return blocks_ + i * block_size_;
      }
    }
    return ::operator new(size);
  }
  void deallocate(void* p) noexcept {
    unsigned char* block = static_cast<unsigned char*>(p);
    if (block >= blocks_ && block < blocks_ + count_ * block_size_) {
      lent_.fetch_and(~(1u << static_cast<unsigned>((block - blocks_) / block_size_)), std::memory_order_release);
      return;
    }
    ::operator delete(p);
  }

 protected:
  reserve(unsigned char* blocks, std::size_t block_size, unsigned count) noexcept
      : blocks_(blocks), block_size_(block_size), count_(count) {}
  ~reserve() = default;

 private:
  unsigned char* const blocks_;
  const std::size_t block_size_;
  const unsigned count_;
  std::atomic<unsigned> lent_{0};  // one bit per block
};

// `Count` blocks that each hold `Size` bytes.
template <std::size_t Size, unsigned Count>
class reserve_of final : public reserve {
  static constexpr std::size_t block_size = (Size + alignof(std::max_align_t) - 1) / alignof(std::max_align_t) * alignof(std::max_align_t);
  static_assert(Count >= 1 && Count <= 8 * sizeof(unsigned), "one bit of reserve::lent_ per block");

 public:
  reserve_of() noexcept : reserve(storage_, block_size, Count) {}

 private:
  alignas(std::max_align_t) unsigned char storage_[block_size * Count];
};

// The allocator a function names (its associated allocator) so that Asio allocates its operation
// in a reserve.
template <class T>
class reserve_allocator {
 public:
  using value_type = T;
  explicit reserve_allocator(reserve& r) noexcept : reserve_(&r) {}
  template <class U>
  reserve_allocator(const reserve_allocator<U>& other) noexcept : reserve_(other.reserve_) {}

  T* allocate(std::size_t n) { return static_cast<T*>(reserve_->allocate(n * sizeof(T), alignof(T))); }
  void deallocate(T* p, std::size_t) noexcept { reserve_->deallocate(p); }

  template <class U>
  friend bool operator==(const reserve_allocator& a, const reserve_allocator<U>& b) noexcept {
    return a.reserve_ == b.reserve_;
  }
  template <class U>
  friend bool operator!=(const reserve_allocator& a, const reserve_allocator<U>& b) noexcept {
    return a.reserve_ != b.reserve_;
  }

 private:
  template <class>
  friend class reserve_allocator;
  reserve* reserve_;
};

}  // namespace detail
}  // namespace async_generator

#endif
