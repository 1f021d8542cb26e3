// The yield_from_ cases: a chain's steady state from each consumer, and what making and closing it cost.
#include "common.hpp"

#include <exception>
#include <utility>

namespace bench {
namespace {

// A chain of `depth` generators, each delegating to the next with yield_from_ (depth 0: the counter
// itself), yielding items + 1 values: the first builds the chain, the timed steady state takes the
// rest (the chain's construction and its close are not timed).
ag::async_generator<long> delegating(asio::io_context& io, int depth) {
  if (depth == 0) return counter(io, items + 1);
  return ag::make_async_generator<long>(io, [&io, depth](ag::context<long> co) {
    ag::yield_from_(co, delegating(io, depth - 1));
  });
}

// A callback consumer that takes `left` items and stops (a chain's end, which climbs it level by
// level, is not what a steady state measures).
struct take_items {
  ag::async_generator<long>* gen;
  long* sum;
  long left;
  void operator()(std::exception_ptr e, long v) {
    if (e) return;
    *sum += v;
    if (--left > 0) gen->anext(std::move(*this));
  }
  friend bool asio_handler_is_continuation(take_items*) { return true; }
};

}  // namespace

// The chain consumed from another generator's body.
double yield_from_fiber(int depth) {
  asio::io_context io;
  double ns = 0;
  auto outer = ag::make_async_generator<long>(io, [&io, &ns, depth](ag::context<long> co) {
    auto chain = delegating(io, depth);
    long sum = chain.anext(co);
    const auto t0 = clock_type::now();
    for (long i = 0; i < items; ++i) sum += chain.anext(co);
    ns = ns_per_item(t0, clock_type::now());
    ag::yield_(co, sum);
  });
  outer.anext([](std::exception_ptr, long v) { sink = v; });
  io.run();
  return ns;
}

// A chain of `depth` levels from a generator's body, its cost per level: made and started by the
// first anext (`build`), or closed by aclose on the outermost, level by level as in Python (else).
namespace {
double chain_per_level(int depth, bool build) {
  asio::io_context io;
  double ns = 0;
  auto outer = ag::make_async_generator<long>(io, [&io, &ns, depth, build](ag::context<long> co) {
    auto t0 = clock_type::now();
    auto chain = delegating(io, depth);
    long first = chain.anext(co);
    auto t1 = clock_type::now();
    if (!build) {
      t0 = t1;
      chain.aclose(co);
      t1 = clock_type::now();
    }
    ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / depth;
    ag::yield_(co, first);
  });
  outer.anext([](std::exception_ptr, long v) { sink = v; });
  io.run();
  return ns;
}
}  // namespace

double yield_from_build_per_level(int depth) { return chain_per_level(depth, true); }
double yield_from_close_per_level(int depth) { return chain_per_level(depth, false); }

// The chain consumed by callbacks.
double yield_from_callbacks(int depth) {
  asio::io_context io;
  auto chain = delegating(io, depth);
  long sum = 0;
  chain.anext([&sum](std::exception_ptr, long v) { sum = v; });
  io.run();
  io.restart();
  const auto t0 = clock_type::now();
  chain.anext(take_items{&chain, &sum, items});
  io.run();
  const double ns = ns_per_item(t0, clock_type::now());
  sink = sum;
  return ns;
}

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
// The chain consumed by an asio::spawn coroutine.
double yield_from_spawn(int depth) {
  asio::io_context io;
  auto chain = delegating(io, depth);
  double ns = 0;
  asio::spawn(io, [&](asio::yield_context yield) {
    long sum = chain.anext(yield);
    const auto t0 = clock_type::now();
    for (long i = 0; i < items; ++i) sum += chain.anext(yield);
    ns = ns_per_item(t0, clock_type::now());
    sink = sum;
  }, asio::detached);
  io.run();
  return ns;
}
#endif

#if ASYNC_GENERATOR_HAS_CO_AWAIT
// The chain consumed by a C++20 coroutine.
double yield_from_awaitable(int depth) {
  asio::io_context io;
  auto chain = delegating(io, depth);
  double ns = 0;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    long sum = co_await chain.anext(asio::use_awaitable);
    const auto t0 = clock_type::now();
    for (long i = 0; i < items; ++i) sum += co_await chain.anext(asio::use_awaitable);
    ns = ns_per_item(t0, clock_type::now());
    sink = sum;
  }, asio::detached);
  io.run();
  return ns;
}
#endif

}  // namespace bench
