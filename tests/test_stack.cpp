// stack.hpp: the stacks of generator bodies, sized per generator or globally.
#include "support.hpp"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace {

constexpr std::size_t kib = 1024;

// Restores the process-wide default stack size on destruction.
struct default_size_guard {
  std::size_t saved = ag::default_stack_size();
  ~default_size_guard() { ag::set_default_stack_size(saved); }
};

// Recurses `depth` levels, each with a 4 KiB frame, lowering `*deepest` to the lowest frame address
// reached. The buffers are written and read so the recursion cannot be optimised into a loop.
void recurse(int depth, unsigned char seed, unsigned* sum, std::uintptr_t* deepest) {
  volatile unsigned char frame[4 * kib];
  for (std::size_t i = 0; i < sizeof frame; i += 512) frame[i] = static_cast<unsigned char>(seed + i);
  const std::uintptr_t here = reinterpret_cast<std::uintptr_t>(&frame[0]);
  if (here < *deepest) *deepest = here;
  if (depth > 1) recurse(depth - 1, static_cast<unsigned char>(seed + 1), sum, deepest);
  for (std::size_t i = 0; i < sizeof frame; i += 512) *sum += frame[i];
}

// A body: recurses `depth` levels (4 KiB each), then yields how many bytes of stack that took,
// measured from its own frame.
void yield_stack_used(ag::context<int> co, int depth) {
  volatile unsigned char top = 0;
  unsigned sum = 0;
  const std::uintptr_t start = reinterpret_cast<std::uintptr_t>(&top);
  std::uintptr_t deepest = start;
  recurse(depth, top, &sum, &deepest);
  ag::yield_(co, static_cast<int>(start - deepest));
}

ag::async_generator<int> deep_recursion(asio::io_context& io, int depth, ag::stack_options stack) {
  return ag::make_async_generator<int>(io, [depth](ag::context<int> co) { yield_stack_used(co, depth); }, stack);
}

// A generator that yields the address of a local of its body (where its stack is).
ag::async_generator<int> stack_address(asio::io_context& io, ag::stack_options stack, std::uintptr_t* where) {
  return ag::make_async_generator<int>(
      io,
      [where](ag::context<int> co) {
        volatile char local = 0;
        *where = reinterpret_cast<std::uintptr_t>(&local);
        ag::yield_(co, 0);
      },
      stack);
}

}  // namespace

TEST_CASE("stack_options asks for the default stack size unless given a size") {
  CHECK(ag::stack_options().size == 0);
  CHECK(ag::stack_options{128 * kib}.size == 128 * kib);
}

TEST_CASE("the default stack size is initially 64 KiB") { CHECK(ag::default_stack_size() == 64 * kib); }

TEST_CASE("set_default_stack_size changes the default stack size") {
  default_size_guard guard;
  ag::set_default_stack_size(256 * kib);
  CHECK(ag::default_stack_size() == 256 * kib);
  ag::set_default_stack_size(96 * kib);
  CHECK(ag::default_stack_size() == 96 * kib);
}

TEST_CASE("set_default_stack_size refuses less than two pages and keeps the previous default") {
  default_size_guard guard;
  const std::size_t before = ag::default_stack_size();
  CHECK_THROWS_WITH_AS(ag::set_default_stack_size(0), "set_default_stack_size: a stack needs at least two pages",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(ag::set_default_stack_size(4096), "set_default_stack_size: a stack needs at least two pages",
                       std::invalid_argument);
  CHECK(ag::default_stack_size() == before);
}

TEST_CASE("a generator with a custom stack size runs and yields like any other") {
  asio::io_context io;
  auto g = ag::make_async_generator<int>(
      io,
      [](ag::context<int> co) {
        for (int i = 0; i < 3; ++i) ag::yield_(co, i);
      },
      ag::stack_options{32 * kib});
  CHECK(collect(io, g) == std::vector<int>{0, 1, 2});
}

TEST_CASE("a generator function with stack_options gives each generator that stack size") {
  asio::io_context io;
  auto deep = ag::make_generator_function<int>(&yield_stack_used, ag::stack_options{256 * kib});
  auto g = deep(io, 40);  // about 160 KiB: more than the 64 KiB default
  outcome<int> o = anext(io, g);
  REQUIRE_FALSE(o.error);
  CHECK(o.value > static_cast<int>(150 * kib));
}

TEST_CASE("a body recursing through 160 KiB of stack works with a 256 KiB stack") {
  asio::io_context io;
  auto g = deep_recursion(io, 40, ag::stack_options{256 * kib});
  outcome<int> o = anext(io, g);
  REQUIRE_FALSE(o.error);
  CHECK(o.value > static_cast<int>(150 * kib));
  CHECK(is_stop(anext(io, g).error));
}

TEST_CASE("generators made after set_default_stack_size get the new default") {
  default_size_guard guard;
  ag::set_default_stack_size(256 * kib);
  asio::io_context io;
  auto g = deep_recursion(io, 40, ag::stack_options());
  outcome<int> o = anext(io, g);
  REQUIRE_FALSE(o.error);
  CHECK(o.value > static_cast<int>(150 * kib));
}

TEST_CASE("a finished generator's stack is reused by the next generator of the same stack size") {
  asio::io_context io;
  const ag::stack_options stack{72 * kib};  // a size no other test uses
  std::uintptr_t first = 0;
  std::uintptr_t second = 0;
  {
    auto g = stack_address(io, stack, &first);
    CHECK(collect(io, g) == std::vector<int>{0});
  }
  auto g = stack_address(io, stack, &second);
  CHECK(collect(io, g) == std::vector<int>{0});
  CHECK(first != 0);
  CHECK(second == first);
}
