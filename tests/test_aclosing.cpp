// aclosing (aexit awaits aclose, and never suppresses): twins of async_generator's test_aclosing
// and of CPython's AclosingTestCase (test_contextlib_async.py), plus aclosing of a class that is
// not a generator, its aexit called directly, and an aclose that fails.
#include "support.hpp"
#include <async_generator/compat/asio_all.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

// Python's `async def async_range(count, closed_slot)`: yields 0..count-1 and records GeneratorExit.
ag::async_generator<int> async_range_noting_close(asio::io_context& io, int count, bool& closed) {
  return ag::make_async_generator<int>(io, [count, &closed](ag::context<int> co) {
    try {
      for (int i = 0; i < count; ++i) ag::yield_(co, i);
    } catch (const ag::generator_exit&) {
      closed = true;
    }
  });
}

// CPython's test class: an object with an aclose() that records its calls, completing on `ex`
// with `error` (null: success). Like CPython's, it has nothing else: no executor of its own.
class closable {
 public:
  closable(asio::any_io_executor ex, std::exception_ptr error = nullptr) : ex_(std::move(ex)), error_(std::move(error)) {}

  template <class Token>
  auto aclose(Token&& token) {
    return asio::async_initiate<Token, void(std::exception_ptr)>(
        [this](auto handler) {
          ++closes;
          asio::post(ex_, [h = std::move(handler), e = error_]() mutable { std::move(h)(e); });
        },
        token);
  }

  int closes = 0;

 private:
  asio::any_io_executor ex_;
  std::exception_ptr error_;
};

}  // namespace

TEST_CASE("test_aclosing: breaking out of the loop closes the generator") {
  asio::io_context io;
  bool closed = false;
  std::vector<int> seen;
  auto consumer = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    ag::async_with(ag::aclosing(async_range_noting_close(io, 10, closed)), co, [&](ag::async_generator<int>& gen) {
      for (int item : ag::aiter(gen, co)) {
        seen.push_back(item);
        if (item == 4) break;
      }
    });
  });
  CHECK(is_stop(anext(io, consumer).error));
  CHECK(seen == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(closed);
}

TEST_CASE("test_aclosing: an exception in the block closes the generator and propagates") {
  asio::io_context io;
  bool closed = false;
  auto consumer = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    ag::async_with(ag::aclosing(async_range_noting_close(io, 10, closed)), co, [&](ag::async_generator<int>& gen) {
      for (int item : ag::aiter(gen, co)) {
        if (item == 4) throw std::invalid_argument("ValueError");
      }
    });
  });
  CHECK(message_of<std::invalid_argument>(anext(io, consumer).error) == "ValueError");
  CHECK(closed);
}

TEST_CASE("AclosingTestCase.test_aclosing: aclose is called once on exit and the block gets the object itself") {
  asio::io_context io;
  closable x(io.get_executor());
  const closable* entered = nullptr;
  int closes_inside = -1;
#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
  run_spawned(io, [&](asio::yield_context yield) {
#else  // no asio::spawn on fibers before Boost 1.80: a generator body is the coroutine
  auto coroutine = ag::make_async_generator<int>(io, [&](ag::context<int> yield) {
#endif
    ag::async_with(ag::aclosing(x, io.get_executor()), yield, [&](closable& y) {
      entered = &y;
      closes_inside = y.closes;
    });
  });
#if !ASYNC_GENERATOR_HAS_FIBER_SPAWN
  CHECK(is_empty_stop(anext(io, coroutine).error));
#endif
  CHECK(entered == &x);
  CHECK(closes_inside == 0);
  CHECK(x.closes == 1);
}

TEST_CASE("AclosingTestCase.test_aclosing_error: on an exception aclose is called and the exception propagates") {
  asio::io_context io;
  closable x(io.get_executor());
  std::exception_ptr error;
  bool done = false;
  ag::async_with(
      ag::aclosing(x, io.get_executor()),
      [&](std::exception_ptr e) {
        error = e;
        done = true;
      },
      [](closable&, auto) { throw std::domain_error("ZeroDivisionError"); });
  drive(io, done);
  CHECK(message_of<std::domain_error>(error) == "ZeroDivisionError");
  CHECK(x.closes == 1);
}

TEST_CASE("AclosingTestCase.test_aclosing_bpo41229: aclosing's close exits the scopes the generator is suspended in") {
  asio::io_context io;
  std::vector<int> state;
  struct exit_callback {  // CPython's ExitStack with a callback
    std::vector<int>& state;
    ~exit_callback() { state.push_back(-1); }
  };
  auto agenfunc = [&] {
    return ag::make_async_generator<int>(io, [&](ag::context<int> co) {
      exit_callback scope{state};
      ag::yield_(co, 1);
      ag::yield_(co, 2);
    });
  };
  auto consumer = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    ag::async_with(ag::aclosing(agenfunc()), co, [&](ag::async_generator<int>& agen) {
      for (int i : ag::aiter(agen, co)) {
        (void)i;
        throw std::domain_error("ZeroDivisionError");
      }
    });
  });
  CHECK(message_of<std::domain_error>(anext(io, consumer).error) == "ZeroDivisionError");
  CHECK(state == std::vector<int>{-1});
}

TEST_CASE("aclosing's aexit completes with the error aclose raised, and never suppresses") {
  asio::io_context io;
  closable failing(io.get_executor(), std::make_exception_ptr(std::runtime_error("close failed")));
  auto manager = ag::aclosing(failing, io.get_executor());
  outcome<bool> exit;
  bool done = false;
  manager.aexit(std::make_exception_ptr(std::invalid_argument("block")), [&](std::exception_ptr e, bool suppress) {
    exit.error = e;
    exit.value = suppress;
    done = true;
  });
  drive(io, done);
  CHECK(message_of<std::runtime_error>(exit.error) == "close failed");
  CHECK_FALSE(exit.value);

  closable fine(io.get_executor());
  auto quiet = ag::aclosing(fine, io.get_executor());
  done = false;
  exit = outcome<bool>{};
  quiet.aexit(std::make_exception_ptr(std::invalid_argument("block")), [&](std::exception_ptr e, bool suppress) {
    exit.error = e;
    exit.value = suppress;
    done = true;
  });
  drive(io, done);
  CHECK_FALSE(exit.error);
  CHECK_FALSE(exit.value);
}

TEST_CASE("aclosing's aenter completes outside the initiating function with the thing itself") {
  asio::io_context io;
  closable x(io.get_executor());
  auto manager = ag::aclosing(x, io.get_executor());
  closable* entered = nullptr;
  bool done = false;
  manager.aenter([&](std::exception_ptr e, std::reference_wrapper<closable> thing) {
    CHECK_FALSE(e);
    entered = &thing.get();
    done = true;
  });
  CHECK_FALSE(done);
  drive(io, done);
  CHECK(entered == &x);
  CHECK(x.closes == 0);
}

TEST_CASE("aclosing given an rvalue owns the generator, given an lvalue refers to it") {
  asio::io_context io;
  auto gen = async_range(io, 3);
  auto referring = ag::aclosing(gen);
  CHECK(&referring.thing() == &gen);
  auto owning = ag::aclosing(std::move(gen));
  CHECK_FALSE(gen);
  CHECK(owning.thing());
  CHECK(owning.get_executor() == asio::any_io_executor(io.get_executor()));
}
