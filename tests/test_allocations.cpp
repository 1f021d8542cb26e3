// Steady-state iteration never allocates: every consumer path takes 10,000 items after a warm-up
// without reaching operator new. A program of its own, since it replaces the global operator new.
#include "support.hpp"
#include <async_generator/compat/asio_all.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<long> allocations{0};

void* counted_allocation(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) { return counted_allocation(size); }
void* operator new[](std::size_t size) { return counted_allocation(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

constexpr int warm_up = 100;
constexpr int counted = 10000;

// Counts the allocations made between item `warm_up` and item `warm_up + counted`.
struct allocation_window {
  long at_start = -1;
  long at_end = -1;
  int items = 0;
  // Called once per item received; true once the window is closed.
  bool item() {
    ++items;
    if (items == warm_up) at_start = allocations.load();
    if (items == warm_up + counted) at_end = allocations.load();
    return items >= warm_up + counted;
  }
  long during() const { return at_end - at_start; }
};

// The window was closed (every item came) and saw no allocation.
void check_none_during(const allocation_window& w) {
  CHECK(w.at_end >= 0);
  CHECK(w.during() == 0);
}

const auto naturals = ag::make_generator_function<int, int>([](ag::context<int, int> co) {
  for (int i = 0;; ++i) ag::yield_(co, i);
});

const auto upto = ag::make_generator_function<int>([](ag::context<int> co, int n) {
  for (int i = 0; i < n; ++i) ag::yield_(co, i);
});

// A delegation chain `depth` deep above `naturals`.
ag::async_generator<int, int> delegating(asio::io_context& io, int depth) {
  if (depth == 0) return naturals(io);
  return ag::make_async_generator<int, int>(io, [&io, depth](ag::context<int, int> co) {
    ag::yield_from_(co, delegating(io, depth - 1));
  });
}

// A generator that waits in an Asio operation (a post) before each item.
const auto posting_naturals = ag::make_generator_function<int>([](ag::context<int> co) {
  for (int i = 0;; ++i) {
    asio::post(co);
    ag::yield_(co, i);
  }
});

// A callback consumer, as a composed operation: each item's handler asks for the next.
template <class Generator>
struct next_item {
  Generator* gen;
  allocation_window* window;
  void operator()(std::exception_ptr e, int) const {
    REQUIRE_FALSE(e);
    if (!window->item()) gen->anext(*this);
  }
};

// Consumes items from a generator body through its `co`.
template <class Make>
allocation_window consume_in_a_body(Make make) {
  asio::io_context io;
  allocation_window window;
  auto consumer = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    auto gen = make(io);
    while (!window.item()) gen.anext(co);
  });
  consumer.anext([](std::exception_ptr, int) {});
  io.run();
  return window;
}

// Consumes items through callback handlers, each asking for the next.
template <class Make>
allocation_window consume_by_callbacks(Make make) {
  asio::io_context io;
  allocation_window window;
  auto gen = make(io);
  gen.anext(next_item<decltype(gen)>{&gen, &window});
  io.run();
  return window;
}

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
// Consumes items from an asio::spawn coroutine.
template <class Make>
allocation_window consume_in_spawn(Make make) {
  asio::io_context io;
  allocation_window window;
  auto gen = make(io);
  asio::spawn(io, [&](asio::yield_context yield) {
    while (!window.item()) gen.anext(yield);
  }, asio::detached);
  io.run();
  return window;
}
#endif

}  // namespace

TEST_CASE("anext from a generator body allocates nothing per item") {
  allocation_window w = consume_in_a_body([](asio::io_context& io) { return naturals(io); });
  check_none_during(w);
}

TEST_CASE("anext through a yield_from_ chain 4 deep allocates nothing per item") {
  allocation_window w = consume_in_a_body([](asio::io_context& io) { return delegating(io, 4); });
  check_none_during(w);
}

TEST_CASE("a body awaiting an Asio operation before each item allocates nothing per item") {
  allocation_window w = consume_in_a_body([](asio::io_context& io) { return posting_naturals(io); });
  check_none_during(w);
}

TEST_CASE("asend from a generator body allocates nothing per item") {
  asio::io_context io;
  allocation_window window;
  auto consumer = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    auto gen = naturals(io);
    gen.anext(co);
    while (!window.item()) gen.asend(window.items, co);
  });
  consumer.anext([](std::exception_ptr, int) {});
  io.run();
  check_none_during(window);
}

TEST_CASE("aiter in a generator body allocates nothing per item") {
  asio::io_context io;
  allocation_window window;
  auto consumer = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    auto gen = naturals(io);
    for (int v : ag::aiter(gen, co)) {
      (void)v;
      if (window.item()) break;
    }
  });
  consumer.anext([](std::exception_ptr, int) {});
  io.run();
  check_none_during(window);
}

TEST_CASE("anext with a callback handler allocates nothing per item") {
  check_none_during(consume_by_callbacks([](asio::io_context& io) { return naturals(io); }));
}

TEST_CASE("anext with a callback handler on a generator awaiting before each item allocates nothing per item") {
#if !ASYNC_GENERATOR_ASIO_RECYCLES_AWAIT_COMPLETIONS
  MESSAGE("not on Asio 1.18 (Boost 1.74), which allocates on this path");
  return;
#endif
  check_none_during(consume_by_callbacks([](asio::io_context& io) { return posting_naturals(io); }));
}

TEST_CASE("async_for_each allocates nothing per item") {
  asio::io_context io;
  allocation_window window;
  auto gen = upto(io, warm_up + counted);
  bool done = false;
  ag::async_for_each(
      gen, [&](int) { window.item(); }, [&](std::exception_ptr e) {
        CHECK_FALSE(e);
        done = true;
      });
  io.run();
  CHECK(done);
  check_none_during(window);
}

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
TEST_CASE("anext from an asio::spawn coroutine allocates nothing per item") {
  check_none_during(consume_in_spawn([](asio::io_context& io) { return naturals(io); }));
}

TEST_CASE("anext from an asio::spawn coroutine on a generator awaiting before each item allocates nothing per item") {
  check_none_during(consume_in_spawn([](asio::io_context& io) { return posting_naturals(io); }));
}
#endif

#if ASYNC_GENERATOR_HAS_DEFERRED
TEST_CASE("anext with asio::deferred allocates nothing per item") {
  asio::io_context io;
  allocation_window window;
  auto gen = naturals(io);
  struct step {
    decltype(gen)* g;
    allocation_window* window;
    void operator()(std::exception_ptr e, int) const {
      REQUIRE_FALSE(e);
      if (!window->item()) g->anext(asio::deferred)(*this);
    }
  };
  gen.anext(asio::deferred)(step{&gen, &window});
  io.run();
  check_none_during(window);
}
#endif

#if ASYNC_GENERATOR_HAS_CO_AWAIT
TEST_CASE("anext with asio::use_awaitable allocates nothing per item") {
  asio::io_context io;
  allocation_window window;
  auto gen = naturals(io);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    while (!window.item()) co_await gen.anext(asio::use_awaitable);
  }, asio::detached);
  io.run();
  check_none_during(window);
}
#endif
