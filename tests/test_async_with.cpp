// async_with, Python's `async with`: Python's statement semantics (the block's exception goes to
// aexit, which may suppress or replace it; a normal exit ignores aexit's answer) from a generator
// body, an asio::spawn coroutine and callbacks; nesting; managers entering with nothing; Asio's rules
// for the callback form; what happens when the fiber running a block is destroyed.
#include "support.hpp"
#include <async_generator/compat/asio_all.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// An async context manager written by hand: records its calls in `log`, enters with `entered`
// (or fails with `enter_error`), and answers aexit with `exit_error` and `suppress`.
struct recording_manager {
  using value_type = int;
  recording_manager(asio::any_io_executor e, std::vector<std::string>& l) : ex(std::move(e)), log(l) {}

  asio::any_io_executor ex;
  std::vector<std::string>& log;
  int entered = 42;
  std::exception_ptr enter_error;
  std::exception_ptr exit_error;
  bool suppress = false;
  std::exception_ptr exit_received;

  asio::any_io_executor get_executor() const { return ex; }

  template <class Token>
  auto aenter(Token&& token) {
    return asio::async_initiate<Token, void(std::exception_ptr, int)>(
        [this](auto handler) {
          log.push_back("enter");
          auto hex = asio::get_associated_executor(handler, ex);
          asio::post(hex, [h = std::move(handler), e = enter_error, v = entered]() mutable { std::move(h)(e, v); });
        },
        token);
  }

  template <class Token>
  auto aexit(std::exception_ptr e, Token&& token) {
    return asio::async_initiate<Token, void(std::exception_ptr, bool)>(
        [this, e](auto handler) {
          log.push_back(e ? "exit with " + ag::describe_exception(e) : "exit");
          exit_received = e;
          auto hex = asio::get_associated_executor(handler, ex);
          asio::post(hex, [h = std::move(handler), err = exit_error, s = suppress]() mutable { std::move(h)(err, s); });
        },
        token);
  }
};

std::exception_ptr value_error() { return std::make_exception_ptr(std::invalid_argument("ValueError")); }

// Runs async_with(manager, co, block) in a generator body and returns how the body ended.
template <class Manager, class Block>
std::exception_ptr with_in_body(asio::io_context& io, Manager& manager, Block block) {
  auto body = ag::make_async_generator<int>(io, [&](ag::context<int> co) { ag::async_with(manager, co, block); });
  std::exception_ptr e = anext(io, body).error;
  return is_stop(e) ? nullptr : e;
}

// Runs the callback form and returns the exception it completed with.
template <class Manager, class Block>
std::exception_ptr with_by_callback(asio::io_context& io, Manager&& manager, Block block) {
  std::exception_ptr error;
  bool done = false;
  ag::async_with(
      std::forward<Manager>(manager),
      [&](std::exception_ptr e) {
        error = e;
        done = true;
      },
      std::move(block));
  CHECK_FALSE(done);  // never inside the initiating function
  drive(io, done);
  return error;
}

const auto two_step_manager = ag::asynccontextmanager(
    ag::make_generator_function<std::string>([](ag::context<std::string> co, std::string name, std::vector<std::string>* log) {
      log->push_back("enter " + name);
      try {
        ag::yield_(co, name);
      } catch (...) {
        log->push_back("exit " + name + " with " + ag::describe_exception(std::current_exception()));
        throw;
      }
      log->push_back("exit " + name);
    }));

}  // namespace

TEST_CASE("async_with in a generator body enters, runs the block with the entered value, then exits") {
  asio::io_context io;
  std::vector<std::string> log;
  recording_manager manager(io.get_executor(), log);
  int seen = 0;
  CHECK_FALSE(with_in_body(io, manager, [&](int v) {
    log.push_back("block");
    seen = v;
  }));
  CHECK(seen == 42);
  CHECK(log == std::vector<std::string>{"enter", "block", "exit"});
}

TEST_CASE("the block's exception reaches aexit as the same object and propagates when aexit does not suppress it") {
  asio::io_context io;
  std::vector<std::string> log;
  recording_manager manager(io.get_executor(), log);
  const auto thrown = value_error();
  const auto error = with_in_body(io, manager, [&](int) { std::rethrow_exception(thrown); });
  CHECK(error == thrown);
  CHECK(manager.exit_received == thrown);
}

TEST_CASE("an exception aexit suppresses ends async_with normally") {
  asio::io_context io;
  std::vector<std::string> log;
  recording_manager manager(io.get_executor(), log);
  manager.suppress = true;
  CHECK_FALSE(with_in_body(io, manager, [](int) { throw std::invalid_argument("ValueError"); }));
  CHECK(log.back() == "exit with std::invalid_argument: ValueError");
}

TEST_CASE("an exception aexit raises replaces the block's, and a normal exit ignores aexit's suppress answer") {
  asio::io_context io;
  std::vector<std::string> log;
  recording_manager manager(io.get_executor(), log);
  manager.exit_error = std::make_exception_ptr(std::runtime_error("exit failed"));
  manager.suppress = true;
  CHECK(message_of<std::runtime_error>(with_in_body(io, manager, [](int) { throw std::invalid_argument("x"); })) ==
        "exit failed");
  manager.exit_error = nullptr;
  CHECK_FALSE(with_in_body(io, manager, [](int) {}));
}

TEST_CASE("an aenter that fails propagates, and neither the block nor aexit runs") {
  asio::io_context io;
  std::vector<std::string> log;
  recording_manager manager(io.get_executor(), log);
  manager.enter_error = value_error();
  bool ran = false;
  CHECK(with_in_body(io, manager, [&](int) { ran = true; }) == manager.enter_error);
  CHECK_FALSE(ran);
  CHECK(log == std::vector<std::string>{"enter"});
  CHECK(with_by_callback(io, manager, [&](int, auto done) { ran = true; done(nullptr); }) == manager.enter_error);
  CHECK_FALSE(ran);
}

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
TEST_CASE("async_with from an asio::spawn coroutine runs the block on the coroutine and throws its exception") {
  asio::io_context io;
  std::vector<std::string> log;
  recording_manager manager(io.get_executor(), log);
  std::string caught;
  run_spawned(io, [&](asio::yield_context yield) {
    ag::async_with(manager, yield, [&](int v) { log.push_back("block " + std::to_string(v)); });
    try {
      ag::async_with(manager, yield, [](int) { throw std::invalid_argument("ValueError"); });
    } catch (const std::invalid_argument& e) {
      caught = e.what();
    }
  });
  CHECK(caught == "ValueError");
  CHECK(log == std::vector<std::string>{"enter", "block 42", "exit", "enter", "exit with std::invalid_argument: ValueError"});
}
#endif

TEST_CASE("nested async_with blocks enter in order and exit in reverse, an inner exception passing through both") {
  asio::io_context io;
  std::vector<std::string> log;
  auto body = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    ag::async_with(two_step_manager(io, std::string("a"), &log), co, [&](std::string& a) {
      ag::async_with(two_step_manager(io, std::string("b"), &log), co, [&](std::string& b) {
        log.push_back("block " + a + b);
        throw std::invalid_argument("ValueError");
      });
    });
  });
  CHECK(message_of<std::invalid_argument>(anext(io, body).error) == "ValueError");
  CHECK(log == std::vector<std::string>{"enter a", "enter b", "block ab", "exit b with std::invalid_argument: ValueError",
                                        "exit a with std::invalid_argument: ValueError"});
}

TEST_CASE("a manager that enters with nothing gives the block no argument") {
  asio::io_context io;
  int exits = 0;
  const auto quiet = ag::asynccontextmanager(ag::make_generator_function<void>([&exits](ag::context<void> co) {
    ag::yield_(co);
    ++exits;
  }));
  auto manager = quiet(io);
  bool ran = false;
  CHECK_FALSE(with_in_body(io, manager, [&] { ran = true; }));
  CHECK(ran);
  CHECK_FALSE(with_by_callback(io, quiet(io), [](auto done) { done(nullptr); }));
  CHECK(exits == 2);
}

TEST_CASE("async_with with a callback: the block completes through done, and its exception goes to aexit") {
  asio::io_context io;
  std::vector<std::string> log;
  recording_manager manager(io.get_executor(), log);
  CHECK_FALSE(with_by_callback(io, manager, [&](int v, auto done) {
    log.push_back("block " + std::to_string(v));
    asio::post(io, [done = std::move(done)]() mutable { done(nullptr); });
  }));
  const auto thrown = value_error();
  CHECK(with_by_callback(io, manager, [&](int, auto done) { done(thrown); }) == thrown);
  CHECK(log == std::vector<std::string>{"enter", "block 42", "exit", "enter", "exit with std::invalid_argument: ValueError"});
  manager.suppress = true;
  CHECK_FALSE(with_by_callback(io, manager, [&](int, auto done) { done(thrown); }));
}

TEST_CASE("a callback block that calls done twice, or done and a copy of it, gets a misuse_error and the first call stands") {
  asio::io_context io;
  std::vector<std::string> log;
  recording_manager manager(io.get_executor(), log);
  std::vector<std::string> refused;
  auto call = [&](auto& d) {
    try {
      d(value_error());
    } catch (const ag::misuse_error& e) {
      refused.push_back(e.what());
    }
  };
  CHECK_FALSE(with_by_callback(io, manager, [&](int, auto done) {
    auto copy = done;
    done(nullptr);
    call(done);
    call(copy);
  }));
  CHECK(refused == std::vector<std::string>(2, "async_with: the block called done twice (it calls it once)"));
  CHECK(log == std::vector<std::string>{"enter", "exit"});
}

TEST_CASE("a callback block that throws instead of calling done raised that exception") {
  asio::io_context io;
  std::vector<std::string> log;
  recording_manager manager(io.get_executor(), log);
  CHECK(message_of<std::invalid_argument>(with_by_callback(io, manager, [](int, auto) {
          throw std::invalid_argument("ValueError");
        })) == "ValueError");
  CHECK(log.back() == "exit with std::invalid_argument: ValueError");
}

TEST_CASE("a callback block that throws while keeping done is a misuse: the exception leaves io_context::run") {
  asio::io_context io;
  std::vector<std::string> log;
  recording_manager manager(io.get_executor(), log);
  std::function<void(std::exception_ptr)> kept;
  std::exception_ptr error;
  bool done = false;
  ag::async_with(
      manager,
      [&](std::exception_ptr e) {
        error = e;
        done = true;
      },
      [&](int, auto d) {
        kept = [d = std::make_shared<decltype(d)>(std::move(d))](std::exception_ptr e) { (*d)(e); };
        throw std::logic_error("thrown after keeping done");
      });
  CHECK_THROWS_WITH(io.run(), "thrown after keeping done");
  CHECK(log == std::vector<std::string>{"enter"});
  kept(nullptr);  // the block still owns the operation and may finish it
  drive(io, done);
  CHECK_FALSE(error);
  CHECK(log.back() == "exit");
}

TEST_CASE("async_with given a manager as an rvalue keeps it for the whole operation") {
  asio::io_context io;
  bool closed = false;
  auto gen = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    try {
      for (int i = 0;; ++i) ag::yield_(co, i);
    } catch (const ag::generator_exit&) {
      closed = true;
      throw;
    }
  });
  int first = -1;
  CHECK_FALSE(with_by_callback(io, ag::aclosing(std::move(gen)), [&](ag::async_generator<int>& g, auto done) {
    g.anext([&first, done = std::move(done)](std::exception_ptr e, int v) mutable {
      first = v;
      done(e);
    });
  }));
  CHECK(first == 0);
  CHECK(closed);
}

TEST_CASE("async_with with use_future completes the future; its handler has work until then") {
  asio::io_context io;
  std::vector<std::string> log;
  recording_manager manager(io.get_executor(), log);
  io_thread other;
  auto f = ag::async_with(manager, asio::use_future, [&](int, auto done) {
    // The block finishes on another io_context's thread: io.run() must not return before.
    auto timer = std::make_shared<asio::steady_timer>(other.io, std::chrono::milliseconds(5));
    timer->async_wait([timer, done = std::move(done)](ag::error_code) mutable { done(nullptr); });
  });
  io.run();
  REQUIRE(f.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
  CHECK_NOTHROW(f.get());
  CHECK(log == std::vector<std::string>{"enter", "exit"});
}

TEST_CASE("async_with's handler and steps run on the handler's associated executor") {
  asio::io_context io;
  std::vector<std::string> log;
  recording_manager manager(io.get_executor(), log);
  auto strand = asio::make_strand(io);
  bool block_on_strand = false, handler_on_strand = false, done = false;
  ag::async_with(manager, asio::bind_executor(strand, [&](std::exception_ptr) {
                   handler_on_strand = strand.running_in_this_thread();
                   done = true;
                 }),
                 [&](int, auto d) {
                   block_on_strand = strand.running_in_this_thread();
                   d(nullptr);
                 });
  drive(io, done);
  CHECK(block_on_strand);
  CHECK(handler_on_strand);
}

TEST_CASE("a block whose fiber is destroyed does not run aexit, and nothing is leaked") {
  std::vector<std::string> log;
  {
    asio::io_context io;
    recording_manager manager(io.get_executor(), log);
    auto body = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
      ag::async_with(manager, co, [&](int) {
        lifetime alive;
        asio::steady_timer timer(co.get_executor(), std::chrono::hours(1));
        timer.async_wait(co);
      });
    });
    body.anext([](std::exception_ptr, int) {});
    io.run_for(std::chrono::milliseconds(10));
    CHECK(lifetime::live() == 1);
  }  // the io_context goes with the pending await: the body's stack is unwound
  CHECK(lifetime::live() == 0);
  CHECK(log == std::vector<std::string>{"enter"});
}
