#include "stack_canary.hpp"

#include "stack_overflow.hpp"

#include <async_generator/detail/frame.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace async_generator {
namespace detail {
namespace {

// A cache line of a pattern no stack frame is likely to hold: an overflow that reaches the lowest
// bytes of the stack writes over some of it, whatever its frames' layout.
struct canary_pattern {
  std::uint64_t words[8];
};
constexpr std::uint64_t canary_word = 0xa5c3'5a3c'96e1'69e1ull;
constexpr canary_pattern canary{{canary_word, canary_word, canary_word, canary_word, canary_word, canary_word,
                                 canary_word, canary_word}};

}  // namespace

void write_canary(char* lo) noexcept { std::memcpy(lo, &canary, sizeof canary); }

void check_canary(const char* lo, const void* owner, std::size_t size) noexcept {
  if (std::memcmp(lo, &canary, sizeof canary) == 0) return;
  write_overflow_report(owner, size,
                        " (detected after the fact, at a suspension: its stack has no guard page)\n");
  std::abort();
}

void frame_base::check_stack_canary_now() const noexcept {
  check_canary(stack_lo_, this, static_cast<std::size_t>(stack_hi_ - stack_lo_));
}

}  // namespace detail
}  // namespace async_generator
